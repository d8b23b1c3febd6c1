"""Two-echelon stage: open township hubs and route both tiers for the placed stations.

The config's ``hubs`` section names candidate hubs (rows of the depots file, each with a
daily cost and a capacity) and two fleet types: trunk vehicles run from the county
distribution centre (DC) to the open hubs, last-mile vehicles from the open hubs (and the
DC, when ``dc_serves_stations``) to the stations. The solver
(:func:`rural_logistics.lrp.two_echelon.solve_two_echelon`) sees road distances and
parcels only; this module builds its arrays from the prepared region and turns its answer
into the plan's routing result (last mile) and trunk route rows.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
import shapely

from rural_logistics import network as net
from rural_logistics.config import RegionConfig
from rural_logistics.errors import InputDataError
from rural_logistics.lrp.two_echelon import (
    TierFleet,
    TwoEchelonProblem,
    TwoEchelonSolution,
    solve_two_echelon,
)
from rural_logistics.placement import PlacementResult
from rural_logistics.region import PreparedRegion, depot_nodes
from rural_logistics.routing import Route, RoutingResult, expand_fleet
from rural_logistics.routing.diagnose import NOT_PROVEN


@dataclass(frozen=True)
class TierPlan:
    """What the two-echelon stage adds to a plan.

    Attributes
    ----------
    hub_rows
        Rows (in the depots file) of the hubs that open.
    hub_ids
        Their depot ids.
    hub_stations
        Hub id → station positions (0-based among the open stations) it serves.
    trunk
        One dict per trunk route with the routes-layer columns and ``nodes`` (graph nodes
        visited: DC, hubs, DC).
    solution
        The solver's answer (cost split, kilometres per tier).
    """

    hub_rows: tuple[int, ...]
    hub_ids: tuple[str, ...]
    hub_stations: dict[str, tuple[int, ...]]
    trunk: tuple[dict[str, Any], ...]
    solution: TwoEchelonSolution


def route_two_echelon(
    config: RegionConfig,
    prepared: PreparedRegion,
    placement: PlacementResult,
) -> tuple[RoutingResult, np.ndarray, TierPlan]:
    """Open hubs and route both tiers.

    Returns
    -------
    RoutingResult
        Last-mile routes in the plan's convention (stop ``k`` = open station ``k-1``,
        ``Route.depot`` = depots-file row of the DC or hub).
    numpy.ndarray
        Parcels per open station.
    TierPlan

    Raises
    ------
    InputDataError
        A hub id missing from the depots file, or a hub without road connection.
    InfeasibleError
        Hubs (and the DC) too small for the parcels. Stations the fleet cannot serve
        (a round trip longer than the last-mile shift, more routes than a type's
        ``count``) are not an error: they are unserved, priced and diagnosed.
    """
    start = time.perf_counter()
    hubs = config.hubs
    assert hubs is not None
    open_sites = placement.open_sites
    position = {int(s): k for k, s in enumerate(open_sites)}
    loads = np.zeros(len(open_sites))
    for v, s in enumerate(placement.assignment):
        loads[position[int(s)]] += prepared.demand.parcels_per_day[v]
    ids = [str(i) for i in prepared.data.depots["depot_id"].to_numpy()]
    rows = []
    for cand in hubs.candidates:
        assert cand.depot_id in ids[1:], "hubs.candidates were not checked"
        rows.append(ids.index(cand.depot_id))
    types = {v.name: v for v in config.fleet.vehicles}
    trunk_t, lm_t = types[hubs.trunk_vehicle], types[hubs.last_mile_vehicle]
    h = len(rows)
    hub_nodes = depot_nodes(prepared, rows)
    depot_xy = prepared.network.node_xy[np.array(hub_nodes, dtype=np.int64)]
    stops = net.SnappedPoints(
        node=np.concatenate(
            [prepared.depot.node[:1], np.array(hub_nodes, dtype=np.int64),
             prepared.sites.node[open_sites]]
        ),
        offroad_m=np.zeros(1 + h + len(open_sites)),
        xy=np.vstack([prepared.depot.xy[:1], depot_xy, prepared.sites.xy[open_sites]]),
    )
    travel = net.travel_matrices(
        prepared.network, stops, stops,
        offroad_speed_kph=config.network.offroad_speed_kph, include_offroad=False,
    )
    if not np.isfinite(travel.distance_km).all():
        raise InputDataError(
            f"{config.data.depots}: a hub is not connected by road to the distribution "
            "centre or the open stations"
        )
    # Stations with more parcels than a last-mile vehicle carries are split into visits.
    q2 = lm_t.capacity_parcels
    chunk_station: list[int] = []
    chunk_parcels: list[int] = []
    for k, load in enumerate(loads):
        parcels = math.ceil(load - 1e-9)
        while parcels > 0:
            take = min(q2, parcels)
            chunk_station.append(k)
            chunk_parcels.append(take)
            parcels -= take
    index = np.array([*range(1 + h), *(1 + h + k for k in chunk_station)], dtype=np.int64)
    problem = TwoEchelonProblem(
        distance_km=travel.distance_km[np.ix_(index, index)],
        parcels_per_day=np.array(chunk_parcels, dtype=np.int64),
        hub_capacity_parcels=np.array([c.capacity_parcels_per_day for c in hubs.candidates]),
        hub_opening_cost=np.array([c.opening_cost_per_day for c in hubs.candidates]),
        trunk=TierFleet(trunk_t.capacity_parcels, trunk_t.fixed_cost_per_day, trunk_t.cost_per_km),
        last_mile=TierFleet(
            lm_t.capacity_parcels, lm_t.fixed_cost_per_day, lm_t.cost_per_km,
            max_route_duration_min=lm_t.max_route_duration_min,
            speed_factor=lm_t.speed_factor,
            service_time_min=lm_t.service_time_min,
        ),
        dc_serves_stations=hubs.dc_serves_stations,
        time_min=travel.time_min[np.ix_(index, index)],
        unserved_penalty_per_parcel=config.routing.unserved_penalty_per_parcel,
    )
    sol = solve_two_echelon(
        problem, time_limit_s=config.solver.time_limit_s, seed=config.solver.seed
    )
    fleet = expand_fleet(config.fleet.vehicles)
    lm_vehicles = [k for k, v in enumerate(fleet) if v.type_name == lm_t.name]
    trunk_vehicles = [k for k, v in enumerate(fleet) if v.type_name == trunk_t.name]
    total = float(np.sum(chunk_parcels))
    lost: dict[int, str] = {}  # chunk → why it is unserved
    for c in sol.unserved:
        lost[c] = (
            f"no vehicle can serve it: {lm_t.name}: every round trip from the open hubs"
            f"{' and the DC' if hubs.dc_serves_stations else ''} takes more than its "
            f"{lm_t.max_route_duration_min:g} min shift"
        )
    kept, dropped = _within_count(list(sol.last_mile_routes), len(lm_vehicles), chunk_parcels)
    for r in dropped:
        for c in r.customers:
            lost[c] = _count_reason(lm_t, len(sol.last_mile_routes), len(lm_vehicles), total)
    trunk_kept, trunk_dropped = _within_count(
        [list(r) for r in sol.trunk_routes], len(trunk_vehicles), None
    )
    if trunk_dropped:
        supply = np.zeros(h)
        for r2 in trunk_kept:
            for stop in r2:
                supply[stop.hub] += stop.parcels
        why = _count_reason(trunk_t, len(sol.trunk_routes), len(trunk_vehicles), total)
        for j in range(h):
            mine = sorted(
                (r for r in kept if r.depot == 1 + j),
                key=lambda r: -sum(chunk_parcels[c] for c in r.customers),
            )
            carried = 0.0
            for r in mine:
                load = sum(chunk_parcels[c] for c in r.customers)
                if carried + load <= supply[j] + 1e-9:
                    carried += load
                    continue
                kept.remove(r)
                for c in r.customers:
                    lost[c] = f"trunk {why}"
    notes = list(sol.notes)
    row_of = [0, *rows]  # depot of the last-mile problem → depots-file row
    routes = []
    for r, k in zip(kept, lm_vehicles, strict=False):
        path = [r.depot, *(1 + h + chunk_station[c] for c in r.customers), r.depot]
        km = float(sum(travel.distance_km[a, b] for a, b in itertools.pairwise(path)))
        minutes = float(sum(travel.time_min[a, b] for a, b in itertools.pairwise(path)))
        minutes = minutes / lm_t.speed_factor + lm_t.service_time_min * len(r.customers)
        if minutes > lm_t.max_route_duration_min:
            notes.append(
                f"a {lm_t.name} route takes {minutes:.0f} min, over its "
                f"max_route_duration_min {lm_t.max_route_duration_min:g}"
            )
        routes.append(
            Route(
                vehicle=k,
                stops=tuple(chunk_station[c] + 1 for c in r.customers),
                loads=tuple(chunk_parcels[c] for c in r.customers),
                distance_km=km,
                duration_min=minutes,
                cost=lm_t.fixed_cost_per_day + lm_t.cost_per_km * km,
                depot=row_of[r.depot],
            )
        )
    trunk_rows = []
    for n, (r2, k) in enumerate(zip(trunk_kept, trunk_vehicles, strict=False)):
        path = [0, *(1 + s.hub for s in r2), 0]
        km = float(sum(travel.distance_km[a, b] for a, b in itertools.pairwise(path)))
        minutes = float(sum(travel.time_min[a, b] for a, b in itertools.pairwise(path)))
        minutes = minutes / trunk_t.speed_factor + trunk_t.service_time_min * len(r2)
        trunk_rows.append(
            {
                "route_id": f"T{n + 1}",
                "vehicle_index": k,
                "vehicle_type": trunk_t.name,
                "stops": ">".join(ids[rows[s.hub]] for s in r2),
                "n_stops": len(r2),
                "load_parcels": int(sum(s.parcels for s in r2)),
                "route_km": round(km, 3),
                "route_min": round(minutes, 2),
                "cost": round(trunk_t.fixed_cost_per_day + trunk_t.cost_per_km * km, 2),
                "nodes": [int(stops.node[p]) for p in path],
            }
        )
    hub_ids = tuple(ids[rows[j]] for j in sol.open_hubs)
    served: dict[str, set[int]] = {hid: set() for hid in hub_ids}
    for route in routes:
        if route.depot != 0:
            served[ids[route.depot]].update(s - 1 for s in route.stops)
    by_station: dict[int, list[Any]] = {}
    for c, why in sorted(lost.items()):
        entry = by_station.setdefault(chunk_station[c] + 1, [0, why])
        entry[0] += chunk_parcels[c]
    unserved = tuple((stop, int(p)) for stop, (p, _) in by_station.items())
    result = RoutingResult(
        routes=tuple(routes),
        unserved=unserved,
        status="partial" if unserved else "solved",
        solve_seconds=time.perf_counter() - start,
        notes=tuple(notes),
        engine="two-echelon (PyVRP)",
        unserved_penalty=config.routing.unserved_penalty_per_parcel
        * sum(max(p, 1) for _, p in unserved),
        unserved_reasons=tuple(str(why) for _, why in by_station.values()),
    )
    if lost:  # kilometres of the routes kept
        sol = replace(
            sol,
            last_mile_km=float(sum(r.distance_km for r in routes)),
            trunk_km=float(sum(cast(float, row["route_km"]) for row in trunk_rows)),
        )
    tiers = TierPlan(
        hub_rows=tuple(rows[j] for j in sol.open_hubs),
        hub_ids=hub_ids,
        hub_stations={hid: tuple(sorted(v)) for hid, v in served.items()},
        trunk=tuple(trunk_rows),
        solution=sol,
    )
    return result, loads, tiers


def _within_count(
    routes: list[Any], count: int, parcels: list[int] | None
) -> tuple[list[Any], list[Any]]:
    """Keep the ``count`` routes carrying the most parcels (all if they fit): kept, dropped."""
    if len(routes) <= count:
        return routes, []

    def load(r: Any) -> float:
        if parcels is None:
            return float(sum(stop.parcels for stop in r))
        return float(sum(parcels[c] for c in r.customers))

    order = sorted(range(len(routes)), key=lambda k: (-load(routes[k]), k))
    keep = set(order[:count])
    return (
        [r for k, r in enumerate(routes) if k in keep],
        [r for k, r in enumerate(routes) if k not in keep],
    )


def _count_reason(vt: Any, need: int, have: int, total: float) -> str:
    """Why stations are left when a tier needs more routes than the type's ``count``."""
    carry = vt.capacity_parcels * have
    if carry < total:
        return (
            f"fleet capacity: the {have} {vt.name} vehicles carry at most {carry:,} "
            f"parcels/day for {total:,.0f} parcels/day"
        )
    return (
        f"{NOT_PROVEN}: the two-echelon plan found needs {need} {vt.name} routes but count "
        f"is {have}; no plan with fewer routes was searched (raise count or capacity_parcels)"
    )


