"""The order of the work: config → inputs → network → demand → placement → routing → plan.

This is the only module that knows the sequence. It reports progress through a callback
and never prints; the CLI decides how to show it.
"""

from __future__ import annotations

import itertools
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rural_logistics import network as net
from rural_logistics.config import RegionConfig
from rural_logistics.errors import InfeasibleError, InputDataError
from rural_logistics.hubs import TierPlan, cost_split, route_two_echelon, trunk_lines
from rural_logistics.last_metres import (
    at_depot_stations,
    last_metre_notes,
    offroad_legs,
    restore_stops,
    served_at_depot,
)
from rural_logistics.lrp.stations import (
    StationLrpProblem,
    StationLrpResult,
    StationPlan,
    engine_router,
    solve_station_lrp,
    station_plan_placement,
    subset_problem,
)
from rural_logistics.metrics import run_status, summarize
from rural_logistics.network_setup import (
    network_summary,
)
from rural_logistics.placement import PlacementResult
from rural_logistics.placement.dispatch import (
    METHOD_TEXT,
    access_costs,
    fixed_charge_costs,
    solve_placement,
)
from rural_logistics.placement.result import SiteRules
from rural_logistics.plan import Plan
from rural_logistics.region import (
    PreparedRegion,
    Progress,
    depot_nodes,
    prepare_region,
    silent,
    village_weights,
)
from rural_logistics.routing import RoutingProblem, RoutingResult, expand_fleet, solve_vrp
from rural_logistics.routing.diagnose import is_proven
from rural_logistics.text import ids_text
from rural_logistics.validation import check_request


def place_stations(
    config: RegionConfig, prepared: PreparedRegion, rules: SiteRules
) -> PlacementResult:
    """Choose stations with the configured placement model (``placement.method``).

    Returns
    -------
    PlacementResult
        Site indices refer to ``prepared.data.sites`` (``location_routing``: the
        fixed-charge optimum its search starts from).
    """
    return solve_placement(
        config.placement,
        time_min=prepared.access.time_min,
        distance_km=prepared.access.distance_km,
        weights=village_weights(config, prepared),
        parcels_per_day=prepared.demand.parcels_per_day,
        rules=rules,
        village_ids=[str(v) for v in prepared.data.villages["village_id"].to_numpy()],
        time_limit_s=config.solver.time_limit_s,
    )


def locate_and_route(
    config: RegionConfig, prepared: PreparedRegion, start: PlacementResult, rules: SiteRules
) -> tuple[StationLrpResult, list[str]]:
    """``placement.method: location_routing``: stations and routes chosen together.

    ``start`` is the fixed-charge optimum (:func:`place_stations`); the search
    (:func:`rural_logistics.lrp.stations.solve_station_lrp`) routes it, looks for a
    cheaper set of stations with its routes, and keeps the cheaper plan.

    Returns
    -------
    StationLrpResult, list[str]
        Both plans (routing nodes: depots, then open stations), and the depot ids.
    """
    settings = config.placement
    time_min, distance_km = prepared.access.time_min, prepared.access.distance_km
    reachable, allowed, cost = access_costs(
        settings, time_min=time_min, distance_km=distance_km, rules=rules
    )
    parcels = prepared.demand.parcels_per_day
    assign, capacity = fixed_charge_costs(
        settings, distance_km=distance_km, parcels_per_day=parcels, allowed=allowed
    )
    n_sites = len(prepared.data.sites)
    template, depot_ids = routing_template(config, prepared, np.arange(n_sites))
    base = time_min if settings.objective == "time" else distance_km
    problem = StationLrpProblem(
        assign_cost=assign,
        parcels_per_day=parcels,
        produce_kg_per_day=prepared.demand.produce_kg_per_day,
        opening_cost=np.full(n_sites, settings.opening_cost_per_day),
        routing=template,
        capacity=capacity,
        single_source=settings.single_source,
        rules=rules,
        nearest_cost=cost,
        fallback_cost=np.where(reachable, base, np.inf),
    )
    router = engine_router(
        template,
        engine=config.routing.engine,
        seed=config.solver.seed,
        workers=config.routing.workers,
    )
    result = solve_station_lrp(
        problem, start=start, route=router, time_limit_s=config.solver.time_limit_s
    )
    return result, depot_ids


