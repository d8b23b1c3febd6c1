"""Parallel PyVRP runs: pool exchange, final recombination, and the engine's entry point."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

from rural_logistics.routing.model import (
    RawSolution,
    RoutingProblem,
    Visits,
)
from rural_logistics.routing.pyvrp_engine.data import (
    _raw_solution,
    build_data,
    polished,
    solution_of,
    zero_cost_evaluator,
)
from rural_logistics.routing.pyvrp_engine.ils import (
    PooledRun,
    _search_setup,
    run_pyvrp,
    run_pyvrp_pooled,
)
from rural_logistics.routing.pyvrp_engine.settings import RECOMBINATION, PyVrpOptions, Recombination
from rural_logistics.routing.route_pool import (
    PoolRoute,
    RoutePool,
    solve_route_cover,
)
from rural_logistics.solvers.budget import Budget
from rural_logistics.solvers.processes import worker_pool


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

    Chosen on A-n64-k9 at 10 s, 4 seeds each, before the pool exchange: 3 of 4 runs
    within 0.2 % with a steady first run, none with both runs restarting (after 100
    iterations per client without improvement), one with neither restarting.
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
        union.extend(run.routes)
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
        merged.extend(run.routes)
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
    plan = solution_of(data, ((r.vehicle_type, r.visits) for r in plan_routes))
    _, _, ls, pm = _search_setup(data, seed=seed, recombination=recombination)
    found = polished(data, plan, ls, pm)
    zero = zero_cost_evaluator(data)
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
    budget: Budget,
    seed: int = 0,
    workers: int = 1,
    default: bool = False,
    recombination: Recombination | None = RECOMBINATION,
) -> RawSolution:
    """Solve with PyVRP.

    Parameters
    ----------
    problem, visits
        The instance and its visits.
    budget
        Wall-clock budget (its time left becomes the engine's deadline) and its optional
        iteration cap (a deterministic stop rule instead of the time).
    seed
        Seed of the first run (the second uses ``seed + 1``).
    workers
        Parallel runs (1 or 2).
    default
        PyVRP's default solve (the benchmark's reference line), ``workers`` runs in
        parallel with seeds ``seed, seed + 1, …``, the best kept.
    recombination
        Route-pool recombination inside each search (``None``: PyVRP's plain search).

    Returns
    -------
    RawSolution
    """
    time_limit_s, iteration_limit = budget.left(), budget.iteration_limit
    deadline = time.time() + time_limit_s
    if default:
        # PyVRP's own solve, seeds ``seed … seed + workers - 1``, the best kept.
        plain = [PyVrpOptions(seed + w, deadline, iteration_limit, True) for w in range(workers)]
        if len(plain) == 1:
            return run_pyvrp(problem, visits, plain[0])
        with worker_pool(len(plain)) as pool:
            futures = [pool.submit(run_pyvrp, problem, visits, o) for o in plain]
            results = [f.result() for f in futures]
        return min(results, key=lambda r: (not r.feasible, r.objective))
    if workers <= 1:
        return run_pyvrp(
            problem, visits, PyVrpOptions(seed, deadline, iteration_limit, False, recombination)
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

