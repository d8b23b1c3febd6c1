"""Each routing variant on a tiny instance with a hand-known optimum, on both engines.

Geometry: depot at the origin, stations on the corners of a 10 km square
(1 = (0, 10), 2 = (10, 10), 3 = (10, 0)); travel at 60 km/h, so minutes = km.
Stop rules are iteration counts, not time, so the tests are deterministic.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from rural_logistics.routing import (
    ENGINES,
    Route,
    RoutingProblem,
    RoutingResult,
    VehicleSpec,
    evaluate,
    solve_vrp,
)
from rural_logistics.solvers.budget import Budget

SQUARE = np.array([[0.0, 0.0], [0.0, 10.0], [10.0, 10.0], [10.0, 0.0]])
DIAG = math.hypot(10.0, 10.0)


def euclid(xy: np.ndarray) -> np.ndarray:
    diff = xy[:, None, :] - xy[None, :, :]
    return np.hypot(diff[..., 0], diff[..., 1])


def van(**changes: object) -> VehicleSpec:
    base = VehicleSpec(
        type_name="van",
        capacity_parcels=100,
        cost_per_km=1.0,
        fixed_cost_per_day=50.0,
        speed_factor=1.0,
        max_route_duration_min=600.0,
        service_time_min=0.0,
        shift_start_min=0.0,
        shift_end_min=600.0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def square(loads: list[float], vehicles: tuple[VehicleSpec, ...], **kw: object) -> RoutingProblem:
    d = euclid(SQUARE)
    return RoutingProblem(
        distance_km=d,
        time_min=d,
        parcels_per_day=np.array([0.0, *loads]),
        vehicles=vehicles,
        xy=SQUARE,
        **kw,  # type: ignore[arg-type]
    )


def solve(problem: RoutingProblem, engine: str) -> RoutingResult:
    result = solve_vrp(
        problem, engine=engine, budget=Budget.of(20.0, iteration_limit=300), seed=1
    )
    assert not [n for n in result.notes if n.startswith("check failed")], result.notes
    return result


engines = pytest.mark.parametrize("engine", ENGINES)


@engines
def test_kg_capacity_splits_the_tour(engine: str) -> None:
    # 3 × 10 parcels of 10 kg; 200 kg per van: two routes, best {1,2} + {3} (or mirror).
    problem = square([10, 10, 10], (van(capacity_kg=200.0), van(capacity_kg=200.0)),
                     parcel_kg=10.0)
    result = solve(problem, engine)
    assert result.is_feasible()
    assert len(result.routes) == 2
    assert result.distance_km() == pytest.approx(20 + DIAG + 20, rel=1e-6)


@engines
def test_time_window_forces_the_far_corner_first(engine: str) -> None:
    # Station 2 must be served by minute 15 (reached directly at 14.14): the tour
    # starts with it and costs 2 × 14.14 + 2 × 10 instead of 40.
    windows = np.array([[0, 600], [0, 600], [0, 15], [0, 600]], dtype=float)
    result = solve(square([5, 5, 5], (van(),), time_window_min=windows), engine)
    assert result.is_feasible()
    (route,) = result.routes
    assert route.stops[0] == 2
    assert route.distance_km == pytest.approx(2 * DIAG + 20, rel=1e-6)


@engines
def test_opening_hours_delay_the_start(engine: str) -> None:
    # Station 1 opens at 100: the van leaves at 90 instead of waiting at the station.
    windows = np.array([[0, 600], [100, 200], [0, 600], [0, 600]], dtype=float)
    result = solve(square([5, 0, 0], (van(),), time_window_min=windows), engine)
    (route,) = result.routes
    assert route.start_min == pytest.approx(90.0)
    assert route.duration_min == pytest.approx(20.0)


@engines
def test_max_distance_forces_two_routes(engine: str) -> None:
    # One tour 0-1-3-0 is 34.1 km, over the 30 km limit: two out-and-back routes.
    problem = square([5, 0, 5], (van(max_route_distance_km=30.0),) * 2)
    result = solve(problem, engine)
    assert result.is_feasible()
    assert len(result.routes) == 2
    assert result.distance_km() == pytest.approx(40.0)


@engines
def test_pickup_and_delivery_order(engine: str) -> None:
    # Station 1 receives 60 kg of parcels, station 3 sends 60 kg of produce, payload
    # 100 kg: only 0-1-3-0 keeps the load within capacity (0-3-1-0 peaks at 120 kg).
    produce = np.array([0.0, 0.0, 0.0, 60.0])
    problem = square(
        [60, 0, 0],
        (van(capacity_kg=100.0),),
        parcel_kg=1.0,
        produce_kg_per_day=produce,
        pickup_produce=True,
    )
    result = solve(problem, engine)
    assert result.is_feasible()
    (route,) = result.routes
    assert route.stops == (1, 3)
    assert route.pickups_kg == (0.0, 60.0)


@engines
def test_multi_trip_reloads_at_the_depot(engine: str) -> None:
    # One van of 20 parcels, two stations of 15: two trips 0-1-0-3-0 = 40 km.
    problem = square([15, 0, 15], (van(capacity_parcels=20, max_trips=2),))
    result = solve(problem, engine)
    assert result.is_feasible()
    (route,) = result.routes
    assert sorted(route.trip_stops) == [(1,), (3,)]
    assert route.distance_km == pytest.approx(40.0)
    single = solve(square([15, 0, 15], (van(capacity_parcels=20),)), engine)
    assert len(single.unserved) == 1


@engines
def test_heterogeneous_fleet_uses_the_cheap_slow_tricycle_where_it_can(engine: str) -> None:
    # Tricycle: half speed, 45 min shift, 0.2/km, no fixed cost. It can do 0-1-0
    # (40 min, cost 4) but not 0-2-0 (56.6 min); the van takes 2 (50 + 28.28).
    # Van alone for both (50 + 34.14) is dearer: 82.28 < 84.14.
    trike = van(
        type_name="trike",
        capacity_parcels=20,
        cost_per_km=0.2,
        fixed_cost_per_day=0.0,
        speed_factor=0.5,
        max_route_duration_min=45.0,
    )
    result = solve(square([15, 15, 0], (van(), trike)), engine)
    assert result.is_feasible()
    by_vehicle = {r.vehicle: r.stops for r in result.routes}
    assert by_vehicle == {0: (2,), 1: (1,)}
    assert result.cost() == pytest.approx(4.0 + 50.0 + 2 * DIAG, rel=1e-6)


@engines
def test_too_small_fleet_leaves_the_cheapest_station_priced(engine: str) -> None:
    # Capacity 100, loads 80/30/60: serving {2, 3} (90 parcels) leaves the least
    # penalty; station 1 stays unserved at 80 × 1000.
    result = solve(square([80, 30, 60], (van(),)), engine)
    assert result.status == "partial"
    assert result.unserved == ((1, 80),)
    assert result.unserved_penalty == pytest.approx(80_000.0)


@engines
def test_each_vehicle_serves_from_its_own_depot(engine: str) -> None:
    # Depots 0 at (0, 0) and 1 at (100, 0); stations 2 near depot 0, 3 near depot 1.
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 10.0], [100.0, 10.0]])
    d = euclid(xy)
    problem = RoutingProblem(
        distance_km=d,
        time_min=d,
        parcels_per_day=np.array([0.0, 0.0, 10.0, 10.0]),
        vehicles=(van(depot=0), van(depot=1)),
        n_depots=2,
        xy=xy,
    )
    result = solve(problem, engine)
    assert result.is_feasible()
    assert sorted((r.vehicle, r.depot, r.stops) for r in result.routes) == [
        (0, 0, (2,)),
        (1, 1, (3,)),
    ]
    assert result.distance_km() == pytest.approx(40.0)


@engines
def test_service_time_counts_against_the_shift(engine: str) -> None:
    # 5 min at each station plus 5 min per stop for the van: the 40 km tour takes
    # 40 + 3 × 10 = 70 min, over the 60 min shift. Best two routes: {1, 2} (34.14 km +
    # 20 min) and {3} (20 km + 10 min), or their mirror image, 54.14 km in all.
    problem = square(
        [5, 5, 5],
        (van(max_route_duration_min=60.0, service_time_min=5.0),) * 2,
        service_time_min=np.array([0.0, 5.0, 5.0, 5.0]),
    )
    result = solve(problem, engine)
    assert result.is_feasible()
    assert result.distance_km() == pytest.approx(40 + DIAG, rel=1e-6)
    assert sorted(r.duration_min for r in result.routes) == pytest.approx(
        [30.0, 40.0 + DIAG], rel=1e-6
    )
    without = solve(replace(problem, service_time_min=None), engine)
    assert len(without.routes) == 1  # 40 + 3 × 5 = 55 min fits one shift


@engines
def test_shift_start_and_end_bound_the_day(engine: str) -> None:
    # Shift 100 → 135 min: the 40 km tour does not fit, {1, 2} + {3} does.
    problem = square([5, 5, 5], (van(shift_start_min=100.0, shift_end_min=135.0),) * 2)
    result = solve(problem, engine)
    assert result.is_feasible()
    assert len(result.routes) == 2
    assert result.distance_km() == pytest.approx(40 + DIAG, rel=1e-6)
    for r in result.routes:
        assert r.start_min >= 100.0 - 1e-9
        assert r.start_min + r.duration_min <= 135.0 + 1e-6


@engines
def test_multi_trip_day_stays_within_the_shift(engine: str) -> None:
    # Two trips of 20 min each would need 40 min; the shift is 30: one station is left
    # out and priced (both cost the same, so either may be).
    problem = square(
        [15, 0, 15], (van(capacity_parcels=20, max_trips=2, max_route_duration_min=30.0),)
    )
    result = solve(problem, engine)
    assert result.status == "partial"
    assert len(result.unserved) == 1 and result.unserved[0][1] == 15
    (route,) = result.routes
    assert route.distance_km == pytest.approx(20.0)
    assert route.duration_min <= 30.0


@engines
def test_station_dearer_to_serve_than_its_penalty_is_left_out(engine: str) -> None:
    # No fixed cost, 5 per unserved parcel. Serving all: 40 km. Leaving station 2
    # (1 parcel, penalty 5) out: 0-1-3-0 = 34.14 km + 5 = 39.14, the optimum; leaving
    # 1 or 3 out costs 50 in penalty.
    problem = square(
        [10, 1, 10], (van(fixed_cost_per_day=0.0),), unserved_penalty_per_parcel=5.0
    )
    result = solve(problem, engine)
    assert result.status == "partial"
    assert result.unserved == ((2, 1),)
    assert result.unserved_penalty == pytest.approx(5.0)
    assert result.distance_km() == pytest.approx(20 + DIAG, rel=1e-6)


def random_problem(n: int = 25, seed: int = 3) -> RoutingProblem:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 50, size=(n + 1, 2))
    d = euclid(xy)
    return RoutingProblem(
        distance_km=d,
        time_min=d,
        parcels_per_day=np.concatenate([[0.0], rng.integers(5, 30, n)]),
        vehicles=(van(),) * 8,
        xy=xy,
    )


@engines
def test_same_seed_same_routes(engine: str) -> None:
    problem = random_problem()
    first = solve(problem, engine)
    second = solve(problem, engine)
    assert [r.stops for r in first.routes] == [r.stops for r in second.routes]
    assert first.cost() == second.cost()


@engines
def test_reported_figures_match_the_evaluator(engine: str) -> None:
    problem = random_problem(seed=5)
    result = solve(problem, engine)
    check = evaluate(problem, result.routes)
    assert check.feasible
    assert check.cost == pytest.approx(result.cost())
    assert check.distance_km == pytest.approx(result.distance_km())


# --- the evaluator rejects hand-made infeasible solutions ---------------------------


def route(vehicle: int, stops: tuple[int, ...], loads: tuple[int, ...], **kw: object) -> Route:
    return Route(vehicle, stops, loads, 0.0, 0.0, 0.0, **kw)  # type: ignore[arg-type]


def test_evaluator_accepts_a_correct_solution() -> None:
    problem = square([10, 10, 10], (van(),), optional=False)
    check = evaluate(problem, [route(0, (1, 2, 3), (10, 10, 10))])
    assert check.feasible
    assert check.cost == pytest.approx(90.0)


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ([route(0, (1, 2, 3), (60, 60, 60))], "capacity"),
        ([route(0, (1, 2), (10, 10))], "not fully served"),
        ([route(0, (1, 2, 3, 1), (5, 10, 10, 5))], "visited 2 times"),
        ([route(0, (1,), (10,)), route(0, (2, 3), (10, 10))], "more than one route"),
        ([route(0, (1, 2, 3), (10, 10, 10), depot=1)], "not its depot"),
        ([route(0, (1, 2, 3), (10, 10, 20))], "ordered"),
        ([route(5, (1, 2, 3), (10, 10, 10))], "does not exist"),
    ],
)
def test_evaluator_rejects(routes: list[Route], message: str) -> None:
    problem = square([10, 10, 10], (van(), van(max_route_duration_min=30.0)), optional=False)
    check = evaluate(problem, routes)
    assert not check.feasible
    assert any(message in v for v in check.violations), check.violations


def test_evaluator_rejects_a_closed_window_and_a_long_day() -> None:
    windows = np.array([[0, 600], [0, 600], [0, 15], [0, 600]], dtype=float)
    problem = square([5, 5, 5], (van(max_route_duration_min=35.0),), time_window_min=windows)
    check = evaluate(problem, [route(0, (1, 2, 3), (5, 5, 5))])
    assert any("window closes" in v for v in check.violations)
    assert any("longer than 35" in v for v in check.violations)


def test_evaluator_rejects_produce_overload() -> None:
    produce = np.array([0.0, 0.0, 0.0, 60.0])
    problem = square(
        [60, 0, 0],
        (van(capacity_kg=100.0),),
        parcel_kg=1.0,
        produce_kg_per_day=produce,
        pickup_produce=True,
    )
    good = evaluate(problem, [route(0, (1, 3), (60, 0), pickups_kg=(0.0, 60.0))])
    bad = evaluate(problem, [route(0, (3, 1), (0, 60), pickups_kg=(60.0, 0.0))])
    assert good.feasible
    assert any("120.0 kg" in v for v in bad.violations)


def test_evaluator_rejects_too_many_trips_and_too_long_routes() -> None:
    problem = square([5, 0, 5], (van(max_route_distance_km=30.0),))
    trips = evaluate(problem, [route(0, (1, 3), (5, 5), trips=((1,), (3,)))])
    assert any("at most 1" in v for v in trips.violations)
    far = evaluate(problem, [route(0, (1, 3), (5, 5))])
    assert any("longer than 30" in v for v in far.violations)


def test_config_fleet_expands_with_depot_shift_and_trips() -> None:
    from rural_logistics.config import VehicleType
    from rural_logistics.routing import expand_fleet

    types = (
        VehicleType(name="van", capacity_parcels=10, count=2),
        VehicleType(
            name="hub_trike",
            capacity_parcels=5,
            count=1,
            depot="H2",
            shift_start_min=420,
            max_route_duration_min=300,
            capacity_kg=150,
            max_route_distance_km=60,
            max_trips=3,
        ),
    )
    specs = expand_fleet(types, depot_of={"DC": 0, "H2": 1})
    assert [s.depot for s in specs] == [0, 0, 1]
    trike = specs[2]
    assert (trike.shift_start_min, trike.shift_end_min) == (420.0, 720.0)
    assert (trike.capacity_kg, trike.max_route_distance_km, trike.max_trips) == (150.0, 60.0, 3)
    assert specs[0].capacity_kg is None and specs[0].max_trips == 1


def test_rounding_that_could_change_the_answer_is_noted() -> None:
    # Whole-km and whole-minute units round the 14.14 km diagonals by 0.14.
    coarse = square(
        [5, 5, 5], (van(max_route_duration_min=45.0),), distance_scale_per_km=1,
        time_scale_per_min=1,
    )
    notes = solve(coarse, "pyvrp").notes
    assert any("distances rounded to 1/1 km" in n for n in notes)
    assert any("travel times rounded to 1/1 min" in n for n in notes)
    fine = solve(square([5, 5, 5], (van(),)), "pyvrp").notes
    assert not any("rounded" in n for n in fine)


def test_evaluator_rejects_service_time_shift_and_multi_trip_overruns() -> None:
    service = np.array([0.0, 5.0, 5.0, 5.0])
    long_service = square(
        [5, 5, 5], (van(max_route_duration_min=60.0),), service_time_min=service
    )
    check = evaluate(long_service, [route(0, (1, 2, 3), (5, 5, 5))])
    assert check.feasible  # 40 km + 3 × 5 min = 55 min
    assert check.metrics[0].duration_min == pytest.approx(55.0)
    slow = replace(long_service, vehicles=(van(max_route_duration_min=60.0, service_time_min=5.0),))
    check = evaluate(slow, [route(0, (1, 2, 3), (5, 5, 5))])
    assert any("day of 70.00 min is longer than 60" in v for v in check.violations)
    late = square([5, 5, 5], (van(shift_start_min=100.0, shift_end_min=135.0),))
    check = evaluate(late, [route(0, (1, 2, 3), (5, 5, 5))])
    assert any("returns at 140.00 min, after its shift ends (135)" in v for v in check.violations)
    trips = square(
        [15, 0, 15], (van(capacity_parcels=20, max_trips=2, max_route_duration_min=30.0),)
    )
    check = evaluate(trips, [route(0, (1, 3), (15, 15), trips=((1,), (3,)))])
    assert any("day of 40.00 min is longer than 30" in v for v in check.violations)
    assert evaluate(trips, [route(0, (1,), (15,))]).feasible
