"""One PyVRP search: the iterated local search loop with restarts and recombination."""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, replace

import pyvrp
from pyvrp import search
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.RingBuffer import RingBuffer
from pyvrp.stop import MaxIterations, MaxRuntime

from rural_logistics.routing.model import (
    RawSolution,
    RoutingProblem,
    Visits,
)
from rural_logistics.routing.pyvrp_engine.data import (
    _has_windows,
    _penalty_setup,
    _raw_solution,
    _visits,
    build_data,
    solution_of,
    trim_to_feasible,
    zero_cost_evaluator,
)
from rural_logistics.routing.pyvrp_engine.pool import _PoolState
from rural_logistics.routing.pyvrp_engine.settings import PyVrpOptions, Recombination, _Span
from rural_logistics.routing.route_pool import (
    PoolRoute,
    RoutePool,
)


@dataclass(frozen=True)
class _Outcome:
    """The best solution of a search and its effort."""

    best: pyvrp.Solution
    num_iterations: int
    data: pyvrp.ProblemData
    penalty_capped: int = 0
    pool: RoutePool | None = None

    def cost(self) -> float:
        """Objective of the best solution (penalties not counted)."""
        evaluator = zero_cost_evaluator(self.data)
        return float(evaluator.penalised_cost(self.best))


def _solve(
    data: pyvrp.ProblemData,
    span: _Span,
    *,
    seed: int,
    default: bool,
    initial: pyvrp.Solution | None = None,
    first_feasible: bool = False,
    recombination: Recombination | None = None,
    pool_routes: tuple[tuple[PoolRoute, float], ...] = (),
) -> _Outcome:
    """PyVRP's iterated local search with the penalties of :func:`_penalty_setup`.

    The loop is PyVRP 0.14's ``IteratedLocalSearch.run`` (late-acceptance hill
    climbing, exhaustive search on a new best, restart after long stagnation), with
    route-pool recombination at the checkpoints when ``recombination`` is given.
    ``first_feasible`` stops at the first feasible solution. PyVRP's warnings that a
    penalty reached its cap are counted, not printed.
    """
    if default:
        stop = MaxIterations(span.iterations) if span.iterations is not None else MaxRuntime(
            span.seconds or 0.0
        )
        res = pyvrp.solve(data, stop, seed=seed, collect_stats=False, display=False)
        return _Outcome(res.best, res.num_iterations, data)
    params, rng, ls, pm = _search_setup(data, seed=seed, recombination=recombination)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PenaltyBoundWarning)
        if initial is None:
            random = pyvrp.Solution.make_random(data, rng)
            initial = ls(random, pm.max_cost_evaluator(), exhaustive=True)
        best, iterations, pool = _iterated_local_search(
            data, pm, ls, initial, span, params.ils, rng=rng,
            first_feasible=first_feasible, recombination=recombination,
            pool_routes=pool_routes,
        )
    capped = sum(issubclass(w.category, PenaltyBoundWarning) for w in caught)
    for w in caught:
        if not issubclass(w.category, PenaltyBoundWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return _Outcome(best, iterations, data, capped, pool)


def _search_setup(
    data: pyvrp.ProblemData, *, seed: int, recombination: Recombination | None
) -> tuple[
    pyvrp.SolveParams, pyvrp.RandomNumberGenerator, search.LocalSearch, pyvrp.PenaltyManager
]:
    """Parameters, random numbers, local search and penalty manager of a search."""
    penalty, start_penalties = _penalty_setup(data)
    params = pyvrp.SolveParams(penalty=penalty)
    rng = pyvrp.RandomNumberGenerator(seed=seed)
    neighbourhood = params.neighbourhood
    if recombination is not None and recombination.neighbours is not None and not _has_windows(
        data
    ):
        neighbourhood = search.NeighbourhoodParams(
            weight_wait_time=neighbourhood.weight_wait_time,
            num_neighbours=recombination.neighbours,
            symmetric_proximity=neighbourhood.symmetric_proximity,
        )
    neighbours = search.compute_neighbours(data, neighbourhood)
    ls = search.LocalSearch(data, rng, neighbours, search.PerturbationManager(params.perturbation))
    for op in params.operators:
        if op.supports(data):
            ls.add_operator(op(data))
    return params, rng, ls, pyvrp.PenaltyManager(start_penalties, params.penalty)




def _iterated_local_search(
    data: pyvrp.ProblemData,
    pm: pyvrp.PenaltyManager,
    ls: search.LocalSearch,
    initial: pyvrp.Solution,
    span: _Span,
    params: pyvrp.IteratedLocalSearchParams,
    *,
    rng: pyvrp.RandomNumberGenerator,
    first_feasible: bool,
    recombination: Recombination | None,
    pool_routes: tuple[tuple[PoolRoute, float], ...] = (),
) -> tuple[pyvrp.Solution, int, RoutePool | None]:
    """The search loop; returns the best solution, the iterations run and the route
    pool (``None`` without one; the best solution's routes are in it).

    With ``recombination``: a run that has not improved its own best for
    ``restart_per_client`` iterations per client starts again from a random solution
    (the best overall is kept), and, when every client is required, at the
    checkpoints the pooled routes of all runs are recombined; a better plan becomes
    the current run's solution.
    """
    start = time.perf_counter()
    history: RingBuffer[pyvrp.Solution] = RingBuffer(params.history_length)
    best = run_best = curr = run_init = initial
    iters = iters_no_improvement = 0
    pool = None
    if recombination is not None and all(c.required for c in data.clients()):
        # With prizes (optional stations) the MIP is a partitioning problem with a weak
        # relaxation: HiGHS needs seconds for 150 routes of a 25-station instance, and
        # on the demo county it found nothing the search had not.
        pool = _PoolState(data, span, recombination)
        pool.pool.extend(pool_routes)
    stagnation = math.inf
    restart_until = 0.0
    if recombination is not None and recombination.restart_per_client is not None:
        stagnation = recombination.restart_per_client * max(1, data.num_clients)
        restart_until = recombination.restart_until
    cost_eval = pm.cost_evaluator()
    while True:
        used = span.used(start, iters)
        if used >= 1.0 or (first_feasible and best.is_feasible()):
            break
        if pool is not None and pool.due(used):
            found = pool.recombine(best, ls, pm, start)
            if found is not None and cost_eval.cost(found) < cost_eval.cost(best):
                best = run_best = curr = found
                iters_no_improvement = 0
        if iters_no_improvement >= stagnation and used <= restart_until:
            random = pyvrp.Solution.make_random(data, rng)
            run_best = curr = run_init = ls(random, pm.max_cost_evaluator(), exhaustive=True)
            history.clear()
            iters_no_improvement = 0
        iters += 1
        if iters_no_improvement == params.num_iters_no_improvement:
            history.clear()
            curr = run_best
            iters_no_improvement = 0
        cost_eval = pm.cost_evaluator()
        cand = ls(curr, cost_eval, exhaustive=False)
        pm.register(cand)
        iters_no_improvement += 1
        if cost_eval.cost(cand) < cost_eval.cost(run_best):
            run_best = cand
            iters_no_improvement = 0
            if params.exhaustive_on_best:
                cand = ls(cand, cost_eval, exhaustive=True)
                if cand.is_feasible():
                    run_best = cand
            if cost_eval.cost(run_best) < cost_eval.cost(best):
                best = run_best
        cand_cost = cost_eval.penalised_cost(cand)
        curr_cost = cost_eval.penalised_cost(curr)
        late_cost = cost_eval.penalised_cost(run_init)
        if (late := history.peek()) is not None:
            late_cost = cost_eval.penalised_cost(late)
        if cand_cost < late_cost or cand_cost < curr_cost:
            curr = cand
            curr_cost = cand_cost
        if curr_cost < late_cost or late is None:
            history.append(curr)
        else:
            history.skip()
        if pool is not None:
            pool.collect(cand, cand_cost, cost_eval.penalised_cost(best))
    if pool is None:
        return best, iters, None
    if best.is_feasible():
        score = float(pool.zero.penalised_cost(best))
        pool.collect(best, score, score)
    return best, iters, pool.pool




def _span(options: PyVrpOptions, share: float) -> _Span:
    """``share`` of the remaining iterations or time."""
    if options.iteration_limit is not None:
        return _Span(iterations=max(1, round(options.iteration_limit * share)))
    return _Span(seconds=max(0.01, (options.deadline - time.time()) * share))


def run_pyvrp(problem: RoutingProblem, visits: Visits, options: PyVrpOptions) -> RawSolution:
    """One PyVRP search (runs in a worker process when ``workers > 1``); see
    :func:`_run_pyvrp`."""
    return _run_pyvrp(problem, visits, options)[0]


def _run_pyvrp(
    problem: RoutingProblem, visits: Visits, options: PyVrpOptions
) -> tuple[RawSolution, RoutePool | None, tuple[tuple[int, tuple[int, ...]], ...], int]:
    """One PyVRP search (runs in a worker process when ``workers > 1``): its result,
    route pool (``None`` without one), best solution's routes and iterations (those
    before an exchange included).

    With optional stations the search first treats every station as required, until
    it finds a feasible plan or has used 70 % of the budget; a feasible plan is then
    improved for the rest of the budget, otherwise the rest searches with optional
    stations (prizes), so a short fleet leaves the least valuable stations out.
    Prize-collecting from the start stalls on tight fleets. The feasible plan is
    improved with the prizes as well, so a station whose penalty is below the cost of
    serving it is left out and priced.
    """
    data, members = build_data(problem, visits)
    seed, mix = options.seed, options.recombination
    result: _Outcome
    if options.default or not problem.optional:
        initial = None
        if options.start is not None:
            initial = solution_of(data, options.start)
        result = _solve(
            data, _span(options, 1.0), default=options.default, seed=seed, recombination=mix,
            initial=initial, pool_routes=options.pool,
        )
    else:
        required, _ = build_data(replace(problem, optional=False), visits)
        first = _solve(
            required, _span(options, 0.7), default=False, first_feasible=True, seed=seed,
            recombination=mix,
        )
        if first.best.is_feasible():
            # Go on with the prizes from that plan: leaving a station out now pays
            # wherever its penalty is below what serving it costs.
            result = _solve(
                data, _span(options, 1.0), default=False,
                initial=trim_to_feasible(data, first.best), seed=seed, recombination=mix,
            )
        else:
            # Keep what the required search built: its routes cut back until each one
            # fits, the stations cut off left as optional, so the prize search starts
            # from a feasible plan (and a short budget still returns one).
            start = trim_to_feasible(data, first.best)
            result = _solve(
                data, _span(options, 1.0), default=False, initial=start, seed=seed,
                recombination=mix,
            )
            if not result.best.is_feasible():
                result = replace(result, best=start)
        result = replace(result, penalty_capped=result.penalty_capped + first.penalty_capped)
    iterations = options.iterations_before + result.num_iterations
    note = f"PyVRP (seed {options.seed}, {iterations} iterations"
    if result.penalty_capped and not result.best.is_feasible():
        # PyVRP's PenaltyBoundWarning, as a note: only telling when no plan was found.
        note += f", a penalty at its cap {result.penalty_capped} time(s)"
    raw = _raw_solution(data, result.best, members, note=note + ")")
    best = tuple((r.vehicle_type(), _visits(r)) for r in result.best.routes())
    return raw, result.pool, best, iterations


@dataclass(frozen=True)
class PooledRun:
    """A run's result with what it hands over to the next phase.

    Attributes
    ----------
    raw
        The run's result.
    routes
        Its pooled routes with their scores, best first (up to four MIPs' worth of
        entries).
    best
        Its best solution as ``(vehicle type, visits)`` per route.
    iterations
        Iterations it ran (including those before an exchange).
    """

    raw: RawSolution
    routes: tuple[tuple[PoolRoute, float], ...]
    best: tuple[tuple[int, tuple[int, ...]], ...]
    iterations: int


def run_pyvrp_pooled(
    problem: RoutingProblem, visits: Visits, options: PyVrpOptions
) -> PooledRun:
    """:func:`run_pyvrp` that also hands over its pool and best solution."""
    raw, pool, best, iterations = _run_pyvrp(problem, visits, options)
    if pool is None or options.recombination is None:
        return PooledRun(raw, (), best, iterations)
    scored = pool.scored(math.inf, max_entries=4 * options.recombination.max_entries)
    return PooledRun(raw, tuple(scored), best, iterations)