def _lrp_summary(result: StationLrpResult) -> dict[str, object]:
    """``summary.json`` section ``location_routing``: both plans' cost split."""

    def part(plan: StationPlan) -> dict[str, object]:
        return {
            **plan.cost.as_dict(),
            "stations_open": len(plan.placement.open_sites),
            "routes": len(plan.routing.routes),
            "route_km": round(plan.routing.distance_km(), 2),
        }

    seq = result.sequential.cost.total
    return {
        "chosen": result.chosen,
        "sequential": part(result.sequential),
        "joint": part(result.joint),
        "saved_per_day": round(result.saved_per_day, 2),
        "saved_share": round(result.saved_per_day / seq, 4) if seq > 0 else 0.0,
        "sets_estimated": result.sets_estimated,
        "sets_confirmed": result.sets_confirmed,
        "notes": list(result.notes),
        "solve_seconds": round(result.seconds, 2),
    }


def _depot_nodes(config: RegionConfig, prepared: PreparedRegion) -> tuple[list[str], np.ndarray]:
    """Ids and graph nodes of the depots vehicles are based at (the first always).

    The first depot is the snapped county distribution centre. Another depot named by a
    vehicle type is its nearest graph node: every depot was snapped when the graph was
    built, and the foot of its perpendicular is the graph node closest to it.
    """
    ids = [str(i) for i in prepared.data.depots["depot_id"].to_numpy()]
    wanted = [ids[0]]
    for vt in config.fleet.vehicles:
        if vt.depot is not None and vt.depot not in wanted:
            assert vt.depot in ids, "fleet.vehicles depots were not checked"
            wanted.append(vt.depot)
    nodes = depot_nodes(prepared, [ids.index(d) for d in wanted])
    return wanted, np.array(nodes, dtype=np.int64)


def routing_template(
    config: RegionConfig, prepared: PreparedRegion, sites: np.ndarray
) -> tuple[RoutingProblem, list[str]]:
    """The routing problem from the fleet's depots to ``sites`` (rows of the sites layer),
    with no parcels yet: node ``k`` is depot ``k``, node ``n_depots + j`` is ``sites[j]``.

    Sites not connected to the depots by road get a prohibitive distance (they are
    never opened: placement excludes them).

    Returns
    -------
    RoutingProblem, list[str]
        The problem and the depot ids of its depot nodes.

    Raises
    ------
    InputDataError
        A depot used by the fleet without a road to the depot of the region.
    """
    sites = np.asarray(sites, dtype=np.int64)
    depot_ids, depot_nodes = _depot_nodes(config, prepared)
    n_dep = len(depot_nodes)
    depot_xy = prepared.network.node_xy[depot_nodes]
    depot_xy[0] = prepared.depot.xy[0]
    stops = net.SnappedPoints(
        node=np.concatenate([depot_nodes, prepared.sites.node[sites]]),
        offroad_m=np.zeros(len(sites) + n_dep),
        xy=np.vstack([depot_xy, prepared.sites.xy[sites]]),
    )
    travel = net.travel_matrices(
        prepared.network,
        stops,
        stops,
        offroad_speed_kph=config.network.offroad_speed_kph,
        include_offroad=False,
    )
    usable = np.concatenate([np.ones(n_dep, dtype=bool), prepared.site_ok[sites]])
    if not np.isfinite(travel.distance_km[np.ix_(usable, usable)]).all():
        raise InputDataError(
            f"{config.data.depots}: a depot used by the fleet is not connected by road to "
            "the open stations"
        )
    far = ~np.isfinite(travel.distance_km) | ~np.isfinite(travel.time_min)
    distance_km = np.where(far, 1e6, travel.distance_km)
    time_min = np.where(far, 1e6, travel.time_min)
    settings = config.routing
    hours = None
    if settings.station_hours_min is not None:
        hours = np.tile(np.array(settings.station_hours_min, dtype=float), (len(stops.node), 1))
    zeros = np.zeros(len(stops.node))
    problem = RoutingProblem(
        distance_km=distance_km,
        time_min=time_min,
        parcels_per_day=zeros,
        vehicles=expand_fleet(
            config.fleet.vehicles, depot_of={d: k for k, d in enumerate(depot_ids)}
        ),
        unserved_penalty_per_parcel=settings.unserved_penalty_per_parcel,
        produce_kg_per_day=zeros,
        n_depots=n_dep,
        parcel_kg=settings.parcel_kg,
        pickup_produce=settings.pickup_produce,
        time_window_min=hours,
        xy=stops.xy,
    )
    return problem, depot_ids


