"""p-median on a reduced formulation: each village served by its k nearest sites only.

With ``c_i(k)`` the cost of village ``i``'s k-th cheapest allowed site, the *truncated*
costs ``c'_ij = min(c_ij, c_i(k))`` are never above the true ones, so the p-median
optimum under ``c'`` is a lower bound on the true optimum, and any lower bound the
solver proves for the truncated problem is a lower bound for the full one. Under ``c'``
every village has at most ``k`` distinct cost levels, which keeps the exact stage of
:func:`~rural_logistics.placement.pmedian.solve_p_median` (one variable per village and
level) small.

The truncated problem's sites are then priced with the **true** costs. If every village
with weight has an open site among its k nearest (no village is charged more than
``c_i(k)``), the true and truncated objectives are equal, and a proven truncated optimum
is a proven optimum of the full problem (the *certificate*). Otherwise the gap
``(true objective - truncated bound) / true objective`` is what is proven; while time is
left, ``k`` is doubled and the problem solved again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rural_logistics.placement.pmedian import (
    local_search,
    meets_rules,
    p_median_objective,
    solve_p_median,
)
from rural_logistics.placement.result import (
    OPTIMALITY_TOL,
    PlacementResult,
    SiteRules,
    nearest_open,
)

#: Default number of nearest sites per village in the reduced formulation.
DEFAULT_K = 10


@dataclass(frozen=True)
class ReducedCertificate:
    """What the reduced p-median proved.

    Attributes
    ----------
    k
        Nearest sites per village in the last reduced problem solved.
    villages_beyond_k
        Villages with weight whose nearest open site is not among their k nearest (the
        certificate holds when this is 0).
    objective
        True objective of the chosen sites (full cost matrix).
    bound
        Proven lower bound on the full problem's optimum (the truncated problem's bound).
    gap
        ``(objective - bound) / objective``.
    certified
        The chosen sites are proven optimal for the full problem.
    rounds
        ``(k, villages_beyond_k, objective, bound)`` per reduced problem solved.
    """

    k: int
    villages_beyond_k: int
    objective: float
    bound: float
    gap: float
    certified: bool
    rounds: tuple[tuple[int, int, float, float], ...]

    def text(self) -> str:
        """One line for the summary and the progress output."""
        what = ("proven optimal for the full problem" if self.certified
                else f"proven gap {self.gap:.3%} to the full problem's optimum")
        return (f"reduced p-median ({self.k} nearest sites per village): {what}; "
                f"{self.villages_beyond_k} village(s) served beyond their {self.k} nearest")


def kth_cost(cost: np.ndarray, k: int, allowed: np.ndarray) -> np.ndarray:
    """Per row, the k-th cheapest finite cost among the allowed columns (``inf`` if the row
    has fewer than k)."""
    c = np.where(allowed[None, :], cost, np.inf)
    if k >= c.shape[1]:
        return np.full(c.shape[0], np.inf)
    return np.partition(c, k - 1, axis=1)[:, k - 1]


def _true_cost_search(
    cost: np.ndarray,
    weights: np.ndarray,
    open_sites: np.ndarray,
    *,
    rules: SiteRules,
    allowed: np.ndarray,
    deadline: float,
) -> list[int]:
    """Fast-interchange swaps on the full costs from ``open_sites`` (the side rules of
    the p-median's heuristic: locked sites stay, excluded ones stay closed)."""
    clients = np.flatnonzero(weights > 0)
    c = cost[clients]
    finite = np.isfinite(c)
    penalty = (float(np.max(c[finite])) if finite.any() else 1.0) * 10 * max(1, len(clients)) + 1
    start = [int(s) for s in open_sites]
    improved = local_search(
        np.where(finite, c, penalty), weights[clients], start, locked=rules.locked,
        allowed=allowed, deadline=deadline,
    )
    if not meets_rules(np.asarray(improved, dtype=np.int64), rules):
        return start
    return improved


def solve_reduced_p_median(
    cost: np.ndarray,
    weights: np.ndarray,
    *,
    p: int,
    rules: SiteRules,
    time_limit_s: float,
    k: int = DEFAULT_K,
    grow: bool = True,
    client_names: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[PlacementResult, ReducedCertificate]:
    """The p-median on the k nearest sites per village, with its optimality certificate.

    Parameters
    ----------
    cost
        ``(n_villages, n_sites)`` cost, ``inf`` where a site may not serve a village.
    weights
        Village weights.
    p
        Sites to open.
    rules
        Side constraints (as for :func:`~rural_logistics.placement.pmedian.solve_p_median`).
    time_limit_s
        Wall-clock limit of all rounds.
    k
        Nearest sites per village in the first round (doubled while not certified and
        time is left).
    grow
        Double ``k`` while not certified (``False``: one round).
    client_names
        Village ids for error messages.
    progress
        Called with one line per round.

    Returns
    -------
    PlacementResult
        On the full cost matrix: objective the true cost, bound the proven lower bound,
        status ``optimal`` when certified.
    ReducedCertificate
    """
    start = time.perf_counter()
    cost = np.asarray(cost, dtype=float)
    weights = np.asarray(weights, dtype=float)
    n_sites = cost.shape[1]
    allowed = np.ones(n_sites, dtype=bool)
    allowed[np.asarray(rules.excluded, dtype=np.int64)] = False
    has_weight = weights > 0
    best: tuple[PlacementResult, ReducedCertificate] | None = None
    rounds: list[tuple[int, int, float, float]] = []
    k = max(1, int(k))
    while True:
        left = time_limit_s - (time.perf_counter() - start)
        kth = kth_cost(cost, k, allowed)
        truncated = np.minimum(cost, kth[:, None])
        reduced = solve_p_median(
            truncated, weights, p=p, rules=rules, time_limit_s=max(left, 0.05),
            client_names=client_names,
        )
        open_sites = np.asarray(reduced.open_sites, dtype=np.int64)
        nearest = cost[:, open_sites].min(axis=1)
        beyond = int(np.count_nonzero(has_weight & (nearest > kth)))
        # The certificate: the truncated optimum itself serves every village within its
        # k nearest, so its true cost is the truncated optimum, a lower bound.
        certified = beyond == 0 and reduced.is_optimal()
        truncated_beyond = beyond
        if beyond:
            # Priced with the true costs the sites may be improved: a swap search on them.
            open_sites = np.sort(np.asarray(_true_cost_search(
                cost, weights, open_sites, rules=rules, allowed=allowed,
                deadline=start + time_limit_s,
            ), dtype=np.int64))
            nearest = cost[:, open_sites].min(axis=1)
            beyond = int(np.count_nonzero(has_weight & (nearest > kth)))
        objective = p_median_objective(cost, weights, open_sites)
        bound = float(reduced.bound)
        gap = 0.0 if objective <= 0 else max(0.0, (objective - bound) / objective)
        # Sites changed by the swap search are proven optimal only if they meet the bound.
        certified = certified or gap <= OPTIMALITY_TOL
        rounds.append((k, beyond, objective, bound))
        if progress is not None:
            progress(f"k = {k}: objective {objective:,.1f}, bound {bound:,.1f}, "
                     f"{beyond} village(s) beyond their k nearest"
                     f"{', certified optimal' if certified else ''}")
        result = PlacementResult(
            open_sites=np.sort(open_sites),
            assignment=nearest_open(cost, open_sites),
            objective=objective,
            bound=bound,
            status="optimal" if certified or gap <= OPTIMALITY_TOL else "feasible",
            solve_seconds=time.perf_counter() - start,
            model="p_median",
        )
        cert = ReducedCertificate(
            k=k, villages_beyond_k=beyond, objective=objective, bound=bound,
            gap=0.0 if certified else gap, certified=certified, rounds=tuple(rounds),
        )
        if best is None or objective < best[0].objective or (
            bound > best[1].bound and objective <= best[0].objective
        ):
            best = (result, cert)
        # The best bound of any round is valid for the full problem.
        top_bound = max(r[3] for r in rounds)
        if top_bound > best[1].bound:
            res, c = best
            g = 0.0 if res.objective <= 0 else max(0.0, (res.objective - top_bound)
                                                      / res.objective)
            best = (
                PlacementResult(**{**res.__dict__, "bound": top_bound,
                                   "status": "optimal" if c.certified or g <= OPTIMALITY_TOL
                                   else "feasible"}),
                ReducedCertificate(**{**c.__dict__, "bound": top_bound,
                                      "gap": 0.0 if c.certified else g,
                                      "rounds": tuple(rounds)}),
            )
        elapsed = time.perf_counter() - start
        if (not grow or certified or truncated_beyond == 0 or k >= n_sites
                or elapsed > 0.5 * time_limit_s):
            break
        k = min(2 * k, n_sites)
    res, c = best
    cert = ReducedCertificate(**{**c.__dict__, "rounds": tuple(rounds)})
    return PlacementResult(**{**res.__dict__, "formulation": cert.text()}), cert
