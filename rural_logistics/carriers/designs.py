"""The three designs of several carriers serving the same villages, on arrays and ids.

A *network* here is one placement of stations for the parcels of some carriers (a
coalition ``members``), and the routes over it: either one fleet carrying every member's
parcels (the members' vehicles together, each at its own carrier's depot: multi-depot
routing), or each member's own fleet carrying its own parcels to the same stations.

- ``separate``: a network per carrier, its own fleet (the status quo);
- ``shared_stations``: one network for all carriers; each carrier routes its own parcels
  from its own depot(s);
- ``joint``: one network and one fleet (all the carriers' vehicles, from their depots)
  carrying all parcels.

Every network keeps the competitor stations and its members' existing stations open
(``SiteRules.locked``); the placement model is the config's (``placement``), weighted by
the members' parcels. Placement and routing are the project's (``pipeline.place_stations``,
``routing.solve_vrp``): solvers see arrays and ids only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from rural_logistics.config import FleetSettings, RegionConfig
from rural_logistics.delivery.base import (
    Delivery,
    RoutedTier,
    StationLoads,
    loads_of,
    routing_template,
    station_tier,
)
from rural_logistics.pipeline import PLACEMENT_SHARE, place_stations
from rural_logistics.placement import PlacementResult
from rural_logistics.placement.result import SiteRules
from rural_logistics.region import PreparedRegion
from rural_logistics.routing.model import RoutingResult, subset_problem
from rural_logistics.routing.solve import solve_vrp
from rural_logistics.solvers.budget import Budget

#: Placement statuses from best to worst (a combined placement has the worst).
_STATUS_ORDER = ("optimal", "feasible", "heuristic")


@dataclass(frozen=True)
class CarrierParcels:
    """Each carrier's daily parcels and produce per village.

    Attributes
    ----------
    names
        Carrier names, in config order.
    parcels_per_day, produce_kg_per_day
        ``(n_carriers, n_villages)``.
    """

    names: tuple[str, ...]
    parcels_per_day: np.ndarray
    produce_kg_per_day: np.ndarray

    @classmethod
    def of(cls, names: Sequence[str], shares: np.ndarray,
           prepared: PreparedRegion) -> CarrierParcels:
        """The carriers' parcels from their shares (``(n_carriers, n_villages)``)."""
        return cls(tuple(names), shares * prepared.demand.parcels_per_day[None, :],
                   shares * prepared.demand.produce_kg_per_day[None, :])

    def totals(self) -> np.ndarray:
        """Parcels per day of each carrier."""
        return self.parcels_per_day.sum(axis=1)


def members_config(config: RegionConfig, members: Sequence[int]) -> RegionConfig:
    """The config with the members' vehicles as the fleet (``carrier.type``, each at its
    carrier's depot)."""
    assert config.carriers is not None
    types = tuple(v for k in members for v in config.carriers.members[k].vehicle_types())
    return config.model_copy(update={"fleet": FleetSettings(vehicles=types)})


def members_region(
    prepared: PreparedRegion, parcels: CarrierParcels, members: Sequence[int]
) -> PreparedRegion:
    """The prepared region with the members' parcels as the demand."""
    idx = list(members)
    demand = replace(prepared.demand,
                     parcels_per_day=parcels.parcels_per_day[idx].sum(axis=0),
                     produce_kg_per_day=parcels.produce_kg_per_day[idx].sum(axis=0))
    return replace(prepared, demand=demand)


def members_rules(
    config: RegionConfig, prepared: PreparedRegion, rules: SiteRules, members: Sequence[int]
) -> SiteRules:
    """The placement rules with the competitor stations and the members' existing
    stations kept open (ids checked by the check pass)."""
    assert config.carriers is not None
    ids = [*config.carriers.competitor_stations,
           *(s for k in members for s in config.carriers.members[k].existing_stations)]
    index = {s: j for j, s in enumerate(prepared.site_ids)}
    locked = np.union1d(np.asarray(rules.locked, dtype=np.int64),
                        np.array([index[s] for s in ids], dtype=np.int64))
    return replace(rules, locked=locked)


@dataclass(frozen=True)
class Network:
    """One placement and the routes of the fleet(s) over it.

    Attributes
    ----------
    members
        Carriers whose parcels the network serves.
    placement
        Its stations and the villages' assignment (sites are rows of the sites layer).
    loads
        The members' parcels per open station.
    tiers
        One tier per fleet (``joint``: one; each carrier's own fleet: one per member),
        stops numbered as open-station positions (``station_positions``).
    opening_cost_per_day
        Daily cost of its open stations.
    """

    members: tuple[int, ...]
    placement: PlacementResult
    loads: StationLoads
    tiers: tuple[RoutedTier, ...]
    opening_cost_per_day: float

    @property
    def route_cost_per_day(self) -> float:
        """Vehicles' fixed and kilometre cost of every route."""
        return float(sum(r.cost for t in self.tiers for r in t.result.routes))

    @property
    def unserved_penalty(self) -> float:
        """Penalty of the parcels the routes leave (``routing.unserved_penalty_per_parcel``)."""
        return float(sum(t.result.unserved_penalty for t in self.tiers))

    @property
    def cost_per_day(self) -> float:
        """Opening, vehicles and kilometres."""
        return self.opening_cost_per_day + self.route_cost_per_day

    @property
    def delivered_parcels(self) -> float:
        """Parcels the routes deliver per day."""
        return float(sum(sum(r.loads) for t in self.tiers for r in t.result.routes))


