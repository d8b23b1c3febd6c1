"""Fast estimates that price a set of open depots without the routing engine.

Two levels: :func:`radial_estimate` (capacitated nearest assignment, route fixed costs
for the minimum number of routes per depot, and the radial travel term
``2 × cost(depot, customer) × demand / vehicle capacity``, a lower-bound style proxy), and
:func:`savings_estimate` (the same assignment, then Clarke–Wright savings routes per
depot: an upper-bound style proxy within a few per cent of good routes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.optimize import linprog

from rural_logistics.lrp.model import LrpProblem


def _lp_assignment(problem: LrpProblem, opened: np.ndarray, w: np.ndarray) -> np.ndarray | None:
    """Transportation LP (split demand) rounded to each customer's largest share."""
    n, k = w.shape
    demand = np.asarray(problem.demand, dtype=float)
    cap = np.asarray(problem.depot_capacity, dtype=float)[opened]
    a_eq = np.zeros((n, n * k))
    for i in range(n):
        a_eq[i, i * k : (i + 1) * k] = 1.0
    a_ub = np.zeros((k, n * k))
    for j in range(k):
        a_ub[j, j::k] = 1.0
    res = linprog(
        w.ravel(), A_ub=a_ub, b_ub=cap, A_eq=a_eq, b_eq=demand, bounds=(0, None),
        method="highs",
    )
    if res.status != 0:
        return None
    return opened[np.argmax(res.x.reshape(n, k), axis=1)]


def assign_capacitated(
    problem: LrpProblem,
    open_depots: Sequence[int],
    *,
    weight: np.ndarray | None = None,
    strict: bool = True,
) -> np.ndarray | None:
    """Greedy regret assignment of customers to open depots within depot capacities.

    Customers are placed in decreasing order of regret (second-cheapest minus cheapest
    depot by ``weight``, default the arc cost) on the cheapest depot with room left.

    Parameters
    ----------
    strict
        When the greedy finds no room: ``True`` returns ``None``, ``False`` returns the
        transportation LP's assignment rounded to each customer's largest share (an
        estimate that may exceed a capacity slightly).

    Returns
    -------
    numpy.ndarray or None
        ``(n,)`` depot index per customer, or ``None`` when no assignment was found.
    """
    m = problem.n_depots
    opened = np.asarray(sorted(open_depots), dtype=int)
    cost = np.asarray(problem.cost)
    w = cost[np.ix_(opened, m + np.arange(problem.n_customers))].T if weight is None else (
        np.asarray(weight)[:, opened]
    )
    demand = np.asarray(problem.demand, dtype=float)
    room = np.asarray(problem.depot_capacity, dtype=float)[opened].copy()
    order_cols = np.argsort(w, axis=1)
    best = w[np.arange(len(w)), order_cols[:, 0]]
    regret = np.zeros(len(w))
    if len(opened) > 1:
        regret = w[np.arange(len(w)), order_cols[:, 1]] - best
    if room.sum() >= 2 * demand.sum():
        return opened[order_cols[:, 0]]  # capacities cannot bind
    out = np.empty(len(w), dtype=int)
    for i in np.lexsort((-demand, -regret)):
        for col in order_cols[i]:
            if room[col] + 1e-9 >= demand[i]:
                room[col] -= demand[i]
                out[i] = opened[col]
                break
        else:
            return None if strict else _lp_assignment(problem, opened, w)
    return out


def _fitting_assignment(problem: LrpProblem, open_depots: Sequence[int]) -> np.ndarray | None:
    """The capacitated assignment to ``open_depots``, or ``None`` if their capacity is short."""
    cap = np.asarray(problem.depot_capacity, dtype=float)
    if cap[list(open_depots)].sum() + 1e-9 < problem.total_demand:
        return None
    return assign_capacitated(problem, open_depots, strict=False)


def radial_estimate(problem: LrpProblem, open_depots: Sequence[int]) -> float:
    """Opening + minimum route fixed cost + radial travel term (``inf`` if it does not fit)."""
    assign = _fitting_assignment(problem, open_depots)
    if assign is None:
        return math.inf
    m = problem.n_depots
    demand = np.asarray(problem.demand, dtype=float)
    cost = np.asarray(problem.cost)
    q = problem.vehicle_capacity
    radial = 2.0 * cost[assign, m + np.arange(problem.n_customers)] * demand / q
    total = float(np.asarray(problem.opening_cost)[list(open_depots)].sum()) + float(radial.sum())
    loads = np.bincount(assign, weights=demand, minlength=m)
    routes = np.ceil(loads / q - 1e-9)
    return total + problem.route_fixed_cost * float(routes.sum())


def savings_routes(
    problem: LrpProblem, depot: int, customers: np.ndarray
) -> list[list[int]]:
    """Clarke–Wright parallel savings routes of one depot's customers (0-based ids)."""
    m = problem.n_depots
    q = problem.vehicle_capacity
    cost = np.asarray(problem.cost, dtype=float)
    cs = np.asarray(customers, dtype=int)
    if len(cs) == 0:
        return []
    nodes = m + cs
    d0 = cost[depot, nodes]
    d1 = cost[nodes, depot]
    sav = d1[:, None] + d0[None, :] - cost[np.ix_(nodes, nodes)] + problem.route_fixed_cost
    iu, ju = np.triu_indices(len(cs), k=1)
    s = np.maximum(sav[iu, ju], sav[ju, iu])
    keep = s > 0
    iu, ju, s = iu[keep], ju[keep], s[keep]
    order = np.argsort(-s, kind="stable")
    demand = np.asarray(problem.demand, dtype=float)[cs]
    route_of = list(range(len(cs)))
    routes: dict[int, list[int]] = {k: [k] for k in range(len(cs))}
    load = {k: float(demand[k]) for k in range(len(cs))}
    for a, b in zip(iu[order].tolist(), ju[order].tolist(), strict=True):
        ra, rb = route_of[a], route_of[b]
        if ra == rb or load[ra] + load[rb] > q + 1e-9:
            continue
        pa, pb = routes[ra], routes[rb]
        if pa[-1] == a and pb[0] == b:
            merged = pa + pb
        elif pa[0] == a and pb[-1] == b:
            merged = pb + pa
        elif pa[-1] == a and pb[-1] == b:
            merged = pa + pb[::-1]
        elif pa[0] == a and pb[0] == b:
            merged = pa[::-1] + pb
        else:
            continue
        routes[ra] = merged
        load[ra] += load[rb]
        del routes[rb], load[rb]
        for k in pb:
            route_of[k] = ra
    return [[int(cs[k]) for k in r] for r in routes.values()]


def routes_cost(problem: LrpProblem, depot: int, routes: list[list[int]]) -> float:
    """Fixed plus travel cost of a depot's routes."""
    m = problem.n_depots
    cost = np.asarray(problem.cost, dtype=float)
    total = 0.0
    for r in routes:
        nodes = [depot, *(m + c for c in r), depot]
        total += problem.route_fixed_cost + float(cost[nodes[:-1], nodes[1:]].sum())
    return total


def savings_estimate(problem: LrpProblem, open_depots: Sequence[int]) -> float:
    """Opening cost plus Clarke–Wright routes of the capacitated assignment."""
    assign = _fitting_assignment(problem, open_depots)
    if assign is None:
        return math.inf
    total = float(np.asarray(problem.opening_cost)[list(open_depots)].sum())
    for d in open_depots:
        mine = np.flatnonzero(assign == d)
        total += routes_cost(problem, d, savings_routes(problem, d, mine))
    return total
