"""Simultaneous pickup and delivery: the load rises and falls along the route (issue 17).

The hand-worked instance ("the ladder"): depot at (5, 0); P1 (0, 10) and P2 (10, 10)
hand over 5 kg of produce each; D1 (0, 20) and D2 (10, 20) receive 5 parcels of 1 kg
each; one van carries 10 kg. Every single tour leaves the depot with 10 kg (all the
deliveries) and comes back with 10 kg (all the pickups), so the load is within the
capacity at both ends; only the middle can overflow.

- The shortest tour P1-D1-D2-P2 (or reversed) is 2·√125 + 30 = 52.36 km, but it
  picks up 5 kg before delivering anything: 15 kg on board after its first stop.
- The best feasible tour delivers first: D1-D2-P2-P1 (or its mirror D2-D1-P1-P2),
  √425 + 10 + 10 + 10 + √125 = 61.80 km; two vans cost at least 74.16 km (and a second
  fixed cost). Enumerated by hand over the 8 feasible orders and the partitions.
"""

from __future__ import annotations

import csv
import itertools
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rural_logistics.benchmarks.vrpspd import FILE_SCALE, read_vrpspd, vrpspd_problem
from rural_logistics.cli import main
from rural_logistics.routing import (
    ENGINES,
    Evaluation,
    Route,
    RoutingProblem,
    VehicleSpec,
    evaluate,
    solve_vrp,
)
from rural_logistics.solvers.budget import Budget

LADDER = np.array([[5.0, 0.0], [0.0, 10.0], [0.0, 20.0], [10.0, 20.0], [10.0, 10.0]])
P1, D1, D2, P2 = 1, 2, 3, 4
SHORTEST_KM = 2 * math.sqrt(125) + 30  # 52.36, overflows
BEST_KM = math.sqrt(425) + 30 + math.sqrt(125)  # 61.80
# With 6 kg at each pickup no single tour fits (it would come back with 12 kg): one van
# with two trips, best {P1} out and back + D1-D2-P2: 2·√125 + √425 + 20 + √125.
TWO_TRIPS_KM = 3 * math.sqrt(125) + math.sqrt(425) + 20  # 74.16


def euclid(xy: np.ndarray) -> np.ndarray:
    diff = xy[:, None, :] - xy[None, :, :]
    return np.hypot(diff[..., 0], diff[..., 1])


def van(**changes: object) -> VehicleSpec:
    spec = VehicleSpec(
        type_name="van", capacity_parcels=100, cost_per_km=1.0, fixed_cost_per_day=50.0,
        speed_factor=1.0, max_route_duration_min=math.inf, service_time_min=0.0,
        capacity_kg=10.0,
    )
    return replace(spec, **changes)  # type: ignore[arg-type]


def ladder(produce_kg: float = 5.0, *, vehicles: tuple[VehicleSpec, ...] | None = None
           ) -> RoutingProblem:
    d = euclid(LADDER)
    return RoutingProblem(
        distance_km=d,
        time_min=d,
        parcels_per_day=np.array([0.0, 0.0, 5.0, 5.0, 0.0]),
        vehicles=vehicles or (van(), van()),
        produce_kg_per_day=np.array([0.0, produce_kg, 0.0, 0.0, produce_kg]),
        parcel_kg=1.0,
        pickup_produce=True,
        optional=False,
        xy=LADDER,
    )


def tour(stops: tuple[int, ...], problem: RoutingProblem, **kw: object) -> Route:
    parcels = problem.parcels_per_day
    produce = problem.produce_kg_per_day
    assert produce is not None
    return Route(
        0, stops, tuple(int(parcels[s]) for s in stops), 0.0, 0.0, 0.0,
        pickups_kg=tuple(float(produce[s]) for s in stops), **kw,  # type: ignore[arg-type]
    )


def test_checker_rejects_an_overflow_in_the_middle_only() -> None:
    problem = ladder()
    shortest = evaluate(problem, [tour((P1, D1, D2, P2), problem)])
    assert shortest.distance_km == pytest.approx(SHORTEST_KM)
    assert shortest.violations == ("vehicle 0 trip 1: load reaches 15.0 kg, capacity 10",)
    mirrored = evaluate(problem, [tour((P2, D2, D1, P1), problem)])
    assert not mirrored.feasible  # reversing does not help: it picks up first too
    best = evaluate(problem, [tour((D1, D2, P2, P1), problem)])
    assert best.feasible
    assert best.distance_km == pytest.approx(BEST_KM)


