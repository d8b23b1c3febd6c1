"""Location-routing search and the sequential (place, then route) baseline.

:func:`solve_lrp` prices depot sets in three steps, each more exact and more expensive:

1. every candidate set (all subsets whose capacity covers the demand when there are at
   most :data:`ENUMERATE_MAX_DEPOTS` candidates, else the sets visited by an add/drop/swap
   descent) gets the radial estimate;
2. the best :data:`SAVINGS_POOL` of them get the Clarke–Wright estimate;
3. the best few by that estimate are confirmed by a short PyVRP multi-depot solve (with
   depot-capacity repair); the add/drop/swap neighbours of the best confirmed set whose
   savings estimate, scaled by the confirmed set's actual/estimate ratio, promises a
   cheaper plan are confirmed too. The best confirmed set then gets the rest of the time
   in two parallel variants: assignment-first CVRPs then a warm-started multi-depot
   solve with repair, and warm-started multi-depot solves with Lagrangian depot prices.

:func:`solve_sequential` opens depots by a capacitated single-source fixed-charge model
whose assignment cost is the radial (full-vehicle) travel cost, ignoring routes, and then
routes each depot's customers.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence

import numpy as np

from rural_logistics.errors import InfeasibleError
from rural_logistics.lrp.engine import (
    assign_customers,
    repair_depot_capacity,
    solve_capacitated,
    solve_mdvrp,
)
from rural_logistics.lrp.estimate import radial_estimate, savings_estimate
from rural_logistics.lrp.evaluate import evaluate_lrp
from rural_logistics.lrp.model import LrpProblem, LrpRoute, LrpSolution
from rural_logistics.placement.models import solve_fixed_charge
from rural_logistics.routing.model import worker_pool

#: Enumerate every depot subset up to this many candidates.
ENUMERATE_MAX_DEPOTS = 12
#: Sets priced by Clarke–Wright after the radial screen.
SAVINGS_POOL = 40
#: Share of the time limit for each confirming PyVRP solve.
CONFIRM_SHARE = 0.08
#: Sets confirmed from the savings ranking, and neighbours confirmed afterwards.
CONFIRM_FIRST = 4
CONFIRM_NEIGHBOURS = 3

Key = tuple[int, ...]


def _feasible_capacity(problem: LrpProblem, key: Key) -> bool:
    cap = np.asarray(problem.depot_capacity, dtype=float)
    return float(cap[list(key)].sum()) + 1e-9 >= problem.total_demand


def _neighbours(key: Key, m: int) -> list[Key]:
    s = set(key)
    out: set[Key] = set()
    for j in range(m):
        if j in s and len(s) > 1:
            out.add(tuple(sorted(s - {j})))
        if j not in s:
            out.add(tuple(sorted(s | {j})))
            for i in s:
                out.add(tuple(sorted((s - {i}) | {j})))
    return sorted(out)


def candidate_sets(problem: LrpProblem) -> dict[Key, float]:
    """Depot sets with their radial estimate (only sets whose capacity covers the demand)."""
    m = problem.n_depots
    found: dict[Key, float] = {}
    if m <= ENUMERATE_MAX_DEPOTS:
        for size in range(1, m + 1):
            for key in itertools.combinations(range(m), size):
                if _feasible_capacity(problem, key):
                    found[key] = radial_estimate(problem, key)
        return {k: v for k, v in found.items() if math.isfinite(v)}
    # Descent from all depots open and from the cheapest feasible greedy set.
    def price(key: Key) -> float:
        if key not in found:
            ok = _feasible_capacity(problem, key)
            found[key] = radial_estimate(problem, key) if ok else math.inf
        return found[key]

    # Greedy add from the best single depot (adding while it pays), and all depots open.
    greedy: Key = min(((j,) for j in range(m)), key=price)
    while len(greedy) < m:
        grown = min((tuple(sorted({*greedy, j})) for j in range(m) if j not in greedy),
                    key=price)
        if math.isfinite(price(greedy)) and price(grown) + 1e-9 >= price(greedy):
            break
        greedy = grown
    starts: list[Key] = [greedy, tuple(range(m))]
    for start in starts:
        current = start
        while True:
            best = min(_neighbours(current, m), key=price)
            if price(best) + 1e-9 >= price(current):
                break
            current = best
    return {k: v for k, v in found.items() if math.isfinite(v)}


def _confirm(
    problem: LrpProblem, key: Key, time_limit_s: float, seed: int,
    initial: Sequence[LrpRoute] | None = None,
) -> tuple[list[LrpRoute], float, str]:
    """PyVRP routes from the open set ``key`` made depot-feasible: (routes, cost, note)."""
    routes = solve_mdvrp(problem, key, time_limit_s=time_limit_s, seed=seed, initial=initial)
    fixed, note = repair_depot_capacity(
        problem, routes, key, time_limit_s=time_limit_s, seed=seed
    )
    if not fixed:
        return [], math.inf, note
    check = evaluate_lrp(problem, key, fixed)
    return fixed, (check.cost if check.feasible else math.inf), note


def _confirm_many(
    problem: LrpProblem, keys: Sequence[Key], time_limit_s: float, seed: int, workers: int
) -> list[tuple[list[LrpRoute], float, str]]:
    if workers <= 1 or len(keys) <= 1:
        return [_confirm(problem, k, time_limit_s, seed) for k in keys]
    with worker_pool(workers) as pool:
        futures = [pool.submit(_confirm, problem, k, time_limit_s, seed) for k in keys]
        return [f.result() for f in futures]


def _solution(
    problem: LrpProblem, key: Key, routes: Sequence[LrpRoute], *, method: str,
    start: float, notes: list[str],
) -> LrpSolution:
    routes = [r for r in routes if r.customers]
    check = evaluate_lrp(problem, key, routes)
    if not check.feasible:
        raise InfeasibleError(f"lrp {method}: no feasible plan ({check.errors[0]})")
    return LrpSolution(
        open_depots=tuple(sorted(key)),
        routes=tuple(sorted(routes, key=lambda r: (r.depot, r.customers))),
        opening_cost=check.opening_cost,
        route_fixed_cost=check.route_fixed_cost,
        travel_cost=check.travel_cost,
        method=method,
        seconds=time.perf_counter() - start,
        notes=tuple(n for n in notes if n),
    )


def solve_lrp(
    problem: LrpProblem, *, time_limit_s: float, seed: int = 0, workers: int = 1
) -> LrpSolution:
    """Open depots and build routes minimising opening + route fixed + travel cost.

    Parameters
    ----------
    problem
        The instance.
    time_limit_s
        Wall-clock budget (the estimates take a small part of it).
    seed
        Seed of every PyVRP run.
    workers
        Confirming solves run in parallel (1 or 2 processes).

    Returns
    -------
    LrpSolution
        Checked by :func:`evaluate_lrp`.

    Raises
    ------
    InfeasibleError
        When the depots together cannot hold the demand or no plan was found.
    """
    start = time.perf_counter()
    deadline = start + time_limit_s
    if float(np.sum(problem.depot_capacity)) + 1e-9 < problem.total_demand:
        raise InfeasibleError("lrp: total demand exceeds the capacity of all depots together")
    radial = candidate_sets(problem)
    pool = sorted(radial, key=lambda k: radial[k])[:SAVINGS_POOL]
    savings = {k: savings_estimate(problem, k) for k in pool}

    def saving_of(key: Key) -> float:
        if key not in savings:
            ok = _feasible_capacity(problem, key)
            savings[key] = savings_estimate(problem, key) if ok else math.inf
        return savings[key]

    ranked = [k for k in sorted(pool, key=saving_of) if math.isfinite(saving_of(k))]
    try:  # the fixed-charge placement's set is a cheap, differently-biased candidate
        cfl_key, _, _ = _place(
            problem, _radial_cost(problem), time_limit_s=max(1.0, 0.05 * time_limit_s)
        )
        if cfl_key not in ranked[: CONFIRM_FIRST - 1]:
            ranked.insert(CONFIRM_FIRST - 1, cfl_key)
    except InfeasibleError:
        pass
    if not ranked:
        raise InfeasibleError("lrp: no depot set can hold the demand")
    confirm_s = max(0.2, CONFIRM_SHARE * time_limit_s)
    confirmed: dict[Key, tuple[list[LrpRoute], float, str]] = {}
    first = ranked[:CONFIRM_FIRST]
    for key, res in zip(first, _confirm_many(problem, first, confirm_s, seed, workers),
                        strict=True):
        confirmed[key] = res
    best = min(confirmed, key=lambda k: confirmed[k][1])
    tried = 0
    while tried < CONFIRM_NEIGHBOURS and deadline - time.perf_counter() > 3 * confirm_s:
        ratio = confirmed[best][1] / saving_of(best)
        promising = sorted(
            (k for k in _neighbours(best, problem.n_depots) if k not in confirmed),
            key=saving_of,
        )
        promising = [k for k in promising if saving_of(k) * ratio < confirmed[best][1]]
        if not promising:
            break
        batch = promising[: max(1, workers)]
        for key, res in zip(batch, _confirm_many(problem, batch, confirm_s, seed, workers),
                            strict=True):
            confirmed[key] = res
        tried += len(batch)
        best = min(confirmed, key=lambda k: confirmed[k][1])
    routes, cost, note = confirmed[best]
    if not math.isfinite(cost):
        raise InfeasibleError(f"lrp: no feasible plan found ({note})")
    notes = [
        f"{len(radial)} depot sets priced by the radial estimate, {len(savings)} by savings, "
        f"{len(confirmed)} confirmed by PyVRP",
    ]
    remaining = deadline - time.perf_counter() - 0.05
    if remaining > 0.5:
        variants = [(True, seed), (False, seed + 1)][: max(1, workers)]
        if len(variants) == 1:
            results = [_improve(problem, best, routes, remaining, seed, True)]
        else:
            with worker_pool(2) as ex:
                futures = [
                    ex.submit(_improve, problem, best, routes, remaining, sd, first)
                    for first, sd in variants
                ]
                results = [f.result() for f in futures]
        better = min(results, key=lambda r: r[1])
        if better[1] < cost:
            routes, cost = better[0], better[1]
            notes += better[2]
    return _solution(problem, best, routes, method="location_routing", start=start, notes=notes)


def _improve(
    problem: LrpProblem,
    key: Key,
    routes: list[LrpRoute],
    time_limit_s: float,
    seed: int,
    assignment_first: bool,
) -> tuple[list[LrpRoute], float, list[str]]:
    """Spend ``time_limit_s`` improving the routes of the open set ``key``.

    ``assignment_first``: first route a capacitated assignment (one CVRP per depot) and
    keep it if cheaper; then a warm-started multi-depot solve and the depot-capacity
    repair. Otherwise: warm-started multi-depot solves with Lagrangian depot prices
    (:func:`solve_capacitated`). Returns (routes, cost, notes); the input routes when
    nothing was better.
    """
    deadline = time.perf_counter() + time_limit_s
    cost = evaluate_lrp(problem, key, routes).cost
    notes: list[str] = []
    if assignment_first:
        assign = assign_customers(problem, [], key, time_limit_s=0.1 * time_limit_s, seed=seed)
        if assign is not None:
            first: list[LrpRoute] = []
            share = 0.35 * time_limit_s / max(1, problem.n_customers)
            for d in key:
                mine = [int(i) for i in np.flatnonzero(assign == d)]
                first += solve_mdvrp(
                    problem, [d], time_limit_s=share * len(mine), seed=seed, customers=mine
                )
            check = evaluate_lrp(problem, key, first)
            if check.feasible and check.cost < cost:
                routes, cost = first, check.cost
                notes.append("assignment-first routes were cheaper")
    left = max(0.1, deadline - time.perf_counter())
    if assignment_first:
        final_routes = solve_mdvrp(
            problem, key, time_limit_s=0.6 * left, seed=seed, initial=routes
        )
        left = max(0.1, deadline - time.perf_counter())
        fixed, note = repair_depot_capacity(
            problem, final_routes, key, time_limit_s=left, seed=seed
        )
    else:
        fixed, note = solve_capacitated(
            problem, key, time_limit_s=left, seed=seed, initial=routes
        )
    if fixed:
        check = evaluate_lrp(problem, key, fixed)
        if check.feasible and check.cost < cost:
            routes, cost = fixed, check.cost
            notes.append(note)
    return routes, cost, notes


def _radial_cost(problem: LrpProblem) -> np.ndarray:
    """``(n, m)`` radial travel cost ``2 × cost(depot, customer) × demand / Q``."""
    m, n = problem.n_depots, problem.n_customers
    cost = np.asarray(problem.cost, dtype=float)
    demand = np.asarray(problem.demand, dtype=float)
    return 2.0 * cost[np.ix_(m + np.arange(n), np.arange(m))] * demand[:, None] / (
        problem.vehicle_capacity
    )


def _place(
    problem: LrpProblem, assign_cost: np.ndarray, *, time_limit_s: float, seed: int = 0
) -> tuple[Key, np.ndarray, str]:
    """Capacitated fixed-charge placement: (open depots, assignment, how it was found).

    Single-source MIP first; when it finds no plan in time, the split-demand model
    chooses the depots and a generalized assignment (CP-SAT) assigns the customers.
    """
    demand = np.asarray(problem.demand, dtype=float)
    cap = np.asarray(problem.depot_capacity, dtype=float)
    opening = np.asarray(problem.opening_cost, dtype=float)
    try:
        placed = solve_fixed_charge(
            assign_cost, demand, opening, capacity=cap, single_source=True,
            time_limit_s=time_limit_s,
        )
        key = tuple(int(j) for j in placed.open_sites)
        return key, np.asarray(placed.assignment), f"single-source MIP {placed.status}"
    except InfeasibleError:
        placed = solve_fixed_charge(
            assign_cost, demand, opening, capacity=cap, single_source=False,
            time_limit_s=time_limit_s,
        )
    key = tuple(int(j) for j in placed.open_sites)
    assignment = assign_customers(problem, [], key, time_limit_s=time_limit_s, seed=seed)
    if assignment is None:
        raise InfeasibleError("lrp sequential: the placed depots cannot hold the demand")
    return key, assignment, f"split-demand MIP {placed.status} + assignment"


def solve_sequential(
    problem: LrpProblem, *, time_limit_s: float, seed: int = 0
) -> LrpSolution:
    """Place depots by a capacitated fixed-charge model ignoring routes, then route them.

    The facility model minimises opening cost plus the radial travel cost
    ``2 × cost(depot, customer) × demand / vehicle capacity`` with single-source
    assignment under depot capacities (MIP, half of the time limit at most); each open
    depot's customers are then routed by PyVRP with the rest of the time.

    Returns
    -------
    LrpSolution
    """
    start = time.perf_counter()
    n = problem.n_customers
    key, assignment, status = _place(
        problem, _radial_cost(problem), time_limit_s=max(2.0, 0.5 * time_limit_s), seed=seed
    )
    left = max(0.2, time_limit_s - (time.perf_counter() - start))
    routes: list[LrpRoute] = []
    for d in key:
        mine = [int(i) for i in np.flatnonzero(assignment == d)]
        share = left * len(mine) / max(1, n)
        routes += solve_mdvrp(problem, [d], time_limit_s=share, seed=seed, customers=mine)
    notes = [f"fixed-charge placement: {status}"]
    return _solution(problem, key, routes, method="sequential", start=start, notes=notes)
