"""PyVRP engine (iterated local search): every variant of :class:`RoutingProblem`.

Mapping: locations are the problem's nodes; each visit is a client at its station's
location (delivery ``[parcels, kg down]``, pickup ``[0, kg up]``); vehicles with the same
settings form one vehicle type tied to its depot; each distinct (speed factor, service
time) is a routing profile whose duration matrix carries the service time at the origin;
multi-trip vehicles reload at their own depot (``reload_depots``, ``max_reloads``); optional
stations are optional clients whose prize is the penalty.

The seed is explicit. With ``workers = 2`` two seeds (``seed`` and ``seed + 1``) run in
parallel processes; when every station is required they exchange their route pools
halfway and the union is recombined at the end (:class:`Recombination`), otherwise the
better feasible result is kept. The stop rule is the time limit, or ``iteration_limit``
iterations (deterministic for a seed).
"""

from rural_logistics.routing.pyvrp_engine.data import (
    KG_SCALE,
    build_data,
    polished,
    solution_of,
    trim_to_feasible,
    zero_cost_evaluator,
)
from rural_logistics.routing.pyvrp_engine.ils import (
    PooledRun,
    run_pyvrp,
    run_pyvrp_pooled,
)
from rural_logistics.routing.pyvrp_engine.parallel import (
    merge_runs,
    parallel_runs,
    solve_pyvrp,
)
from rural_logistics.routing.pyvrp_engine.settings import (
    RECOMBINATION,
    PyVrpOptions,
    Recombination,
)

__all__ = [
    "KG_SCALE",
    "RECOMBINATION",
    "PooledRun",
    "PyVrpOptions",
    "Recombination",
    "build_data",
    "merge_runs",
    "parallel_runs",
    "polished",
    "run_pyvrp",
    "run_pyvrp_pooled",
    "solution_of",
    "solve_pyvrp",
    "trim_to_feasible",
    "zero_cost_evaluator",
]
