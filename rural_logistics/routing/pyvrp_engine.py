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

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
import pyvrp
from pyvrp import search
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.RingBuffer import RingBuffer
from pyvrp.stop import MaxIterations, MaxRuntime

from rural_logistics.routing.model import (
    HORIZON,
    RawSolution,
    RoutingProblem,
    Visits,
    make_scaling,
    time_windows_units,
    travel_time_units,
    worker_pool,
)
from rural_logistics.routing.route_pool import (
    PoolRoute,
    RoutePool,
    drop_repeats,
    reload_at,
    solve_route_cover,
)

KG_SCALE = 10  # integer units per kilogram


@dataclass(frozen=True)
class PyVrpOptions:
    """One PyVRP run.

    Attributes
    ----------
    seed
        Random seed.
    deadline
        ``time.time()`` value at which the search must stop.
    iteration_limit
        Stop after this many iterations instead (deterministic).
    default
        Use PyVRP's default parameters (the benchmark's reference line).
    recombination
        Route-pool recombination settings (``None``: plain search).
    start
        Routes to start from, as ``(vehicle type, visits)`` (``None``: a random
        solution); every client required.
    pool
        Scored routes to put in the route pool before the search (another run's).
    iterations_before
        Iterations this run made before an exchange (counted in its note).
    """

    seed: int
    deadline: float
    iteration_limit: int | None = None
    default: bool = False
    recombination: Recombination | None = None
    start: tuple[tuple[int, tuple[int, ...]], ...] | None = None
    pool: tuple[tuple[PoolRoute, float], ...] = ()
    iterations_before: int = 0


def build_data(
    problem: RoutingProblem, visits: Visits
) -> tuple[pyvrp.ProblemData, list[list[int]]]:
    """PyVRP data for the problem.

    Returns
    -------
    data
        The instance.
    members
        Per PyVRP vehicle type, the problem's vehicle indices it stands for.
    """
    scaling = make_scaling(problem)
    n = problem.n_nodes
    xy = (
        np.asarray(problem.xy, dtype=float)
        if problem.xy is not None
        else np.zeros((n, 2), dtype=float)
    )
    locations = [pyvrp.Location(float(x), float(y)) for x, y in xy]
    use_kg = problem.uses_kg()
    tw = time_windows_units(problem)
    depots = [pyvrp.Depot(location=d) for d in range(problem.n_depots)]
    clients = []
    for i in range(len(visits)):
        node = int(visits.station[i])
        delivery = [int(visits.parcels[i])]
        pickup = [0]
        if use_kg:
            delivery.append(math.ceil(float(visits.delivery_kg[i]) * KG_SCALE - 1e-9))
            pickup.append(math.ceil(float(visits.pickup_kg[i]) * KG_SCALE - 1e-9))
        clients.append(
            pyvrp.Client(
                location=node,
                delivery=delivery,
                pickup=pickup,
                tw_early=int(tw[node, 0]),
                tw_late=int(tw[node, 1]),
                prize=scaling.penalty(float(visits.penalty[i])) if problem.optional else 0,
                required=not problem.optional,
            )
        )
    profiles: dict[tuple[float, float], int] = {}
    durations: list[Any] = []
    groups: dict[tuple, list[int]] = {}
    for k, v in enumerate(problem.vehicles):
        key = (v.speed_factor, v.service_time_min)
        if key not in profiles:
            profiles[key] = len(durations)
            units, _ = travel_time_units(
                problem, speed_factor=v.speed_factor, vehicle_service_min=v.service_time_min
            )
            durations.append(units)
        group_key = (
            v,
            scaling.unit_distance_cost[k],
            scaling.fixed_cost[k],
        )
        groups.setdefault(group_key, []).append(k)
    st = problem.time_scale_per_min
    sd = problem.distance_scale_per_km
    vehicle_types = []
    members = []
    for (v, unit, fixed), ks in groups.items():
        capacity = [v.capacity_parcels]
        if use_kg:
            capacity.append(
                HORIZON
                if v.capacity_kg is None
                else math.floor(v.capacity_kg * KG_SCALE + 1e-9)
            )
        extra = {}
        if v.max_trips > 1:
            extra = {"reload_depots": [v.depot], "max_reloads": v.max_trips - 1}
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(ks),
                capacity=capacity,
                start_depot=v.depot,
                end_depot=v.depot,
                fixed_cost=fixed,
                tw_early=round(v.shift_start_min * st),
                tw_late=round(v.shift_end_min * st) if math.isfinite(v.shift_end_min) else HORIZON,
                shift_duration=(
                    math.floor(v.max_route_duration_min * st + 1e-9)
                    if math.isfinite(v.max_route_duration_min)
                    else HORIZON
                ),
                max_distance=(
                    math.floor(v.max_route_distance_km * sd + 1e-9)
                    if v.max_route_distance_km is not None
                    else HORIZON
                ),
                unit_distance_cost=unit,
                profile=profiles[(v.speed_factor, v.service_time_min)],
                **extra,
            )
        )
        members.append(ks)
    data = pyvrp.ProblemData(
        locations,
        clients,
        depots,
        vehicle_types,
        [cast(Any, scaling.distance)] * len(durations),
        durations,
    )
    return data, members


