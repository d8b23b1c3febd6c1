"""Region config: YAML → validated, frozen models.

Every key is documented in the README's config reference. Unknown keys are rejected,
and all problems in a file are reported together, each naming the file and the key.
Paths under ``data`` are relative to the YAML file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from rural_logistics.errors import ConfigError, read_text

#: Nov 11 share of the Nov 1–11 rural online retail sales on the 2017 Double Eleven
#: (39.24 of 84.61 billion yuan = 46.38 %). Times 11 days gives the peak day relative
#: to the mean day of that window: 0.4638 × 11 ≈ 5.10.
DOUBLE11_SHARE_OF_NOV1_11 = 39.24 / 84.61
DOUBLE11_MULTIPLIER = round(DOUBLE11_SHARE_OF_NOV1_11 * 11, 2)

#: Road distance / straight-line distance assumed by ``network.mode: straight_line``.
#: Published circuity factors: about 1.2 for random point pairs in cities (Newell 1980),
#: 1.26 for South Korea as a whole and 1.22–1.44 across its provinces, the most
#: mountainous highest (Kim et al. 2015, J. Korean Soc. Agric. Eng. 57(4):39–49); rural
#: and hilly counties sit at the upper end, hence 1.3.
DEFAULT_CIRCUITY = 1.3

PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
# Upper bounds keep every figure far inside the solvers' 64-bit integer scaling.
SpeedKph = Annotated[float, Field(ge=0.5, le=300, allow_inf_nan=False)]
Multiplier = Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)]
MinuteOfDays = Annotated[float, Field(ge=0, le=2880, allow_inf_nan=False)]
Money = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class RegionSettings(_Model):
    """Name and working CRS of the region."""

    name: str = Field(min_length=1)
    crs: str = "auto"


#: The data files a ``data.layers`` key may name.
LayerKey = Literal["villages", "roads", "depots", "towns", "candidate_sites", "townships"]
#: Geographic coordinate systems of lon/lat data: WGS 84, or China's GCJ-02 (Amap, Tencent)
#: and BD-09 (Baidu), which are converted to WGS 84 on reading.
CoordinateSystem = Literal["wgs84", "gcj02", "bd09"]


class DataSettings(_Model):
    """Input files (relative to the config file)."""

    villages: Path
    roads: Path | None = None
    depots: Path
    towns: Path | None = None
    candidate_sites: Path | None = None
    townships: Path | None = None
    travel_matrix: Path | None = None
    layers: dict[LayerKey, str] = Field(default_factory=dict)
    lon_column: str = "lon"
    lat_column: str = "lat"
    id_column: str | None = None
    population_column: str | None = None
    name_column: str | None = None
    coordinate_system: CoordinateSystem = "wgs84"
    roads_coordinate_system: CoordinateSystem = "wgs84"

    @property
    def id_col(self) -> str:
        """Id column of the point layers (``id`` unless configured)."""
        return self.id_column or "id"

    @property
    def population_col(self) -> str:
        """Population column of the villages (``population`` unless configured)."""
        return self.population_column or "population"

    @property
    def name_col(self) -> str:
        """Name column of the point layers (``name`` unless configured)."""
        return self.name_column or "name"


class NetworkSettings(_Model):
    """How roads become a travel-time graph."""

    speed_kph_by_class: dict[str, SpeedKph] = Field(
        default_factory=lambda: {
            "national": 70.0,
            "provincial": 60.0,
            "county": 50.0,
            "township": 35.0,
            "village": 25.0,
        }
    )
    default_speed_kph: SpeedKph = 30.0
    road_class_column: str | None = None
    speed_column: str | None = None
    oneway_column: str | None = None
    mode: Literal["roads", "straight_line", "matrix"] = "roads"
    circuity: Annotated[float, Field(ge=1.0, le=3.0, allow_inf_nan=False)] = DEFAULT_CIRCUITY
    straight_line_speed_kph: SpeedKph = 30.0
    offroad_speed_kph: SpeedKph = 5.0
    remote_warning_m: PositiveFloat = 1000.0
    max_offroad_m: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)] = 10_000.0
    disconnected: Literal["error", "connect"] = "error"
    connector_speed_kph: SpeedKph = 10.0

    @property
    def road_class_col(self) -> str:
        """Road class column (``road_class`` unless configured)."""
        return self.road_class_column or "road_class"

    @property
    def speed_col(self) -> str:
        """Per-road speed column (``speed_kph`` unless configured)."""
        return self.speed_column or "speed_kph"

    @property
    def oneway_col(self) -> str:
        """One-way column (``oneway`` unless configured)."""
        return self.oneway_column or "oneway"


class DemandSettings(_Model):
    """Parcels per day from population."""

    parcels_per_capita_per_year: Annotated[
        float, Field(gt=0, le=10_000, allow_inf_nan=False)
    ] = 25.0
    scenarios: dict[str, Multiplier] = Field(
        default_factory=lambda: {"normal": 1.0, "double11": DOUBLE11_MULTIPLIER}
    )
    produce_multiplier: dict[str, Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]] = (
        Field(default_factory=dict)
    )


class PlacementSettings(_Model):
    """Where stations go: the model and its side constraints."""

    method: Literal[
        "p_median", "max_coverage", "set_cover", "fixed_charge", "location_routing"
    ] = "p_median"
    stations: int = Field(default=20, ge=1)
    radius_km: PositiveFloat = 3.0
    objective: Literal["time", "distance"] = "time"
    weight: Literal["population", "parcels"] = "population"
    keep_existing: bool = False
    opening_cost_per_day: NonNegativeFloat = 0.0
    capacity_parcels_per_day: PositiveFloat | None = None
    transport_cost_per_parcel_km: NonNegativeFloat = 1.0
    single_source: bool = False
    exclude_sites: tuple[str, ...] = ()
    max_stations: int | None = Field(default=None, ge=1)
    max_opening_cost: NonNegativeFloat | None = None
    min_stations_per_township: int = Field(default=0, ge=0)
    max_access_km: PositiveFloat | None = None
    nearest_sites: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _keys_fit_the_method(self) -> PlacementSettings:
        if self.method == "fixed_charge" and (
            self.opening_cost_per_day == 0 and self.transport_cost_per_parcel_km == 0
        ):
            raise ValueError(
                "fixed_charge needs opening_cost_per_day or transport_cost_per_parcel_km > 0"
            )
        charged = ("fixed_charge", "location_routing")
        if self.method == "location_routing" and self.opening_cost_per_day == 0:
            raise ValueError(
                "location_routing needs opening_cost_per_day > 0 (the daily cost of a station)"
            )
        if self.single_source and self.method not in charged:
            raise ValueError("single_source applies to methods fixed_charge, location_routing")
        if self.capacity_parcels_per_day is not None and self.method not in charged:
            raise ValueError(
                "capacity_parcels_per_day applies to methods fixed_charge, location_routing"
            )
        if self.max_opening_cost is not None and self.opening_cost_per_day == 0:
            raise ValueError("max_opening_cost needs opening_cost_per_day > 0")
        return self


class VehicleType(_Model):
    """One vehicle type of the fleet."""

    name: str = Field(min_length=1)
    capacity_parcels: int = Field(ge=1, le=1_000_000)
    count: int = Field(ge=1, le=1000)
    speed_factor: Annotated[float, Field(gt=0, le=10, allow_inf_nan=False)] = 1.0
    cost_per_km: Money = 1.0
    fixed_cost_per_day: Money = 0.0
    max_route_duration_min: Annotated[float, Field(gt=0, le=1440, allow_inf_nan=False)] = 480.0
    service_time_min: Annotated[float, Field(ge=0, le=1440, allow_inf_nan=False)] = 10.0
    capacity_kg: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)] | None = None
    depot: str | None = None
    shift_start_min: Annotated[float, Field(ge=0, lt=1440, allow_inf_nan=False)] = 480.0
    max_route_distance_km: Annotated[float, Field(gt=0, le=1e5, allow_inf_nan=False)] | None = None
    max_trips: int = Field(default=1, ge=1, le=10)


class FleetSettings(_Model):
    """Vehicle types; each is based at a depot (default the county distribution centre)."""

    vehicles: tuple[VehicleType, ...]

    @field_validator("vehicles")
    @classmethod
    def _unique_names(cls, value: tuple[VehicleType, ...]) -> tuple[VehicleType, ...]:
        # Checked here rather than with Field(min_length=1), which would add a second,
        # misleading error when one vehicle entry is itself invalid.
        if not value:
            raise ValueError("at least one vehicle type is required")
        names = [v.name for v in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate vehicle type name(s): {', '.join(dupes)}")
        return value


#: Default column names of the per-station terms (read when present in the sites layer).
STATION_COLUMN_DEFAULTS = {
    "time_window_open": "tw_open_min",
    "time_window_close": "tw_close_min",
    "service_time": "service_time_min",
    "unserved_penalty": "unserved_penalty_per_parcel",
}


class StationColumns(_Model):
    """Columns of the sites layer (the villages, towns or candidate sites file) that give a
    station its own opening window, service time and unserved penalty. ``None``: the
    default name (:data:`STATION_COLUMN_DEFAULTS`), read when the layer has it; a
    configured name the layer lacks is an error. A blank cell takes the config default."""

    time_window_open: str | None = Field(default=None, min_length=1)
    time_window_close: str | None = Field(default=None, min_length=1)
    service_time: str | None = Field(default=None, min_length=1)
    unserved_penalty: str | None = Field(default=None, min_length=1)

    def column(self, key: str) -> str:
        """The column name of a term (configured, else the default)."""
        value = getattr(self, key)
        return str(value) if value is not None else STATION_COLUMN_DEFAULTS[key]


class RoutingSettings(_Model):
    """Routing options."""

    unserved_penalty_per_parcel: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)] = (
        1000.0
    )
    engine: Literal["pyvrp", "ortools"] = "pyvrp"
    workers: int = Field(default=2, ge=1, le=2)
    station_hours_min: tuple[MinuteOfDays, MinuteOfDays] | None = None
    parcel_kg: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] = 0.0
    pickup_produce: bool = False
    columns: StationColumns = StationColumns()
    produce_value_per_kg: Annotated[float, Field(gt=0, le=1e6, allow_inf_nan=False)] = 10.0

    @field_validator("station_hours_min")
    @classmethod
    def _hours_ordered(
        cls, value: tuple[float, float] | None
    ) -> tuple[float, float] | None:
        if value is not None and value[0] >= value[1]:
            raise ValueError("opening time must be before closing time (minutes from midnight)")
        return value


class HubCandidate(_Model):
    """A candidate township hub: a row of the depots file with its daily cost and capacity."""

    depot_id: str = Field(min_length=1)
    opening_cost_per_day: Money = 0.0
    capacity_parcels_per_day: PositiveFloat


class HubSettings(_Model):
    """Two-echelon network: trunk vehicles carry parcels from the county distribution centre
    to the township hubs that open, last-mile vehicles from the hubs to the stations."""

    candidates: tuple[HubCandidate, ...] = Field(min_length=1)
    trunk_vehicle: str = Field(min_length=1)
    last_mile_vehicle: str = Field(min_length=1)
    dc_serves_stations: bool = True


class PeakHire(_Model):
    """Vehicles of a fleet type that can be hired for a day of the peak week."""

    vehicle: str = Field(min_length=1)
    cost_per_day: Money
    available_per_day: int = Field(ge=0, le=1000)


class PeakSettings(_Model):
    """A peak week (Double Eleven): the stations are served day after day; what is not
    delivered on a day waits at the county DC (oldest first) and vehicles can be hired."""

    arrivals: tuple[NonNegativeFloat, ...] | None = Field(default=None, min_length=1,
                                                          max_length=31)
    deliver_within_days: int = Field(default=2, ge=1, le=31)
    station_storage_parcels: PositiveFloat | None = None
    hire: tuple[PeakHire, ...] = ()


#: The designs a ``carriers`` section compares (see :mod:`rural_logistics.carriers`).
DesignName = Literal["separate", "shared_stations", "joint"]
DESIGNS: tuple[DesignName, ...] = ("separate", "shared_stations", "joint")
#: Most carriers of a ``carriers`` section (the exact Shapley value solves every coalition).
MAX_CARRIERS = 5
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class Carrier(_Model):
    """One carrier: its share of the parcels, depots, fleet and existing stations."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    share: Share | None = None
    share_by_township: dict[str, Share] = Field(default_factory=dict)
    share_column: str | None = None
    depots: tuple[str, ...] = Field(min_length=1)
    fleet: tuple[VehicleType, ...] = Field(min_length=1)
    existing_stations: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _one_share_rule(self) -> Carrier:
        if self.share_column is not None and (self.share is not None or self.share_by_township):
            raise ValueError("give share (and share_by_township) or share_column, not both")
        if self.share_column is None and self.share is None:
            raise ValueError("share or share_column is required (the carrier's share of "
                             "each village's parcels)")
        names = [v.name for v in self.fleet]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"fleet: duplicate vehicle type name(s): {', '.join(dupes)}")
        for k, v in enumerate(self.fleet):
            if v.depot is not None and v.depot not in self.depots:
                raise ValueError(f"fleet[{k}].depot: {v.depot!r} is not one of the carrier's "
                                 f"depots ({', '.join(self.depots)})")
        return self

    def vehicle_types(self) -> tuple[VehicleType, ...]:
        """The fleet as county fleet types: named ``carrier.type``, each based at its
        depot (the carrier's first depot unless the type names one)."""
        return tuple(
            v.model_copy(update={"name": f"{self.name}.{v.name}",
                                 "depot": v.depot or self.depots[0]})
            for v in self.fleet
        )


