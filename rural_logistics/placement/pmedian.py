"""p-median: ``p`` sites minimising the weighted cost of serving every client.

Engine
------
1. **Incumbent**: greedy addition, then best-improvement vertex substitution evaluated for
   all (remove, add) pairs at once with the fast-interchange bookkeeping of Whitaker (1983)
   and Resende & Werneck (2003): ``delta(r, s) = loss(r) - gain(s) - extra(r, s)``, where
   ``extra`` is one sparse × dense product per move.
2. **Lagrangian bound** (only locked/excluded sites as side constraints): subgradient
   optimisation of the relaxation of the assignment rows (Beasley 1993) gives the LP
   bound, improves the incumbent from the relaxed solutions, and fixes sites that cannot
   be in a better solution. With integer objectives (bound within 1 of the incumbent
   proves it), a depth-first Lagrangian branch and bound on the sites
   (:func:`~rural_logistics.placement.lagrange.lagrangian_tree`) closes the gap.
3. **MIP proof** (side constraints, fractional objectives, or when the tree runs out of
   time), on the sites the Lagrangian test kept: the radius formulation of Elloumi
   (2010) — per client, one variable per distinct distance level,
   ``z_k >= z_{k-1} - sum(y_j : c_ij = D_k)`` — truncated at each client's incumbent
   distance. The truncated model is a relaxation (a client farther than its threshold is
   charged only the threshold), so its MIP optimum is a valid lower bound; if the chosen
   sites cost exactly that bound, they are optimal. Otherwise the thresholds of the
   under-charged clients are raised and the model is solved again.
   The MIP is solved by OR-Tools (HiGHS by default, SCIP on request).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from rural_logistics.errors import InfeasibleError
from rural_logistics.placement.lagrange import lagrangian_bound, lagrangian_tree
from rural_logistics.placement.result import (
    OPTIMALITY_TOL,
    PlacementResult,
    SiteRules,
    Status,
    check_rules,
    clients_text,
    nearest_open,
)
from rural_logistics.placement.site_model import MipOutcome, SiteModel

#: Share of the time limit the root Lagrangian bound may use.
LAGRANGE_SHARE = 0.25
#: Time (share of the limit, from the start) after which the Lagrangian branch and bound
#: hands over to the MIP.
TREE_SHARE = 0.8
#: Share of the time limit kept free at the end of the exact stage (the solver's overrun
#: past its own limit, and the assignment of the plan): pmed36 at 60 s ended at 60.35 s
#: without it.
MIP_RESERVE_SHARE = 0.02


def _second_cheapest(wc: np.ndarray) -> np.ndarray:
    """Each client's second-cheapest weighted cost (its cheapest if it has one site)."""
    finite = np.where(np.isfinite(wc), wc, np.nan)
    if wc.shape[1] < 2:
        return np.nan_to_num(finite[:, 0])
    two = np.sort(np.partition(np.nan_to_num(finite, nan=np.inf), 1, axis=1)[:, :2], axis=1)
    return np.where(np.isfinite(two[:, 1]), two[:, 1], two[:, 0])


def _round_up(value: float, integral: bool) -> float:
    """A lower bound rounded up to the next integer when every objective is an integer."""
    if integral and np.isfinite(value):
        return float(np.ceil(value - 1e-6))
    return float(value)


def p_median_objective(cost: np.ndarray, weights: np.ndarray, open_sites: np.ndarray) -> float:
    """Weighted cost of serving every client from its cheapest open site."""
    best = cost[:, np.asarray(open_sites, dtype=np.int64)].min(axis=1)
    mask = weights > 0
    return float(np.dot(weights[mask], best[mask]))


def assign_to_open(cost: np.ndarray, open_sites: np.ndarray) -> np.ndarray:
    """Index of the cheapest open site for every client (ties: lowest site index)."""
    return nearest_open(cost, open_sites)


def _greedy(
    c: np.ndarray, w: np.ndarray, p: int, locked: np.ndarray, allowed: np.ndarray
) -> list[int]:
    chosen = [int(s) for s in locked]
    big = np.inf
    best = c[:, chosen].min(axis=1) if chosen else np.full(c.shape[0], big)
    cand = np.flatnonzero(allowed)
    while len(chosen) < p:
        totals = w @ np.minimum(best[:, None], c[:, cand])
        totals[np.isin(cand, chosen)] = np.inf
        s = int(cand[int(np.argmin(totals))])
        chosen.append(s)
        best = np.minimum(best, c[:, s])
    return chosen


