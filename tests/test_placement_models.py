"""Every placement model and every side constraint on instances solved by hand.

The line instance: clients and sites at positions 0, 1, 2, 10, 11, 12 (index = position
order), cost = distance along the line.
"""

from __future__ import annotations

import numpy as np
import pytest

from rural_logistics.errors import InfeasibleError
from rural_logistics.placement import SiteRules, solve_p_median
from rural_logistics.placement.models import (
    solve_fixed_charge,
    solve_max_coverage,
    solve_set_cover,
)

POS = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 12.0])


def _line(radius: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    cost = np.abs(POS[:, None] - POS[None, :])
    return cost, cost <= radius


def _idx(*items: int) -> np.ndarray:
    return np.array(items, dtype=np.int64)


# ---------------------------------------------------------------- p-median side constraints


def test_p_median_excluded_site() -> None:
    cost, _ = _line()
    # Without site 1 the left cluster is served from 0 or 2 (cost 3 instead of 2).
    r = solve_p_median(cost, np.ones(6), p=2, rules=SiteRules(excluded=_idx(1)), time_limit_s=10)
    assert 1 not in r.open_sites
    assert r.objective == pytest.approx(3 + 2)
    assert r.is_optimal()


def test_p_median_min_per_township() -> None:
    cost, _ = _line()
    # Site 5 is a township of its own: {1, 5} costs 1 + 1 + 2 + 1 = 5 (client 3 walks to 5).
    rules = SiteRules(groups=_idx(0, 0, 0, 0, 0, 1), min_per_group=1, group_names=("A", "B"))
    r = solve_p_median(cost, np.ones(6), p=2, rules=rules, time_limit_s=10)
    assert r.open_sites.tolist() == [1, 5]
    assert r.objective == pytest.approx(5.0)
    assert r.is_optimal()


def test_p_median_opening_cost_budget() -> None:
    cost, _ = _line()
    # Sites 1 and 4 cost 5 to open, the budget is 4: the best pairs cost 3 + 3 = 6.
    rules = SiteRules(opening_cost=np.array([0, 5, 0, 0, 5, 0.0]), max_opening_cost=4)
    r = solve_p_median(cost, np.ones(6), p=2, rules=rules, time_limit_s=10)
    assert not {1, 4} & set(r.open_sites.tolist())
    assert r.objective == pytest.approx(6.0)
    assert r.is_optimal()


def test_p_median_max_access_distance() -> None:
    cost, _ = _line()
    weights = np.array([100.0, 1, 1, 1, 1, 1])
    # Unconstrained, {0, 4} costs 0 + 1 + 2 + 1 + 0 + 1 = 5.
    free = solve_p_median(cost, weights, p=2, time_limit_s=10)
    assert free.open_sites.tolist() == [0, 4]
    # No client may be more than 1.5 away: {1, 4} costs 100 + 0 + 1 + 1 + 0 + 1.
    capped = solve_p_median(np.where(cost <= 1.5, cost, np.inf), weights, p=2, time_limit_s=10)
    assert capped.open_sites.tolist() == [1, 4]
    assert capped.objective == pytest.approx(103.0)
    assert capped.is_optimal()


def test_p_median_budget_below_locked_stations() -> None:
    cost, _ = _line()
    with pytest.raises(InfeasibleError, match="max_stations = 1 is below the 2 existing"):
        solve_p_median(
            cost, np.ones(6), p=2, rules=SiteRules(locked=_idx(0, 3), max_stations=1)
        )
    rules = SiteRules(locked=_idx(0, 3), opening_cost=np.full(6, 10.0), max_opening_cost=15)
    with pytest.raises(InfeasibleError, match="max_opening_cost = 15 is below the 20"):
        solve_p_median(cost, np.ones(6), p=2, rules=rules)


def test_p_median_max_stations_below_k() -> None:
    cost, _ = _line()
    with pytest.raises(InfeasibleError, match=r"max_stations = 1 is below placement\.stations"):
        solve_p_median(cost, np.ones(6), p=2, rules=SiteRules(max_stations=1))


def test_locked_and_excluded_together_is_an_error() -> None:
    cost, _ = _line()
    with pytest.raises(InfeasibleError, match=r"^placement\.exclude_sites: site\(s\) 2 are also"):
        solve_p_median(cost, np.ones(6), p=2, rules=SiteRules(locked=_idx(2), excluded=_idx(2)))


def test_township_without_sites_is_an_error() -> None:
    cost, _ = _line()
    rules = SiteRules(
        groups=_idx(0, 0, 0, 0, 0, 1), min_per_group=1, excluded=_idx(5), group_names=("A", "B")
    )
    with pytest.raises(
        InfeasibleError, match=r"placement\.min_stations_per_township = 1: too few usable .* B "
    ):
        solve_p_median(cost, np.ones(6), p=2, rules=rules)


# ---------------------------------------------------------------- maximal coverage

W_COV = np.array([1.0, 1, 1, 1, 1, 5])


def test_max_coverage_one_station() -> None:
    cost, cov = _line()
    # Site 4 covers clients 3, 4, 5 (1 + 1 + 5 = 7); site 5 only 4, 5 (6); site 1 only 3.
    r = solve_max_coverage(cost, cov, W_COV, k=1, time_limit_s=10)
    assert r.open_sites.tolist() == [4]
    assert r.objective == pytest.approx(7.0)
    assert r.bound == pytest.approx(7.0)
    assert r.is_optimal()
    assert r.sense == "max"
    assert r.uncovered.tolist() == [0, 1, 2]
    assert r.assignment.tolist() == [4] * 6


def test_max_coverage_two_stations_cover_all() -> None:
    cost, cov = _line()
    r = solve_max_coverage(cost, cov, W_COV, k=2, time_limit_s=10)
    assert r.open_sites.tolist() == [1, 4]
    assert r.objective == pytest.approx(10.0)
    assert r.uncovered.tolist() == []
    assert r.assignment.tolist() == [1, 1, 1, 4, 4, 4]


def test_max_coverage_excluded_and_locked() -> None:
    cost, cov = _line()
    r = solve_max_coverage(cost, cov, W_COV, k=1, rules=SiteRules(excluded=_idx(4)))
    assert r.open_sites.tolist() == [5]
    assert r.objective == pytest.approx(6.0)
    # Site 0 kept open covers clients 0 and 1; the second station is site 4 (7): 9.
    r = solve_max_coverage(cost, cov, W_COV, k=2, rules=SiteRules(locked=_idx(0)))
    assert r.open_sites.tolist() == [0, 4]
    assert r.objective == pytest.approx(9.0)
    assert r.is_optimal()


def test_max_coverage_min_per_township() -> None:
    cost, cov = _line()
    # One of {0, 3} and one of {1, 2, 4, 5}: {0, 4} covers 2 + 7 = 9.
    rules = SiteRules(groups=_idx(0, 1, 1, 0, 1, 1), min_per_group=1)
    r = solve_max_coverage(cost, cov, W_COV, k=2, rules=rules)
    assert r.open_sites.tolist() == [0, 4]
    assert r.objective == pytest.approx(9.0)


def test_max_coverage_opening_cost_budget() -> None:
    cost, cov = _line()
    # Site 4 is too expensive: the best single station is site 5 (6).
    rules = SiteRules(opening_cost=np.array([1, 1, 1, 1, 9, 1.0]), max_opening_cost=5)
    r = solve_max_coverage(cost, cov, W_COV, k=1, rules=rules)
    assert r.open_sites.tolist() == [5]
    assert r.objective == pytest.approx(6.0)


def test_max_coverage_max_access_distance() -> None:
    cost, cov = _line()
    weights = np.array([1.0, 1, 1, 3, 1, 5])
    # Within 10 of every client only sites 2 and 3 lie; site 3 covers 3 + 1 = 4, site 2 covers 2.
    capped = np.where(cost <= 10, cost, np.inf)
    r = solve_max_coverage(capped, cov, weights, k=1)
    assert r.open_sites.tolist() == [3]
    assert r.objective == pytest.approx(4.0)
    assert solve_max_coverage(cost, cov, weights, k=1).open_sites.tolist() == [4]


def test_max_coverage_k_too_large() -> None:
    cost, cov = _line()
    with pytest.raises(InfeasibleError, match="more than the 6 usable candidate sites; "):
        solve_max_coverage(cost, cov, W_COV, k=7)
    with pytest.raises(
        InfeasibleError, match=r"more than the 5 usable candidate sites \(the others are in"
    ):
        solve_max_coverage(cost, cov, W_COV, k=6, rules=SiteRules(excluded=_idx(0)))


# ---------------------------------------------------------------- set cover


def test_set_cover_fewest_stations() -> None:
    cost, cov = _line(1.0)
    r = solve_set_cover(cost, cov, np.ones(6), time_limit_s=10)
    assert r.open_sites.tolist() == [1, 4]
    assert r.objective == 2
    assert r.bound == 2
    assert r.is_optimal()
    assert r.assignment.tolist() == [1, 1, 1, 4, 4, 4]


def test_set_cover_second_stage_picks_least_access_cost() -> None:
    # Radius 2: sites 0, 1, 2 each cover the left cluster; 1 is the median (cost 2, not 3).
    cost, cov = _line(2.0)
    r = solve_set_cover(cost, cov, np.ones(6), time_limit_s=10)
    assert r.objective == 2
    assert r.open_sites.tolist() == [1, 4]


def test_set_cover_side_constraints() -> None:
    cost, cov = _line(1.0)
    # Site 5 alone in a township: three stations, one of them 5.
    rules = SiteRules(groups=_idx(0, 0, 0, 1, 1, 2), min_per_group=1)
    r = solve_set_cover(cost, cov, np.ones(6), rules=rules)
    assert r.objective == 3
    assert 5 in r.open_sites and 1 in r.open_sites
    # Locked site 0 does not cover client 2: 1 is still needed, plus the right cluster.
    r = solve_set_cover(cost, cov, np.ones(6), rules=SiteRules(locked=_idx(0)))
    assert r.objective == 3
    assert r.open_sites.tolist() == [0, 1, 4]
    # Excluding 4 needs 3 and 5 for the right cluster.
    r = solve_set_cover(cost, cov, np.ones(6), rules=SiteRules(excluded=_idx(4)))
    assert r.open_sites.tolist() == [1, 3, 5]
    # One station cannot cover both clusters.
    with pytest.raises(InfeasibleError, match="max_stations"):
        solve_set_cover(cost, cov, np.ones(6), rules=SiteRules(max_stations=1))
    rules = SiteRules(opening_cost=np.ones(6), max_opening_cost=1.5)
    with pytest.raises(InfeasibleError, match="max_opening_cost"):
        solve_set_cover(cost, cov, np.ones(6), rules=rules)


def test_set_cover_lists_villages_no_site_reaches() -> None:
    cost, cov = _line(1.0)
    # Client 6 at position 5: the nearest site is 3 away.
    extra = np.abs(5.0 - POS)[None, :]
    cost7 = np.vstack([cost, extra])
    cov7 = np.vstack([cov, extra <= 1.0])
    with pytest.raises(InfeasibleError, match=r"radius of 1 with demand: client\(s\) 6$"):
        solve_set_cover(cost7, cov7, np.ones(7))
    # Without demand it needs no cover (and is still attached to its nearest station).
    r = solve_set_cover(cost7, cov7, np.array([1.0] * 6 + [0.0]))
    assert r.objective == 2
    assert r.assignment[6] == 4 or r.assignment[6] == 1


def test_set_cover_names_the_villages() -> None:
    cost, cov = _line(1.0)
    extra = np.abs(5.0 - POS)[None, :]
    with pytest.raises(InfeasibleError, match="V7"):
        solve_set_cover(
            np.vstack([cost, extra]),
            np.vstack([cov, extra <= 1.0]),
            np.ones(7),
            client_names=[f"V{i + 1}" for i in range(7)],
        )


# ---------------------------------------------------------------- fixed charge
# Two sites A (index 0), B (1), opening cost 10 each; three clients of demand 3, each
# costing 1 to serve wholly from A and 20 from B.

FC_COST = np.array([[1.0, 20.0], [1.0, 20.0], [1.0, 20.0]])
FC_DEMAND = np.array([3.0, 3.0, 3.0])
FC_OPEN = np.array([10.0, 10.0])
FC_CAP = np.array([5.0, 10.0])


def test_fixed_charge_uncapacitated() -> None:
    r = solve_fixed_charge(FC_COST, FC_DEMAND, FC_OPEN, time_limit_s=10)
    assert r.open_sites.tolist() == [0]
    assert r.objective == pytest.approx(13.0)
    assert r.is_optimal()
    assert r.assignment.tolist() == [0, 0, 0]


def test_fixed_charge_capacitated_multi_source() -> None:
    # A takes 5 of the 9 parcels (5/3 of a client at 1 each), B the other 4 (4/3 at 20):
    # 20 + 5/3 + 80/3 = 48.33; B alone would cost 70.
    r = solve_fixed_charge(FC_COST, FC_DEMAND, FC_OPEN, capacity=FC_CAP, time_limit_s=10)
    assert r.open_sites.tolist() == [0, 1]
    assert r.objective == pytest.approx(20 + 85 / 3)
    assert r.is_optimal()
    load = np.zeros(2)
    for i, j, share in r.flows:
        load[int(j)] += share * FC_DEMAND[int(i)]
    assert load.tolist() == pytest.approx([5.0, 4.0])
    served = np.zeros(3)
    for i, _j, share in r.flows:
        served[int(i)] += share
    assert served.tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_fixed_charge_capacitated_single_source() -> None:
    # A holds one client (6 > 5), B the other two: 20 + 1 + 40 = 61.
    r = solve_fixed_charge(
        FC_COST, FC_DEMAND, FC_OPEN, capacity=FC_CAP, single_source=True, time_limit_s=10
    )
    assert r.open_sites.tolist() == [0, 1]
    assert r.objective == pytest.approx(61.0)
    assert r.is_optimal()
    assert sorted(r.assignment.tolist()) == [0, 1, 1]
    assert len(r.flows) == 0


def test_fixed_charge_side_constraints() -> None:
    kw = {"capacity": FC_CAP, "time_limit_s": 10.0}
    # Excluding A: B alone, 10 + 60.
    r = solve_fixed_charge(FC_COST, FC_DEMAND, FC_OPEN, rules=SiteRules(excluded=_idx(0)), **kw)
    assert r.open_sites.tolist() == [1]
    assert r.objective == pytest.approx(70.0)
    # At most one station (or a budget of 15 for stations costing 10): B alone.
    for rules in (
        SiteRules(max_stations=1),
        SiteRules(opening_cost=FC_OPEN, max_opening_cost=15.0),
    ):
        r = solve_fixed_charge(FC_COST, FC_DEMAND, FC_OPEN, rules=rules, **kw)
        assert r.open_sites.tolist() == [1]
        assert r.objective == pytest.approx(70.0)
    # Uncapacitated with B locked open, or with one station per township: both open, 23.
    for rules in (SiteRules(locked=_idx(1)), SiteRules(groups=_idx(0, 1), min_per_group=1)):
        r = solve_fixed_charge(FC_COST, FC_DEMAND, FC_OPEN, rules=rules, time_limit_s=10)
        assert r.open_sites.tolist() == [0, 1]
        assert r.objective == pytest.approx(23.0)
    # Client 2 may not be served from A (beyond the access distance): uncapacitated,
    # A for 0 and 1 and B for 2 = 20 + 2 + 20 = 42 against B alone 70.
    capped = FC_COST.copy()
    capped[2, 0] = np.inf
    r = solve_fixed_charge(capped, FC_DEMAND, FC_OPEN, time_limit_s=10)
    assert r.objective == pytest.approx(42.0)
    assert r.assignment.tolist() == [0, 0, 1]


def test_fixed_charge_impossible_requests() -> None:
    with pytest.raises(InfeasibleError, match="capacity"):
        solve_fixed_charge(FC_COST, FC_DEMAND, FC_OPEN, capacity=np.array([5.0, 3.0]))
    with pytest.raises(InfeasibleError, match=r"client.* 2 need more .*single_source"):
        solve_fixed_charge(
            FC_COST,
            np.array([3.0, 3.0, 9.0]),
            FC_OPEN,
            capacity=np.array([8.0, 8.0]),
            single_source=True,
        )
    with pytest.raises(InfeasibleError, match="max_stations = 0 is below the 1 existing"):
        solve_fixed_charge(
            FC_COST, FC_DEMAND, FC_OPEN, rules=SiteRules(locked=_idx(0), max_stations=0)
        )
    # Locked A plus a one-station limit, but A cannot hold 9 parcels.
    with pytest.raises(InfeasibleError, match="side constraints"):
        solve_fixed_charge(
            FC_COST,
            FC_DEMAND,
            FC_OPEN,
            capacity=FC_CAP,
            rules=SiteRules(locked=_idx(0), max_stations=1),
        )


# ---------------------------------------------------------------- determinism


@pytest.mark.parametrize("model", ["p_median", "max_coverage", "set_cover", "fixed_charge"])
def test_same_input_same_answer(model: str) -> None:
    rng = np.random.default_rng(7)
    clients = rng.uniform(0, 10, size=(30, 2))
    sites = clients[:12]
    cost = np.hypot(*(clients[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    weights = rng.integers(1, 9, size=30).astype(float)
    cov = cost <= 4.0

    def run() -> tuple[list[int], float]:
        if model == "p_median":
            r = solve_p_median(cost, weights, p=3, time_limit_s=10)
        elif model == "max_coverage":
            r = solve_max_coverage(cost, cov, weights, k=2, time_limit_s=10)
        elif model == "set_cover":
            r = solve_set_cover(cost, cov, weights, time_limit_s=10)
        else:
            r = solve_fixed_charge(
                cost * weights[:, None],
                weights,
                np.full(12, 30.0),
                capacity=np.full(12, 40.0),
                time_limit_s=10,
            )
        assert r.is_optimal()
        return r.open_sites.tolist(), r.objective

    assert run() == run()
