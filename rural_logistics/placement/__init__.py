"""Where stations go: p-median, maximal coverage, set cover and capacitated fixed charge.

Every model works on arrays only (a client × site cost matrix, weights, side constraints as
:class:`SiteRules`) and returns a :class:`PlacementResult` with the open sites, the
assignment, the objective, the best proven bound and the status. The MIPs are built with
:class:`~rural_logistics.placement.site_model.SiteModel` on the shared
:mod:`rural_logistics.solvers.mip`; ``cfl_lagrange`` also uses OR-Tools' min-cost flow and
SciPy's ``linprog``.
"""

from rural_logistics.placement.pmedian import (
    assign_to_open,
    local_search,
    p_median_objective,
    solve_p_median,
)
from rural_logistics.placement.result import PlacementResult, SiteRules, Status

__all__ = [
    "PlacementResult",
    "SiteRules",
    "Status",
    "assign_to_open",
    "local_search",
    "p_median_objective",
    "solve_p_median",
]
