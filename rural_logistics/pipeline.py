"""The order of the work: config → region → check → placement → delivery → plan.

This is the only module that knows the sequence; each stage is a call into the module
that does the work:

1. :func:`rural_logistics.region.prepare_region` — inputs, road graph, demand, access;
2. :func:`rural_logistics.validation.check_request` — the check pass (the same one
   ``validate`` runs): every rule about the request, before any solver;
3. :func:`place_stations` — the placement model (``placement.method``);
4. the delivery mode the config asks for (:mod:`rural_logistics.delivery`): direct
   routes, location-routing or two echelons;
5. :func:`rural_logistics.assemble.assemble_plan` — layers and the summary.

The solver stages share one time :class:`~rural_logistics.solvers.Budget` of
``solver.time_limit_s``, started when the region is prepared: placement may use up to
:data:`PLACEMENT_SHARE` of it, the delivery everything left. Progress is reported through
a callback; nothing here prints.
"""

from __future__ import annotations

import time

from rural_logistics.assemble import assemble_plan
from rural_logistics.config import RegionConfig
from rural_logistics.delivery import DeliveryRequest, delivery_mode
from rural_logistics.errors import ConfigError, InfeasibleError
from rural_logistics.placement import PlacementResult
from rural_logistics.placement.dispatch import METHOD_TEXT, solve_placement
from rural_logistics.placement.result import SiteRules
from rural_logistics.plan import Plan
from rural_logistics.region import PreparedRegion, Progress, prepare_region, silent, village_weights
from rural_logistics.solvers.budget import Budget
from rural_logistics.validation import check_request

#: Most of the run's solver time the placement stage may use; it usually proves its
#: optimum in a fraction of it, and the delivery gets whatever is left.
PLACEMENT_SHARE = 0.5

__all__ = [
    "PLACEMENT_SHARE", "Progress", "place_stations", "plan_region", "prepare_region", "run_title",
]


def plan_region(config: RegionConfig, *, progress: Progress = silent) -> Plan:
    """Run the whole pipeline for one region and scenario.

    Parameters
    ----------
    config
        Validated region config.
    progress
        Stage reporter (see :data:`rural_logistics.region.Progress`).

    Returns
    -------
    Plan

    Raises
    ------
    ConfigError
        A config with a ``carriers`` section (several designs: ``solve`` plans them).
    InputDataError
        Unusable data.
    InfeasibleError
        A request no plan can meet (the check pass lists every reason).
    """
    if config.carriers is not None:
        raise ConfigError(
            "carriers: a config with carriers is planned by `solve` (a plan per design, "
            "rural_logistics.carriers.run.plan_designs); remove the carriers section to "
            "plan one network here"
        )
    start = time.perf_counter()
    prepared = prepare_region(config, progress=progress)
    request = check_request(config, prepared)
    if request.problems:
        raise InfeasibleError(request.problems)
    assert request.rules is not None
    budget = Budget.of(config.solver.time_limit_s)
    with progress(_placement_text(config)):
        placement = place_stations(
            config, prepared, request.rules, budget=budget.share(PLACEMENT_SHARE)
        )
    mode = delivery_mode(config)
    with progress(mode.stage_text(config, budget)):
        delivery = mode.deliver(
            DeliveryRequest(config, prepared, placement, request.rules, budget)
        )
    with progress("assembling the plan"):
        return assemble_plan(
            config, prepared, delivery, check_warnings=request.warnings,
            solve_seconds=time.perf_counter() - start,
        )


def place_stations(
    config: RegionConfig, prepared: PreparedRegion, rules: SiteRules, *, budget: Budget
) -> PlacementResult:
    """Choose stations with the configured placement model (``placement.method``).

    Returns
    -------
    PlacementResult
        Site indices refer to ``prepared.data.sites`` (``location_routing``: the
        fixed-charge optimum its search starts from).
    """
    return solve_placement(
        config.placement,
        time_min=prepared.access.time_min,
        distance_km=prepared.access.distance_km,
        weights=village_weights(config, prepared),
        parcels_per_day=prepared.demand.parcels_per_day,
        rules=rules,
        village_ids=prepared.village_ids,
        budget=budget,
    )


#: Placement methods that open ``placement.stations`` stations (the others choose how many).
METHODS_WITH_K = ("p_median", "max_coverage")


def _placement_text(config: RegionConfig) -> str:
    method = config.placement.method
    what = (
        f"placing {config.placement.stations} stations"
        if method in METHODS_WITH_K
        else "placing stations"
    )
    return f"{what} ({METHOD_TEXT[method]})"


def run_title(config: RegionConfig) -> str:
    """What a run plans, for the first progress line: region, scenario, and the number of
    stations only where the placement method opens a given number of them
    (``Guyuan County (normal, 40 stations by p-median)``, ``… (normal, the number of
    stations chosen by set cover)``)."""
    method = config.placement.method
    how = ("location-routing" if method == "location_routing"
           else METHOD_TEXT[method])
    stations = (
        f"{config.placement.stations} stations by {how}" if method in METHODS_WITH_K
        else f"the number of stations chosen by {how}"
    )
    return f"{config.region.name} ({config.scenario}, {stations})"
