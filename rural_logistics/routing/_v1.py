"""Open stations + fleet → vehicle routes (capacitated VRP with OR-Tools).

The solver sees arrays only. Node 0 is the depot; nodes 1..n are stations. A station
whose load exceeds the largest vehicle is split into equal visits that each fit; every
visit that cannot be served (fleet too small, too far for the shift) is reported in
:attr:`RoutingResult.unserved` with its load, never dropped silently.

Integer scaling (OR-Tools works in integers) is explicit: costs in 0.01 currency units,
times in seconds, loads in whole parcels (rounded up).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

COST_SCALE = 100  # cost units per currency unit
TIME_SCALE = 60  # seconds per minute


@dataclass(frozen=True)
class VehicleSpec:
    """One vehicle (a fleet type expanded by its count).

    Attributes
    ----------
    type_name
        Fleet vehicle type.
    capacity_parcels
        Parcels per trip.
    cost_per_km, fixed_cost_per_day
        Running and fixed cost (currency units).
    speed_factor
        Multiplies road speeds (travel time divides by it).
    max_route_duration_min
        Longest route including service, minutes.
    service_time_min
        Time spent at each stop, minutes.
    """

    type_name: str
    capacity_parcels: int
    cost_per_km: float
    fixed_cost_per_day: float
    speed_factor: float
    max_route_duration_min: float
    service_time_min: float


@dataclass(frozen=True)
class RoutingProblem:
    """A depot, stations and a fleet.

    Attributes
    ----------
    distance_km, time_min
        ``(n+1, n+1)`` road distance and travel time at speed factor 1; node 0 = depot.
    parcels_per_day
        ``(n+1,)`` load per node (depot 0).
    vehicles
        Every available vehicle.
    unserved_penalty_per_parcel
        Cost of leaving a parcel unserved (currency units).
    produce_kg_per_day
        ``(n+1,)`` farm produce to pick up per node, carried along for reporting.
    """

    distance_km: np.ndarray
    time_min: np.ndarray
    parcels_per_day: np.ndarray
    vehicles: tuple[VehicleSpec, ...]
    unserved_penalty_per_parcel: float = 1000.0
    produce_kg_per_day: np.ndarray | None = None


@dataclass(frozen=True)
class Route:
    """One vehicle's route.

    Attributes
    ----------
    vehicle
        Index into :attr:`RoutingProblem.vehicles`.
    stops
        Station node indices (1..n) in visiting order.
    loads
        Parcels delivered at each stop.
    distance_km, duration_min, cost
        Totals of the route (cost includes the vehicle's fixed cost).
    """

    vehicle: int
    stops: tuple[int, ...]
    loads: tuple[int, ...]
    distance_km: float
    duration_min: float
    cost: float

    @property
    def load(self) -> int:
        """Parcels carried."""
        return int(sum(self.loads))


@dataclass(frozen=True)
class RoutingResult:
    """Routes, unserved visits and solver facts.

    Attributes
    ----------
    routes
        Used routes only.
    unserved
        ``(node, parcels)`` pairs that no route serves.
    status
        ``"solved"`` when every parcel is routed, ``"partial"`` when some are unserved,
        ``"no_solution"`` when the solver found nothing (all unserved).
    solve_seconds
        Wall time.
    notes
        Human-readable remarks (splits, unreachable stations).
    """

    routes: tuple[Route, ...]
    unserved: tuple[tuple[int, int], ...]
    status: str
    solve_seconds: float
    notes: tuple[str, ...] = field(default=())

    def cost(self) -> float:
        """Total route cost (fixed + distance), currency units, excluding penalties."""
        return float(sum(r.cost for r in self.routes))

    def distance_km(self) -> float:
        """Total kilometres driven."""
        return float(sum(r.distance_km for r in self.routes))

    def is_feasible(self) -> bool:
        """Whether every parcel is delivered."""
        return not self.unserved

    def summary(self) -> str:
        """One line for logs."""
        return (
            f"{len(self.routes)} routes, {self.distance_km():.1f} km, cost {self.cost():.2f}, "
            f"{len(self.unserved)} unserved visits ({self.status})"
        )


def expand_fleet(types: Sequence[Any]) -> tuple[VehicleSpec, ...]:
    """One :class:`VehicleSpec` per vehicle from fleet types with a ``count``.

    Parameters
    ----------
    types
        Objects with the fields of the config's ``fleet.vehicles`` entries
        (``name, capacity_parcels, count, cost_per_km, …``).
    """
    return tuple(
        VehicleSpec(
            type_name=str(t.name),
            capacity_parcels=int(t.capacity_parcels),
            cost_per_km=float(t.cost_per_km),
            fixed_cost_per_day=float(t.fixed_cost_per_day),
            speed_factor=float(t.speed_factor),
            max_route_duration_min=float(t.max_route_duration_min),
            service_time_min=float(t.service_time_min),
        )
        for t in types
        for _ in range(int(t.count))
    )


def split_visits(parcels: np.ndarray, max_capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """Split each station's load into visits that fit the largest vehicle.

    Parameters
    ----------
    parcels
        ``(n+1,)`` integer loads, node 0 the depot.
    max_capacity
        Capacity of the largest vehicle.

    Returns
    -------
    station, load
        For each visit (visit 0 is the depot): its station node and parcels. A load
        ``L > Q`` becomes ``floor(L/Q)`` full loads plus the remainder, which packs
        better than equal parts (the remainder can share a vehicle with other stops).
    """
    station = [0]
    load = [0]
    for node in range(1, len(parcels)):
        amount = int(parcels[node])
        full, rest = divmod(amount, max_capacity)
        for part in [max_capacity] * full + ([rest] if rest else []):
            station.append(node)
            load.append(part)
    return np.array(station, dtype=np.int64), np.array(load, dtype=np.int64)


def solve_cvrp(
    problem: RoutingProblem, *, time_limit_s: float = 10.0, seed: int = 0
) -> RoutingResult:
    """Route the fleet from the depot to every station.

    Parameters
    ----------
    problem
        The instance.
    time_limit_s
        Search time limit (guided local search runs until it).
    seed
        Recorded for reproducibility; OR-Tools' routing search is itself deterministic
        for a fixed amount of work.

    Returns
    -------
    RoutingResult
    """
    del seed  # the OR-Tools routing search has no random seed
    start = time.perf_counter()
    parcels = np.ceil(np.asarray(problem.parcels_per_day, dtype=float) - 1e-9).astype(np.int64)
    parcels[0] = 0
    vehicles = problem.vehicles
    if not vehicles:
        unserved = tuple((n, int(parcels[n])) for n in range(1, len(parcels)) if parcels[n] > 0)
        return RoutingResult((), unserved, "no_solution", 0.0, ("the fleet is empty",))
    max_cap = max(v.capacity_parcels for v in vehicles)
    station, load = split_visits(parcels, max_cap)
    notes = []
    n_split = len(station) - 1 - int(np.count_nonzero(parcels[1:] > 0))
    if n_split:
        notes.append(
            f"{n_split} extra visit(s) added: stations with more parcels than the largest "
            f"vehicle ({max_cap}) are served by several vehicles"
        )
    if len(station) == 1:
        return RoutingResult((), (), "solved", time.perf_counter() - start, tuple(notes))

    dist = np.asarray(problem.distance_km, dtype=float)[np.ix_(station, station)]
    tmin = np.asarray(problem.time_min, dtype=float)[np.ix_(station, station)]
    n_visits = len(station)
    manager = pywrapcp.RoutingIndexManager(n_visits, len(vehicles), 0)
    routing = pywrapcp.RoutingModel(manager)

    # Vehicles of the same type share callbacks.
    type_keys = sorted({(v.cost_per_km, v.speed_factor, v.service_time_min) for v in vehicles})
    cost_cb: dict[float, int] = {}
    time_cb: dict[tuple[float, float], int] = {}
    for cost_per_km, speed_factor, service_min in type_keys:
        if cost_per_km not in cost_cb:
            arc = np.rint(dist * cost_per_km * COST_SCALE).astype(np.int64)
            cost_cb[cost_per_km] = _register_matrix(routing, manager, arc)
        key = (speed_factor, service_min)
        if key not in time_cb:
            travel = tmin / speed_factor + service_min * (np.arange(n_visits) > 0)[:, None]
            travel_s = np.rint(travel * TIME_SCALE).astype(np.int64)
            time_cb[key] = _register_matrix(routing, manager, travel_s)
    for k, v in enumerate(vehicles):
        routing.SetArcCostEvaluatorOfVehicle(cost_cb[v.cost_per_km], k)
        routing.SetFixedCostOfVehicle(round(v.fixed_cost_per_day * COST_SCALE), k)

    demand_cb = routing.RegisterUnaryTransitCallback(
        lambda i: int(load[manager.IndexToNode(i)])
    )
    routing.AddDimensionWithVehicleCapacity(
        demand_cb, 0, [v.capacity_parcels for v in vehicles], True, "Load"
    )
    routing.AddDimensionWithVehicleTransitAndCapacity(
        [time_cb[(v.speed_factor, v.service_time_min)] for v in vehicles],
        0,
        [round(v.max_route_duration_min * TIME_SCALE) for v in vehicles],
        True,
        "Time",
    )

    penalty_unit = problem.unserved_penalty_per_parcel * COST_SCALE
    for visit in range(1, n_visits):
        routing.AddDisjunction(
            [manager.NodeToIndex(visit)], int(max(1, round(penalty_unit * load[visit])))
        )

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    remaining = max(0.05, time_limit_s - (time.perf_counter() - start))
    params.time_limit.FromMilliseconds(int(remaining * 1000))
    solution = routing.SolveWithParameters(params)
    elapsed = time.perf_counter() - start

    if solution is None:
        unserved = _merge_unserved(station, load, range(1, n_visits))
        return RoutingResult(
            (), unserved, "no_solution", elapsed, (*notes, "the solver found no solution")
        )

    routes: list[Route] = []
    served: set[int] = set()
    for k, v in enumerate(vehicles):
        index = routing.Start(k)
        visits: list[int] = []
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            if node != 0:
                visits.append(node)
            index = solution.Value(routing.NextVar(index))
        if not visits:
            continue
        served.update(visits)
        path = [0, *visits, 0]
        km = float(sum(dist[a, b] for a, b in itertools.pairwise(path)))
        minutes = float(
            sum(tmin[a, b] / v.speed_factor for a, b in itertools.pairwise(path))
            + v.service_time_min * len(visits)
        )
        stops, loads = _merge_consecutive(station, load, visits)
        routes.append(
            Route(
                vehicle=k,
                stops=stops,
                loads=loads,
                distance_km=km,
                duration_min=minutes,
                cost=v.fixed_cost_per_day + v.cost_per_km * km,
            )
        )
    unserved = _merge_unserved(station, load, [i for i in range(1, n_visits) if i not in served])
    status = "solved" if not unserved else "partial"
    return RoutingResult(tuple(routes), unserved, status, elapsed, tuple(notes))


def _register_matrix(
    routing: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager, values: np.ndarray
) -> int:
    table = values.tolist()

    def callback(i: int, j: int) -> int:
        return int(table[manager.IndexToNode(i)][manager.IndexToNode(j)])

    return int(routing.RegisterTransitCallback(callback))


def _merge_consecutive(
    station: np.ndarray, load: np.ndarray, visits: list[int]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    stops: list[int] = []
    loads: list[int] = []
    for visit in visits:
        s = int(station[visit])
        if stops and stops[-1] == s:
            loads[-1] += int(load[visit])
        else:
            stops.append(s)
            loads.append(int(load[visit]))
    return tuple(stops), tuple(loads)


def _merge_unserved(
    station: np.ndarray, load: np.ndarray, visits: Any
) -> tuple[tuple[int, int], ...]:
    totals: dict[int, int] = {}
    for visit in visits:
        s = int(station[visit])
        totals[s] = totals.get(s, 0) + int(load[visit])
    return tuple(sorted(totals.items()))
