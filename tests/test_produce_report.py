"""Farm produce reported per station, per trip and in total, and what is left behind and
why (issue 17, part 2), on the 3 × 3 grid (villages offer 0, 10, …, 80 kg/day: 360 kg).

Every figure is recomputed here from another layer: the summary's collected kilograms
from the stops the routes make, the stations layer's from the same, the left behind as
offered minus collected, its reasons adding up to it.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from conftest import write_grid_region

from rural_logistics import load_config, plan_region
from rural_logistics.cli import main
from rural_logistics.plan import Plan

VILLAGE_PRODUCE_KG = sum(10.0 * k for k in range(9))  # 360


def plan_of(folder: Path, **extra: object) -> Plan:
    config = load_config(write_grid_region(folder, extra_config={
        "solver": {"time_limit_s": 1, "seed": 1}, **extra}))
    return plan_region(config)


def assert_consistent(plan: Plan) -> None:
    s = plan.summary
    produce = s["produce"]
    stations = plan.stations
    routes = plan.routes
    offered = produce["offered_kg_per_day"]
    collected = produce["collected_kg_per_day"]
    left = produce["left_behind_kg_per_day"]
    assert offered == pytest.approx(float(plan.villages["produce_kg_per_day"].sum()), abs=0.1)
    assert collected + left == pytest.approx(offered, abs=0.15)
    assert sum(produce["left_behind_by_reason_kg_per_day"].values()) == pytest.approx(
        left, abs=0.15)
    assert s["produce_collected_kg_per_day"] == collected
    assert s["produce_left_behind_kg_per_day"] == left
    # Per station: collected + left = offered; the sums are the summary's.
    per_station = (stations["produce_kg_collected_per_day"]
                   + stations["produce_kg_left_per_day"])
    assert np.allclose(per_station, stations["produce_kg_per_day"], atol=0.15)
    assert float(stations["produce_kg_collected_per_day"].sum()) == pytest.approx(
        collected, abs=0.2)
    assert (stations["produce_left_reason"] != "").sum() == len(
        produce["stations_left_behind"])
    # The routes layer: the trips' produce (stations at the depot hand theirs in there).
    at_depot = stations["served_by"] == "depot"
    routed = float(stations.loc[~at_depot, "produce_kg_collected_per_day"].sum())
    trips = float(routes["produce_kg"].sum()) if len(routes) else 0.0
    assert trips == pytest.approx(routed, abs=0.2)
    if plan.stops is not None and len(plan.stops):
        visits = plan.stops[plan.stops["kind"] == "station"]
        assert float(visits["produce_kg_collected"].sum()) == pytest.approx(trips, abs=0.2)


def test_produce_collected_in_full_and_the_load_within_capacity(tmp_path: Path) -> None:
    plan = plan_of(tmp_path / "g", routing={"pickup_produce": True, "parcel_kg": 0.5},
                   fleet={"vehicles": [{"name": "van", "capacity_parcels": 500, "count": 2,
                                        "capacity_kg": 400, "cost_per_km": 2.0,
                                        "fixed_cost_per_day": 100}]})
    produce = plan.summary["produce"]
    assert produce["pickup_produce"] is True
    assert produce["offered_kg_per_day"] == pytest.approx(VILLAGE_PRODUCE_KG)
    assert produce["collected_kg_per_day"] == pytest.approx(VILLAGE_PRODUCE_KG)
    assert produce["left_behind_kg_per_day"] == 0.0
    assert produce["stations_left_behind"] == []
    assert_consistent(plan)
    routes = plan.routes
    assert (routes["peak_load_kg"] <= routes["capacity_kg"] + 1e-6).all()
    assert produce["max_load_kg"] == pytest.approx(float(routes["peak_load_kg"].max()))
    assert produce["max_load_share_of_capacity_kg"] == pytest.approx(
        produce["max_load_kg"] / 400, abs=1e-3)
    assert plan.stops is not None
    assert (plan.stops["load_kg_on_board"] <= 400 + 0.05).all()


def test_no_pickup_leaves_everything_behind_as_not_planned(tmp_path: Path) -> None:
    plan = plan_of(tmp_path / "g", demand={"parcels_per_capita_per_year": 365,
                                           "scenarios": {"normal": 1.0, "harvest": 1.0},
                                           "produce_multiplier": {"harvest": 2.0}},
                   scenario="harvest")
    produce = plan.summary["produce"]
    assert produce["pickup_produce"] is False
    assert produce["produce_multiplier"] == 2.0
    assert produce["offered_kg_per_day"] == pytest.approx(2 * VILLAGE_PRODUCE_KG)
    at_depot = float(plan.stations.loc[plan.stations["served_by"] == "depot",
                                       "produce_kg_per_day"].sum())
    assert produce["collected_kg_per_day"] == pytest.approx(at_depot, abs=0.1)
    assert produce["left_behind_by_reason_kg_per_day"]["not_planned"] == pytest.approx(
        2 * VILLAGE_PRODUCE_KG - at_depot, abs=0.1)
    assert {r["reason"] for r in produce["stations_left_behind"]} == {"not_planned"}
    assert_consistent(plan)


def test_a_short_payload_leaves_produce_behind_for_capacity(tmp_path: Path) -> None:
    # One van, 100 kg payload, one trip, for 360 kg of produce: at most 100 kg collected.
    plan = plan_of(tmp_path / "g", routing={"pickup_produce": True},
                   fleet={"vehicles": [{"name": "van", "capacity_parcels": 900, "count": 1,
                                        "capacity_kg": 100, "cost_per_km": 2.0,
                                        "fixed_cost_per_day": 100}]})
    produce = plan.summary["produce"]
    routed = float(plan.stations.loc[plan.stations["served_by"] != "depot",
                                     "produce_kg_per_day"].sum())
    assert produce["left_behind_kg_per_day"] >= routed - 100 - 0.1
    assert produce["left_behind_by_reason_kg_per_day"]["capacity"] == pytest.approx(
        produce["left_behind_kg_per_day"])
    assert {r["reason"] for r in produce["stations_left_behind"]} == {"capacity"}
    assert_consistent(plan)


def test_cli_prints_the_produce_line(tmp_path: Path) -> None:
    path = write_grid_region(tmp_path / "g", extra_config={
        "solver": {"time_limit_s": 1, "seed": 1}, "routing": {"pickup_produce": True}})
    out, err = io.StringIO(), io.StringIO()
    code = main(["solve", str(path), "--out", str(tmp_path / "run"), "--no-map", "-q"],
                stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    assert "produce: collected 360.0 of 360.0 kg/day (100.0%); heaviest load" in out.getvalue()
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert 'id="produce-table"' in html