def _reference_cost(data: pyvrp.ProblemData) -> float:
    """Cost of one more out-and-back route with the dearest vehicle: the scale that
    penalties must reach for feasibility to pay (PyVRP's defaults assume small units)."""
    ref = 0.0
    clients = [c.location for c in data.clients()]
    for vt in data.vehicle_types():
        dist = data.distance_matrix(vt.profile)
        far = float(dist[vt.start_depot, clients].max() + dist[clients, vt.end_depot].max())
        ref = max(ref, vt.fixed_cost + vt.unit_distance_cost * far)
    return ref


def _penalty_setup(
    data: pyvrp.ProblemData,
) -> tuple[pyvrp.PenaltyParams, tuple[list[float], float, float]]:
    """PyVRP's penalty settings scaled to the instance.

    The cap is raised above the largest prize per unit of load (so overloading never
    pays better than leaving a station out) and above the cost of one more route; the
    starting penalties are PyVRP's midpoint or, when larger, that route cost per unit of
    mean load, duration and distance. On benchmark-sized numbers this is PyVRP's default.
    """
    base = pyvrp.PenaltyParams()
    ref = _reference_cost(data)
    top = 0.0
    loads = []
    for client in data.clients():
        amount = max([*client.delivery, *client.pickup, 1])
        top = max(top, client.prize / amount)
        loads.append([max(d, p) for d, p in zip(client.delivery, client.pickup, strict=True)])
    cap = max(base.max_penalty, 10.0 * top, 10.0 * ref)
    params = pyvrp.PenaltyParams(
        solutions_between_updates=base.solutions_between_updates,
        penalty_increase=base.penalty_increase,
        penalty_decrease=base.penalty_decrease,
        target_feasible=base.target_feasible,
        feas_tolerance=base.feas_tolerance,
        min_penalty=base.min_penalty,
        max_penalty=cap,
    )
    mid_load, mid_tw, mid_dist = base.midpoint_penalties(data)
    mean_load = np.maximum(np.asarray(loads, dtype=float).mean(axis=0), 1.0)
    load = [
        min(cap, max(m, ref / q, 2.0 * top)) for m, q in zip(mid_load, mean_load, strict=True)
    ]
    clients = [c.location for c in data.clients()]
    dur = data.duration_matrix(0)[np.ix_(clients, clients)]
    dist = data.distance_matrix(0)[np.ix_(clients, clients)]
    mean_dur = max(1.0, float(dur.mean())) if dur.size else 1.0
    mean_dist = max(1.0, float(dist.mean())) if dist.size else 1.0
    tw = min(cap, max(mid_tw, ref / mean_dur))
    dist_pen = min(cap, max(mid_dist, ref / mean_dist))
    return params, (load, tw, dist_pen)