class CarriersSettings(_Model):
    """Several carriers serving the same villages, and the designs to compare."""

    members: tuple[Carrier, ...]
    designs: tuple[DesignName, ...] = DESIGNS
    competitor_stations: tuple[str, ...] = ()
    shapley: bool = True

    @model_validator(mode="after")
    def _distinct(self) -> CarriersSettings:
        if not 2 <= len(self.members) <= MAX_CARRIERS:
            raise ValueError(f"members: give 2 to {MAX_CARRIERS} carriers (got "
                             f"{len(self.members)})")
        names = [c.name for c in self.members]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"members: duplicate carrier name(s): {', '.join(dupes)}")
        if not self.designs or len(set(self.designs)) != len(self.designs):
            raise ValueError("designs: name each of separate, shared_stations, joint at most "
                             "once (at least one)")
        if self.shapley and "joint" not in self.designs:
            raise ValueError("shapley: the fair split shares the joint design's cost; add "
                             "joint to designs or set shapley: false")
        return self

    def fleet(self) -> FleetSettings:
        """The county's fleet: every carrier's vehicle types (``carrier.type``)."""
        return FleetSettings(vehicles=tuple(v for c in self.members for v in c.vehicle_types()))

class FrequencyRule(_Model):
    """Stations with at least ``min_parcels_per_day`` get one of ``visits`` visits over the
    horizon (several: the planner picks)."""

    min_parcels_per_day: NonNegativeFloat
    visits: tuple[Annotated[int, Field(ge=1, le=31)], ...] = Field(min_length=1)


