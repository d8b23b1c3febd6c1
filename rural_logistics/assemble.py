"""Plan assembly: the prepared region and a delivery → layers and the typed summary.

One builder per layer (:func:`villages_layer`, :func:`stations_layer` with
:func:`with_served_flags`, :func:`route_layers` for the vehicle days, trips and stops,
:func:`depots_layer`), then the cost split (:func:`plan_cost`),
the unserved stations (:func:`diagnosis`) and :func:`summary`. Whatever the delivery
mode, everything is read from the :class:`~rural_logistics.delivery.Delivery` and its
tiers, in the routing package's node numbering; route geometry comes from
:func:`rural_logistics.network.path_lines`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from rural_logistics import network as net
from rural_logistics.config import RegionConfig
from rural_logistics.delivery import Delivery
from rural_logistics.desire_lines import desire_lines_layer
from rural_logistics.last_metres import last_metre_notes, offroad_legs
from rural_logistics.metrics import run_status, summarize
from rural_logistics.network_setup import network_summary
from rural_logistics.plan import CostSplit, Plan
from rural_logistics.produce import (
    produce_section,
    produce_service,
    trip_peak_kg,
    with_produce_columns,
)
from rural_logistics.region import PreparedRegion
from rural_logistics.routing.diagnose import PRICED_OUT, is_proven
from rural_logistics.routing.evaluate import route_schedule
from rural_logistics.summary import DeliveryBoundSection, DiagnosisRow, Summary
from rural_logistics.text import ids_text

#: Unserved stations whose reason is repeated as a warning (all are in ``diagnosis``).
REASONS_IN_WARNINGS = 12


@dataclass(frozen=True)
class StationService:
    """What the routes deliver to each open station (over every tier and day).

    Attributes
    ----------
    delivered
        Parcels delivered per open station.
    visits
        Vehicle stops per open station.
    unserved
        Open-station positions not (fully) served.
    """

    delivered: np.ndarray
    visits: np.ndarray
    unserved: frozenset[int]


def station_service(delivery: Delivery) -> StationService:
    """Parcels delivered and stops made at each open station, and which are unserved
    (a station served at the depot gets its load, rounded up, without a stop)."""
    n = len(delivery.loads.open_sites)
    delivered = np.zeros(n)
    visits = np.zeros(n, dtype=int)
    unserved: set[int] = set()
    for tier in delivery.station_tiers:
        for route in tier.result.routes:
            for stop, amount in zip(route.stops, route.loads, strict=True):
                delivered[tier.station_of(stop)] += amount
                visits[tier.station_of(stop)] += 1
        unserved.update(tier.station_of(node) for node, _ in tier.result.unserved)
    at_depot = delivery.at_depot
    if delivery.days > 1:
        # A mean day over a horizon of days; a station that got all its parcels over the
        # horizon (visits bring what arrived since the last one) counts its load rounded
        # up, as on a one-day plan.
        full = delivered >= delivery.loads.parcels_per_day * delivery.days - 1e-6
        delivered = delivered / delivery.days
        delivered = np.where(full, np.maximum(delivered,
                                              np.ceil(delivery.loads.parcels_per_day)),
                             delivered)
    delivered = np.where(at_depot, np.ceil(delivery.loads.parcels_per_day), delivered)
    return StationService(delivered, visits, frozenset(unserved))


def assemble_plan(
    config: RegionConfig,
    prepared: PreparedRegion,
    delivery: Delivery,
    *,
    check_warnings: Sequence[str] = (),
    solve_seconds: float,
) -> Plan:
    """The plan: layers from the region and the delivery, and the summary
    (``check_warnings``: what the check pass warned about)."""
    service = station_service(delivery)
    rows = diagnosis(delivery)
    villages = villages_layer(config, prepared, delivery)
    stations = stations_layer(prepared, delivery, service)
    villages, stations = with_served_flags(villages, stations, service, rows)
    produce = produce_service(config, delivery)
    stations = with_produce_columns(stations, produce)
    layers = route_layers(config, prepared, delivery)
    warnings = plan_warnings(config, prepared, delivery, rows, check_warnings=check_warnings)
    plan_summary = summary(
        config, prepared, delivery,
        villages=villages, stations=stations, routes=layers.vehicle_days, service=service,
        diagnosis_rows=rows, warnings=warnings, solve_seconds=solve_seconds,
    )
    open_ids = prepared.data.sites["site_id"].to_numpy()[delivery.loads.open_sites]
    section = produce_section(config, delivery, produce, open_ids)
    plan_summary["produce_collected_kg_per_day"] = section["collected_kg_per_day"]
    plan_summary["produce_left_behind_kg_per_day"] = section["left_behind_kg_per_day"]
    plan_summary["produce"] = section
    return Plan(
        region=config.region.name,
        scenario=config.scenario,
        crs=prepared.data.crs,
        villages=villages,
        stations=stations,
        depots=depots_layer(prepared, delivery),
        routes=layers.routes,
        townships=prepared.data.townships,
        summary=plan_summary,
        warnings=tuple(warnings),
        radius_km=config.placement.radius_km,
        vehicle_days=layers.vehicle_days,
        stops=layers.stops,
        desire_lines=desire_lines_layer(prepared, villages),
    )


def _positions(delivery: Delivery) -> np.ndarray:
    """Open-station position of each village's assigned site."""
    open_sites = delivery.loads.open_sites
    position = np.full(int(open_sites.max(initial=-1)) + 1, -1, dtype=np.int64)
    position[open_sites] = np.arange(len(open_sites))
    return position[np.asarray(delivery.placement.assignment, dtype=np.int64)]


