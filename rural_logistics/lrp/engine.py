"""PyVRP multi-depot solves for a fixed set of open depots, with depot-capacity repair.

PyVRP has depots, vehicle capacities and per-route fixed costs but no depot capacity, so a
multi-depot solve can load a depot beyond its capacity. :func:`repair_depot_capacity`
then reassigns customers to depots with room (a generalized assignment by OR-Tools CP-SAT
that moves as little travel as possible) and solves one CVRP per depot, started from the
multi-depot routes. (Moving whole routes instead was measured worse: 381898 against
378017 on ``coord200-10-2b`` at 10 s, about 1 %.)
Costs are integers inside PyVRP (``LrpProblem.cost × cost_scale``, rounded).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
import pyvrp
from ortools.sat.python import cp_model
from pyvrp.stop import MaxRuntime, MultipleCriteria, NoImprovement

from rural_logistics.lrp.estimate import assign_capacitated
from rural_logistics.lrp.evaluate import evaluate_lrp
from rural_logistics.lrp.model import LrpProblem, LrpRoute

_BIG = 10**9


def _data(
    problem: LrpProblem,
    depots: Sequence[int],
    customers: Sequence[int],
    prices: Sequence[float] | None = None,
) -> pyvrp.ProblemData:
    m = problem.n_depots
    nodes = [*depots, *(m + c for c in customers)]
    scale = problem.cost_scale
    dist = np.rint(np.asarray(problem.cost, dtype=float)[np.ix_(nodes, nodes)] * scale)
    dist = dist.astype(np.int64)
    locations = [pyvrp.Location(0.0, 0.0) for _ in nodes]
    pv_depots = [pyvrp.Depot(location=k) for k in range(len(depots))]
    demand = np.asarray(problem.demand)
    clients = [
        pyvrp.Client(location=len(depots) + k, delivery=[int(demand[c])])
        for k, c in enumerate(customers)
    ]
    fixed = round(problem.route_fixed_cost * scale)
    vehicle_types = [
        pyvrp.VehicleType(
            num_available=max(1, len(customers)),
            capacity=[int(problem.vehicle_capacity)],
            start_depot=k,
            end_depot=k,
            fixed_cost=fixed,
            profile=k if prices is not None else 0,
        )
        for k in range(len(depots))
    ]
    zeros = np.zeros_like(dist)
    if prices is None:
        return pyvrp.ProblemData(
            locations, clients, pv_depots, vehicle_types, [cast(Any, dist)], [cast(Any, zeros)]
        )
    # Depot k's vehicles pay prices[k] per unit of demand they serve (on arcs into clients).
    charge = np.zeros(len(nodes))
    charge[len(depots) :] = demand[list(customers)]
    matrices = []
    for price in prices:
        mat = dist + np.rint(scale * float(price) * charge)[None, :].astype(np.int64)
        np.fill_diagonal(mat, 0)
        matrices.append(mat)
    return pyvrp.ProblemData(
        locations, clients, pv_depots, vehicle_types,
        [cast(Any, d) for d in matrices], [cast(Any, zeros)] * len(matrices),
    )


def solve_mdvrp(
    problem: LrpProblem,
    depots: Sequence[int],
    *,
    time_limit_s: float,
    seed: int,
    customers: Sequence[int] | None = None,
    initial: Sequence[LrpRoute] | None = None,
    prices: Sequence[float] | None = None,
) -> list[LrpRoute]:
    """Routes from ``depots`` serving ``customers`` (default all), ignoring depot capacity.

    Parameters
    ----------
    problem
        The instance.
    depots
        Open depots the routes may start from.
    time_limit_s
        Wall-clock budget of the PyVRP search (it also stops after
        ``max(5000, 100 × customers)`` iterations without improvement).
    seed
        PyVRP seed.
    customers
        Customers to serve (0-based; default every customer).
    initial
        Routes to start from (must use only ``depots`` and exactly ``customers``).
    prices
        Per depot in ``depots``, a charge per unit of demand it serves (Lagrangian
        prices of the depot capacities; ``None`` = no charge).

    Returns
    -------
    list[LrpRoute]
    """
    depots = list(depots)
    custs = list(range(problem.n_customers)) if customers is None else list(customers)
    if not custs:
        return []
    data = _data(problem, depots, custs, prices)
    start = None
    if initial:
        pos = {c: k for k, c in enumerate(custs)}
        dpos = {d: k for k, d in enumerate(depots)}
        start = pyvrp.Solution(
            data,
            [
                pyvrp.Route(data, [pos[c] for c in r.customers], dpos[r.depot])
                for r in initial
                if r.customers
            ],
        )
    result = pyvrp.solve(
        data,
        MultipleCriteria(
            [MaxRuntime(max(0.05, time_limit_s)), NoImprovement(max(5000, 100 * len(custs)))]
        ),
        seed=seed,
        collect_stats=False,
        display=False,
        initial_solution=start,
    )
    routes = []
    for route in result.best.routes():
        visits = [custs[int(a.idx)] for a in route.schedule() if a.is_client()]
        routes.append(LrpRoute(depot=depots[route.vehicle_type()], customers=tuple(visits)))
    return routes


def solve_capacitated(
    problem: LrpProblem,
    depots: Sequence[int],
    *,
    time_limit_s: float,
    seed: int,
    initial: Sequence[LrpRoute] | None = None,
    rounds: int = 4,
) -> tuple[list[LrpRoute], str]:
    """Multi-depot routes within depot capacities: Lagrangian prices, then repair.

    Each round is a warm-started multi-depot solve in which every depot charges a price
    per unit of demand served; the price of an overloaded depot rises with its overload
    (subgradient step scaled by the typical per-unit cost of serving a customer from its
    second-nearest open depot instead of its nearest). The first round whose loads fit
    stops the loop; otherwise the last routes go through :func:`repair_depot_capacity`.

    Returns
    -------
    routes, note
        Depot-feasible routes (empty if none were found) and what was done.
    """
    depots = list(depots)
    deadline = time.perf_counter() + time_limit_s
    cap = np.asarray(problem.depot_capacity, dtype=float)[depots]
    demand = np.asarray(problem.demand, dtype=float)
    prices = np.zeros(len(depots))
    base = 0.0
    if len(depots) > 1:
        cost = np.asarray(problem.cost, dtype=float)
        to = np.sort(cost[np.ix_(np.asarray(depots), problem.n_depots + np.arange(len(demand)))],
                     axis=0)
        base = float(np.median((to[1] - to[0]) / np.maximum(demand, 1.0)))
    routes = list(initial) if initial else None
    for k in range(rounds):
        share = max(0.05, (deadline - time.perf_counter()) / (rounds - k + 1))
        routes = solve_mdvrp(
            problem, depots, time_limit_s=share, seed=seed + k, initial=routes,
            prices=[float(p) for p in prices] if prices.any() else None,
        )
        loads = depot_loads(problem, routes)[depots]
        over = (loads - cap) / cap
        if np.all(over <= 1e-9):
            note = f"depot capacities met with prices after {k + 1} rounds"
            return routes, "" if k == 0 else note
        prices = np.maximum(0.0, prices + 0.5 * base * np.maximum(over, 0.0))
    assert routes is not None
    left = max(0.1, deadline - time.perf_counter())
    fixed, note = repair_depot_capacity(problem, routes, depots, time_limit_s=left, seed=seed)
    return fixed, f"prices for {rounds} rounds, then {note}"


def depot_loads(problem: LrpProblem, routes: Sequence[LrpRoute]) -> np.ndarray:
    """``(m,)`` demand served from each depot."""
    load = np.zeros(problem.n_depots)
    demand = np.asarray(problem.demand, dtype=float)
    for r in routes:
        load[r.depot] += float(demand[list(r.customers)].sum())
    return load


def repair_depot_capacity(
    problem: LrpProblem,
    routes: Sequence[LrpRoute],
    depots: Sequence[int],
    *,
    time_limit_s: float,
    seed: int,
) -> tuple[list[LrpRoute], str]:
    """Make the routes respect depot capacities (unchanged when they already do).

    Returns
    -------
    routes, note
        Feasible routes (empty when no repair worked) and what was done.
    """
    cap = np.asarray(problem.depot_capacity, dtype=float)
    if np.all(depot_loads(problem, routes) <= cap + 1e-9):
        return list(routes), ""
    depots = list(depots)
    assign = assign_customers(problem, routes, depots, time_limit_s=time_limit_s, seed=seed)
    if assign is None:
        return [], "depot capacity could not be repaired"
    out = reroute_assignment(problem, routes, depots, assign, time_limit_s=time_limit_s,
                             seed=seed)
    return out, "depot capacity repaired by reassigning customers and one CVRP per depot"


def reroute_assignment(
    problem: LrpProblem,
    routes: Sequence[LrpRoute],
    depots: Sequence[int],
    assign: np.ndarray,
    *,
    time_limit_s: float,
    seed: int,
) -> list[LrpRoute]:
    """One CVRP per depot on the customers ``assign`` gives it, started from ``routes``
    (customers that moved start on routes of their own); time shared by size."""
    out: list[LrpRoute] = []
    total = max(1, problem.n_customers)
    for d in depots:
        mine = [int(c) for c in np.flatnonzero(assign == d)]
        if not mine:
            continue
        keep = set(mine)
        start = [
            LrpRoute(d, tuple(c for c in r.customers if c in keep))
            for r in routes
            if r.depot == d
        ]
        placed = {c for r in start for c in r.customers}
        start = [r for r in start if r.customers]
        start += [LrpRoute(d, (c,)) for c in mine if c not in placed]
        out += solve_mdvrp(
            problem, [d], time_limit_s=time_limit_s * len(mine) / total, seed=seed,
            customers=mine, initial=start,
        )
    return out


def insertion_weight(
    problem: LrpProblem, routes: Sequence[LrpRoute], depots: Sequence[int]
) -> np.ndarray:
    """``(n, m)`` what each customer costs on each open depot's routes.

    On its own depot: the travel its removal would save; on another open depot: its
    cheapest insertion between two consecutive stops of that depot's routes (vehicle
    capacity ignored); other depots: a large value. The assignment cost of
    :func:`exchange_customers`.
    """
    m, n = problem.n_depots, problem.n_customers
    cost = np.asarray(problem.cost, dtype=float)
    out = np.full((n, m), 1e9)
    current = np.full(n, -1)
    tails: list[int] = []
    heads: list[int] = []
    owner: list[int] = []
    for r in routes:
        nodes = [r.depot, *(m + c for c in r.customers), r.depot]
        for k, c in enumerate(r.customers, start=1):
            a, i, b = nodes[k - 1], nodes[k], nodes[k + 1]
            out[c, r.depot] = cost[a, i] + cost[i, b] - cost[a, b]
            current[c] = r.depot
        tails += nodes[:-1]
        heads += nodes[1:]
        owner += [r.depot] * (len(nodes) - 1)
    t, h, o = np.asarray(tails), np.asarray(heads), np.asarray(owner)
    cust = m + np.arange(n)
    extra = cost[np.ix_(t, cust)].T + cost[np.ix_(cust, h)] - cost[t, h][None, :]
    for d in depots:
        cols = np.flatnonzero(o == d)
        if len(cols):
            mask = current != d
            out[mask, d] = extra[:, cols].min(axis=1)[mask]
    return out


def exchange_customers(
    problem: LrpProblem,
    routes: Sequence[LrpRoute],
    depots: Sequence[int],
    *,
    time_limit_s: float,
    seed: int,
    move_limits: Sequence[int] = (2, 3, 4),
) -> tuple[list[LrpRoute], str]:
    """Move a few customers between open depots at a time, within depot capacities.

    Each step solves a generalized assignment (CP-SAT) priced by
    :func:`insertion_weight` in which at most ``k`` customers (cycling through
    ``move_limits``) change depot — a few moves at a time, so the insertion prices stay
    close to the truth and moves can be chains or swaps that a full depot needs — then
    re-routes the depots that changed (one CVRP each, warm-started) and keeps the result
    if it is cheaper. A rejected set of moves is forbidden afterwards. Stops at the time
    limit or when no limit proposes a move.

    Returns
    -------
    routes, note
        The best routes found (the input when nothing was cheaper) and what was done.
    """
    deadline = time.perf_counter() + time_limit_s
    depots = list(depots)
    best = [r for r in routes if r.customers]
    best_cost = evaluate_lrp(problem, depots, best).cost
    rejected: list[list[tuple[int, int]]] = []
    accepted = idle = step = 0
    while time.perf_counter() < deadline - 0.2 and idle < len(move_limits):
        limit = move_limits[step % len(move_limits)]
        step += 1
        current = np.full(problem.n_customers, -1)
        for r in best:
            current[list(r.customers)] = r.depot
        left = deadline - time.perf_counter()
        assign = assign_customers(
            problem, best, depots, time_limit_s=min(2.0, 0.3 * left), seed=seed,
            weight=insertion_weight(problem, best, depots), max_moves=limit,
            forbidden=rejected,
        )
        if assign is None or np.array_equal(assign, current):
            idle += 1
            continue
        idle = 0
        moved = [(int(i), int(assign[i])) for i in np.flatnonzero(assign != current)]
        changed = {int(current[i]) for i, _ in moved} | {j for _, j in moved}
        keep = [r for r in best if r.depot not in changed]
        share = max(0.1, min(1.5, 0.5 * (deadline - time.perf_counter())))
        trial = keep + reroute_assignment(
            problem, [r for r in best if r.depot in changed], sorted(changed), assign,
            time_limit_s=share * problem.n_customers
            / max(1, int(np.isin(assign, list(changed)).sum())),
            seed=seed + step,
        )
        check = evaluate_lrp(problem, depots, trial)
        if check.feasible and check.cost < best_cost - 1e-9:
            best, best_cost = trial, check.cost
            accepted += 1
        else:
            rejected.append(moved)
    return best, f"{accepted} customer exchanges between depots kept" if accepted else ""


def assign_customers(
    problem: LrpProblem,
    routes: Sequence[LrpRoute],
    depots: Sequence[int],
    *,
    time_limit_s: float,
    seed: int,
    weight: np.ndarray | None = None,
    max_moves: int | None = None,
    forbidden: Sequence[Sequence[tuple[int, int]]] = (),
) -> np.ndarray | None:
    """Customers to depots within capacities, moving as little travel as possible.

    A generalized assignment (CP-SAT): the cost of putting customer ``i`` on depot ``j``
    is ``cost(j, i) − cost(current depot, i)`` (its current depot from ``routes``), so
    customers stay where the multi-depot solve put them unless a depot is over capacity.
    ``weight`` (``(n, m)``, e.g. the radial cost) replaces that cost when given.
    ``max_moves``: at most this many customers leave their current depot;
    ``forbidden``: sets of (customer, depot) moves that may not all be made again.

    Returns
    -------
    numpy.ndarray or None
        ``(n,)`` depot per customer, ``None`` when no assignment fits.
    """
    m, n = problem.n_depots, problem.n_customers
    depots = list(depots)
    dep = np.asarray(depots, dtype=np.int64)
    cost = np.asarray(problem.cost, dtype=float)
    demand = np.asarray(problem.demand)
    cap = np.asarray(problem.depot_capacity, dtype=float)
    nodes = m + np.arange(n)
    near = dep[np.argmin(cost[np.ix_(dep, nodes)], axis=0)]
    current = near.copy()  # customers not on a route count as at their nearest depot
    for r in routes:
        for c in r.customers:
            current[c] = r.depot
    delta = cost[np.ix_(dep, nodes)].T - cost[current, nodes][:, None]
    if weight is not None:
        delta = np.asarray(weight, dtype=float)[:, dep]
    scale = max(problem.cost_scale, 100)
    model = cp_model.CpModel()
    x = [[model.new_bool_var(f"y{i}_{j}") for j in range(len(depots))] for i in range(n)]
    for row in x:
        model.add_exactly_one(row)
    for j, d in enumerate(depots):
        model.add(sum(int(demand[i]) * x[i][j] for i in range(n)) <= int(cap[d]))
    col = {d: j for j, d in enumerate(depots)}
    if max_moves is not None:
        model.add(
            sum(x[i][j] for i in range(n) for j, d in enumerate(depots) if d != current[i])
            <= max_moves
        )
    for moves in forbidden:
        model.add(sum(x[i][col[d]] for i, d in moves) <= len(moves) - 1)
    model.minimize(
        sum(
            round(max(0.0, float(delta[i, j])) * scale) * x[i][j]
            for i in range(n)
            for j in range(len(depots))
        )
    )
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = (
        max(0.5, min(10.0, time_limit_s / 2)) if max_moves is None else max(0.1, time_limit_s)
    )
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None if max_moves is not None else assign_capacitated(problem, depots)
    out = np.empty(n, dtype=int)
    for i in range(n):
        for j, d in enumerate(depots):
            if solver.value(x[i][j]):
                out[i] = d
    return out


def reoptimize_per_depot(
    problem: LrpProblem, routes: Sequence[LrpRoute], *, time_limit_s: float, seed: int
) -> list[LrpRoute]:
    """One CVRP per depot on its current customers, started from its current routes."""
    by_depot: dict[int, list[LrpRoute]] = {}
    for r in routes:
        by_depot.setdefault(r.depot, []).append(r)
    total = sum(len(r.customers) for r in routes) or 1
    out: list[LrpRoute] = []
    deadline = time.perf_counter() + time_limit_s
    for d, mine in by_depot.items():
        custs = sorted(c for r in mine for c in r.customers)
        share = time_limit_s * len(custs) / total
        share = min(share, max(0.05, deadline - time.perf_counter()))
        out += solve_mdvrp(
            problem, [d], time_limit_s=share, seed=seed, customers=custs, initial=mine
        )
    return out
