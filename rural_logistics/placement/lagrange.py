"""Lagrangian lower bound and site fixing for the p-median (Beasley 1993).

Relaxing every client's assignment row ``sum_j x_ij = 1`` with a multiplier ``lam_i``
leaves, per site, ``rho_j = sum_i min(0, w_i c_ij - lam_i)``; the relaxed problem opens
the locked sites and the ``p - locked`` allowed sites of least ``rho`` and is worth
``L(lam) = sum_i lam_i + sum_{open} rho_j``, a lower bound on the p-median optimum for
every ``lam``. Subgradient optimisation raises it towards the LP bound. With the final
multipliers, a site whose forced opening (or closing) lifts the bound to the incumbent
value cannot be part of a better solution and is fixed closed (open).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

#: Subgradient steps without a better bound before the step size is halved.
STALL_STEPS = 40


@dataclass(frozen=True)
class LagrangeOutcome:
    """Result of :func:`lagrangian_bound`.

    Attributes
    ----------
    bound
        Best Lagrangian lower bound found.
    fixed_closed, fixed_open
        Site indices that no solution better than the incumbent can open / close.
    iterations
        Subgradient steps made.
    upper
        Best incumbent value: the given one, or that of ``sites`` if one of the relaxed
        solutions was better.
    sites
        The best relaxed solution when it beat the given incumbent (else ``None``).
    lam
        Multipliers of the best bound.
    """

    bound: float
    fixed_closed: np.ndarray
    fixed_open: np.ndarray
    iterations: int
    upper: float
    sites: np.ndarray | None
    lam: np.ndarray


def _relaxed(
    wc: np.ndarray,
    lam: np.ndarray,
    free: np.ndarray,
    locked: np.ndarray,
    k_free: int,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Value of ``L(lam)``, the ``rho`` vector and the open sites of the relaxed problem."""
    reduced = np.minimum(wc - lam[:, None], 0.0)
    rho = reduced.sum(axis=0)
    if k_free > 0:
        part = np.argpartition(rho[free], k_free - 1)[:k_free]
        chosen = np.concatenate([locked, free[part]])
    else:
        chosen = locked
    value = float(lam.sum() + rho[chosen].sum())
    return value, rho, chosen