def villages_layer(
    config: RegionConfig, prepared: PreparedRegion, delivery: Delivery
) -> gpd.GeoDataFrame:
    """Villages with demand, their station and access."""
    data = prepared.data
    assigned_site = np.asarray(delivery.placement.assignment, dtype=np.int64)
    rows = np.arange(len(data.villages))
    access_km = prepared.access.distance_km[rows, assigned_site]
    access_min = prepared.access.time_min[rows, assigned_site]
    station_ids = data.sites["site_id"].to_numpy()
    return gpd.GeoDataFrame(
        {
            "village_id": data.villages["village_id"].to_numpy(),
            "name": data.villages["name"].to_numpy(),
            "township": data.villages["township"].to_numpy(),
            "population": data.villages["population"].to_numpy(),
            "parcels_per_day": np.round(
                prepared.demand.parcels_per_day * delivery.demand_factor, 2
            ),
            "produce_kg_per_day": np.round(prepared.demand.produce_kg_per_day, 1),
            "station_id": [station_ids[s] for s in assigned_site],
            "access_km": np.round(access_km, 3),
            "access_min": np.round(access_min, 2),
            "within_radius": access_km <= config.placement.radius_km,
            "road_distance_m": np.round(prepared.villages.offroad_m, 1),
        },
        geometry=data.villages.geometry.to_numpy(),
        crs=data.crs,
    )


def stations_layer(
    prepared: PreparedRegion, delivery: Delivery, service: StationService
) -> gpd.GeoDataFrame:
    """Open stations with their villages, load, visits and parcels delivered."""
    sites = prepared.data.sites
    open_sites = delivery.loads.open_sites
    station_ids = sites["site_id"].to_numpy()[open_sites]
    position = _positions(delivery)
    n = len(open_sites)
    population = prepared.data.villages["population"].to_numpy(dtype=float)
    return gpd.GeoDataFrame(
        {
            "station_id": station_ids,
            "site_id": station_ids,
            "name": sites["name"].to_numpy()[open_sites],
            "township": sites["township"].to_numpy()[open_sites],
            "existing": sites["existing"].to_numpy(dtype=bool)[open_sites],
            "villages": np.bincount(position, minlength=n),
            "population": np.bincount(position, weights=population, minlength=n)
            .round().astype(int),
            "parcels_per_day": np.round(delivery.loads.parcels_per_day, 2),
            "produce_kg_per_day": np.round(delivery.loads.produce_kg_per_day, 1),
            "visits": service.visits,
            "delivered_parcels_per_day": service.delivered.astype(int),
            "served_by": np.where(delivery.at_depot, "depot", "vehicle"),
            "road_distance_m": np.round(prepared.sites.offroad_m[open_sites], 1),
        },
        geometry=sites.geometry.to_numpy()[open_sites],
        crs=prepared.data.crs,
    )