@dataclass(frozen=True)
class Recombination:
    """Route-pool recombination inside a PyVRP search (see :mod:`.route_pool`).

    The routes of the good solutions the search visits are pooled; at ``checkpoints``
    (shares of the budget) a set-covering MIP picks the cheapest combination of pooled
    routes, and a better plan becomes the search's current and best solution.

    Attributes
    ----------
    checkpoints
        Shares of the budget (seconds or iterations) at which to recombine.
    time_share
        Time limit of one MIP, as a share of the budget's seconds.
    node_limit
        Node limit of one MIP (deterministic limit of the iteration stop rule).
    slack
        Starting pool filter: routes of solutions within this share of the best cost.
        Doubled after a MIP solved to optimality (up to ``max_slack``), halved after
        one stopped by its limit.
    max_slack
        Largest filter; solutions worse than that never enter the pool.
    max_entries
        Largest MIP: routes (best scores first) until their client counts add up to
        this.
    restart_per_client
        A run that has not improved its best for this many iterations per client starts
        again from a random solution (the best overall is kept), so the pool holds
        routes of several basins; ``None``: never. Scaled by the clients, it fires on
        small instances that converge early, not on large ones still improving.
    restart_until
        No restart after this share of the budget.
    steady_first_run
        With two or more parallel runs, the first one never restarts (it polishes one
        basin for the whole budget) and the others restart as above; a single run
        restarts.
    neighbours
        Granular neighbourhood: moves tried with this many nearest clients (PyVRP's
        default is 50) when no client has a time window; ``None``: PyVRP's default.
    final_share
        With two or more parallel runs and every client required, the runs stop at
        ``1 - final_share`` of the time limit and hand their pools over; the routes of
        all runs are recombined once more (:func:`merge_runs`) in the time left. A
        run's pool holds only its own basins; the optimum often takes routes from both
        (A-n64-k9 at 10 s: of the optimum's nine routes the steady run had pooled seven,
        the restarting one eight, neither the ninth). ``0``: no final recombination.
    final_max_s
        At most this many seconds for the final recombination (its MIP is proven within
        a second on small instances and stops unproven on large ones, where the time
        is better spent searching).
    exchange_at
        With the final recombination, the runs also stop at this share of their time
        (or iterations) and go on with the union of all pools, the first run from the
        best solution of all (:func:`_exchange`); ``None``: no exchange.
    """

    checkpoints: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    time_share: float = 0.02
    node_limit: int = 500
    slack: float = 0.01
    max_slack: float = 0.04
    max_entries: int = 8_000
    restart_per_client: int | None = 100
    restart_until: float = 0.85
    steady_first_run: bool = True
    neighbours: int | None = 20
    final_share: float = 0.15
    final_max_s: float = 1.5
    exchange_at: float | None = 0.5


#: Default recombination of the ``pyvrp`` engine (``None`` = plain PyVRP search).
RECOMBINATION: Recombination | None = Recombination()


@dataclass(frozen=True)
class _Span:
    """Budget of one search: seconds, or iterations (deterministic)."""

    seconds: float | None = None
    iterations: int | None = None

    def used(self, start: float, iterations: int) -> float:
        """Share of the budget used."""
        if self.iterations is not None:
            return iterations / max(1, self.iterations)
        return (time.perf_counter() - start) / max(1e-9, self.seconds or 0.0)


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
        evaluator = pyvrp.CostEvaluator([0.0] * self.data.num_load_dimensions, 0.0, 0.0)
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


def _has_windows(data: pyvrp.ProblemData) -> bool:
    """Whether any client has a time window narrower than the horizon."""
    late = max((vt.tw_late for vt in data.vehicle_types()), default=HORIZON)
    return any(c.tw_early > 0 or c.tw_late < late for c in data.clients())


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
        for route, score in pool_routes:
            pool.pool.add(route.vehicle_type, route.visits, cost=route.cost, score=score)
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


