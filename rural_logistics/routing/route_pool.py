"""Route-pool recombination: the cheapest set of already-found routes that serves
every client.

A local search visits thousands of good solutions whose routes, recombined, often make
a better plan than any one of them. The pool keeps each distinct route (per vehicle
type and client set, the cheapest order seen) with the cost of the best solution it
appeared in; :func:`solve_route_cover` picks routes by a set-covering MIP (HiGHS through
the shared MIP model, :class:`rural_logistics.solvers.mip.Model`): every required client
at least once, an optional one at most once (its prize counts), no more routes of a
vehicle type than there are vehicles.
:func:`drop_repeats` then removes each client covered twice from the route where
leaving it out saves the most, so the result is a plan again.

Clients are numbered ``0 … n_clients-1``; a route is its visit sequence, where a
negative entry ``-1 - d`` is a return to depot ``d`` to reload (multi-trip vehicles).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rural_logistics.solvers.mip import Model


def reload_at(depot: int) -> int:
    """The visit-sequence entry of a reload at ``depot``."""
    return -1 - depot


@dataclass(frozen=True)
class PoolRoute:
    """One route of the pool.

    Attributes
    ----------
    vehicle_type
        Index of the vehicle type that drives it.
    visits
        Clients in visiting order (negative entries: reloads, see :func:`reload_at`).
    cost
        Its cost (fixed, distance and duration costs; prizes not subtracted).
    """

    vehicle_type: int
    visits: tuple[int, ...]
    cost: float

    @property
    def clients(self) -> frozenset[int]:
        """The clients it serves."""
        return frozenset(v for v in self.visits if v >= 0)


class RoutePool:
    """Distinct routes seen by a search, each with the score of its best solution."""

    def __init__(self) -> None:
        self._routes: dict[tuple[int, frozenset[int]], tuple[float, tuple[int, ...], float]] = {}

    def __len__(self) -> int:
        return len(self._routes)

    def add(
        self, vehicle_type: int, visits: Sequence[int], *, cost: float, score: float
    ) -> tuple[int, frozenset[int]] | None:
        """Record a route (the cheaper order and the better score are kept).

        Parameters
        ----------
        vehicle_type, visits, cost
            As in :class:`PoolRoute`.
        score
            Cost of the solution the route was part of (lower is better).

        Returns
        -------
        tuple or None
            The route's key for :meth:`rescore` (``None`` for a route without clients).
        """
        key = (vehicle_type, frozenset(v for v in visits if v >= 0))
        if not key[1]:
            return None
        old = self._routes.get(key)
        if old is None:
            self._routes[key] = (cost, tuple(visits), score)
            return key
        old_cost, old_visits, old_score = old
        if cost < old_cost:
            old_cost, old_visits = cost, tuple(visits)
        self._routes[key] = (old_cost, old_visits, min(score, old_score))
        return key

    def extend(self, scored: Sequence[tuple[PoolRoute, float]]) -> None:
        """Record scored routes (another pool's :meth:`scored`), as :meth:`add` does."""
        for route, score in scored:
            self.add(route.vehicle_type, route.visits, cost=route.cost, score=score)

    def rescore(self, key: tuple[int, frozenset[int]], score: float) -> None:
        """A route already pooled was seen again in a solution scoring ``score``."""
        cost, visits, old = self._routes[key]
        if score < old:
            self._routes[key] = (cost, visits, score)

    def best_score(self) -> float:
        """The lowest score recorded (``inf`` for an empty pool)."""
        return min((score for _, _, score in self._routes.values()), default=math.inf)

    def select(self, max_score: float, *, max_entries: int | None = None) -> list[PoolRoute]:
        """Routes whose best solution scored at most ``max_score``, best scores first.

        Parameters
        ----------
        max_score
            Score limit.
        max_entries
            Stop before the routes' client counts add up to more than this (bounds
            the size of the MIP).
        """
        return [route for route, _ in self.scored(max_score, max_entries=max_entries)]

    def scored(
        self, max_score: float, *, max_entries: int | None = None
    ) -> list[tuple[PoolRoute, float]]:
        """:meth:`select` with each route's score."""
        chosen = sorted(
            (
                (score, j, PoolRoute(key[0], visits, cost))
                for j, (key, (cost, visits, score)) in enumerate(self._routes.items())
                if score <= max_score
            ),
            key=lambda item: (item[0], item[1]),
        )
        out: list[tuple[PoolRoute, float]] = []
        entries = 0
        for score, _, route in chosen:
            entries += len(route.clients)
            if max_entries is not None and entries > max_entries:
                break
            out.append((route, score))
        return out


@dataclass(frozen=True)
class CoverResult:
    """Outcome of :func:`solve_route_cover`.

    Attributes
    ----------
    chosen
        Indices of the chosen routes; ``None`` when no choice was found.
    objective
        Cost of the chosen routes minus the prizes of the optional clients they serve
        (``inf`` when none was found).
    proven
        Whether the MIP finished: the choice is optimal, or none exists (within the
        upper bound). ``False`` when a limit stopped it.
    """

    chosen: tuple[int, ...] | None
    objective: float
    proven: bool


def solve_route_cover(
    routes: Sequence[PoolRoute],
    *,
    n_clients: int,
    required: Sequence[bool],
    prizes: Sequence[float],
    fleet: Sequence[int],
    upper_bound: float | None = None,
    time_limit_s: float = 1.0,
    node_limit: int | None = None,
    partition: bool = False,
) -> CoverResult:
    """The cheapest choice of routes: required clients covered, optional ones at most once.

    Parameters
    ----------
    routes
        The candidate routes.
    n_clients
        Number of clients.
    required
        Per client, whether it must be served.
    prizes
        Per client, what serving it earns (subtracted from a route's cost).
    fleet
        Per vehicle type, how many routes of that type may be chosen.
    upper_bound
        Only solutions costing at most this are of interest (the incumbent).
    time_limit_s
        Wall-clock limit of the MIP.
    node_limit
        Branch-and-bound node limit (a deterministic limit; the time limit still holds).
    partition
        Serve each required client exactly once (set partitioning) instead of at least
        once. Fewer choices, but HiGHS proves them several times faster (measured on
        A-n64-k9's pooled routes: 0.85 s against 2.99 s for 497 routes), and a pool
        holding a feasible plan always holds a partition.

    Returns
    -------
    CoverResult
        Without a choice when none exists (a required client in no route, or none
        within ``upper_bound``) or none was found within the limits.
    """
    m = Model("HIGHS", fallback="SCIP")
    x = [m.add_var(0.0, 1.0, integer=True) for _ in routes]
    rows: list[Any] = []
    for c in range(n_clients):
        top = 1.0 if partition else math.inf
        rows.append(m.add_row([], lb=1.0, ub=top) if required[c] else None)
    by_type: dict[int, Any] = {}
    net = []
    bound_row = (
        m.add_row([], ub=float(upper_bound))
        if upper_bound is not None and math.isfinite(upper_bound)
        else None
    )
    covered = [0] * n_clients
    for var, route in zip(x, routes, strict=True):
        clients = route.clients
        for c in clients:
            covered[c] += 1
            if rows[c] is None:
                rows[c] = m.add_row([], ub=1.0)
            m.add_term(rows[c], var, 1.0)
        if route.vehicle_type not in by_type:
            limit = fleet[route.vehicle_type]
            by_type[route.vehicle_type] = m.add_row([], ub=float(limit))
        m.add_term(by_type[route.vehicle_type], var, 1.0)
        cost = route.cost - sum(prizes[c] for c in clients)
        net.append(cost)
        m.set_cost(var, cost)
        if bound_row is not None:
            m.add_term(bound_row, var, cost)
    if any(required[c] and not covered[c] for c in range(n_clients)):
        return CoverResult(None, math.inf, True)
    specific = "output_flag = false\nmip_rel_gap = 0\nmip_abs_gap = 0.999\n"
    if node_limit is not None:
        specific += f"mip_max_nodes = {node_limit}\n"
    # Time limit as given (at least 10 ms): this small model builds in no time.
    out = m.solve(
        time_limit_s=time_limit_s, read={"x": x}, threads=None, rel_gap=0.0, min_ms=10,
        count_building=False, solver_params=specific,
    )
    if not out.has_solution:
        return CoverResult(None, math.inf, out.proven)
    chosen = tuple(int(j) for j in np.flatnonzero(out.values["x"] > 0.5))
    return CoverResult(chosen, float(sum(net[j] for j in chosen)), out.proven)


def drop_repeats(
    routes: Sequence[PoolRoute],
    *,
    route_cost: Callable[[int, tuple[int, ...]], float | None],
) -> list[PoolRoute] | None:
    """The routes with every client kept in one of them only.

    A client on several routes is removed, one copy at a time, where removing it saves
    the most; routes left without a client are dropped.

    Parameters
    ----------
    routes
        Routes that may share clients.
    route_cost
        ``(vehicle_type, visits) → cost``, or ``None`` if that route is infeasible.

    Returns
    -------
    list of PoolRoute or None
        ``None`` when some copy cannot be removed without making its route infeasible.
    """
    current = list(routes)
    counts: dict[int, int] = {}
    for route in current:
        for c in route.visits:
            if c >= 0:
                counts[c] = counts.get(c, 0) + 1
    for client in sorted(c for c, k in counts.items() if k > 1):
        while counts[client] > 1:
            best: tuple[float, int, PoolRoute] | None = None
            for j, route in enumerate(current):
                if client not in route.visits:
                    continue
                at = route.visits.index(client)
                visits = _tidy(route.visits[:at] + route.visits[at + 1 :])
                cost = route_cost(route.vehicle_type, visits) if visits else 0.0
                if cost is None:
                    continue
                saving = route.cost - cost
                if best is None or saving > best[0]:
                    best = (saving, j, PoolRoute(route.vehicle_type, visits, cost))
            if best is None:
                return None
            current[best[1]] = best[2]
            counts[client] -= 1
    return [r for r in current if r.visits]


def _tidy(visits: tuple[int, ...]) -> tuple[int, ...]:
    """Reloads without a trip between them, or at either end, removed."""
    out: list[int] = []
    for v in visits:
        if v < 0 and (not out or out[-1] < 0):
            continue
        out.append(v)
    while out and out[-1] < 0:
        out.pop()
    return tuple(out)
