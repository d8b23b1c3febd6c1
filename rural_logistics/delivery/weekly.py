"""The weekly plan: each station visited on some days of a repeating horizon.

``frequency.rules`` give each routed station its possible visit counts from its parcels
per day (the first rule, highest threshold first, whose ``min_parcels_per_day`` it
reaches); ``frequency.patterns`` (or evenly spaced rotations) the allowed day patterns per
count. A station's load on a visit day is the parcels that arrived since its previous
visit (cyclic over the horizon, rounded up), and a pattern is allowed only if that load
stays within ``frequency.station_storage_parcels``. The periodic planner
(:mod:`rural_logistics.periodic`) picks each station's count and pattern and routes every
day; the same stations served every day (daily service) are routed first as the
comparison. The plan is checked by the independent periodic checker
(:mod:`rural_logistics.periodic.check`) when its rules apply (one vehicle type, single
trips).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from rural_logistics.config import FrequencySettings, RegionConfig
from rural_logistics.delivery.base import (
    Delivery,
    DeliveryRequest,
    HonoursEveryKey,
    RoutedTier,
    loads_of,
    routing_template,
    station_tier,
)
from rural_logistics.last_metres import at_depot_stations
from rural_logistics.periodic.check import check_plan
from rural_logistics.periodic.model import (
    PeriodicPlan,
    PeriodicProblem,
    VisitOption,
    accumulated_parcels,
    waiting_days,
)
from rural_logistics.periodic.search import solve_periodic
from rural_logistics.routing.model import RoutingProblem, RoutingResult, subset_problem
from rural_logistics.routing.solve import solve_vrp
from rural_logistics.solvers.budget import Budget
from rural_logistics.summary import (
    FrequencyDay,
    FrequencySection,
    FrequencyStation,
    PlanCheckSection,
    WeekFigures,
    WeekSaving,
)

#: Share of the run's solver time for routing the daily-service comparison.
DAILY_SHARE = 0.2
#: Day names of a horizon of up to 7 days (``frequency.day_names`` overrides them).
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def day_names(freq: FrequencySettings) -> tuple[str, ...]:
    """The horizon's day names."""
    if freq.day_names is not None:
        return freq.day_names
    h = freq.horizon_days
    return WEEKDAYS[:h] if h <= 7 else tuple(f"day {d + 1}" for d in range(h))


def default_patterns(visits: int, horizon_days: int) -> tuple[tuple[int, ...], ...]:
    """Evenly spaced visit days (0-based), every rotation, without repeats.

    >>> default_patterns(2, 6)
    ((0, 3), (1, 4), (2, 5))
    """
    out: list[tuple[int, ...]] = []
    for start in range(horizon_days):
        days = tuple(sorted({(start + math.floor(k * horizon_days / visits)) % horizon_days
                             for k in range(visits)}))
        if days not in out:
            out.append(days)
    return tuple(out)


def rule_visits(freq: FrequencySettings, parcels_per_day: float) -> tuple[int, ...]:
    """The visit counts a station may get: the rule with the highest threshold it
    reaches."""
    rules = sorted(freq.rules, key=lambda r: -r.min_parcels_per_day)
    for rule in rules:
        if parcels_per_day >= rule.min_parcels_per_day:
            return rule.visits
    return rules[-1].visits


def station_options(
    freq: FrequencySettings, parcels_per_day: np.ndarray, names: Sequence[str],
    station_ids: Sequence[str],
) -> tuple[tuple[tuple[VisitOption, ...], ...], list[str]]:
    """Each station's visit options and notes (a station whose parcels would overflow
    its storage on every allowed pattern is visited as often as the horizon allows)."""
    h = freq.horizon_days
    out, notes = [], []
    for i, rate in enumerate(parcels_per_day):
        opts = []
        for v in sorted(set(rule_visits(freq, float(rate)))):
            pats = (tuple(tuple(d - 1 for d in sorted(p)) for p in freq.patterns[v])
                    if v in freq.patterns else default_patterns(v, h))
            for days in pats:
                loads = accumulated_parcels(days, horizon_days=h, parcels_per_day=float(rate))
                cost = freq.waiting_cost_per_parcel_day * float(rate) * h * waiting_days(
                    days, horizon_days=h)[0]
                opts.append(VisitOption(days, loads, "/".join(names[d] for d in days), cost))
        storage = freq.station_storage_parcels
        fits = [o for o in opts if storage is None or max(o.parcels) <= storage + 1e-9]
        if not fits:
            days = tuple(range(h))
            fits = [VisitOption(days, accumulated_parcels(days, horizon_days=h,
                                                          parcels_per_day=float(rate)),
                                "daily")]
            notes.append(
                f"station {station_ids[i]}: no allowed pattern keeps its parcels within "
                f"frequency.station_storage_parcels ({storage:g}); visited daily"
            )
        out.append(tuple(fits))
    return tuple(out), notes


