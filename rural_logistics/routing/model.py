"""Problem and result types of the routing engines, and what they share.

Nodes: ``0 … n_depots-1`` are depots, the rest are stations. With one depot (the
default) node 0 is the depot and nodes ``1 … n`` are the stations, as in v1.

Units: kilometres, minutes (from midnight for time windows), parcels, kilograms,
currency. The engines work in integers; :func:`build_visits` and :class:`Scaling`
make that explicit (distances × ``distance_scale_per_km``, times ×
``time_scale_per_min``) and say in a note when the rounding changes an arc by more
than 0.1 %. Every reported figure is recomputed from the routes in floating point by
:mod:`rural_logistics.routing.evaluate`, never taken from the solver's integers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

#: Relative change of an arc by integer rounding above which a note is added.
ROUNDING_NOTE_REL = 1e-3


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
        Shift length: first departure to last return, driving, service and waiting.
    service_time_min
        Time spent at each stop by this vehicle, minutes (added to the station's own).
    capacity_kg
        Payload in kilograms (parcel weight down plus produce up, simultaneously);
        ``None`` = not limited.
    depot
        Node of the depot the vehicle starts from and returns to.
    shift_start_min, shift_end_min
        Earliest departure and latest return, minutes from midnight.
    max_route_distance_km
        Longest distance per day (all trips); ``None`` = not limited.
    max_trips
        Trips per shift (``> 1``: the vehicle may reload at its depot).
    """

    type_name: str
    capacity_parcels: int
    cost_per_km: float
    fixed_cost_per_day: float
    speed_factor: float
    max_route_duration_min: float
    service_time_min: float
    capacity_kg: float | None = None
    depot: int = 0
    shift_start_min: float = 0.0
    shift_end_min: float = math.inf
    max_route_distance_km: float | None = None
    max_trips: int = 1


@dataclass(frozen=True)
class RoutingProblem:
    """Depots, stations and a fleet.

    Attributes
    ----------
    distance_km, time_min
        ``(N, N)`` road distance and travel time at speed factor 1.
    parcels_per_day
        ``(N,)`` parcels to deliver per node (depots 0).
    vehicles
        Every available vehicle.
    unserved_penalty_per_parcel
        Cost of leaving a parcel unserved (a station without parcels counts as one).
    produce_kg_per_day
        ``(N,)`` farm produce per node. Picked up (and counted against
        ``capacity_kg``) when ``pickup_produce`` is true, else carried for reporting.
    n_depots
        Leading nodes that are depots.
    parcel_kg
        Mean weight of a parcel, counted against ``capacity_kg``.
    pickup_produce
        Collect each station's produce on the delivery route.
    time_window_min
        ``(N, 2)`` earliest and latest start of service per node, minutes from
        midnight; ``None`` = always open. Depot rows are ignored (vehicle shifts apply).
    service_time_min
        ``(N,)`` service time per node, added to the vehicle's own; ``None`` = 0.
    optional
        Stations may be left unserved at the penalty (``False``: every station must be
        served, as in the benchmarks; an engine that cannot reports no solution).
    xy
        ``(N, 2)`` coordinates, used only as a search hint.
    distance_scale_per_km, time_scale_per_min
        Integer units per km and per minute inside the engines (default metres and
        seconds).
    split_delivery
        ``True``: a station's parcels may be split over several visits of any vehicle
        type (split delivery; :func:`build_visits` cuts loads into pieces every type can
        fill, and :func:`rural_logistics.routing.solve.solve_vrp` places what is left in
        spare capacity). ``False`` (the classic CVRP of the benchmarks): a station is
        visited more than once only when it exceeds the largest vehicle.
    penalty_weight
        ``(N,)`` multiplier of ``unserved_penalty_per_parcel`` per node (e.g. parcels due
        today in a peak week weigh more than those that may wait); ``None`` = 1.
    produce_value_per_kg
        With ``pickup_produce`` and optional stations: the price of a kilogram of produce
        left behind. A station's parcels may then be delivered without its produce
        (:func:`with_produce_alternatives`), so produce never keeps parcels from being
        delivered, and the routes collect it where that costs less than its value.
        ``None``: the produce goes with the delivery visit or neither is served (the
        benchmarks).
    """

    distance_km: np.ndarray
    time_min: np.ndarray
    parcels_per_day: np.ndarray
    vehicles: tuple[VehicleSpec, ...]
    unserved_penalty_per_parcel: float = 1000.0
    produce_kg_per_day: np.ndarray | None = None
    n_depots: int = 1
    parcel_kg: float = 0.0
    pickup_produce: bool = False
    time_window_min: np.ndarray | None = None
    service_time_min: np.ndarray | None = None
    optional: bool = True
    xy: np.ndarray | None = None
    distance_scale_per_km: int = 1000
    time_scale_per_min: int = 60
    split_delivery: bool = False
    penalty_weight: np.ndarray | None = None
    produce_value_per_kg: float | None = None

    def produce_optional(self) -> bool:
        """Whether a station's produce may be left behind when its parcels are delivered."""
        return self.pickup_produce and self.optional and self.produce_value_per_kg is not None

    def penalty_rates(self) -> np.ndarray:
        """``(N,)`` price of an unserved parcel at each node."""
        rate = np.full(self.n_nodes, float(self.unserved_penalty_per_parcel))
        if self.penalty_weight is not None:
            rate = rate * np.asarray(self.penalty_weight, dtype=float)
        return rate

    @property
    def n_nodes(self) -> int:
        """Depots plus stations."""
        return int(np.asarray(self.distance_km).shape[0])

    def uses_kg(self) -> bool:
        """Whether the kilogram dimension can bind."""
        if all(v.capacity_kg is None for v in self.vehicles):
            return False
        return self.parcel_kg > 0 or (
            self.pickup_produce
            and self.produce_kg_per_day is not None
            and bool(np.any(np.asarray(self.produce_kg_per_day) > 0))
        )


