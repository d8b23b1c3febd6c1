"""Several carriers: the designs on one prepared region, and the fair split of the joint
design's cost.

Order of the work (this module knows it for a ``carriers`` run, as
:mod:`rural_logistics.pipeline` does for one plan): prepare the region, the check pass
(the ``carriers`` keys included), then each design named in ``carriers.designs`` with
its own time :class:`~rural_logistics.solvers.Budget` of ``solver.time_limit_s``, each
assembled into a plan as ``solve`` does; then the cost game: every coalition of carriers
is a ``joint`` network of its own (its members' parcels, stations placed for them, their
vehicles from their depots) solved with ``solver.time_limit_s × |S| / n`` seconds — the
single carriers are the ``separate`` design's networks (each solved with its share,
about ``T / n``), the grand coalition the ``joint`` design (``T``). Progress is reported
through a callback; nothing here prints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from rural_logistics.assemble import assemble_plan
from rural_logistics.carriers.designs import (
    CarrierParcels,
    Network,
    design_access,
    members_region,
    network_delivery,
    separate_delivery,
    solve_network,
)
from rural_logistics.carriers.game import (
    CoreCheck,
    coalitions,
    core_check,
    proportional_shares,
    shapley_values,
)
from rural_logistics.carriers.shares import carrier_shares
from rural_logistics.config import DesignName, RegionConfig
from rural_logistics.delivery.base import Delivery
from rural_logistics.errors import InfeasibleError
from rural_logistics.placement.result import SiteRules
from rural_logistics.plan import Plan
from rural_logistics.region import PreparedRegion, Progress, prepare_region, silent
from rural_logistics.solvers.budget import Budget
from rural_logistics.validation import check_request

#: What each design does, for progress lines and the report.
DESIGN_TEXT: dict[str, str] = {
    "separate": "each carrier its own stations and fleet",
    "shared_stations": "one station network, each carrier its own fleet",
    "joint": "one station network and one fleet from the carriers' depots",
}
#: Relative slack under which a broken cost order counts as rounding.
ORDER_TOL = 1e-6


@dataclass(frozen=True)
class DesignResult:
    """One design: its networks, its plan and its row of the designs table."""

    name: DesignName
    networks: tuple[Network, ...]
    plan: Plan
    row: dict[str, Any]


@dataclass(frozen=True)
class FairSplit:
    """The cost game of the carriers and its allocations.

    Attributes
    ----------
    costs
        Daily cost (opening, vehicles, km, and the penalty of any unserved parcel) of
        every coalition on its own.
    coalition_rows
        One row per coalition: members, cost, delivered share, what was solved, seconds.
    shapley, proportional
        Allocation of the grand coalition's cost per carrier.
    shapley_core, proportional_core
        Core check of each allocation.
    """

    costs: dict[frozenset[int], float]
    coalition_rows: list[dict[str, Any]]
    shapley: np.ndarray
    proportional: np.ndarray
    shapley_core: CoreCheck
    proportional_core: CoreCheck


@dataclass(frozen=True)
class CarriersResult:
    """What a carriers run produced."""

    config: RegionConfig
    designs: tuple[DesignResult, ...]
    parcels: CarrierParcels
    split: FairSplit | None
    shapley_rows: list[dict[str, Any]]
    notes: tuple[str, ...]
    solve_seconds: float


def network_cost(network: Network) -> float:
    """A coalition's cost in the game: opening, vehicles, km, unserved penalty."""
    return network.cost_per_day + network.unserved_penalty


def planned_seconds(config: RegionConfig) -> float:
    """The most solver time :func:`plan_designs` takes: ``solver.time_limit_s`` per design
    and, with the fair split, ``time_limit_s × |S| / n`` per coalition it solves (not the
    single carriers when ``separate`` runs, nor all carriers: the ``joint`` design)."""
    settings = config.carriers
    assert settings is not None
    t = config.solver.time_limit_s
    total = t * len(settings.designs)
    if settings.shapley:
        n = len(settings.members)
        known = {n, *([1] if "separate" in settings.designs else [])}
        total += sum(t * len(c) / n for c in coalitions(n) if len(c) not in known)
    return total


