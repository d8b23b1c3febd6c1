"""The peak week (Double Eleven): direct delivery day after day, with a backlog and hired
vehicles.

Each day ``d`` parcels arrive at the county DC for every station: the station's load on
a day of the scenario × ``peak.arrivals[d]`` (rounded up per station and day). What is
not delivered waits at the DC and goes out oldest first; a station takes in at most
``peak.station_storage_parcels`` a day (villagers empty it daily). Before routing, the
cheapest hire per type and day that gets every parcel to its station within
``peak.deliver_within_days`` is found by :func:`rural_logistics.routing.hire.plan_hires`
(a lower bound on any plan's hire cost, or a proof that no hire within the limits
does it). Each day is then routed with the own fleet and that day's hires (split
delivery, checked by the routing checker); if the routes miss the promise, vehicles of the
type cheapest per parcel of capacity are added that day (enough for what was missed, within
what is available) and the day is routed again, up to :data:`MAX_EXTRA_HIRES_PER_DAY`
times — said in the notes.

The default arrival profile (:func:`default_arrivals`, 10–17 November) is derived from the
2017 rural online sales figures (see its docstring).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from rural_logistics.config import PeakSettings, RegionConfig
from rural_logistics.delivery.base import (
    Delivery,
    DeliveryRequest,
    HonoursEveryKey,
    RoutedTier,
    StationLoads,
    loads_of,
    routing_template,
    station_tier,
)
from rural_logistics.last_metres import at_depot_stations
from rural_logistics.routing.diagnose import PEAK_NOT_PROVEN
from rural_logistics.routing.hire import HireOption, HirePlan, plan_hires
from rural_logistics.routing.model import (
    RoutingProblem,
    RoutingResult,
    VehicleSpec,
    expand_fleet,
    subset_problem,
    trip_parcels,
)
from rural_logistics.routing.solve import solve_vrp
from rural_logistics.solvers.budget import Budget
from rural_logistics.summary import OneFewerSection, PeakSection

#: Rural online sales in China, 1–11 November 2017, and on 11 November alone (bn yuan).
SALES_1_TO_11_NOV_2017_BN = 84.608
SALES_11_NOV_2017_BN = 39.24
#: How 11 November's extra parcels reach the county DC over the next five days
#: (12–16 November), shares of the extra (an assumption; named in the README).
ARRIVAL_SPREAD = (0.30, 0.25, 0.20, 0.15, 0.10)
#: Share of the run's solver time for the hire MIP.
HIRE_SHARE = 0.1
#: Least time limit of the hire MIP, seconds.
HIRE_MIN_S = 20.0
#: Re-routings of a day when the routes miss the promise with the MIP's hires.
MAX_EXTRA_HIRES_PER_DAY = 3
#: Price of leaving a parcel that is due today, as a multiple of the unserved penalty.
DUE_WEIGHT = 20.0
#: Suffix of a hired vehicle's type name.
HIRED = " (hired)"


def default_arrivals() -> tuple[float, ...]:
    """Parcels arriving per day, 10–17 November, as multiples of a scenario day.

    1–10 November sold (84.608 − 39.24) / 10 = 4.537 bn yuan a day: taken as a normal day
    (1.0). 11 November sold 39.24 bn = 8.65 normal days, i.e. 7.65 days of parcels on top
    of the normal flow; they reach the county DC on 12–16 November in the shares of
    :data:`ARRIVAL_SPREAD` while every day also brings a normal day's parcels:
    ``1.0, 1.0, 3.30, 2.91, 2.53, 2.15, 1.76, 1.0``.
    """
    normal = (SALES_1_TO_11_NOV_2017_BN - SALES_11_NOV_2017_BN) / 10
    extra = SALES_11_NOV_2017_BN / normal - 1.0
    days = [1.0, 1.0] + [1.0 + extra * s for s in ARRIVAL_SPREAD] + [1.0]
    return tuple(round(d, 3) for d in days)


def arrivals_profile(peak: PeakSettings) -> tuple[float, ...]:
    """The configured profile, or the default."""
    return peak.arrivals if peak.arrivals is not None else default_arrivals()


@dataclass(frozen=True)
class DayRoutes:
    """What one day's routes used and cost."""

    hired_used: np.ndarray
    own_used: int
    km: float
    cost: float


