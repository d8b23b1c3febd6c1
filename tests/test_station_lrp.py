"""Single-tier location-routing (placement.method: location_routing) on tiny instances.

The array instance: two villages, three candidate sites. Site M is central for the
villagers (1 km from each) but sits at the end of a 25 km spur for the van; S1 and S2 are
at the villages, 10 km from the depot. The fixed-charge placement (opening + transport)
opens M; once the van is priced, S1 alone is cheapest. The joint optimum is found by
enumerating every open set with its best route (one van carries everything).
"""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from rural_logistics.cli import main
from rural_logistics.lrp.stations import (
    StationLrpProblem,
    engine_router,
    solve_station_lrp,
)
from rural_logistics.placement.models import solve_fixed_charge
from rural_logistics.placement.result import SiteRules
from rural_logistics.routing.model import RoutingProblem, VehicleSpec
from rural_logistics.solvers.budget import Budget

PARCELS = np.array([5.0, 5.0])
# Village → site road km (sites S1, S2, M): M is 1 km from both villages.
ACCESS_KM = np.array([[0.0, 4.0, 1.0], [3.0, 0.0, 1.0]])
OPENING = np.array([20.0, 20.0, 20.0])
# Depot, S1, S2, M: the van's road km (M at the end of a 25 km spur).
ROAD_KM = np.array(
    [
        [0.0, 10.0, 10.0, 25.0],
        [10.0, 0.0, 2.0, 16.0],
        [10.0, 2.0, 0.0, 16.0],
        [25.0, 16.0, 16.0, 0.0],
    ]
)
VAN = VehicleSpec(
    type_name="van", capacity_parcels=100, cost_per_km=1.0, fixed_cost_per_day=50.0,
    speed_factor=1.0, max_route_duration_min=480.0, service_time_min=5.0,
)


def _problem() -> StationLrpProblem:
    template = RoutingProblem(
        distance_km=ROAD_KM,
        time_min=ROAD_KM.copy(),  # 60 km/h
        parcels_per_day=np.zeros(4),
        vehicles=(VAN, VAN),
    )
    return StationLrpProblem(
        assign_cost=PARCELS[:, None] * ACCESS_KM,  # 1 per parcel-km
        parcels_per_day=PARCELS,
        produce_kg_per_day=np.zeros(2),
        opening_cost=OPENING,
        routing=template,
    )


def _enumerate() -> dict[tuple[int, ...], float]:
    """Total cost of every open set: opening + transport + one van's best tour."""
    cost = PARCELS[:, None] * ACCESS_KM
    totals = {}
    for size in (1, 2, 3):
        for key in itertools.combinations(range(3), size):
            transport = float(cost[:, list(key)].min(axis=1).sum())
            used = sorted({key[int(np.argmin(cost[i, list(key)]))] for i in range(2)})
            tour = min(
                sum(ROAD_KM[a, b] for a, b in itertools.pairwise([0, *(1 + s for s in p), 0]))
                for p in itertools.permutations(used)
            )
            totals[key] = float(OPENING[list(key)].sum()) + transport + 50.0 + tour
    return totals


def test_enumeration_differs_from_the_fixed_charge_answer() -> None:
    totals = _enumerate()
    placed = solve_fixed_charge(PARCELS[:, None] * ACCESS_KM, PARCELS, OPENING, time_limit_s=5)
    assert placed.open_sites.tolist() == [2]  # M: 20 + 5 + 5 = 30, the least
    assert min(totals, key=lambda k: totals[k]) == (0,)  # S1: 20 + 15 + 50 + 20 = 105
    assert totals[(0,)] == pytest.approx(105.0) and totals[(2,)] == pytest.approx(130.0)


def test_joint_plan_finds_the_enumerated_optimum() -> None:
    problem = _problem()
    start = solve_fixed_charge(
        problem.assign_cost, PARCELS, OPENING, time_limit_s=5
    )
    result = solve_station_lrp(
        problem,
        start=start,
        route=engine_router(problem.routing, seed=0, workers=1),
        budget=Budget.of(0.6),
    )
    totals = _enumerate()
    assert result.sequential.placement.open_sites.tolist() == [2]
    assert result.sequential.cost.total == pytest.approx(totals[(2,)])
    assert result.chosen == "joint"
    assert result.joint.placement.open_sites.tolist() == [0]
    assert result.joint.cost.total == pytest.approx(min(totals.values()))
    split = result.joint.cost
    assert (split.opening, split.village_transport, split.fixed_vehicle, split.travel) == (
        pytest.approx(20.0), pytest.approx(15.0), pytest.approx(50.0), pytest.approx(20.0)
    )
    assert result.saved_per_day == pytest.approx(25.0)
    assert result.joint.placement.assignment.tolist() == [0, 0]