def with_served_flags(
    villages: gpd.GeoDataFrame,
    stations: gpd.GeoDataFrame,
    service: StationService,
    rows: list[DiagnosisRow],
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """``served`` and ``unserved_reason`` on villages and stations (and
    ``unserved_parcels`` on stations): a station is served when the routes bring all its
    parcels (and collect its produce); a village when its station is served."""
    station_ids = stations["station_id"].astype(str).to_numpy()
    served = np.array([k not in service.unserved for k in range(len(stations))], dtype=bool)
    reasons: dict[str, list[str]] = {}
    missing: dict[str, int] = {}
    for r in rows:
        sid = str(r["station_id"])
        reasons.setdefault(sid, []).append(r["reason"] or "not served by the routes found")
        missing[sid] = missing.get(sid, 0) + int(r["unserved_parcels"])
    stations = stations.copy()
    geometry = stations.pop("geometry")
    stations["served"] = served
    stations["unserved_parcels"] = [missing.get(sid, 0) for sid in station_ids]
    stations["unserved_reason"] = [
        "" if ok else "; ".join(dict.fromkeys(reasons.get(sid, ["not fully served"])))
        for sid, ok in zip(station_ids, served, strict=True)
    ]
    stations["geometry"] = geometry
    stations = gpd.GeoDataFrame(stations, geometry="geometry", crs=geometry.crs)
    by_station = dict(zip(station_ids, zip(served, stations["unserved_reason"], strict=True),
                          strict=True))
    village_served, village_reason = [], []
    for sid in villages["station_id"]:
        if sid is None or (isinstance(sid, float) and np.isnan(sid)):
            village_served.append(False)
            village_reason.append("no station assigned")
            continue
        ok, why = by_station.get(str(sid), (False, "its station is not open"))
        village_served.append(bool(ok))
        village_reason.append("" if ok else f"station {sid} not served: {why}")
    villages = villages.copy()
    geometry = villages.pop("geometry")
    villages["served"] = village_served
    villages["unserved_reason"] = village_reason
    villages["geometry"] = geometry
    villages = gpd.GeoDataFrame(villages, geometry="geometry", crs=geometry.crs)
    return villages, stations


#: Columns of the vehicle-day layer (then the geometry and ``distance_basis``): one row
#: per vehicle and day, all its trips (``stops``: the trips' stations with the depot
#: between them, as driven).
VEHICLE_DAY_COLUMNS = (
    "route_id", "vehicle_id", "vehicle_type", "tier", "day", "depot_id", "n_trips", "stops",
    "n_stops", "load_parcels", "produce_kg", "start_min", "end_min", "start", "end",
    "route_km", "route_min", "cost",
)

#: Columns of the routes layer: one row per trip (then the geometry and
#: ``distance_basis``). A vehicle's ``cost`` carries its fixed cost on its first trip.
ROUTE_COLUMNS = (
    "route_id", "trip", "vehicle_id", "vehicle_type", "tier", "day", "depot_id", "stops",
    "n_stops", "load_parcels", "produce_kg", "capacity_parcels", "start_min", "end_min",
    "start", "end", "route_km", "route_min", "cost",
    "peak_load_kg", "capacity_kg",
)

#: Columns of the stops layer (then the Point geometry): every stop of every trip, with
#: the departure from and return to the depot, in driving order.
STOP_COLUMNS = (
    "route_id", "trip", "sequence", "vehicle_id", "tier", "day", "kind", "stop_id",
    "stop_name", "arrival_min", "start_min", "departure_min", "arrival", "departure",
    "wait_min", "parcels_delivered", "produce_kg_collected", "parcels_on_board",
    "produce_kg_on_board", "load_kg_on_board",
)


def clock(minutes: float) -> str:
    """``HH:MM`` of minutes from midnight (``+1d`` past midnight)."""
    whole = round(minutes)
    day, rest = divmod(whole, 24 * 60)
    text = f"{rest // 60:02d}:{rest % 60:02d}"
    return text if day == 0 else f"{text}+{day}d"


@dataclass(frozen=True)
class RouteLayers:
    """The route layers of a plan, built together from the same schedules."""

    vehicle_days: gpd.GeoDataFrame
    routes: gpd.GeoDataFrame
    stops: gpd.GeoDataFrame


def route_layers(
    config: RegionConfig, prepared: PreparedRegion, delivery: Delivery
) -> RouteLayers:
    """Every route of every tier (trunk first) as vehicle days, trips and stops.

    Times come from :func:`rural_logistics.routing.route_schedule` (the checked schedule
    of each route), geometry from the road graph (straight lines without road data).
    """
    days: list[dict[str, object]] = []
    trips: list[dict[str, object]] = []
    stops: list[dict[str, object]] = []
    day_paths: list[list[int]] = []
    trip_paths: list[list[int]] = []
    stop_points: list[object] = []
    points = _stop_points(prepared)
    names = _stop_names(prepared)
    for tier in delivery.tiers:
        problem = tier.problem
        dist = np.asarray(problem.distance_km, dtype=float)
        for k, route in enumerate(tier.result.routes):
            vehicle = tier.vehicle(route)
            route_id = f"{tier.route_prefix}{k + 1}"
            depot_id = tier.node_ids[route.depot]
            schedule = route_schedule(problem, route)
            common = {"route_id": route_id, "vehicle_id": tier.vehicle_ids[route.vehicle],
                      "vehicle_type": vehicle.type_name, "tier": tier.tier, "day": tier.day,
                      "depot_id": depot_id}
            pickups = route.pickups_kg or tuple(0.0 for _ in route.stops)
            position = 0
            at = 0  # index into the schedule: the depot the trip leaves from
            for t, trip in enumerate(route.trip_stops):
                loads = route.loads[position: position + len(trip)]
                ups = pickups[position: position + len(trip)]
                position += len(trip)
                times = schedule[at: at + len(trip) + 2]
                at += len(trip) + 1
                path = [route.depot, *trip, route.depot]
                km = float(sum(dist[a, b] for a, b in itertools.pairwise(path)))
                trip_cost = vehicle.cost_per_km * km + (
                    vehicle.fixed_cost_per_day if t == 0 else 0.0)
                trips.append({
                    **common, "trip": t + 1, "stops": ">".join(tier.node_ids[s] for s in trip),
                    "n_stops": len(trip), "load_parcels": int(sum(loads)),
                    "produce_kg": round(float(sum(ups)), 1),
                    "capacity_parcels": vehicle.capacity_parcels,
                    "start_min": round(times[0].departure_min, 2),
                    "end_min": round(times[-1].arrival_min, 2),
                    "start": clock(times[0].departure_min), "end": clock(times[-1].arrival_min),
                    "route_km": round(km, 3),
                    "route_min": round(times[-1].arrival_min - times[0].departure_min, 2),
                    "cost": round(trip_cost, 2),
                    "peak_load_kg": round(trip_peak_kg(problem.parcel_kg, loads, ups), 1),
                    "capacity_kg": vehicle.capacity_kg,
                })
                trip_paths.append([int(tier.graph_nodes[n]) for n in path])
                on_board, produce = int(sum(loads)), 0.0
                kinds = ["depart", *(["hub" if not tier.serves_stations else "station"]
                                     * len(trip)), "return"]
                amounts = [(0, 0.0), *zip(loads, ups, strict=True), (0, 0.0)]
                for seq, (node_time, kind, (parcels, up)) in enumerate(
                        zip(times, kinds, amounts, strict=True)):
                    on_board -= int(parcels)
                    produce += float(up)
                    stop_id = tier.node_ids[node_time.node]
                    kind_key = "station" if kind == "station" else "depot"
                    stops.append({
                        **{c: common[c] for c in ("route_id", "vehicle_id", "tier", "day")},
                        "trip": t + 1, "sequence": seq, "kind": kind, "stop_id": stop_id,
                        "stop_name": names[kind_key].get(stop_id, ""),
                        "arrival_min": round(node_time.arrival_min, 2),
                        "start_min": round(node_time.start_min, 2),
                        "departure_min": round(node_time.departure_min, 2),
                        "arrival": clock(node_time.arrival_min),
                        "departure": clock(node_time.departure_min),
                        "wait_min": round(node_time.start_min - node_time.arrival_min, 2),
                        "parcels_delivered": int(parcels),
                        "produce_kg_collected": round(float(up), 1),
                        "parcels_on_board": on_board if kind != "return" else 0,
                        "produce_kg_on_board": round(produce, 1),
                        "load_kg_on_board": round(
                            (on_board if kind != "return" else 0) * problem.parcel_kg
                            + produce, 1),
                    })
                    stop_points.append(points[kind_key].get(stop_id))
            driven = [s for trip in route.trip_stops for s in (*trip, route.depot)][:-1]
            days.append({
                **common, "n_trips": len(route.trip_stops),
                "stops": ">".join(tier.node_ids[s] for s in driven),
                "n_stops": len(route.stops), "load_parcels": route.load,
                "produce_kg": round(float(sum(pickups)), 1),
                "start_min": round(schedule[0].departure_min, 2),
                "end_min": round(schedule[-1].arrival_min, 2),
                "start": clock(schedule[0].departure_min), "end": clock(schedule[-1].arrival_min),
                "route_km": round(route.distance_km, 3),
                "route_min": round(route.duration_min, 2),
                "cost": round(route.cost, 2),
            })
            day_paths.append([int(tier.graph_nodes[n]) for n in route.path])
    crs = prepared.data.crs
    basis = str(network_summary(config, prepared.network)["distance_basis"])
    return RouteLayers(
        vehicle_days=_line_layer(prepared, days, day_paths, VEHICLE_DAY_COLUMNS, basis),
        routes=_line_layer(prepared, trips, trip_paths, ROUTE_COLUMNS, basis),
        stops=gpd.GeoDataFrame(
            pd.DataFrame(stops, columns=list(STOP_COLUMNS)),
            geometry=gpd.GeoSeries(stop_points, crs=crs), crs=crs,
        ),
    )


def _line_layer(
    prepared: PreparedRegion,
    rows: list[dict[str, object]],
    paths: list[list[int]],
    columns: tuple[str, ...],
    basis: str,
) -> gpd.GeoDataFrame:
    crs = prepared.data.crs
    lines = net.path_lines(prepared.network, paths) if paths else []
    layer = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=list(columns)),
        geometry=gpd.GeoSeries(lines, crs=crs) if lines else gpd.GeoSeries([], crs=crs),
        crs=crs,
    )
    layer["distance_basis"] = basis
    return layer


