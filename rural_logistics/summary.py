"""The schema of ``summary.json``: one typed dictionary per section.

A plan's summary is built once (:mod:`rural_logistics.assemble`) and read by the CLI,
the map and the reports through these types, so a key is spelt in one place. Every key
here is documented in the README's "Outputs" section (``tests/test_docs.py`` checks it).
A run folder written by an older version is read back as a :class:`Summary` too; its
missing keys are read with ``.get``.

Delivery modes add their own section (``location_routing``, ``two_echelon``; later modes
add theirs) through :class:`DeliverySections`.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class CostSection(TypedDict):
    """Daily cost by part (currency/day). ``village_transport_per_day`` and
    ``unserved_penalty_per_day`` appear only where they are priced (location-routing's
    plan comparison)."""

    opening_per_day: float
    village_transport_per_day: NotRequired[float]
    fixed_vehicle_per_day: float
    travel_per_day: float
    unserved_penalty_per_day: NotRequired[float]
    total_per_day: float


class PlacementSection(TypedDict):
    """How the stations were chosen."""

    method: str
    objective: str
    weight: str
    status: str
    objective_value: float
    bound: float
    gap: float
    model_sense: str
    solve_seconds: float
    uncovered_villages: list[str]
    formulation: NotRequired[str]


class RoutingSection(TypedDict):
    """How the station routes were found."""

    status: str
    engine: str
    unserved_penalty: float
    solve_seconds: float
    notes: list[str]


class DeliveryBoundSection(TypedDict):
    """Proven upper bounds on the parcels the fleet can deliver per day, computed before
    the routing search (:mod:`rural_logistics.routing.bounds`), and what the plan reaches."""

    demand_parcels_per_day: int
    bound_parcels_per_day: float
    binding: str
    proven_shortfall_parcels_per_day: float
    delivered_parcels_per_day: int
    delivered_share_of_bound: float
    heuristic_gap_parcels_per_day: float
    priced_out_parcels_per_day: float
    fleet_capacity: float
    reach: float
    able_capacity: float
    shift_time: float
    lift: str


class DiagnosisRow(TypedDict):
    """An unserved station and why."""

    station_id: str
    unserved_parcels: int
    reason: str


class LrpPlanSection(CostSection):
    """One of location-routing's two plans: its cost split and size."""

    stations_open: int
    routes: int
    route_km: float


class LocationRoutingSection(TypedDict):
    """``placement.method: location_routing``: both plans and the search."""

    chosen: str
    sequential: LrpPlanSection
    joint: LrpPlanSection
    saved_per_day: float
    saved_share: float
    sets_estimated: int
    sets_confirmed: int
    notes: list[str]
    solve_seconds: float


class TwoEchelonSection(TypedDict):
    """``hubs``: the open hubs and both tiers."""

    hubs_open: list[str]
    hub_stations: dict[str, list[str]]
    trunk_routes: int
    last_mile_routes: int
    trunk_km: float
    last_mile_km: float


class HirePlanSection(TypedDict):
    """The hire MIP's answer (a lower bound on any plan's hire cost)."""

    status: str
    hired: dict[str, list[int]]
    cost: float | None
    bound: float | None


class OneFewerSection(TypedDict):
    """The hire MIP with one vehicle fewer on the busiest hire day."""

    day: int
    vehicle: str
    hired: int
    status: str
    promise_breaks: bool
    hire_cost_bound: float | None


class PeakSection(TypedDict):
    """``peak``: the week day by day (lists have one entry per day)."""

    days: list[int]
    arrivals_multiplier: list[float]
    arrivals: list[int]
    delivered: list[int]
    backlog: list[int]
    hired: dict[str, list[int]]
    hire_cost: list[float]
    own_vehicles_used: list[int]
    route_km: list[float]
    cost: list[float]
    longest_wait_days: list[int]
    days_to_clear: int | None
    max_backlog_parcels: int
    deliver_within_days: int
    promise_kept: bool
    hire_plan: HirePlanSection
    notes: list[str]
    hire_proven_minimal: bool
    one_fewer_on_busiest_day: NotRequired[OneFewerSection | None]


class FrequencyDay(TypedDict):
    """One day of the weekly plan."""

    day: int
    name: str
    stations_visited: int
    parcels: int
    vehicles: int
    km: float
    cost: float


class FrequencyStation(TypedDict):
    """A routed station's visits in the weekly plan."""

    station_id: str
    parcels_per_day: float
    visits: int
    pattern: str
    allowed_visits: list[int]
    max_load_parcels: int
    mean_wait_days: float
    worst_wait_days: int


class WeekFigures(TypedDict):
    """A week of routes: the weekly plan or daily service."""

    vehicles: int
    km_per_week: float
    route_cost_per_week: float
    waiting_cost_per_week: float
    cost_per_week: float
    delivered_share: float
    feasible: bool


class WeekSaving(TypedDict):
    """Daily service minus the weekly plan."""

    km_per_week: float
    vehicles: int
    cost_per_week: float
    cost_share: float


class PlanCheckSection(TypedDict):
    """The independent periodic checker on the weekly plan."""

    applied: bool
    feasible: bool | None
    violations: list[str]
    distance_km: NotRequired[float]
    reason: NotRequired[str]


class FrequencySection(TypedDict):
    """``frequency``: the weekly plan (visit frequencies and patterns, routes per day)."""

    horizon_days: int
    day_names: list[str]
    days: list[FrequencyDay]
    stations: list[FrequencyStation]
    stations_by_visits: dict[str, int]
    mean_wait_days: float
    worst_wait_days: int
    weekly: WeekFigures
    daily_service: WeekFigures
    saving_vs_daily: WeekSaving
    check: PlanCheckSection
    notes: list[str]
