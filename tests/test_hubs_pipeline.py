"""Two-echelon planning through the pipeline on the 3 × 3 grid region."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from conftest import UTM, grid_xy, write_grid_region

from rural_logistics.config import load_config
from rural_logistics.errors import ConfigError, InfeasibleError
from rural_logistics.outputs import write_run
from rural_logistics.pipeline import plan_region

FLEET = {
    "vehicles": [
        {"name": "truck", "capacity_parcels": 2000, "count": 2, "cost_per_km": 1.0,
         "fixed_cost_per_day": 50, "service_time_min": 5},
        {"name": "tricycle", "capacity_parcels": 600, "count": 6, "cost_per_km": 100.0,
         "fixed_cost_per_day": 10, "service_time_min": 5},
    ]
}


def _region(tmp_path: Path, hubs: dict) -> Path:
    path = write_grid_region(tmp_path / "grid", extra_config={"fleet": FLEET, "hubs": hubs})
    _region_depots(path)
    return path


def _region_depots(path: Path) -> None:
    # DC at the south-west corner, hub candidate H1 at the centre, H2 at the north-east.
    gpd.GeoDataFrame(
        {"id": ["DC1", "H1", "H2"], "name": ["Depot", "Centre hub", "Corner hub"]},
        geometry=[shapely.Point(grid_xy(0, 0)), shapely.Point(grid_xy(1, 1)),
                  shapely.Point(grid_xy(2, 2))],
        crs=UTM,
    ).to_file(path.parent / "depots.geojson", driver="GeoJSON", engine="pyogrio")


HUBS = {
    "candidates": [
        {"depot_id": "H1", "opening_cost_per_day": 20, "capacity_parcels_per_day": 5000},
        {"depot_id": "H2", "opening_cost_per_day": 20, "capacity_parcels_per_day": 5000},
    ],
    "trunk_vehicle": "truck",
    "last_mile_vehicle": "tricycle",
}


def test_two_echelon_plan_opens_the_central_hub_and_splits_cost(tmp_path: Path) -> None:
    plan = plan_region(load_config(_region(tmp_path, HUBS)))
    two = plan.summary["two_echelon"]
    # Every depot after the DC is a hub candidate: no "depot not used" warning.
    assert not [w for w in plan.warnings if "depot" in w and "not used" in w]
    # Tricycle kilometres cost 100 each, truck kilometres 1: the central hub, next to both
    # stations' villages, pays for itself; the corner hub adds nothing.
    assert two["hubs_open"] == ["H1"]
    assert sorted(plan.depots["depot_id"]) == ["DC1", "H1"]
    assert list(plan.depots["role"]) == ["dc", "hub"]
    tiers = plan.routes["tier"].tolist()
    assert tiers.count("trunk") == two["trunk_routes"] == 1
    assert tiers.count("last_mile") == two["last_mile_routes"] >= 1
    trunk = plan.routes[plan.routes["tier"] == "trunk"].iloc[0]
    assert trunk["stops"] == "H1"
    assert trunk["load_parcels"] == plan.routes[plan.routes["tier"] == "last_mile"][
        "load_parcels"
    ].sum()
    cost = plan.summary["cost"]
    assert cost["opening_per_day"] == 20
    assert cost["fixed_vehicle_per_day"] == 50 + 10 * two["last_mile_routes"]
    assert cost["total_per_day"] == pytest.approx(
        20 + plan.routes["cost"].sum(), abs=0.05
    )
    assert cost["total_per_day"] == pytest.approx(
        cost["opening_per_day"] + cost["fixed_vehicle_per_day"] + cost["travel_per_day"],
        abs=0.02,
    )
    served = {s for ids in two["hub_stations"].values() for s in ids}
    assert served <= set(plan.stations["station_id"])
    # Outputs carry both tiers: the GeoPackage routes layer and the map.
    out = tmp_path / "run"
    write_run(plan, out)
    layer = gpd.read_file(out / "plan.gpkg", layer="routes")
    assert sorted(set(layer["tier"])) == ["last_mile", "trunk"]
    assert (out / "map.png").stat().st_size > 0


def test_single_tier_summary_has_the_cost_split(grid_config_path: Path) -> None:
    plan = plan_region(load_config(grid_config_path))
    cost = plan.summary["cost"]
    assert "two_echelon" not in plan.summary
    assert set(plan.routes["tier"]) <= {"direct"}
    assert cost["opening_per_day"] == 0
    assert cost["fixed_vehicle_per_day"] == 100 * len(plan.routes)
    assert cost["total_per_day"] == pytest.approx(plan.summary["total_cost_per_day"], abs=0.02)


def test_hub_vehicle_must_be_in_the_fleet(tmp_path: Path) -> None:
    bad = {**HUBS, "trunk_vehicle": "lorry"}
    with pytest.raises(ConfigError, match=r"hubs\.trunk_vehicle"):
        load_config(_region(tmp_path, bad))


def test_unknown_hub_id_names_the_key(tmp_path: Path) -> None:
    bad = {**HUBS, "candidates": [{"depot_id": "H9", "capacity_parcels_per_day": 100}]}
    with pytest.raises(
        InfeasibleError, match=r"hubs\.candidates\.0\.depot_id: 'H9' is not in depots"
    ):
        plan_region(load_config(_region(tmp_path, bad)))


def test_too_few_last_mile_vehicles_are_diagnosed_not_an_error(tmp_path: Path) -> None:
    # 900 parcels/day; one tricycle carries 600: one last-mile route is kept, the
    # stations of the other are unserved, priced and listed with the reason.
    fleet = {"vehicles": [FLEET["vehicles"][0], {**FLEET["vehicles"][1], "count": 1}]}
    path = write_grid_region(
        tmp_path / "grid", extra_config={"fleet": fleet, "hubs": HUBS}
    )
    _region_depots(path)
    plan = plan_region(load_config(path))
    summary = plan.summary
    assert summary["two_echelon"]["last_mile_routes"] == 1
    assert summary["status"] == "infeasible"
    diagnosis = summary["diagnosis"]
    assert diagnosis and all(
        d["reason"].startswith("fleet capacity: the 1 tricycle vehicles carry at most 600")
        for d in diagnosis
    )
    unserved = sum(d["unserved_parcels"] for d in diagnosis)
    served = plan.routes[plan.routes["tier"] == "last_mile"]["load_parcels"].sum()
    assert served + unserved == 900 and served <= 600
    assert summary["routing"]["unserved_penalty"] == pytest.approx(1000 * unserved)


def test_last_mile_shift_is_enforced(tmp_path: Path) -> None:
    # A 1-minute tricycle shift: no station can be reached and back in it (the nearest
    # stop alone takes the 5 min service), so every station is unserved and diagnosed.
    fleet = {"vehicles": [FLEET["vehicles"][0],
                          {**FLEET["vehicles"][1], "max_route_duration_min": 1}]}
    path = write_grid_region(
        tmp_path / "grid", extra_config={"fleet": fleet, "hubs": HUBS}
    )
    _region_depots(path)
    plan = plan_region(load_config(path))
    diagnosis = plan.summary["diagnosis"]
    assert len(diagnosis) == len(plan.stations) >= 1
    assert all(d["reason"].startswith("no vehicle can serve it: tricycle") for d in diagnosis)
    assert len(plan.routes) == 0  # nothing to carry: no last-mile and no trunk route


def test_a_depot_nothing_uses_is_named(tmp_path: Path) -> None:
    hubs = {**HUBS, "candidates": HUBS["candidates"][:1]}
    plan = plan_region(load_config(_region(tmp_path, hubs)))
    assert [w for w in plan.warnings if "not used" in w] == [
        "1 depot given but not used: H2 (the first, DC1, is the distribution centre; others "
        "serve as hubs.candidates[].depot_id or fleet.vehicles[].depot)"
    ]