class _PoolState:
    """The route pool of one search and its recombination schedule."""

    def __init__(
        self, data: pyvrp.ProblemData, span: _Span, recombination: Recombination
    ) -> None:
        self.data = data
        self.span = span
        self.settings = recombination
        self.pool = RoutePool()
        self.slack = recombination.slack
        self.pending = sorted(recombination.checkpoints)
        clients = data.clients()
        self.required = [c.required for c in clients]
        self.prizes = [float(c.prize) for c in clients]
        self.fleet = [vt.num_available for vt in data.vehicle_types()]
        self.zero = pyvrp.CostEvaluator([0.0] * data.num_load_dimensions, 0.0, 0.0)
        self.seen: dict[tuple[int, ...], tuple[int, frozenset[int]] | None] = {}

    def due(self, used: float) -> bool:
        """Whether a checkpoint has been reached (each one fires once)."""
        if self.pending and used >= self.pending[0]:
            while self.pending and used >= self.pending[0]:
                self.pending.pop(0)
            return True
        return False

    def collect(self, solution: pyvrp.Solution, score: float, best_score: float) -> None:
        """Pool the feasible routes of a solution scoring close enough to the best.

        A local search step changes few routes: a route seen before (same vehicle type,
        distance, duration, client count and loads) only has its score updated, so
        reading the visits (slow on long routes) is done once per new route. A different
        route with all of these equal is taken for the one seen (rare; it is then
        missing from the pool, which costs only a recombination chance).
        """
        if score > (1.0 + self.settings.max_slack) * best_score:
            return
        for route in solution.routes():
            mark = (
                route.vehicle_type(),
                route.distance(),
                route.duration(),
                route.num_clients(),
                *route.delivery(),
                *route.pickup(),
            )
            if mark in self.seen:
                key = self.seen[mark]
                if key is not None:
                    self.pool.rescore(key, score)
                continue
            self.seen[mark] = (
                self.pool.add(
                    route.vehicle_type(), _visits(route), cost=_route_cost(route), score=score
                )
                if route.is_feasible()
                else None
            )

    def route_cost(self, vehicle_type: int, visits: tuple[int, ...]) -> float | None:
        """Cost of a visit sequence on a vehicle type, ``None`` if infeasible."""
        route = pyvrp.Route(self.data, _activities(visits), vehicle_type)
        return _route_cost(route) if route.is_feasible() else None

    def recombine(
        self,
        best: pyvrp.Solution,
        ls: search.LocalSearch,
        pm: pyvrp.PenaltyManager,
        start: float,
    ) -> pyvrp.Solution | None:
        """The cheapest plan made of pooled routes, improved by local search; ``None``
        when the MIP finds nothing at least as good as ``best``."""
        reference: float
        if best.is_feasible():
            reference = float(self.zero.penalised_cost(best))
            self.collect(best, reference, reference)
            bound: float | None = reference - sum(self.prizes)
        else:
            reference = self.pool.best_score()
            bound = None
        if not math.isfinite(reference):
            return None
        routes = self.pool.select(
            (1.0 + self.slack) * reference, max_entries=self.settings.max_entries
        )
        if self.span.iterations is not None:
            limit_s: float = 60.0
            nodes: int | None = self.settings.node_limit
        else:
            left = (self.span.seconds or 0.0) - (time.perf_counter() - start)
            limit_s = min(self.settings.time_share * (self.span.seconds or 0.0), 0.5 * left)
            nodes = None
        cover = solve_route_cover(
            routes,
            n_clients=self.data.num_clients,
            required=self.required,
            prizes=self.prizes,
            fleet=self.fleet,
            upper_bound=bound,
            time_limit_s=limit_s,
            node_limit=nodes,
        )
        # A MIP that finished may look at a larger pool next time; one stopped by its
        # limit at a smaller one.
        if cover.proven:
            self.slack = min(self.settings.max_slack, 2.0 * self.slack)
        else:
            self.slack = max(self.settings.slack / 4.0, self.slack / 2.0)
        if cover.chosen is None:
            return None
        kept = drop_repeats([routes[j] for j in cover.chosen], route_cost=self.route_cost)
        if kept is None:
            return None
        plan = pyvrp.Solution(
            self.data,
            [pyvrp.Route(self.data, _activities(r.visits), r.vehicle_type) for r in kept],
        )
        improved = ls(plan, pm.cost_evaluator(), exhaustive=True)
        feasible = [s for s in (plan, improved) if s.is_feasible()]
        if not feasible:
            return None
        return min(feasible, key=self.zero.penalised_cost)


