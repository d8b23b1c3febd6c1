"""The delivery seam: what every way of giving the placed stations their routes shares.

A delivery mode (:class:`DeliveryMode`) takes a :class:`DeliveryRequest` — the prepared
region, the placement, the side constraints and the run's time :class:`Budget` — and
returns a :class:`Delivery`: routes per tier and day, the stations' loads, the facilities
it opened and its section of ``summary.json``. The plan's layers and figures are
assembled from a :class:`Delivery` alone (:mod:`rural_logistics.assemble`), whatever the
mode.

**One node numbering**, the routing package's: every :class:`RoutedTier` holds its own
:class:`~rural_logistics.routing.RoutingProblem` with the depots first; in a tier that
serves stations, open station ``k`` (in ``placement.open_sites`` order) is node
``problem.n_depots + k``. ``depot_rows`` maps depot nodes to rows of the depots layer,
``graph_nodes`` every node to the road graph (route geometry), ``node_ids`` to the ids
written in the routes layer. Routes are :class:`~rural_logistics.routing.Route` objects
checked by the independent routing evaluator in every mode.

**Days and combinations**: a tier carries the ``day`` it runs on (0 for a one-day plan),
so a mode over several days returns one tier per day and tier; :func:`combine` joins the
deliveries of several days or carriers into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from rural_logistics import network as net
from rural_logistics.config import RegionConfig
from rural_logistics.delivery.site_terms import site_terms
from rural_logistics.placement.result import PlacementResult, SiteRules, station_loads
from rural_logistics.region import PreparedRegion, depot_nodes, depot_row
from rural_logistics.routing.model import (
    Route,
    RoutingProblem,
    RoutingResult,
    VehicleSpec,
    expand_fleet,
)
from rural_logistics.solvers.budget import Budget
from rural_logistics.summary import DeliverySections

#: Tiers: ``direct`` (depots → stations), ``last_mile`` (hubs and DC → stations) and
#: ``trunk`` (DC → hubs).
TIERS = ("direct", "last_mile", "trunk")


@dataclass(frozen=True)
class DeliveryRequest:
    """What a delivery mode gets.

    Attributes
    ----------
    config
        The validated config (overrides applied).
    prepared
        The prepared region (its ``demand`` is what is delivered).
    placement
        The open stations and the villages' assignment.
    rules
        Placement side constraints (location-routing moves stations within them).
    budget
        The time the mode may take, all its solves together.
    """

    config: RegionConfig
    prepared: PreparedRegion
    placement: PlacementResult
    rules: SiteRules
    budget: Budget


@dataclass(frozen=True)
class StationLoads:
    """Parcels and produce per open station, in ``open_sites`` order."""

    open_sites: np.ndarray
    parcels_per_day: np.ndarray
    produce_kg_per_day: np.ndarray


def loads_of(placement: PlacementResult, prepared: PreparedRegion) -> StationLoads:
    """The stations' loads: each village's parcels and produce at its assigned station."""
    parcels, produce = station_loads(
        placement, prepared.demand.parcels_per_day, prepared.demand.produce_kg_per_day
    )
    return StationLoads(np.asarray(placement.open_sites, dtype=np.int64), parcels, produce)


@dataclass(frozen=True)
class RoutedTier:
    """The routes of one tier on one day, in the node numbering of its own problem.

    Attributes
    ----------
    tier
        ``direct``, ``last_mile`` or ``trunk``.
    problem
        The routing problem the routes were checked against (depots first).
    result
        Routes and unserved stops, figures recomputed by the routing evaluator.
    node_ids
        Id of every node: depot ids, then station (or, on the trunk, hub) ids.
    depot_rows
        Row in the depots layer of each depot node.
    graph_nodes
        Road graph node of every node (for route geometry).
    vehicle_ids
        Id of every vehicle of ``problem.vehicles`` (``type-k``, numbered over the fleet).
    route_prefix
        Route ids are this prefix and a number (``R1``; ``T1`` on the trunk).
    day
        Day of the plan's horizon the routes run on (0: a one-day plan).
    station_positions
        Open-station position of each stop node, in node order, when the tier routes
        only some of the open stations (e.g. not those served at the depot); ``None``:
        all of them, open station ``k`` at node ``n_depots + k``.
    """

    tier: str
    problem: RoutingProblem
    result: RoutingResult
    node_ids: tuple[str, ...]
    depot_rows: tuple[int, ...]
    graph_nodes: np.ndarray
    vehicle_ids: tuple[str, ...]
    route_prefix: str = "R"
    day: int = 0
    station_positions: np.ndarray | None = None

    @property
    def serves_stations(self) -> bool:
        """Whether the stops are the open stations (not hubs)."""
        return self.tier != "trunk"

    def station_of(self, node: int) -> int:
        """Open-station position of a stop node (tiers that serve stations)."""
        k = int(node) - self.problem.n_depots
        return k if self.station_positions is None else int(self.station_positions[k])

    def vehicle(self, route: Route) -> VehicleSpec:
        """The vehicle that drives a route."""
        return self.problem.vehicles[route.vehicle]


@dataclass(frozen=True)
class Delivery:
    """What a delivery mode returns: everything the plan needs beyond the placement.

    Attributes
    ----------
    mode
        The mode's name (``direct``, ``location_routing``, ``two_echelon``).
    placement
        The stations delivered to (location-routing may have moved them).
    loads
        Parcels and produce per open station (a normal day of the scenario).
    tiers
        Routes per tier and day; trunk tiers first, as the routes layer lists them.
    hub_rows
        Rows of the depots layer opened as hubs (written with role ``hub``); ``None``
        when the mode has no hub tier.
    hub_opening_per_day
        Daily cost of the open hubs.
    sections
        The mode's section of ``summary.json``.
    served_at_depot
        Per open station: served at the county distribution centre without a vehicle (a
        station within :data:`rural_logistics.last_metres.AT_DEPOT_KM` of it); ``None``:
        none is.
    days
        Days the tiers cover (the peak week: one tier per day); the plan's per-day
        figures are means over them.
    demand_factor
        Mean parcels per day over the days, as a multiple of a scenario day (the peak
        week's mean arrivals); 1 for a one-day plan.
    """

    mode: str
    placement: PlacementResult
    loads: StationLoads
    tiers: tuple[RoutedTier, ...]
    hub_rows: tuple[int, ...] | None = None
    hub_opening_per_day: float = 0.0
    sections: DeliverySections = field(default_factory=lambda: DeliverySections())
    served_at_depot: np.ndarray | None = None
    days: int = 1
    demand_factor: float = 1.0

    @property
    def at_depot(self) -> np.ndarray:
        """Per open station: served at the depot (all ``False`` when none is)."""
        if self.served_at_depot is None:
            return np.zeros(len(self.loads.open_sites), dtype=bool)
        return self.served_at_depot

    @property
    def station_tiers(self) -> tuple[RoutedTier, ...]:
        """The tiers whose stops are stations."""
        return tuple(t for t in self.tiers if t.serves_stations)

    @property
    def routing(self) -> RoutingResult:
        """The station routes as one result (for the ``routing`` summary section).

        With one station tier this is its result; with several (days, carriers) the
        routes and unserved stops are listed together, ``solve_seconds`` summed.
        """
        tiers = self.station_tiers
        if len(tiers) == 1:
            return tiers[0].result
        results = [t.result for t in tiers]
        statuses = {r.status for r in results}
        status = next(s for s in ("no_solution", "partial", "solved") if s in statuses)
        return RoutingResult(
            routes=tuple(r for res in results for r in res.routes),
            unserved=tuple(u for res in results for u in res.unserved),
            status=status,
            solve_seconds=sum(r.solve_seconds for r in results),
            notes=tuple(dict.fromkeys(n for r in results for n in r.notes)),
            engine=", ".join(dict.fromkeys(r.engine for r in results)),
            unserved_penalty=sum(r.unserved_penalty for r in results),
            unserved_reasons=tuple(w for r in results for w in r.unserved_reasons),
        )


def combine(deliveries: Sequence[Delivery], *, mode: str) -> Delivery:
    """One delivery from several over the same open stations (days of a horizon, or
    carriers sharing the stations): tiers listed together, loads and hub costs added.

    Tiers keep their ``day``; give each carrier's tiers their own ``vehicle_ids`` before
    combining so that route rows stay distinct.
    """
    first = deliveries[0]
    for d in deliveries[1:]:
        assert np.array_equal(d.loads.open_sites, first.loads.open_sites), (
            "combined deliveries must serve the same open stations"
        )
    loads = replace(
        first.loads,
        parcels_per_day=sum((d.loads.parcels_per_day for d in deliveries),
                            np.zeros(len(first.loads.open_sites))),
        produce_kg_per_day=sum((d.loads.produce_kg_per_day for d in deliveries),
                               np.zeros(len(first.loads.open_sites))),
    )
    sections = DeliverySections()
    for d in deliveries:
        sections.update(d.sections)
    return Delivery(
        mode=mode,
        placement=first.placement,
        loads=loads,
        tiers=tuple(t for d in deliveries for t in d.tiers),
        hub_rows=None if all(d.hub_rows is None for d in deliveries) else tuple(
            dict.fromkeys(r for d in deliveries for r in d.hub_rows or ())
        ),
        hub_opening_per_day=sum(d.hub_opening_per_day for d in deliveries),
        sections=sections,
        served_at_depot=first.served_at_depot,
    )


class DeliveryMode(Protocol):
    """A way of giving the placed stations their routes.

    ``config_problems`` and ``config_warnings`` name the config keys the mode cannot
    honour (a problem stops the run in the check pass; a warning is printed and the
    run goes on): no key is dropped silently.
    """

    name: str

    def config_problems(self, config: RegionConfig) -> list[str]:
        """Keys set in the config that this mode would ignore and must not."""
        ...

    def config_warnings(self, config: RegionConfig) -> list[str]:
        """Keys set in the config that this mode ignores, harmlessly."""
        ...

    def stage_text(self, config: RegionConfig, budget: Budget) -> str:
        """Progress line of the stage (what it does, for how long at most)."""
        ...

    def deliver(self, request: DeliveryRequest) -> Delivery:
        """Route the stations."""
        ...


class HonoursEveryKey:
    """Base of the modes that honour every config key (nothing to reject or warn about)."""

    def config_problems(self, config: RegionConfig) -> list[str]:
        """None."""
        return []

    def config_warnings(self, config: RegionConfig) -> list[str]:
        """None."""
        return []


def fleet_vehicle_ids(vehicles: Sequence[VehicleSpec]) -> tuple[str, ...]:
    """``type-1, type-2, …`` numbered per type in fleet order."""
    seq: dict[str, int] = {}
    ids = []
    for v in vehicles:
        seq[v.type_name] = seq.get(v.type_name, 0) + 1
        ids.append(f"{v.type_name}-{seq[v.type_name]}")
    return tuple(ids)


@dataclass(frozen=True)
class StationTemplate:
    """A routing problem from the fleet's depots to candidate sites, before loads.

    Attributes
    ----------
    problem
        Node ``k < n_depots`` is depot ``depot_ids[k]``; node ``n_depots + j`` is
        ``sites[j]``; parcels are zero.
    sites
        Rows of the sites layer, in node order.
    depot_ids, depot_rows
        Ids and depots-layer rows of the depot nodes.
    graph_nodes
        Road graph node of every node.
    """

    problem: RoutingProblem
    sites: np.ndarray
    depot_ids: tuple[str, ...]
    depot_rows: tuple[int, ...]
    graph_nodes: np.ndarray


def vehicle_depots(config: RegionConfig, prepared: PreparedRegion) -> list[str]:
    """Ids of the depots vehicles are based at: the DC first, then each other ``depot``
    named by a vehicle type (checked against the depots layer by the check pass)."""
    wanted = [prepared.depot_ids[0]]
    for vt in config.fleet.vehicles:
        if vt.depot is not None and vt.depot not in wanted:
            wanted.append(vt.depot)
    return wanted


def routing_template(
    config: RegionConfig, prepared: PreparedRegion, sites: np.ndarray
) -> StationTemplate:
    """The routing problem from the fleet's depots to ``sites`` (rows of the sites
    layer), with no parcels yet.

    Sites not connected to the depots by road get a prohibitive distance (they are
    never opened: placement excludes them). A depot used by the fleet must reach every
    usable site (an assertion: the check pass and the snapping guarantee it).
    """
    sites = np.asarray(sites, dtype=np.int64)
    depot_ids = vehicle_depots(config, prepared)
    rows = [depot_row(prepared, d) for d in depot_ids]
    nodes = np.array(depot_nodes(prepared, rows), dtype=np.int64)
    n_dep = len(nodes)
    depot_xy = prepared.network.node_xy[nodes]
    depot_xy[0] = prepared.depot.xy[0]
    stops = net.SnappedPoints(
        node=np.concatenate([nodes, prepared.sites.node[sites]]),
        offroad_m=np.zeros(len(sites) + n_dep),
        xy=np.vstack([depot_xy, prepared.sites.xy[sites]]),
    )
    travel = net.travel_matrices(
        prepared.network, stops, stops,
        offroad_speed_kph=config.network.offroad_speed_kph, include_offroad=False,
    )
    usable = np.concatenate([np.ones(n_dep, dtype=bool), prepared.site_ok[sites]])
    assert np.isfinite(travel.distance_km[np.ix_(usable, usable)]).all(), (
        "a depot used by the fleet does not reach the usable sites"
    )
    far = ~np.isfinite(travel.distance_km) | ~np.isfinite(travel.time_min)
    settings = config.routing
    # Each station's own window, service time and penalty (defaults from the config).
    terms = site_terms(config, prepared.data.sites.iloc[sites])
    hours = None
    if terms.window_min is not None:
        hours = np.vstack([np.tile([-np.inf, np.inf], (n_dep, 1)), terms.window_min])
    service = None
    if terms.service_min is not None:
        service = np.concatenate([np.zeros(n_dep), terms.service_min])
    weight = None
    if terms.penalty_weight is not None:
        weight = np.concatenate([np.ones(n_dep), terms.penalty_weight])
    zeros = np.zeros(len(stops.node))
    problem = RoutingProblem(
        distance_km=np.where(far, 1e6, travel.distance_km),
        time_min=np.where(far, 1e6, travel.time_min),
        parcels_per_day=zeros,
        vehicles=expand_fleet(
            config.fleet.vehicles, depot_of={d: k for k, d in enumerate(depot_ids)}
        ),
        unserved_penalty_per_parcel=settings.unserved_penalty_per_parcel,
        produce_kg_per_day=zeros,
        n_depots=n_dep,
        parcel_kg=settings.parcel_kg,
        pickup_produce=settings.pickup_produce,
        produce_value_per_kg=settings.produce_value_per_kg,
        time_window_min=hours,
        service_time_min=service,
        penalty_weight=weight,
        xy=stops.xy,
        split_delivery=True,  # a station's parcels may go on vehicles of any type
    )
    return StationTemplate(problem, sites, tuple(depot_ids), tuple(rows), stops.node)


def station_tier(
    template: StationTemplate,
    problem: RoutingProblem,
    result: RoutingResult,
    *,
    stations: np.ndarray,
    prepared: PreparedRegion,
    positions: np.ndarray | None = None,
    tier: str = "direct",
    day: int = 0,
) -> RoutedTier:
    """A tier over ``template``'s depots and the template stations ``stations``
    (positions among ``template.sites``), routed in ``problem``'s numbering;
    ``positions``: their open-station positions when not all open stations are routed."""
    n_dep = template.problem.n_depots
    stations = np.asarray(stations, dtype=np.int64)
    site_ids = prepared.site_ids
    return RoutedTier(
        tier=tier,
        problem=problem,
        result=result,
        node_ids=(*template.depot_ids,
                  *(site_ids[int(j)] for j in template.sites[stations])),
        depot_rows=template.depot_rows,
        graph_nodes=np.concatenate(
            [template.graph_nodes[:n_dep], template.graph_nodes[n_dep + stations]]
        ),
        vehicle_ids=fleet_vehicle_ids(problem.vehicles),
        day=day,
        station_positions=positions,
    )