def _stop_points(prepared: PreparedRegion) -> dict[str, dict[str, object]]:
    """Point of every station (site) id and every depot (DC, hub) id."""
    data = prepared.data
    return {
        "station": dict(zip(data.sites["site_id"].astype(str), data.sites.geometry, strict=True)),
        "depot": dict(zip(data.depots["depot_id"].astype(str), data.depots.geometry,
                          strict=True)),
    }


def _stop_names(prepared: PreparedRegion) -> dict[str, dict[str, str]]:
    data = prepared.data
    depot_names = (data.depots["name"].astype(str) if "name" in data.depots.columns
                   else data.depots["depot_id"].astype(str))
    return {
        "station": dict(zip(data.sites["site_id"].astype(str), data.sites["name"].astype(str),
                            strict=True)),
        "depot": dict(zip(data.depots["depot_id"].astype(str), depot_names, strict=True)),
    }


def depots_layer(prepared: PreparedRegion, delivery: Delivery) -> gpd.GeoDataFrame:
    """The distribution centre, the hubs a two-tier delivery opened, and every other depot
    a route starts from (vehicles at their own depots, e.g. carriers'), with ``role``
    (``dc``, ``hub``, ``depot``) when there is more than the centre."""
    depots = prepared.data.depots
    hubs = list(delivery.hub_rows or ())
    used = (tier.depot_rows[r.depot] for tier in delivery.tiers for r in tier.result.routes)
    others = sorted({int(row) for row in used} - {0, *hubs})
    if delivery.hub_rows is None and not others:
        return depots.iloc[:1].reset_index(drop=True)
    layer = depots.iloc[[0, *hubs, *others]].reset_index(drop=True)
    layer.insert(1, "role", ["dc", *(["hub"] * len(hubs)), *(["depot"] * len(others))])
    return layer


