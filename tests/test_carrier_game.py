"""The cost-sharing maths of several carriers on games whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from rural_logistics.carriers.game import (
    coalitions,
    core_check,
    proportional_shares,
    shapley_values,
)


def airport_game() -> dict[frozenset[int], float]:
    """Three planes needing runways of cost 1, 2, 3: a coalition pays its longest runway.

    Shapley (Littlechild–Owen): the first segment (1) is shared by all three, the second
    (2 - 1) by players 1 and 2, the third (3 - 2) by player 2 alone:
    ``phi = (1/3, 1/3 + 1/2, 1/3 + 1/2 + 1) = (1/3, 5/6, 11/6)``.
    """
    need = [1.0, 2.0, 3.0]
    return {c: max(need[i] for i in c) for c in coalitions(3)}


def pairs_game() -> dict[frozenset[int], float]:
    """Any one or two players pay 1, all three pay 2: symmetric, so Shapley gives 2/3
    each; every pair then pays 4/3 > 1, the core is empty (worst excess 1/3)."""
    return {c: (2.0 if len(c) == 3 else 1.0) for c in coalitions(3)}


def test_coalitions_lists_every_nonempty_subset_by_size() -> None:
    got = coalitions(3)
    assert len(got) == 7
    assert got[:3] == [frozenset({0}), frozenset({1}), frozenset({2})]
    assert got[-1] == frozenset({0, 1, 2})


def test_shapley_of_the_airport_game() -> None:
    phi = shapley_values(airport_game(), 3)
    np.testing.assert_allclose(phi, [1 / 3, 5 / 6, 11 / 6])
    assert phi.sum() == pytest.approx(3.0)  # efficiency: the grand coalition's cost


def test_airport_shapley_is_in_the_core() -> None:
    game = airport_game()
    check = core_check(game, shapley_values(game, 3))
    assert check.in_core and check.worst_coalition is None and check.worst_excess == 0.0


def test_symmetric_game_with_an_empty_core() -> None:
    game = pairs_game()
    phi = shapley_values(game, 3)
    np.testing.assert_allclose(phi, [2 / 3] * 3)
    check = core_check(game, phi)
    assert not check.in_core
    assert check.worst_excess == pytest.approx(1 / 3)
    assert len(check.worst_coalition or ()) == 2


def test_two_player_shapley_splits_the_saving_equally() -> None:
    """c(A) = 220, c(B) = 140, c(AB) = 200: saving 160, each pays alone - 80."""
    game = {frozenset({0}): 220.0, frozenset({1}): 140.0, frozenset({0, 1}): 200.0}
    np.testing.assert_allclose(shapley_values(game, 2), [140.0, 60.0])


def test_proportional_rule_and_its_core_check() -> None:
    game = {frozenset({0}): 220.0, frozenset({1}): 140.0, frozenset({0, 1}): 200.0}
    split = proportional_shares(200.0, [300.0, 100.0])
    np.testing.assert_allclose(split, [150.0, 50.0])
    assert core_check(game, split).in_core
    # A split charging player 1 more than it pays alone leaves the core by that much.
    check = core_check(game, [50.0, 150.0])
    assert not check.in_core
    assert check.worst_coalition == frozenset({1}) and check.worst_excess == pytest.approx(10)


def test_an_allocation_that_does_not_add_up_is_not_in_the_core() -> None:
    game = airport_game()
    check = core_check(game, [0.0, 0.0, 0.0])
    assert check.worst_coalition is None
    assert not check.in_core and check.budget_gap == pytest.approx(-3.0)


def test_game_errors() -> None:
    with pytest.raises(ValueError, match="1 to 5 players"):
        shapley_values({}, 6)
    with pytest.raises(ValueError, match="lacks coalition"):
        shapley_values({frozenset({0}): 1.0}, 2)
    with pytest.raises(ValueError, match="positive sum"):
        proportional_shares(1.0, [0.0, 0.0])