def trunk_lines(prepared: PreparedRegion, tiers: TierPlan) -> list[shapely.LineString]:
    """Road geometry of each trunk route (DC → hubs → DC)."""
    lines = []
    xy = prepared.network.node_xy
    for row in tiers.trunk:
        nodes = row["nodes"]
        _, _, pred = net.shortest_paths(prepared.network, np.array(nodes[:-1], dtype=np.int64))
        coords: list[np.ndarray] = []
        for k, (_, b) in enumerate(itertools.pairwise(nodes)):
            leg = net.path_nodes(pred[k], int(b))
            coords.append(xy[leg] if not coords else xy[leg[1:]])
        line = np.vstack(coords)
        if len(line) < 2:
            line = np.vstack([line, line])
        lines.append(shapely.LineString(line))
    return lines


def cost_split(
    *, opening: float, vehicles_fixed: float, routes_cost: float
) -> dict[str, float]:
    """``summary.json`` cost parts: opening, fixed vehicle, travel and their total."""
    travel = routes_cost - vehicles_fixed
    return {
        "opening_per_day": round(opening, 2),
        "fixed_vehicle_per_day": round(vehicles_fixed, 2),
        "travel_per_day": round(travel, 2),
        "total_per_day": round(opening + vehicles_fixed + travel, 2),
    }
