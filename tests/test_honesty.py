"""Solver honesty: ``status`` in summary.json, diagnoses of unserved stations, determinism."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import write_grid_region

from rural_logistics.cli import main
from rural_logistics.metrics import run_status
from rural_logistics.routing import RoutingProblem, VehicleSpec
from rural_logistics.routing.diagnose import diagnose_unserved, is_proven

#: Fields that measure time, not the plan.
TIMING = {("solve_seconds",), ("placement", "solve_seconds"), ("routing", "solve_seconds")}


def solve(config: Path, out_dir: Path, *extra: str) -> dict:
    err = io.StringIO()
    code = main(["solve", str(config), "--out", str(out_dir), "-q", "--no-map", *extra],
                stdout=io.StringIO(), stderr=err)
    assert code == 0, err.getvalue()
    return json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))


# --- diagnosis on a hand-made problem ------------------------------------------------------

def van(**kw: object) -> VehicleSpec:
    spec = {"type_name": "van", "capacity_parcels": 100, "cost_per_km": 1.0,
            "fixed_cost_per_day": 0.0, "speed_factor": 1.0, "max_route_duration_min": 600.0,
            "service_time_min": 10.0, **kw}
    return VehicleSpec(**spec)  # type: ignore[arg-type]


def line_problem(vehicles: tuple[VehicleSpec, ...], **kw: object) -> RoutingProblem:
    """Depot 0; station 1 at 10 km, station 2 at 100 km (1 km/min both ways)."""
    d = np.array([[0.0, 10.0, 100.0], [10.0, 0.0, 90.0], [100.0, 90.0, 0.0]])
    args = {"distance_km": d, "time_min": d, "parcels_per_day": np.array([0.0, 30, 30]),
            "vehicles": vehicles, **kw}
    return RoutingProblem(**args)  # type: ignore[arg-type]


def test_round_trip_longer_than_the_shift_is_named() -> None:
    # Station 2: 100 + 10 + 100 = 210 min > 200 min shift; station 1 (30 min) is fine.
    problem = line_problem((van(max_route_duration_min=200.0),))
    (reason,) = diagnose_unserved(problem, [(2, 30)])
    assert reason == ("no vehicle can serve it: van: the round trip takes 210 min, more than "
                      "its 200 min shift")
    assert is_proven(reason)


def test_distance_limit_and_closing_time_are_named() -> None:
    problem = line_problem((van(max_route_distance_km=150.0),))
    assert "the round trip is 200.0 km, more than its 150 km limit" in (
        diagnose_unserved(problem, [(2, 30)])[0])
    hours = np.array([[0.0, 1440.0], [480.0, 1020.0], [480.0, 560.0]])
    problem = line_problem((van(shift_start_min=480.0),), time_window_min=hours)
    # Leaves at 480, arrives at 580 > closing at 560.
    assert "arrives at 580 min at the earliest, after the station closes (560)" in (
        diagnose_unserved(problem, [(2, 30)])[0])


def test_capacity_shortfall_and_unproven_time_shortage() -> None:
    problem = line_problem((van(capacity_parcels=40),))
    (reason,) = diagnose_unserved(problem, [(2, 30)])
    assert reason.startswith("fleet capacity: the vehicles carry at most 40 parcels/day")
    assert is_proven(reason)
    problem = line_problem((van(capacity_parcels=100),))
    (reason,) = diagnose_unserved(problem, [(2, 30)])
    assert reason.startswith("fleet time:") and not is_proven(reason)


# --- status ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("placement", "unserved", "proven", "expected"),
    [
        ("optimal", 0, 0, "feasible"),
        ("heuristic", 0, 0, "feasible"),
        ("feasible", 0, 0, "time_limit"),
        ("optimal", 2, 0, "partial"),
        ("feasible", 2, 1, "infeasible"),
    ],
)
def test_run_status(placement: str, unserved: int, proven: int, expected: str) -> None:
    status, detail = run_status(placement_status=placement, placement_gap=0.0123,
                                placement_bound=98.7, time_limit_s=5, n_unserved=unserved,
                                n_proven_unserved=proven)
    assert status == expected
    if placement == "feasible":
        assert ("stopped at its time limit (its share of the run's 5 s), gap 1.23% "
                "(bound 98.7)") in detail
    assert "no bound" in detail  # routing never claims optimality


def test_small_fleet_gives_infeasible_with_a_diagnosis_per_station(tmp_path: Path) -> None:
    # 9 villages × 100 parcels/day; one van carries 150: at most one station is served.
    config = write_grid_region(tmp_path / "grid", extra_config={"fleet": {"vehicles": [
        {"name": "van", "capacity_parcels": 150, "count": 1, "service_time_min": 5}]}})
    summary = solve(config, tmp_path / "run", "--time-limit", "1")
    assert summary["status"] == "infeasible"
    assert summary["diagnosis"]
    unserved_ids = {d["station_id"] for d in summary["diagnosis"]}
    assert len(unserved_ids) >= 1
    for d in summary["diagnosis"]:
        assert d["reason"].startswith("fleet capacity: the vehicles carry at most 150")
    assert any(w.startswith("unserved station ") for w in summary["warnings"])


def test_short_shift_names_every_station(tmp_path: Path) -> None:
    # A 4 min shift cannot even cover the 5 min service at the nearest station.
    config = write_grid_region(tmp_path / "grid", extra_config={"fleet": {"vehicles": [
        {"name": "van", "capacity_parcels": 500, "count": 2, "service_time_min": 5,
         "max_route_duration_min": 4}]}})
    summary = solve(config, tmp_path / "run", "--time-limit", "1")
    assert summary["status"] == "infeasible"
    assert summary["routes"] == 0
    assert len(summary["diagnosis"]) == summary["stations_open"] == 2
    for d in summary["diagnosis"]:
        assert d["reason"].startswith("no vehicle can serve it: van: the round trip takes")
        assert "more than its 4 min shift" in d["reason"]


def test_complete_plan_is_feasible_and_says_how_it_was_found(grid_config_path: Path,
                                                             tmp_path: Path) -> None:
    summary = solve(grid_config_path, tmp_path / "run", "--time-limit", "1")
    assert summary["status"] == "feasible"
    assert summary["diagnosis"] == []
    assert summary["placement"]["status"] == "optimal"
    assert summary["status_detail"].startswith("placement proven optimal; routing: best plan")


# --- determinism ------------------------------------------------------------------------------

def without_timing(summary: dict) -> dict:
    out = json.loads(json.dumps(summary))
    for path in TIMING:
        node = out
        for key in path[:-1]:
            node = node[key]
        node.pop(path[-1], None)
    return out


def test_same_config_and_seed_give_identical_summary(tmp_path: Path) -> None:
    config = write_grid_region(tmp_path / "grid")
    # 2 s: the stages share the run's budget, so each gets about the 1 s it had per stage.
    first = solve(config, tmp_path / "a", "--time-limit", "2")
    second = solve(config, tmp_path / "b", "--time-limit", "2")
    a = (tmp_path / "a" / "summary.json").read_text(encoding="utf-8")
    b = (tmp_path / "b" / "summary.json").read_text(encoding="utf-8")
    assert without_timing(first) == without_timing(second)
    # Byte-identical once the timing values are blanked (same keys, same order).
    blank = {json.dumps(without_timing(first), indent=2), json.dumps(without_timing(second),
                                                                     indent=2)}
    assert len(blank) == 1
    lines_a = [ln for ln in a.splitlines() if '"solve_seconds"' not in ln]
    lines_b = [ln for ln in b.splitlines() if '"solve_seconds"' not in ln]
    assert lines_a == lines_b
    assert math.isfinite(first["solve_seconds"])


def test_cli_prints_the_status_and_library_warnings_on_one_line(tmp_path: Path) -> None:
    # workers 1: the engine runs in this process, so its Python warnings reach ``err``.
    config = write_grid_region(tmp_path / "grid", extra_config={
        "fleet": {"vehicles": [{"name": "van", "capacity_parcels": 150, "count": 1}]},
        "routing": {"workers": 1}})
    out, err = io.StringIO(), io.StringIO()
    code = main(["solve", str(config), "--out", str(tmp_path / "run"), "-q", "--no-map",
                 "--time-limit", "1"], stdout=out, stderr=err)
    assert code == 0
    assert "status infeasible: " in out.getvalue()
    lines = err.getvalue().splitlines()
    assert lines and all(line.startswith("warning: ") for line in lines), lines
