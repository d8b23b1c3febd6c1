"""Settings of a PyVRP run: the run's options, route-pool recombination, the budget."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rural_logistics.routing.route_pool import (
    PoolRoute,
)


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
    backoff_after
        After ``k >= backoff_after`` MIPs in a row stopped by their limit without a
        better plan, skip the next ``2**(k - backoff_after + 1) - 1`` checkpoints (a
        plan found or a MIP proven starts over); ``None``: every checkpoint. On
        X-n200-k36 at 30 s none of a run's nine MIPs (0.7 s each) found a better plan:
        6.3 s of search lost.
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
    backoff_after: int | None = 1


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