def plan_cost(config: RegionConfig, delivery: Delivery, routes: pd.DataFrame) -> CostSplit:
    """Opening (stations and hubs), vehicles' fixed and travel cost per day; travel is
    the routes layer's cost (rounded per route, as written) less the fixed part."""
    fixed = 0.0
    for tier in (*delivery.station_tiers,
                 *(t for t in delivery.tiers if not t.serves_stations)):
        fixed += sum(tier.vehicle(r).fixed_cost_per_day for r in tier.result.routes)
    opening = (
        len(delivery.loads.open_sites) * config.placement.opening_cost_per_day
        + delivery.hub_opening_per_day
    )
    routes_cost = float(routes["cost"].sum()) if len(routes) else 0.0
    days = delivery.days  # a horizon of days: the mean day
    return CostSplit(opening=opening, fixed_vehicle=fixed / days,
                     travel=(routes_cost - fixed) / days)


def diagnosis(delivery: Delivery) -> list[DiagnosisRow]:
    """Every unserved station with its parcels and why."""
    rows: list[DiagnosisRow] = []
    for tier in delivery.station_tiers:
        result = tier.result
        reasons = result.unserved_reasons or ("",) * len(result.unserved)
        rows.extend(
            {"station_id": tier.node_ids[node], "unserved_parcels": int(p), "reason": why}
            for (node, p), why in zip(result.unserved, reasons, strict=True)
        )
    return rows