class FrequencySettings(_Model):
    """A weekly plan: stations are visited some days of a repeating horizon, not daily."""

    horizon_days: int = Field(default=6, ge=1, le=14)
    day_names: tuple[str, ...] | None = None
    rules: tuple[FrequencyRule, ...] = Field(min_length=1)
    patterns: dict[int, tuple[tuple[int, ...], ...]] = Field(default_factory=dict)
    station_storage_parcels: PositiveFloat | None = None
    waiting_cost_per_parcel_day: Money = 0.0

    @model_validator(mode="after")
    def _consistent(self) -> FrequencySettings:
        h = self.horizon_days
        if self.day_names is not None and len(self.day_names) != h:
            raise ValueError(
                f"frequency.day_names: {len(self.day_names)} names for horizon_days {h}"
            )
        for k, rule in enumerate(self.rules):
            for v in rule.visits:
                if v > h:
                    raise ValueError(
                        f"frequency.rules[{k}].visits: {v} visits do not fit in "
                        f"horizon_days {h}"
                    )
        if not any(r.min_parcels_per_day == 0 for r in self.rules):
            raise ValueError(
                "frequency.rules: no rule for the smallest stations (add one with "
                "min_parcels_per_day: 0)"
            )
        for f, pats in self.patterns.items():
            if not pats:
                raise ValueError(f"frequency.patterns.{f}: no pattern listed")
            for j, pat in enumerate(pats):
                if len(pat) != f or len(set(pat)) != f:
                    raise ValueError(
                        f"frequency.patterns.{f}[{j}]: needs {f} different days, got "
                        f"{list(pat)}"
                    )
                bad = [d for d in pat if not 1 <= d <= h]
                if bad:
                    raise ValueError(
                        f"frequency.patterns.{f}[{j}]: day {bad[0]} is outside 1–{h} "
                        "(horizon_days)"
                    )
        return self


