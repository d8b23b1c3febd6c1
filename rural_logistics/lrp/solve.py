"""Location-routing search and the sequential (place, then route) baseline.

:func:`solve_lrp` prices depot sets in three steps, each more exact and more expensive:

1. every candidate set (all subsets whose capacity covers the demand when there are at
   most :data:`ENUMERATE_MAX_DEPOTS` candidates, else the sets visited by an add/drop/swap
   descent) gets the radial estimate;
2. the best :data:`SAVINGS_POOL` of them get the Clarke–Wright estimate;
3. the best few by that estimate are confirmed by a short PyVRP multi-depot solve (with
   depot-capacity repair), in parallel with the sequential plan (that of
   :func:`solve_sequential` with a third of the time limit, the benchmark's baseline
   budget); the add/drop/swap neighbours of the best confirmed set whose savings
   estimate, scaled by the confirmed set's
   actual/estimate ratio, promises a cheaper plan are confirmed too. Confirmed sets
   within :data:`RACE_WITHIN` of the best are raced with equal effort; the winner gets
   the rest of the time in two parallel variants (per-depot CVRPs, customer exchanges
   between depots and warm-started multi-depot solves; multi-depot solves with
   Lagrangian depot prices). Every step keeps only improvements, so the answer is never
   worse than the sequential plan found inside the search.

:func:`solve_sequential` opens depots by a capacitated single-source fixed-charge model
whose assignment cost is the radial (full-vehicle) travel cost, ignoring routes, and then
routes each depot's customers.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from rural_logistics.errors import InfeasibleError
from rural_logistics.lrp.engine import (
    assign_customers,
    exchange_customers,
    reoptimize_per_depot,
    repair_depot_capacity,
    solve_capacitated,
    solve_mdvrp,
)
from rural_logistics.lrp.estimate import radial_estimate, savings_estimate
from rural_logistics.lrp.evaluate import evaluate_lrp
from rural_logistics.lrp.model import LrpProblem, LrpRoute, LrpSolution
from rural_logistics.placement.models import solve_fixed_charge
from rural_logistics.solvers.processes import worker_pool

#: Enumerate every depot subset up to this many candidates.
ENUMERATE_MAX_DEPOTS = 12
#: Sets priced by Clarke–Wright after the radial screen.
SAVINGS_POOL = 40
#: Share of the time limit for each confirming PyVRP solve.
CONFIRM_SHARE = 0.08
#: Sets confirmed from the savings ranking, and neighbours confirmed afterwards.
CONFIRM_FIRST = 4
CONFIRM_NEIGHBOURS = 2
#: Confirmed sets within this fraction of the best are raced with equal effort ...
RACE_WITHIN = 0.03
#: ... for this share of the time left.
RACE_SHARE = 0.3
#: Share of the time limit for the sequential plan inside the search (the benchmark's
#: default budget of the sequential baseline).
SEQUENTIAL_SHARE = 1 / 3

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


def _route_assigned(
    problem: LrpProblem, key: Key, assignment: np.ndarray, time_limit_s: float, seed: int
) -> list[LrpRoute]:
    """One CVRP per open depot on the customers ``assignment`` gives it (time by size)."""
    routes: list[LrpRoute] = []
    total = max(1, problem.n_customers)
    for d in key:
        mine = [int(i) for i in np.flatnonzero(assignment == d)]
        share = time_limit_s * len(mine) / total
        routes += solve_mdvrp(problem, [d], time_limit_s=share, seed=seed, customers=mine)
    return routes


Confirmed = tuple[Key, list[LrpRoute], float, str]


def _confirm(problem: LrpProblem, key: Key, time_limit_s: float, seed: int) -> Confirmed:
    """PyVRP multi-depot routes from the open set ``key`` made depot-feasible (the
    repair, when needed, takes up to about 60 % more time)."""
    routes = solve_mdvrp(problem, key, time_limit_s=0.6 * time_limit_s, seed=seed)
    fixed, note = repair_depot_capacity(
        problem, routes, key, time_limit_s=0.4 * time_limit_s, seed=seed
    )
    if not fixed:
        return key, [], math.inf, note
    check = evaluate_lrp(problem, key, fixed)
    return key, fixed, (check.cost if check.feasible else math.inf), note


def _sequential_plan(problem: LrpProblem, time_limit_s: float, seed: int) -> Confirmed:
    """Fixed-charge placement ignoring routes (half the time at most), then one CVRP per
    open depot on its assigned customers with the rest of the time (no routes and an
    infinite cost when the placement finds no plan)."""
    start = time.perf_counter()
    try:
        key, assignment, status = _place(
            problem, _radial_cost(problem), time_limit_s=max(2.0, 0.5 * time_limit_s),
            seed=seed,
        )
    except InfeasibleError as exc:
        return (), [], math.inf, str(exc)
    left = max(0.2, time_limit_s - (time.perf_counter() - start))
    routes = _route_assigned(problem, key, assignment, left, seed)
    check = evaluate_lrp(problem, key, routes)
    cost = check.cost if check.feasible else math.inf
    return key, routes, cost, f"fixed-charge placement: {status}"


def _run_all(jobs: Sequence[Callable[[], Any]], workers: int) -> list[Any]:
    """Call every job, in a pool of ``workers`` processes when there are several."""
    if workers <= 1 or len(jobs) <= 1:
        return [job() for job in jobs]
    with worker_pool(min(workers, len(jobs))) as pool:
        futures = [pool.submit(job) for job in jobs]
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


Improve = tuple[list[LrpRoute], float, list[str]]


def solve_lrp(
    problem: LrpProblem, *, time_limit_s: float, seed: int = 0, workers: int = 1
) -> LrpSolution:
    """Open depots and build routes minimising opening + route fixed + travel cost.

    The sequential plan (fixed-charge placement, one CVRP per depot) is one of the
    confirmed candidates and the final phase only keeps improvements, so the answer is
    never worse than that plan as routed inside the search.

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
    confirm_s = max(0.2, CONFIRM_SHARE * time_limit_s)
    jobs: list[Callable[[], Confirmed]] = [
        partial(_confirm, problem, k, confirm_s, seed) for k in ranked[:CONFIRM_FIRST]
    ]
    # The sequential plan is a candidate too: the answer is never worse than it.
    jobs.insert(0, partial(
        _sequential_plan, problem, SEQUENTIAL_SHARE * time_limit_s, seed
    ))
    confirmed: dict[Key, tuple[list[LrpRoute], float, str]] = {}

    def record(batch: Sequence[Callable[[], Confirmed]]) -> None:
        for key, routes, cost, note in _run_all(batch, workers):
            if not routes:
                continue
            if key not in confirmed or cost < confirmed[key][1]:
                confirmed[key] = (routes, cost, note)

    record(jobs)
    if not confirmed:
        raise InfeasibleError("lrp: no feasible plan found for any depot set")
    best = min(confirmed, key=lambda k: confirmed[k][1])
    tried = 0
    while tried < CONFIRM_NEIGHBOURS and deadline - time.perf_counter() > 0.5 * time_limit_s:
        ratio = confirmed[best][1] / saving_of(best)
        promising = sorted(
            (k for k in _neighbours(best, problem.n_depots) if k not in confirmed),
            key=saving_of,
        )
        promising = [k for k in promising if saving_of(k) * ratio < confirmed[best][1]]
        if not promising:
            break
        batch = [partial(_confirm, problem, k, confirm_s, seed)
                 for k in promising[: max(1, workers)]]
        record(batch)
        tried += len(batch)
        best = min(confirmed, key=lambda k: confirmed[k][1])
    if not math.isfinite(confirmed[best][1]):
        raise InfeasibleError(f"lrp: no feasible plan found ({confirmed[best][2]})")
    notes = [
        f"{len(radial)} depot sets priced by the radial estimate, {len(savings)} by savings, "
        f"{len(confirmed)} confirmed by PyVRP",
    ]
    # Short confirming solves can mis-rank close sets: the best few within RACE_WITHIN
    # of the best get equal further effort before one set is chosen.
    contenders = [
        k for k in sorted(confirmed, key=lambda k: confirmed[k][1])[: max(1, workers)]
        if confirmed[k][1] <= (1.0 + RACE_WITHIN) * confirmed[best][1]
    ]
    remaining = deadline - time.perf_counter() - 0.05
    if len(contenders) > 1 and remaining > 2.0:
        race = [
            partial(_improve, problem, k, confirmed[k][0], RACE_SHARE * remaining, seed,
                    "assignment")
            for k in contenders
        ]
        for key, res in zip(contenders, _run_all(race, workers), strict=True):
            if res[1] < confirmed[key][1]:
                confirmed[key] = (res[0], res[1], confirmed[key][2])
        best = min(contenders, key=lambda k: confirmed[k][1])
        notes.append(f"{len(contenders)} close sets raced with equal effort")
    routes, cost, _ = confirmed[best]
    first_mode = "routes" if best in contenders and len(contenders) > 1 else "assignment"
    remaining = deadline - time.perf_counter() - 0.05
    if remaining > 0.5:
        variants = [
            partial(_improve, problem, best, routes, remaining, seed, first_mode),
            partial(_improve, problem, best, routes, remaining, seed + 1, "prices"),
        ]
        results = _run_all(variants[: max(1, workers)], workers)
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
    mode: str,
) -> Improve:
    """Spend ``time_limit_s`` improving the routes of the open set ``key``.

    ``mode`` ``"assignment"``: the capacitated assignment of least radial cost routed by
    one CVRP per depot, kept if cheaper; then (also ``"routes"``) the depot-by-depot
    CVRPs warm-started from the best routes so far; then customers exchanged between
    open depots a few at a time (:func:`exchange_customers`); then, until the time is up,
    warm-started multi-depot solves (which move customers between depots) with the
    depot-capacity repair. ``"prices"``: warm-started multi-depot solves with Lagrangian
    depot prices (:func:`solve_capacitated`). Only improvements are kept: returns (routes,
    cost, notes), the input routes when nothing was better.
    """
    deadline = time.perf_counter() + time_limit_s
    cost = evaluate_lrp(problem, key, routes).cost
    notes: list[str] = []

    def keep(candidate: list[LrpRoute], note: str) -> None:
        nonlocal routes, cost
        if not candidate:
            return
        check = evaluate_lrp(problem, key, candidate)
        if check.feasible and check.cost < cost - 1e-9:
            routes, cost = candidate, check.cost
            if note and note not in notes:
                notes.append(note)

    if mode == "prices":
        fixed, note = solve_capacitated(
            problem, key, time_limit_s=time_limit_s, seed=seed, initial=routes
        )
        keep(fixed, note or "multi-depot solve with depot prices")
        return routes, cost, notes
    assign = None
    if mode == "assignment":
        assign = assign_customers(
            problem, [], key, time_limit_s=0.05 * time_limit_s, seed=seed,
            weight=_radial_cost(problem),
        )
    if assign is not None:
        keep(_route_assigned(problem, key, assign, 0.25 * time_limit_s, seed),
             "assignment-first routes were cheaper")
    left = deadline - time.perf_counter()
    keep(reoptimize_per_depot(problem, routes, time_limit_s=0.2 * left, seed=seed),
         "per-depot CVRPs improved the routes")
    if len(key) > 1:
        left = deadline - time.perf_counter()
        keep(*exchange_customers(problem, routes, key, time_limit_s=0.7 * left, seed=seed))
    k = 0
    while (left := deadline - time.perf_counter()) > 0.3:
        k += 1
        found = solve_mdvrp(problem, key, time_limit_s=0.7 * left, seed=seed + k,
                            initial=routes)
        fixed, note = repair_depot_capacity(
            problem, found, key, time_limit_s=max(0.1, deadline - time.perf_counter()),
            seed=seed,
        )
        keep(fixed, note or "multi-depot solve moved customers between depots")
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
    chooses the depots and a generalized assignment (CP-SAT) of least ``assign_cost``
    assigns the customers.
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
    assignment = assign_customers(
        problem, [], key, time_limit_s=time_limit_s, seed=seed, weight=assign_cost
    )
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
    key, routes, _, note = _sequential_plan(problem, time_limit_s, seed)
    if not routes:
        raise InfeasibleError(f"lrp sequential: no plan ({note})")
    return _solution(problem, key, routes, method="sequential", start=start, notes=[note])