def route_vehicles(
    config: RegionConfig,
    prepared: PreparedRegion,
    placement: PlacementResult,
) -> tuple[RoutingResult, np.ndarray]:
    """Route the fleet from its depots to the open stations.

    Returns
    -------
    RoutingResult
        Stop ``k`` (k ≥ 1) is open station ``k-1``; :attr:`Route.depot` is the row of
        the route's depot in ``prepared.data.depots``.
    numpy.ndarray
        Parcels per open station.
    """
    open_sites = placement.open_sites
    loads = np.zeros(len(open_sites))
    produce = np.zeros(len(open_sites))
    position = {int(s): k for k, s in enumerate(open_sites)}
    for v, s in enumerate(placement.assignment):
        loads[position[int(s)]] += prepared.demand.parcels_per_day[v]
        produce[position[int(s)]] += prepared.demand.produce_kg_per_day[v]
    template, depot_ids = routing_template(config, prepared, open_sites)
    routed = np.flatnonzero(~at_depot_stations(template))
    if len(routed) == 0:  # every station is at the depot: nothing to drive
        return RoutingResult(routes=(), unserved=(), status="solved", solve_seconds=0.0,
                             engine=config.routing.engine), loads
    problem = subset_problem(template, routed, loads[routed], produce[routed])
    settings = config.routing
    result = solve_vrp(
        problem,
        engine=settings.engine,
        time_limit_s=config.solver.time_limit_s,
        seed=config.solver.seed,
        workers=settings.workers,
    )
    numbered = _station_numbering(result, len(depot_ids), depot_ids, prepared)
    return restore_stops(numbered, routed), loads


