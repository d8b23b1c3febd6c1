"""Location-routing delivery (``placement.method: location_routing``): the stations are
chosen together with the van routes that serve them.

The placement stage gives the fixed-charge optimum; the search
(:func:`rural_logistics.lrp.stations.solve_station_lrp`) routes it, looks for a cheaper
set of stations with its routes, and keeps the cheaper plan. The delivery's placement is
the chosen plan's (marked ``heuristic`` when the joint plan wins).
"""

from __future__ import annotations

import numpy as np

from rural_logistics.config import RegionConfig
from rural_logistics.delivery.base import (
    Delivery,
    DeliveryRequest,
    HonoursEveryKey,
    StationTemplate,
    loads_of,
    routing_template,
    station_tier,
)
from rural_logistics.lrp.stations import (
    StationLrpProblem,
    StationLrpResult,
    StationPlan,
    engine_router,
    solve_station_lrp,
    station_plan_placement,
)
from rural_logistics.placement.dispatch import access_costs, fixed_charge_costs
from rural_logistics.routing.model import subset_problem
from rural_logistics.solvers.budget import Budget
from rural_logistics.summary import DeliverySections, LocationRoutingSection, LrpPlanSection


class LocationRoutingDelivery(HonoursEveryKey):
    """Stations and routes searched together, from the fixed-charge start; every
    routing and fleet key is honoured (routes are the engine's, or edited routes checked
    by its evaluator)."""

    name = "location_routing"

    def stage_text(self, config: RegionConfig, budget: Budget) -> str:
        """Progress line."""
        return (
            "location-routing: routing the fixed-charge stations, searching station sets, "
            f"routing the best (up to {budget.left():.0f} s)"
        )

    def deliver(self, request: DeliveryRequest) -> Delivery:
        """Search station sets with their routes; the cheaper of the sequential and the
        joint plan is delivered."""
        result, template = locate_and_route(request)
        best = result.best
        placement = request.placement
        if result.chosen == "joint":
            placement = station_plan_placement(best, bound=placement.bound)
        loads = loads_of(best.placement, request.prepared)
        sites = loads.open_sites
        problem = subset_problem(
            template.problem, sites, loads.parcels_per_day, loads.produce_kg_per_day
        )
        tier = station_tier(
            template, problem, best.routing, stations=sites, prepared=request.prepared
        )
        return Delivery(
            mode=self.name,
            placement=placement,
            loads=loads,
            tiers=(tier,),
            sections=DeliverySections(location_routing=lrp_section(result)),
        )


def locate_and_route(request: DeliveryRequest) -> tuple[StationLrpResult, StationTemplate]:
    """Build the location-routing problem over every candidate site and solve it.

    Returns
    -------
    StationLrpResult, StationTemplate
        Both plans (routing nodes: depots, then open stations), and the routing template
        over every site (node ``n_depots + j`` = site ``j``).
    """
    config, prepared, rules = request.config, request.prepared, request.rules
    settings = config.placement
    time_min, distance_km = prepared.access.time_min, prepared.access.distance_km
    reachable, allowed, cost = access_costs(
        settings, time_min=time_min, distance_km=distance_km, rules=rules
    )
    parcels = prepared.demand.parcels_per_day
    assign, capacity = fixed_charge_costs(
        settings, distance_km=distance_km, parcels_per_day=parcels, allowed=allowed
    )
    n_sites = len(prepared.data.sites)
    template = routing_template(config, prepared, np.arange(n_sites))
    base = time_min if settings.objective == "time" else distance_km
    problem = StationLrpProblem(
        assign_cost=assign,
        parcels_per_day=parcels,
        produce_kg_per_day=prepared.demand.produce_kg_per_day,
        opening_cost=np.full(n_sites, settings.opening_cost_per_day),
        routing=template.problem,
        capacity=capacity,
        single_source=settings.single_source,
        rules=rules,
        nearest_cost=cost,
        fallback_cost=np.where(reachable, base, np.inf),
    )
    router = engine_router(
        template.problem,
        engine=config.routing.engine,
        seed=config.solver.seed,
        workers=config.routing.workers,
    )
    result = solve_station_lrp(problem, start=request.placement, route=router,
                               budget=request.budget)
    return result, template


def lrp_section(result: StationLrpResult) -> LocationRoutingSection:
    """``summary.json`` section ``location_routing``: both plans' cost split."""

    def part(plan: StationPlan) -> LrpPlanSection:
        return {
            **plan.cost.as_dict(),
            "stations_open": len(plan.placement.open_sites),
            "routes": len(plan.routing.routes),
            "route_km": round(plan.routing.distance_km(), 2),
        }

    seq = result.sequential.cost.total
    return {
        "chosen": result.chosen,
        "sequential": part(result.sequential),
        "joint": part(result.joint),
        "saved_per_day": round(result.saved_per_day, 2),
        "saved_share": round(result.saved_per_day / seq, 4) if seq > 0 else 0.0,
        "sets_estimated": result.sets_estimated,
        "sets_confirmed": result.sets_confirmed,
        "notes": list(result.notes),
        "solve_seconds": round(result.seconds, 2),
    }
