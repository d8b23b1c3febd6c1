"""Direct delivery: the fleet from its depots straight to the open stations."""

from __future__ import annotations

import numpy as np

from rural_logistics.config import RegionConfig
from rural_logistics.delivery.base import (
    Delivery,
    DeliveryRequest,
    HonoursEveryKey,
    loads_of,
    routing_template,
    station_tier,
)
from rural_logistics.last_metres import at_depot_stations
from rural_logistics.routing.model import RoutingResult, subset_problem
from rural_logistics.routing.solve import solve_vrp
from rural_logistics.solvers.budget import Budget


class DirectDelivery(HonoursEveryKey):
    """One tier, one day: a vehicle routing problem over the open stations (those at the
    county distribution centre are served there, without a vehicle); every routing and
    fleet key is honoured by the routing engines."""

    name = "direct"

    def stage_text(self, config: RegionConfig, budget: Budget) -> str:
        """Progress line."""
        return f"routing vehicles (up to {budget.left():.0f} s)"

    def deliver(self, request: DeliveryRequest) -> Delivery:
        """Route the fleet from its depots to the open stations within the budget."""
        config = request.config
        loads = loads_of(request.placement, request.prepared)
        template = routing_template(config, request.prepared, loads.open_sites)
        # Stations at the county DC are served there: no vehicle drives to them.
        at_depot = at_depot_stations(template.problem)
        routed = np.flatnonzero(~at_depot)
        problem = subset_problem(
            template.problem, routed, loads.parcels_per_day[routed],
            loads.produce_kg_per_day[routed],
        )
        if len(routed):
            result = solve_vrp(
                problem,
                engine=config.routing.engine,
                budget=request.budget,
                seed=config.solver.seed,
                workers=config.routing.workers,
            )
        else:  # every station is at the depot: nothing to drive
            result = RoutingResult(routes=(), unserved=(), status="solved", solve_seconds=0.0,
                                   engine=config.routing.engine)
        everywhere = len(routed) == len(loads.open_sites)
        tier = station_tier(
            template, problem, result, stations=routed, prepared=request.prepared,
            positions=None if everywhere else routed,
        )
        return Delivery(
            mode=self.name, placement=request.placement, loads=loads, tiers=(tier,),
            served_at_depot=at_depot,
        )
