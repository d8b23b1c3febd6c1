"""Proven upper bounds on the parcels a fleet can deliver in a day, before any search.

Three bounds, each a proof from the problem's own numbers (no search involved):

``fleet_capacity``
    Every vehicle's parcels per trip × its trips, summed over the fleet.
``reach``
    The parcels at stations that at least one vehicle type can serve alone on an empty
    day (round trip within its shift and distance limit, arriving while the station is
    open; :func:`rural_logistics.routing.diagnose.blocked_reason`).
``shift_time``
    A linear programme over vehicle groups (vehicles of one kind at one depot) and
    stations: a group carries at most its capacity × trips, only to stations it can serve,
    and at most what its shifts allow. A trip that carries ``q_i`` parcels to stations
    ``i`` lasts at least ``max_i r_i ≥ Σ_i (q_i / Q) r_i`` (``r_i`` the round trip to
    station ``i`` on shortest paths of the time matrix, service included; ``Q`` the
    vehicle's parcels per trip), so ``Σ (parcels × r / Q)`` over a group is at most its
    vehicles × shift minutes (and likewise for kilometres with a distance limit). Its
    optimum bounds the parcels any plan delivers; without the time rows the same
    programme is the capacity of the vehicles *able* to serve each station
    (``able_capacity``).

The smallest bound is the one that **binds**; :attr:`DeliveryBound.lift` says what
would lift it (how many more vehicles of a type, or trips, or longer shifts). A plan that
delivers less than the bound is a heuristic miss, not a proof.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse.csgraph import csgraph_from_dense, dijkstra

from rural_logistics.routing.diagnose import blocked_reason
from rural_logistics.routing.model import (
    BOUND_NAMES,
    TOLERANCE_PARCELS,
    DeliveryBound,
    RoutingProblem,
    VehicleSpec,
    service_minutes,
    station_demand,
    trip_parcels,
)
from rural_logistics.solvers.mip import Model


def _round_trips(problem: RoutingProblem, v: VehicleSpec) -> tuple[np.ndarray, np.ndarray]:
    """``(N,)`` shortest round-trip minutes (service at the station included) and km from
    the vehicle's depot, on shortest paths of the problem's own matrices."""
    def shortest(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Zero arcs (two nodes at one place) are arcs: only inf means none.
        out = csgraph_from_dense(matrix, null_value=np.inf)
        back = csgraph_from_dense(np.ascontiguousarray(matrix.T), null_value=np.inf)
        return (dijkstra(out, directed=True, indices=v.depot),
                dijkstra(back, directed=True, indices=v.depot))

    out_t, back_t = shortest(np.asarray(problem.time_min, dtype=float) / v.speed_factor)
    out_d, back_d = shortest(np.asarray(problem.distance_km, dtype=float))
    service = service_minutes(problem) + v.service_time_min
    return out_t + back_t + service, out_d + back_d


def shift_minutes(v: VehicleSpec) -> float:
    """Longest working day of a vehicle: its duration limit within its shift."""
    return min(v.max_route_duration_min, v.shift_end_min - v.shift_start_min)


def able_and_round_trips(
    problem: RoutingProblem, kinds: list[VehicleSpec]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per vehicle kind and station (``(kinds, stations)`` arrays): whether the kind can
    serve the station alone on an empty day (stations with parcels only), and the
    shortest round trip in minutes (service included) and km."""
    parcels, _, _ = station_demand(problem)
    stations = np.arange(problem.n_depots, problem.n_nodes)
    able = np.zeros((len(kinds), len(stations)), dtype=bool)
    minutes = np.zeros_like(able, dtype=float)
    km = np.zeros_like(able, dtype=float)
    for g, v in enumerate(kinds):
        rt_min, rt_km = _round_trips(problem, v)
        minutes[g] = rt_min[stations]
        km[g] = rt_km[stations]
        if trip_parcels(v, problem.parcel_kg) <= 0:
            continue
        for j, node in enumerate(stations):
            able[g, j] = (
                parcels[node] > 0
                and blocked_reason(problem, v, int(node)) is None
                and minutes[g, j] <= shift_minutes(v) + 1e-9
            )
    return able, minutes, km


