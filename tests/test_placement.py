"""p-median on instances whose optimum is known by hand or by enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rural_logistics.errors import InfeasibleError
from rural_logistics.placement import p_median_objective, solve_p_median


def _line_instance() -> tuple[np.ndarray, np.ndarray]:
    # Clients and sites at 0, 1, 2, 10, 11, 12 on a line: the optimum with p = 2 opens
    # 1 and 11 (indices 1 and 4) at cost 1 + 1 + 1 + 1 = 4.
    pos = np.array([0.0, 1.0, 2.0, 10.0, 11.0, 12.0])
    return np.abs(pos[:, None] - pos[None, :]), np.ones(6)


def test_line_instance_known_optimum() -> None:
    cost, weights = _line_instance()
    result = solve_p_median(cost, weights, p=2, time_limit_s=10)
    assert result.open_sites.tolist() == [1, 4]
    assert result.objective == pytest.approx(4.0)
    assert result.is_optimal()
    assert result.bound == pytest.approx(4.0)
    assert result.assignment.tolist() == [1, 1, 1, 4, 4, 4]


def test_weights_pull_the_median() -> None:
    cost, _ = _line_instance()
    weights = np.array([100.0, 1, 1, 1, 1, 1])
    result = solve_p_median(cost, weights, p=2, time_limit_s=10)
    assert result.open_sites.tolist() == [0, 4]
    assert result.objective == pytest.approx(1 + 2 + 1 + 1)


def test_locked_site_stays_open() -> None:
    cost, weights = _line_instance()
    result = solve_p_median(cost, weights, p=2, locked=np.array([5]), time_limit_s=10)
    assert 5 in result.open_sites.tolist()
    assert result.open_sites.tolist() == [1, 5]
    assert result.objective == pytest.approx(1 + 1 + 2 + 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("p", [2, 3, 5])
def test_matches_enumeration_on_random_instances(seed: int, p: int) -> None:
    rng = np.random.default_rng(seed)
    clients = rng.uniform(0, 100, size=(25, 2))
    sites = rng.uniform(0, 100, size=(12, 2))
    cost = np.hypot(*(clients[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    weights = rng.integers(1, 50, size=25).astype(float)
    best = min(
        p_median_objective(cost, weights, np.array(c))
        for c in itertools.combinations(range(12), p)
    )
    result = solve_p_median(cost, weights, p=p, time_limit_s=10)
    assert result.objective == pytest.approx(best)
    assert result.is_optimal()
    # Every client goes to its nearest open site.
    nearest = result.open_sites[np.argmin(cost[:, result.open_sites], axis=1)]
    assert np.array_equal(result.assignment, nearest)


def test_heuristic_only_reports_no_bound() -> None:
    cost, weights = _line_instance()
    result = solve_p_median(cost, weights, p=2, exact=False)
    assert result.status == "heuristic"
    assert result.objective == pytest.approx(4.0)
    assert result.bound == 0.0


def test_same_input_same_answer() -> None:
    # Euclidean (random non-metric costs have large LP gaps and take seconds to prove).
    rng = np.random.default_rng(3)
    clients = rng.uniform(0, 100, size=(40, 2))
    sites = rng.uniform(0, 100, size=(30, 2))
    cost = np.hypot(*(clients[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    weights = rng.uniform(1, 10, size=40)
    a = solve_p_median(cost, weights, p=4, time_limit_s=10)
    b = solve_p_median(cost, weights, p=4, time_limit_s=10)
    assert a.is_optimal()
    assert a.open_sites.tolist() == b.open_sites.tolist()
    assert a.objective == b.objective


def test_unreachable_site_is_never_needed() -> None:
    cost, weights = _line_instance()
    cost[:, 1] = np.inf
    result = solve_p_median(cost, weights, p=2, time_limit_s=10)
    assert 1 not in result.open_sites.tolist()
    assert np.isfinite(result.objective)


@pytest.mark.parametrize(
    ("p", "locked", "message"),
    [
        (7, None, "more than the 6 usable candidate sites"),
        (1, np.array([0, 3]), "more than placement.stations = 1"),
    ],
)
def test_impossible_requests_raise_clear_errors(
    p: int, locked: np.ndarray | None, message: str
) -> None:
    cost, weights = _line_instance()
    with pytest.raises(InfeasibleError, match=message):
        solve_p_median(cost, weights, p=p, locked=locked)


def test_client_that_no_site_reaches_is_named() -> None:
    cost, weights = _line_instance()
    cost[2, :] = np.inf
    with pytest.raises(InfeasibleError, match="client"):
        solve_p_median(cost, weights, p=2)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_integer_costs_lagrangian_path_matches_enumeration(seed: int) -> None:
    # Integer weights and costs take the Lagrangian bound + branch and bound path.
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 100, size=(30, 2))
    cost = np.rint(np.hypot(*(pts[:, None, :] - pts[None, :14, :]).transpose(2, 0, 1)))
    weights = rng.integers(1, 20, size=30).astype(float)
    p = 3 + seed % 2
    best = min(
        p_median_objective(cost, weights, np.array(c))
        for c in itertools.combinations(range(14), p)
    )
    result = solve_p_median(cost, weights, p=p, time_limit_s=10)
    assert result.objective == pytest.approx(best)
    assert result.is_optimal()
    assert result.bound == pytest.approx(best)


def test_lagrangian_tree_proves_the_enumerated_optimum() -> None:
    from rural_logistics.placement.lagrange import lagrangian_bound, lagrangian_tree

    rng = np.random.default_rng(11)
    pts = rng.uniform(0, 100, size=(25, 2))
    wc = np.rint(np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1)))
    best = min(
        p_median_objective(wc, np.ones(25), np.array(c))
        for c in itertools.combinations(range(25), 4)
    )
    none = np.zeros(0, dtype=np.int64)
    everything = np.ones(25, dtype=bool)
    # Start from a poor incumbent: the tree must find and prove the optimum itself.
    upper = p_median_objective(wc, np.ones(25), np.arange(4)) + 0.0
    lag = lagrangian_bound(
        wc, p=4, locked=none, allowed=everything, start_lam=wc.mean(axis=1),
        upper=upper, slack=1 - 1e-6, deadline=np.inf, max_iterations=5,
    )
    assert lag.bound <= best + 1e-9
    tree = lagrangian_tree(
        wc, p=4, locked=none, allowed=everything, lam=lag.lam, upper=lag.upper,
        slack=1 - 1e-6, deadline=np.inf,
    )
    assert tree.proven
    assert tree.upper == pytest.approx(best)
    if tree.sites is not None:
        assert p_median_objective(wc, np.ones(25), tree.sites) == pytest.approx(best)