def _visits(route: pyvrp.Route) -> tuple[int, ...]:
    """A route's clients in order, a reload as :func:`reload_at` its depot."""
    return tuple(
        reload_at(int(a.idx)) if a.is_depot() else int(a.idx)
        for a in list(route.schedule())[1:-1]
    )


def _activities(visits: tuple[int, ...]) -> list[pyvrp.Activity]:
    """PyVRP activities of a visit sequence (negative entries: reloads)."""
    return [
        pyvrp.Activity(pyvrp.ActivityType.DEPOT, -1 - v)
        if v < 0
        else pyvrp.Activity(pyvrp.ActivityType.CLIENT, v)
        for v in visits
    ]


def _route_cost(route: pyvrp.Route) -> float:
    return float(route.fixed_vehicle_cost() + route.distance_cost() + route.duration_cost())


def trim_to_feasible(data: pyvrp.ProblemData, solution: pyvrp.Solution) -> pyvrp.Solution:
    """The solution with each infeasible route cut back from its end until it fits.

    Only meaningful when every client is optional: the clients cut off become unvisited,
    so the result is feasible (routes left without a client are dropped).

    Parameters
    ----------
    data
        The instance (optional clients).
    solution
        Any solution of ``data``'s clients, feasible or not; it may belong to another
        instance with the same clients and vehicle types (the required-stations one).

    Returns
    -------
    pyvrp.Solution
        A solution whose every route is feasible.
    """
    routes = []
    for route in solution.routes():
        vehicle_type = route.vehicle_type()
        acts = [
            pyvrp.Activity(
                pyvrp.ActivityType.DEPOT if a.is_depot() else pyvrp.ActivityType.CLIENT,
                int(a.idx),
            )
            for a in list(route.schedule())[1:-1]
        ]
        # Rebuilt on ``data`` even when it fits: a route keeps the instance it was made
        # for, and ``solution`` may come from another one (the required-stations
        # search, whose clients carry no prize).
        candidate = pyvrp.Route(data, acts, vehicle_type)
        while not candidate.is_feasible():
            # Drop the last client, then any reload left dangling at the end.
            last = max(i for i, a in enumerate(acts) if a.type == pyvrp.ActivityType.CLIENT)
            acts = acts[:last]
            while acts and acts[-1].type == pyvrp.ActivityType.DEPOT:
                acts.pop()
            if not acts:
                break
            candidate = pyvrp.Route(data, acts, vehicle_type)
        if acts and candidate.is_feasible():
            routes.append(candidate)
    return pyvrp.Solution(data, routes)


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
            initial = pyvrp.Solution(
                data, [pyvrp.Route(data, _activities(v), t) for t, v in options.start]
            )
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


def _raw_solution(
    data: pyvrp.ProblemData, best: pyvrp.Solution, members: list[list[int]], *, note: str
) -> RawSolution:
    """A PyVRP solution as the engines' common result (``members``: per PyVRP vehicle
    type, the problem's vehicles it stands for)."""
    free = [list(ks) for ks in members]
    routes = []
    for route in best.routes():
        k = free[route.vehicle_type()].pop(0)
        trips: list[list[int]] = [[]]
        for act in list(route.schedule())[1:-1]:
            if act.is_depot():
                trips.append([])
            elif act.is_client():
                trips[-1].append(int(act.idx))
        routes.append((k, tuple(tuple(tr) for tr in trips if tr)))
    routes.sort()
    feasible = bool(best.is_feasible())
    zero = pyvrp.CostEvaluator([0.0] * data.num_load_dimensions, 0.0, 0.0)
    return RawSolution(
        tuple(routes),
        float(zero.penalised_cost(best)) if feasible else math.inf,
        feasible,
        note,
    )


def parallel_runs(
    *,
    seed: int,
    deadline: float,
    iteration_limit: int | None,
    recombination: Recombination | None,
    workers: int,
) -> list[PyVrpOptions]:
    """The settings of ``workers`` parallel runs: seeds ``seed, seed + 1, …``; with
    ``steady_first_run`` the first run never restarts.

    Measured on A-n64-k9 at 10 s, 4 seeds each: 3 of 4 runs at the optimum with a steady
    first run, none within 0.2 % with both runs restarting (after 100 iterations per
    client without improvement) and one with both never restarting.
    """
    steady = (
        replace(recombination, restart_per_client=None)
        if recombination is not None and recombination.steady_first_run
        else recombination
    )
    return [
        PyVrpOptions(
            seed + w, deadline, iteration_limit, recombination=steady if w == 0 else recombination
        )
        for w in range(workers)
    ]


