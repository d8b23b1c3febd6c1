"""Cost sharing among carriers: the Shapley value, the proportional rule, the core.

Pure arithmetic on a cost game: ``cost[S]`` is the daily cost of coalition ``S`` (a
frozenset of player indices ``0 … n-1``) serving its members' parcels on its own; the
empty coalition costs nothing. Nothing here solves a plan (:mod:`.designs` does).

- :func:`shapley_values` — each player's average marginal cost over every order in which
  the coalition could form (exact: all ``2**n`` coalitions, ``n`` ≤ :data:`MAX_PLAYERS`);
- :func:`proportional_shares` — the grand coalition's cost in proportion to a weight
  (parcels per day);
- :func:`core_check` — whether an allocation charges some coalition more than it would
  pay on its own, and the worst such excess.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: Most players the exact Shapley value is computed for (``2**n - 1`` coalitions solved).
MAX_PLAYERS = 5
#: Money below which a core excess counts as rounding (currency units per day).
CORE_TOL = 1e-6

CostGame = Mapping[frozenset[int], float]


def coalitions(n: int) -> list[frozenset[int]]:
    """Every non-empty coalition of ``n`` players, by size then members."""
    return [frozenset(c) for k in range(1, n + 1)
            for c in itertools.combinations(range(n), k)]


def _cost(game: CostGame, members: frozenset[int]) -> float:
    if not members:
        return 0.0
    return float(game[members])


def _check(game: CostGame, n: int) -> None:
    if not 1 <= n <= MAX_PLAYERS:
        raise ValueError(f"the exact Shapley value is computed for 1 to {MAX_PLAYERS} "
                         f"players (got {n})")
    missing = [sorted(c) for c in coalitions(n) if c not in game]
    if missing:
        raise ValueError(f"the cost game lacks coalition(s) {missing[:5]}")


def shapley_values(game: CostGame, n: int) -> np.ndarray:
    """Exact Shapley value of each player of a cost game.

    ``phi_i = sum over S not containing i of |S|! (n-|S|-1)! / n! * (c(S+i) - c(S))``.
    The values add up to the grand coalition's cost (efficiency).

    Parameters
    ----------
    game
        Cost of every non-empty coalition of ``range(n)``.
    n
        Number of players (1 to :data:`MAX_PLAYERS`).
    """
    _check(game, n)
    phi = np.zeros(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for k in range(n):
            weight = math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n)
            for rest in itertools.combinations(others, k):
                s = frozenset(rest)
                phi[i] += weight * (_cost(game, s | {i}) - _cost(game, s))
    return phi


def proportional_shares(total: float, weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """``total`` split in proportion to ``weights`` (e.g. each carrier's parcels)."""
    w = np.asarray(weights, dtype=float)
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError("proportional shares need non-negative weights with a positive sum")
    return total * w / w.sum()


@dataclass(frozen=True)
class CoreCheck:
    """Whether an allocation is in the core of a cost game.

    Attributes
    ----------
    in_core
        No coalition pays more than its stand-alone cost (within :data:`CORE_TOL`) and
        the allocation adds up to the grand coalition's cost.
    worst_coalition
        The coalition whose members pay most above their stand-alone cost (``None`` when
        none does).
    worst_excess
        That excess (currency units per day; 0 when in the core).
    budget_gap
        Allocation total minus the grand coalition's cost (0 for an efficient rule).
    """

    in_core: bool
    worst_coalition: frozenset[int] | None
    worst_excess: float
    budget_gap: float


def core_check(game: CostGame, allocation: Sequence[float] | np.ndarray) -> CoreCheck:
    """Compare what each coalition pays under ``allocation`` with its stand-alone cost.

    A coalition ``S`` would rather leave when ``sum of x_i over S > c(S)``; the
    grand coalition itself is checked for efficiency (``budget_gap``).
    """
    x = np.asarray(allocation, dtype=float)
    n = len(x)
    _check(game, n)
    grand = frozenset(range(n))
    worst: frozenset[int] | None = None
    worst_excess = 0.0
    for s in coalitions(n):
        if s == grand:
            continue
        excess = float(x[sorted(s)].sum()) - _cost(game, s)
        if excess > worst_excess + CORE_TOL:
            worst, worst_excess = s, excess
    gap = float(x.sum()) - _cost(game, grand)
    in_core = worst is None and abs(gap) <= CORE_TOL * max(1.0, abs(_cost(game, grand)))
    return CoreCheck(in_core=in_core, worst_coalition=worst, worst_excess=worst_excess,
                     budget_gap=gap)