class SolverSettings(_Model):
    """Time limits and seed shared by the solvers."""

    time_limit_s: Annotated[float, Field(gt=0, le=86_400, allow_inf_nan=False)] = 20.0
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class RegionConfig(_Model):
    """The whole region config."""

    region: RegionSettings
    data: DataSettings
    network: NetworkSettings = NetworkSettings()
    demand: DemandSettings = DemandSettings()
    scenario: str = "normal"
    placement: PlacementSettings = PlacementSettings()
    fleet: FleetSettings
    routing: RoutingSettings = RoutingSettings()
    hubs: HubSettings | None = None
    peak: PeakSettings | None = None
    carriers: CarriersSettings | None = None
    frequency: FrequencySettings | None = None
    solver: SolverSettings = SolverSettings()

    @model_validator(mode="before")
    @classmethod
    def _carriers_fleet(cls, data: Any) -> Any:
        """With a ``carriers`` section the county's fleet is the carriers' fleets: filled
        in when ``fleet`` is absent (a written ``config.yaml`` holds both; they must agree)."""
        if not isinstance(data, dict) or not isinstance(data.get("carriers"), dict):
            return data
        try:
            carriers = CarriersSettings.model_validate(data["carriers"])
        except ValidationError:  # reported with the carriers key's location
            placeholder = {"vehicles": [{"name": "-", "capacity_parcels": 1, "count": 1}]}
            return data if "fleet" in data else {**data, "fleet": placeholder}
        derived = carriers.fleet()
        if "fleet" not in data:
            return {**data, "fleet": derived.model_dump()}
        try:
            given = FleetSettings.model_validate(data["fleet"])
        except ValidationError:
            return data
        if given != derived:
            raise ValueError("fleet: with a carriers section the fleet is the carriers' "
                             "fleets (carriers.members[*].fleet); remove the fleet section")
        return data

    @model_validator(mode="after")
    def _carriers_mode(self) -> RegionConfig:
        if self.carriers is not None and (
            self.hubs is not None or self.peak is not None or self.frequency is not None
            or self.placement.method == "location_routing"
        ):
            raise ValueError(
                "carriers: the designs route each network directly from the carriers' "
                "depots every day; remove the hubs, peak and frequency sections and use a "
                "placement method other than location_routing"
            )
        return self

    @model_validator(mode="after")
    def _frequency_inputs(self) -> RegionConfig:
        if self.frequency is None:
            return self
        if self.peak is not None or self.hubs is not None or (
            self.placement.method == "location_routing"
        ):
            raise ValueError(
                "frequency: the weekly plan is direct delivery (DC → stations) on normal "
                "days; remove the peak and hubs sections and use a placement method other "
                "than location_routing"
            )
        return self

    @model_validator(mode="after")
    def _peak_inputs(self) -> RegionConfig:
        if self.peak is None:
            return self
        if self.hubs is not None or self.placement.method == "location_routing":
            raise ValueError(
                "peak: the peak week plans direct delivery (DC → stations); remove the hubs "
                "section and use a placement method other than location_routing"
            )
        names = [v.name for v in self.fleet.vehicles]
        for k, hire in enumerate(self.peak.hire):
            if hire.vehicle not in names:
                raise ValueError(
                    f"peak.hire[{k}].vehicle: {hire.vehicle!r} is not a fleet.vehicles name "
                    f"({', '.join(names)})"
                )
        return self

    @model_validator(mode="after")
    def _hub_vehicles_known(self) -> RegionConfig:
        if self.hubs is not None:
            names = [v.name for v in self.fleet.vehicles]
            for key in ("trunk_vehicle", "last_mile_vehicle"):
                value = getattr(self.hubs, key)
                if value not in names:
                    raise ValueError(
                        f"hubs.{key}: {value!r} is not a fleet.vehicles name "
                        f"({', '.join(names)})"
                    )
        return self

    @model_validator(mode="after")
    def _location_routing_inputs(self) -> RegionConfig:
        if self.placement.method != "location_routing":
            return self
        if self.hubs is not None:
            raise ValueError(
                "placement.method: location_routing plans one tier (DC → stations); remove "
                "the hubs section or use another placement method with hubs"
            )
        if all(v.cost_per_km == 0 and v.fixed_cost_per_day == 0 for v in self.fleet.vehicles):
            raise ValueError(
                "placement.method: location_routing needs a fleet.vehicles type with "
                "cost_per_km or fixed_cost_per_day > 0 (routes are what it prices)"
            )
        return self

    @model_validator(mode="after")
    def _network_inputs(self) -> RegionConfig:
        mode = self.network.mode
        if mode == "roads" and self.data.roads is None:
            raise ValueError(
                "data.roads: required key is missing (network.mode is roads; without road "
                "data use network.mode: straight_line, or matrix with data.travel_matrix)"
            )
        if mode == "matrix" and self.data.travel_matrix is None:
            raise ValueError(
                "data.travel_matrix: required key is missing (network.mode: matrix reads "
                "a CSV of origin, destination, km, min)"
            )
        return self

    @model_validator(mode="after")
    def _scenario_known(self) -> RegionConfig:
        if self.scenario not in self.demand.scenarios:
            known = ", ".join(sorted(self.demand.scenarios))
            raise ValueError(f"scenario {self.scenario!r} is not in demand.scenarios ({known})")
        return self

    def with_overrides(
        self,
        *,
        scenario: str | None = None,
        seed: int | None = None,
        time_limit_s: float | None = None,
        stations: int | None = None,
        radius_km: float | None = None,
        method: str | None = None,
    ) -> RegionConfig:
        """Return a validated copy with command-line overrides applied (``radius_km`` and
        ``method`` set ``placement.radius_km`` and ``placement.method``, as a sweep does
        per point)."""
        data = self.model_dump()
        if scenario is not None:
            data["scenario"] = scenario
        if seed is not None:
            data["solver"]["seed"] = seed
        if time_limit_s is not None:
            data["solver"]["time_limit_s"] = time_limit_s
        if stations is not None:
            data["placement"]["stations"] = stations
        if radius_km is not None:
            data["placement"]["radius_km"] = radius_km
        if method is not None:
            data["placement"]["method"] = method
        try:
            return RegionConfig.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(_format_errors(exc, "command line")) from None