@dataclass
class Backlog:
    """Parcels waiting at the DC per station, by arrival day (oldest first)."""

    waiting: list[dict[int, int]]

    def add(self, day: int, parcels: np.ndarray) -> None:
        for s, p in enumerate(parcels):
            if p > 0:
                self.waiting[s][day] = self.waiting[s].get(day, 0) + int(p)

    def total(self) -> np.ndarray:
        return np.array([sum(w.values()) for w in self.waiting], dtype=np.int64)

    def take(self, station: int, parcels: int) -> list[tuple[int, int]]:
        """Remove ``parcels`` oldest first; ``(arrival day, parcels)`` taken."""
        taken = []
        w = self.waiting[station]
        for day in sorted(w):
            if parcels <= 0:
                break
            n = min(parcels, w[day])
            w[day] -= n
            parcels -= n
            taken.append((day, n))
            if w[day] == 0:
                del w[day]
        return taken

    def due(self, day: int, within: int) -> np.ndarray:
        """Per station, parcels that must reach it on ``day`` (arrived on or before
        ``day − within + 1``)."""
        last = day - within + 1
        return np.array([sum(n for d, n in w.items() if d <= last) for w in self.waiting],
                        dtype=np.int64)


def run_backlog(
    arrivals: np.ndarray,
    deliver: list[np.ndarray],
) -> tuple[list[int], list[int], int | None]:
    """Backlog bookkeeping, oldest first (for tests and the summary).

    Parameters
    ----------
    arrivals
        ``(days, stations)`` parcels arriving.
    deliver
        Per day, parcels delivered per station (at most what waits).

    Returns
    -------
    backlog, max_wait, days_to_clear
        End-of-day backlog per day; per day the longest wait (days) of a parcel
        delivered that day; the number of days until the backlog is last cleared
        (``None``: not cleared within the horizon).
    """
    days, n = arrivals.shape
    book = Backlog([{} for _ in range(n)])
    backlog, wait = [], []
    for d in range(days):
        book.add(d, arrivals[d])
        longest = 0
        for s in range(n):
            for day, _ in book.take(s, int(deliver[d][s])):
                longest = max(longest, d - day)
        wait.append(longest)
        backlog.append(int(book.total().sum()))
    clear = None if backlog[-1] > 0 else next(
        d + 1 for d in range(days) if all(b == 0 for b in backlog[d:])
    )
    return backlog, wait, clear


