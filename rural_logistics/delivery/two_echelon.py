"""Two-echelon delivery: open township hubs, trucks DC → hubs, last-mile vehicles →
stations.

The config's ``hubs`` section names candidate hubs (rows of the depots file, each with a
daily cost and a capacity) and two fleet types: trunk vehicles run from the county
distribution centre (DC) to the open hubs, last-mile vehicles from the open hubs (and the
DC, when ``dc_serves_stations``) to the stations. The solver
(:func:`rural_logistics.lrp.two_echelon.solve_two_echelon`) sees road distances and
parcels only; this module builds its arrays and turns its answer into two
:class:`~rural_logistics.delivery.base.RoutedTier` objects whose routes are checked and
measured by the routing evaluator (:func:`rural_logistics.routing.evaluate.evaluate`),
like every other mode's.

Keys the two-echelon stage honours and ignores (the check pass says so, nothing is
dropped silently): the last-mile type's ``capacity_parcels``, ``capacity_kg`` (with
``routing.parcel_kg``: the parcels a trip may carry), ``max_route_duration_min`` and
``max_route_distance_km`` (routes are cut to fit), ``service_time_min``,
``speed_factor``, ``shift_start_min`` (the schedule) and ``count`` (routes beyond it are
dropped and their stations diagnosed); the trunk type's capacities, costs and ``count``
likewise, its shift and distance limit checked, not enforced (a warning names a trunk
route that breaks them). Rejected: ``routing.station_hours_min`` and
``routing.pickup_produce`` (no time windows, no produce up the trunk). Warned about:
``max_trips`` above 1 and ``depot`` on the two hub types, other vehicle types (unused)
and ``routing.engine: ortools`` (both tiers are routed with PyVRP).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rural_logistics import network as net
from rural_logistics.config import RegionConfig, VehicleType
from rural_logistics.delivery.base import (
    Delivery,
    DeliveryRequest,
    RoutedTier,
    StationLoads,
    fleet_vehicle_ids,
    loads_of,
)
from rural_logistics.lrp.model import LrpRoute
from rural_logistics.lrp.two_echelon import (
    TierFleet,
    TrunkStop,
    TwoEchelonProblem,
    solve_two_echelon,
)
from rural_logistics.region import PreparedRegion, depot_nodes, depot_row
from rural_logistics.routing.diagnose import NOT_PROVEN
from rural_logistics.routing.evaluate import evaluate
from rural_logistics.routing.model import (
    Route,
    RoutingProblem,
    RoutingResult,
    VehicleSpec,
    expand_fleet,
    split_visits,
)
from rural_logistics.solvers.budget import Budget
from rural_logistics.summary import DeliverySections

#: Routing keys the two-echelon solver cannot honour: a run with them set stops.
REJECTED_ROUTING_KEYS = {
    "station_hours_min": "no station opening hours in the two-echelon stage",
    "pickup_produce": "produce is not carried up the trunk tier",
}


def trip_capacity(vt: VehicleType, parcel_kg: float) -> int:
    """Parcels one trip of ``vt`` may carry: ``capacity_parcels``, and no more than
    ``capacity_kg`` / ``parcel_kg`` when both are set."""
    if vt.capacity_kg is None or parcel_kg <= 0:
        return vt.capacity_parcels
    return max(1, min(vt.capacity_parcels, math.floor(vt.capacity_kg / parcel_kg + 1e-9)))


class TwoEchelonDelivery:
    """Hubs opened and both tiers routed (config section ``hubs``)."""

    name = "two_echelon"

    def config_problems(self, config: RegionConfig) -> list[str]:
        """Routing keys that would be dropped: opening hours and produce pickup."""
        settings = config.routing
        problems = []
        if settings.station_hours_min is not None:
            problems.append(
                "routing.station_hours_min is not supported with hubs: "
                f"{REJECTED_ROUTING_KEYS['station_hours_min']}; remove it or the hubs section"
            )
        if settings.pickup_produce:
            problems.append(
                "routing.pickup_produce is not supported with hubs: "
                f"{REJECTED_ROUTING_KEYS['pickup_produce']}; remove it or the hubs section"
            )
        return problems

    def config_warnings(self, config: RegionConfig) -> list[str]:
        """Keys the stage ignores: other vehicle types, trips, depots, the engine."""
        hubs = config.hubs
        assert hubs is not None
        used = {hubs.trunk_vehicle, hubs.last_mile_vehicle}
        warnings = []
        for k, vt in enumerate(config.fleet.vehicles):
            where = f"fleet.vehicles.{k} ({vt.name})"
            if vt.name not in used:
                warnings.append(
                    f"{where} is not used with hubs: only hubs.trunk_vehicle and "
                    "hubs.last_mile_vehicle run"
                )
                continue
            if vt.max_trips > 1:
                warnings.append(
                    f"{where}: max_trips = {vt.max_trips} is not used with hubs: each "
                    "vehicle runs one route a day"
                )
            if vt.depot is not None:
                warnings.append(
                    f"{where}: depot {vt.depot!r} is not used with hubs: trunk vehicles "
                    "start at the DC, last-mile vehicles at the open hubs"
                )
        trunk = next(v for v in config.fleet.vehicles if v.name == hubs.trunk_vehicle)
        if trunk.max_route_distance_km is not None:
            warnings.append(
                f"hubs.trunk_vehicle ({trunk.name}): max_route_distance_km is checked on the "
                "trunk routes, not enforced; a route over it is named in the warnings"
            )
        if config.routing.engine != "pyvrp":
            warnings.append(
                f"routing.engine: {config.routing.engine} is not used with hubs: both tiers "
                "are routed with PyVRP"
            )
        return warnings

    def stage_text(self, config: RegionConfig, budget: Budget) -> str:
        """Progress line."""
        return f"opening hubs, routing both tiers (up to {budget.left():.0f} s)"

    def deliver(self, request: DeliveryRequest) -> Delivery:
        """Open hubs and route both tiers; routes beyond a type's ``count`` are dropped
        and their stations listed unserved with the reason."""
        return _TwoEchelonRun(request).run()


@dataclass(frozen=True)
class _Network:
    """Nodes of the two-echelon problem: DC, every candidate hub, the open stations."""

    hub_rows: tuple[int, ...]
    graph_nodes: np.ndarray
    distance_km: np.ndarray
    time_min: np.ndarray

    @property
    def n_hubs(self) -> int:
        return len(self.hub_rows)


def _hub_network(
    config: RegionConfig, prepared: PreparedRegion, open_sites: np.ndarray
) -> _Network:
    """Road distances and times between the DC, the candidate hubs and the stations."""
    assert config.hubs is not None
    rows = tuple(depot_row(prepared, c.depot_id) for c in config.hubs.candidates)
    assert 0 not in rows, "hubs.candidates were not checked"
    hub_nodes = np.array(depot_nodes(prepared, rows), dtype=np.int64)
    stops = net.SnappedPoints(
        node=np.concatenate([prepared.depot.node[:1], hub_nodes, prepared.sites.node[open_sites]]),
        offroad_m=np.zeros(1 + len(rows) + len(open_sites)),
        xy=np.vstack([prepared.depot.xy[:1], prepared.network.node_xy[hub_nodes],
                      prepared.sites.xy[open_sites]]),
    )
    travel = net.travel_matrices(
        prepared.network, stops, stops,
        offroad_speed_kph=config.network.offroad_speed_kph, include_offroad=False,
    )
    assert np.isfinite(travel.distance_km).all(), "a hub is not connected to the DC"
    return _Network(rows, stops.node, travel.distance_km, travel.time_min)


class _TwoEchelonRun:
    """One two-echelon stage: arrays in, solver, tiers out."""

    def __init__(self, request: DeliveryRequest) -> None:
        config = request.config
        assert config.hubs is not None
        self.request = request
        self.hubs = config.hubs
        types = {v.name: v for v in config.fleet.vehicles}
        self.trunk_t = types[self.hubs.trunk_vehicle]
        self.lm_t = types[self.hubs.last_mile_vehicle]
        self.fleet = expand_fleet(config.fleet.vehicles)
        self.fleet_ids = fleet_vehicle_ids(self.fleet)
        self.loads: StationLoads = loads_of(request.placement, request.prepared)
        self.net = _hub_network(config, request.prepared, self.loads.open_sites)
        parcel_kg = config.routing.parcel_kg
        # Stations with more parcels than a last-mile trip carries are split into visits.
        whole = np.ceil(self.loads.parcels_per_day - 1e-9).astype(np.int64)
        station, parcels = split_visits(
            np.concatenate([[0], whole]), trip_capacity(self.lm_t, parcel_kg)
        )
        self.chunk_station = (station[1:] - 1).tolist()
        self.chunk_parcels = parcels[1:].tolist()

    # ------------------------------------------------------------------ solve

    def problem(self) -> TwoEchelonProblem:
        """The solver's arrays: DC, hubs, then one customer per visit."""
        h = self.net.n_hubs
        index = np.array(
            [*range(1 + h), *(1 + h + k for k in self.chunk_station)], dtype=np.int64
        )
        trunk_t, lm_t = self.trunk_t, self.lm_t
        parcel_kg = self.request.config.routing.parcel_kg
        return TwoEchelonProblem(
            distance_km=self.net.distance_km[np.ix_(index, index)],
            parcels_per_day=np.array(self.chunk_parcels, dtype=np.int64),
            hub_capacity_parcels=np.array(
                [c.capacity_parcels_per_day for c in self.hubs.candidates]
            ),
            hub_opening_cost=np.array([c.opening_cost_per_day for c in self.hubs.candidates]),
            trunk=TierFleet(trip_capacity(trunk_t, parcel_kg), trunk_t.fixed_cost_per_day,
                            trunk_t.cost_per_km),
            last_mile=TierFleet(
                trip_capacity(lm_t, parcel_kg), lm_t.fixed_cost_per_day, lm_t.cost_per_km,
                max_route_duration_min=lm_t.max_route_duration_min,
                speed_factor=lm_t.speed_factor,
                service_time_min=lm_t.service_time_min,
                max_route_distance_km=lm_t.max_route_distance_km or math.inf,
            ),
            dc_serves_stations=self.hubs.dc_serves_stations,
            time_min=self.net.time_min[np.ix_(index, index)],
            unserved_penalty_per_parcel=self.request.config.routing.unserved_penalty_per_parcel,
        )

    def run(self) -> Delivery:
        start = time.perf_counter()
        config = self.request.config
        sol = solve_two_echelon(
            self.problem(), budget=self.request.budget, seed=config.solver.seed
        )
        lm_count = sum(1 for v in self.fleet if v.type_name == self.lm_t.name)
        trunk_count = sum(1 for v in self.fleet if v.type_name == self.trunk_t.name)
        total = float(np.sum(self.chunk_parcels))
        lost: dict[int, str] = {}  # chunk → why it is unserved
        lm_t = self.lm_t
        limits = f"takes more than its {lm_t.max_route_duration_min:g} min shift"
        if lm_t.max_route_distance_km is not None:
            limits += f" or is longer than its {lm_t.max_route_distance_km:g} km limit"
        for c in sol.unserved:
            lost[c] = (
                f"no vehicle can serve it: {lm_t.name}: every round trip from the open "
                f"hubs{' and the DC' if self.hubs.dc_serves_stations else ''} {limits}"
            )
        kept, dropped = _within_count(list(sol.last_mile_routes), lm_count, self.chunk_parcels)
        for r in dropped:
            for c in r.customers:
                lost[c] = _count_reason(self.lm_t, len(sol.last_mile_routes), lm_count, total)
        trunk_kept, trunk_dropped = _within_count(
            [list(r) for r in sol.trunk_routes], trunk_count, None
        )
        if trunk_dropped:
            why = _count_reason(self.trunk_t, len(sol.trunk_routes), trunk_count, total)
            self._drop_unsupplied(kept, trunk_kept, lost, f"trunk {why}")
        last_mile = self._last_mile_tier(kept, lost, list(sol.notes))
        trunk = self._trunk_tier(trunk_kept)
        seconds = time.perf_counter() - start
        last_mile = replace(last_mile, result=replace(last_mile.result, solve_seconds=seconds))
        open_hubs = tuple(self.net.hub_rows[j] for j in sol.open_hubs)
        return Delivery(
            mode="two_echelon",
            placement=self.request.placement,
            loads=self.loads,
            tiers=(trunk, last_mile),
            hub_rows=open_hubs,
            hub_opening_per_day=sol.opening_cost,
            sections=self._section(sol.open_hubs, trunk, last_mile),
        )

    def _drop_unsupplied(
        self, kept: list[LrpRoute], trunk_kept: list[list[TrunkStop]], lost: dict[int, str],
        why: str,
    ) -> None:
        """Drop the last-mile routes a hub cannot supply with the trunk routes kept."""
        supply = np.zeros(self.net.n_hubs)
        for r2 in trunk_kept:
            for stop in r2:
                supply[stop.hub] += stop.parcels
        parcels = self.chunk_parcels
        for j in range(self.net.n_hubs):
            mine = sorted(
                (r for r in kept if r.depot == 1 + j),
                key=lambda r: -sum(parcels[c] for c in r.customers),
            )
            carried = 0.0
            for r in mine:
                load = sum(parcels[c] for c in r.customers)
                if carried + load <= supply[j] + 1e-9:
                    carried += load
                    continue
                kept.remove(r)
                for c in r.customers:
                    lost[c] = why

    # ------------------------------------------------------------------ tiers

    def _last_mile_tier(
        self, kept: list[LrpRoute], lost: dict[int, str], notes: list[str]
    ) -> RoutedTier:
        """Last-mile routes as routing routes over DC, hubs and stations, checked."""
        h = self.net.n_hubs
        n_open = len(self.loads.open_sites)
        lm_index = [k for k, v in enumerate(self.fleet) if v.type_name == self.lm_t.name]
        base = self.fleet[lm_index[0]]
        # Vehicle j drives kept route j from its depot (DC = node 0, hub k = node 1 + k).
        vehicles = tuple(
            replace(base, depot=kept[j].depot if j < len(kept) else 0)
            for j in range(len(lm_index))
        )
        problem = self._tier_problem(
            vehicles, n_depots=1 + h,
            parcels=np.concatenate([np.zeros(1 + h), self.loads.parcels_per_day]),
            nodes=np.arange(1 + h + n_open),
        )
        routes = [
            Route(
                vehicle=j,
                stops=tuple(1 + h + self.chunk_station[c] for c in r.customers),
                loads=tuple(self.chunk_parcels[c] for c in r.customers),
                distance_km=0.0, duration_min=0.0, cost=0.0, depot=r.depot,
            )
            for j, r in enumerate(kept)
        ]
        result = _checked(problem, routes, notes, engine="two-echelon (PyVRP)",
                          reasons=self._reasons(lost))
        site_ids = self.request.prepared.site_ids
        return RoutedTier(
            tier="last_mile",
            problem=problem,
            result=result,
            node_ids=(self.request.prepared.depot_ids[0],
                      *(c.depot_id for c in self.hubs.candidates),
                      *(site_ids[int(s)] for s in self.loads.open_sites)),
            depot_rows=(0, *self.net.hub_rows),
            graph_nodes=self.net.graph_nodes,
            vehicle_ids=tuple(self.fleet_ids[k] for k in lm_index),
        )

    def _reasons(self, lost: dict[int, str]) -> dict[int, str]:
        """Why each unserved station (node) is unserved: its first lost visit's reason."""
        h = self.net.n_hubs
        out: dict[int, str] = {}
        for c, why in sorted(lost.items()):
            out.setdefault(1 + h + self.chunk_station[c], why)
        return out

    def _trunk_tier(self, trunk_kept: list[list[TrunkStop]]) -> RoutedTier:
        """Trunk routes as routing routes over the DC and the hubs, checked."""
        h = self.net.n_hubs
        trunk_index = [k for k, v in enumerate(self.fleet) if v.type_name == self.trunk_t.name]
        vehicles = tuple(self.fleet[k] for k in trunk_index)
        supplied = np.zeros(1 + h)
        for r2 in trunk_kept:
            for stop in r2:
                supplied[1 + stop.hub] += stop.parcels
        problem = self._tier_problem(
            vehicles, n_depots=1, parcels=supplied, nodes=np.arange(1 + h)
        )
        routes = [
            Route(
                vehicle=j,
                stops=tuple(1 + s.hub for s in r2),
                loads=tuple(s.parcels for s in r2),
                distance_km=0.0, duration_min=0.0, cost=0.0,
            )
            for j, r2 in enumerate(trunk_kept)
        ]
        result = _checked(problem, routes, [], engine="two-echelon (PyVRP)", reasons={})
        return RoutedTier(
            tier="trunk",
            problem=problem,
            result=result,
            node_ids=(self.request.prepared.depot_ids[0],
                      *(c.depot_id for c in self.hubs.candidates)),
            depot_rows=(0,),
            graph_nodes=self.net.graph_nodes[: 1 + h],
            vehicle_ids=tuple(self.fleet_ids[k] for k in trunk_index),
            route_prefix="T",
        )

    def _tier_problem(
        self, vehicles: tuple[VehicleSpec, ...], *, n_depots: int, parcels: np.ndarray,
        nodes: np.ndarray,
    ) -> RoutingProblem:
        config = self.request.config
        return RoutingProblem(
            distance_km=self.net.distance_km[np.ix_(nodes, nodes)],
            time_min=self.net.time_min[np.ix_(nodes, nodes)],
            parcels_per_day=parcels,
            vehicles=vehicles,
            unserved_penalty_per_parcel=config.routing.unserved_penalty_per_parcel,
            n_depots=n_depots,
            parcel_kg=config.routing.parcel_kg,
        )

    def _section(
        self, open_hubs: tuple[int, ...], trunk: RoutedTier, last_mile: RoutedTier
    ) -> DeliverySections:
        """The ``two_echelon`` summary section."""
        ids = self.request.prepared.depot_ids
        station_ids = last_mile.node_ids[last_mile.problem.n_depots:]
        served: dict[str, set[int]] = {ids[self.net.hub_rows[j]]: set() for j in open_hubs}
        for route in last_mile.result.routes:
            if route.depot != 0:
                hub = ids[last_mile.depot_rows[route.depot]]
                served[hub].update(last_mile.station_of(s) for s in route.stops)
        return DeliverySections(two_echelon={
            "hubs_open": list(served),
            "hub_stations": {
                hub: [station_ids[k] for k in sorted(ks)] for hub, ks in served.items()
            },
            "trunk_routes": len(trunk.result.routes),
            "last_mile_routes": len(last_mile.result.routes),
            "trunk_km": round(trunk.result.distance_km(), 3),
            "last_mile_km": round(last_mile.result.distance_km(), 3),
        })


def _checked(
    problem: RoutingProblem, routes: list[Route], notes: list[str], *, engine: str,
    reasons: dict[int, str],
) -> RoutingResult:
    """Routes measured and checked by the routing evaluator; a broken rule is a note."""
    check = evaluate(problem, routes)
    measured = tuple(
        replace(r, distance_km=m.distance_km, duration_min=m.duration_min, cost=m.cost,
                start_min=m.start_min)
        for r, m in zip(routes, check.metrics, strict=True)
    )
    return RoutingResult(
        routes=measured,
        unserved=check.unserved,
        status="partial" if check.unserved else "solved",
        solve_seconds=0.0,
        notes=(*notes, *(f"check failed: {v}" for v in check.violations)),
        engine=engine,
        unserved_penalty=check.penalty,
        unserved_reasons=tuple(reasons.get(node, "") for node, _ in check.unserved),
    )


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


def _count_reason(vt: VehicleType, need: int, have: int, total: float) -> str:
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