def bound_section(
    delivery: Delivery, *, priced_out_parcels: float = 0.0
) -> DeliveryBoundSection | None:
    """The routed tier's delivery bounds and how close its routes come (one-tier, one-day
    plans: the bound is per routing problem); ``priced_out_parcels``: unserved parcels of
    stations left out at a penalty of their own, which are no heuristic miss."""
    tiers = delivery.station_tiers
    if len(tiers) != 1 or tiers[0].result.bound is None:
        return None
    bound = tiers[0].result.bound
    delivered = int(sum(r.load for r in tiers[0].result.routes))
    limit = bound.bound_parcels
    return {
        "demand_parcels_per_day": bound.demand_parcels,
        "bound_parcels_per_day": round(limit, 1),
        "binding": bound.binding,
        "proven_shortfall_parcels_per_day": round(bound.proven_shortfall, 1),
        "delivered_parcels_per_day": delivered,
        "delivered_share_of_bound": round(delivered / limit, 4) if limit > 0 else 1.0,
        "heuristic_gap_parcels_per_day": round(
            max(0.0, limit - delivered - priced_out_parcels), 1),
        "priced_out_parcels_per_day": round(float(priced_out_parcels), 1),
        "fleet_capacity": round(bound.bounds["fleet_capacity"], 1),
        "reach": round(bound.bounds["reach"], 1),
        "able_capacity": round(bound.bounds["able_capacity"], 1),
        "shift_time": round(bound.bounds["shift_time"], 1),
        "lift": bound.lift,
    }


def bound_text(bound: DeliveryBoundSection | None) -> str:
    """The delivery bound as the start of the status detail: the proven shortfall and
    the heuristic's distance from the bound, each labelled as what it is (parcels of
    stations priced out at their own penalty are not a heuristic miss)."""
    if bound is None:
        return ""
    limit = bound["bound_parcels_per_day"]
    demand = bound["demand_parcels_per_day"]
    if bound["binding"]:
        text = (
            f"proven: at most {limit:,.0f} of {demand:,} parcels/day can be delivered "
            f"(binding bound: {bound['binding'].replace('_', ' ')}; {bound['lift']})"
        )
    else:
        text = f"no shortfall is proven (the bounds allow all {demand:,} parcels/day)"
    gap = bound["heuristic_gap_parcels_per_day"]
    text += (
        f"; the routes deliver {bound['delivered_parcels_per_day']:,} "
        f"({bound['delivered_share_of_bound']:.1%} of the bound)"
    )
    priced_out = bound.get("priced_out_parcels_per_day", 0.0)
    if priced_out >= 1:
        text += (f"; {priced_out:,.0f} parcels/day are left out at the stations' own "
                 "unserved penalties (priced out)")
    if gap >= 1:
        text += f"; {gap:,.0f} parcels/day below the bound are a heuristic miss (not proven)"
    return text


