"""Open stations + fleet → vehicle routes.

``model`` holds the problem and result types, ``evaluate`` the independent checker,
``ortools_engine`` and ``pyvrp_engine`` the two engines (the only routing modules that
import a solver library), ``solve`` picks one and turns its answer into checked routes.
``tests/test_architecture.py`` holds the list of modules allowed to import each solver
library.
"""

from rural_logistics.routing.evaluate import Evaluation, NodeTime, evaluate, route_schedule
from rural_logistics.routing.model import (
    Route,
    RoutingProblem,
    RoutingResult,
    VehicleSpec,
    expand_fleet,
    split_visits,
)
from rural_logistics.routing.solve import DEFAULT_ENGINE, ENGINES, solve_vrp

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "Evaluation",
    "NodeTime",
    "Route",
    "RoutingProblem",
    "RoutingResult",
    "VehicleSpec",
    "evaluate",
    "expand_fleet",
    "route_schedule",
    "solve_vrp",
    "split_visits",
]
