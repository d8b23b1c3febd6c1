"""PVRP on Cordeau's periodic instances against the best-known solutions.

Cost convention (the data folder's README): plain Euclidean distance in double
precision, no rounding; travel time equals distance; service times count only for the
route duration limit. Each customer is visited on the days of one of its allowed
combinations (a ``t``-bit number, the most significant bit day 1), at most ``m``
vehicles a day. Every plan is checked by :func:`rural_logistics.periodic.check.check_plan`
on data it reads from the file itself before its row is written.

Lines: ``periodic`` (the weekly planner: joint choice of patterns and routes) and, with
``--compare``, ``first-pattern`` (each customer's first allowed combination, then each
day routed by the same engine with the same time limit).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rural_logistics.benchmarks.common import (
    BenchmarkTable,
    gap_line,
    gap_pct,
    natural_key,
    select_instances,
)
from rural_logistics.benchmarks.cvrp import euclid, read_reference
from rural_logistics.benchmarks.routing_race import (
    COLUMNS,
    cpu_seconds,
    head_to_head,
    positive_int,
)
from rural_logistics.errors import InputDataError
from rural_logistics.periodic.check import check_plan
from rural_logistics.periodic.model import PeriodicProblem, VisitOption
from rural_logistics.periodic.search import solve_periodic
from rural_logistics.routing import DEFAULT_ENGINE, ENGINES, RoutingProblem, VehicleSpec
from rural_logistics.solvers.budget import Budget
from rural_logistics.solvers.processes import worker_pool

#: Customers above which an instance is "large" (``--time-limit-large``).
LARGE_N = 200
#: The engine's route duration limit is this much under the file's (its times are
#: rounded to 1/10,000; the checker is exact).
DURATION_MARGIN = 0.01


@dataclass(frozen=True)
class PvrpInstance:
    """A Cordeau PVRP file, as read.

    Attributes
    ----------
    name
        File name.
    vehicles_per_day, days
        ``m`` and ``t``.
    max_duration, capacity
        ``D`` (0 = none) and ``Q``.
    xy, service, demand
        Per node (depot first): coordinates, service duration, demand per visit.
    combinations
        Per node, the allowed combination codes (empty for the depot).
    """

    name: str
    vehicles_per_day: int
    days: int
    max_duration: float
    capacity: float
    xy: np.ndarray
    service: np.ndarray
    demand: np.ndarray
    combinations: tuple[tuple[int, ...], ...]

    @property
    def n(self) -> int:
        """Customers."""
        return len(self.xy) - 1


def read_cordeau(path: Path) -> PvrpInstance:
    """Read a Cordeau data file of type 1 (PVRP).

    Raises
    ------
    InputDataError
        Naming the file when it is not a PVRP file.
    """
    try:
        tok = path.read_text(encoding="utf-8").split()
        pos = 0

        def take() -> float:
            nonlocal pos
            pos += 1
            return float(tok[pos - 1])

        kind, m, n, t = (int(take()) for _ in range(4))
        if kind != 1:
            raise InputDataError(f"{path}: problem type {kind}, not 1 (PVRP)")
        limits = [(take(), take()) for _ in range(t)]
        if len(set(limits)) != 1:
            raise InputDataError(f"{path}: the days have different limits")
        duration, capacity = limits[0]
        xy, service, demand, combos = [], [], [], []
        for _ in range(n + 1):
            take()
            x, y, d, q, _, a = take(), take(), take(), take(), take(), int(take())
            xy.append((x, y))
            service.append(d)
            demand.append(q)
            combos.append(tuple(int(take()) for _ in range(a)))
    except (ValueError, IndexError) as exc:
        raise InputDataError(f"{path}: not a Cordeau PVRP file ({exc})") from None
    if any(not c for c in combos[1:]):
        raise InputDataError(f"{path}: a customer has no allowed combination")
    return PvrpInstance(path.name, m, t, duration, capacity, np.array(xy),
                        np.array(service), np.array(demand), tuple(combos))


def decode(code: int, days: int) -> tuple[int, ...]:
    """Visit days (0-based) of a combination code: most significant of ``days`` bits =
    day 1.

    >>> decode(10, 5)
    (1, 3)
    """
    return tuple(j for j in range(days) if code >> (days - 1 - j) & 1)


def periodic_problem(inst: PvrpInstance) -> PeriodicProblem:
    """The instance as a periodic problem for the planner."""
    dist = euclid(inst.xy)
    limit = inst.max_duration - DURATION_MARGIN if inst.max_duration > 0 else math.inf
    van = VehicleSpec(
        type_name="vehicle", capacity_parcels=int(inst.capacity), cost_per_km=1.0,
        fixed_cost_per_day=0.0, speed_factor=1.0, max_route_duration_min=limit,
        service_time_min=0.0,
    )
    template = RoutingProblem(
        distance_km=dist, time_min=dist, parcels_per_day=np.zeros(len(dist)),
        vehicles=(van,) * inst.vehicles_per_day, optional=False, xy=inst.xy,
        service_time_min=inst.service, distance_scale_per_km=10_000,
        time_scale_per_min=10_000,
    )
    options = []
    for c in range(1, len(dist)):
        opts = []
        for code in inst.combinations[c]:
            days = decode(code, inst.days)
            opts.append(VisitOption(days, tuple(int(inst.demand[c]) for _ in days),
                                    label=str(code)))
        options.append(tuple(opts))
    return PeriodicProblem(template=template, days=inst.days, options=tuple(options))


def solve_instance(path: Path, *, line: str, time_limit_s: float, seed: int, engine: str,
                   reference: float | None) -> dict[str, Any]:
    """Solve one instance with one line, check the plan from the file's own data."""
    start = time.perf_counter()
    cpu0 = cpu_seconds()
    inst = read_cordeau(path)
    problem = periodic_problem(inst)
    plan = solve_periodic(
        problem, budget=Budget.of(time_limit_s), engine=engine, seed=seed,
        start="first" if line == "first-pattern" else "balanced",
        improve=line != "first-pattern",
    )
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu0
    routes = [[[s for s in r.stops] for r in res.routes] for res in plan.day_results]
    allowed = [()] + [tuple(decode(c, inst.days) for c in codes)
                      for codes in inst.combinations[1:]]
    check = check_plan(
        distance=euclid(inst.xy), demand=inst.demand, allowed=allowed, routes=routes,
        capacity=inst.capacity, vehicles_per_day=inst.vehicles_per_day,
        max_duration=inst.max_duration, service=inst.service,
    )
    solved = all(r.status == "solved" for r in plan.day_results)
    objective = round(check.distance, 2) if solved else None
    feasible = check.feasible and solved
    return {
        "instance": path.name,
        "n": inst.n,
        "objective": objective,
        "reference": reference,
        "gap_pct": gap_pct(objective, reference) if feasible else None,
        "seconds": round(seconds, 1),
        "workers": 1,
        "cpu_s": round(cpu, 2),
        "status": "solved" if feasible else ("infeasible" if solved else "no_solution"),
        "feasible": feasible,
        "engine": line,
        "violations": "; ".join(check.violations[:3]),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``benchmark pvrp``."""
    parser.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE,
                        help=f"routing engine of the days (default {DEFAULT_ENGINE})")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument(
        "--time-limit-large", type=float, metavar="S",
        help=f"seconds per instance with more than {LARGE_N} customers (default: "
        "--time-limit)",
    )
    parser.add_argument(
        "--compare", action="store_true",
        help="also run the simple baseline: each customer's first allowed combination, "
        "then every day routed by the same engine in the same time",
    )
    parser.add_argument(
        "--concurrent", type=positive_int, default=1, metavar="N",
        help="solve N instances at a time, each in its own single process (default 1)",
    )


def run(args: argparse.Namespace, *, on_row: Callable[[dict[str, Any]], None]) -> BenchmarkTable:
    """Run ``benchmark pvrp``."""
    folder: Path = args.data
    if not folder.is_dir():
        raise InputDataError(f"{folder}: benchmark folder not found (use --data)")
    references = read_reference(folder, "bks")
    files = {p.name: p for p in folder.iterdir()
             if p.is_file() and p.name in references}
    names = select_instances(sorted(files, key=natural_key), args.instances, source=folder)
    lines = ["periodic", *(["first-pattern"] if args.compare else [])]
    jobs = []
    for name in names:
        n = read_cordeau(files[name]).n
        limit = args.time_limit if n <= LARGE_N or args.time_limit_large is None else (
            args.time_limit_large)
        for line in lines:
            jobs.append((files[name], {"line": line, "time_limit_s": limit, "seed": args.seed,
                                       "engine": args.engine,
                                       "reference": references.get(name)}))
    rows: list[dict[str, Any]] = []
    if args.concurrent > 1 and len(jobs) > 1:
        with worker_pool(min(args.concurrent, len(jobs))) as pool:
            futures = [pool.submit(_job, job) for job in jobs]
            for f in futures:
                rows.append(f.result())
                on_row(rows[-1])
    else:
        for job in jobs:
            rows.append(_job(job))
            on_row(rows[-1])
    return BenchmarkTable(name="pvrp", columns=COLUMNS, rows=rows, summary=summarize(rows))


def _job(job: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    path, kwargs = job
    return solve_instance(path, **kwargs)


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    """Per line: mean and worst gap, feasible count, mean CPU, split at
    :data:`LARGE_N` customers; then the planner against the baseline."""
    out = []
    labels = list(dict.fromkeys(r["engine"] for r in rows))
    for label in labels:
        for part, keep in (("all", lambda n: True), (f"n<={LARGE_N}", lambda n: n <= LARGE_N),
                           (f"n>{LARGE_N}", lambda n: n > LARGE_N)):
            mine = [r for r in rows if r["engine"] == label and keep(r["n"])]
            if not mine or (part != "all" and len(mine) == len(
                    [r for r in rows if r["engine"] == label])):
                continue
            out.append(gap_line(f"{label} ({part}, {len(mine)})", mine))
    for other in labels[1:]:
        out.append(head_to_head(rows, labels[0], other))
    return out
