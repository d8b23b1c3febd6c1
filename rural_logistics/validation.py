"""Checks across files and the request, and whole-input validation for ``validate``.

The single-file checks live where the data is read (:mod:`rural_logistics.config`,
:mod:`rural_logistics.io`); this module adds what needs several inputs together:

- points too far from any road (wrong coordinates or CRS, a missing road),
- the request against the data: stations vs usable candidate sites, vehicle depots,
  a vehicle that cannot carry one parcel, demand so large that the routing model would
  not fit the solvers (their 64-bit integer scaling, their memory),
- the fleet against the demand (a warning: the run still plans and lists what is unserved),

and :func:`validate_inputs`, which collects *every* problem of a config and its data
files, even when the config itself is invalid, so that one run reports them all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from rural_logistics.carriers.shares import carriers_problems
from rural_logistics.config import RegionConfig, load_config, parse_config
from rural_logistics.delivery import delivery_mode
from rural_logistics.delivery.site_terms import site_term_problems
from rural_logistics.errors import ConfigError, RuralLogisticsError
from rural_logistics.placement.dispatch import (
    access_problems,
    site_rule_problems,
    site_rules,
)
from rural_logistics.placement.result import SiteRules, rule_problems
from rural_logistics.region import PreparedRegion, prepare_region, village_weights
from rural_logistics.text import ids_text

#: Most vehicle loads the routing model accepts (a visit per load of the largest vehicle).
MAX_ROUTING_VISITS = 20_000
#: Largest cost, in currency units, a plan may reach (unserved penalties included) so that
#: the solvers' integer costs (1/100 000 currency unit) stay below 2**62.
MAX_PLAN_COST = 1e12
#: Ids listed in a message before "and N more".
ID_LIMIT = 10


@dataclass(frozen=True)
class RequestCheck:
    """Outcome of :func:`check_request`.

    Attributes
    ----------
    problems
        What makes the request impossible (stop with exit code 2).
    warnings
        What the run will survive but the planner should know (e.g. a fleet too small
        for the demand: the plan lists the unserved stations).
    rules
        The placement side constraints, built once here and handed to the placement
        stage (``None`` when ``placement.exclude_sites`` cannot be applied).
    """

    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    rules: SiteRules | None = None


def check_request(config: RegionConfig, prepared: PreparedRegion) -> RequestCheck:
    """The check pass: the request against the prepared data, before any solver.

    ``validate`` and ``solve`` both run it; it is the one home of the rules that need
    the config and the data together: placement side constraints (``exclude_sites``,
    ``keep_existing``, ``stations``, ``max_stations``, ``max_opening_cost``,
    ``min_stations_per_township``, ``max_access_km``), vehicle depots and weights, hubs,
    the per-station windows against the shifts
    (:func:`~rural_logistics.delivery.site_terms.site_term_problems`), the keys the
    delivery mode ignores, and the solvers' number ranges.

    Parameters
    ----------
    config
        The validated config (command-line overrides applied).
    prepared
        The prepared region.

    Returns
    -------
    RequestCheck
    """
    problems, rules = _placement_problems(config, prepared)
    warnings: list[str] = []
    problems += _fleet_problems(config, prepared)
    if config.hubs is not None:
        problems += _hub_problems(config, prepared)
    problems += site_term_problems(config, prepared.data.sites)
    problems += carriers_problems(config, prepared)
    mode = delivery_mode(config)
    problems += mode.config_problems(config)
    warnings += mode.config_warnings(config)
    size_problems, size_warnings = _size_findings(config, prepared)
    return RequestCheck(
        problems=(*problems, *size_problems),
        warnings=(*warnings, *size_warnings),
        rules=rules,
    )


def _placement_problems(
    config: RegionConfig, prepared: PreparedRegion
) -> tuple[list[str], SiteRules | None]:
    """Side constraints against the candidate sites and villages, and the rules."""
    settings = config.placement
    sites = prepared.data.sites
    existing = sites["existing"].to_numpy(dtype=bool)
    problems = site_rule_problems(
        settings, site_ids=prepared.site_ids, site_existing=existing, site_ok=prepared.site_ok
    )
    if problems:
        return problems, None
    rules = site_rules(
        settings,
        site_ids=prepared.site_ids,
        site_township=[str(t) for t in sites["township"].to_numpy()],
        site_existing=existing,
        site_ok=prepared.site_ok,
    )
    # The K models open exactly `stations`; the others choose how many.
    stations = settings.stations if settings.method in ("p_median", "max_coverage") else None
    problems = rule_problems(rules, len(sites), stations=stations)
    problems += access_problems(
        settings,
        distance_km=prepared.access.distance_km,
        weights=village_weights(config, prepared),
        rules=rules,
        village_ids=prepared.village_ids,
    )
    return problems, rules


def _fleet_problems(config: RegionConfig, prepared: PreparedRegion) -> list[str]:
    """Vehicle depots against the depots layer; a vehicle that cannot carry one parcel."""
    problems = []
    depot_ids = set(prepared.depot_ids)
    for k, vt in enumerate(config.fleet.vehicles):
        where = f"fleet.vehicles.{k} ({vt.name})"
        if vt.depot is not None and vt.depot not in depot_ids:
            problems.append(
                f"{where}: depot {vt.depot!r} is not in {config.data.depots.name} "
                f"(known: {ids_text(sorted(depot_ids), limit=ID_LIMIT)})"
            )
        parcel_kg = config.routing.parcel_kg
        if vt.capacity_kg is not None and parcel_kg > vt.capacity_kg:
            problems.append(
                f"{where}: capacity_kg = {vt.capacity_kg:g} is less than one parcel "
                f"(routing.parcel_kg = {parcel_kg:g}); expected capacity_kg >= parcel_kg"
            )
    return problems


def _size_findings(
    config: RegionConfig, prepared: PreparedRegion
) -> tuple[list[str], list[str]]:
    """Demand and costs against the solvers' limits; the fleet against the demand."""
    problems: list[str] = []
    warnings: list[str] = []
    parcels = prepared.demand.parcels_per_day
    produce = prepared.demand.produce_kg_per_day
    total_parcels = float(parcels.sum())
    vehicles = config.fleet.vehicles
    top_parcels = max(v.capacity_parcels for v in vehicles)
    kg_caps = [v.capacity_kg for v in vehicles]
    top_kg = math.inf if any(c is None for c in kg_caps) else max(c for c in kg_caps if c)
    loads = total_parcels / top_parcels
    if math.isfinite(top_kg):
        loads = max(loads, total_parcels * config.routing.parcel_kg / top_kg)
        if config.routing.pickup_produce:
            loads = max(loads, float(produce.sum()) / top_kg)
    if loads > MAX_ROUTING_VISITS:
        problems.append(
            f"demand: {total_parcels:,.0f} parcels/day need at least {loads:,.0f} loads of "
            f"the largest vehicle, more than the routing model handles "
            f"({MAX_ROUTING_VISITS:,}); check the villages' population and "
            "demand.parcels_per_capita_per_year, or the vehicle capacities"
        )
    worst_cost = config.routing.unserved_penalty_per_parcel * max(total_parcels, 1.0) + sum(
        v.count * v.fixed_cost_per_day for v in vehicles
    )
    if worst_cost > MAX_PLAN_COST:
        problems.append(
            f"routing.unserved_penalty_per_parcel: leaving the {total_parcels:,.0f} "
            f"parcels/day unserved would cost {worst_cost:.3g}, more than the solvers' "
            f"integer costs can hold ({MAX_PLAN_COST:.0e}); lower the penalty or the fixed "
            "costs"
        )
    carry = sum(v.capacity_parcels * v.count * v.max_trips for v in vehicles)
    if carry < total_parcels:
        warnings.append(
            f"fleet: the vehicles carry at most {carry:,} parcels/day "
            f"(capacity_parcels × count × max_trips), the demand is {total_parcels:,.0f}; "
            "some stations will be unserved (add vehicles or raise capacity)"
        )
    return problems, warnings


