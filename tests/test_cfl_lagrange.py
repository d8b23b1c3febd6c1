"""Lagrangian branch and bound for multi-source capacitated facility location."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rural_logistics.errors import InfeasibleError
from rural_logistics.placement.cfl_lagrange import cover, solve_cfl, transport
from rural_logistics.placement.models import solve_fixed_charge
from rural_logistics.placement.result import SiteRules

# Sites A, B (capacity 5, opening 10) and C (capacity 12, opening 40); four clients of
# demand 3 (12 in all, so A + B alone cannot serve them: C must open although it is
# the dearest site). Cost of serving all of a client's demand:
#   A: 1, 1, 50, 50   B: 50, 50, 1, 1   C: 20 each.
# C alone: 40 + 80 = 120. C + A: A takes client 0 and 2/3 of client 1 (1 + 2/3), C the
# rest (20/3 + 40): 50 + 145/3 = 98.33. A + B + C: A and B each 1 + 2/3, C a third of
# clients 1 and 3 (40/3): 60 + 50/3 = 76.67, the optimum.
C3 = np.array([[1.0, 50.0, 20.0], [1.0, 50.0, 20.0], [50.0, 1.0, 20.0], [50.0, 1.0, 20.0]])
D3 = np.full(4, 3.0)
F3 = np.array([10.0, 10.0, 40.0])
S3 = np.array([5.0, 5.0, 12.0])


def _solve(c, d, f, s, *, locked=(), allowed=None, time_limit_s=10.0):
    m = c.shape[1]
    return solve_cfl(
        c,
        d,
        f,
        s,
        locked=np.asarray(locked, dtype=np.int64),
        allowed=np.ones(m, dtype=bool) if allowed is None else allowed,
        time_limit_s=time_limit_s,
    )


def _check_plan(sol, c, d, f, s) -> None:
    """Every client wholly served, capacities kept, objective recomputed."""
    served = np.bincount(sol.pairs[:, 0], weights=sol.shares, minlength=len(d))
    assert served == pytest.approx(np.ones(len(d)))
    load = np.bincount(sol.pairs[:, 1], weights=sol.shares * d[sol.pairs[:, 0]], minlength=len(f))
    assert np.all(load <= s + 1e-6)
    assert set(sol.pairs[:, 1].tolist()) <= set(sol.open_sites.tolist())
    value = f[sol.open_sites].sum() + (c[sol.pairs[:, 0], sol.pairs[:, 1]] * sol.shares).sum()
    assert sol.objective == pytest.approx(value)


def _brute_force(c, d, f, s) -> float:
    best = np.inf
    m = c.shape[1]
    for k in range(1, m + 1):
        for subset in itertools.combinations(range(m), k):
            sites = np.array(subset)
            if s[sites].sum() < d.sum():
                continue
            out = transport(c, d, s, sites)
            if out is not None:
                best = min(best, f[sites].sum() + out[0])
    return best


def test_capacity_forces_the_dearest_site_open() -> None:
    sol = _solve(C3, D3, F3, S3)
    assert sol.open_sites.tolist() == [0, 1, 2]
    assert sol.objective == pytest.approx(60 + 50 / 3)
    assert sol.proven
    assert sol.bound == pytest.approx(sol.objective)
    _check_plan(sol, C3, D3, F3, S3)
    # Split demand: clients 1 and 3 are shared 2/3 : 1/3 between a cheap site and C.
    shares = {(int(i), int(j)): x for (i, j), x in zip(sol.pairs, sol.shares, strict=True)}
    assert shares[(1, 0)] == pytest.approx(2 / 3)
    assert shares[(1, 2)] == pytest.approx(1 / 3)


def test_excluded_and_locked_sites() -> None:
    # Without B: C + A (98.33); B locked but C excluded: infeasible capacity, no plan.
    no_b = _solve(C3, D3, F3, S3, allowed=np.array([True, False, True]))
    assert no_b.open_sites.tolist() == [0, 2]
    assert no_b.objective == pytest.approx(50 + 145 / 3)
    assert no_b.proven
    assert _solve(C3, D3, F3, S3, allowed=np.array([True, True, False])) is None
    # Uncapacitated (capacity = all demand) with C locked: A and B still pay off.
    big = np.full(3, 12.0)
    sol = _solve(C3, D3, F3, big, locked=[2])
    assert sol.open_sites.tolist() == [0, 1, 2]
    assert sol.objective == pytest.approx(64.0)


@pytest.mark.parametrize(("seed", "tight"), [(3, 0.3), (15, 0.6), (22, 0.3)])
def test_matches_enumeration_of_all_open_sets(seed: int, tight: float) -> None:
    # Fixing and pruning must never cut the optimum: compare with every open set (these
    # seeds need 5–13 branch-and-bound nodes).
    rng = np.random.default_rng(seed)
    n, m = 14, 7
    xy = rng.uniform(0, 10, size=(n + m, 2))
    dist = np.hypot(*(xy[:n, None, :] - xy[None, n:, :]).transpose(2, 0, 1))
    d = rng.integers(1, 10, size=n).astype(float)
    c = dist * d[:, None]
    f = rng.uniform(20, 80, size=m)
    s = np.full(m, np.ceil(tight * d.sum()))
    sol = _solve(c, d, f, s)
    assert sol.proven
    assert sol.objective == pytest.approx(_brute_force(c, d, f, s), rel=1e-9)
    _check_plan(sol, c, d, f, s)
    # Unequal capacities use the knapsack's LP bound: still exact.
    s2 = np.ceil(s * rng.uniform(0.6, 1.4, size=m))
    if s2.sum() >= d.sum():
        sol2 = _solve(c, d, f, s2)
        assert sol2.proven
        assert sol2.objective == pytest.approx(_brute_force(c, d, f, s2), rel=1e-9)


def test_no_time_still_returns_a_plan() -> None:
    # With no time at all the first plan (everything open) comes back, unproven.
    sol = _solve(C3, D3, F3, S3, time_limit_s=0.0)
    assert sol is not None
    assert not sol.proven
    assert sol.bound <= sol.objective
    _check_plan(sol, C3, D3, F3, S3)


def test_cover_is_exact_for_equal_capacities() -> None:
    v = np.array([-5.0, 3.0, 1.0, 2.0])
    s = np.full(4, 4.0)
    every = np.ones(4, dtype=bool)
    none = np.zeros(4, dtype=bool)
    # Need 10: three sites; the negative one plus the two cheapest positive ones.
    value, y = cover(v, s, 10.0, none, every)
    assert value == pytest.approx(-2.0)
    assert y.tolist() == [True, False, True, True]
    # Site 1 forced open.
    must = np.array([False, True, False, False])
    value, y = cover(v, s, 10.0, must, every & ~must)
    assert value == pytest.approx(-1.0)


def test_fixed_charge_uses_it_on_request() -> None:
    # The same answers through solve_fixed_charge, split flows included.
    r = solve_fixed_charge(C3, D3, F3, capacity=S3, lagrangian=True, time_limit_s=10)
    assert r.is_optimal()
    assert r.objective == pytest.approx(60 + 50 / 3)
    assert r.open_sites.tolist() == [0, 1, 2]
    assert r.assignment.tolist() == [0, 0, 1, 1]
    # Locked/excluded sites keep it; other side constraints go to the MIP (same answer).
    rules = SiteRules(excluded=np.array([1]))
    r = solve_fixed_charge(C3, D3, F3, capacity=S3, rules=rules, lagrangian=True)
    assert r.objective == pytest.approx(50 + 145 / 3)
    r = solve_fixed_charge(
        C3, D3, F3, capacity=S3, rules=SiteRules(max_stations=2), lagrangian=True
    )
    assert r.open_sites.tolist() == [0, 2]
    assert r.objective == pytest.approx(50 + 145 / 3)


def test_capacity_out_of_reach_is_named() -> None:
    # Client 3 may only use B (capacity 5 < its 6 parcels): no plan at all.
    c = C3.copy()
    c[3, [0, 2]] = np.inf
    d = np.array([3.0, 3.0, 3.0, 6.0])
    with pytest.raises(InfeasibleError, match="capacity_parcels_per_day"):
        solve_fixed_charge(c, d, F3, capacity=S3, lagrangian=True, time_limit_s=5)