class PeakWeekDelivery(HonoursEveryKey):
    """Direct delivery over the days of ``peak.arrivals`` (module docstring)."""

    name = "peak_week"

    def config_warnings(self, config: RegionConfig) -> list[str]:
        """Produce is not collected in the peak week."""
        if config.routing.pickup_produce:
            return ["routing.pickup_produce: the peak week routes parcels only; produce is "
                    "not collected on its routes"]
        return []

    def stage_text(self, config: RegionConfig, budget: Budget) -> str:
        assert config.peak is not None
        days = len(arrivals_profile(config.peak))
        return f"planning the peak week ({days} days, up to {budget.left():.0f} s)"

    def deliver(self, request: DeliveryRequest) -> Delivery:
        config = request.config
        peak = config.peak
        assert peak is not None
        profile = np.array(arrivals_profile(peak), dtype=float)
        days = len(profile)
        loads = loads_of(request.placement, request.prepared)
        template = routing_template(config, request.prepared, loads.open_sites)
        at_depot = at_depot_stations(template.problem)
        routed = np.flatnonzero(~at_depot)
        arrivals = np.ceil(np.outer(profile, loads.parcels_per_day) - 1e-9).astype(np.int64)
        own = subset_problem(
            template.problem, routed, loads.parcels_per_day[routed],
            np.zeros(len(routed)),
        )
        options = hire_options(config, template.problem.vehicles)
        plan = plan_hires(
            own, arrivals[:, routed], options, within_days=peak.deliver_within_days,
            storage_parcels=peak.station_storage_parcels,
            # The MIP is small (0.3 s on the demo week); the floor keeps a starved
            # process from stopping it before its first solution.
            time_limit_s=max(request.budget.share(HIRE_SHARE).left(), HIRE_MIN_S),
        )
        book = Backlog([{} for _ in routed])
        tiers: list[RoutedTier] = []
        delivered_days: list[np.ndarray] = []
        rows: list[DayRoutes] = []
        notes: list[str] = []
        n = len(routed)
        twice = np.concatenate([routed, routed])  # due parcels, then those that may wait
        for d in range(days):
            book.add(d, arrivals[d, routed])
            waiting = book.total()
            load = waiting if peak.station_storage_parcels is None else np.minimum(
                waiting, math.floor(peak.station_storage_parcels)
            )
            due = np.minimum(book.due(d, peak.deliver_within_days), load)
            hires = plan.hired[d].copy() if plan.status != "infeasible" else np.zeros(
                len(options), dtype=np.int64
            )
            day_budget = request.budget.share(1.0 / (days - d))
            for extra in range(MAX_EXTRA_HIRES_PER_DAY + 1):
                problem = day_problem(template.problem, twice, due, load - due, options, hires)
                budget = day_budget.share(0.5 if extra < MAX_EXTRA_HIRES_PER_DAY else 1.0)
                result = solve_vrp(problem, engine=config.routing.engine, budget=budget,
                                   seed=config.solver.seed, workers=config.routing.workers)
                per_node = delivered_per_station(problem, result)
                got = per_node[:n] + per_node[n:]
                late = int(np.maximum(due - per_node[:n], 0).sum())
                if late == 0 or plan.status == "infeasible" or extra == MAX_EXTRA_HIRES_PER_DAY:
                    break
                more = cheapest_spare(options, hires)
                if more is None:
                    break
                option = options[more]
                cap = trip_parcels(option.vehicle, own.parcel_kg) * option.vehicle.max_trips
                k = int(min(option.available_per_day - hires[more], max(1, math.ceil(late / cap))))
                hires[more] += k
                notes.append(
                    f"day {d + 1}: the routes left {late:,} parcels due that day undelivered "
                    f"with the planned hires; {k} more {option.vehicle.type_name} hired"
                )
            for s in range(n):
                book.take(s, int(got[s]))
            delivered_days.append(got)
            result = carried_over(problem, result, due - np.minimum(per_node[:n], due),
                                  within=peak.deliver_within_days,
                                  proven=plan.status == "infeasible")
            used = used_hires(problem, result, options)
            tiers.append(station_tier(
                template, problem, result, stations=twice, prepared=request.prepared,
                positions=twice, day=d,
            ))
            rows.append(DayRoutes(
                hired_used=used, km=result.distance_km(), cost=result.cost(),
                own_used=sum(1 for r in result.routes
                             if not problem.vehicles[r.vehicle].type_name.endswith(HIRED)),
            ))
        section = peak_section(
            peak, profile, arrivals, routed, at_depot, delivered_days, rows, options, plan,
            notes,
        )
        section["one_fewer_on_busiest_day"] = one_fewer_check(
            own, arrivals[:, routed], options, rows, peak,
            time_limit_s=request.budget.share(0.5, min_s=1.0).left(),
        )
        mean_loads = StationLoads(
            loads.open_sites, arrivals.mean(axis=0).astype(float),
            loads.produce_kg_per_day,
        )
        return Delivery(
            mode=self.name, placement=request.placement, loads=mean_loads, tiers=tuple(tiers),
            sections={"peak": section}, served_at_depot=at_depot, days=days,
            demand_factor=float(profile.mean()),
        )