@dataclass(frozen=True)
class Route:
    """One vehicle's day: one or more trips from its depot.

    Attributes
    ----------
    vehicle
        Index into :attr:`RoutingProblem.vehicles`.
    stops
        Station nodes in visiting order (all trips).
    loads
        Parcels delivered at each stop.
    distance_km, duration_min, cost
        Totals (cost includes the vehicle's fixed cost), recomputed from the stops.
    trips
        Stops per trip; ``()`` means one trip with :attr:`stops`.
    pickups_kg
        Produce collected at each stop (zeros unless produce is picked up).
    depot
        Depot node.
    start_min
        Departure time, minutes from midnight.
    """

    vehicle: int
    stops: tuple[int, ...]
    loads: tuple[int, ...]
    distance_km: float
    duration_min: float
    cost: float
    trips: tuple[tuple[int, ...], ...] = ()
    pickups_kg: tuple[float, ...] = ()
    depot: int = 0
    start_min: float = 0.0

    @property
    def load(self) -> int:
        """Parcels carried (all trips)."""
        return int(sum(self.loads))

    @property
    def trip_stops(self) -> tuple[tuple[int, ...], ...]:
        """Stops per trip."""
        return self.trips if self.trips else (self.stops,)

    @property
    def path(self) -> tuple[int, ...]:
        """Every node driven through: depot, trip, depot, next trip, …, depot."""
        nodes = [self.depot]
        for trip in self.trip_stops:
            nodes.extend(trip)
            nodes.append(self.depot)
        return tuple(nodes)


#: Bound names, in the order they are reported (:mod:`rural_logistics.routing.bounds`).
BOUND_NAMES = ("fleet_capacity", "reach", "able_capacity", "shift_time")

#: A bound below the demand by at most this many parcels is treated as no shortfall
#: (the LP is solved in floating point).
TOLERANCE_PARCELS = 0.5


