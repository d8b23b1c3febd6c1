"""Maximal coverage, set cover and capacitated fixed-charge facility location.

Each model is a compact MIP solved by OR-Tools (HiGHS by default): site binaries ``y_j``,
the side constraints of :class:`SiteRules`, and the model's own rows. ``inf`` in a cost
matrix means the site may not serve the client (unreachable or beyond the maximum access
distance); a client with weight then needs at least one allowed open site.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from rural_logistics.errors import InfeasibleError
from rural_logistics.placement.cfl_lagrange import solve_cfl
from rural_logistics.placement.pmedian import solve_p_median
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
from rural_logistics.solvers.mip import solve_sparse

#: Multi-source fixed charge with at least this many (client, site) pairs and no side
#: constraints but locked/excluded sites goes to the Lagrangian branch and bound.
LAGRANGIAN_MIN_PAIRS = 20_000

SIDE_CONSTRAINTS = (
    "keep_existing, exclude_sites, max_stations, max_opening_cost, "
    "min_stations_per_township, max_access_km"
)


def _allowed(rules: SiteRules, n_sites: int) -> np.ndarray:
    allowed = np.ones(n_sites, dtype=bool)
    allowed[rules.excluded] = False
    return allowed


def _stranded(cost: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.flatnonzero((weights > 0) & ~np.isfinite(cost).any(axis=1))


def _access_rows(m: SiteModel, y: list, cost: np.ndarray, weights: np.ndarray) -> None:
    """Every client with weight needs an allowed open site (only where not all are)."""
    finite = np.isfinite(cost)
    for i in np.flatnonzero((weights > 0) & ~finite.all(axis=1)):
        m.add_row([(y[j], 1.0) for j in np.flatnonzero(finite[i])], lb=1.0)


def _status(out: MipOutcome, objective: float) -> Status:
    if out.optimal or abs(objective - out.bound) <= OPTIMALITY_TOL * max(1.0, abs(objective)):
        return "optimal"
    return "feasible"


def _no_plan(
    model: str, out: MipOutcome, time_limit_s: float, *, capacitated: bool = False
) -> InfeasibleError:
    if out.infeasible:
        what = SIDE_CONSTRAINTS + (", capacity_parcels_per_day" if capacitated else "")
        return InfeasibleError(
            f"placement.method = {model}: no set of stations meets all side constraints "
            f"together ({what})"
        )
    return InfeasibleError(
        f"placement.method = {model}: no feasible plan found within {time_limit_s:g} s "
        "(raise solver.time_limit_s)"
    )


def solve_max_coverage(
    cost: np.ndarray,
    covers: np.ndarray,
    weights: np.ndarray,
    *,
    k: int,
    rules: SiteRules | None = None,
    time_limit_s: float = 30.0,
    engine: str = "HIGHS",
    client_names: Sequence[str] | None = None,
) -> PlacementResult:
    """Open ``k`` sites maximising the weight of clients within the radius of one of them.

    Parameters
    ----------
    cost
        ``(n_clients, n_sites)`` cost used to assign clients (nearest open site); ``inf``
        where a site may not serve the client.
    covers
        ``(n_clients, n_sites)`` boolean: the site is within the radius of the client.
    weights
        ``(n_clients,)`` non-negative weights.
    k
        Number of sites to open.
    rules
        Side constraints.
    time_limit_s
        Wall-clock limit.
    engine
        ``HIGHS`` or ``SCIP``.
    client_names
        Names of the clients (village ids) for error messages.

    Returns
    -------
    PlacementResult
        ``objective`` = covered weight (maximised), ``uncovered`` = clients with weight not
        covered.

    Raises
    ------
    InfeasibleError
        For impossible requests (``k`` too large or below the locked count, contradictory
        side constraints, a client with weight that no allowed site may serve).
    """
    start = time.perf_counter()
    cost = np.asarray(cost, dtype=float)
    weights = np.asarray(weights, dtype=float)
    rules = rules or SiteRules()
    n_sites = cost.shape[1]
    check_rules(rules, n_sites, stations=k)
    allowed = _allowed(rules, n_sites)
    cost = np.where(allowed[None, :], cost, np.inf)
    cov = np.asarray(covers, dtype=bool) & np.isfinite(cost)
    stranded = _stranded(cost, weights)
    if len(stranded):
        raise InfeasibleError(
            f"{clients_text(stranded, client_names)} cannot reach any allowed candidate site"
        )
    m = SiteModel(engine, maximize=True)
    y = m.add_site_vars(n_sites, allowed=allowed, locked=rules.locked)
    for i in np.flatnonzero((weights > 0) & cov.any(axis=1)):
        u = m.add_var(0.0, 1.0, float(weights[i]))
        m.add_row([(u, 1.0)] + [(y[j], -1.0) for j in np.flatnonzero(cov[i])], ub=0.0)
    _access_rows(m, y, cost, weights)
    m.add_site_rules(y, rules, exact_count=k)
    left_s = max(0.05, time_limit_s - (time.perf_counter() - start))
    out = m.solve_sites(time_limit_s=left_s, sites=y)
    if out.sites is None:
        raise _no_plan("max_coverage", out, time_limit_s)
    open_sites = out.sites
    hit = cov[:, open_sites].any(axis=1)
    objective = float(weights[hit].sum())
    return PlacementResult(
        open_sites=open_sites,
        assignment=nearest_open(cost, open_sites),
        objective=objective,
        bound=max(objective, out.bound),
        status=_status(out, objective),
        solve_seconds=time.perf_counter() - start,
        model="max_coverage",
        sense="max",
        uncovered=np.flatnonzero((weights > 0) & ~hit),
    )


def solve_set_cover(
    cost: np.ndarray,
    covers: np.ndarray,
    weights: np.ndarray,
    *,
    rules: SiteRules | None = None,
    time_limit_s: float = 30.0,
    engine: str = "HIGHS",
    client_names: Sequence[str] | None = None,
) -> PlacementResult:
    """Fewest sites such that every client with weight is within the radius of one.

    Among the plans with that fewest number, a second stage picks the one with the least
    weighted ``cost`` (a p-median restricted to covering sites).

    Parameters
    ----------
    cost
        ``(n_clients, n_sites)`` assignment cost; ``inf`` where a site may not serve.
    covers
        ``(n_clients, n_sites)`` boolean: the site is within the radius of the client.
    weights
        ``(n_clients,)`` non-negative weights; clients with weight 0 need no cover.
    rules
        Side constraints.
    time_limit_s
        Wall-clock limit for both stages.
    engine
        ``HIGHS`` or ``SCIP``.
    client_names
        Names of the clients (village ids) for error messages.

    Returns
    -------
    PlacementResult
        ``objective`` = number of open sites.

    Raises
    ------
    InfeasibleError
        Listing the clients with weight that no allowed site covers, or naming the side
        constraints that cannot be met together.
    """
    start = time.perf_counter()
    cost = np.asarray(cost, dtype=float)
    weights = np.asarray(weights, dtype=float)
    rules = rules or SiteRules()
    n_sites = cost.shape[1]
    check_rules(rules, n_sites)
    allowed = _allowed(rules, n_sites)
    cov = np.asarray(covers, dtype=bool) & np.isfinite(cost) & allowed[None, :]
    need = weights > 0
    lost = np.flatnonzero(need & ~cov.any(axis=1))
    if len(lost):
        raise InfeasibleError(
            "placement.radius_km: no allowed candidate site lies within the radius of "
            f"{len(lost)} with demand: {clients_text(lost, client_names)}"
        )
    m = SiteModel(engine)
    y = m.add_site_vars(n_sites, allowed=allowed, locked=rules.locked, obj=np.ones(n_sites))
    rows = {tuple(np.flatnonzero(cov[i])) for i in np.flatnonzero(need)}
    for members in sorted(rows):
        m.add_row([(y[j], 1.0) for j in members], lb=1.0)
    m.add_site_rules(y, rules)
    left_s = max(0.05, time_limit_s - (time.perf_counter() - start))
    out = m.solve_sites(time_limit_s=left_s, sites=y)
    if out.sites is None:
        raise _no_plan("set_cover", out, time_limit_s)
    count = len(out.sites)
    status = _status(out, float(count))
    bound = float(np.ceil(out.bound - 1e-6)) if np.isfinite(out.bound) else 0.0
    open_sites = out.sites
    remaining = time_limit_s - (time.perf_counter() - start)
    if remaining > 0.1:
        # Second stage: the same number of stations, least weighted access cost.
        restricted = np.where(cov, cost, np.inf)
        stage2 = solve_p_median(
            restricted, weights, p=count, rules=rules, time_limit_s=remaining, engine=engine
        )
        open_sites = stage2.open_sites
    assignment = nearest_open(np.where(cov, cost, np.inf), open_sites)
    free = (assignment < 0) & ~need
    assignment[free] = nearest_open(cost, open_sites)[free]
    return PlacementResult(
        open_sites=open_sites,
        assignment=assignment,
        objective=float(count),
        bound=min(bound, float(count)),
        status=status,
        solve_seconds=time.perf_counter() - start,
        model="set_cover",
    )


def solve_fixed_charge(
    assign_cost: np.ndarray,
    demand: np.ndarray,
    opening_cost: np.ndarray,
    *,
    capacity: np.ndarray | None = None,
    single_source: bool = False,
    rules: SiteRules | None = None,
    nearest_cost: np.ndarray | None = None,
    time_limit_s: float = 30.0,
    engine: str = "HIGHS",
    client_names: Sequence[str] | None = None,
    lagrangian: bool | None = None,
) -> PlacementResult:
    """Capacitated fixed-charge facility location.

    Minimise ``sum(opening_cost[j] × y_j) + sum(assign_cost[i, j] × x_ij)`` where ``x_ij``
    is the share of client ``i``'s demand served by site ``j`` (``single_source``: 0 or 1),
    every client with demand is fully served, ``x_ij <= y_j`` and
    ``sum_i demand_i × x_ij <= capacity_j × y_j``.

    Parameters
    ----------
    assign_cost
        ``(n_clients, n_sites)`` cost of serving all of a client's demand from a site
        (e.g. ``parcels × km × cost_per_parcel_km``); ``inf`` where not allowed.
    demand
        ``(n_clients,)`` demand (parcels/day).
    opening_cost
        ``(n_sites,)`` cost of opening each site.
    capacity
        ``(n_sites,)`` capacity in demand units (``None``: uncapacitated).
    single_source
        Each client is served by exactly one site.
    rules
        Side constraints.
    nearest_cost
        Cost used to attach clients without demand to an open site (default
        ``assign_cost``).
    time_limit_s
        Wall-clock limit.
    engine
        ``HIGHS`` or ``SCIP``.
    client_names
        Names of the clients (village ids) for error messages.
    lagrangian
        Multi-source with only locked/excluded sites: solve by Lagrangian branch and
        bound (:mod:`~rural_logistics.placement.cfl_lagrange`) instead of the MIP.
        ``None``: when there are at least :data:`LAGRANGIAN_MIN_PAIRS` (client, site)
        pairs (the MIP is faster below that; measured on OR-Library cap41–cap134).

    Returns
    -------
    PlacementResult
        ``flows`` lists the split shares when ``single_source`` is false.

    Raises
    ------
    InfeasibleError
        When demand exceeds the capacity available, a client fits no allowed site, or the
        side constraints cannot be met together.
    """
    start = time.perf_counter()
    c = np.asarray(assign_cost, dtype=float)
    demand = np.asarray(demand, dtype=float)
    f = np.asarray(opening_cost, dtype=float)
    rules = rules or SiteRules()
    n_sites = c.shape[1]
    check_rules(rules, n_sites)
    allowed = _allowed(rules, n_sites)
    c = np.where(allowed[None, :], c, np.inf)
    cap = None if capacity is None else np.asarray(capacity, dtype=float)
    clients = np.flatnonzero(demand > 0)
    ok = np.isfinite(c)
    stranded = clients[~ok[clients].any(axis=1)]
    if len(stranded):
        raise InfeasibleError(
            f"{clients_text(stranded, client_names)} cannot reach any allowed candidate site"
        )
    if cap is not None:
        total = float(demand[clients].sum())
        usable = float(cap[allowed].sum())
        if total > usable + 1e-9:
            raise InfeasibleError(
                f"placement.capacity_parcels_per_day: demand {total:g} exceeds the "
                f"{usable:g} capacity of all allowed candidate sites together"
            )
        if single_source:
            fits = ok & (demand[:, None] <= cap[None, :] + 1e-9)
            big = clients[~fits[clients].any(axis=1)]
            if len(big):
                raise InfeasibleError(
                    "placement.capacity_parcels_per_day: "
                    f"{clients_text(big, client_names)} need more than any allowed site's "
                    "capacity (single_source assignment)"
                )
            ok = fits
    remaining = max(0.05, time_limit_s - (time.perf_counter() - start))
    if lagrangian is None:
        lagrangian = len(clients) * int(allowed.sum()) >= LAGRANGIAN_MIN_PAIRS
    if lagrangian and not single_source and rules.is_plain() and len(clients):
        # Multi-source with only locked/excluded sites: Lagrangian branch and bound
        # (uncapacitated = every site able to take all the demand).
        sol = solve_cfl(
            c[clients],
            demand[clients],
            f,
            cap if cap is not None else np.full(n_sites, float(demand[clients].sum())),
            locked=rules.locked,
            allowed=allowed,
            time_limit_s=remaining,
        )
        if sol is None:  # even with every allowed site open (priced first)
            raise InfeasibleError(
                "placement.capacity_parcels_per_day: the demand cannot be split over the "
                "allowed candidate sites within their capacities and the allowed access"
            )
        pairs = np.column_stack([clients[sol.pairs[:, 0]], sol.pairs[:, 1]])
        return _fixed_charge_result(
            c,
            f,
            open_sites=sol.open_sites,
            pairs=pairs,
            shares=sol.shares,
            bound=sol.bound,
            optimal=sol.proven,
            nearest_cost=nearest_cost,
            single_source=False,
            start=start,
        )
    out, pairs = _fixed_charge_mip(
        c,
        demand,
        f,
        cap=cap,
        ok=ok,
        clients=clients,
        allowed=allowed,
        rules=rules,
        single_source=single_source,
        deadline=start + time_limit_s,
        engine=engine,
    )
    if out.sites is None:
        raise _no_plan("fixed_charge", out, time_limit_s, capacitated=cap is not None)
    shares = out.values["x"]
    used = shares > 1e-9
    objective = float(f[out.sites].sum() + (c[pairs[:, 0], pairs[:, 1]] * shares).sum())
    return _fixed_charge_result(
        c,
        f,
        open_sites=out.sites,
        pairs=pairs[used],
        shares=shares[used],
        bound=out.bound,
        optimal=_status(out, objective) == "optimal",
        nearest_cost=nearest_cost,
        single_source=single_source,
        start=start,
    )


def _fixed_charge_result(
    c: np.ndarray,
    f: np.ndarray,
    *,
    open_sites: np.ndarray,
    pairs: np.ndarray,
    shares: np.ndarray,
    bound: float,
    optimal: bool,
    nearest_cost: np.ndarray | None,
    single_source: bool,
    start: float,
) -> PlacementResult:
    """The result from the open sites and the used (client, site, share) rows."""
    n_clients = c.shape[0]
    flows = np.column_stack([pairs, shares]) if len(pairs) else np.zeros((0, 3))
    assignment = nearest_open(nearest_cost if nearest_cost is not None else c, open_sites)
    best_share = np.zeros(n_clients)
    for (i, j), share in zip(pairs, shares, strict=True):
        if share > best_share[i]:
            best_share[i] = share
            assignment[i] = j
    objective = float(f[open_sites].sum() + (c[pairs[:, 0], pairs[:, 1]] * shares).sum())
    bound = min(bound, objective)
    if abs(objective - bound) <= OPTIMALITY_TOL * max(1.0, abs(objective)):
        optimal = True
    return PlacementResult(
        open_sites=np.sort(np.asarray(open_sites, dtype=np.int64)),
        assignment=assignment,
        objective=objective,
        bound=objective if optimal else bound,
        status="optimal" if optimal else "feasible",
        solve_seconds=time.perf_counter() - start,
        model="fixed_charge",
        flows=flows if not single_source else np.zeros((0, 3)),
    )


def _fixed_charge_mip(
    c: np.ndarray,
    demand: np.ndarray,
    f: np.ndarray,
    *,
    cap: np.ndarray | None,
    ok: np.ndarray,
    clients: np.ndarray,
    allowed: np.ndarray,
    rules: SiteRules,
    single_source: bool,
    deadline: float,
    engine: str,
) -> tuple[MipOutcome, np.ndarray]:
    """Build the strong formulation as one sparse matrix and solve it.

    Variables: ``y_j`` (sites), then ``x_k`` for each allowed (client, site) pair ``k``.
    Rows: every client fully served; ``x_ij <= y_j``; capacity ``sum_i d_i x_ij <= s_j y_j``
    and the aggregate ``sum_j s_j y_j >= total demand``; the side constraints.

    Returns
    -------
    outcome, pairs
        The outcome (``values["x"]`` = the shares) and the ``(k, 2)`` pair table.
    """
    n_sites = c.shape[1]
    mask = np.zeros_like(ok)
    mask[clients] = ok[clients]
    pi, pj = np.nonzero(mask)
    pairs = np.column_stack([pi, pj]).astype(np.int64)
    n_x = len(pi)
    x_col = n_sites + np.arange(n_x)
    lower = np.zeros(n_sites + n_x)
    lower[rules.locked] = 1.0
    upper = np.ones(n_sites + n_x)
    upper[:n_sites] = allowed.astype(float)
    objective = np.concatenate([f, c[pi, pj]])
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    row_lb: list[np.ndarray] = []
    row_ub: list[np.ndarray] = []
    n_rows = 0

    def add(r: np.ndarray, col: np.ndarray, v: np.ndarray) -> None:
        rows.append(n_rows + np.asarray(r, dtype=np.int64))
        cols.append(np.asarray(col, dtype=np.int64))
        vals.append(np.asarray(v, dtype=float))

    def bounds(lb: np.ndarray | float, ub: np.ndarray | float, count: int) -> None:
        nonlocal n_rows
        row_lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (count,)).copy())
        row_ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (count,)).copy())
        n_rows += count

    # Every client with demand fully served (client rows in the order of ``clients``).
    rank = np.full(c.shape[0], -1, dtype=np.int64)
    rank[clients] = np.arange(len(clients))
    add(rank[pi], x_col, np.ones(n_x))
    bounds(1.0, 1.0, len(clients))
    # x_ij <= y_j.
    add(np.arange(n_x), x_col, np.ones(n_x))
    add(np.arange(n_x), pj, -np.ones(n_x))
    bounds(-np.inf, 0.0, n_x)
    if cap is not None:
        add(pj, x_col, demand[pi])
        add(np.arange(n_sites), np.arange(n_sites), -cap)
        bounds(-np.inf, 0.0, n_sites)
        sites = np.flatnonzero(allowed)
        add(np.zeros(len(sites)), sites, cap[sites])
        bounds(float(demand[clients].sum()), np.inf, 1)
    if rules.max_stations is not None:
        add(np.zeros(n_sites), np.arange(n_sites), np.ones(n_sites))
        bounds(-np.inf, float(rules.max_stations), 1)
    if rules.max_opening_cost is not None:
        cost = rules.opening_cost if rules.opening_cost is not None else np.zeros(n_sites)
        add(np.zeros(n_sites), np.arange(n_sites), cost)
        bounds(-np.inf, float(rules.max_opening_cost), 1)
    if rules.groups is not None and rules.min_per_group > 0:
        labels = np.asarray(rules.groups)
        for g in np.unique(labels[labels >= 0]):
            members = np.flatnonzero(labels == g)
            add(np.zeros(len(members)), members, np.ones(len(members)))
            bounds(float(rules.min_per_group), np.inf, 1)
    matrix = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, n_sites + n_x),
    )
    integer = np.arange(n_sites + (n_x if single_source else 0))
    sparse = solve_sparse(
        objective=objective,
        lower=lower,
        upper=upper,
        matrix=matrix,
        row_lower=np.concatenate(row_lb),
        row_upper=np.concatenate(row_ub),
        integer=integer,
        time_limit_s=max(0.05, deadline - time.perf_counter()),
        solver=engine.lower(),
    )
    if sparse.values is None:
        return MipOutcome(sparse.infeasible, False, sparse.bound, float("nan")), pairs
    y = sparse.values[:n_sites]
    return (
        MipOutcome(
            infeasible=False,
            optimal=sparse.optimal,
            bound=sparse.bound,
            objective=float(objective @ sparse.values),
            values={"x": np.clip(sparse.values[n_sites:], 0.0, 1.0)},
            has_solution=True,
            sites=np.flatnonzero(y > 0.5),
        ),
        pairs,
    )