def plan_warnings(
    config: RegionConfig,
    prepared: PreparedRegion,
    delivery: Delivery,
    rows: list[DiagnosisRow],
    *,
    check_warnings: Sequence[str] = (),
) -> list[str]:
    """The region's and the check pass's warnings, the routing notes, the last metres
    (stations at the depot or far from a road), and the unserved stations."""
    notes = [n for t in delivery.station_tiers for n in t.result.notes]
    notes += [n for t in delivery.tiers if not t.serves_stations for n in t.result.notes]
    warnings = [*prepared.warnings, *check_warnings, *notes]
    open_sites = delivery.loads.open_sites
    station_ids = prepared.data.sites["site_id"].to_numpy()[open_sites]
    warnings += last_metre_notes(config, prepared, open_sites, station_ids, delivery.at_depot)
    if rows:
        detail = [f"{r['station_id']} ({r['unserved_parcels']} parcels)" for r in rows]
        priced = all((r["reason"] or "").startswith(PRICED_OUT) for r in rows)
        warnings.append(
            f"{len(rows)} station(s) not fully served by the fleet: {ids_text(detail)} "
            + ("(priced out at their own unserved penalty)" if priced
               else "(add vehicles or raise capacity)")
        )
        warnings.extend(
            f"unserved station {r['station_id']}: {r['reason']}"
            for r in rows[:REASONS_IN_WARNINGS] if r["reason"]
        )
    return warnings


def summary(
    config: RegionConfig,
    prepared: PreparedRegion,
    delivery: Delivery,
    *,
    villages: gpd.GeoDataFrame,
    stations: gpd.GeoDataFrame,
    routes: gpd.GeoDataFrame,
    service: StationService,
    diagnosis_rows: list[DiagnosisRow],
    warnings: list[str],
    solve_seconds: float,
) -> Summary:
    """``summary.json``: key figures, status, the stages and the cost split."""
    placement = delivery.placement
    routing = delivery.routing
    unserved_villages = [
        str(vid) for vid, pos in zip(villages["village_id"], _positions(delivery), strict=True)
        if int(pos) in service.unserved
    ]
    priced_out = [r for r in diagnosis_rows if (r["reason"] or "").startswith(PRICED_OUT)]
    bound = bound_section(
        delivery, priced_out_parcels=sum(r["unserved_parcels"] for r in priced_out))
    status, status_detail = run_status(
        placement_status=placement.status,
        placement_gap=placement.gap,
        placement_bound=placement.bound,
        time_limit_s=config.solver.time_limit_s,
        n_unserved=len(diagnosis_rows),
        n_proven_unserved=sum(is_proven(r["reason"]) for r in diagnosis_rows),
        bound_text=bound_text(bound),
        n_priced_out=len(priced_out),
    )
    cost = plan_cost(config, delivery, routes)
    figures = summarize(
        region=config.region.name,
        scenario=config.scenario,
        villages=pd.DataFrame(villages.drop(columns="geometry")),
        stations=pd.DataFrame(stations.drop(columns="geometry")),
        routes=pd.DataFrame(routes.drop(columns="geometry")),
        radius_km=config.placement.radius_km,
        unserved_village_ids=unserved_villages,
        opening_cost_per_day=cost.opening,
        days=delivery.days,
    )
    village_ids = prepared.village_ids
    open_sites = delivery.loads.open_sites
    station_ids = prepared.data.sites["site_id"].to_numpy()[open_sites]
    out: Summary = {
        **figures,
        "status": status,
        "status_detail": status_detail,
        # A plan that leaves parcels undelivered is not comparable on cost with one
        # that delivers everything (its cost per parcel looks cheaper than it is).
        "comparable": not diagnosis_rows and figures["delivered_share"] >= 1.0 - 1e-4,
        "diagnosis": diagnosis_rows,
        "crs": prepared.data.crs,
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
            "uncovered_villages": [village_ids[int(i)] for i in placement.uncovered],
            "formulation": placement.formulation,
        },
        "routing": {
            "status": routing.status,
            "engine": routing.engine,
            "unserved_penalty": round(routing.unserved_penalty, 2),
            "solve_seconds": round(routing.solve_seconds, 2),
            "notes": list(routing.notes),
        },
        "cost": cost.as_dict(),
        "network": network_summary(config, prepared.network),
        "stations_at_depot": [str(x) for x in station_ids[delivery.at_depot]],
        "offroad_legs": offroad_legs(config, prepared, open_sites, station_ids),
        "warnings": warnings,
        "solve_seconds": round(solve_seconds, 2),
    }
    if bound is not None:
        out["delivery_bound"] = bound
    sections = delivery.sections
    if "location_routing" in sections:
        out["location_routing"] = sections["location_routing"]
    if "two_echelon" in sections:
        out["two_echelon"] = sections["two_echelon"]
    if "peak" in sections:
        out["peak"] = sections["peak"]
    if "frequency" in sections:
        out["frequency"] = sections["frequency"]
    return out
