"""Visit patterns searched inside PyVRP's local search, and the joint model's penalties,
on cases worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rural_logistics.routing import RoutingProblem, VehicleSpec
from rural_logistics.routing.model import make_scaling
from rural_logistics.routing.pyvrp_patterns import PatternOption, search_patterns
from rural_logistics.routing.pyvrp_periodic import DayVisit
from rural_logistics.solvers.budget import Budget

#: Depot, X, Y, M.
XY = np.array([[0.0, 0.0], [10.0, 0.0], [-10.0, 0.0], [10.0, 1.0]])


def _problem(xy: np.ndarray, *, capacity: int, vehicles: int) -> RoutingProblem:
    diff = xy[:, None, :] - xy[None, :, :]
    dist = np.hypot(diff[..., 0], diff[..., 1])
    van = VehicleSpec(type_name="van", capacity_parcels=capacity, cost_per_km=1.0,
                      fixed_cost_per_day=0.0, speed_factor=1.0,
                      max_route_duration_min=math.inf, service_time_min=0.0)
    return RoutingProblem(distance_km=dist, time_min=dist, parcels_per_day=np.zeros(len(xy)),
                          vehicles=(van,) * vehicles, optional=False, xy=xy)


def _four_days(m_extra: float = 0.0) -> tuple[RoutingProblem, list[list[PatternOption]]]:
    """4 days, one van a day. X (10, 0) on days 0 and 2, Y (−10, 0) on days 1 and 3, M
    (10, 1) twice: days 0 and 2 (option 0, with ``m_extra`` extra cost) or 1 and 3."""
    problem = _problem(XY, capacity=10, vehicles=1)
    options = [
        [PatternOption(((0, 1), (2, 1)))],
        [PatternOption(((1, 1), (3, 1)))],
        [PatternOption(((0, 1), (2, 1)), m_extra), PatternOption(((1, 1), (3, 1)))],
    ]
    return problem, options


#: M with X (days 0, 2: 0→X→M→0 twice) and Y alone (days 1, 3).
WITH_X = 2 * (10 + 1 + math.sqrt(101)) + 2 * 20
#: M with Y (days 1, 3: 0→Y→M→0 twice) and X alone (days 0, 2).
WITH_Y = 2 * 20 + 2 * (10 + math.sqrt(401) + math.sqrt(101))


def _km(problem: RoutingProblem, cost: float) -> float:
    return cost / make_scaling(problem).cost_units_per_currency


def test_pattern_move_finds_the_days_of_the_near_station() -> None:
    """Started on M's far pattern (days 1, 3: 120.15), the search moves M to X's days:
    2·(10 + 1 + √101) + 40 = 82.0998."""
    problem, options = _four_days()
    found = search_patterns(problem, 4, options, [[], [], []], [0, 0, 1],
                            budget=Budget.of(20, iteration_limit=300), seed=3)
    assert found is not None
    assert found.choice[2] == 0
    assert _km(problem, found.cost) == pytest.approx(WITH_X, abs=1e-3)
    assert found.moves_kept >= 1
    days_of_m = {d for d, routes in enumerate(found.routes) for _, s in routes if 2 in s}
    assert days_of_m == {0, 2}


def test_extra_cost_of_an_option_is_counted() -> None:
    """With 50 extra on M's near pattern, 82.10 + 50 > 120.15: the far pattern wins."""
    problem, options = _four_days(m_extra=50 * make_scaling(
        _problem(XY, capacity=10, vehicles=1)).cost_units_per_currency)
    found = search_patterns(problem, 4, options, [[], [], []], [0, 0, 0],
                            budget=Budget.of(20, iteration_limit=300), seed=3)
    assert found is not None
    assert found.choice[2] == 1
    assert _km(problem, found.cost) == pytest.approx(WITH_Y, abs=1e-3)


def test_stations_of_any_day_are_placed_by_pyvrp_beside_the_patterns() -> None:
    """M fixed on days 0 and 2 with X; Z at (10, −1) once on any day (a fixed client of
    the search) joins the day whose route passes by: 0→X→M→0 and 0→Z→X→M→0 (or its
    reverse), Y alone on days 1 and 3."""
    xy = np.vstack([XY, [[10.0, -1.0]]])
    problem = _problem(xy, capacity=10, vehicles=1)
    options = [
        [PatternOption(((0, 1), (2, 1)))],
        [PatternOption(((1, 1), (3, 1)))],
        [PatternOption(((0, 1), (2, 1)))],
        [PatternOption(((d, 1),)) for d in range(4)],
    ]
    fixed: list[list[DayVisit]] = [[], [], [], [DayVisit(4, -1, 1)]]
    found = search_patterns(problem, 4, options, fixed, [0, 0, 0, 0],
                            budget=Budget.of(20, iteration_limit=300), seed=3)
    assert found is not None
    z_days = [d for d, routes in enumerate(found.routes) for _, s in routes if 3 in s]
    assert len(z_days) == 1 and z_days[0] in (0, 2)
    one = 10 + 1 + math.sqrt(101)
    with_z = math.sqrt(101) + 1 + 1 + math.sqrt(101)  # 0→Z→X→M→0
    assert _km(problem, found.cost) == pytest.approx(one + with_z + 40, abs=1e-3)


def test_joint_model_stays_feasible_on_long_edges() -> None:
    """Four stations 1,000 km out, one parcel each, vans of one parcel, two a day, over
    two days: every route serves one station. PyVRP's default penalty cap (100,000 a
    parcel) is below one such detour (10⁴ units a km), so the search must use the
    engine's scaled penalties or it ends with overloaded routes (no plan)."""
    xy = np.array([[0.0, 0.0], [1000.0, 0.0], [1000.0, 50.0], [-1000.0, 0.0],
                   [-1000.0, 50.0]])
    problem = _problem(xy, capacity=1, vehicles=2)
    options = [[PatternOption(((d, 1),)) for d in range(2)] for _ in range(4)]
    fixed = [[DayVisit(n, -1, 1)] for n in range(1, 5)]
    found = search_patterns(problem, 2, options, fixed, [0] * 4,
                            budget=Budget.of(20, iteration_limit=500), seed=1)
    assert found is not None
    assert all(len(stations) == 1 for day in found.routes for _, stations in day)
    assert sum(len(day) for day in found.routes) == 4
