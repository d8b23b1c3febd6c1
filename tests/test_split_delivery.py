"""Split delivery: a station's parcels over several vehicles of any type, on both engines.

Hand-checkable instances on the 10 km square of ``test_routing`` (depot at a corner).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rural_logistics.routing import ENGINES, RoutingProblem, RoutingResult, VehicleSpec, evaluate
from rural_logistics.routing.model import build_visits, split_loads
from rural_logistics.routing.solve import solve_vrp
from rural_logistics.solvers.budget import Budget
from tests.test_routing import SQUARE, euclid

engines = pytest.mark.parametrize("engine", ENGINES)
INF = float("inf")


def vehicle(name: str, capacity: int, *, fixed: float = 50.0) -> VehicleSpec:
    return VehicleSpec(
        type_name=name, capacity_parcels=capacity, cost_per_km=1.0, fixed_cost_per_day=fixed,
        speed_factor=1.0, max_route_duration_min=600.0, service_time_min=0.0,
    )


def truck_and_vans(loads: list[float], *, split: bool) -> RoutingProblem:
    """One 1,200-parcel truck and two 500-parcel vans (2,200 parcels in all)."""
    d = euclid(SQUARE)
    return RoutingProblem(
        distance_km=d, time_min=d, parcels_per_day=np.array([0.0, *loads]),
        vehicles=(vehicle("truck", 1200, fixed=80.0), vehicle("van", 500), vehicle("van", 500)),
        split_delivery=split,
    )


def run(problem: RoutingProblem, engine: str) -> RoutingResult:
    return solve_vrp(problem, engine=engine, budget=Budget.of(20.0, iteration_limit=300))


def delivered(result: RoutingResult) -> dict[int, int]:
    out: dict[int, int] = {}
    for route in result.routes:
        for stop, amount in zip(route.stops, route.loads, strict=True):
            out[stop] = out.get(stop, 0) + amount
    return out


def test_loads_are_cut_for_every_vehicle_size() -> None:
    levels = [(1200, INF), (500, INF)]
    # 2,500 = 1,200 + 1,200 + 100; each 1,200 = 500 + 500 + 200 for the vans.
    pieces, skipped = split_loads(2500, 0.0, levels)
    assert [p for p, _ in pieces] == [500, 500, 200, 500, 500, 200, 100]
    assert skipped == 0
    assert [p for p, _ in split_loads(400, 0.0, levels)[0]] == [400]  # a whole visit
    # A size needing more than MAX_PIECES_PER_LEVEL parts of a load takes remainders only.
    assert split_loads(1300, 0.0, [(1200, INF), (100, INF)]) == ([(1200, 0.0), (100, 0.0)], 1)


@engines
def test_only_split_delivery_fits_the_fleet(engine: str) -> None:
    # Stations of 1,100, 600 and 500 parcels = 2,200 = the fleet's capacity.
    # Cut only for the truck (the old rule), 1,100 and 600 each need the one truck:
    # at most 1,100 + 500 + … = 1,600 parcels. Split over any type, the truck takes
    # 1,100 + 100 and the vans 500 + 500: everything.
    loads = [1100.0, 600.0, 500.0]
    whole = run(truck_and_vans(loads, split=False), engine)
    assert sum(delivered(whole).values()) <= 1600
    assert not whole.is_feasible()
    split = run(truck_and_vans(loads, split=True), engine)
    assert split.is_feasible(), split.summary()
    assert delivered(split) == {1: 1100, 2: 600, 3: 500}
    assert len(split.routes) == 3
    assert evaluate(truck_and_vans(loads, split=True), split.routes).feasible


@engines
def test_remainder_shared_between_vehicles(engine: str) -> None:
    # Three stations of 300 parcels, two 500-parcel vans: 900 ≤ 1,000, but no van can
    # take two whole stations; the third station is split 200 + 100 between them.
    d = euclid(SQUARE)
    problem = RoutingProblem(
        distance_km=d, time_min=d, parcels_per_day=np.array([0.0, 300.0, 300.0, 300.0]),
        vehicles=(vehicle("van", 500), vehicle("van", 500)), split_delivery=True,
    )
    result = run(problem, engine)
    assert result.is_feasible(), result.summary()
    assert delivered(result) == {1: 300, 2: 300, 3: 300}
    assert sorted(r.load for r in result.routes) == [400, 500]


def test_whole_station_visits_stay_whole() -> None:
    # Stations below the smallest vehicle are one visit each; the checker still rejects
    # a station visited twice without split delivery.
    problem = truck_and_vans([300.0, 200.0, 100.0], split=True)
    assert build_visits(problem).parcels.tolist() == [300, 200, 100]
    result = run(problem, "pyvrp")
    assert all(len(set(r.stops)) == len(r.stops) for r in result.routes)
    assert sum(len(r.stops) for r in result.routes) == 3  # each station visited once
    no_split = replace(problem, split_delivery=False)
    twice = [replace(result.routes[0], stops=(1, 1), loads=(150, 150), trips=(),
                     pickups_kg=())]
    assert any("visited 2 times" in v for v in evaluate(no_split, twice).violations)
    assert not any("visited" in v for v in evaluate(problem, twice).violations)