def hire_options(config: RegionConfig, own: tuple[VehicleSpec, ...]) -> list[HireOption]:
    """What ``peak.hire`` offers, as vehicle specs of the fleet types (a hired vehicle
    costs its hire per day instead of the type's fixed cost)."""
    assert config.peak is not None
    types = {v.name: v for v in config.fleet.vehicles}
    depot_of = {v.type_name: v.depot for v in own}
    out = []
    for hire in config.peak.hire:
        (spec,) = expand_fleet([types[hire.vehicle].model_copy(update={"count": 1})])
        spec = replace(spec, type_name=spec.type_name + HIRED,
                       fixed_cost_per_day=hire.cost_per_day,
                       depot=depot_of.get(hire.vehicle, 0))
        out.append(HireOption(spec, hire.cost_per_day, hire.available_per_day))
    return out


def day_problem(
    template: RoutingProblem,
    stations: np.ndarray,
    due: np.ndarray,
    rest: np.ndarray,
    options: list[HireOption],
    hires: np.ndarray,
) -> RoutingProblem:
    """A day's routing problem: each station twice (``stations`` lists them twice, as
    template positions): first the parcels due that day (priced :data:`DUE_WEIGHT` times
    the unserved penalty), then those that may wait; the own fleet and the day's hires."""
    extra = tuple(o.vehicle for o, n in zip(options, hires, strict=True) for _ in range(int(n)))
    loads = np.concatenate([due, rest]).astype(float)
    problem = subset_problem(template, stations, loads, np.zeros(len(stations)))
    weight = np.concatenate([np.ones(template.n_depots), np.full(len(due), DUE_WEIGHT),
                             np.ones(len(rest))])
    if problem.penalty_weight is not None:  # the stations' own penalties
        weight = weight * np.asarray(problem.penalty_weight, dtype=float)
    return replace(problem, vehicles=template.vehicles + extra, penalty_weight=weight)


def carried_over(
    problem: RoutingProblem, result: RoutingResult, missed_due: np.ndarray, *, within: int,
    proven: bool,
) -> RoutingResult:
    """A day's result with only the parcels due that day and missed listed as unserved:
    the others wait at the DC for the next day (the ``peak`` section's backlog)."""
    unserved = tuple(
        (problem.n_depots + s, int(p)) for s, p in enumerate(missed_due) if p > 0
    )
    head = ("peak week, proven (no hire within the limits keeps the promise)" if proven
            else f"{PEAK_NOT_PROVEN} (the routes missed it; the hire bound allowed it)")
    reasons = tuple(
        f"{head}: {p:,} parcels due that day not delivered, the {within}-day promise is "
        "broken" for _, p in unserved
    )
    rates = problem.penalty_rates()
    return replace(
        result, unserved=unserved, unserved_reasons=reasons,
        status="partial" if unserved else "solved",
        unserved_penalty=float(sum(rates[node] * p for node, p in unserved)),
    )


def delivered_per_station(problem: RoutingProblem, result: RoutingResult) -> np.ndarray:
    """Parcels delivered per station (position among the day's stations)."""
    out = np.zeros(problem.n_nodes - problem.n_depots, dtype=np.int64)
    for route in result.routes:
        for stop, amount in zip(route.stops, route.loads, strict=True):
            out[stop - problem.n_depots] += amount
    return out


def cheapest_spare(options: list[HireOption], hires: np.ndarray) -> int | None:
    """The option with one vehicle left that costs least per parcel of capacity."""
    best = None
    for i, o in enumerate(options):
        cap = trip_parcels(o.vehicle, 0.0) * o.vehicle.max_trips
        if hires[i] < o.available_per_day and cap > 0:
            price = o.cost_per_day / cap
            if best is None or price < best[0]:
                best = (price, i)
    return None if best is None else best[1]


def used_hires(problem: RoutingProblem, result: RoutingResult,
               options: list[HireOption]) -> np.ndarray:
    """Hired vehicles per option that drive a route."""
    names = [o.vehicle.type_name for o in options]
    used = np.zeros(len(options), dtype=np.int64)
    for r in result.routes:
        name = problem.vehicles[r.vehicle].type_name
        if name in names:
            used[names.index(name)] += 1
    return used


