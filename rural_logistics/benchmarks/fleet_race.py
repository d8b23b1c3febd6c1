"""Multi-depot and mixed-fleet instances through the project's routing engines.

Shared by ``benchmark mdvrp`` and ``benchmark hfvrp``. An instance read from its file
(:class:`~rural_logistics.benchmarks.fleet_check.FleetInstance`) becomes a
:class:`~rural_logistics.routing.RoutingProblem`: depots are nodes ``0 … D−1``, customer
``i`` is node ``D + i``; each fleet type is expanded into one
:class:`~rural_logistics.routing.VehicleSpec` per vehicle with its depot, capacity,
``fixed_cost_per_day`` and ``cost_per_km``. An unlimited type (fleet size and mix) gets
one vehicle per customer for PyVRP (it never binds) and ``⌈1.2 k⌉ + 2`` for OR-Tools,
``k = ⌈total demand / capacity⌉`` (more idle vehicles only slow its search). Distances
are exact Euclidean, 1/1000 unit inside the engines; travel times are the distances
rounded *up* to 1/1000 so a route the engine accepts is within the duration limit.

Every plan is checked by :func:`~rural_logistics.benchmarks.fleet_check.check_plan`,
which recomputes the cost from the file's coordinates; that cost is the ``objective``.
The table and summary are the routing race's (:mod:`.routing_race`). ``--jobs J`` solves
``J`` instances (instance × line jobs) at the same time, each in its own process
(``J × --workers`` cores); ``--concurrent`` makes ``J`` at least the number of lines.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np

from rural_logistics.benchmarks.common import BenchmarkTable, gap_line, gap_pct
from rural_logistics.benchmarks.fleet_check import (
    FleetInstance,
    PlanCheck,
    PlanRoute,
    check_plan,
)
from rural_logistics.benchmarks.routing_race import (
    COLUMNS,
    Line,
    add_routing_arguments,
    chosen_lines,
    cpu_seconds,
    positive_int,
    summarize,
)
from rural_logistics.errors import InputDataError
from rural_logistics.routing import RoutingProblem, RoutingResult, VehicleSpec, solve_vrp
from rural_logistics.solvers.budget import Budget
from rural_logistics.solvers.processes import worker_pool

#: Integer engine units per distance unit (the engines round arcs to 1/1000).
SCALE = 1000


@dataclass(frozen=True)
class EngineProblem:
    """A benchmark instance as the engines see it.

    Attributes
    ----------
    problem
        The routing problem.
    vehicle_type
        Per vehicle of ``problem``, the instance's type index.
    """

    problem: RoutingProblem
    vehicle_type: tuple[int, ...]


def engine_count(instance: FleetInstance, k: int, *, engine: str) -> int:
    """Vehicles of type ``k`` given to ``engine`` (the file's count when limited)."""
    vt = instance.types[k]
    n = instance.n_customers
    if vt.count is not None:
        return vt.count
    if engine == "pyvrp":
        return n
    need = math.ceil(float(np.sum(instance.demand)) / vt.capacity)
    return min(n, math.ceil(1.2 * need) + 2)


def to_problem(instance: FleetInstance, *, engine: str) -> EngineProblem:
    """The routing problem of an instance for ``engine`` (see the module docstring)."""
    xy = np.vstack([instance.depot_xy, instance.customer_xy]).astype(float)
    diff = xy[:, None, :] - xy[None, :, :]
    dist = np.hypot(diff[..., 0], diff[..., 1])
    minutes = np.ceil(dist * SCALE - 1e-9) / SCALE
    d = instance.n_depots
    limit = math.inf if instance.max_duration is None else float(instance.max_duration)
    vehicles: list[VehicleSpec] = []
    kinds: list[int] = []
    for k, vt in enumerate(instance.types):
        spec = VehicleSpec(
            type_name=f"type{k}",
            capacity_parcels=int(vt.capacity),
            cost_per_km=float(vt.cost_per_distance),
            fixed_cost_per_day=float(vt.fixed_cost),
            speed_factor=1.0,
            max_route_duration_min=limit,
            service_time_min=0.0,
            depot=vt.depot,
        )
        count = engine_count(instance, k, engine=engine)
        vehicles.extend([spec] * count)
        kinds.extend([k] * count)
    zeros = np.zeros(d)
    problem = RoutingProblem(
        distance_km=dist,
        time_min=minutes,
        parcels_per_day=np.concatenate([zeros, np.asarray(instance.demand, dtype=float)]),
        vehicles=tuple(vehicles),
        n_depots=d,
        service_time_min=np.concatenate([zeros, np.asarray(instance.service, dtype=float)]),
        optional=False,
        xy=xy,
        distance_scale_per_km=SCALE,
        time_scale_per_min=SCALE,
    )
    return EngineProblem(problem, tuple(kinds))


def to_plan(built: EngineProblem, result: RoutingResult) -> list[PlanRoute]:
    """The engine's routes as the checker's plan (customer = node − depots)."""
    d = built.problem.n_depots
    plan = []
    for route in result.routes:
        for trip in route.trip_stops:
            plan.append(
                PlanRoute(
                    vehicle_type=built.vehicle_type[route.vehicle],
                    depot=int(route.depot),
                    customers=tuple(int(s) - d for s in trip),
                )
            )
    return plan


def solve_instance(
    instance: FleetInstance,
    *,
    reference: float | None,
    line: Line,
    time_limit_s: float,
    seed: int,
    workers: int,
    iterations: int | None = None,
) -> dict[str, Any]:
    """Solve one instance with one line; the independent checker decides feasibility and
    the objective."""
    built = to_problem(instance, engine=line.engine)
    start, cpu = time.perf_counter(), cpu_seconds()
    result = solve_vrp(
        built.problem,
        engine=line.engine,
        budget=Budget.of(time_limit_s, iteration_limit=iterations),
        seed=seed + line.seed_offset,
        workers=workers,
        default=line.default,
    )
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    check: PlanCheck = check_plan(instance, to_plan(built, result))
    feasible = check.feasible and result.status == "solved"
    objective = round(check.cost, 2) if result.routes else None
    status = result.status
    if result.routes and not check.feasible:
        status = "infeasible"
    elif feasible and abs(check.cost - result.cost()) > 1e-6 * max(1.0, check.cost):
        # The engines' evaluator and the checker disagree on the cost: a defect.
        status, feasible = "cost_mismatch", False
    return {
        "instance": instance.name,
        "n": instance.n_customers,
        "objective": objective,
        "reference": reference,
        "gap_pct": gap_pct(objective, reference) if feasible else None,
        "seconds": round(seconds, 1),
        "workers": workers,
        "cpu_s": round(cpu, 2),
        "status": status,
        "feasible": feasible,
        "engine": line.label,
        "routes": sum(check.routes_per_type),
        "violations": "; ".join(check.violations),
    }


def add_fleet_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the multi-depot / mixed-fleet benchmarks."""
    add_routing_arguments(parser)
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=1,
        metavar="J",
        help="instances solved at the same time, each in its own process "
        "(uses J × --workers cores; default 1)",
    )


def _solve_job(job: tuple[FleetInstance, dict[str, Any]]) -> dict[str, Any]:
    instance, kwargs = job
    return solve_instance(instance, **kwargs)


def run_fleet_instances(
    args: argparse.Namespace,
    *,
    name: str,
    instances: Sequence[FleetInstance],
    references: dict[str, float],
    on_row: Callable[[dict[str, Any]], None],
    groups: Sequence[dict[str, str]] = (),
) -> BenchmarkTable:
    """Solve every instance with every chosen line; rows in instance order.

    Parameters
    ----------
    groups
        Groupings (instance → label, e.g. subset, variant), each adding summary lines.
    """
    lines = chosen_lines(args)
    jobs_n = int(getattr(args, "jobs", 1))
    if getattr(args, "concurrent", False):
        # An instance's lines at the same time: at least one process per line.
        jobs_n = max(jobs_n, len(lines))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if jobs_n > 1 and jobs_n * args.workers > (cores or 1):
        raise InputDataError(
            f"--jobs {jobs_n} × --workers {args.workers} need {jobs_n * args.workers} cores, "
            f"this machine has {cores}"
        )
    jobs = [
        (
            inst,
            {
                "reference": references.get(inst.name),
                "line": line,
                "time_limit_s": args.time_limit,
                "seed": args.seed,
                "workers": args.workers,
                "iterations": getattr(args, "iterations", None),
            },
        )
        for inst in instances
        for line in lines
    ]
    found: list[dict[str, Any] | None] = [None] * len(jobs)
    if jobs_n <= 1:
        for i, job in enumerate(jobs):
            found[i] = _solve_job(job)
            on_row(found[i] or {})
    else:
        with worker_pool(jobs_n) as pool:
            futures = {pool.submit(_solve_job, job): i for i, job in enumerate(jobs)}
            for future in as_completed(futures):
                row = future.result()
                found[futures[future]] = row
                on_row(row)
    rows = [r for r in found if r is not None]
    summary = summarize(rows)
    for grouping in groups:
        summary.extend(group_summary(rows, grouping))
    return BenchmarkTable(name=name, columns=COLUMNS, rows=rows, summary=summary)


def group_summary(rows: Sequence[dict[str, Any]], groups: dict[str, str]) -> list[str]:
    """Per line and group: mean and worst gap and feasible count."""
    out = []
    labels = list(dict.fromkeys(r["engine"] for r in rows))
    names = list(dict.fromkeys(groups.get(r["instance"], "") for r in rows))
    for label in labels:
        for group in names:
            mine = [
                r for r in rows if r["engine"] == label and groups.get(r["instance"], "") == group
            ]
            if not mine or not group:
                continue
            out.append(gap_line(f"{label} {group}", mine, cpu=False))
    return out