def test_checker_checks_each_trip_of_a_multi_trip_route() -> None:
    problem = ladder(6.0, vehicles=(van(max_trips=2),))
    one = evaluate(problem, [tour((D1, D2, P2, P1), problem)])
    assert one.violations == ("vehicle 0 trip 1: load reaches 12.0 kg, capacity 10",)
    two = evaluate(problem, [tour((P1, D1, D2, P2), problem, trips=((P1,), (D1, D2, P2)))])
    assert two.feasible
    assert two.distance_km == pytest.approx(TWO_TRIPS_KM)


def solve(problem: RoutingProblem, engine: str) -> tuple[float, list[Route]]:
    result = solve_vrp(problem, engine=engine, budget=Budget.of(20.0, iteration_limit=300),
                       seed=1)
    assert not [n for n in result.notes if n.startswith("check failed")], result.notes
    assert result.is_feasible()
    check = evaluate(problem, result.routes)
    assert check.feasible
    return check.distance_km, list(result.routes)


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_deliver_before_they_pick_up(engine: str) -> None:
    km, routes = solve(ladder(), engine)
    assert km == pytest.approx(BEST_KM)
    (route,) = routes
    assert route.stops in ((D1, D2, P2, P1), (D2, D1, P1, P2))
    assert route.pickups_kg[-2:] == (5.0, 5.0)


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_reload_between_trips_with_pickups(engine: str) -> None:
    km, routes = solve(ladder(6.0, vehicles=(van(max_trips=2),)), engine)
    assert km == pytest.approx(TWO_TRIPS_KM)
    (route,) = routes
    assert sorted(route.trip_stops, key=len) in (
        [(P1,), (D1, D2, P2)], [(P2,), (D2, D1, P1)]
    )


def ladder_file(scale: int = FILE_SCALE) -> str:
    """The ladder as an LKH-3 VRPSPD file (distances and loads × 10⁴)."""
    matrix = np.rint(euclid(LADDER) * scale).astype(int)
    pickup = [0, 5, 0, 0, 5]
    delivery = [0, 0, 5, 5, 0]
    lines = ["NAME : LADDER", "TYPE : VRPSPD", "DIMENSION : 5", "VEHICLES : 1",
             f"CAPACITY : {10 * scale}", "EDGE_WEIGHT_TYPE : EXPLICIT",
             "EDGE_WEIGHT_FORMAT : FULL_MATRIX", "EDGE_WEIGHT_SECTION"]
    lines += [" ".join(str(x) for x in row) for row in matrix]
    lines.append("PICKUP_AND_DELIVERY_SECTION")
    lines += [f"{i + 1} 0 0 10000000 0 {pickup[i] * scale} {delivery[i] * scale}"
              for i in range(5)]
    lines += ["DEPOT_SECTION", "1", "-1", "EOF"]
    return "\n".join(lines) + "\n"


def ladder_matrix_cost(order: tuple[int, ...]) -> float:
    matrix = np.rint(euclid(LADDER) * FILE_SCALE).astype(int)
    path = [0, *order, 0]
    return sum(int(matrix[a, b]) for a, b in itertools.pairwise(path)) / FILE_SCALE


def test_vrpspd_reader_and_its_own_checker(tmp_path: Path) -> None:
    path = tmp_path / "LADDER.vrpspd"
    path.write_text(ladder_file())
    data = read_vrpspd(path)
    assert data.delivery.tolist() == [0, 0, 50_000, 50_000, 0]
    assert data.pickup.tolist() == [0, 50_000, 0, 0, 50_000]
    assert data.capacity == 100_000
    problem = vrpspd_problem(data, vehicles=2)
    bad = Route(0, (P1, D1, D2, P2), (0, 50_000, 50_000, 0), 0.0, 0.0, 0.0,
                pickups_kg=(50_000.0, 0.0, 0.0, 50_000.0))
    broken, cost = data.check([bad])
    assert broken == ["LADDER: vehicle 0 carries 150000 on trip 1-2-3-4, capacity 100000"]
    assert cost == pytest.approx(SHORTEST_KM, abs=1e-3)
    assert not evaluate(problem, [bad]).feasible  # the routing evaluator agrees
    missing, _ = data.check([Route(0, (D1, D2, P2), (5, 5, 0), 0.0, 0.0, 0.0)])
    assert missing == ["LADDER: customer 1 visited 0 times"]


