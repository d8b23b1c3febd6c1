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

from rural_logistics.errors import InfeasibleError
from rural_logistics.placement import _mip
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

SIDE_CONSTRAINTS = (
    "keep_existing, excluded_sites, max_stations, max_opening_cost, min_per_township, max_access_km"
)


def _allowed(rules: SiteRules, n_sites: int) -> np.ndarray:
    allowed = np.ones(n_sites, dtype=bool)
    allowed[rules.excluded] = False
    return allowed


def _stranded(cost: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.flatnonzero((weights > 0) & ~np.isfinite(cost).any(axis=1))


def _access_rows(m: _mip.Model, y: list, cost: np.ndarray, weights: np.ndarray) -> None:
    """Every client with weight needs an allowed open site (only where not all are)."""
    finite = np.isfinite(cost)
    for i in np.flatnonzero((weights > 0) & ~finite.all(axis=1)):
        m.add_row([(y[j], 1.0) for j in np.flatnonzero(finite[i])], lb=1.0)


def _status(out: _mip.MipOutcome, objective: float) -> Status:
    if out.optimal or abs(objective - out.bound) <= OPTIMALITY_TOL * max(1.0, abs(objective)):
        return "optimal"
    return "feasible"


def _no_plan(
    model: str, out: _mip.MipOutcome, time_limit_s: float, *, capacitated: bool = False
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
    m = _mip.Model(engine, maximize=True)
    y = m.add_site_vars(n_sites, allowed=allowed, locked=rules.locked)
    for i in np.flatnonzero((weights > 0) & cov.any(axis=1)):
        u = m.add_var(0.0, 1.0, float(weights[i]))
        m.add_row([(u, 1.0)] + [(y[j], -1.0) for j in np.flatnonzero(cov[i])], ub=0.0)
    _access_rows(m, y, cost, weights)
    m.add_site_rules(y, rules, exact_count=k)
    out = m.solve(time_limit_s=max(0.05, time_limit_s - (time.perf_counter() - start)), sites=y)
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
    m = _mip.Model(engine)
    y = m.add_site_vars(n_sites, allowed=allowed, locked=rules.locked, obj=np.ones(n_sites))
    rows = {tuple(np.flatnonzero(cov[i])) for i in np.flatnonzero(need)}
    for members in sorted(rows):
        m.add_row([(y[j], 1.0) for j in members], lb=1.0)
    m.add_site_rules(y, rules)
    out = m.solve(time_limit_s=max(0.05, time_limit_s - (time.perf_counter() - start)), sites=y)
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
    n_clients, n_sites = c.shape
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
    m = _mip.Model(engine)
    y = m.add_site_vars(n_sites, allowed=allowed, locked=rules.locked, obj=f)
    x_vars = []
    x_index = []
    load_terms: list[list[tuple[object, float]]] = [[] for _ in range(n_sites)]
    for i in clients:
        row = []
        for j in np.flatnonzero(ok[i]):
            x = m.add_var(0.0, 1.0, float(c[i, j]), integer=single_source)
            row.append((x, 1.0))
            x_vars.append(x)
            x_index.append((i, j))
            m.add_row([(x, 1.0), (y[j], -1.0)], ub=0.0)
            if cap is not None:
                load_terms[j].append((x, float(demand[i])))
        m.add_row(row, lb=1.0, ub=1.0)
    if cap is not None:
        for j in np.flatnonzero(allowed):
            m.add_row([*load_terms[j], (y[j], -float(cap[j]))], ub=0.0)
        # Aggregate capacity cut: open capacity covers the total demand.
        m.add_row(
            [(y[j], float(cap[j])) for j in np.flatnonzero(allowed)],
            lb=float(demand[clients].sum()),
        )
    m.add_site_rules(y, rules)
    out = m.solve(
        time_limit_s=max(0.05, time_limit_s - (time.perf_counter() - start)),
        sites=y,
        extra={"x": x_vars},
    )
    if out.sites is None:
        raise _no_plan("fixed_charge", out, time_limit_s, capacitated=cap is not None)
    shares = out.values["x"]
    pairs = np.array(x_index, dtype=np.int64).reshape(-1, 2)
    used = shares > 1e-9
    flows = np.column_stack([pairs[used], shares[used]]) if used.any() else np.zeros((0, 3))
    assignment = nearest_open(nearest_cost if nearest_cost is not None else c, out.sites)
    best_share = np.zeros(n_clients)
    for (i, j), share in zip(pairs[used], shares[used], strict=True):
        if share > best_share[i]:
            best_share[i] = share
            assignment[i] = j
    objective = float(f[out.sites].sum() + (c[pairs[:, 0], pairs[:, 1]] * shares).sum())
    return PlacementResult(
        open_sites=out.sites,
        assignment=assignment,
        objective=objective,
        bound=min(out.bound, objective),
        status=_status(out, objective),
        solve_seconds=time.perf_counter() - start,
        model="fixed_charge",
        flows=flows if not single_source else np.zeros((0, 3)),
    )
