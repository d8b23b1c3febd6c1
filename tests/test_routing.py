"""CVRP on tiny instances with hand-known optimal routes, on both engines."""

from __future__ import annotations

import numpy as np
import pytest

from rural_logistics.routing import (
    ENGINES,
    RoutingProblem,
    RoutingResult,
    VehicleSpec,
    solve_vrp,
    split_visits,
)
from rural_logistics.solvers.budget import Budget

engines = pytest.mark.parametrize("engine", ENGINES)


def run(problem: RoutingProblem, engine: str) -> RoutingResult:
    # Deterministic stop rule (iterations), no timing.
    return solve_vrp(problem, engine=engine, budget=Budget.of(20.0, iteration_limit=300))


def van(capacity: int = 100, *, duration: float = 600.0, fixed: float = 50.0) -> VehicleSpec:
    return VehicleSpec(
        type_name="van",
        capacity_parcels=capacity,
        cost_per_km=1.0,
        fixed_cost_per_day=fixed,
        speed_factor=1.0,
        max_route_duration_min=duration,
        service_time_min=0.0,
    )


def euclid(xy: np.ndarray) -> np.ndarray:
    return np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))


# Depot at the origin; stations on the corners of a 10 km square next to it.
SQUARE = np.array([[0.0, 0.0], [0.0, 10.0], [10.0, 10.0], [10.0, 0.0]])


def square_problem(loads: list[float], vehicles: tuple[VehicleSpec, ...]) -> RoutingProblem:
    d = euclid(SQUARE)
    return RoutingProblem(
        distance_km=d,
        time_min=d,  # 60 km/h
        parcels_per_day=np.array([0.0, *loads]),
        vehicles=vehicles,
    )


@engines
def test_one_vehicle_drives_the_square(engine: str) -> None:
    result = run(square_problem([10, 10, 10], (van(), van())), engine)
    assert result.is_feasible()
    assert len(result.routes) == 1  # the second van would only add its fixed cost
    route = result.routes[0]
    assert route.distance_km == pytest.approx(40.0)
    assert set(route.stops) == {1, 2, 3}
    assert route.load == 30
    assert result.cost() == pytest.approx(50.0 + 40.0)


@engines
def test_capacity_forces_two_routes(engine: str) -> None:
    # Loads 60 + 60 + 30 with capacity 100: the best pair of routes is
    # 0-1-2-0 (10 + 10 + 14.14) and 0-3-0 (20), i.e. 54.14 km (or its mirror image).
    result = run(square_problem([60, 30, 60], (van(), van())), engine)
    assert result.is_feasible()
    assert len(result.routes) == 2
    assert result.distance_km() == pytest.approx(34.142135 + 20.0, rel=1e-4)
    assert all(r.load <= 100 for r in result.routes)


@engines
def test_oversize_station_is_split_across_visits(engine: str) -> None:
    station, load = split_visits(np.array([0, 250, 40]), 100)
    assert station.tolist() == [0, 1, 1, 1, 2]
    assert load.tolist() == [0, 100, 100, 50, 40]
    result = run(square_problem([250, 0, 40], tuple(van() for _ in range(4))), engine)
    assert result.is_feasible()
    delivered: dict[int, int] = {}
    for route in result.routes:
        assert route.load <= 100
        for stop, amount in zip(route.stops, route.loads, strict=True):
            delivered[stop] = delivered.get(stop, 0) + amount
    assert delivered == {1: 250, 3: 40}


@engines
def test_too_small_fleet_reports_unserved_stations(engine: str) -> None:
    result = run(square_problem([80, 80, 80], (van(),)), engine)
    assert not result.is_feasible()
    assert result.status == "partial"
    served = sum(r.load for r in result.routes)
    unserved = sum(p for _, p in result.unserved)
    assert served + unserved == 240
    assert len(result.unserved) == 2


@engines
def test_route_duration_limit_leaves_far_station_unserved(engine: str) -> None:
    # Station 2 (the far corner) needs 2 × 14.14 = 28.3 min; the shift is 25 min.
    result = run(square_problem([0, 10, 0], (van(duration=25.0),)), engine)
    assert result.unserved == ((2, 10),)


@engines
def test_cheaper_vehicle_type_is_chosen(engine: str) -> None:
    cheap = van(fixed=10.0)
    dear = van(fixed=90.0)
    result = run(square_problem([10, 10, 10], (dear, cheap)), engine)
    assert [r.vehicle for r in result.routes] == [1]


@engines
def test_fractional_parcels_round_up(engine: str) -> None:
    result = run(square_problem([0.2, 0, 0], (van(),)), engine)
    assert result.routes[0].load == 1
