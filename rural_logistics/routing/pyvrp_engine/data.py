"""PyVRP instance data from a routing problem, and PyVRP solutions back to engine results."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, cast

import numpy as np
import pyvrp
from pyvrp import search

from rural_logistics.routing.model import (
    HORIZON,
    RawSolution,
    RoutingProblem,
    Visits,
    make_scaling,
    time_windows_units,
    travel_time_units,
)
from rural_logistics.routing.route_pool import (
    reload_at,
)

KG_SCALE = 10  # integer units per kilogram



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
    clients = []
    for i in range(len(visits)):
        node = int(visits.station[i])
        delivery = [int(visits.parcels[i])]
        pickup = [0]
        if use_kg:
            delivery.append(math.ceil(float(visits.delivery_kg[i]) * KG_SCALE - 1e-9))
            pickup.append(math.ceil(float(visits.pickup_kg[i]) * KG_SCALE - 1e-9))
        clients.append(
            pyvrp.Client(
                location=node,
                delivery=delivery,
                pickup=pickup,
                tw_early=int(tw[node, 0]),
                tw_late=int(tw[node, 1]),
                prize=scaling.penalty(float(visits.penalty[i])) if problem.optional else 0,
                required=not problem.optional,
            )
        )
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
            capacity.append(
                HORIZON
                if v.capacity_kg is None
                else math.floor(v.capacity_kg * KG_SCALE + 1e-9)
            )
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
    )
    return data, members


def zero_cost_evaluator(data: pyvrp.ProblemData) -> pyvrp.CostEvaluator:
    """An evaluator without penalties: its ``penalised_cost`` of a feasible solution is
    the solution's cost."""
    return pyvrp.CostEvaluator([0.0] * data.num_load_dimensions, 0.0, 0.0)


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


def _penalty_setup(
    data: pyvrp.ProblemData,
) -> tuple[pyvrp.PenaltyParams, tuple[list[float], float, float]]:
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
    params = pyvrp.PenaltyParams(
        solutions_between_updates=base.solutions_between_updates,
        penalty_increase=base.penalty_increase,
        penalty_decrease=base.penalty_decrease,
        target_feasible=base.target_feasible,
        feas_tolerance=base.feas_tolerance,
        min_penalty=base.min_penalty,
        max_penalty=cap,
    )
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
    tw = min(cap, max(mid_tw, ref / mean_dur))
    dist_pen = min(cap, max(mid_dist, ref / mean_dist))
    return params, (load, tw, dist_pen)




def _has_windows(data: pyvrp.ProblemData) -> bool:
    """Whether any client has a time window narrower than the horizon."""
    late = max((vt.tw_late for vt in data.vehicle_types()), default=HORIZON)
    return any(c.tw_early > 0 or c.tw_late < late for c in data.clients())




def _visits(route: pyvrp.Route) -> tuple[int, ...]:
    """A route's clients in order, a reload as :func:`reload_at` its depot."""
    return tuple(
        reload_at(int(a.idx)) if a.is_depot() else int(a.idx)
        for a in list(route.schedule())[1:-1]
    )


def _activities(visits: tuple[int, ...]) -> list[pyvrp.Activity]:
    """PyVRP activities of a visit sequence (negative entries: reloads)."""
    return [
        pyvrp.Activity(pyvrp.ActivityType.DEPOT, -1 - v)
        if v < 0
        else pyvrp.Activity(pyvrp.ActivityType.CLIENT, v)
        for v in visits
    ]


def _route_cost(route: pyvrp.Route) -> float:
    return float(route.fixed_vehicle_cost() + route.distance_cost() + route.duration_cost())


def solution_of(
    data: pyvrp.ProblemData, routes: Iterable[tuple[int, tuple[int, ...]]]
) -> pyvrp.Solution:
    """A PyVRP solution of ``(vehicle type, visits)`` routes."""
    return pyvrp.Solution(data, [pyvrp.Route(data, _activities(v), t) for t, v in routes])


def polished(
    data: pyvrp.ProblemData,
    plan: pyvrp.Solution,
    ls: search.LocalSearch,
    pm: pyvrp.PenaltyManager,
) -> pyvrp.Solution | None:
    """The cheaper feasible one of ``plan`` and its exhaustive local search (penalties
    not counted); ``None`` when neither is feasible."""
    improved = ls(plan, pm.cost_evaluator(), exhaustive=True)
    zero = zero_cost_evaluator(data)
    return min(
        (s for s in (plan, improved) if s.is_feasible()), key=zero.penalised_cost, default=None
    )


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