def test_never_worse_than_the_sequential_plan() -> None:
    # Without the spur M is the best plan overall: the joint search must keep it.
    problem = _problem()
    road = ROAD_KM.copy()
    road[0, 3] = road[3, 0] = 9.0
    problem = StationLrpProblem(
        **{**problem.__dict__, "routing": RoutingProblem(
            distance_km=road, time_min=road.copy(), parcels_per_day=np.zeros(4),
            vehicles=(VAN, VAN),
        )}
    )
    start = solve_fixed_charge(problem.assign_cost, PARCELS, OPENING, time_limit_s=5)
    result = solve_station_lrp(
        problem, start=start, route=engine_router(problem.routing, seed=0, workers=1),
        budget=Budget.of(0.6),
    )
    assert result.chosen == "sequential"
    assert result.best.placement.open_sites.tolist() == [2]
    assert result.best.cost.total == pytest.approx(30.0 + 50.0 + 18.0)
    assert result.saved_per_day == 0.0


def test_side_constraints_hold_in_the_joint_search() -> None:
    # M kept open (an existing station): among the sets containing M, {M} itself is the
    # cheapest (130; {S1, M} and {S2, M} 146, all three 132), so nothing changes.
    problem = _problem()
    problem = StationLrpProblem(
        **{**problem.__dict__, "rules": SiteRules(locked=np.array([2]))}
    )
    start = solve_fixed_charge(
        problem.assign_cost, PARCELS, OPENING, rules=problem.rules, time_limit_s=5
    )
    result = solve_station_lrp(
        problem, start=start, route=engine_router(problem.routing, seed=0, workers=1),
        budget=Budget.of(0.6),
    )
    totals = _enumerate()
    assert min(v for k, v in totals.items() if 2 in k) == pytest.approx(totals[(2,)])
    assert 2 in result.best.placement.open_sites.tolist()
    assert result.best.cost.total == pytest.approx(totals[(2,)])


def _solve(tmp_path: Path, placement: dict) -> tuple[int, dict, str]:
    from conftest import write_grid_region

    fleet = {"vehicles": [{"name": "van", "capacity_parcels": 500, "count": 2,
                           "cost_per_km": 100.0, "fixed_cost_per_day": 100,
                           "service_time_min": 5}]}
    path = write_grid_region(
        tmp_path / "grid",
        extra_config={"placement": placement, "fleet": fleet, "routing": {"workers": 1}},
    )
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["solve", str(path), "--out", str(tmp_path / "run"), "--no-map", "--time-limit", "0.3"],
        stdout=out, stderr=err,
    )
    summary = (
        json.loads((tmp_path / "run" / "summary.json").read_text()) if code == 0 else {}
    )
    return code, summary, err.getvalue()


def test_solve_grid_moves_the_station_to_the_depot(tmp_path: Path) -> None:
    # One station (opening 1e6 each); 100 parcels/day per village, transport 1 per
    # parcel-km: the centre V5 costs 100 × 12.2 = 1220, the depot corner V1 1820. Vans
    # cost 100/km and carry 500: both plans need two trips (900 parcels), 4 × 2.05 km to
    # V5 but 4 × 0.05 km to V1 (50 m up the road from the depot): 820 against 20.
    code, summary, err = _solve(
        tmp_path,
        {"method": "location_routing", "opening_cost_per_day": 1_000_000,
         "transport_cost_per_parcel_km": 1.0},
    )
    assert code == 0, err
    lrp = summary["location_routing"]
    assert lrp["chosen"] == "joint"
    seq, joint = lrp["sequential"], lrp["joint"]
    assert seq["village_transport_per_day"] == pytest.approx(1220, abs=0.01)
    assert seq["travel_per_day"] == pytest.approx(820, abs=0.01)
    assert joint["village_transport_per_day"] == pytest.approx(1820, abs=0.01)
    assert joint["travel_per_day"] == pytest.approx(20, abs=0.01)
    for plan in (seq, joint):
        assert plan["opening_per_day"] == 1_000_000 and plan["fixed_vehicle_per_day"] == 200
        assert plan["routes"] == 2 and plan["stations_open"] == 1
    assert lrp["saved_per_day"] == pytest.approx(200, abs=0.01)
    assert summary["placement"]["method"] == "location_routing"
    assert summary["placement"]["status"] == "heuristic"
    assert summary["cost"]["travel_per_day"] == pytest.approx(20, abs=0.01)
    assert summary["stations_open"] == 1 and summary["unserved_villages"] == []


def test_location_routing_needs_an_opening_cost(tmp_path: Path) -> None:
    code, _, err = _solve(tmp_path, {"method": "location_routing"})
    assert code == 2
    lines = [x for x in err.splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and "opening_cost_per_day > 0" in lines[0]