def lagrangian_bound(
    wc: np.ndarray,
    *,
    p: int,
    locked: np.ndarray,
    allowed: np.ndarray,
    start_lam: np.ndarray,
    upper: float,
    slack: float,
    deadline: float,
    max_iterations: int = 3000,
) -> LagrangeOutcome:
    """Subgradient optimisation of the p-median Lagrangian bound.

    Parameters
    ----------
    wc
        ``(n_clients, n_sites)`` weighted costs ``w_i c_ij`` (``inf``: not allowed).
    p
        Sites to open.
    locked
        Sites that must be open.
    allowed
        Boolean mask of sites that may open.
    start_lam
        Starting multipliers (e.g. each client's weighted cost in the incumbent).
    upper
        Incumbent value (an upper bound). Every relaxed solution is evaluated and a
        better one becomes the incumbent.
    slack
        The incumbent is proven optimal once the bound reaches ``upper - slack`` (e.g.
        ``1 - 1e-6`` when every objective is an integer); sites are fixed when forcing
        them lifts the bound to it.
    deadline
        ``time.perf_counter()`` value at which to stop.
    max_iterations
        Cap on subgradient steps.

    Returns
    -------
    LagrangeOutcome
    """
    locked = np.asarray(locked, dtype=np.int64)
    free = np.flatnonzero(allowed & ~np.isin(np.arange(wc.shape[1]), locked))
    k_free = p - len(locked)
    lam = np.asarray(start_lam, dtype=float).copy()
    best = -np.inf
    best_lam = lam.copy()
    step_scale = 2.0
    stall = 0
    iterations = 0
    sites: np.ndarray | None = None
    while iterations < max_iterations and time.perf_counter() < deadline:
        iterations += 1
        value, rho, chosen = _relaxed(wc, lam, free, locked, k_free)
        primal = float(wc[:, chosen].min(axis=1).sum())
        if primal < upper - 1e-9 * max(1.0, abs(upper)):
            upper, sites = primal, np.sort(chosen)
        if not np.isfinite(best) or value > best + 1e-9 * max(1.0, abs(best)):
            best, best_lam, stall = value, lam.copy(), 0
        else:
            stall += 1
            if stall >= STALL_STEPS:
                step_scale /= 2
                stall = 0
                if step_scale < 1e-4:
                    break
        if best >= upper - slack:
            break
        served = (wc[:, chosen] - lam[:, None] < 0).sum(axis=1)
        grad = 1.0 - served
        norm = float(grad @ grad)
        if norm == 0:  # the relaxed solution is feasible: its value is optimal
            break
        lam = lam + step_scale * max(upper - value, 1e-9 * max(1.0, abs(upper))) / norm * grad
    value, rho, chosen = _relaxed(wc, best_lam, free, locked, k_free)
    cutoff = upper - slack
    closed = np.zeros(wc.shape[1], dtype=bool)
    opened = np.zeros(wc.shape[1], dtype=bool)
    if k_free > 0:
        order = free[np.argsort(rho[free], kind="stable")]
        last_in = rho[order[k_free - 1]]
        first_out = rho[order[k_free]] if k_free < len(order) else np.inf
        in_free = np.isin(free, chosen)
        for j in free[~in_free]:
            if value + rho[j] - last_in >= cutoff:
                closed[j] = True
        for j in free[in_free]:
            if value - rho[j] + first_out >= cutoff:
                opened[j] = True
    return LagrangeOutcome(
        bound=value,
        fixed_closed=np.flatnonzero(closed),
        fixed_open=np.flatnonzero(opened),
        iterations=iterations,
        upper=upper,
        sites=sites,
        lam=best_lam,
    )


@dataclass(frozen=True)
class TreeOutcome:
    """Result of :func:`lagrangian_tree`.

    Attributes
    ----------
    proven
        The search finished: ``upper`` is optimal (within ``slack``).
    bound
        Best proven lower bound (``upper`` when proven).
    upper
        Best value found.
    sites
        Open sites of ``upper`` when the search improved on the given incumbent.
    nodes
        Nodes explored.
    """

    proven: bool
    bound: float
    upper: float
    sites: np.ndarray | None
    nodes: int


def _node_bound(
    wc: np.ndarray,
    lam: np.ndarray,
    *,
    opened: np.ndarray,
    free: np.ndarray,
    k: int,
    upper: float,
    slack: float,
    iterations: int,
    step: float,
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, float, np.ndarray | None]:
    """Subgradient at one node: best bound, its multipliers and ``rho``, the relaxed
    choice, and the best primal value / sites met on the way."""
    best = -np.inf
    best_lam = lam
    best_rho = np.zeros(wc.shape[1])
    best_choice = opened
    primal_sites: np.ndarray | None = None
    stall = 0
    for _ in range(iterations):
        value, rho, chosen = _relaxed(wc, lam, free, opened, k)
        primal = float(wc[:, chosen].min(axis=1).sum())
        if primal < upper - 1e-9 * max(1.0, abs(upper)):
            upper, primal_sites = primal, np.sort(chosen)
        if value > best + 1e-9 * max(1.0, abs(best)) or not np.isfinite(best):
            best, best_lam, best_rho, best_choice, stall = value, lam, rho, chosen, 0
        else:
            stall += 1
            if stall >= 8:
                step /= 2
                stall = 0
                if step < 1e-3:
                    break
        if best >= upper - slack:
            break
        grad = 1.0 - (wc[:, chosen] - lam[:, None] < 0).sum(axis=1)
        norm = float(grad @ grad)
        if norm == 0:
            break
        lam = lam + step * max(upper - value, 1e-9 * max(1.0, abs(upper))) / norm * grad
    return best, best_lam, best_rho, best_choice, upper, primal_sites