def delivery_bound(problem: RoutingProblem) -> DeliveryBound:
    """The bounds of the module docstring for ``problem``.

    Parameters
    ----------
    problem
        The routing problem (its stations' parcels are the demand).

    Returns
    -------
    DeliveryBound
    """
    parcels, _, _ = station_demand(problem)
    stations = np.arange(problem.n_depots, problem.n_nodes)
    demand = parcels[stations].astype(float)
    total = int(demand.sum())
    groups: dict[VehicleSpec, int] = {}
    for v in problem.vehicles:
        groups[v] = groups.get(v, 0) + 1
    kinds = list(groups)
    cap = np.array([trip_parcels(v, problem.parcel_kg) for v in kinds], dtype=float)
    trips = np.array([v.max_trips for v in kinds], dtype=float)
    count = np.array([groups[v] for v in kinds], dtype=float)
    fleet_capacity = float((cap * trips * count).sum())
    able, minutes, km = able_and_round_trips(problem, kinds)
    reach = float(demand[able.any(axis=0)].sum())
    able_capacity = _lp_bound(kinds, count, cap, trips, demand, able, minutes, km, time=False)
    shift_time = _lp_bound(kinds, count, cap, trips, demand, able, minutes, km, time=True)
    bounds = {
        "fleet_capacity": fleet_capacity,
        "reach": reach,
        "able_capacity": able_capacity,
        "shift_time": shift_time,
    }
    tightest = min(bounds.values())
    binding = ""
    if tightest < total - TOLERANCE_PARCELS:
        binding = next(
            name for name in BOUND_NAMES if bounds[name] <= tightest + TOLERANCE_PARCELS
        )
    lift = _lift(binding, kinds, count, cap, trips, total, bounds, able, demand, stations)
    return DeliveryBound(demand_parcels=total, bounds=bounds, binding=binding, lift=lift)


def _lp_bound(
    kinds: list[VehicleSpec],
    count: np.ndarray,
    cap: np.ndarray,
    trips: np.ndarray,
    demand: np.ndarray,
    able: np.ndarray,
    minutes: np.ndarray,
    km: np.ndarray,
    *,
    time: bool,
) -> float:
    """Most parcels the vehicle groups can carry to the stations they can serve (with
    ``time``: within their shift minutes and kilometres), a linear programme."""
    if not able.any():
        return 0.0
    model = Model("GLOP", maximize=True, fallback="HIGHS")
    x: dict[tuple[int, int], object] = {}
    for g, j in zip(*np.nonzero(able), strict=True):
        x[int(g), int(j)] = model.add_var(0.0, float(demand[j]), 1.0)
    for g, v in enumerate(kinds):
        mine = [(var, j) for (gg, j), var in x.items() if gg == g]
        if not mine:
            continue
        model.add_row([(var, 1.0) for var, _ in mine], ub=float(count[g] * cap[g] * trips[g]))
        if time:
            model.add_row(
                [(var, float(minutes[g, j] / cap[g])) for var, j in mine],
                ub=float(count[g] * shift_minutes(v)),
            )
            if v.max_route_distance_km is not None:
                model.add_row(
                    [(var, float(km[g, j] / cap[g])) for var, j in mine],
                    ub=float(count[g] * v.max_route_distance_km),
                )
    for j in range(len(demand)):
        terms = [(var, 1.0) for (_, jj), var in x.items() if jj == j]
        if terms:
            model.add_row(terms, ub=float(demand[j]))
    result = model.solve(time_limit_s=10.0)
    assert result.optimal, "the delivery bound LP is always feasible (x = 0) and bounded"
    return float(result.objective)


def _lift(
    binding: str,
    kinds: list[VehicleSpec],
    count: np.ndarray,
    cap: np.ndarray,
    trips: np.ndarray,
    total: int,
    bounds: dict[str, float],
    able: np.ndarray,
    demand: np.ndarray,
    stations: np.ndarray,
) -> str:
    """What lifts the binding bound to the demand (another bound may bind next)."""
    if not binding:
        return ""
    short = total - bounds[binding]
    if binding == "fleet_capacity":
        by_type: dict[str, float] = {}
        for g, v in enumerate(kinds):
            by_type[v.type_name] = max(by_type.get(v.type_name, 0.0), cap[g] * trips[g])
        options = [
            f"{math.ceil(short / per):,} more {name} ({per:,.0f} parcels/day each)"
            for name, per in by_type.items() if per > 0
        ]
        per_trip = float((cap * count).sum())
        need_trips = math.ceil(total / per_trip) if per_trip > 0 else 0
        return (
            f"lifted by {' or '.join(options)}"
            + (f", or {need_trips} trips per vehicle" if need_trips else "")
            + " (another bound may then bind)"
        )
    if binding == "reach":
        far = [int(stations[j]) for j in np.flatnonzero(~able.any(axis=0) & (demand > 0))]
        shown = ", ".join(f"node {n}" for n in far[:5]) + (" …" if len(far) > 5 else "")
        return (
            f"{len(far)} station(s) ({shown}) are beyond every vehicle type's shift, "
            "distance limit or opening hours: longer shifts, a nearer depot or wider hours "
            "lift it"
        )
    if binding == "able_capacity":
        return (
            f"the vehicles able to reach the far stations carry {short:,.0f} parcels/day too "
            "few for them: more vehicles of the types that reach them, or trips, lift it"
        )
    return (
        f"the shifts are {short:,.0f} parcels/day short of the round trips the demand "
        "needs: more vehicles or longer shifts (max_route_duration_min) lift it"
    )