def route_network(
    config: RegionConfig,
    prepared: PreparedRegion,
    placement: PlacementResult,
    members: Sequence[int],
    *,
    budget: Budget,
    route_prefix: str = "R",
) -> RoutedTier:
    """Route the members' fleets together over ``placement``'s stations carrying the
    members' parcels (``prepared``: the members' demand), stations without parcels left
    out; every station with parcels is driven to (none is served at a depot)."""
    cfg = members_config(config, members)
    loads = loads_of(placement, prepared)
    template = routing_template(cfg, prepared, loads.open_sites)
    routed = np.flatnonzero(loads.parcels_per_day > 0)
    problem = subset_problem(template.problem, routed, loads.parcels_per_day[routed],
                             loads.produce_kg_per_day[routed])
    if len(routed):
        result = solve_vrp(problem, engine=config.routing.engine, budget=budget,
                           seed=config.solver.seed, workers=config.routing.workers)
    else:
        result = RoutingResult(routes=(), unserved=(), status="solved", solve_seconds=0.0,
                               engine=config.routing.engine)
    tier = station_tier(template, problem, result, stations=routed, prepared=prepared,
                        positions=routed)
    return replace(tier, route_prefix=route_prefix)


def solve_network(
    config: RegionConfig,
    prepared: PreparedRegion,
    parcels: CarrierParcels,
    rules: SiteRules,
    members: Sequence[int],
    *,
    one_fleet: bool,
    budget: Budget,
    route_prefix: str = "R",
) -> Network:
    """Place the members' stations (up to :data:`PLACEMENT_SHARE` of ``budget``) and
    route them: one fleet (``one_fleet``, route ids ``route_prefix`` and a number) or each
    member's own (``<carrier>-R1`` …), the time left shared evenly."""
    members = tuple(members)
    region = members_region(prepared, parcels, members)
    placement = place_stations(config, region, members_rules(config, prepared, rules, members),
                               budget=budget.share(PLACEMENT_SHARE))
    if one_fleet:
        tiers: tuple[RoutedTier, ...] = (
            route_network(config, region, placement, members, budget=budget,
                          route_prefix=route_prefix),
        )
    else:
        tiers = tuple(
            route_network(config, members_region(prepared, parcels, (k,)), placement, (k,),
                          budget=budget.share(1 / (len(members) - j)),
                          route_prefix=f"{parcels.names[k]}-R")
            for j, k in enumerate(members)
        )
    opening = len(placement.open_sites) * config.placement.opening_cost_per_day
    return Network(members, placement, loads_of(placement, region), tiers, opening)


def network_delivery(network: Network, *, mode: str) -> Delivery:
    """One network as a :class:`Delivery` (``shared_stations``, ``joint``)."""
    return Delivery(mode=mode, placement=network.placement, loads=network.loads,
                    tiers=network.tiers)


def separate_delivery(
    networks: Sequence[Network], parcels: CarrierParcels, *, opening_cost_per_day: float
) -> Delivery:
    """The carriers' own networks as one :class:`Delivery` over the union of their sites.

    A site opened by several carriers is one row of the stations layer with their loads
    added, but each carrier pays its own station there: the extra openings are carried in
    ``hub_opening_per_day`` (added to the opening cost). A village is shown assigned to
    the station of the carrier with most of its parcels.
    """
    union = np.unique(np.concatenate([n.placement.open_sites for n in networks]))
    position = {int(s): i for i, s in enumerate(union)}
    parcels_at = np.zeros(len(union))
    produce_at = np.zeros(len(union))
    tiers = []
    for net in networks:
        where = np.array([position[int(s)] for s in net.placement.open_sites], dtype=np.int64)
        np.add.at(parcels_at, where, net.loads.parcels_per_day)
        np.add.at(produce_at, where, net.loads.produce_kg_per_day)
        for tier in net.tiers:
            local = (np.arange(len(where)) if tier.station_positions is None
                     else tier.station_positions)
            tiers.append(replace(tier, station_positions=where[local]))
    largest = parcels.parcels_per_day.argmax(axis=0)
    by_carrier = {n.members[0]: n for n in networks}
    assignment = np.array([by_carrier[int(c)].placement.assignment[v]
                           for v, c in enumerate(largest)], dtype=np.int64)
    placements = [n.placement for n in networks]
    status = max((p.status for p in placements), key=_STATUS_ORDER.index)
    placement = PlacementResult(
        open_sites=union, assignment=assignment,
        objective=sum(p.objective for p in placements), bound=sum(p.bound for p in placements),
        status=status, solve_seconds=sum(p.solve_seconds for p in placements),
        model=placements[0].model, sense=placements[0].sense,
    )
    extra = (sum(len(p.open_sites) for p in placements) - len(union)) * opening_cost_per_day
    return Delivery(mode="separate", placement=placement,
                    loads=StationLoads(union, parcels_at, produce_at), tiers=tuple(tiers),
                    hub_opening_per_day=extra)


@dataclass(frozen=True)
class Access:
    """Parcel-weighted access of a design: each carrier's parcels at that carrier's
    station (``separate``: its own network).

    Attributes
    ----------
    within_radius_share
        Share of the parcels whose station is within ``placement.radius_km``.
    mean_km
        Mean road distance from village to station, weighted by parcels.
    """

    within_radius_share: float
    mean_km: float


def design_access(
    networks: Sequence[Network], parcels: CarrierParcels, prepared: PreparedRegion,
    *, radius_km: float,
) -> Access:
    """Access of the carriers' parcels in the networks that serve them."""
    dist = prepared.access.distance_km
    rows = np.arange(dist.shape[0])
    weight = within = total_km = 0.0
    for net in networks:
        km = dist[rows, net.placement.assignment]
        for k in net.members:
            p = parcels.parcels_per_day[k]
            ok = np.isfinite(km)
            weight += float(p.sum())
            within += float(p[ok & (km <= radius_km)].sum())
            total_km += float((p[ok] * km[ok]).sum())
    return Access(within / weight if weight else 0.0, total_km / weight if weight else 0.0)