class ProduceLeftRow(TypedDict):
    """A station whose produce is (partly) left behind, and why."""

    station_id: str
    offered_kg_per_day: float
    collected_kg_per_day: float
    left_kg_per_day: float
    reason: str
    detail: str


class ProduceSection(TypedDict):
    """Two-way flows: farm produce collected on the delivery visits and left behind
    (:mod:`rural_logistics.produce`)."""

    pickup_produce: bool
    produce_multiplier: float
    parcel_kg: float
    offered_kg_per_day: float
    collected_kg_per_day: float
    left_behind_kg_per_day: float
    collected_share: float
    left_behind_by_reason_kg_per_day: dict[str, float]
    stations_left_behind: list[ProduceLeftRow]
    max_load_kg: float
    max_load_share_of_capacity_kg: float | None


class DeliverySections(TypedDict, total=False):
    """The section a delivery mode adds to the summary (at most one per mode)."""

    location_routing: LocationRoutingSection
    two_echelon: TwoEchelonSection
    peak: PeakSection
    frequency: FrequencySection


class NetworkSection(TypedDict):
    """What the distances and times are based on (``network.mode``)."""

    mode: str
    distance_basis: str
    circuity: NotRequired[float]
    speed_kph: NotRequired[float]
    matrix_rows: NotRequired[int]
    road_km: NotRequired[float]
    oneway_km: NotRequired[float]
    connector_km: NotRequired[float]


class OffroadLeg(TypedDict):
    """A station far from any road: the straight leg vans do not drive (for the map)."""

    station_id: str
    offroad_m: float
    station_xy: list[float]
    road_xy: list[float]


class KeyFigures(TypedDict):
    """Coverage, access, fleet and cost figures (:func:`rural_logistics.metrics.summarize`)."""

    delivered_share: float
    region: str
    scenario: str
    villages: int
    population: int
    parcels_per_day: float
    stations_open: int
    radius_km: float
    population_within_radius: int
    population_within_radius_share: float
    mean_access_km: float
    p90_access_km: float
    max_access_km: float | None
    mean_access_min: float
    p90_access_min: float
    max_access_min: float | None
    villages_beyond_5km: int
    villages_beyond_10km: int
    access_gini: float
    vehicles_used: int
    routes: int
    total_route_km: float
    total_route_min: float
    delivered_parcels_per_day: float
    total_cost_per_day: float
    cost_per_parcel: float | None
    unserved_villages: list[str]


class Summary(KeyFigures):
    """Everything in ``summary.json``, in the order written."""

    status: str
    status_detail: str
    comparable: bool
    delivery_bound: NotRequired[DeliveryBoundSection]
    diagnosis: list[DiagnosisRow]
    crs: str
    seed: int
    time_limit_s: float
    placement: PlacementSection
    routing: RoutingSection
    cost: CostSection
    network: NetworkSection
    stations_at_depot: list[str]
    offroad_legs: list[OffroadLeg]
    warnings: list[str]
    solve_seconds: float
    location_routing: NotRequired[LocationRoutingSection]
    two_echelon: NotRequired[TwoEchelonSection]
    peak: NotRequired[PeakSection]
    frequency: NotRequired[FrequencySection]
    produce_collected_kg_per_day: NotRequired[float]
    produce_left_behind_kg_per_day: NotRequired[float]
    produce: NotRequired[ProduceSection]


class SweepRow(TypedDict):
    """One point of a sweep (``sweep_summary.json`` ``rows``, one line of ``sweep.csv``):
    the plan with ``stations`` stations and its figures at ``radius_km``."""

    stations: int
    radius_km: float
    method: str
    status: str
    status_detail: str
    placement_status: str
    placement_gap: float
    placement_seconds: float
    population_within_radius_share: float
    best_within_radius_share: float
    best_within_radius_bound: float
    mean_access_km: float
    max_access_km: float | None
    mean_access_min: float
    access_gini: float
    opening_cost_per_day: float
    vehicles_used: int | None
    total_route_km: float | None
    delivered_share: float | None
    cost_per_day: float | None
    cost_per_parcel: float | None
    routing_status: str | None
    routing_seconds: float | None
    station_ids: list[str]


class SweepStep(TypedDict):
    """From one swept number of stations to the next, at one radius."""

    radius_km: float
    from_stations: int
    to_stations: int
    coverage_gain: float
    coverage_per_station: float
    cost_added_per_day: float | None
    coverage_per_1000_per_day: float | None


class SweepCurve(TypedDict):
    """The trade-off curve at one radius: its steps, the best step and the knee."""

    radius_km: float
    steps: list[SweepStep]
    best_step_to_stations: int | None
    best_step_basis: str
    knee_stations: int | None


class SweepTarget(TypedDict):
    """The answer to ``--target coverage=X`` at one radius."""

    radius_km: float
    coverage: float
    reached: bool
    proven: bool
    stations: int | None
    best_share: float | None
    below_stations: int | None
    below_bound_share: float | None
    station_ids: list[str]
    statement: str


class SweepSummary(TypedDict):
    """Everything in ``sweep_summary.json``."""

    region: str
    scenario: str
    method: str
    objective: str
    weight: str
    villages: int
    population: int
    parcels_per_day: float
    candidate_sites: int
    stations_swept: list[int]
    radii_km: list[float]
    routed: bool
    time_limit_s: float
    cost_basis: str
    rows: list[SweepRow]
    curves: list[SweepCurve]
    targets: list[SweepTarget]
    network: NetworkSection
    warnings: list[str]
    prepare_seconds: float
    placement_seconds: float
    frontier_seconds: float
    routing_seconds: float
    total_seconds: float