def _station_numbering(
    result: RoutingResult, n_dep: int, depot_ids: list[str], prepared: PreparedRegion
) -> RoutingResult:
    """Renumber stops so that open station ``k`` is ``k + 1`` and ``Route.depot`` is the
    depot's row in the depots layer (the plan's convention with any number of depots)."""
    rows = [
        int(np.flatnonzero(prepared.data.depots["depot_id"].astype(str).to_numpy() == d)[0])
        for d in depot_ids
    ]
    from dataclasses import replace

    shift = n_dep - 1

    def renumber(nodes: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(n - shift for n in nodes)

    routes = tuple(
        replace(
            r,
            stops=renumber(r.stops),
            trips=tuple(renumber(t) for t in r.trips),
            depot=rows[r.depot],
        )
        for r in result.routes
    )
    unserved = tuple((n - shift, p) for n, p in result.unserved)
    return replace(result, routes=routes, unserved=unserved)


def _route_lines(
    prepared: PreparedRegion, open_sites: np.ndarray, routing: RoutingResult
) -> list[shapely.LineString]:
    """Road geometry of each route: depot → stops (→ depot → stops …) → depot."""
    if not routing.routes:
        return []
    used_depots = sorted({r.depot for r in routing.routes})
    node_of_depot = dict(zip(used_depots, depot_nodes(prepared, used_depots), strict=True))
    # Point k: station k-1 for k ≥ 1; depots after the stations.
    nodes = list(prepared.sites.node[open_sites])
    point_of_depot = {}
    for row in used_depots:
        point_of_depot[row] = len(nodes) + 1
        nodes.append(node_of_depot[row])
    nodes_arr = np.array([-1, *nodes], dtype=np.int64)
    used = sorted({s for r in routing.routes for s in r.stops} | set(point_of_depot.values()))
    _, _, pred = net.shortest_paths(prepared.network, nodes_arr[used])
    row_of = {stop: k for k, stop in enumerate(used)}
    xy = prepared.network.node_xy
    lines = []
    for route in routing.routes:
        depot = point_of_depot[route.depot]
        path = [depot]
        for trip in route.trip_stops:
            path.extend(trip)
            path.append(depot)
        coords: list[np.ndarray] = []
        for a, b in itertools.pairwise(path):
            leg = net.path_nodes(pred[row_of[a]], int(nodes_arr[b]))
            coords.append(xy[leg] if not coords else xy[leg[1:]])
        line = np.vstack(coords)
        if len(line) < 2:
            line = np.vstack([line, line])
        lines.append(shapely.LineString(line))
    return lines


def build_plan(
    config: RegionConfig,
    prepared: PreparedRegion,
    placement: PlacementResult,
    routing: RoutingResult,
    loads: np.ndarray,
    *,
    solve_seconds: float,
    tiers: TierPlan | None = None,
    location_routing: StationLrpResult | None = None,
) -> Plan:
    """Assemble the plan layers and summary from solver results (``tiers``: the
    two-echelon stage's hubs and trunk routes, when the config has ``hubs``)."""
    data = prepared.data
    crs = data.crs
    sites = data.sites
    open_sites = placement.open_sites
    station_ids = sites["site_id"].to_numpy()[open_sites]
    station_of_site = dict(zip(open_sites.tolist(), station_ids.tolist(), strict=True))
    n_v = len(data.villages)
    rows = np.arange(n_v)
    assigned_site = placement.assignment
    access_km = prepared.access.distance_km[rows, assigned_site]
    access_min = prepared.access.time_min[rows, assigned_site]
    delivered = np.zeros(len(open_sites))
    for route in routing.routes:
        for stop, amount in zip(route.stops, route.loads, strict=True):
            delivered[stop - 1] += amount
    visited = {stop - 1 for route in routing.routes for stop in route.stops}
    unserved_stations = {stop - 1 for stop, _ in routing.unserved}
    at_depot = np.zeros(len(open_sites), dtype=bool)
    if tiers is None and location_routing is None:
        at_depot = served_at_depot(prepared, open_sites) & np.array(
            [k not in visited and k not in unserved_stations for k in range(len(open_sites))],
            dtype=bool)
        delivered = np.where(at_depot, np.ceil(loads), delivered)
    position = {int(s): k for k, s in enumerate(open_sites)}
    village_station = [station_of_site[int(s)] for s in assigned_site]
    unserved_villages = [
        str(vid)
        for vid, s in zip(data.villages["village_id"], assigned_site, strict=True)
        if position[int(s)] in unserved_stations
    ]
    villages = gpd.GeoDataFrame(
        {
            "village_id": data.villages["village_id"].to_numpy(),
            "name": data.villages["name"].to_numpy(),
            "township": data.villages["township"].to_numpy(),
            "population": data.villages["population"].to_numpy(),
            "parcels_per_day": np.round(prepared.demand.parcels_per_day, 2),
            "produce_kg_per_day": np.round(prepared.demand.produce_kg_per_day, 1),
            "station_id": village_station,
            "access_km": np.round(access_km, 3),
            "access_min": np.round(access_min, 2),
            "within_radius": access_km <= config.placement.radius_km,
            "road_distance_m": np.round(prepared.villages.offroad_m, 1),
        },
        geometry=data.villages.geometry.to_numpy(),
        crs=crs,
    )
    counts = np.bincount([position[int(s)] for s in assigned_site], minlength=len(open_sites))
    pop = np.bincount(
        [position[int(s)] for s in assigned_site],
        weights=data.villages["population"].to_numpy(dtype=float),
        minlength=len(open_sites),
    )
    produce = np.bincount(
        [position[int(s)] for s in assigned_site],
        weights=prepared.demand.produce_kg_per_day,
        minlength=len(open_sites),
    )
    visits = np.zeros(len(open_sites), dtype=int)
    for route in routing.routes:
        for stop in route.stops:
            visits[stop - 1] += 1
    stations = gpd.GeoDataFrame(
        {
            "station_id": station_ids,
            "site_id": station_ids,
            "name": sites["name"].to_numpy()[open_sites],
            "township": sites["township"].to_numpy()[open_sites],
            "existing": sites["existing"].to_numpy(dtype=bool)[open_sites],
            "villages": counts,
            "population": pop.round().astype(int),
            "parcels_per_day": np.round(loads, 2),
            "produce_kg_per_day": np.round(produce, 1),
            "visits": visits,
            "delivered_parcels_per_day": delivered.astype(int),
            "served_by": np.where(at_depot, "depot", "vehicle"),
            "road_distance_m": np.round(prepared.sites.offroad_m[open_sites], 1),
        },
        geometry=sites.geometry.to_numpy()[open_sites],
        crs=crs,
    )
    vehicles = expand_fleet(config.fleet.vehicles)
    type_seq: dict[str, int] = {}
    vehicle_ids = []
    for v in vehicles:
        type_seq[v.type_name] = type_seq.get(v.type_name, 0) + 1
        vehicle_ids.append(f"{v.type_name}-{type_seq[v.type_name]}")
    lines = _route_lines(prepared, open_sites, routing)
    routes = gpd.GeoDataFrame(
        {
            "route_id": [f"R{k + 1}" for k in range(len(routing.routes))],
            "vehicle_id": [vehicle_ids[r.vehicle] for r in routing.routes],
            "vehicle_type": [vehicles[r.vehicle].type_name for r in routing.routes],
            "stops": [">".join(str(station_ids[s - 1]) for s in r.stops) for r in routing.routes],
            "n_stops": [len(r.stops) for r in routing.routes],
            "load_parcels": [r.load for r in routing.routes],
            "route_km": [round(r.distance_km, 3) for r in routing.routes],
            "route_min": [round(r.duration_min, 2) for r in routing.routes],
            "cost": [round(r.cost, 2) for r in routing.routes],
        },
        geometry=gpd.GeoSeries(lines, crs=crs) if lines else gpd.GeoSeries([], crs=crs),
        crs=crs,
    )
    routes.insert(3, "tier", "last_mile" if tiers is not None else "direct")
    fixed_cost = sum(vehicles[r.vehicle].fixed_cost_per_day for r in routing.routes)
    opening_cost = len(open_sites) * config.placement.opening_cost_per_day
    depots = data.depots.iloc[:1].reset_index(drop=True)
    if tiers is not None:
        trunk = gpd.GeoDataFrame(
            [
                {
                    "route_id": row["route_id"],
                    "vehicle_id": vehicle_ids[row["vehicle_index"]],
                    "vehicle_type": row["vehicle_type"],
                    "tier": "trunk",
                    **{k: row[k] for k in routes.columns if k in row and k != "route_id"},
                }
                for row in tiers.trunk
            ],
            columns=[c for c in routes.columns if c != "geometry"],
            geometry=gpd.GeoSeries(trunk_lines(prepared, tiers), crs=crs),
            crs=crs,
        )
        routes = gpd.GeoDataFrame(pd.concat([trunk, routes], ignore_index=True), crs=crs)
        fixed_cost += sum(vehicles[row["vehicle_index"]].fixed_cost_per_day for row in tiers.trunk)
        opening_cost += tiers.solution.opening_cost
        depots = data.depots.iloc[[0, *tiers.hub_rows]].reset_index(drop=True)
        depots.insert(1, "role", ["dc", *(["hub"] * len(tiers.hub_rows))])
    routes["distance_basis"] = str(network_summary(config, prepared.network)["distance_basis"])
    warnings = list(prepared.warnings) + list(routing.notes)
    warnings.extend(last_metre_notes(config, prepared, open_sites, station_ids, at_depot))
    reasons = routing.unserved_reasons or ("",) * len(routing.unserved)
    diagnosis = [
        {"station_id": str(station_ids[s - 1]), "unserved_parcels": int(p), "reason": why}
        for (s, p), why in zip(routing.unserved, reasons, strict=True)
    ]
    if routing.unserved:
        detail = [f"{station_ids[s - 1]} ({p} parcels)" for s, p in routing.unserved]
        warnings.append(
            f"{len(routing.unserved)} station(s) not fully served by the fleet: "
            f"{ids_text(np.array(detail))} (add vehicles or raise capacity)"
        )
        warnings.extend(
            f"unserved station {d['station_id']}: {d['reason']}"
            for d in diagnosis[:12] if d["reason"]
        )
    status, status_detail = run_status(
        placement_status=placement.status,
        placement_gap=placement.gap,
        placement_bound=placement.bound,
        time_limit_s=config.solver.time_limit_s,
        n_unserved=len(routing.unserved),
        n_proven_unserved=sum(is_proven(why) for why in reasons),
    )
    summary = summarize(
        region=config.region.name,
        scenario=config.scenario,
        villages=pd.DataFrame(villages.drop(columns="geometry")),
        stations=pd.DataFrame(stations.drop(columns="geometry")),
        routes=pd.DataFrame(routes.drop(columns="geometry")),
        radius_km=config.placement.radius_km,
        unserved_village_ids=unserved_villages,
    )
    summary.update(
        {
            "status": status,
            "status_detail": status_detail,
            "diagnosis": diagnosis,
            "crs": crs,
            "seed": config.solver.seed,
            "time_limit_s": config.solver.time_limit_s,
            "placement": {
                "method": config.placement.method,
                "objective": config.placement.objective,
                "weight": config.placement.weight,
                "status": placement.status,
                "objective_value": round(placement.objective, 4),
                "bound": round(placement.bound, 4),
                "gap": round(placement.gap, 6),
                "model_sense": placement.sense,
                "solve_seconds": round(placement.solve_seconds, 2),
                "uncovered_villages": [
                    str(data.villages["village_id"].iloc[int(i)]) for i in placement.uncovered
                ],
            },
            "routing": {
                "status": routing.status,
                "engine": routing.engine,
                "unserved_penalty": round(routing.unserved_penalty, 2),
                "solve_seconds": round(routing.solve_seconds, 2),
                "notes": list(routing.notes),
            },
            "cost": cost_split(
                opening=opening_cost,
                vehicles_fixed=fixed_cost,
                routes_cost=float(routes["cost"].sum()) if len(routes) else 0.0,
            ),
            "network": network_summary(config, prepared.network),
            "stations_at_depot": [str(x) for x in station_ids[at_depot]],
            "offroad_legs": offroad_legs(config, prepared, open_sites, station_ids),
            "warnings": warnings,
            "solve_seconds": round(solve_seconds, 2),
        }
    )
    if location_routing is not None:
        summary["location_routing"] = _lrp_summary(location_routing)
    if tiers is not None:
        summary["two_echelon"] = {
            "hubs_open": list(tiers.hub_ids),
            "hub_stations": {
                hub: [str(station_ids[k]) for k in ks] for hub, ks in tiers.hub_stations.items()
            },
            "trunk_routes": len(tiers.trunk),
            "last_mile_routes": len(routing.routes),
            "trunk_km": round(tiers.solution.trunk_km, 3),
            "last_mile_km": round(tiers.solution.last_mile_km, 3),
        }
    return Plan(
        region=config.region.name,
        scenario=config.scenario,
        crs=crs,
        villages=villages,
        stations=stations,
        depots=depots,
        routes=routes,
        townships=data.townships,
        summary=summary,
        warnings=tuple(warnings),
        radius_km=config.placement.radius_km,
    )


def plan_region(config: RegionConfig, *, progress: Progress = silent) -> Plan:
    """Run the whole pipeline for one region and scenario.

    Parameters
    ----------
    config
        Validated region config.
    progress
        Stage reporter (see :data:`Progress`).

    Returns
    -------
    Plan
    """
    start = time.perf_counter()
    prepared = prepare_region(config, progress=progress)
    request = check_request(config, prepared)
    if request.problems:
        raise InfeasibleError(request.problems)
    assert request.rules is not None
    method = config.placement.method
    what = (
        f"placing {config.placement.stations} stations"
        if method in ("p_median", "max_coverage")
        else "placing stations"
    )
    with progress(f"{what} ({METHOD_TEXT[method]})"):
        placement = place_stations(config, prepared, request.rules)
    tiers = None
    lrp = None
    if config.hubs is not None:
        with progress(f"opening hubs, routing both tiers (up to {config.solver.time_limit_s:g} s)"):
            routing, loads, tiers = route_two_echelon(config, prepared, placement)
    elif method == "location_routing":
        limit = config.solver.time_limit_s
        with progress(
            f"location-routing: routing the fixed-charge stations, searching station sets, "
            f"routing the best (about {3 * limit:g} s)"
        ):
            lrp, depot_ids = locate_and_route(config, prepared, placement, request.rules)
        best = lrp.best
        if lrp.chosen == "joint":
            placement = station_plan_placement(best, bound=placement.bound)
        routing = _station_numbering(best.routing, len(depot_ids), depot_ids, prepared)
        loads = best.loads
    else:
        with progress(f"routing vehicles (up to {config.solver.time_limit_s:g} s)"):
            routing, loads = route_vehicles(config, prepared, placement)
    with progress("assembling the plan"):
        return build_plan(
            config,
            prepared,
            placement,
            routing,
            loads,
            solve_seconds=time.perf_counter() - start,
            tiers=tiers,
            location_routing=lrp,
        )
