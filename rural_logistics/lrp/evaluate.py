"""Independent check of a location-routing solution: recomputes everything from routes."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rural_logistics.lrp.model import LrpProblem, LrpRoute


@dataclass(frozen=True)
class LrpEvaluation:
    """Verdict and recomputed cost.

    Attributes
    ----------
    feasible
        Every customer exactly once, every route within the vehicle capacity, every open
        depot within its capacity, routes only from declared open depots.
    errors
        One line per violation.
    opening_cost, route_fixed_cost, travel_cost
        Cost parts recomputed from :class:`LrpProblem` (depots that run routes count as
        open even when not declared, so the cost is never understated).
    depot_load
        ``(m,)`` demand served by each depot.
    """

    feasible: bool
    errors: tuple[str, ...]
    opening_cost: float
    route_fixed_cost: float
    travel_cost: float
    depot_load: np.ndarray

    @property
    def cost(self) -> float:
        """Total cost."""
        return self.opening_cost + self.route_fixed_cost + self.travel_cost


def route_travel(problem: LrpProblem, route: LrpRoute) -> float:
    """Travel cost of one route: depot, customers in order, depot."""
    m = problem.n_depots
    nodes = [route.depot, *(m + c for c in route.customers), route.depot]
    cost = np.asarray(problem.cost)
    return float(sum(cost[a, b] for a, b in itertools.pairwise(nodes)))


def evaluate_lrp(
    problem: LrpProblem, open_depots: Sequence[int], routes: Sequence[LrpRoute]
) -> LrpEvaluation:
    """Check a solution and recompute its cost.

    Parameters
    ----------
    problem
        The instance.
    open_depots
        Depots declared open (each pays its opening cost).
    routes
        The routes (empty routes are ignored and cost nothing).

    Returns
    -------
    LrpEvaluation
    """
    m, n = problem.n_depots, problem.n_customers
    demand = np.asarray(problem.demand, dtype=float)
    errors: list[str] = []
    opened = set(int(d) for d in open_depots)
    for d in opened:
        if not 0 <= d < m:
            errors.append(f"open depot {d} is not a candidate depot")
    seen = np.zeros(n, dtype=int)
    load = np.zeros(m)
    travel = 0.0
    used = 0
    for k, route in enumerate(routes):
        if not route.customers:
            continue
        if not 0 <= route.depot < m:
            errors.append(f"route {k}: depot {route.depot} is not a candidate depot")
            continue
        if route.depot not in opened:
            errors.append(f"route {k}: depot {route.depot} is not declared open")
            opened.add(route.depot)
        bad = [c for c in route.customers if not 0 <= c < n]
        if bad:
            errors.append(f"route {k}: unknown customer(s) {bad}")
            continue
        used += 1
        for c in route.customers:
            seen[c] += 1
        route_load = float(demand[list(route.customers)].sum())
        if route_load > problem.vehicle_capacity + 1e-9:
            errors.append(
                f"route {k}: load {route_load:g} exceeds vehicle capacity "
                f"{problem.vehicle_capacity}"
            )
        load[route.depot] += route_load
        travel += route_travel(problem, route)
    missing = np.flatnonzero(seen == 0)
    twice = np.flatnonzero(seen > 1)
    if len(missing):
        errors.append(f"customer(s) {[int(c) for c in missing[:10]]} not served")
    if len(twice):
        errors.append(f"customer(s) {[int(c) for c in twice[:10]]} served more than once")
    cap = np.asarray(problem.depot_capacity, dtype=float)
    for d in (int(v) for v in np.flatnonzero(load > cap + 1e-9)):
        errors.append(f"depot {d}: load {load[d]:g} exceeds capacity {cap[d]:g}")
    opening = float(sum(float(problem.opening_cost[d]) for d in opened if 0 <= d < m))
    return LrpEvaluation(
        feasible=not errors,
        errors=tuple(errors),
        opening_cost=opening,
        route_fixed_cost=float(problem.route_fixed_cost) * used,
        travel_cost=travel,
        depot_load=load,
    )
