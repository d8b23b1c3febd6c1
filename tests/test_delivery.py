"""The delivery seam: one interface for direct, location-routing and two-echelon plans,
every route checked by the routing evaluator, config keys a mode ignores never silent."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import write_grid_region
from test_hubs_pipeline import FLEET, HUBS, _region_depots

from rural_logistics.config import load_config
from rural_logistics.delivery import (
    MODES,
    Delivery,
    DeliveryMode,
    DeliveryRequest,
    combine,
    delivery_mode,
    mode_name,
)
from rural_logistics.errors import InfeasibleError
from rural_logistics.pipeline import place_stations, plan_region
from rural_logistics.plan import CostSplit
from rural_logistics.region import prepare_region
from rural_logistics.routing.evaluate import evaluate
from rural_logistics.solvers.budget import Budget
from rural_logistics.validation import check_request, validate_inputs


def _hub_config(tmp_path: Path, *, fleet: dict | None = None, **extra: object) -> Path:
    path = write_grid_region(
        tmp_path / "grid", extra_config={"fleet": fleet or FLEET, "hubs": HUBS, **extra}
    )
    _region_depots(path)
    return path


def _delivered(path: Path) -> tuple[DeliveryMode, Delivery]:
    config = load_config(path)
    prepared = prepare_region(config)
    check = check_request(config, prepared)
    assert not check.problems and check.rules is not None
    budget = Budget.of(config.solver.time_limit_s)
    placement = place_stations(config, prepared, check.rules, budget=budget.share(0.5))
    mode = delivery_mode(config)
    return mode, mode.deliver(DeliveryRequest(config, prepared, placement, check.rules, budget))


def test_mode_follows_the_config(tmp_path: Path, grid_config_path: Path) -> None:
    assert mode_name(load_config(grid_config_path)) == "direct"
    assert mode_name(load_config(_hub_config(tmp_path))) == "two_echelon"
    assert set(MODES) == {"direct", "location_routing", "two_echelon", "peak_week", "weekly"}


def test_every_tier_is_checked_by_the_routing_evaluator(tmp_path: Path) -> None:
    _, delivery = _delivered(_hub_config(tmp_path))
    assert [t.tier for t in delivery.tiers] == ["trunk", "last_mile"]
    for tier in delivery.tiers:
        check = evaluate(tier.problem, tier.result.routes)
        assert check.feasible, check.violations
        assert not check.unserved
        # Figures on the routes are the evaluator's.
        for route, metrics in zip(tier.result.routes, check.metrics, strict=True):
            assert route.distance_km == pytest.approx(metrics.distance_km)
            assert route.cost == pytest.approx(metrics.cost)
    last_mile = delivery.tiers[1]
    # One node numbering: open station k is node n_depots + k.
    stops = {last_mile.station_of(s) for r in last_mile.result.routes for s in r.stops}
    assert stops == set(range(len(delivery.loads.open_sites)))
    # The trunk carries what the last mile delivers from the hubs.
    trunk = delivery.tiers[0]
    from_hubs = sum(r.load for r in last_mile.result.routes if r.depot != 0)
    assert sum(r.load for r in trunk.result.routes) == from_hubs


def test_two_echelon_honours_the_kilogram_capacity(tmp_path: Path) -> None:
    # 10 kg parcels, 2000 kg tricycles: 200 parcels a trip, not 600.
    fleet = {"vehicles": [FLEET["vehicles"][0],
                          {**FLEET["vehicles"][1], "capacity_kg": 2000}]}
    path = _hub_config(tmp_path, fleet=fleet, routing={"parcel_kg": 10})
    plan = plan_region(load_config(path))
    last_mile = plan.routes[plan.routes["tier"] == "last_mile"]
    assert len(last_mile) and last_mile["load_parcels"].max() <= 200
    assert not [w for w in plan.warnings if w.startswith("check failed")]


def test_two_echelon_honours_the_route_distance_limit(tmp_path: Path) -> None:
    # Without a limit the tricycle from the central hub H1 to station V2 drives 1.9 km;
    # with 1.5 km no open hub reaches V2 and back: it is unserved, and says why.
    fleet = {"vehicles": [FLEET["vehicles"][0],
                          {**FLEET["vehicles"][1], "max_route_distance_km": 1.5}]}
    plan = plan_region(load_config(_hub_config(tmp_path, fleet=fleet)))
    last_mile = plan.routes[plan.routes["tier"] == "last_mile"]
    assert len(last_mile) and last_mile["route_km"].max() <= 1.5
    (row,) = plan.summary["diagnosis"]
    assert row["station_id"] == "V2"
    assert row["reason"].endswith("is longer than its 1.5 km limit")
    assert plan.summary["status"] == "infeasible"


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        ({"station_hours_min": [480, 1080]}, "routing.station_hours_min is not supported "
                                             "with hubs"),
        ({"pickup_produce": True}, "routing.pickup_produce is not supported with hubs"),
    ],
)
def test_two_echelon_rejects_keys_it_cannot_honour(
    tmp_path: Path, routing: dict, message: str
) -> None:
    path = _hub_config(tmp_path, routing=routing)
    report = validate_inputs(path)
    assert any(p.startswith(message) for p in report.problems), report.problems
    with pytest.raises(InfeasibleError, match=message.replace(".", r"\.")):
        plan_region(load_config(path))


def test_two_echelon_warns_about_keys_it_ignores(tmp_path: Path) -> None:
    fleet = {"vehicles": [
        {**FLEET["vehicles"][0], "max_trips": 2},
        FLEET["vehicles"][1],
        {"name": "van", "capacity_parcels": 500, "count": 1},
    ]}
    path = _hub_config(tmp_path, fleet=fleet, routing={"engine": "ortools"})
    warnings = validate_inputs(path).warnings
    assert any("fleet.vehicles.0 (truck): max_trips = 2 is not used with hubs" in w
               for w in warnings)
    assert any("fleet.vehicles.2 (van) is not used with hubs" in w for w in warnings)
    assert any("routing.engine: ortools is not used with hubs" in w for w in warnings)
    # solve says it too: the check pass's warnings are the plan's.
    plan = plan_region(load_config(path))
    assert any("(van) is not used with hubs" in w for w in plan.summary["warnings"])


def test_direct_delivery_numbering_and_combination(grid_config_path: Path) -> None:
    _, day = _delivered(grid_config_path)
    (tier,) = day.tiers
    assert tier.tier == "direct" and tier.day == 0
    assert tier.node_ids[: tier.problem.n_depots] == ("DC1",)
    # Two days over the same stations: tiers side by side, loads and costs add up.
    second = replace(day, tiers=(replace(tier, day=1),))
    week = combine([day, second], mode="two_days")
    assert [t.day for t in week.tiers] == [0, 1]
    assert np.allclose(week.loads.parcels_per_day, 2 * day.loads.parcels_per_day)
    assert len(week.routing.routes) == 2 * len(day.routing.routes)
    assert week.routing.status == day.routing.status


def test_cost_split_adds_part_by_part() -> None:
    a = CostSplit(opening=10, fixed_vehicle=20, travel=5.5)
    b = CostSplit(opening=1, fixed_vehicle=2, travel=0.5, unserved_penalty=7)
    total = a + b
    assert (total.opening, total.fixed_vehicle, total.travel) == (11, 22, 6)
    assert total.village_transport is None and total.unserved_penalty == 7
    assert total.total == pytest.approx(a.total + b.total)
    assert list(a.as_dict()) == ["opening_per_day", "fixed_vehicle_per_day",
                                 "travel_per_day", "total_per_day"]


def test_demo_hubs_config_is_valid(repo_root: Path) -> None:
    import json

    report = validate_inputs(repo_root / "configs" / "demo_hubs.yaml")
    assert report.ok, report.problems
    assert report.config is not None and mode_name(report.config) == "two_echelon"
    # The hub candidates are copies of the township seats with the same number.
    folder = repo_root / "datasets" / "demo_county"
    hubs = json.loads((folder / "depots_hubs.geojson").read_text(encoding="utf-8"))
    towns = json.loads((folder / "towns.geojson").read_text(encoding="utf-8"))
    seat = {f["properties"]["id"]: f["geometry"]["coordinates"] for f in towns["features"]}
    ids = [f["properties"]["id"] for f in hubs["features"]]
    assert ids == ["DC1", "H02", "H03", "H04", "H07", "H13", "H14"]
    for f in hubs["features"][1:]:
        assert f["geometry"]["coordinates"] == seat["T" + f["properties"]["id"][1:]]