def _exchange(
    problem: RoutingProblem,
    visits: Visits,
    options: list[PyVrpOptions],
    *,
    pool: Any,
    share: float,
    deadline: float,
) -> list[PyVrpOptions]:
    """Run the first ``share`` of the runs, and return the settings of the rest: each
    run goes on with the union of all pools (so its recombinations draw on the other
    runs' basins too); the first run from the best solution of all, the others from
    their own."""
    if options[0].iteration_limit is not None:
        first = max(1, round(options[0].iteration_limit * share))
        rest: int | None = max(1, options[0].iteration_limit - first)
        phase = [replace(o, iteration_limit=first) for o in options]
    else:
        mid = time.time() + share * max(0.0, deadline - time.time())
        rest = None
        phase = [replace(o, deadline=mid) for o in options]
    futures = [pool.submit(run_pyvrp_pooled, problem, visits, o) for o in phase]
    runs = [f.result() for f in futures]
    union = RoutePool()
    for run in runs:
        for route, score in run.routes:
            union.add(route.vehicle_type, route.visits, cost=route.cost, score=score)
    mix = options[0].recombination
    cap = 4 * mix.max_entries if mix is not None else None
    routes = tuple(union.scored(math.inf, max_entries=cap))
    best = min(runs, key=lambda run: (not run.raw.feasible, run.raw.objective))
    return [
        replace(
            o, deadline=deadline, iteration_limit=rest, pool=routes,
            start=(best if w == 0 else run).best, iterations_before=run.iterations,
        )
        for w, (o, run) in enumerate(zip(options, runs, strict=True))
    ]


def merge_runs(
    problem: RoutingProblem,
    visits: Visits,
    runs: list[PooledRun],
    *,
    recombination: Recombination,
    deadline: float,
    iteration_limit: int | None,
    seed: int,
) -> RawSolution:
    """The best run, or a better plan recombined from all runs' pooled routes.

    The union of the pools is filtered like one run's (routes of solutions within
    ``recombination.slack`` of the best score, up to ``max_entries``), a set-partitioning
    MIP picks the cheapest plan (every client exactly once: HiGHS proves it several
    times faster than the covering MIP), and local search polishes it. While the MIPs
    finish within the time, the filter is doubled up to ``max_slack`` and the MIP
    solved again for a plan cheaper still.

    Parameters
    ----------
    problem, visits
        The instance (with optional stations the best run is returned as it is).
    runs
        Per run, its result and its pooled routes with their scores
        (:func:`run_pyvrp_pooled`).
    recombination
        The runs' settings (pool filter and MIP size).
    deadline
        ``time.time()`` by which to finish (the MIPs get 75 % of what is left, local
        search the rest).
    iteration_limit
        The runs' deterministic stop rule; the MIP then stops on its node limit.
    seed
        Seed of the local search.

    Returns
    -------
    RawSolution
    """
    best = min((run.raw for run in runs), key=lambda r: (not r.feasible, r.objective))
    if not best.feasible or problem.optional:
        return best
    merged = RoutePool()
    for run in runs:
        for route, score in run.routes:
            merged.add(route.vehicle_type, route.visits, cost=route.cost, score=score)
    if not len(merged):
        return best
    data, members = build_data(problem, visits)
    clients = data.clients()
    required = [c.required for c in clients]
    fleet = [vt.num_available for vt in data.vehicle_types()]
    # Local search after the MIP gets a quarter of the time left.
    mip_deadline = deadline - 0.25 * max(0.0, deadline - time.time())
    upper = best.objective
    plan_routes: list[PoolRoute] = []
    slack, size = recombination.slack, -1
    while True:
        candidates = merged.select(
            (1.0 + slack) * merged.best_score(), max_entries=recombination.max_entries
        )
        if len(candidates) == size:
            break
        size = len(candidates)
        if iteration_limit is not None:
            limit_s, nodes = 60.0, recombination.node_limit
        else:
            limit_s, nodes = mip_deadline - time.time(), None
            if limit_s <= 0.01:
                break
        cover = solve_route_cover(
            candidates,
            n_clients=data.num_clients,
            required=required,
            prizes=[0.0] * data.num_clients,
            fleet=fleet,
            upper_bound=upper,
            time_limit_s=limit_s,
            node_limit=nodes,
            partition=True,
        )
        if cover.chosen is not None and cover.objective < upper:
            upper = cover.objective
            plan_routes = [candidates[j] for j in cover.chosen]
        # A proven MIP may look at a larger pool while time is left.
        if not cover.proven or slack >= recombination.max_slack:
            break
        slack = min(recombination.max_slack, 2.0 * slack)
    if not plan_routes:
        return best
    plan = pyvrp.Solution(
        data, [pyvrp.Route(data, _activities(r.visits), r.vehicle_type) for r in plan_routes]
    )
    _, _, ls, pm = _search_setup(data, seed=seed, recombination=recombination)
    improved = ls(plan, pm.cost_evaluator(), exhaustive=True)
    zero = pyvrp.CostEvaluator([0.0] * data.num_load_dimensions, 0.0, 0.0)
    found = min(
        (s for s in (plan, improved) if s.is_feasible()), key=zero.penalised_cost, default=None
    )
    if found is None or zero.penalised_cost(found) >= best.objective:
        return best
    note = (
        f"{best.note.rstrip(')')}; the {len(runs)} runs' routes recombined: "
        f"{best.objective:g} → {zero.penalised_cost(found):g})"
    )
    return _raw_solution(data, found, members, note=note)


