"""The routing benchmarks' race: engine lines at equal CPU on the same instances.

Shared by ``benchmark cvrp`` and ``benchmark vrptw``. Each instance is solved by one or
more *lines*; every line gets the same ``--workers W`` processes and the same time limit
(or ``--iterations``), so the CPU each one may use is the same:

``pyvrp``
    The project's PyVRP engine with ``W`` workers (seeds ``seed … seed + W − 1``).
``ortools``
    The project's OR-Tools engine with ``W`` workers (``W`` first-solution strategies).
``pyvrp-default``
    PyVRP's own ``solve`` with its default parameters, run ``W`` times in parallel
    processes with seeds ``seed + 1 … seed + W``, the best of the ``W`` kept.
``ortools-default``
    OR-Tools' textbook guided local search from ``PATH_CHEAPEST_ARC``; with ``W > 1`` the
    other processes start from the next first-solution strategies (OR-Tools' routing
    search has no seed to vary).

The ``cpu_s`` column is the CPU time the line used, measured (user + system of the
process and of its worker processes), next to ``workers`` (processes).
``--concurrent`` runs the lines of an instance at the same time, each in its own
process, when ``lines × W`` fits in the machine's cores (the W = 1 race on two cores).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rural_logistics.benchmarks.common import BenchmarkTable, gap_line, gap_pct
from rural_logistics.errors import InputDataError
from rural_logistics.routing import (
    DEFAULT_ENGINE,
    ENGINES,
    Route,
    RoutingProblem,
    evaluate,
    solve_vrp,
)
from rural_logistics.solvers.budget import Budget
from rural_logistics.solvers.processes import worker_pool

COLUMNS = (
    "instance",
    "n",
    "objective",
    "reference",
    "gap_pct",
    "seconds",
    "workers",
    "cpu_s",
    "status",
    "feasible",
    "engine",
)


@dataclass(frozen=True)
class Line:
    """One engine setting of the race.

    Attributes
    ----------
    label
        Name in the ``engine`` column.
    engine
        Routing engine (``pyvrp`` or ``ortools``).
    default
        Run the engine's textbook default setting.
    seed_offset
        Added to ``--seed`` (PyVRP's default line uses seeds ``seed + 1 …``).
    """

    label: str
    engine: str
    default: bool = False
    seed_offset: int = 0


LINES: dict[str, Line] = {
    "pyvrp": Line("pyvrp", "pyvrp"),
    "ortools": Line("ortools", "ortools"),
    "pyvrp-default": Line("pyvrp-default", "pyvrp", default=True, seed_offset=1),
    "ortools-default": Line("ortools-default", "ortools", default=True),
}
#: Lines ``--compare`` adds after ``--engine``.
REFERENCE_LINES: tuple[str, ...] = ("ortools-default", "pyvrp-default")


@dataclass(frozen=True)
class BenchInstance:
    """A benchmark instance as a routing problem per engine.

    Attributes
    ----------
    name
        Instance name (file stem).
    n
        Customers.
    build
        Engine → the :class:`RoutingProblem` to solve (fleet size may differ: OR-Tools
        gets a bounded fleet, PyVRP an unlimited one).
    decimals
        Decimals of the cost convention (0 for CVRPLIB, 1 for Solomon).
    check
        A second, benchmark-specific checker of a plan on the instance file's own
        arrays: routes → (broken rules, cost); ``None`` = the routing evaluator only.
    """

    name: str
    n: int
    build: Callable[[str], RoutingProblem]
    decimals: int
    check: Callable[[Sequence[Route]], tuple[list[str], float]] | None = None


def _line_list(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))
    unknown = [n for n in names if n not in LINES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown engine line(s) {', '.join(unknown) or '(none)'} "
            f"(known: {', '.join(LINES)})"
        )
    return names


def positive_int(text: str) -> int:
    """argparse type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_routing_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by the routing benchmarks."""
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default=DEFAULT_ENGINE,
        help=f"routing engine (default {DEFAULT_ENGINE})",
    )
    parser.add_argument(
        "--workers", type=positive_int, default=2,
        help="processes per line and instance (every line gets the same; default 2)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (PyVRP)")
    parser.add_argument(
        "--iterations",
        type=int,
        metavar="N",
        help="deterministic stop rule instead of --time-limit (PyVRP iterations, OR-Tools "
        "solutions of a greedy descent)",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also run OR-Tools' default guided local search and PyVRP's default solve "
        "(each with --workers processes: PyVRP seeds seed+1…seed+W, best kept) as extra rows",
    )
    parser.add_argument(
        "--engines",
        type=_line_list,
        metavar="A,B,…",
        help=f"the lines to run, in this order (instead of --engine/--compare): "
        f"{', '.join(LINES)}",
    )
    parser.add_argument(
        "--concurrent",
        action="store_true",
        help="run the lines of an instance at the same time, one process each "
        "(needs lines × --workers ≤ cores)",
    )


def chosen_lines(args: argparse.Namespace) -> list[Line]:
    """The lines ``args`` asks for: ``--engines``, else ``--engine`` (+ ``--compare``)."""
    names: Sequence[str] | None = getattr(args, "engines", None)
    if not names:
        names = [args.engine, *(REFERENCE_LINES if args.compare else ())]
    return [LINES[n] for n in names]


def cpu_seconds() -> float:
    """User + system CPU of this process and of its finished (waited-for) children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def solve_line(
    problem: RoutingProblem,
    *,
    name: str,
    n: int,
    decimals: int,
    reference: float | None,
    line: Line,
    time_limit_s: float,
    seed: int,
    workers: int,
    iterations: int | None = None,
    check_plan: Callable[[Sequence[Route]], tuple[list[str], float]] | None = None,
) -> dict[str, Any]:
    """Solve one instance with one line; the evaluator (and ``check_plan``, when given: a
    plan it rejects, or whose cost it finds different, is not feasible) decides
    feasibility."""
    start, cpu = time.perf_counter(), cpu_seconds()
    result = solve_vrp(
        problem,
        engine=line.engine,
        budget=Budget.of(time_limit_s, iteration_limit=iterations),
        seed=seed + line.seed_offset,
        workers=workers,
        default=line.default,
    )
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    check = evaluate(problem, result.routes)
    feasible = check.feasible and result.status == "solved"
    if check_plan is not None and result.routes:
        broken, own_cost = check_plan(result.routes)
        if abs(own_cost - check.cost) > 1e-6 * max(1.0, abs(own_cost)):
            broken.append(f"cost {own_cost} by the instance's checker, {check.cost} evaluated")
        feasible = feasible and not broken
    else:
        broken = []
    objective = round(check.cost, decimals) if result.routes else None
    if decimals == 0 and objective is not None:
        objective = int(objective)
    return {
        "instance": name,
        "n": n,
        "objective": objective,
        "reference": reference,
        "gap_pct": gap_pct(objective, reference) if feasible else None,
        "seconds": round(seconds, 1),
        "workers": workers,
        "cpu_s": round(cpu, 2),
        "status": (
            "infeasible" if result.routes and (broken or not check.feasible) else result.status
        ),
        "feasible": feasible,
        "engine": line.label,
        "routes": len(result.routes),
    }


def run_instances(
    args: argparse.Namespace,
    *,
    name: str,
    instances: Sequence[BenchInstance],
    references: dict[str, float],
    on_row: Callable[[dict[str, Any]], None],
) -> BenchmarkTable:
    """Solve each instance with every chosen line (at the same time with
    ``--concurrent``)."""
    lines = chosen_lines(args)
    concurrent = bool(getattr(args, "concurrent", False)) and len(lines) > 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if concurrent and len(lines) * args.workers > (cores or 1):
        raise InputDataError(
            f"--concurrent: {len(lines)} lines × {args.workers} workers need "
            f"{len(lines) * args.workers} cores, this machine has {cores}"
        )
    rows = []
    for inst in instances:
        jobs = [
            (
                inst.build(line.engine),
                {
                    "name": inst.name,
                    "n": inst.n,
                    "decimals": inst.decimals,
                    "reference": references.get(inst.name),
                    "line": line,
                    "time_limit_s": args.time_limit,
                    "seed": args.seed,
                    "workers": args.workers,
                    "iterations": getattr(args, "iterations", None),
                    "check_plan": inst.check,
                },
            )
            for line in lines
        ]
        if concurrent:
            with worker_pool(len(jobs)) as pool:
                futures = [pool.submit(_solve_job, job) for job in jobs]
                found = [f.result() for f in futures]
        else:
            found = [solve_line(problem, **kw) for problem, kw in jobs]
        for row in found:
            rows.append(row)
            on_row(row)
    return BenchmarkTable(name=name, columns=COLUMNS, rows=rows, summary=summarize(rows))


def _solve_job(job: tuple[RoutingProblem, dict[str, Any]]) -> dict[str, Any]:
    problem, kwargs = job
    return solve_line(problem, **kwargs)


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    """Per line: mean and worst gap, feasible count, mean CPU; then the first line
    against each other one, instance by instance."""
    lines = []
    labels = list(dict.fromkeys(r["engine"] for r in rows))
    for label in labels:
        lines.append(gap_line(label, [r for r in rows if r["engine"] == label]))
    first = labels[0] if labels else None
    for other in labels[1:]:
        lines.append(head_to_head(rows, first or "", other))
    return lines


def head_to_head(rows: list[dict[str, Any]], one: str, two: str) -> str:
    """``one`` against ``two`` on the instances both solved feasibly."""
    gaps: dict[str, dict[str, float]] = {}
    for r in rows:
        if r["engine"] in (one, two) and r.get("gap_pct") is not None:
            gaps.setdefault(r["instance"], {})[r["engine"]] = float(r["gap_pct"])
    both = [g for g in gaps.values() if len(g) == 2]
    if not both:
        return f"{one} vs {two}: no instance solved by both"
    better = sum(g[one] < g[two] - 1e-9 for g in both)
    worse = sum(g[one] > g[two] + 1e-9 for g in both)
    diff = sum(g[two] - g[one] for g in both) / len(both)
    return (
        f"{one} vs {two}: better on {better}, worse on {worse}, equal on "
        f"{len(both) - better - worse} of {len(both)}; mean gap {diff:+.3f} points "
        f"in {one}'s favour"
    )