def _two_nearest(c_open: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of the nearest open site, its cost and the second-nearest cost."""
    n = c_open.shape[0]
    rows = np.arange(n)
    if c_open.shape[1] == 1:
        return np.zeros(n, dtype=np.int64), c_open[:, 0], np.full(n, np.inf)
    part = np.argpartition(c_open, 1, axis=1)[:, :2]
    a, b = part[:, 0], part[:, 1]
    ca, cb = c_open[rows, a], c_open[rows, b]
    swap = (cb < ca) | ((cb == ca) & (b < a))
    first = np.where(swap, b, a)
    d1 = np.minimum(ca, cb)
    d2 = np.maximum(ca, cb)
    return first, d1, d2


def local_search(
    c: np.ndarray,
    w: np.ndarray,
    open_sites: list[int],
    *,
    locked: np.ndarray,
    allowed: np.ndarray,
    deadline: float,
) -> list[int]:
    """Best-improvement vertex substitution (fast interchange) until no swap improves.

    Parameters
    ----------
    c
        ``(n_clients, n_sites)`` finite costs (unreachable pairs carry a large penalty).
    w
        Positive client weights.
    open_sites
        Starting solution.
    locked
        Sites that may not be swapped out.
    allowed
        Boolean mask of sites that may be swapped in.
    deadline
        ``time.perf_counter()`` value at which to stop.

    Returns
    -------
    list of int
        The improved open sites.
    """
    current = np.array(open_sites, dtype=np.int64)
    p = len(current)
    n = c.shape[0]
    if n == 0:  # no client with weight: every choice is as good
        return [int(s) for s in current]
    is_locked = np.isin(current, locked)
    big_second = float(c.max()) * 4 + 1
    while time.perf_counter() < deadline:
        first, d1, d2 = _two_nearest(c[:, current])
        d2 = np.where(np.isfinite(d2), d2, big_second)
        gain = w @ np.maximum(d1[:, None] - c, 0.0)
        loss = np.bincount(first, weights=w * (d2 - d1), minlength=p)
        contrib = w[:, None] * np.maximum(d2[:, None] - np.maximum(c, d1[:, None]), 0.0)
        onehot = sp.csr_matrix((np.ones(n), (first, np.arange(n))), shape=(p, n))
        extra = np.asarray(onehot @ contrib)
        delta = loss[:, None] - gain[None, :] - extra
        delta[is_locked, :] = np.inf
        closed = allowed.copy()
        closed[current] = False
        delta[:, ~closed] = np.inf
        flat = int(np.argmin(delta))
        r, s = divmod(flat, c.shape[1])
        if not delta[r, s] < -1e-9 * max(1.0, abs(float(w @ d1))):
            break
        current[r] = s
    return current.tolist()


def _levels(row: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Finite sites of one client sorted by cost, distinct cost levels, level start offsets."""
    sites = np.flatnonzero(np.isfinite(row))
    order = sites[np.argsort(row[sites], kind="stable")]
    vals = row[order]
    distinct, starts = np.unique(vals, return_index=True)
    return order, distinct, starts


def _solve_truncated(
    cost: np.ndarray,
    w: np.ndarray,
    clients: np.ndarray,
    thresholds: np.ndarray,
    *,
    p: int,
    rules: SiteRules,
    allowed: np.ndarray,
    hint: np.ndarray | None,
    deadline: float,
    engine: str,
) -> MipOutcome:
    """Solve the radius formulation truncated at ``thresholds`` (a relaxation).

    The solver gets what is left until ``deadline`` (``time.perf_counter()``) once the
    model is built (less the copy to the solver, see
    :meth:`rural_logistics.solvers.mip.Model.solve`).
    """
    m = SiteModel(engine)
    n_sites = cost.shape[1]
    y = m.add_site_vars(n_sites, allowed=allowed, locked=rules.locked)
    constant = 0.0
    for i, t in zip(clients, thresholds, strict=True):
        order, dist, starts = _levels(cost[i])
        wi = float(w[i])
        constant += wi * float(dist[0])
        n_levels = len(dist)
        # Keep z_k for levels k (0-based) with dist[k] < t; the last one kept is charged up
        # to dist[k + 1]. All levels kept (n_levels - 1 z's) adds the covering row.
        keep = int(np.searchsorted(dist, t, side="left"))
        full = keep >= n_levels - 1 or not np.isfinite(t)
        keep = n_levels - 1 if full else max(keep, 1)
        ends = np.append(starts[1:], len(order))
        prev = None
        for k in range(keep):
            z = m.add_var(0.0, 1.0, wi * float(dist[k + 1] - dist[k]))
            members = order[starts[k] : ends[k]]
            # z_k + sum(y in level k) >= z_{k-1}   (z_{-1} = 1)
            terms = [(z, 1.0)] + [(y[j], 1.0) for j in members]
            if prev is None:
                m.add_row(terms, lb=1.0)
            else:
                m.add_row([*terms, (prev, -1.0)], lb=0.0)
            prev = z
        if full:
            members = order[starts[keep] : ends[keep]]
            terms = [(y[j], 1.0) for j in members]
            if prev is None:
                m.add_row(terms, lb=1.0)
            else:
                m.add_row([*terms, (prev, -1.0)], lb=0.0)
    m.add_site_rules(y, rules, exact_count=p)
    m.set_offset(constant)
    if hint is not None:
        m.hint_sites(y, hint)
    return m.solve_sites(time_limit_s=max(0.05, deadline - time.perf_counter()), sites=y)


def solve_p_median(
    cost: np.ndarray,
    weights: np.ndarray,
    *,
    p: int,
    locked: np.ndarray | None = None,
    rules: SiteRules | None = None,
    time_limit_s: float = 30.0,
    exact: bool = True,
    engine: str = "HIGHS",
    client_names: Sequence[str] | None = None,
) -> PlacementResult:
    """Choose ``p`` sites minimising the weighted cost of serving every client.

    Parameters
    ----------
    cost
        ``(n_clients, n_sites)`` cost (e.g. travel minutes); ``inf`` where a site may not
        serve a client (unreachable, or beyond the maximum access distance).
    weights
        ``(n_clients,)`` non-negative weights (population or parcels).
    p
        Number of sites to open.
    locked
        Site indices that must be open (shortcut for ``rules.locked``).
    rules
        Further side constraints (excluded sites, opening-cost budget, per-township minimum).
    time_limit_s
        Wall-clock limit for the whole solve.
    exact
        Run the exact model after the heuristic to prove optimality.
    engine
        MIP solver of OR-Tools: ``HIGHS`` or ``SCIP``.
    client_names
        Names of the clients (village ids) for error messages.

    Returns
    -------
    PlacementResult

    Raises
    ------
    InfeasibleError
        If ``p`` exceeds the usable sites or is below the locked count, a client with
        weight has no allowed site, or the side constraints cannot all be met.
    """
    start = time.perf_counter()
    deadline = start + time_limit_s
    # The exact stage stops this much earlier, so that the last solver call's overrun
    # and the assignment after it still end within the limit.
    mip_deadline = deadline - MIP_RESERVE_SHARE * time_limit_s
    cost = np.asarray(cost, dtype=float)
    weights = np.asarray(weights, dtype=float)
    n_sites = cost.shape[1]
    rules = rules or SiteRules()
    if locked is not None:
        rules = SiteRules(
            **{**rules.__dict__, "locked": np.union1d(rules.locked, locked).astype(np.int64)}
        )
    check_rules(rules, n_sites, stations=p)
    allowed = np.ones(n_sites, dtype=bool)
    allowed[rules.excluded] = False
    c_all = np.where(allowed[None, :], cost, np.inf)
    clients = np.flatnonzero(weights > 0)
    stranded = clients[~np.isfinite(c_all[clients]).any(axis=1)]
    if len(stranded):
        raise InfeasibleError(
            f"{clients_text(stranded, client_names)} cannot reach any candidate site "
            "(within the allowed access)"
        )
    c = c_all[clients]
    w = weights[clients]
    finite_max = float(np.max(c[np.isfinite(c)])) if np.isfinite(c).any() else 1.0
    penalty = finite_max * 10 * max(1, len(clients)) + 1
    c_pen = np.where(np.isfinite(c), c, penalty)

    chosen = _greedy(c_pen, w, p, rules.locked, allowed)
    chosen = local_search(c_pen, w, chosen, locked=rules.locked, allowed=allowed, deadline=deadline)
    heur = np.sort(np.array(chosen, dtype=np.int64))
    best_open: np.ndarray | None = None
    best_value = np.inf
    if meets_rules(heur, rules) and np.isfinite(c[:, heur].min(axis=1)).all():
        best_open, best_value = heur, p_median_objective(c, w, heur)
    bound = -np.inf
    status: Status = "heuristic"
    integral = bool(
        np.all(w == np.round(w)) and np.all(c[np.isfinite(c)] == np.round(c[np.isfinite(c)]))
    )
    mip_rules, c_mip = rules, c_all
    proven = False
    if exact and best_open is not None and rules.is_plain():
        # Lagrangian bound; sites it fixes are left out of the MIP below.
        wc = w[:, None] * c
        slack = 1.0 - 1e-6 if integral else 1e-9 * max(1.0, abs(best_value))
        lag = lagrangian_bound(
            wc,
            p=p,
            locked=rules.locked,
            allowed=allowed,
            start_lam=_second_cheapest(wc),
            upper=best_value,
            slack=slack,
            deadline=start + LAGRANGE_SHARE * time_limit_s,
        )
        if lag.sites is not None:
            better = local_search(
                c_pen, w, lag.sites.tolist(), locked=rules.locked, allowed=allowed,
                deadline=deadline,
            )
            cand = np.sort(np.array(better, dtype=np.int64))
            value = p_median_objective(c, w, cand)
            if value < best_value:
                best_open, best_value = cand, value
        bound = _round_up(lag.bound, integral)
        proven = bound >= best_value - slack
        if not proven and integral:
            # Integer objectives: a Lagrangian branch and bound closes the rest (a bound
            # within 1 of the incumbent proves it); otherwise the exact MIP does.
            keep = allowed.copy()
            keep[lag.fixed_closed] = False
            tree = lagrangian_tree(
                wc,
                p=p,
                locked=np.union1d(rules.locked, lag.fixed_open).astype(np.int64),
                allowed=keep,
                lam=lag.lam,
                upper=best_value,
                slack=slack,
                deadline=start + TREE_SHARE * time_limit_s,
            )
            if tree.sites is not None:
                value = p_median_objective(c, w, tree.sites)
                if value < best_value:
                    best_open, best_value = tree.sites, value
            proven = tree.proven
            bound = max(bound, _round_up(tree.bound, integral))
        if not proven:
            mip_rules = SiteRules(
                **{
                    **rules.__dict__,
                    "locked": np.union1d(rules.locked, lag.fixed_open).astype(np.int64),
                    "excluded": np.union1d(rules.excluded, lag.fixed_closed).astype(np.int64),
                }
            )
            keep = np.ones(n_sites, dtype=bool)
            keep[mip_rules.excluded] = False
            c_mip = np.where(keep[None, :], c_all, np.inf)
    if exact and not proven:
        allowed_mip = np.ones(n_sites, dtype=bool)
        allowed_mip[mip_rules.excluded] = False
        thresholds = c_pen[:, heur].min(axis=1)
        thresholds = np.where(thresholds >= penalty, np.inf, thresholds)
        last_call_s = 0.0
        while True:
            remaining = mip_deadline - time.perf_counter()
            # A round builds its model before the solver's clock starts (in Python, a
            # row per level per village: tens of seconds at 3,000 villages); the next
            # model is larger, so a round that cannot get the last round's time would
            # end past the deadline.
            if remaining <= max(0.05, last_call_s):
                break
            called = time.perf_counter()
            out = _solve_truncated(
                c_mip,
                weights,
                clients,
                thresholds,
                p=p,
                rules=mip_rules,
                allowed=allowed_mip,
                hint=best_open,
                deadline=mip_deadline,
                engine=engine,
            )
            last_call_s = time.perf_counter() - called
            if out.infeasible:
                raise InfeasibleError(
                    f"no choice of {p} stations meets all placement side constraints together "
                    "(keep_existing, exclude_sites, max_opening_cost, min_stations_per_township, "
                    "max_access_km)"
                )
            bound = max(bound, _round_up(out.bound, integral))
            if out.sites is None:
                break
            cand = np.sort(out.sites)
            true_each = c[:, cand].min(axis=1)
            value = float(w @ true_each) if np.isfinite(true_each).all() else np.inf
            if value < best_value - 1e-9 * max(1.0, abs(value)):
                best_open, best_value = cand, value
            if best_open is not None and best_value - bound <= OPTIMALITY_TOL * max(
                1.0, abs(best_value)
            ):
                proven = True
                break
            if not out.optimal:
                break
            under = true_each > thresholds + 1e-12
            if not under.any():  # pragma: no cover - the relaxation priced it exactly
                break
            thresholds = np.where(under, np.maximum(true_each, thresholds), thresholds)
    if exact:
        status = "optimal" if proven else ("feasible" if best_open is not None else "heuristic")
    if best_open is None:
        raise InfeasibleError(
            f"no choice of {p} stations meeting the placement side constraints was found "
            f"within {time_limit_s:g} s"
        )
    if status == "optimal":
        bound = best_value
    elif status == "heuristic":
        bound = 0.0
    return PlacementResult(
        open_sites=best_open,
        assignment=nearest_open(c_all, best_open),
        objective=float(best_value),
        bound=float(bound),
        status=status,
        solve_seconds=time.perf_counter() - start,
        model="p_median",
    )


def meets_rules(open_sites: np.ndarray, rules: SiteRules) -> bool:
    if rules.max_stations is not None and len(open_sites) > rules.max_stations:
        return False
    if (
        rules.max_opening_cost is not None
        and rules.opening_cost is not None
        and float(rules.opening_cost[open_sites].sum()) > rules.max_opening_cost + 1e-9
    ):
        return False
    if rules.groups is not None and rules.min_per_group > 0:
        labels = np.asarray(rules.groups)
        for g in np.unique(labels[labels >= 0]):
            if int((labels[open_sites] == g).sum()) < rules.min_per_group:
                return False
    return True