class WeeklyDelivery(HonoursEveryKey):
    """Direct delivery on the days of a weekly plan (module docstring)."""

    name = "weekly"

    def config_warnings(self, config: RegionConfig) -> list[str]:
        """Produce is not collected on the weekly plan's routes."""
        if config.routing.pickup_produce:
            return ["routing.pickup_produce: the weekly plan routes parcels only; produce "
                    "is not collected on its routes"]
        return []

    def stage_text(self, config: RegionConfig, budget: Budget) -> str:
        assert config.frequency is not None
        return (f"planning the week ({config.frequency.horizon_days} days, up to "
                f"{budget.left():.0f} s)")

    def deliver(self, request: DeliveryRequest) -> Delivery:
        config = request.config
        freq = config.frequency
        assert freq is not None
        h = freq.horizon_days
        names = day_names(freq)
        loads = loads_of(request.placement, request.prepared)
        template = routing_template(config, request.prepared, loads.open_sites)
        at_depot = at_depot_stations(template.problem)
        routed = np.flatnonzero(~at_depot)
        zeros = np.zeros(len(routed))
        rates = loads.parcels_per_day[routed]
        # Daily service, the comparison: every station every day.
        daily_problem = subset_problem(template.problem, routed, np.ceil(rates - 1e-9), zeros)
        daily = solve_vrp(daily_problem, engine=config.routing.engine,
                          budget=request.budget.share(DAILY_SHARE), seed=config.solver.seed,
                          workers=config.routing.workers)
        base = subset_problem(template.problem, routed, zeros, zeros)
        site_ids = request.prepared.site_ids
        station_ids = [str(site_ids[int(j)]) for j in loads.open_sites[routed]]
        options, notes = station_options(freq, rates, names, station_ids)
        problem = PeriodicProblem(template=base, days=h, options=options)
        plan = solve_periodic(problem, budget=request.budget.share(1.0),
                              engine=config.routing.engine, seed=config.solver.seed,
                              workers=config.routing.workers)
        tiers: list[RoutedTier] = [
            station_tier(template, plan.day_problems[d], plan.day_results[d],
                         stations=routed, prepared=request.prepared, positions=routed, day=d)
            for d in range(h)
        ]
        section = frequency_section(
            freq, names, plan, daily_problem, daily, station_ids, rates,
            village_waits(request, routed, plan, h), [*notes, *plan.notes],
        )
        return Delivery(
            mode=self.name, placement=request.placement, loads=loads, tiers=tuple(tiers),
            sections={"frequency": section}, served_at_depot=at_depot, days=h,
        )


def village_waits(request: DeliveryRequest, routed: np.ndarray, plan: PeriodicPlan,
                  h: int) -> tuple[float, int]:
    """Parcel-weighted mean and worst days a village's parcels wait for the next visit
    (villages at stations served at the DC wait 0)."""
    placement = request.placement
    open_sites = np.asarray(placement.open_sites, dtype=np.int64)
    position = {int(s): k for k, s in enumerate(open_sites)}
    mean_at = np.zeros(len(open_sites))
    worst_at = np.zeros(len(open_sites), dtype=int)
    for k, pos in enumerate(routed):
        mean_at[pos], worst_at[pos] = waiting_days(plan.option(k).days, horizon_days=h)
    parcels = np.asarray(request.prepared.demand.parcels_per_day, dtype=float)
    total = weighted = 0.0
    worst = 0
    for v, site in enumerate(np.asarray(placement.assignment, dtype=np.int64)):
        if site < 0 or parcels[v] <= 0:
            continue
        k = position[int(site)]
        total += parcels[v]
        weighted += parcels[v] * mean_at[k]
        worst = max(worst, int(worst_at[k]))
    return (weighted / total if total > 0 else 0.0), worst