@pytest.mark.parametrize("engine", ENGINES)
def test_vrpspd_benchmark_command(tmp_path: Path, engine: str) -> None:
    data = tmp_path / "vrpspd"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "LADDER.vrpspd").write_text(ladder_file())
    best = ladder_matrix_cost((D1, D2, P2, P1))
    (data / "bks.csv").write_text(f"name,bks,tour_cost_div1e4\nLADDER,61.80,{best}\n")
    out = tmp_path / "rows.csv"
    code = main(["benchmark", "vrpspd", "--data", str(data), "--time-limit", "20",
                 "--iterations", "200", "--workers", "1", "--engine", engine,
                 "--out", str(out)])
    assert code == 0
    (row,) = list(csv.DictReader(out.open()))
    assert row["feasible"] == "yes"
    assert float(row["objective"]) == pytest.approx(best)
    assert float(row["gap_pct"]) == 0.0


def test_vrpspd_bad_file_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    data = tmp_path / "vrpspd"
    data.mkdir()
    (data / "BAD.vrpspd").write_text(ladder_file().replace("DIMENSION : 5", "DIMENSION : 6"))
    (data / "bks.csv").write_text("name,tour_cost_div1e4\nBAD,1\n")
    code = main(["benchmark", "vrpspd", "--data", str(data), "--time-limit", "1"])
    assert code != 0
    err = capsys.readouterr().err
    assert "BAD.vrpspd" in err and "EDGE_WEIGHT_SECTION has 25 numbers" in err


def two_deliveries(produce_kg: list[float], value: float | None) -> RoutingProblem:
    """D1 and D2 get 5 parcels (5 kg) each; produce per node after the depot."""
    d = euclid(LADDER)
    return RoutingProblem(
        distance_km=d, time_min=d,
        parcels_per_day=np.array([0.0, 0.0, 5.0, 5.0, 0.0]),
        vehicles=(van(),),
        produce_kg_per_day=np.array([0.0, *produce_kg]),
        parcel_kg=1.0, pickup_produce=True, produce_value_per_kg=value, xy=LADDER,
    )


def solve_priced(problem: RoutingProblem, engine: str) -> tuple[Evaluation, Route]:
    """Solve, check, and return the check and the one route."""
    result = solve_vrp(problem, engine=engine, budget=Budget.of(20.0, iteration_limit=300),
                       seed=1)
    check = evaluate(problem, result.routes)
    assert check.feasible and not check.unserved
    (route,) = result.routes
    return check, route


@pytest.mark.parametrize("engine", ENGINES)
def test_produce_never_keeps_parcels_from_being_delivered(engine: str) -> None:
    # D1 and D2 each hand over 6 kg of produce; one van of 10 kg, one trip. Both with
    # produce overflow after the first stop (10 − 5 + 6 = 11); the best plan delivers
    # all 10 parcels and collects 6 kg at the second station, leaving 6 kg behind at
    # 10 per kg: penalty 60, nothing unserved.
    problem = two_deliveries([0.0, 6.0, 6.0, 0.0], 10.0)
    check, route = solve_priced(problem, engine)
    assert check.penalty == pytest.approx(60.0)
    assert sorted(route.stops) == [D1, D2] and route.load == 10
    assert route.pickups_kg == (0.0, 6.0)
    # Without a price on produce it travels with its parcels: one station is left out.
    strict = evaluate(replace(problem, produce_value_per_kg=None), [route])
    assert len(strict.unserved) == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_produce_dearer_than_its_value_is_left_behind(engine: str) -> None:
    # P2 (10, 10) offers 5 kg and nothing to deliver. The tour D1-D2-P2 is
    # 20.62 + 10 + 10 + 11.18 = 51.80 km against D1-D2 alone 20.62 + 10 + 20.62 =
    # 51.23 km: P2 costs 0.57 km more. At 0.1 per kg its 5 kg are worth 0.5 (left
    # behind, penalty 0.5); at 1 per kg, 5 (collected).
    for value, collected in ((0.1, 0.0), (1.0, 5.0)):
        check, route = solve_priced(two_deliveries([0.0, 0.0, 0.0, 5.0], value), engine)
        assert sum(route.pickups_kg) == collected
        assert check.penalty == pytest.approx(value * (5.0 - collected))