def _hub_problems(config: RegionConfig, prepared: PreparedRegion) -> list[str]:
    """``hubs.candidates`` depot ids against the depots file (one line per id)."""
    assert config.hubs is not None
    ids = [str(d) for d in prepared.data.depots["depot_id"]]
    name = config.data.depots.name
    problems = []
    seen: set[str] = set()
    for k, cand in enumerate(config.hubs.candidates):
        where = f"hubs.candidates.{k}.depot_id"
        if cand.depot_id not in ids:
            problems.append(
                f"{where}: {cand.depot_id!r} is not in {name} "
                f"(known: {ids_text(ids, limit=ID_LIMIT)})"
            )
        elif cand.depot_id == ids[0]:
            problems.append(
                f"{where}: {cand.depot_id!r} is the distribution centre (the first row of "
                f"{name}); a hub must be another depot"
            )
        elif cand.depot_id in seen:
            problems.append(f"{where}: {cand.depot_id!r} is listed twice")
        seen.add(cand.depot_id)
    return problems


@dataclass(frozen=True)
class ValidationReport:
    """Everything :func:`validate_inputs` found.

    Attributes
    ----------
    problems
        One line per problem (``file: field or id: what is expected``); empty when valid.
    warnings
        Non-fatal findings.
    config
        The validated config, or ``None`` if it is invalid.
    prepared
        The prepared region, or ``None`` if the data could not be prepared.
    """

    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    config: RegionConfig | None
    prepared: PreparedRegion | None

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems


def _dedupe(lines: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(lines))


def _fallback_config(raw: Any, path: Path) -> RegionConfig | None:
    """A config that keeps the valid parts of an invalid one, to check its data files.

    The ``data`` section must be valid; ``region.crs``, ``network`` and ``demand`` are
    kept when valid on their own, everything else gets harmless defaults.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("data"), dict):
        return None
    base: dict[str, Any] = {
        "region": {"name": "validation"},
        "data": raw["data"],
        "fleet": {"vehicles": [{"name": "check", "capacity_parcels": 1, "count": 1}]},
    }
    region = raw.get("region")
    if isinstance(region, dict) and isinstance(region.get("crs"), str):
        base["region"]["crs"] = region["crs"]
    try:
        parse_config(base, source=str(path))
    except ConfigError:
        return None
    for section in ("network", "demand"):
        if section in raw:
            trial = {**base, section: raw[section]}
            try:
                parse_config(trial, source=str(path))
            except ConfigError:
                continue
            base = trial
    return parse_config(base, source=str(path), base_dir=path.parent.resolve())


def _read_raw(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def validate_inputs(
    path: str | Path,
    *,
    scenario: str | None = None,
    stations: int | None = None,
    seed: int | None = None,
    time_limit_s: float | None = None,
) -> ValidationReport:
    """Check a config file and all its data without solving; collect every problem.

    The config is validated; then every data file is read and checked, the road network
    is built and every village's reachability from the depot checked, and the request
    (stations, fleet) is compared with the data. When the config is invalid, its data
    files are still checked with the valid parts of the config.

    Parameters
    ----------
    path
        The region config YAML.
    scenario, stations, seed, time_limit_s
        Command-line overrides.

    Returns
    -------
    ValidationReport
    """
    path = Path(path)
    problems: list[str] = []
    warnings: list[str] = []
    config: RegionConfig | None = None
    try:
        config = load_config(path).with_overrides(
            scenario=scenario, stations=stations, seed=seed, time_limit_s=time_limit_s
        )
    except ConfigError as exc:
        problems.extend(exc.problems)
    check_config = config if config is not None else _fallback_config(_read_raw(path), path)
    prepared = None
    if check_config is not None:
        try:
            prepared = prepare_region(check_config)
        except RuralLogisticsError as exc:
            problems.extend(exc.problems)
        else:
            warnings.extend(prepared.warnings)
    if config is not None and prepared is not None:
        request = check_request(config, prepared)
        problems.extend(request.problems)
        warnings.extend(request.warnings)
    return ValidationReport(
        problems=_dedupe(problems),
        warnings=_dedupe(warnings),
        config=config,
        prepared=prepared if config is not None else None,
    )


def load_checked_config(
    path: str | Path,
    *,
    scenario: str | None = None,
    stations: int | None = None,
    seed: int | None = None,
    time_limit_s: float | None = None,
) -> RegionConfig:
    """Load a config with overrides; if it is invalid, report its data problems too.

    Raises
    ------
    ConfigError
        With every config problem and, when the data section is usable, every problem
        of the data files.
    """
    try:
        return load_config(path).with_overrides(
            scenario=scenario, stations=stations, seed=seed, time_limit_s=time_limit_s
        )
    except ConfigError:
        report = validate_inputs(
            path, scenario=scenario, stations=stations, seed=seed, time_limit_s=time_limit_s
        )
        raise ConfigError(report.problems) from None