def solve_pyvrp(
    problem: RoutingProblem,
    visits: Visits,
    *,
    time_limit_s: float,
    seed: int = 0,
    workers: int = 1,
    iteration_limit: int | None = None,
    default: bool = False,
    recombination: Recombination | None = RECOMBINATION,
) -> RawSolution:
    """Solve with PyVRP.

    Parameters
    ----------
    problem, visits
        The instance and its visits.
    time_limit_s
        Wall-clock budget.
    seed
        Seed of the first run (the second uses ``seed + 1``).
    workers
        Parallel runs (1 or 2).
    iteration_limit
        Deterministic stop rule instead of the time limit.
    default
        PyVRP's default solve, one run (the benchmark's reference line).
    recombination
        Route-pool recombination inside each search (``None``: PyVRP's plain search).

    Returns
    -------
    RawSolution
    """
    deadline = time.time() + time_limit_s
    if default:
        recombination = None
    if default or workers <= 1:
        return run_pyvrp(
            problem,
            visits,
            PyVrpOptions(seed, deadline, iteration_limit, default, recombination),
        )
    final = (
        recombination.final_share
        if recombination is not None and not problem.optional
        else 0.0
    )
    runs_deadline = deadline
    if iteration_limit is None and recombination is not None:
        runs_deadline -= min(final * time_limit_s, recombination.final_max_s)
    options = parallel_runs(
        seed=seed, deadline=runs_deadline, iteration_limit=iteration_limit,
        recombination=recombination, workers=workers,
    )
    if recombination is None or final <= 0.0:
        with worker_pool(len(options)) as pool:
            futures = [pool.submit(run_pyvrp, problem, visits, o) for o in options]
            results = [f.result() for f in futures]
        return min(results, key=lambda r: (not r.feasible, r.objective))
    with worker_pool(len(options)) as pool:
        if recombination.exchange_at is not None:
            options = _exchange(
                problem, visits, options, pool=pool, share=recombination.exchange_at,
                deadline=runs_deadline,
            )
        pooled = [pool.submit(run_pyvrp_pooled, problem, visits, o) for o in options]
        runs = [f.result() for f in pooled]
    return merge_runs(
        problem, visits, runs, recombination=recombination, deadline=deadline,
        iteration_limit=iteration_limit, seed=seed,
    )
