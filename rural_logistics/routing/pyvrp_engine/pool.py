"""The route pool of one PyVRP search and its recombination schedule."""

from __future__ import annotations

import math
import time

import pyvrp
from pyvrp import search

from rural_logistics.routing.pyvrp_engine.data import (
    _activities,
    _route_cost,
    _visits,
    polished,
    solution_of,
    zero_cost_evaluator,
)
from rural_logistics.routing.pyvrp_engine.settings import Recombination, _Span
from rural_logistics.routing.route_pool import (
    PoolRoute,
    RoutePool,
    drop_repeats,
    solve_route_cover,
)


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
        self.zero = zero_cost_evaluator(data)
        self.seen: dict[tuple[int, ...], tuple[int, frozenset[int]] | None] = {}
        self.fruitless = 0
        self.skip = 0

    def due(self, used: float) -> bool:
        """Whether a checkpoint has been reached (each one fires once; one to skip
        after fruitless MIPs counts as reached, but is not due)."""
        if self.pending and used >= self.pending[0]:
            while self.pending and used >= self.pending[0]:
                self.pending.pop(0)
            if self.skip > 0:
                self.skip -= 1
                return False
            return True
        return False

    def record(self, *, proven: bool, improved: bool) -> None:
        """Adapt the pool filter and the checkpoints to a MIP's outcome.

        A MIP that finished may look at a larger pool next time, one stopped by its
        limit at a smaller one. After ``k >= backoff_after`` MIPs in a row stopped by
        their limit without a better plan, the next ``2**(k - backoff_after + 1) - 1``
        checkpoints are skipped.
        """
        if proven:
            self.slack = min(self.settings.max_slack, 2.0 * self.slack)
        else:
            self.slack = max(self.settings.slack / 4.0, self.slack / 2.0)
        after = self.settings.backoff_after
        if proven or improved or after is None:
            self.fruitless = 0
            return
        self.fruitless += 1
        if self.fruitless >= after:
            self.skip = 2 ** (self.fruitless - after + 1) - 1

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
        found = self._plan(routes, cover.chosen, ls, pm)
        self.record(
            proven=cover.proven,
            improved=found is not None and self.zero.penalised_cost(found) < reference,
        )
        return found

    def _plan(
        self,
        routes: list[PoolRoute],
        chosen: tuple[int, ...] | None,
        ls: search.LocalSearch,
        pm: pyvrp.PenaltyManager,
    ) -> pyvrp.Solution | None:
        """The chosen routes as a feasible solution, improved by local search."""
        if chosen is None:
            return None
        kept = drop_repeats([routes[j] for j in chosen], route_cost=self.route_cost)
        if kept is None:
            return None
        plan = solution_of(self.data, ((r.vehicle_type, r.visits) for r in kept))
        return polished(self.data, plan, ls, pm)