def plan_designs(
    config: RegionConfig, *, progress: Progress = silent, iteration_limit: int | None = None
) -> CarriersResult:
    """Solve every design named in ``carriers.designs`` and the fair split.

    ``iteration_limit``: a deterministic stop rule for the routing searches (engine
    iterations) within the time budgets, e.g. for tests on a busy machine.

    Raises
    ------
    InputDataError
        Unusable data.
    InfeasibleError
        A request no plan can meet (the check pass lists every reason).
    """
    start = time.perf_counter()
    settings = config.carriers
    assert settings is not None
    prepared = prepare_region(config, progress=progress)
    request = check_request(config, prepared)
    if request.problems:
        raise InfeasibleError(request.problems)
    assert request.rules is not None
    rules = request.rules
    names = [c.name for c in settings.members]
    parcels = CarrierParcels.of(names, carrier_shares(config, prepared), prepared)
    n = len(names)
    everyone = tuple(range(n))
    seconds = config.solver.time_limit_s
    results: list[DesignResult] = []
    for design in settings.designs:
        with progress(f"design {design}: {DESIGN_TEXT[design]} (up to {seconds:.0f} s)"):
            t0 = time.perf_counter()
            networks, delivery = _solve_design(config, prepared, parcels, rules, design,
                                               budget=Budget.of(seconds, iteration_limit=
                                                                iteration_limit))
            plan = assemble_plan(
                config, members_region(prepared, parcels, everyone), delivery,
                check_warnings=request.warnings, solve_seconds=time.perf_counter() - t0,
            )
            results.append(DesignResult(design, networks, plan,
                                        _design_row(config, prepared, parcels, design,
                                                    networks, plan)))
    notes = order_notes(results)
    split = None
    if settings.shapley:
        split = fair_split(config, prepared, parcels, rules, results, progress=progress,
                           iteration_limit=iteration_limit)
        notes += split_notes(split, names)
    rows = shapley_rows(split, parcels) if split is not None else []
    return CarriersResult(config, tuple(results), parcels, split, rows, tuple(notes),
                          time.perf_counter() - start)


def _solve_design(
    config: RegionConfig, prepared: PreparedRegion, parcels: CarrierParcels,
    rules: SiteRules, design: DesignName, *, budget: Budget,
) -> tuple[tuple[Network, ...], Delivery]:
    n = len(parcels.names)
    if design == "separate":
        networks = tuple(
            solve_network(config, prepared, parcels, rules, (k,), one_fleet=True,
                          budget=budget.share(1 / (n - k)),
                          route_prefix=f"{parcels.names[k]}-R")
            for k in range(n)
        )
        return networks, separate_delivery(
            networks, parcels, opening_cost_per_day=config.placement.opening_cost_per_day)
    net = solve_network(config, prepared, parcels, rules, tuple(range(n)),
                        one_fleet=design == "joint", budget=budget)
    return (net,), network_delivery(net, mode=design)


def _design_row(
    config: RegionConfig, prepared: PreparedRegion, parcels: CarrierParcels,
    design: DesignName, networks: tuple[Network, ...], plan: Plan,
) -> dict[str, Any]:
    s = plan.summary
    access = design_access(networks, parcels, prepared, radius_km=config.placement.radius_km)
    return {
        "design": design,
        "stations": sum(len(n.placement.open_sites) for n in networks),
        "sites": int(s["stations_open"]),
        "vehicles": int(s["vehicles_used"]),
        "route_km_per_day": round(float(s["total_route_km"]), 1),
        "cost_per_day": round(float(s["total_cost_per_day"]), 2),
        "cost_per_parcel": s["cost_per_parcel"],
        "delivered_share": round(float(s["delivered_share"]), 4),
        "parcels_within_radius_share": round(access.within_radius_share, 4),
        "mean_access_km": round(access.mean_km, 2),
        "placement_objective": round(sum(n.placement.objective for n in networks), 2),
        "solve_seconds": round(float(s["solve_seconds"]), 1),
    }