@dataclass(frozen=True)
class DeliveryBound:
    """Upper bounds on the parcels deliverable in a day and which one binds.

    Attributes
    ----------
    demand_parcels
        Parcels ordered at the stations routed (whole parcels).
    bounds
        Bound name → most parcels deliverable under it (see the module docstring).
    binding
        The bound that binds (the smallest, first in :data:`BOUND_NAMES` order on a
        tie) when it is below the demand, else ``""``.
    lift
        What would lift the binding bound (empty when none binds).
    """

    demand_parcels: int
    bounds: dict[str, float]
    binding: str
    lift: str

    @property
    def bound_parcels(self) -> float:
        """The tightest bound (never above the demand)."""
        return float(min([self.demand_parcels, *self.bounds.values()]))

    @property
    def proven_shortfall(self) -> float:
        """Parcels no plan can deliver (0 when the bounds do not prove a shortfall)."""
        return max(0.0, self.demand_parcels - self.bound_parcels) if self.binding else 0.0

    def text(self) -> str:
        """One sentence for the status line."""
        if not self.binding:
            return (
                f"no shortfall is proven: the bounds allow all {self.demand_parcels:,} "
                "parcels/day"
            )
        return (
            f"proven: at most {self.bound_parcels:,.0f} of {self.demand_parcels:,} "
            f"parcels/day can be delivered (binding bound: {self.binding.replace('_', ' ')}); "
            f"{self.lift}"
        )


@dataclass(frozen=True)
class RoutingResult:
    """Routes, unserved visits and solver facts.

    Attributes
    ----------
    routes
        Used vehicles only.
    unserved
        ``(node, parcels)`` pairs that no route serves.
    status
        ``"solved"`` when every parcel is routed, ``"partial"`` when some are unserved,
        ``"no_solution"`` when the engine found nothing.
    solve_seconds
        Wall time.
    notes
        Human-readable remarks (splits, rounding, unreachable stations).
    engine
        Engine that produced the routes.
    unserved_penalty
        Price of the unserved stations (currency units).
    unserved_reasons
        Why each station in ``unserved`` is unserved (same order; see
        :mod:`rural_logistics.routing.diagnose`).
    bound
        Proven upper bounds on the parcels deliverable, computed before the search
        (:class:`rural_logistics.routing.bounds.DeliveryBound`); ``None`` when not
        computed (problems without split delivery, e.g. the benchmarks).
    """

    routes: tuple[Route, ...]
    unserved: tuple[tuple[int, int], ...]
    status: str
    solve_seconds: float
    notes: tuple[str, ...] = field(default=())
    engine: str = ""
    unserved_penalty: float = 0.0
    unserved_reasons: tuple[str, ...] = field(default=())
    bound: DeliveryBound | None = None

    def cost(self) -> float:
        """Total route cost (fixed + distance), currency units, excluding penalties."""
        return float(sum(r.cost for r in self.routes))

    def distance_km(self) -> float:
        """Total kilometres driven."""
        return float(sum(r.distance_km for r in self.routes))

    def is_feasible(self) -> bool:
        """Whether every parcel is delivered."""
        return not self.unserved and self.status != "no_solution"

    def summary(self) -> str:
        """One line for logs."""
        return (
            f"{len(self.routes)} routes, {self.distance_km():.1f} km, cost {self.cost():.2f}, "
            f"{len(self.unserved)} unserved stations, penalty {self.unserved_penalty:.2f} "
            f"({self.status}, {self.engine})"
        )


