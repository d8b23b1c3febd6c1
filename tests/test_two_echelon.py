"""Two-echelon toy: the hub to open is decided by trunk kilometres alone."""

from __future__ import annotations

import numpy as np
import pytest

from rural_logistics.lrp import evaluate_lrp
from rural_logistics.lrp.two_echelon import (
    TierFleet,
    TwoEchelonProblem,
    route_minutes,
    solve_two_echelon,
)
from rural_logistics.solvers.budget import Budget


def _toy(*, trunk: TierFleet) -> TwoEchelonProblem:
    # DC at the origin; four stations around (21, 0); hub N at (19, 0) and hub F at (23, 0)
    # are mirror images about x = 21, so every last-mile route costs the same from either.
    # F is cheaper to open (25 vs 30); N is 4 km nearer the DC.
    xy = np.array(
        [[0, 0], [19, 0], [23, 0], [20, 1], [20, -1], [22, 1], [22, -1]], dtype=float
    )
    diff = xy[:, None, :] - xy[None, :, :]
    return TwoEchelonProblem(
        distance_km=np.hypot(diff[..., 0], diff[..., 1]),
        parcels_per_day=np.array([10, 10, 10, 10]),
        hub_capacity_parcels=np.array([100.0, 100.0]),
        hub_opening_cost=np.array([30.0, 25.0]),
        trunk=trunk,
        last_mile=TierFleet(capacity_parcels=10, fixed_cost=10.0, cost_per_km=2.0),
    )


def test_hub_nearer_the_dc_opens_because_of_trunk_km() -> None:
    truck = TierFleet(capacity_parcels=100, fixed_cost=20.0, cost_per_km=1.0)
    problem = _toy(trunk=truck)
    sol = solve_two_echelon(problem, budget=Budget.of(1.0), seed=0)
    assert sol.open_hubs == (0,)
    # Hand optimum: one van per station (10 parcels each): two round trips of 2·√2 km and
    # two of 2·√10 km from N at 2/km + 10; one truck round trip DC–N of 38 km (20 + 38);
    # opening 30. From F the van trips are the same, the truck drives 46 km.
    van_km = 4 * np.sqrt(2) + 4 * np.sqrt(10)
    assert sol.total_cost == pytest.approx(40 + 2 * van_km + 58 + 30)
    assert sol.opening_cost == 30 and sol.trunk_km == pytest.approx(38)
    assert sol.fixed_vehicle_cost == pytest.approx(4 * 10 + 20)
    assert sol.travel_cost == pytest.approx(2 * van_km + 38)
    assert sol.last_mile_km == pytest.approx(van_km)
    assert [s.parcels for r in sol.trunk_routes for s in r] == [40]
    lm = problem.last_mile_problem()
    check = evaluate_lrp(lm, (1,), sol.last_mile_routes)
    assert check.feasible and {r.depot for r in sol.last_mile_routes} == {1}


def test_without_trunk_cost_the_cheaper_hub_to_open_wins() -> None:
    free = TierFleet(capacity_parcels=100, fixed_cost=0.0, cost_per_km=0.0)
    sol = solve_two_echelon(_toy(trunk=free), budget=Budget.of(1.0), seed=0)
    assert sol.open_hubs == (1,)  # same last mile, lower opening cost: only trunk km differ


def test_last_mile_shift_splits_routes_and_leaves_the_unreachable_station() -> None:
    # One hub N at (19, 0) (the DC does not serve stations), stations A (20, 1),
    # B (22, 1), C (22, -1), D (20, -1) with 10 parcels each and E (19, 12) with 5; a
    # 100-parcel vehicle at 60 km/h (minutes = km), 10 min per stop, a 30 min shift.
    # One route through A-D would take 8.83 + 40 min: the best split is two routes of two
    # neighbours (A B | C D or A D | B C: 13.15 km together, 26.6 and 24.8 min at most).
    # E's round trip alone takes 24 + 10 = 34 min: unserved, priced at 7 per parcel.
    xy = np.array(
        [[0, 0], [19, 0], [20, 1], [22, 1], [22, -1], [20, -1], [19, 12]], dtype=float
    )
    dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    problem = TwoEchelonProblem(
        distance_km=dist,
        parcels_per_day=np.array([10, 10, 10, 10, 5]),
        hub_capacity_parcels=np.array([100.0]),
        hub_opening_cost=np.array([30.0]),
        trunk=TierFleet(capacity_parcels=100, fixed_cost=20.0, cost_per_km=1.0),
        last_mile=TierFleet(
            capacity_parcels=100, fixed_cost=10.0, cost_per_km=2.0,
            max_route_duration_min=30.0, service_time_min=10.0,
        ),
        dc_serves_stations=False,
        time_min=dist.copy(),
        unserved_penalty_per_parcel=7.0,
    )
    sol = solve_two_echelon(problem, budget=Budget.of(0.5), seed=0)
    assert sol.open_hubs == (0,) and sol.unserved == (4,)
    assert sol.unserved_penalty == pytest.approx(35.0)
    routes = sol.last_mile_routes
    assert len(routes) == 2 and sorted(len(r.customers) for r in routes) == [2, 2]
    for r in routes:
        assert route_minutes(problem, r.depot, r.customers) <= 30.0
    pair_km = 2 * np.sqrt(2) + 2 * np.sqrt(10) + 4  # both pairings of neighbours
    assert sol.last_mile_km == pytest.approx(pair_km)
    # Trunk: 40 parcels to N, one truck, 38 km; opening 30.
    assert sol.trunk_km == pytest.approx(38.0)
    assert sol.total_cost == pytest.approx(30 + 2 * 10 + 2 * pair_km + 20 + 38 + 35)
