"""Multi-source capacitated facility location: Lagrangian bound and branch and bound.

Relaxing every client's demand row ``sum_j x_ij = 1`` with a multiplier ``lam_i``
(Beasley 1988, "An algorithm for solving large capacitated warehouse location problems";
Görtz & Klose 2012) splits the problem by site: site ``j`` is worth
``v_j = f_j + min {sum_i (c_ij - lam_i) x_ij : sum_i d_i x_ij <= s_j, 0 <= x_ij <= 1}``, a
continuous knapsack solved greedily, and the sites to open solve
``min sum_j v_j y_j`` subject to the aggregate capacity ``sum_j s_j y_j >= D`` (exact for
equal capacities, its LP relaxation otherwise). ``L(lam) = sum_i lam_i + that minimum`` is a
lower bound for every ``lam``; subgradient steps raise it. Every open set the relaxation
proposes is priced exactly by the transportation LP (HiGHS through SciPy), which gives
the incumbent. A depth-first branch and bound on the sites closes the gap: at each node
the bound is re-optimised from the parent's multipliers, sites whose forced opening
(closing) lifts it to the incumbent are fixed closed (open) for the subtree, and the
branching site is the one whose two forced bounds are highest.

Arrays only: ``c`` is the ``(n_clients, n_sites)`` cost of serving all of a client's
demand from a site (``inf`` where not allowed).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.graph.python import min_cost_flow
from scipy.optimize import linprog

#: Subgradient steps without a better bound before the step size is halved.
STALL_STEPS = 25
#: Relative slack under which the bound counts as meeting the incumbent.
PROOF_TOL = 1e-9


@dataclass(frozen=True)
class CflSolution:
    """Best plan found and the proof state.

    Attributes
    ----------
    open_sites
        Sorted site indices.
    pairs
        ``(k, 2)`` (client, site) rows of the split assignment.
    shares
        ``(k,)`` share of the client's demand on each pair, in (0, 1].
    objective
        Opening plus assignment cost of the plan.
    bound
        Proven lower bound on the optimum.
    proven
        The search finished: ``objective`` is optimal (within :data:`PROOF_TOL`).
    nodes
        Branch-and-bound nodes explored.
    """

    open_sites: np.ndarray
    pairs: np.ndarray
    shares: np.ndarray
    objective: float
    bound: float
    proven: bool
    nodes: int


def cover(
    v: np.ndarray, s: np.ndarray, need: float, must: np.ndarray, free: np.ndarray
) -> tuple[float, np.ndarray]:
    """``min sum v_j y_j`` s.t. ``sum s_j y_j >= need``, ``must`` open, only ``free`` optional.

    Exact when the optional sites' capacities are equal, otherwise the LP relaxation (a
    lower bound); the returned open set always has the capacity.

    Returns
    -------
    value, y
        The (lower bound on the) minimum and a boolean open mask that meets ``need``.
    """
    y = must.copy()
    y[free & (v < 0)] = True
    value = float(v[y].sum())
    short = need - float(s[y].sum())
    if short <= 1e-9 * max(1.0, need):
        return value, y
    rest = np.flatnonzero(free & ~y)
    if len(rest) == 0:
        return np.inf, y
    cap = s[rest]
    equal = bool(np.all(cap == cap[0]))
    order = rest[np.argsort(v[rest] if equal else v[rest] / cap, kind="stable")]
    cum = np.cumsum(s[order])
    k = int(np.searchsorted(cum, short - 1e-9 * max(1.0, need))) + 1
    if k > len(order):
        return np.inf, y
    take = order[:k]
    y[take] = True
    if equal:
        return value + float(v[take].sum()), y
    before = float(cum[k - 2]) if k >= 2 else 0.0
    part = (short - before) / float(s[take[-1]])
    return value + float(v[take[:-1]].sum()) + part * float(v[take[-1]]), y


class _Relaxation:
    """The per-site continuous knapsacks over the clients with demand."""

    def __init__(self, c: np.ndarray, d: np.ndarray, f: np.ndarray, s: np.ndarray) -> None:
        self.cT = np.ascontiguousarray(c.T)
        self.d = d
        self.f = f
        self.s = s
        self.n_clients = c.shape[0]

    def site_values(self, lam: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, tuple]:
        """``v_j`` of the ``active`` sites (``inf`` elsewhere) and the knapsack fillings."""
        n = self.n_clients
        reduced = self.cT[active] - lam[None, :]
        flat = np.flatnonzero(reduced < 0)
        row, client = np.divmod(flat, n)
        r = reduced.ravel()[flat]
        dem = self.d[client]
        ratio = r / dem
        # One sort by (site, ratio): the sites' blocks of keys are disjoint.
        span = 2.0 * float(-ratio.min()) + 1.0 if len(ratio) else 1.0
        order = np.argsort(row * span + ratio, kind="stable")
        row, client, r, dem = row[order], client[order], r[order], dem[order]
        counts = np.bincount(row, minlength=len(active))
        start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        cum = np.cumsum(dem)
        # Demand already packed before each item within its site's run.
        before = cum - dem
        before = before - before[np.repeat(start, counts)]
        site = active[row]
        frac = np.clip((self.s[site] - before) / dem, 0.0, 1.0)
        v = np.full(len(self.f), np.inf)
        v[active] = self.f[active] + np.bincount(row, weights=r * frac, minlength=len(active))
        return v, (site, client, frac)


def transport(
    c: np.ndarray, d: np.ndarray, s: np.ndarray, sites: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """Cheapest split assignment of every client to the open ``sites``.

    With integral demands and capacities this is a min-cost flow (OR-Tools, per-unit
    costs scaled to integers; its flow is integral and the cost is recomputed exactly);
    otherwise the transportation LP (HiGHS through SciPy).

    Returns
    -------
    (cost, pairs, shares) or None
        Assignment cost (without opening costs), the used (client, site) pairs and their
        shares; ``None`` when the sites cannot serve every client.
    """
    sub = c[:, sites]
    finite = np.isfinite(sub)
    if not finite.any(axis=1).all():
        return None
    total = float(d.sum())
    if float(s[sites].min()) >= total:  # uncapacitated: the nearest open site
        near = np.argmin(sub, axis=1)
        rows = np.arange(c.shape[0])
        pairs = np.column_stack([rows, sites[near]]).astype(np.int64)
        return float(sub[rows, near].sum()), pairs, np.ones(c.shape[0])
    ci, cj = np.nonzero(finite)
    cap = np.minimum(s[sites], total)
    integral = bool(np.all(d == np.round(d)) and np.all(cap == np.round(cap)) and total < 2**40)
    x = _flow_shares(sub, d, cap, ci, cj) if integral else _lp_shares(sub, d, cap, ci, cj)
    if x is None:
        return None
    used = x > 1e-9
    pairs = np.column_stack([ci[used], sites[cj[used]]]).astype(np.int64)
    return float(sub[ci, cj] @ x), pairs, x[used]


def _flow_shares(
    sub: np.ndarray, d: np.ndarray, cap: np.ndarray, ci: np.ndarray, cj: np.ndarray
) -> np.ndarray | None:
    """Shares from an integral min-cost flow: sites -> clients, spare capacity to a sink."""
    n, k = sub.shape
    unit = sub[ci, cj] / d[ci]
    top = float(np.abs(unit).max()) if len(unit) else 1.0
    scale = 1e12 / max(top, 1e-300)
    flow = min_cost_flow.SimpleMinCostFlow()
    spare = round(float(cap.sum()) - float(d.sum()))
    sink = k + n
    tails = np.concatenate([cj, np.arange(k)]).astype(np.int64)
    heads = np.concatenate([k + ci, np.full(k, sink)]).astype(np.int64)
    arc_caps = np.concatenate([d[ci], cap]).astype(np.int64)
    costs = np.concatenate([np.round(unit * scale), np.zeros(k)]).astype(np.int64)
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, arc_caps, costs)
    supplies = np.concatenate([cap, -d, [spare]]).astype(np.int64)
    supplies[-1] = -spare
    flow.set_nodes_supplies(np.arange(k + n + 1, dtype=np.int64), supplies)
    if flow.solve() != flow.OPTIMAL:
        return None
    return flow.flows(np.arange(len(ci), dtype=np.int64)) / d[ci]


def _lp_shares(
    sub: np.ndarray, d: np.ndarray, cap: np.ndarray, ci: np.ndarray, cj: np.ndarray
) -> np.ndarray | None:
    """Shares from the transportation LP."""
    n, k = sub.shape
    cols = np.arange(len(ci))
    a_eq = sp.csr_matrix((np.ones(len(ci)), (ci, cols)), shape=(n, len(ci)))
    a_ub = sp.csr_matrix((d[ci], (cj, cols)), shape=(k, len(ci)))
    res = linprog(
        sub[ci, cj],
        A_ub=a_ub,
        b_ub=cap,
        A_eq=a_eq,
        b_eq=np.ones(n),
        bounds=(0.0, 1.0),
        method="highs",
    )
    if res.status != 0:
        return None
    return np.clip(res.x, 0.0, 1.0)


class _Search:
    """State shared by the nodes: incumbent, cache of priced open sets, clock."""

    def __init__(
        self,
        c: np.ndarray,
        d: np.ndarray,
        f: np.ndarray,
        s: np.ndarray,
        deadline: float,
    ) -> None:
        self.c, self.d, self.f, self.s = c, d, f, s
        self.need = float(d.sum())
        self.relax = _Relaxation(c, d, f, s)
        self.deadline = deadline
        self.upper = np.inf
        self.best: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.priced: set[bytes] = set()
        self.lp_calls = 0
        self.home = np.argmin(c, axis=1)

    def cutoff(self) -> float:
        if not np.isfinite(self.upper):
            return np.inf
        return self.upper - PROOF_TOL * 0.5 * max(1.0, abs(self.upper))

    def price(self, y: np.ndarray) -> None:
        """Evaluate an open set exactly; keep it if it beats the incumbent.

        A client no open site may serve gets its cheapest allowed site added first.
        """
        lost = ~np.isfinite(self.c[:, y]).any(axis=1)
        if lost.any():
            y = y.copy()
            y[self.home[lost]] = True
        key = np.packbits(y).tobytes()
        if key in self.priced or float(self.s[y].sum()) < self.need - 1e-9:
            return
        self.priced.add(key)
        sites = np.flatnonzero(y)
        fixed = float(self.f[sites].sum())
        # Uncapacitated assignment: a lower bound on what this open set costs.
        if fixed + float(self.c[:, sites].min(axis=1).sum()) >= self.upper:
            return
        self.lp_calls += 1
        out = transport(self.c, self.d, self.s, sites)
        better = not np.isfinite(self.upper) or (
            fixed + out[0] < self.upper - 1e-12 * max(1.0, abs(self.upper)) if out else False
        )
        if out is not None and better:
            self.upper = fixed + out[0]
            self.best = (sites, out[1], out[2])

    def evaluate(
        self, lam: np.ndarray, must: np.ndarray, free: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray, tuple]:
        """``L(lam)`` at a node, the site values, the relaxed open set and the fillings."""
        active = np.flatnonzero(must | free)
        v, fill = self.relax.site_values(lam, active)
        value, y = cover(v, self.s, self.need, must, free)
        return float(lam.sum()) + value, v, y, fill

    def ascent(
        self,
        lam: np.ndarray,
        must: np.ndarray,
        free: np.ndarray,
        *,
        iterations: int,
        step: float,
    ) -> tuple[float, np.ndarray]:
        """Subgradient optimisation at a node: best bound and its multipliers."""
        best, best_lam = -np.inf, lam
        stall = 0
        for _ in range(iterations):
            if time.perf_counter() > self.deadline:
                break
            value, _v, y, (site, client, frac) = self.evaluate(lam, must, free)
            if not np.isfinite(value):
                return np.inf, lam
            self.price(y)
            if value > best + 1e-12 * max(1.0, abs(value)):
                best, best_lam, stall = value, lam, 0
            else:
                stall += 1
                if stall >= STALL_STEPS:
                    step, stall = step / 2, 0
                    if step < 5e-4:
                        break
            if best >= self.cutoff():
                break
            served = np.bincount(client[y[site]], weights=frac[y[site]], minlength=len(lam))
            grad = 1.0 - served
            norm = float(grad @ grad)
            if norm < 1e-12:  # the relaxed solution is feasible: exact at this node
                break
            target = self.upper if np.isfinite(self.upper) else abs(value) * 1.05 + 1.0
            lam = lam + step * max(target - value, 1e-9 * max(1.0, abs(target))) / norm * grad
        return best, best_lam

    def forced(
        self, lam: np.ndarray, must: np.ndarray, free: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """Bound at ``lam`` plus, per free site, the bound with it forced open / closed."""
        value, v, y, _fill = self.evaluate(lam, must, free)
        base = float(lam.sum())
        up = np.full(len(v), -np.inf)
        down = np.full(len(v), -np.inf)
        for j in np.flatnonzero(free):
            f2 = free.copy()
            f2[j] = False
            if y[j]:
                up[j] = value
                down[j] = base + cover(v, self.s, self.need, must, f2)[0]
            else:
                m2 = must.copy()
                m2[j] = True
                up[j] = base + cover(v, self.s, self.need, m2, f2)[0]
                down[j] = value
        return value, y, up, down


def solve_cfl(
    c: np.ndarray,
    d: np.ndarray,
    f: np.ndarray,
    s: np.ndarray,
    *,
    locked: np.ndarray,
    allowed: np.ndarray,
    time_limit_s: float,
    root_iterations: int = 3000,
    node_iterations: int = 150,
) -> CflSolution | None:
    """Multi-source capacitated facility location by Lagrangian branch and bound.

    Parameters
    ----------
    c
        ``(n_clients, n_sites)`` cost of serving all of a client's demand from a site
        (``inf`` where not allowed); every client must have positive demand.
    d, f, s
        Demands, opening costs and capacities.
    locked, allowed
        Sites that must be open (indices) / may be open (boolean mask).
    time_limit_s
        Wall-clock limit.
    root_iterations, node_iterations
        Subgradient steps at the root / at every other node.

    Returns
    -------
    CflSolution or None
        ``None`` when no plan was found within the time limit (or none exists).
    """
    start = time.perf_counter()
    search = _Search(c, d, f, s, start + time_limit_s)
    n_sites = c.shape[1]
    must0 = np.zeros(n_sites, dtype=bool)
    must0[np.asarray(locked, dtype=np.int64)] = True
    free0 = np.asarray(allowed, dtype=bool) & ~must0
    finite = np.where(np.isfinite(c), c, np.nan)
    lam0 = np.nan_to_num(np.nanpercentile(finite, 5, axis=1), nan=0.0)
    # Each entry: must, free, starting multipliers, the parent's bound, step size.
    stack: list[tuple[np.ndarray, np.ndarray, np.ndarray, float, float]] = [
        (must0, free0, lam0, -np.inf, 2.0)
    ]
    search.home = np.argmin(np.where(free0 | must0, c, np.inf), axis=1)
    search.price(free0 | must0)  # everything open: a first plan
    nodes = 0
    lowest_open = np.inf  # lowest bound of a node abandoned at the clock
    while stack:
        must, free, lam, parent, step = stack.pop()
        if parent >= search.cutoff():
            continue
        if time.perf_counter() > search.deadline:
            lowest_open = min(lowest_open, parent)
            stack.append((must, free, lam, parent, step))
            break
        nodes += 1
        best, lam = search.ascent(
            lam,
            must,
            free,
            iterations=root_iterations if nodes == 1 else node_iterations,
            step=step,
        )
        best = max(best, parent)
        if best >= search.cutoff():
            continue
        if time.perf_counter() > search.deadline:
            lowest_open = min(lowest_open, best)
            break
        value, y, up, down = search.forced(lam, must, free)
        cut = search.cutoff()
        close = free & (up >= cut)
        force = free & (down >= cut)
        if (close & force).any():  # neither state of some site beats the incumbent
            continue
        free = free & ~close & ~force
        must = must | force
        if close.any() or force.any():
            value, y, up, down = search.forced(lam, must, free)
            search.price(y)
            if value >= search.cutoff():
                continue
        if not free.any():
            search.price(must)
            continue
        score = np.where(free, np.minimum(up, down), -np.inf)
        j = int(np.argmax(score))
        open_first = bool(y[j])
        f2 = free.copy()
        f2[j] = False
        m2 = must.copy()
        m2[j] = True
        node_bound = max(best, value)
        children = [
            (m2, f2, lam, max(node_bound, up[j]), 0.5),
            (must, f2, lam, max(node_bound, down[j]), 0.5),
        ]
        if open_first:
            children.reverse()
        stack.extend(children)
    if search.best is None:
        return None
    pending = [entry[3] for entry in stack]
    bound = min([search.upper, lowest_open, *pending])
    proven = not stack and lowest_open == np.inf
    if proven:  # every pruned node's bound reached the (final, lowest) cutoff
        bound = search.cutoff()
    sites, pairs, shares = search.best
    return CflSolution(
        open_sites=np.sort(sites),
        pairs=pairs,
        shares=shares,
        objective=search.upper,
        bound=float(bound),
        proven=proven,
        nodes=nodes,
    )
