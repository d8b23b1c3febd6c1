"""One sweep: one prepared region and one matrix build, a plan per point, the frontier.

Per number of stations ``K`` (and radius, where the placement depends on it) the
configured placement model runs with the run's time limit and keeps its proof (optimal,
or the gap); the maximal-coverage optimum at ``K`` (the frontier) is solved beside it.
With ``route`` each plan is routed by the config's delivery mode and assembled exactly as
``solve`` does, so the cost of a point counts every cost (stations, vehicles,
kilometres). Progress is reported per point through a callback; nothing here prints.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from rural_logistics.assemble import (
    assemble_plan,
    depots_layer,
    route_layers,
    station_service,
    stations_layer,
    villages_layer,
)
from rural_logistics.config import RegionConfig
from rural_logistics.delivery import Delivery, DeliveryRequest, delivery_mode, loads_of
from rural_logistics.errors import ConfigError, InfeasibleError
from rural_logistics.frontier import best_step, knee, steps
from rural_logistics.metrics import summarize
from rural_logistics.network_setup import network_summary
from rural_logistics.pipeline import PLACEMENT_SHARE, place_stations
from rural_logistics.placement.dispatch import METHOD_TEXT, access_costs
from rural_logistics.placement.result import PlacementResult, SiteRules, rule_problems
from rural_logistics.plan import Plan
from rural_logistics.region import PreparedRegion, Progress, prepare_region, silent
from rural_logistics.solvers.budget import Budget
from rural_logistics.summary import Summary, SweepCurve, SweepRow, SweepSummary, SweepTarget
from rural_logistics.sweep.spec import K_METHODS, SweepSpec
from rural_logistics.sweep.target import CoverageFrontier, smallest_stations
from rural_logistics.validation import check_request

#: Called after each point with the row, its position (1-based) and the number of points.
PointReport = Callable[[SweepRow, int, int], None]


def _no_report(row: SweepRow, index: int, total: int) -> None:
    """A :data:`PointReport` that reports nothing."""


@dataclass(frozen=True)
class SweepResult:
    """What a sweep produced.

    Attributes
    ----------
    summary
        ``sweep_summary.json`` (rows, curves, targets, timings).
    plans
        The plan of each number of stations at the first radius, in ``stations`` order
        (placement only: villages, stations and depots, no routes), for the maps.
    config
        The effective config (overrides applied; ``placement.stations`` the first swept).
    target_plans
        For each target reached, the maximal-coverage plan with the fewest stations (in
        ``summary["targets"]`` order, the ones not reached left out).
    """

    summary: SweepSummary
    plans: tuple[Plan, ...]
    config: RegionConfig
    target_plans: tuple[Plan, ...] = ()


def sweep_config(config: RegionConfig, spec: SweepSpec) -> RegionConfig:
    """The config of the sweep's first point (method, first ``K``, first radius), checked.

    Raises
    ------
    ConfigError
        If the placement method does not open a given number of stations, or the config
        has a ``carriers`` section.
    """
    if config.carriers is not None:
        raise ConfigError("carriers: a sweep plans one network; remove the carriers section "
                          "(`solve` plans the carriers' designs)")
    method = spec.method or config.placement.method
    if method not in K_METHODS:
        raise ConfigError(
            f"{'--method' if spec.method else 'placement.method'} = {method}: a sweep over "
            f"--stations needs a model that opens a given number of stations "
            f"({', '.join(K_METHODS)}); pass --method p_median"
        )
    radius = spec.radii_km[0] if spec.radii_km else None
    return config.with_overrides(stations=spec.stations[0], radius_km=radius, method=method)


def _range_problems(rules: SiteRules, n_sites: int, stations: tuple[int, ...]) -> list[str]:
    """The swept numbers of stations the side constraints or the sites do not allow."""
    problems = []
    for k in (stations[0], stations[-1]):
        problems += [f"--stations {k}: {p}" for p in rule_problems(rules, n_sites, stations=k)]
    return list(dict.fromkeys(problems))


def run_sweep(
    config: RegionConfig,
    spec: SweepSpec,
    *,
    progress: Progress = silent,
    on_point: PointReport = _no_report,
) -> SweepResult:
    """Prepare the region once and plan every point of the sweep.

    Parameters
    ----------
    config
        Validated config (``solver.time_limit_s``: the time of each point, placement and
        routing together; of each frontier solve).
    spec
        What to sweep.
    progress
        Stage reporter (region preparation, report stages).
    on_point
        Called after each point.

    Returns
    -------
    SweepResult

    Raises
    ------
    ConfigError
        A method that does not open a given number of stations.
    InfeasibleError
        A request no plan can meet (the check pass lists every reason), or swept numbers
        of stations outside what the sites and side constraints allow.
    """
    start = time.perf_counter()
    base = sweep_config(config, spec)
    radii = spec.radii_km or (base.placement.radius_km,)
    prepared = prepare_region(base, progress=progress)
    request = check_request(base, prepared)
    if request.problems:
        raise InfeasibleError(request.problems)
    assert request.rules is not None
    rules = request.rules
    problems = _range_problems(rules, len(prepared.site_ids), spec.stations)
    if problems:
        raise InfeasibleError(problems)
    prepare_s = time.perf_counter() - start
    _, _, cost = access_costs(
        base.placement, time_min=prepared.access.time_min,
        distance_km=prepared.access.distance_km, rules=rules,
    )
    population = prepared.data.villages["population"].to_numpy(dtype=float)
    frontier = CoverageFrontier(
        cost=cost, distance_km=prepared.access.distance_km, population=population,
        rules=rules, time_limit_s=base.solver.time_limit_s,
    )
    # The placement depends on the radius only for maximal coverage.
    by_radius = base.placement.method == "max_coverage"
    reuses_frontier = by_radius and base.placement.weight == "population"
    rows: list[SweepRow] = []
    plans: list[Plan] = []
    placement_s = routing_s = 0.0
    total = len(spec.stations) * len(radii)
    for k in spec.stations:
        cached: tuple[PlacementResult, Plan | None, float] | None = None
        for r_index, radius in enumerate(radii):
            point = base.with_overrides(stations=k, radius_km=radius)
            if cached is None or by_radius:
                budget = Budget.of(point.solver.time_limit_s)
                try:
                    placement = place_stations(
                        point, prepared, rules,
                        budget=budget.share(PLACEMENT_SHARE) if spec.route else budget,
                    )
                except InfeasibleError as exc:
                    raise InfeasibleError(
                        [f"--stations {k}: {p}" for p in exc.problems]
                    ) from None
                placement_s += placement.solve_seconds
                routed, seconds = None, 0.0
                if spec.route:
                    t0 = time.perf_counter()
                    delivery = delivery_mode(point).deliver(
                        DeliveryRequest(point, prepared, placement, rules, budget)
                    )
                    routed = assemble_plan(
                        point, prepared, delivery, check_warnings=request.warnings,
                        solve_seconds=placement.solve_seconds + time.perf_counter() - t0,
                    )
                    seconds = time.perf_counter() - t0
                    routing_s += seconds
                cached = (placement, routed, seconds)
            placement, routed, seconds = cached
            if reuses_frontier:
                frontier.remember(k, radius, placement)
            best = frontier.solve(k, radius)
            plan = routed if routed is not None else placement_plan(point, prepared, placement)
            if r_index == 0:
                plans.append(plan)
            row = _row(point, prepared, placement, plan, best, frontier,
                       routed=routed is not None, routing_seconds=seconds)
            rows.append(row)
            on_point(row, len(rows), total)
    curves = [_curve(radius, [r for r in rows if r["radius_km"] == radius]) for radius in radii]
    targets: list[SweepTarget] = []
    target_plans: list[Plan] = []
    if spec.target_coverage is not None:
        for radius in radii:
            with progress(f"smallest number of stations for {spec.target_coverage:.0%} "
                          f"within {radius:g} km"):
                target = smallest_stations(
                    frontier, radius_km=radius, coverage=spec.target_coverage,
                    site_ids=prepared.site_ids,
                )
            targets.append(target)
            if target["stations"] is not None:
                point = base.with_overrides(stations=target["stations"], radius_km=radius,
                                            method="max_coverage")
                target_plans.append(placement_plan(
                    point, prepared, frontier.solve(target["stations"], radius)))
    summary: SweepSummary = {
        "region": base.region.name,
        "scenario": base.scenario,
        "method": base.placement.method,
        "objective": base.placement.objective,
        "weight": base.placement.weight,
        "villages": len(prepared.village_ids),
        "population": round(float(population.sum())),
        "parcels_per_day": round(float(prepared.demand.parcels_per_day.sum()), 1),
        "candidate_sites": frontier.usable_sites(),
        "stations_swept": list(spec.stations),
        "radii_km": list(radii),
        "routed": spec.route,
        "time_limit_s": base.solver.time_limit_s,
        "cost_basis": cost_basis(base, routed=spec.route),
        "rows": rows,
        "curves": curves,
        "targets": targets,
        "network": network_summary(base, prepared.network),
        "warnings": [*prepared.warnings, *request.warnings],
        "prepare_seconds": round(prepare_s, 2),
        "placement_seconds": round(placement_s, 2),
        "frontier_seconds": round(frontier.seconds, 2),
        "routing_seconds": round(routing_s, 2),
        "total_seconds": round(time.perf_counter() - start, 2),
    }
    return SweepResult(summary=summary, plans=tuple(plans), config=base,
                       target_plans=tuple(target_plans))


def cost_basis(config: RegionConfig, *, routed: bool) -> str:
    """What ``cost_per_day`` of a row counts (one sentence, written in the summary)."""
    if routed:
        return ("every cost of the routed plan: stations (placement.opening_cost_per_day), "
                "vehicles' fixed cost and kilometres driven, per day")
    if config.placement.opening_cost_per_day > 0:
        return ("placement only (no --route): opening_cost_per_day counts the stations only; "
                "vehicles and kilometres are not priced, so cost_per_day is left empty")
    return ("placement only (no --route) and placement.opening_cost_per_day is 0: no cost is "
            "known, so the frontier compares coverage per added station")


def placement_plan(
    config: RegionConfig, prepared: PreparedRegion, placement: PlacementResult
) -> Plan:
    """The plan of a placement without routes: the villages with their station and
    access, the stations with their loads, the depot (for maps and access figures)."""
    stub = Delivery(mode="placement only", placement=placement,
                    loads=loads_of(placement, prepared), tiers=())
    villages = villages_layer(config, prepared, stub)
    stations = stations_layer(prepared, stub, station_service(stub))
    layers = route_layers(config, prepared, stub)
    figures = summarize(
        region=config.region.name, scenario=config.scenario,
        villages=pd.DataFrame(villages.drop(columns="geometry")),
        stations=pd.DataFrame(stations.drop(columns="geometry")),
        routes=pd.DataFrame(layers.vehicle_days.drop(columns="geometry")),
        radius_km=config.placement.radius_km, unserved_village_ids=[],
    )
    return Plan(
        region=config.region.name, scenario=config.scenario, crs=prepared.data.crs,
        villages=villages, stations=stations, depots=depots_layer(prepared, stub),
        routes=layers.routes, townships=prepared.data.townships,
        summary=cast(Summary, figures), radius_km=config.placement.radius_km,
        vehicle_days=layers.vehicle_days, stops=layers.stops,
    )


def _figures(plan: Plan, radius_km: float) -> dict[str, float | int | None]:
    """Coverage and access of a plan at a radius (the figures ``solve`` writes)."""
    # The route figures come from the vehicle days (one row per vehicle, as solve's).
    days = plan.vehicle_days if plan.vehicle_days is not None else plan.routes
    frames = [pd.DataFrame(layer.drop(columns="geometry"))
              for layer in (plan.villages, plan.stations, days)]
    figures = summarize(region=plan.region, scenario=plan.scenario, villages=frames[0],
                        stations=frames[1], routes=frames[2], radius_km=radius_km,
                        unserved_village_ids=[])
    return cast(dict[str, float | int | None], figures)


def _row(
    config: RegionConfig,
    prepared: PreparedRegion,
    placement: PlacementResult,
    plan: Plan,
    best: PlacementResult,
    frontier: CoverageFrontier,
    *,
    routed: bool,
    routing_seconds: float,
) -> SweepRow:
    radius = config.placement.radius_km
    f = _figures(plan, radius)
    opening = len(placement.open_sites) * config.placement.opening_cost_per_day
    gap = placement.gap
    if placement.is_optimal():
        status, detail = "optimal", "placement proven optimal"
    else:
        gap_text = f"{gap:.2%}" if math.isfinite(gap) else "unknown"
        status = "time_limit"
        detail = f"placement stopped at its time limit, gap {gap_text}"
    row: SweepRow = {
        "stations": len(placement.open_sites),
        "radius_km": radius,
        "method": config.placement.method,
        "status": status,
        "status_detail": detail + ("" if routed else "; routing not run (placement only)"),
        "placement_status": placement.status,
        "placement_gap": round(gap, 6) if math.isfinite(gap) else gap,
        "placement_seconds": round(placement.solve_seconds, 3),
        "population_within_radius_share": cast(float, f["population_within_radius_share"]),
        "best_within_radius_share": round(frontier.share(best.objective), 4),
        "best_within_radius_bound": round(frontier.share(best.bound), 4),
        "mean_access_km": cast(float, f["mean_access_km"]),
        "max_access_km": f["max_access_km"],
        "mean_access_min": cast(float, f["mean_access_min"]),
        "access_gini": cast(float, f["access_gini"]),
        "opening_cost_per_day": round(opening, 2),
        "vehicles_used": None,
        "total_route_km": None,
        "delivered_share": None,
        "cost_per_day": None,
        "cost_per_parcel": None,
        "routing_status": None,
        "routing_seconds": None,
        "station_ids": [prepared.site_ids[int(j)] for j in placement.open_sites],
    }
    if routed:
        s = plan.summary
        delivered = float(s["delivered_parcels_per_day"])
        parcels = float(s["parcels_per_day"])
        total_cost = float(s["cost"]["total_per_day"])
        row.update({
            "status": s["status"],
            "status_detail": s["status_detail"],
            "vehicles_used": int(s["vehicles_used"]),
            "total_route_km": float(s["total_route_km"]),
            "delivered_share": round(delivered / parcels, 4) if parcels > 0 else None,
            "cost_per_day": round(total_cost, 2),
            "cost_per_parcel": round(total_cost / delivered, 4) if delivered > 0 else None,
            "routing_status": s["routing"]["status"],
            "routing_seconds": round(routing_seconds, 2),
        })
    return row


def _comparable_cost(row: SweepRow) -> float:
    """A point's daily cost for the steps: every cost of a routed plan that delivers all
    parcels, the opening cost of a placement (when priced); ``NaN`` otherwise (a plan that
    leaves parcels undelivered is cheaper for it, not better)."""
    if row["cost_per_day"] is not None:
        complete = row["delivered_share"] is not None and row["delivered_share"] >= 0.9999
        return row["cost_per_day"] if complete else float("nan")
    if not row["routing_status"] and row["opening_cost_per_day"] > 0:
        return row["opening_cost_per_day"]
    return float("nan")


def _curve(radius_km: float, rows: list[SweepRow]) -> SweepCurve:
    """Steps, best step and knee of the plans' coverage curve at one radius."""
    k = np.array([r["stations"] for r in rows], dtype=float)
    cov = np.array([r["population_within_radius_share"] for r in rows], dtype=float)
    cost = np.array([_comparable_cost(r) for r in rows], dtype=float)
    found = steps(k, cov, cost)
    best = best_step(found)
    by_money = best is not None and math.isfinite(found[best].coverage_per_1000_per_day)
    bend = knee(k, cov)
    return {
        "radius_km": radius_km,
        "steps": [
            {
                "radius_km": radius_km,
                "from_stations": s.from_stations,
                "to_stations": s.to_stations,
                "coverage_gain": round(s.coverage_gain, 4),
                "coverage_per_station": round(s.coverage_per_station, 5),
                "cost_added_per_day": round(s.cost_added_per_day, 2)
                if math.isfinite(s.cost_added_per_day) else None,
                "coverage_per_1000_per_day": round(s.coverage_per_1000_per_day, 5)
                if math.isfinite(s.coverage_per_1000_per_day) else None,
            }
            for s in found
        ],
        "best_step_to_stations": found[best].to_stations if best is not None else None,
        "best_step_basis": "per 1,000 of daily cost" if by_money else "per added station",
        "knee_stations": int(k[bend]) if bend is not None else None,
    }


def method_text(method: str) -> str:
    """The model's name as progress lines and the report write it."""
    return METHOD_TEXT.get(method, method)


__all__ = ["SweepResult", "cost_basis", "method_text", "placement_plan", "run_sweep",
           "sweep_config"]
