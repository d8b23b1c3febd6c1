"""Proven delivery bounds on hand-checkable instances (the 10 km square, 60 km/h)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rural_logistics.routing import RoutingProblem, VehicleSpec, solve_vrp
from rural_logistics.routing.bounds import delivery_bound
from rural_logistics.solvers.budget import Budget
from tests.test_routing import SQUARE, euclid


def van(*, capacity: int = 500, duration: float = 600.0, trips: int = 1) -> VehicleSpec:
    return VehicleSpec(
        type_name="van", capacity_parcels=capacity, cost_per_km=1.0, fixed_cost_per_day=50.0,
        speed_factor=1.0, max_route_duration_min=duration, service_time_min=0.0,
        max_trips=trips,
    )


def square(loads: list[float], vehicles: tuple[VehicleSpec, ...]) -> RoutingProblem:
    d = euclid(SQUARE)
    return RoutingProblem(
        distance_km=d, time_min=d, parcels_per_day=np.array([0.0, *loads]), vehicles=vehicles,
        split_delivery=True,
    )


def test_fleet_capacity_binds_and_names_the_lift() -> None:
    # 900 parcels, one 500-parcel van: at most 500; one more van lifts it.
    bound = delivery_bound(square([300, 300, 300], (van(),)))
    assert bound.demand_parcels == 900
    assert bound.bounds["fleet_capacity"] == 500
    assert bound.binding == "fleet_capacity"
    assert bound.bound_parcels == 500
    assert bound.proven_shortfall == 400
    assert "1 more van" in bound.lift
    assert "2 trips per vehicle" in bound.lift


def test_shift_time_binds_for_repeated_trips() -> None:
    # 500 parcels at station 1 (20 min round trip), a 100-parcel van with 5 trips but a
    # 60 min day: at most 3 trips, 300 parcels, although capacity × trips is 500.
    problem = square([500, 0, 0], (van(capacity=100, duration=60.0, trips=5),))
    bound = delivery_bound(problem)
    assert bound.bounds["fleet_capacity"] == 500
    assert bound.bounds["shift_time"] == pytest.approx(300.0)
    assert bound.binding == "shift_time"
    # The search reaches the bound: three trips of 100.
    result = solve_vrp(problem, engine="pyvrp", budget=Budget.of(20.0, iteration_limit=300))
    assert sum(r.load for r in result.routes) == 300
    assert result.bound == bound


def test_reach_binds_for_a_station_beyond_every_shift() -> None:
    # The far corner (station 2) is a 28.3 min round trip; the shift is 25 min.
    bound = delivery_bound(square([100, 50, 100], (van(duration=25.0), van(duration=25.0))))
    assert bound.bounds["reach"] == 200
    assert bound.binding == "reach"
    assert "node 2" in bound.lift


def test_no_shortfall_when_the_fleet_suffices() -> None:
    bound = delivery_bound(square([300, 300, 300], (van(), van())))
    assert bound.binding == ""
    assert bound.proven_shortfall == 0.0
    assert bound.bound_parcels == 900


def test_zero_length_arcs_are_arcs() -> None:
    # A station at the depot (distance 0): its round trip is 0, not "unreachable".
    problem = square([100, 0, 0], (van(),))
    d = problem.distance_km.copy()
    d[0, 1] = d[1, 0] = 0.0
    bound = delivery_bound(replace(problem, distance_km=d, time_min=d))
    assert bound.binding == ""