def peak_section(
    peak: PeakSettings,
    profile: np.ndarray,
    arrivals: np.ndarray,
    routed: np.ndarray,
    at_depot: np.ndarray,
    delivered_days: list[np.ndarray],
    rows: list[DayRoutes],
    options: list[HireOption],
    plan: HirePlan,
    notes: list[str],
) -> PeakSection:
    """The ``peak`` section of ``summary.json``."""
    days = len(profile)
    # Stations at the DC get their parcels on arrival.
    depot_daily = arrivals[:, at_depot].sum(axis=1)
    routed_arrivals = arrivals[:, routed]
    backlog, wait, clear = run_backlog(routed_arrivals, delivered_days)
    names = [o.vehicle.type_name.removesuffix(HIRED) for o in options]
    hired = {name: [int(row.hired_used[i]) for row in rows] for i, name in enumerate(names)}
    prices = np.array([o.cost_per_day for o in options], dtype=float)
    hire_cost = [float(row.hired_used @ prices) if len(prices) else 0.0 for row in rows]
    kept = all(w < peak.deliver_within_days for w in wait) and (
        not backlog or not _late_at_end(routed_arrivals, backlog, peak.deliver_within_days)
    )
    return {
        "days": list(range(1, days + 1)),
        "arrivals_multiplier": [float(x) for x in profile],
        "arrivals": [int(x) for x in arrivals.sum(axis=1)],
        "delivered": [int(delivered_days[d].sum() + depot_daily[d]) for d in range(days)],
        "backlog": backlog,
        "hired": hired,
        "hire_cost": [round(c, 2) for c in hire_cost],
        "own_vehicles_used": [row.own_used for row in rows],
        "route_km": [round(row.km, 1) for row in rows],
        "cost": [round(row.cost, 2) for row in rows],
        "longest_wait_days": wait,
        "days_to_clear": clear,
        "max_backlog_parcels": max(backlog) if backlog else 0,
        "deliver_within_days": peak.deliver_within_days,
        "promise_kept": kept,
        "hire_plan": {
            "status": plan.status,
            "hired": {name: [int(x) for x in plan.hired[:, i]] for i, name in enumerate(names)},
            "cost": None if not math.isfinite(plan.cost) else round(plan.cost, 2),
            "bound": None if not math.isfinite(plan.bound) else round(plan.bound, 2),
        },
        "notes": notes,
        # The hires the routes drive cost what the hire MIP's optimum (a lower bound on
        # any plan keeping the promise) costs: proven cheapest.
        "hire_proven_minimal": bool(
            kept and plan.status == "optimal" and math.isfinite(plan.cost)
            and abs(sum(hire_cost) - plan.cost) < 1e-6
        ),
    }


def one_fewer_check(
    own: RoutingProblem,
    arrivals: np.ndarray,
    options: list[HireOption],
    rows: list[DayRoutes],
    peak: PeakSettings,
    *,
    time_limit_s: float,
) -> OneFewerSection | None:
    """Whether one hired vehicle fewer on the busiest hire day (the other types that day
    as hired, other days free within the limits) can keep the promise: an infeasible hire
    MIP proves it cannot, for any plan."""
    if not rows or not options:
        return None
    used = np.array([r.hired_used for r in rows])
    day = int(np.argmax(used.sum(axis=1)))
    if used[day].sum() == 0:
        return None
    kind = int(np.argmax(used[day]))
    limit = np.array([[o.available_per_day for o in options]] * len(rows), dtype=np.int64)
    limit[day] = used[day]
    limit[day, kind] -= 1
    check = plan_hires(own, arrivals, options, within_days=peak.deliver_within_days,
                       storage_parcels=peak.station_storage_parcels,
                       time_limit_s=max(time_limit_s, 5.0), available=limit)
    return {
        "day": day + 1,
        "vehicle": options[kind].vehicle.type_name.removesuffix(HIRED),
        "hired": int(used[day, kind]),
        "status": check.status,
        "promise_breaks": check.status == "infeasible",
        "hire_cost_bound": None if not math.isfinite(check.bound) else round(check.bound, 2),
    }


def _late_at_end(arrivals: np.ndarray, backlog: list[int], within: int) -> bool:
    """Whether parcels waiting at the end are already older than the promise allows."""
    days = arrivals.shape[0]
    young = int(arrivals[max(0, days - within + 1):].sum())
    return backlog[-1] > young