def lagrangian_tree(
    wc: np.ndarray,
    *,
    p: int,
    locked: np.ndarray,
    allowed: np.ndarray,
    lam: np.ndarray,
    upper: float,
    slack: float,
    deadline: float,
    node_iterations: int = 60,
) -> TreeOutcome:
    """Depth-first branch and bound on the sites with Lagrangian bounds (Beasley 1985).

    Each node forces some sites open and some closed, raises the Lagrangian bound from
    its parent's multipliers, fixes further sites by the same test as the root, and
    branches on the relaxed solution's open free site with the largest ``rho``.

    Parameters
    ----------
    wc
        ``(n_clients, n_sites)`` weighted costs (``inf``: not allowed).
    p
        Sites to open.
    locked, allowed
        Sites open in every solution / that may open.
    lam
        Starting multipliers (the root's best).
    upper
        Incumbent value.
    slack
        Optimality tolerance (``1 - 1e-6`` for integer objectives).
    deadline
        ``time.perf_counter()`` value at which to stop.
    node_iterations
        Subgradient steps per node.

    Returns
    -------
    TreeOutcome
    """
    cols = np.flatnonzero(allowed)
    sub = wc[:, cols]
    m = len(cols)
    pos = {int(j): k for k, j in enumerate(cols)}
    root_open = np.zeros(m, dtype=bool)
    root_open[[pos[int(j)] for j in locked]] = True
    # Stack entries: (open mask, closed mask, multipliers, parent bound).
    stack: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]] = [
        (root_open, np.zeros(m, dtype=bool), np.asarray(lam, dtype=float), -np.inf)
    ]
    best_sites: np.ndarray | None = None
    nodes = 0
    while stack:
        if time.perf_counter() >= deadline:
            bound = min([upper, *(entry[3] for entry in stack)])
            return TreeOutcome(False, bound, upper, best_sites, nodes)
        opened, closed, node_lam, parent_bound = stack.pop()
        if parent_bound >= upper - slack:
            continue
        nodes += 1
        k = p - int(opened.sum())
        free = np.flatnonzero(~opened & ~closed)
        if k < 0 or len(free) < k:
            continue
        if k == 0 or len(free) == k:
            sites = np.flatnonzero(opened if k == 0 else opened | ~closed)
            value = float(sub[:, sites].min(axis=1).sum())
            if value < upper - 1e-9 * max(1.0, abs(upper)):
                upper, best_sites = value, np.sort(cols[sites])
            continue
        value, lam_b, rho, chosen, new_upper, primal = _node_bound(
            sub,
            node_lam,
            opened=np.flatnonzero(opened),
            free=free,
            k=k,
            upper=upper,
            slack=slack,
            iterations=node_iterations,
            step=1.0 if nodes > 1 else 2.0,
        )
        if primal is not None:
            upper, best_sites = new_upper, np.sort(cols[primal])
        if value >= upper - slack:
            continue
        # Fix sites within this subtree.
        in_choice = np.zeros(m, dtype=bool)
        in_choice[chosen] = True
        free_in = free[in_choice[free]]
        free_out = free[~in_choice[free]]
        if k > 0:
            last_in = float(rho[free_in].max()) if len(free_in) else -np.inf
            first_out = float(rho[free_out].min()) if len(free_out) else np.inf
            cutoff = upper - slack
            closed = closed.copy()
            opened = opened.copy()
            closed[free_out[value + rho[free_out] - last_in >= cutoff]] = True
            opened[free_in[value - rho[free_in] + first_out >= cutoff]] = True
        candidates = np.flatnonzero(in_choice & ~opened & ~closed)
        if len(candidates) == 0:
            # Every chosen free site was fixed open: solve the node again with them.
            stack.append((opened, closed, lam_b, value))
            continue
        j = candidates[int(np.argmax(rho[candidates]))]
        shut = closed.copy()
        shut[j] = True
        keep = opened.copy()
        keep[j] = True
        stack.append((opened, shut, lam_b, value))
        stack.append((keep, closed, lam_b, value))
    return TreeOutcome(True, upper, upper, best_sites, nodes)