def subset_problem(
    template: RoutingProblem,
    stations: np.ndarray,
    parcels_per_day: np.ndarray,
    produce_kg_per_day: np.ndarray,
) -> RoutingProblem:
    """The problem of some of a template's stations, with their parcels.

    Node numbering stays the routing package's one: the template's depots first, then
    ``stations[k]`` (0-based among the template's stations) as node ``n_depots + k``.

    Parameters
    ----------
    template
        Depots and candidate stations (their parcels are ignored).
    stations
        Which template stations to keep, in the new order.
    parcels_per_day, produce_kg_per_day
        ``(len(stations),)`` loads of the kept stations.
    """
    d = template.n_depots
    idx = np.concatenate([np.arange(d), d + np.asarray(stations, dtype=np.int64)])
    zeros = np.zeros(d)

    def rows(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.asarray(a)[idx]

    return replace(
        template,
        distance_km=np.asarray(template.distance_km)[np.ix_(idx, idx)],
        time_min=np.asarray(template.time_min)[np.ix_(idx, idx)],
        parcels_per_day=np.concatenate([zeros, parcels_per_day]),
        produce_kg_per_day=np.concatenate([zeros, produce_kg_per_day]),
        time_window_min=rows(template.time_window_min),
        service_time_min=rows(template.service_time_min),
        xy=rows(template.xy),
        penalty_weight=rows(template.penalty_weight),
    )


def cost_parts(problem: RoutingProblem, result: RoutingResult) -> tuple[float, float, float]:
    """(vehicle fixed cost, travel cost, unserved penalty) of a routing result."""
    fixed = float(sum(problem.vehicles[r.vehicle].fixed_cost_per_day for r in result.routes))
    return fixed, result.cost() - fixed, float(result.unserved_penalty)


def expand_fleet(types: Sequence[Any], *, depot_of: dict[str, int] | None = None) -> tuple[
    VehicleSpec, ...
]:
    """One :class:`VehicleSpec` per vehicle from fleet types with a ``count``.

    Parameters
    ----------
    types
        Objects with the fields of the config's ``fleet.vehicles`` entries
        (``name, capacity_parcels, count, cost_per_km, …``; the optional ones —
        ``capacity_kg, depot, shift_start_min, max_route_distance_km, max_trips`` —
        may be missing).
    depot_of
        Depot id → depot node; a type's ``depot`` (id) is looked up here. ``None`` or
        a type without a depot: node 0.
    """
    specs = []
    for t in types:
        depot_id = getattr(t, "depot", None)
        depot = 0 if depot_id is None or depot_of is None else depot_of[str(depot_id)]
        start = float(getattr(t, "shift_start_min", 0.0))
        duration = float(t.max_route_duration_min)
        end = getattr(t, "shift_end_min", None)
        kg = getattr(t, "capacity_kg", None)
        max_km = getattr(t, "max_route_distance_km", None)
        spec = VehicleSpec(
            type_name=str(t.name),
            capacity_parcels=int(t.capacity_parcels),
            cost_per_km=float(t.cost_per_km),
            fixed_cost_per_day=float(t.fixed_cost_per_day),
            speed_factor=float(t.speed_factor),
            max_route_duration_min=duration,
            service_time_min=float(t.service_time_min),
            capacity_kg=None if kg is None else float(kg),
            depot=depot,
            shift_start_min=start,
            shift_end_min=float(end) if end is not None else start + duration,
            max_route_distance_km=None if max_km is None else float(max_km),
            max_trips=int(getattr(t, "max_trips", 1)),
        )
        specs.extend([spec] * int(t.count))
    return tuple(specs)


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


@dataclass(frozen=True)
class Visits:
    """What the engines route: each station split into visits that fit a vehicle.

    Attributes
    ----------
    station
        ``(V,)`` station node of each visit.
    parcels
        ``(V,)`` parcels delivered.
    delivery_kg, pickup_kg
        ``(V,)`` kilograms down (parcels × parcel weight) and up (produce).
    penalty
        ``(V,)`` price of not serving the visit (currency units).
    notes
        Remarks about splits and stations that need nothing.
    group
        ``(V,)`` with optional produce (:func:`with_produce_alternatives`): visits with
        the same non-negative number are alternatives of which at most one is served
        (the delivery with its produce, or without it); ``-1`` for a visit on its own.
        ``None``: no alternatives.
    """

    station: np.ndarray
    parcels: np.ndarray
    delivery_kg: np.ndarray
    pickup_kg: np.ndarray
    penalty: np.ndarray
    notes: tuple[str, ...]
    group: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.station)


