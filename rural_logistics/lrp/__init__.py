"""Location-routing: open depots and build their routes together.

``model`` holds the array-level problem and solution types, ``evaluate`` the independent
checker, ``estimate`` the fast route-cost estimates that price depot sets (a capacitated
assignment LP through SciPy's ``linprog``), ``engine`` the PyVRP multi-depot solve with
depot-capacity repair (CP-SAT; the only lrp module importing PyVRP or OR-Tools),
and ``solve`` the location-routing search and the sequential (place, then route) baseline.
``stations`` (with ``station_moves``) is the single-tier planner of
``placement.method: location_routing``: village stations chosen together with the van
routes that serve them; ``two_echelon`` opens township hubs and routes both tiers.
"""

from rural_logistics.lrp.evaluate import LrpEvaluation, evaluate_lrp
from rural_logistics.lrp.model import LrpProblem, LrpRoute, LrpSolution
from rural_logistics.lrp.solve import solve_lrp, solve_sequential

__all__ = [
    "LrpEvaluation",
    "LrpProblem",
    "LrpRoute",
    "LrpSolution",
    "evaluate_lrp",
    "solve_lrp",
    "solve_sequential",
]