def _format_errors(exc: ValidationError, source: str) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        said = str(err.get("ctx", {}).get("error", ""))
        if err["type"] == "value_error" and said.startswith(f"{loc}."):
            problems.append(f"{source}: {said}")  # the message names its own key
            continue
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif "input" in err and not isinstance(err["input"], dict | list):
            msg = f"{msg} (got {err['input']!r})"
        problems.append(f"{source}: {loc}: {msg}")
    return problems


def parse_config(
    data: Any, *, source: str = "config", base_dir: Path | None = None
) -> RegionConfig:
    """Validate a config mapping.

    Parameters
    ----------
    data
        The parsed YAML document.
    source
        Name used in error messages (usually the file path).
    base_dir
        Folder that relative data paths are resolved against; ``None`` leaves them as they are.

    Returns
    -------
    RegionConfig
        The frozen, validated config.

    Raises
    ------
    ConfigError
        Listing every problem found, one line each.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of keys at the top level")
    try:
        config = RegionConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, source)) from None
    if base_dir is None:
        return config
    resolved = {
        key: (base_dir / value).resolve() if isinstance(value, Path) else value
        for key, value in config.data.model_dump().items()
    }
    return config.model_copy(update={"data": DataSettings.model_validate(resolved)})


def load_config(path: str | Path) -> RegionConfig:
    """Read and validate a region config YAML file.

    Parameters
    ----------
    path
        The YAML file. Relative data paths inside it are resolved against its folder.

    Returns
    -------
    RegionConfig

    Raises
    ------
    ConfigError
        When the file is missing, not UTF-8, not YAML, or fails validation.
    """
    path = Path(path)
    text = read_text(path, what="config file", expected="a YAML config file", error=ConfigError)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise ConfigError(f"{path}: malformed YAML{where}: {problem}") from None
    return parse_config(data, source=str(path), base_dir=path.parent.resolve())