def station_demand(problem: RoutingProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole parcels (rounded up), kilograms down and kilograms up per node."""
    parcels = np.ceil(np.asarray(problem.parcels_per_day, dtype=float) - 1e-9).astype(np.int64)
    parcels[: problem.n_depots] = 0
    parcels = np.maximum(parcels, 0)
    down = parcels * float(problem.parcel_kg)
    up = np.zeros(problem.n_nodes)
    if problem.pickup_produce and problem.produce_kg_per_day is not None:
        up = np.asarray(problem.produce_kg_per_day, dtype=float).copy()
        up[: problem.n_depots] = 0.0
    return parcels, down, up


def largest_capacities(problem: RoutingProblem) -> tuple[int, float]:
    """Largest parcel capacity and largest kilogram capacity (``inf`` if unlimited)."""
    cap_p = max(v.capacity_parcels for v in problem.vehicles)
    cap_kg = max(math.inf if v.capacity_kg is None else v.capacity_kg for v in problem.vehicles)
    return cap_p, cap_kg


#: Most pieces one load is cut into for one smaller vehicle type; a type that would
#: need more (e.g. 1,200-parcel loads for 100-parcel carts) takes remainders only,
#: which keeps the number of visits the engines route small (said in a note).
MAX_PIECES_PER_LEVEL = 6


@dataclass(frozen=True)
class _Level:
    """One vehicle size a load is cut for: parcels per trip (kilograms included) and
    kilograms of produce per trip."""

    parcels: int
    kg: float


def trip_parcels(vehicle: VehicleSpec, parcel_kg: float) -> int:
    """Parcels one trip of ``vehicle`` can carry (its kilogram limit included)."""
    cap = vehicle.capacity_parcels
    if vehicle.capacity_kg is not None and parcel_kg > 0:
        cap = min(cap, math.floor(vehicle.capacity_kg / parcel_kg + 1e-9))
    return max(cap, 0)


def _cut(p: int, u: float, level: _Level) -> list[tuple[int, float]]:
    """``(parcels, produce kg)`` cut into the fewest pieces that fit ``level``: full
    pieces first, the remainder last in each dimension."""
    k = max(1, math.ceil(p / level.parcels) if level.parcels > 0 else 1)
    if math.isfinite(level.kg) and level.kg > 0:
        k = max(k, math.ceil(u / level.kg - 1e-9))
    pieces = []
    for _ in range(k):
        part_p = min(level.parcels, p) if level.parcels > 0 else p
        part_u = min(level.kg, u)
        pieces.append((part_p, part_u))
        p, u = p - part_p, u - part_u
    return pieces


def split_loads(
    parcels: int, produce_kg: float, levels: Sequence[tuple[int, float]]
) -> tuple[list[tuple[int, float]], int]:
    """Cut one station's load into pieces that every vehicle size can fill.

    The load is cut into pieces of the largest size (full pieces and a remainder), each
    piece into pieces of the next size, and so on: a 1,200-parcel piece becomes
    500 + 500 + 200 for 500-parcel vans, so a van takes a full 500 and a truck still
    fills its 1,200 at one station (visits of one station on one trip are one stop).

    Parameters
    ----------
    parcels, produce_kg
        The station's parcels and produce.
    levels
        ``(parcels per trip, produce kg per trip)`` of each vehicle size, largest first.

    Returns
    -------
    pieces, skipped
        The pieces, and how many sizes were not cut for because one piece would need more
        than :data:`MAX_PIECES_PER_LEVEL` parts.
    """
    pieces = [(int(parcels), float(produce_kg))]
    skipped = 0
    for n, (cap_p, cap_kg) in enumerate(levels):
        level = _Level(int(cap_p), float(cap_kg))
        cut = [_cut(p, u, level) for p, u in pieces]
        if n > 0 and max(len(c) for c in cut) > MAX_PIECES_PER_LEVEL:
            skipped += 1  # the largest size is always cut for: every piece must fit it
            continue
        pieces = [piece for c in cut for piece in c]
    return pieces, skipped


def vehicle_levels(problem: RoutingProblem) -> list[tuple[int, float]]:
    """Distinct ``(parcels per trip, produce kg per trip)`` of the fleet, largest first."""
    sizes = {
        (trip_parcels(v, problem.parcel_kg), math.inf if v.capacity_kg is None else v.capacity_kg)
        for v in problem.vehicles
    }
    usable = {s for s in sizes if s[0] > 0} or sizes
    return sorted(usable, key=lambda s: (-s[0], -s[1]))


def build_visits(problem: RoutingProblem) -> Visits:
    """Split stations into visits that each fit a vehicle in every dimension.

    Without :attr:`RoutingProblem.split_delivery` a station needing ``k`` visits of the
    largest vehicle (the most any dimension needs) gets full loads first and the
    remainder last in each dimension. With it, every load is cut for every vehicle size
    (:func:`split_loads`), so each type can be filled at a large station.
    """
    if problem.split_delivery:
        return with_produce_alternatives(problem, _split_visits_all_types(problem))
    parcels, down, up = station_demand(problem)
    cap_p, cap_kg = largest_capacities(problem)
    rows: list[tuple[int, int, float, float]] = []
    n_extra = 0
    for node in range(problem.n_depots, problem.n_nodes):
        p, d, u = int(parcels[node]), float(down[node]), float(up[node])
        if p <= 0 and u <= 0:
            continue
        k = max(1, math.ceil(p / cap_p))
        if math.isfinite(cap_kg):
            k = max(k, math.ceil(d / cap_kg - 1e-9), math.ceil(u / cap_kg - 1e-9))
        n_extra += k - 1
        for _ in range(k):
            part_p = min(cap_p, p)
            part_d = min(cap_kg, d)
            part_u = min(cap_kg, u)
            rows.append((node, part_p, part_d, part_u))
            p, d, u = p - part_p, d - part_d, u - part_u
    notes = []
    if n_extra:
        notes.append(
            f"{n_extra} extra visit(s) added: stations with more than the largest vehicle "
            f"carries ({cap_p} parcels"
            + (f", {cap_kg:g} kg" if math.isfinite(cap_kg) else "")
            + ") are served by several visits"
        )
    return with_produce_alternatives(problem, _visits(problem, rows, notes))


def with_produce_alternatives(problem: RoutingProblem, visits: Visits) -> Visits:
    """Visits where produce may be left behind (:meth:`RoutingProblem.produce_optional`).

    A visit with parcels and produce gets an alternative: the same parcels without the
    produce; at most one of the two is served. Its penalty rises by the produce's value
    (``produce_value_per_kg`` × kg), so serving the alternative costs that value and
    serving neither costs both. A produce-only visit is priced at its produce's value.
    Unchanged when produce is not optional.
    """
    if not problem.produce_optional() or len(visits) == 0:
        return visits
    value = float(problem.produce_value_per_kg or 0.0)
    up = np.asarray(visits.pickup_kg, dtype=float)
    parcels = np.asarray(visits.parcels)
    penalty = np.asarray(visits.penalty, dtype=float).copy()
    both = np.flatnonzero((parcels > 0) & (up > 0))
    only = (parcels <= 0) & (up > 0)
    penalty[only] = np.maximum(value * up[only], 1e-3)
    group = np.full(len(visits) + len(both), -1, dtype=np.int64)
    group[both] = np.arange(len(both))
    group[len(visits):] = np.arange(len(both))
    return Visits(
        station=np.concatenate([visits.station, visits.station[both]]),
        parcels=np.concatenate([parcels, parcels[both]]),
        delivery_kg=np.concatenate([visits.delivery_kg, visits.delivery_kg[both]]),
        pickup_kg=np.concatenate([up, np.zeros(len(both))]),
        penalty=np.concatenate([
            np.where(np.isin(np.arange(len(visits)), both), penalty + value * up, penalty),
            penalty[both],
        ]),
        notes=visits.notes,
        group=group,
    )


def _visits(
    problem: RoutingProblem, rows: list[tuple[int, int, float, float]], notes: list[str]
) -> Visits:
    arr = np.array(rows, dtype=float).reshape(-1, 4)
    n_parcels = arr[:, 1].astype(np.int64)
    return Visits(
        station=arr[:, 0].astype(np.int64),
        parcels=n_parcels,
        delivery_kg=arr[:, 2],
        pickup_kg=arr[:, 3],
        penalty=problem.penalty_rates()[arr[:, 0].astype(np.int64)]
        * np.maximum(n_parcels, 1).astype(float),
        notes=tuple(notes),
    )


def _split_visits_all_types(problem: RoutingProblem) -> Visits:
    """Visits for split delivery: every load cut by :func:`split_loads`."""
    parcels, _, up = station_demand(problem)
    levels = vehicle_levels(problem)
    rows: list[tuple[int, int, float, float]] = []
    n_split = 0
    skipped = 0
    for node in range(problem.n_depots, problem.n_nodes):
        p, u = int(parcels[node]), float(up[node])
        if p <= 0 and u <= 0:
            continue
        pieces, miss = split_loads(p, u, levels)
        skipped = max(skipped, miss)
        n_split += len(pieces) > 1
        rows.extend((node, pp, pp * float(problem.parcel_kg), pu) for pp, pu in pieces)
    notes = []
    if n_split:
        sizes = ", ".join(str(c) for c, _ in levels)
        notes.append(
            f"split delivery: the loads of {n_split} station(s) are cut into pieces every "
            f"vehicle size ({sizes} parcels per trip) can fill; a station may be served by "
            "several vehicles"
        )
    if skipped:
        notes.append(
            f"split delivery: {skipped} small vehicle size(s) take remainders only (a load "
            f"would need more than {MAX_PIECES_PER_LEVEL} pieces of their size)"
        )
    return _visits(problem, rows, notes)


@dataclass(frozen=True)
class Scaling:
    """Integer versions of the problem's numbers, shared by the engines.

    Attributes
    ----------
    distance
        ``(N, N)`` distances in ``1/distance_scale_per_km`` km.
    cost_units_per_currency
        Integer objective units per currency unit.
    unit_distance_cost
        Per vehicle: objective units per integer distance unit.
    fixed_cost
        Per vehicle: objective units.
    notes
        Where rounding changed a number by more than 0.1 %.
    """

    distance: np.ndarray
    cost_units_per_currency: float
    unit_distance_cost: tuple[int, ...]
    fixed_cost: tuple[int, ...]
    notes: tuple[str, ...]

    def penalty(self, currency: float) -> int:
        """A price in objective units (at least 1)."""
        return max(1, round(currency * self.cost_units_per_currency))

    def time(self, problem: RoutingProblem, minutes: float) -> int:
        """Minutes → integer time units (``inf`` → a large horizon)."""
        if not math.isfinite(minutes):
            return HORIZON
        return round(minutes * problem.time_scale_per_min)


#: Stand-in for "no limit" in integer time and distance units.
HORIZON = 10**12

#: Integer solver units per kilogram (both engines carry kilograms as integers).
KG_SCALE = 10


def kg_units(kg: np.ndarray) -> np.ndarray:
    """Kilograms of loads as integer solver units, rounded up (a load never shrinks)."""
    return np.ceil(np.asarray(kg, dtype=float) * KG_SCALE - 1e-9).astype(np.int64)


def capacity_kg_units(capacity_kg: float | None) -> int:
    """A vehicle's kilogram capacity in integer solver units, rounded down (never grows);
    no limit is :data:`HORIZON`."""
    return HORIZON if capacity_kg is None else math.floor(capacity_kg * KG_SCALE + 1e-9)


def _rounding_error(values: np.ndarray, scaled: np.ndarray, scale: float) -> float:
    """Largest absolute change of a value by rounding (original units)."""
    if values.size == 0:
        return 0.0
    finite = np.isfinite(values)
    return float(np.abs(scaled[finite] / scale - values[finite]).max(initial=0.0))


def arcs_bound(problem: RoutingProblem) -> int:
    """Most arcs a solution can drive: one per station visit plus one per trip."""
    return (problem.n_nodes - problem.n_depots) + sum(v.max_trips for v in problem.vehicles)


def make_scaling(problem: RoutingProblem) -> Scaling:
    """Distances and costs as integers (see the module docstring)."""
    dist_km = np.asarray(problem.distance_km, dtype=float)
    sd = problem.distance_scale_per_km
    distance = np.rint(dist_km * sd).astype(np.int64)
    notes = []
    worst_km = _rounding_error(dist_km, distance, sd) * arcs_bound(problem)
    if problem.n_nodes > problem.n_depots:
        # Every solution that serves the farthest station drives at least this far.
        reach = dist_km[: problem.n_depots, problem.n_depots :].min(axis=0)
        back = dist_km[problem.n_depots :, : problem.n_depots].min(axis=1)
        floor_km = float((reach + back).max())
        if worst_km > ROUNDING_NOTE_REL * floor_km:
            notes.append(
                f"distances rounded to 1/{sd} km for the solver could change a plan's "
                f"length by up to {worst_km:.3g} km; the solver may rank close plans "
                "differently, reported figures are recomputed without rounding"
            )
    rates = sorted({v.cost_per_km for v in problem.vehicles})
    if len(rates) == 1 and rates[0] > 0:
        # One rate: the objective is the integer distance itself (exact for benchmarks).
        units_per_km = 1.0 / rates[0]
        unit = tuple(1 for _ in problem.vehicles)
    else:
        units_per_km = 100.0  # cents per km
        unit = tuple(round(v.cost_per_km * units_per_km) for v in problem.vehicles)
        bad = [
            v.cost_per_km
            for v, u in zip(problem.vehicles, unit, strict=True)
            if v.cost_per_km > 0 and abs(u / units_per_km - v.cost_per_km) > 1e-3 * v.cost_per_km
        ]
        if bad:
            notes.append(
                f"cost_per_km rounded to 0.01 for the solver ({sorted(set(bad))[:3]}…)"
            )
    per_currency = units_per_km * sd
    fixed = tuple(round(v.fixed_cost_per_day * per_currency) for v in problem.vehicles)
    return Scaling(
        distance=distance,
        cost_units_per_currency=per_currency,
        unit_distance_cost=unit,
        fixed_cost=fixed,
        notes=tuple(notes),
    )


def service_minutes(problem: RoutingProblem) -> np.ndarray:
    """``(N,)`` station service time (vehicle's own not included); depots 0."""
    if problem.service_time_min is None:
        return np.zeros(problem.n_nodes)
    service = np.asarray(problem.service_time_min, dtype=float).copy()
    service[: problem.n_depots] = 0.0
    return service


def travel_time_units(
    problem: RoutingProblem, *, speed_factor: float, vehicle_service_min: float
) -> tuple[np.ndarray, float]:
    """``(N, N)`` integer time from leaving-to-arrive, with service at the origin folded in.

    ``t[i, j] = (service_i + vehicle_service if i is a station) + time_ij / speed``;
    ``t[i, i] = 0`` (two visits to one station are one stop).

    Returns
    -------
    matrix, error
        The matrix and the largest rounding change of an arc, minutes.
    """
    st = problem.time_scale_per_min
    minutes = np.asarray(problem.time_min, dtype=float) / speed_factor
    station = np.arange(problem.n_nodes) >= problem.n_depots
    service = service_minutes(problem) + vehicle_service_min * station
    total = minutes + service[:, None]
    np.fill_diagonal(total, 0.0)
    units = np.rint(total * st).astype(np.int64)
    return units, _rounding_error(total, units, st)


def time_windows_units(problem: RoutingProblem) -> np.ndarray:
    """``(N, 2)`` integer service windows (``[0, HORIZON]`` when open all day)."""
    out = np.zeros((problem.n_nodes, 2), dtype=np.int64)
    out[:, 1] = HORIZON
    if problem.time_window_min is not None:
        tw = np.asarray(problem.time_window_min, dtype=float)
        st = problem.time_scale_per_min
        early = np.where(np.isfinite(tw[:, 0]), np.ceil(tw[:, 0] * st - 1e-9), 0)
        late = np.where(np.isfinite(tw[:, 1]), np.floor(tw[:, 1] * st + 1e-9), HORIZON)
        out[:, 0] = early.astype(np.int64)
        out[:, 1] = late.astype(np.int64)
        out[: problem.n_depots] = (0, HORIZON)
    return out


@dataclass(frozen=True)
class RawSolution:
    """What an engine returns: for each used vehicle, its trips as visit indices.

    Attributes
    ----------
    routes
        ``(vehicle, ((visit, …), (visit, …)))`` per used vehicle.
    objective
        The engine's own integer objective (for choosing between runs only).
    feasible
        Whether the engine claims feasibility.
    note
        Engine remark.
    """

    routes: tuple[tuple[int, tuple[tuple[int, ...], ...]], ...]
    objective: float
    feasible: bool
    note: str = ""
