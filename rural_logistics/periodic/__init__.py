"""Periodic (weekly) planning on arrays: which days each station is visited, and every
day's routes.

``model`` holds the problem (one day's routing problem plus each station's visit
options) and the plan, ``search`` the planner (:func:`solve_periodic`), ``check`` the
independent checker of a plan (:func:`check_plan`), used by ``benchmark pvrp`` and the
weekly delivery mode.
"""

from rural_logistics.periodic.check import PlanCheck, check_plan
from rural_logistics.periodic.model import (
    PeriodicPlan,
    PeriodicProblem,
    VisitOption,
    accumulated_parcels,
    waiting_days,
)
from rural_logistics.periodic.search import solve_periodic, start_choice

__all__ = [
    "PeriodicPlan",
    "PeriodicProblem",
    "PlanCheck",
    "VisitOption",
    "accumulated_parcels",
    "check_plan",
    "solve_periodic",
    "start_choice",
    "waiting_days",
]