def order_notes(results: list[DesignResult]) -> list[str]:
    """Where the designs break the cost order ``joint ≤ shared_stations ≤ separate``.

    The model implies ``joint ≤ shared_stations`` when both place the same stations (the
    joint fleet can drive the shared design's routes) and, for placement models that
    choose the number of stations (``fixed_charge``, ``set_cover``), a shared placement
    objective no worse than the carriers' separate ones together (the union of their
    stations is a feasible shared network). The total cost of ``shared_stations`` below
    ``separate`` is expected but not implied (shared stations may lie off a carrier's
    routes). Plans that leave parcels undelivered are not compared on cost.
    """
    by: dict[str, DesignResult] = {r.name: r for r in results}
    notes: list[str] = []
    undelivered = [r.name for r in results if float(r.row["delivered_share"]) < 1 - 1e-4]
    if undelivered:
        notes.append(f"design(s) {', '.join(undelivered)} leave parcels undelivered: their "
                     "cost is not comparable with the others")

    def cost(name: str) -> float:
        return float(by[name].row["cost_per_day"])

    if "joint" in by and "shared_stations" in by:
        same = np.array_equal(by["joint"].networks[0].placement.open_sites,
                              by["shared_stations"].networks[0].placement.open_sites)
        if same and cost("joint") > cost("shared_stations") * (1 + ORDER_TOL):
            notes.append(
                f"heuristic broke the order: joint costs {cost('joint'):,.2f}/day, more than "
                f"shared_stations {cost('shared_stations'):,.2f}/day on the same stations, "
                "although the joint fleet could drive the shared design's routes (the "
                "routing search fell short; raise solver.time_limit_s)")
        if not same:
            notes.append("joint and shared_stations placed different stations (placement "
                         "not proven optimal): their cost order is not implied")
    if "shared_stations" in by and "separate" in by:
        shared, separate = by["shared_stations"], by["separate"]
        method = shared.plan.summary["placement"]["method"]
        objective_s = float(shared.row["placement_objective"])
        objective_p = float(separate.row["placement_objective"])
        if method in ("fixed_charge", "set_cover") and objective_s > objective_p * (
                1 + ORDER_TOL) + 1e-6:
            notes.append(
                f"placement broke the order: the shared network's {method} objective "
                f"{objective_s:,.2f} exceeds the separate networks' {objective_p:,.2f} "
                "together, although their union is a feasible shared network (placement "
                "not proven optimal)")
        if cost("shared_stations") > cost("separate") * (1 + ORDER_TOL):
            notes.append(
                f"shared_stations costs {cost('shared_stations'):,.2f}/day, more than "
                f"separate {cost('separate'):,.2f}/day: sharing stations alone does not pay "
                "here (expected, not implied by the model: the shared stations are placed "
                "for access, not for each carrier's routes)")
    return notes


