"""PyVRP engine: PyVRP's own ``solve``, seeds in parallel processes, the best kept.

Mapping: locations are the problem's nodes; each visit is a client at its station's
location (delivery ``[parcels, kg down]``, pickup ``[0, kg up]``); vehicles with the same
settings form one vehicle type tied to its depot; each distinct (speed factor, service
time) is a routing profile whose duration matrix carries the service time at the origin;
multi-trip vehicles reload at their own depot (``reload_depots``, ``max_reloads``); optional
stations are optional clients whose prize is the penalty.

A run is :func:`pyvrp.solve` with PyVRP's default parameters except the penalties, which
are scaled to the instance's cost units (:func:`penalty_params`; on benchmark-sized
numbers they are PyVRP's defaults, so a run is exactly PyVRP's default solve there). With
``workers = W``, ``W`` runs with seeds ``seed … seed + W − 1`` run in parallel processes
and the best feasible plan is kept. The stop rule is the time limit, or
the budget's iteration cap per run (deterministic for a seed). No search of our own:
measured at equal CPU, the restarts, route-pool recombination and pool exchange that
used to sit on top of PyVRP's loop did not beat PyVRP's own multi-seed solve (issue 22,
README "Routing engines and benchmarks").
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, cast

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import FirstFeasible, MaxIterations, MaxRuntime, MultipleCriteria

from rural_logistics.routing.model import (
    HORIZON,
    RawSolution,
    RoutingProblem,
    Visits,
    capacity_kg_units,
    kg_units,
    make_scaling,
    time_windows_units,
    travel_time_units,
)
from rural_logistics.solvers.budget import Budget
from rural_logistics.solvers.processes import worker_pool

#: Share of the budget the required-stations phase may use before the prizes are let in.
REQUIRED_PHASE_SHARE = 0.7


def build_data(
    problem: RoutingProblem, visits: Visits
) -> tuple[pyvrp.ProblemData, list[list[int]]]:
    """PyVRP data for the problem.

    Returns
    -------
    data
        The instance.
    members
        Per PyVRP vehicle type, the problem's vehicle indices it stands for.
    """
    scaling = make_scaling(problem)
    n = problem.n_nodes
    xy = (
        np.asarray(problem.xy, dtype=float)
        if problem.xy is not None
        else np.zeros((n, 2), dtype=float)
    )
    locations = [pyvrp.Location(float(x), float(y)) for x, y in xy]
    use_kg = problem.uses_kg()
    tw = time_windows_units(problem)
    depots = [pyvrp.Depot(location=d) for d in range(problem.n_depots)]
    group_of = _group_of(visits)
    clients = []
    for i in range(len(visits)):
        node = int(visits.station[i])
        in_group = group_of[i] >= 0
        delivery = [int(visits.parcels[i])]
        pickup = [0]
        if use_kg:
            delivery.append(int(kg_units(visits.delivery_kg[i])))
            pickup.append(int(kg_units(visits.pickup_kg[i])))
        clients.append(
            pyvrp.Client(
                location=node,
                delivery=delivery,
                pickup=pickup,
                tw_early=int(tw[node, 0]),
                tw_late=int(tw[node, 1]),
                prize=scaling.penalty(float(visits.penalty[i])) if problem.optional else 0,
                # A client of a group is optional; the group says whether one is required.
                required=not problem.optional and not in_group,
                group=int(group_of[i]) if in_group else None,
            )
        )
    client_groups = [
        pyvrp.ClientGroup([int(i) for i in np.flatnonzero(group_of == g)],
                          required=not problem.optional)
        for g in range(int(group_of.max(initial=-1)) + 1)
    ]
    profiles: dict[tuple[float, float], int] = {}
    durations: list[Any] = []
    groups: dict[tuple, list[int]] = {}
    for k, v in enumerate(problem.vehicles):
        key = (v.speed_factor, v.service_time_min)
        if key not in profiles:
            profiles[key] = len(durations)
            units, _ = travel_time_units(
                problem, speed_factor=v.speed_factor, vehicle_service_min=v.service_time_min
            )
            durations.append(units)
        group_key = (
            v,
            scaling.unit_distance_cost[k],
            scaling.fixed_cost[k],
        )
        groups.setdefault(group_key, []).append(k)
    st = problem.time_scale_per_min
    sd = problem.distance_scale_per_km
    vehicle_types = []
    members = []
    for (v, unit, fixed), ks in groups.items():
        capacity = [v.capacity_parcels]
        if use_kg:
            capacity.append(capacity_kg_units(v.capacity_kg))
        extra = {}
        if v.max_trips > 1:
            extra = {"reload_depots": [v.depot], "max_reloads": v.max_trips - 1}
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(ks),
                capacity=capacity,
                start_depot=v.depot,
                end_depot=v.depot,
                fixed_cost=fixed,
                tw_early=round(v.shift_start_min * st),
                tw_late=round(v.shift_end_min * st) if math.isfinite(v.shift_end_min) else HORIZON,
                shift_duration=(
                    math.floor(v.max_route_duration_min * st + 1e-9)
                    if math.isfinite(v.max_route_duration_min)
                    else HORIZON
                ),
                max_distance=(
                    math.floor(v.max_route_distance_km * sd + 1e-9)
                    if v.max_route_distance_km is not None
                    else HORIZON
                ),
                unit_distance_cost=unit,
                profile=profiles[(v.speed_factor, v.service_time_min)],
                **extra,
            )
        )
        members.append(ks)
    data = pyvrp.ProblemData(
        locations,
        clients,
        depots,
        vehicle_types,
        [cast(Any, scaling.distance)] * len(durations),
        durations,
        client_groups,
    )
    return data, members


def _group_of(visits: Visits) -> np.ndarray:
    """Group number of each visit (``-1`` = none; see :attr:`Visits.group`)."""
    if visits.group is None:
        return np.full(len(visits), -1, dtype=np.int64)
    return np.asarray(visits.group, dtype=np.int64)


@dataclass
class ScaledPenalties(pyvrp.PenaltyParams):
    """PyVRP's penalty parameters with given starting values.

    :func:`pyvrp.solve` starts its penalty manager from :meth:`midpoint_penalties`
    (PyVRP: the middle of ``[min_penalty, max_penalty]``); this returns ``start``.

    Attributes
    ----------
    start
        Starting penalties per unit of load (per dimension), duration and distance.
    """

    start: tuple[list[float], float, float] = field(default_factory=lambda: ([], 0.0, 0.0))

    def midpoint_penalties(self, data: pyvrp.ProblemData) -> tuple[list[float], float, float]:
        """The starting penalties (``data`` is not needed)."""
        del data
        return self.start


def _reference_cost(data: pyvrp.ProblemData) -> float:
    """Cost of one more out-and-back route with the dearest vehicle: the scale that
    penalties must reach for feasibility to pay (PyVRP's defaults assume small units)."""
    ref = 0.0
    clients = [c.location for c in data.clients()]
    for vt in data.vehicle_types():
        dist = data.distance_matrix(vt.profile)
        far = float(dist[vt.start_depot, clients].max() + dist[clients, vt.end_depot].max())
        ref = max(ref, vt.fixed_cost + vt.unit_distance_cost * far)
    return ref


def penalty_params(data: pyvrp.ProblemData) -> ScaledPenalties:
    """PyVRP's penalty settings scaled to the instance.

    The cap is raised above the largest prize per unit of load (so overloading never
    pays better than leaving a station out) and above the cost of one more route; the
    starting penalties are PyVRP's midpoint or, when larger, that route cost per unit of
    mean load, duration and distance. On benchmark-sized numbers this is PyVRP's default.
    """
    base = pyvrp.PenaltyParams()
    ref = _reference_cost(data)
    top = 0.0
    loads = []
    for client in data.clients():
        amount = max([*client.delivery, *client.pickup, 1])
        top = max(top, client.prize / amount)
        loads.append([max(d, p) for d, p in zip(client.delivery, client.pickup, strict=True)])
    cap = max(base.max_penalty, 10.0 * top, 10.0 * ref)
    mid_load, mid_tw, mid_dist = base.midpoint_penalties(data)
    mean_load = np.maximum(np.asarray(loads, dtype=float).mean(axis=0), 1.0)
    load = [
        min(cap, max(m, ref / q, 2.0 * top)) for m, q in zip(mid_load, mean_load, strict=True)
    ]
    clients = [c.location for c in data.clients()]
    dur = data.duration_matrix(0)[np.ix_(clients, clients)]
    dist = data.distance_matrix(0)[np.ix_(clients, clients)]
    mean_dur = max(1.0, float(dur.mean())) if dur.size else 1.0
    mean_dist = max(1.0, float(dist.mean())) if dist.size else 1.0
    return ScaledPenalties(
        solutions_between_updates=base.solutions_between_updates,
        penalty_increase=base.penalty_increase,
        penalty_decrease=base.penalty_decrease,
        target_feasible=base.target_feasible,
        feas_tolerance=base.feas_tolerance,
        min_penalty=base.min_penalty,
        max_penalty=cap,
        start=(
            load,
            min(cap, max(mid_tw, ref / mean_dur)),
            min(cap, max(mid_dist, ref / mean_dist)),
        ),
    )


def zero_cost_evaluator(data: pyvrp.ProblemData) -> pyvrp.CostEvaluator:
    """An evaluator without penalties: its ``penalised_cost`` of a feasible solution is
    the solution's cost."""
    return pyvrp.CostEvaluator([0.0] * data.num_load_dimensions, 0.0, 0.0)


def trim_to_feasible(data: pyvrp.ProblemData, solution: pyvrp.Solution) -> pyvrp.Solution:
    """The solution with each infeasible route cut back from its end until it fits.

    Only meaningful when every client is optional: the clients cut off become unvisited,
    so the result is feasible (routes left without a client are dropped).

    Parameters
    ----------
    data
        The instance (optional clients).
    solution
        Any solution of ``data``'s clients, feasible or not; it may belong to another
        instance with the same clients and vehicle types (the required-stations one).

    Returns
    -------
    pyvrp.Solution
        A solution whose every route is feasible.
    """
    routes = []
    for route in solution.routes():
        vehicle_type = route.vehicle_type()
        acts = [
            pyvrp.Activity(
                pyvrp.ActivityType.DEPOT if a.is_depot() else pyvrp.ActivityType.CLIENT,
                int(a.idx),
            )
            for a in list(route.schedule())[1:-1]
        ]
        # Rebuilt on ``data`` even when it fits: a route keeps the instance it was made
        # for, and ``solution`` may come from another one (the required-stations
        # search, whose clients carry no prize).
        candidate = pyvrp.Route(data, acts, vehicle_type)
        while not candidate.is_feasible():
            # Drop the last client, then any reload left dangling at the end.
            last = max(i for i, a in enumerate(acts) if a.type == pyvrp.ActivityType.CLIENT)
            acts = acts[:last]
            while acts and acts[-1].type == pyvrp.ActivityType.DEPOT:
                acts.pop()
            if not acts:
                break
            candidate = pyvrp.Route(data, acts, vehicle_type)
        if acts and candidate.is_feasible():
            routes.append(candidate)
    return pyvrp.Solution(data, routes)


@dataclass(frozen=True)
class PyVrpRun:
    """One PyVRP run.

    Attributes
    ----------
    seed
        Random seed.
    deadline
        ``time.time()`` value at which the run must stop.
    iteration_limit
        Stop after this many iterations instead (deterministic).
    default
        PyVRP's default solve, penalties unscaled (the benchmark's reference line).
    """

    seed: int
    deadline: float
    iteration_limit: int | None = None
    default: bool = False

    def stop(self, share: float) -> MaxIterations | MaxRuntime:
        """Stop after ``share`` of the iterations, or of the time left."""
        if self.iteration_limit is not None:
            return MaxIterations(max(1, round(self.iteration_limit * share)))
        return MaxRuntime(max(0.01, (self.deadline - time.time()) * share))


def _solve(
    data: pyvrp.ProblemData,
    stop: Any,
    *,
    seed: int,
    default: bool = False,
    initial: pyvrp.Solution | None = None,
) -> tuple[pyvrp.Result, int]:
    """:func:`pyvrp.solve` with the penalties of :func:`penalty_params` (PyVRP's own
    with ``default``); returns the result and how often a penalty reached its cap
    (PyVRP's warning, counted, not printed)."""
    params = pyvrp.SolveParams() if default else pyvrp.SolveParams(penalty=penalty_params(data))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PenaltyBoundWarning)
        result = pyvrp.solve(
            data, stop, seed=seed, collect_stats=False, params=params, initial_solution=initial
        )
    capped = sum(issubclass(w.category, PenaltyBoundWarning) for w in caught)
    for w in caught:
        if not issubclass(w.category, PenaltyBoundWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result, capped


def run_pyvrp(problem: RoutingProblem, visits: Visits, run: PyVrpRun) -> RawSolution:
    """One PyVRP run (in a worker process when ``workers > 1``).

    With optional stations the run first treats every station as required, until it
    finds a feasible plan or has used 70 % of the budget (prize-collecting from the
    start stalls on tight fleets); then it goes on with the stations' penalties as
    prizes from that plan, each route cut back until it fits (so a short fleet leaves
    the least valuable stations out, and a station that costs more to serve than its
    penalty is left out and priced).
    """
    data, members = build_data(problem, visits)
    capped = 0
    if run.default or not problem.optional:
        result, capped = _solve(data, run.stop(1.0), seed=run.seed, default=run.default)
        best, iterations = result.best, result.num_iterations
    else:
        required, _ = build_data(replace(problem, optional=False), visits)
        first, capped = _solve(
            required,
            MultipleCriteria([FirstFeasible(), run.stop(REQUIRED_PHASE_SHARE)]),
            seed=run.seed,
        )
        start = trim_to_feasible(data, first.best)
        result, more = _solve(data, run.stop(1.0), seed=run.seed, initial=start)
        capped += more
        iterations = first.num_iterations + result.num_iterations
        best = result.best if result.best.is_feasible() else start
    note = f"PyVRP (seed {run.seed}, {iterations} iterations"
    if capped and not best.is_feasible():
        # PyVRP's PenaltyBoundWarning, as a note: only telling when no plan was found.
        note += f", a penalty at its cap {capped} time(s)"
    return _raw_solution(data, best, members, note=note + ")")


def _raw_solution(
    data: pyvrp.ProblemData, best: pyvrp.Solution, members: list[list[int]], *, note: str
) -> RawSolution:
    """A PyVRP solution as the engines' common result (``members``: per PyVRP vehicle
    type, the problem's vehicles it stands for)."""
    free = [list(ks) for ks in members]
    routes = []
    for route in best.routes():
        k = free[route.vehicle_type()].pop(0)
        trips: list[list[int]] = [[]]
        for act in list(route.schedule())[1:-1]:
            if act.is_depot():
                trips.append([])
            elif act.is_client():
                trips[-1].append(int(act.idx))
        routes.append((k, tuple(tuple(tr) for tr in trips if tr)))
    routes.sort()
    feasible = bool(best.is_feasible())
    zero = zero_cost_evaluator(data)
    return RawSolution(
        tuple(routes),
        float(zero.penalised_cost(best)) if feasible else math.inf,
        feasible,
        note,
    )


def solve_pyvrp(
    problem: RoutingProblem,
    visits: Visits,
    *,
    budget: Budget,
    seed: int = 0,
    workers: int = 1,
    default: bool = False,
) -> RawSolution:
    """Solve with PyVRP: ``workers`` runs in parallel, the best feasible kept.

    Parameters
    ----------
    problem, visits
        The instance and its visits.
    budget
        Wall-clock budget (its time left becomes the runs' deadline) and its optional
        iteration cap (iterations per run: a deterministic stop rule instead of the time).
    seed
        Seed of the first run (run ``w`` uses ``seed + w``).
    workers
        Parallel runs (processes).
    default
        PyVRP's default solve, penalties unscaled (the benchmark's reference line).

    Returns
    -------
    RawSolution
    """
    # A wall-clock deadline: the runs compare it with time.time() in their own processes.
    deadline = time.time() + budget.left()
    runs = [
        PyVrpRun(seed + w, deadline, budget.iteration_limit, default) for w in range(workers)
    ]
    if len(runs) == 1:
        return run_pyvrp(problem, visits, runs[0])
    with worker_pool(len(runs)) as pool:
        futures = [pool.submit(run_pyvrp, problem, visits, run) for run in runs]
        results = [f.result() for f in futures]
    return min(results, key=lambda r: (not r.feasible, r.objective))
