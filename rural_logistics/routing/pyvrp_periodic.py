"""PyVRP over every day of a horizon at once: the joint instance (the periodic planner's
model; searched by :mod:`rural_logistics.routing.pyvrp_patterns`).

One PyVRP instance holds all days: a station visited on day ``d`` is a client at the
station's location whose time window is day ``d``'s slot ``[d·S, d·S + S/2]`` (``S``
longer than any route), and each fleet vehicle is a vehicle type per day whose shift is
that slot (its own shift inside the slot's first half), so a vehicle of day ``d`` can
only serve day ``d``'s clients. A station whose
options are single visits on different days is a required *mutually exclusive group* of
its day copies: PyVRP picks the day while it routes. Other stations come with fixed days.

Supported: one depot or several, vehicles of one speed and service time (shifts of
their own), single trips, no opening windows, parcels only (:func:`supported`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyvrp

from rural_logistics.routing.model import (
    HORIZON,
    RoutingProblem,
    make_scaling,
    travel_time_units,
)


@dataclass(frozen=True)
class DayVisit:
    """A client of the joint instance: ``parcels`` to station node ``node`` on ``day``
    (``-1``: any day, the vehicle's); visits with the same ``group`` (not ``None``) are
    alternatives, exactly one made."""

    node: int
    day: int
    parcels: int
    group: int | None = None


def supported(problem: RoutingProblem) -> bool:
    """Whether the joint model represents the problem exactly."""
    kinds = {(v.speed_factor, v.service_time_min) for v in problem.vehicles}
    return (
        len(kinds) == 1
        and all(v.max_trips == 1 and v.capacity_kg is None for v in problem.vehicles)
        and problem.time_window_min is None
        and not problem.uses_kg()
    )


def build_joint(problem: RoutingProblem, days: int, visits: Sequence[DayVisit]
                ) -> tuple[pyvrp.ProblemData, list[tuple[int, list[int]]]] | None:
    """The joint instance of ``visits`` and, per vehicle type, its day and the fleet
    vehicles it stands for (``None`` when the horizon does not fit the time axis)."""
    scaling = make_scaling(problem)
    v0 = problem.vehicles[0]
    duration, _ = travel_time_units(problem, speed_factor=v0.speed_factor,
                                    vehicle_service_min=v0.service_time_min)
    st, sd = problem.time_scale_per_min, problem.distance_scale_per_km
    # A vehicle's shift [start, end] within its day's slot; the slot's first half holds
    # every shift and is longer than any route (n + 2 of the longest legs).
    shifts = [(round(v.shift_start_min * st),
               round(v.shift_end_min * st) if math.isfinite(v.shift_end_min) else None)
              for v in problem.vehicles]
    latest = max((e if e is not None else s0 for s0, e in shifts), default=0)
    slot = max(int(duration.max(initial=0)) * (problem.n_nodes + 2) + 1, 2 * latest + 2)
    if slot * days * 2 >= HORIZON:
        return None
    xy = (np.asarray(problem.xy, dtype=float) if problem.xy is not None
          else np.zeros((problem.n_nodes, 2)))
    locations = [pyvrp.Location(float(x), float(y)) for x, y in xy]
    depots = [pyvrp.Depot(location=d) for d in range(problem.n_depots)]
    group_ids = sorted({v.group for v in visits if v.group is not None})
    index = {g: k for k, g in enumerate(group_ids)}
    members: list[list[int]] = [[] for _ in group_ids]
    clients = []
    for i, v in enumerate(visits):
        g = None if v.group is None else index[v.group]
        if g is not None:
            members[g].append(i)
        clients.append(pyvrp.Client(
            location=v.node, delivery=[int(v.parcels)], pickup=[0],
            tw_early=max(v.day, 0) * slot,
            tw_late=(v.day * slot + slot // 2) if v.day >= 0 else days * slot,
            required=g is None, group=g,
        ))
    groups = [pyvrp.ClientGroup(m, required=True) for m in members]
    kinds: dict[tuple[int, int, int, int, int, int | None], list[int]] = {}
    for k, vt in enumerate(problem.vehicles):
        key = (vt.depot, vt.capacity_parcels, scaling.unit_distance_cost[k],
               scaling.fixed_cost[k], *shifts[k])
        kinds.setdefault(key, []).append(k)
    types, owners = [], []
    for d in range(days):
        for (depot, cap, unit, fixed, start, end), ks in kinds.items():
            spec = problem.vehicles[ks[0]]
            types.append(pyvrp.VehicleType(
                num_available=len(ks), capacity=[cap], start_depot=depot, end_depot=depot,
                fixed_cost=fixed, tw_early=d * slot + start,
                tw_late=d * slot + (end if end is not None else slot // 2),
                shift_duration=(math.floor(spec.max_route_duration_min * st + 1e-9)
                                if math.isfinite(spec.max_route_duration_min) else HORIZON),
                max_distance=(math.floor(spec.max_route_distance_km * sd + 1e-9)
                              if spec.max_route_distance_km is not None else HORIZON),
                unit_distance_cost=unit,
            ))
            owners.append((d, ks))
    data = pyvrp.ProblemData(locations, clients, depots, types,
                             [cast(Any, scaling.distance)], [cast(Any, duration)], groups)
    return data, owners


def read_joint(owners: list[tuple[int, list[int]]], days: int,
               routes: Sequence[tuple[int, Sequence[int]]]) -> list[list[tuple[int, list[int]]]]:
    """Routes ``(vehicle type, client indices)`` of the joint instance as, per day, routes
    ``(vehicle index in the fleet, visit indices)``."""
    out: list[list[tuple[int, list[int]]]] = [[] for _ in range(days)]
    free = [list(ks) for _, ks in owners]
    for t, visited in routes:
        out[owners[t][0]].append((free[t].pop(0), list(visited)))
    return out


def routes_of(solution: pyvrp.Solution) -> list[tuple[int, list[int]]]:
    """A solution's routes as ``(vehicle type, client indices in order)``."""
    return [(r.vehicle_type(), [int(a.idx) for a in list(r.schedule())[1:-1] if a.is_client()])
            for r in solution.routes()]