def fair_split(
    config: RegionConfig, prepared: PreparedRegion, parcels: CarrierParcels,
    rules: SiteRules, results: list[DesignResult], *, progress: Progress = silent,
    iteration_limit: int | None = None,
) -> FairSplit:
    """The cost game over every coalition and its Shapley and proportional split.

    Coalition ``S`` is a ``joint`` network of its own, solved with
    ``solver.time_limit_s × |S| / n`` seconds; the singletons are taken from the
    ``separate`` design and the grand coalition from the ``joint`` design when they ran.
    """
    n = len(parcels.names)
    grand = frozenset(range(n))
    by: dict[str, DesignResult] = {r.name: r for r in results}
    known: dict[frozenset[int], tuple[Network, str]] = {}
    if "separate" in by:
        for net in by["separate"].networks:
            known[frozenset(net.members)] = (net, "separate design")
    known[grand] = (by["joint"].networks[0], "joint design")
    costs: dict[frozenset[int], float] = {}
    rows: list[dict[str, Any]] = []
    todo = [c for c in coalitions(n) if c not in known]
    for coalition in coalitions(n):
        seconds = config.solver.time_limit_s * len(coalition) / n
        if coalition in known:
            net, source = known[coalition]
            t = float("nan")
        else:
            members = tuple(sorted(coalition))
            label = "+".join(parcels.names[i] for i in members)
            with progress(f"coalition {todo.index(coalition) + 1}/{len(todo)} {label} "
                          f"(up to {seconds:.0f} s)"):
                t0 = time.perf_counter()
                net = solve_network(config, prepared, parcels, rules, members,
                                    one_fleet=True,
                                    budget=Budget.of(seconds, iteration_limit=iteration_limit))
                t = time.perf_counter() - t0
            source = "solved as a joint network"
        costs[coalition] = network_cost(net)
        demand = float(parcels.parcels_per_day[sorted(coalition)].sum())
        rows.append({
            "coalition": "+".join(parcels.names[i] for i in sorted(coalition)),
            "carriers": len(coalition),
            "parcels_per_day": round(demand, 1),
            "stations": len(net.placement.open_sites),
            "vehicles": sum(len(t_.result.routes) for t_ in net.tiers),
            "cost_per_day": round(costs[coalition], 2),
            "unserved_penalty_per_day": round(net.unserved_penalty, 2),
            "delivered_share": round(min(1.0, net.delivered_parcels / demand), 4)
            if demand else 1.0,
            "source": source,
            "budget_s": round(seconds, 1),
            "solve_seconds": None if np.isnan(t) else round(t, 1),
        })
    shapley = shapley_values(costs, n)
    proportional = proportional_shares(costs[grand], parcels.totals())
    return FairSplit(costs, rows, shapley, proportional, core_check(costs, shapley),
                     core_check(costs, proportional))


def split_notes(split: FairSplit, names: list[str]) -> list[str]:
    """The core checks in words, and coalitions that would not deliver everything."""
    notes = []
    for rule, check in (("Shapley", split.shapley_core),
                        ("proportional", split.proportional_core)):
        if check.worst_coalition is not None:
            who = "+".join(names[i] for i in sorted(check.worst_coalition))
            notes.append(f"the {rule} split is not in the core: {who} would pay "
                         f"{check.worst_excess:,.2f}/day more than on its own")
    short = [str(r["coalition"]) for r in split.coalition_rows
             if float(r["delivered_share"]) < 1 - 1e-4]
    if short:
        notes.append(f"coalition(s) {', '.join(short)} leave parcels undelivered: their cost "
                     "includes routing.unserved_penalty_per_parcel for each")
    return notes


def shapley_rows(split: FairSplit, parcels: CarrierParcels) -> list[dict[str, Any]]:
    """One row per carrier: parcels, stand-alone cost, Shapley and proportional shares."""
    totals = parcels.totals()
    rows = []
    for i, name in enumerate(parcels.names):
        alone = split.costs[frozenset({i})]
        rows.append({
            "carrier": name,
            "parcels_per_day": round(float(totals[i]), 1),
            "stand_alone_cost_per_day": round(alone, 2),
            "shapley_cost_per_day": round(float(split.shapley[i]), 2),
            "shapley_saving_per_day": round(alone - float(split.shapley[i]), 2),
            "shapley_cost_per_parcel": round(float(split.shapley[i]) / float(totals[i]), 4),
            "proportional_cost_per_day": round(float(split.proportional[i]), 2),
            "proportional_saving_per_day": round(alone - float(split.proportional[i]), 2),
        })
    return rows



def core_lines(split: FairSplit, names: list[str]) -> list[str]:
    """The core check of each rule in one line."""
    lines = []
    for rule, check in (("Shapley", split.shapley_core),
                        ("proportional", split.proportional_core)):
        if check.worst_coalition is None:
            lines.append(f"{rule}: in the core (no carrier or group of carriers pays more "
                         "than its stand-alone cost)")
        else:
            who = "+".join(names[i] for i in sorted(check.worst_coalition))
            lines.append(f"{rule}: NOT in the core; worst violation: {who} pays "
                         f"{check.worst_excess:,.2f}/day more than on its own")
    return lines