def plan_check(plan: PeriodicPlan) -> PlanCheckSection:
    """The independent periodic checker on the plan, when its rules apply (one vehicle
    type, single trips, no opening windows)."""
    t = plan.problem.template
    kinds = {(v.type_name, v.capacity_parcels, v.speed_factor, v.service_time_min,
              v.max_route_duration_min, v.max_trips) for v in t.vehicles}
    if len(kinds) != 1 or t.n_depots != 1 or t.time_window_min is not None:
        return {"applied": False, "feasible": None, "violations": [],
                "reason": "the checker's rules need one vehicle type, one depot and no "
                          "opening windows"}
    v = t.vehicles[0]
    if v.max_trips != 1:
        return {"applied": False, "feasible": None, "violations": [],
                "reason": "multi-trip vehicles"}
    service = np.concatenate([[0.0], np.full(plan.problem.n_stations, v.service_time_min)])
    if t.service_time_min is not None:
        service = service + np.asarray(t.service_time_min, dtype=float)
    allowed = [()] + [tuple(o.days for o in opts) for opts in plan.problem.options]
    amounts: list[dict[tuple[int, ...], tuple[float, ...]]] = [{}] + [
        {o.days: tuple(float(x) for x in o.parcels) for o in opts}
        for opts in plan.problem.options
    ]
    routes = [[list(r.stops) for r in res.routes] for res in plan.day_results]
    loads = [[list(r.loads) for r in res.routes] for res in plan.day_results]
    check = check_plan(
        distance=np.asarray(t.distance_km), demand=np.zeros(t.n_nodes), allowed=allowed,
        routes=routes, capacity=v.capacity_parcels, vehicles_per_day=len(t.vehicles),
        max_duration=v.max_route_duration_min if math.isfinite(v.max_route_duration_min)
        else 0.0, service=service, time=np.asarray(t.time_min) / v.speed_factor,
        loads=loads, amounts=amounts,
    )
    return {"applied": True, "feasible": check.feasible, "violations": list(check.violations),
            "distance_km": round(check.distance, 1)}


def _vehicles(result: RoutingResult) -> int:
    return len({r.vehicle for r in result.routes})


def frequency_section(
    freq: FrequencySettings,
    names: Sequence[str],
    plan: PeriodicPlan,
    daily_problem: RoutingProblem,
    daily: RoutingResult,
    station_ids: Sequence[str],
    rates: np.ndarray,
    waits: tuple[float, int],
    notes: list[str],
) -> FrequencySection:
    """The ``frequency`` section of ``summary.json``."""
    h = plan.problem.days
    days: list[FrequencyDay] = []
    for d in range(h):
        res = plan.day_results[d]
        days.append({
            "day": d + 1, "name": names[d],
            "stations_visited": int(plan.problem.day_visits(plan.choice, d).sum()),
            "parcels": int(plan.problem.day_parcels(plan.choice, d).sum()),
            "vehicles": _vehicles(res), "km": round(res.distance_km(), 1),
            "cost": round(res.cost(), 2),
        })
    stations: list[FrequencyStation] = []
    for k, sid in enumerate(station_ids):
        o = plan.option(k)
        mean_w, worst_w = waiting_days(o.days, horizon_days=h)
        stations.append({
            "station_id": sid, "parcels_per_day": round(float(rates[k]), 2),
            "visits": o.frequency, "pattern": o.label,
            "allowed_visits": sorted({x.frequency for x in plan.problem.options[k]}),
            "max_load_parcels": int(max(o.parcels)),
            "mean_wait_days": round(mean_w, 2), "worst_wait_days": worst_w,
        })
    demand = float(rates.sum()) * h
    weekly_delivered = float(sum(sum(r.loads) for res in plan.day_results for r in res.routes))
    daily_delivered = float(sum(sum(r.loads) for r in daily.routes)) * h
    waiting_cost = plan.problem.extra_cost(plan.choice)
    week: WeekFigures = {
        "vehicles": max((x["vehicles"] for x in days), default=0),
        "km_per_week": round(plan.distance_km(), 1),
        "route_cost_per_week": round(plan.routing_cost(), 2),
        "waiting_cost_per_week": round(waiting_cost, 2),
        "cost_per_week": round(plan.cost(), 2),
        "delivered_share": round(min(1.0, weekly_delivered / demand), 4) if demand else 1.0,
        "feasible": plan.is_feasible(),
    }
    every_day: WeekFigures = {
        "vehicles": _vehicles(daily),
        "km_per_week": round(daily.distance_km() * h, 1),
        "route_cost_per_week": round(daily.cost() * h, 2),
        "waiting_cost_per_week": 0.0,
        "cost_per_week": round(daily.cost() * h, 2),
        "delivered_share": round(min(1.0, daily_delivered / demand), 4) if demand else 1.0,
        "feasible": daily.is_feasible(),
    }
    saving: WeekSaving = {
        "km_per_week": round(every_day["km_per_week"] - week["km_per_week"], 1),
        "vehicles": every_day["vehicles"] - week["vehicles"],
        "cost_per_week": round(every_day["cost_per_week"] - week["cost_per_week"], 2),
        "cost_share": round(1 - week["cost_per_week"] / every_day["cost_per_week"], 4)
        if every_day["cost_per_week"] else 0.0,
    }
    counts: dict[str, int] = {}
    for s in stations:
        counts[str(s["visits"])] = counts.get(str(s["visits"]), 0) + 1
    return {
        "horizon_days": h,
        "day_names": list(names),
        "days": days,
        "stations": stations,
        "stations_by_visits": counts,
        "mean_wait_days": round(waits[0], 2),
        "worst_wait_days": waits[1],
        "weekly": week,
        "daily_service": every_day,
        "saving_vs_daily": saving,
        "check": plan_check(plan),
        "notes": notes,
    }
