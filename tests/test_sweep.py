"""``rural-logistics sweep`` on the 3 × 3 grid, whose curve and targets are known by hand.

The grid (``conftest.write_grid_region``): nine villages of 100 people, 50 m north of the
nodes of a road grid with 1 km spacing; every village is a candidate site. The road
distance from a village to a neighbour's site is 0.05 + 1 + 0.05 = 1.1 km, to a diagonal
one 2.1 km. Numbering (column, row): V1 V2 V3 on the south row, V4 V5 V6, V7 V8 V9.

With a radius of 1.2 km a site covers itself and its grid neighbours: the centre V5
covers 5 villages, an edge site 4, a corner 3. So the most people K stations can cover:

- K = 1: 5/9 (the centre);
- K = 2: 7/9 (V5 + V2: {2, 4, 5, 6, 8} ∪ {1, 2, 3, 5}); no pair covers 8 (two sites
  cover at most 5 + 4 and the centre overlaps every edge site);
- K = 3: 9/9 (V2, V5, V8).

A 90 % target therefore needs 3 stations, and 2 cannot (at most 7/9 = 77.8 %). With a
radius of 0.5 km a site covers only its own village: K stations cover K/9, so 90 % needs
9 stations (8/9 = 88.9 % < 90 %).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import write_grid_region

from rural_logistics.cli import main
from rural_logistics.errors import ConfigError
from rural_logistics.frontier import best_step, knee, steps
from rural_logistics.sweep import (
    SweepSpec,
    parse_radii,
    parse_stations,
    parse_target,
    run_sweep,
    write_sweep,
)
from rural_logistics.sweep.files import CSV_COLUMNS
from rural_logistics.validation import load_checked_config


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A generous time limit: each proof takes milliseconds, but a loaded machine must not
    # turn a point into a time-limit one.
    return write_grid_region(tmp_path_factory.mktemp("grid"), extra_config={
        "placement": {"stations": 2, "radius_km": 1.2},
        "solver": {"time_limit_s": 60, "seed": 1}})


@pytest.fixture(scope="module")
def swept(grid: Path):  # type: ignore[no-untyped-def]
    return run_sweep(load_checked_config(grid),
                     SweepSpec(stations=(1, 2, 3, 4), target_coverage=0.9))


def test_curve_of_the_grid_by_hand(swept) -> None:  # type: ignore[no-untyped-def]
    rows = swept.summary["rows"]
    assert [r["stations"] for r in rows] == [1, 2, 3, 4]
    best = [r["best_within_radius_share"] for r in rows]
    assert best == pytest.approx([5 / 9, 7 / 9, 1.0, 1.0], abs=1e-4)
    assert [r["best_within_radius_bound"] for r in rows] == pytest.approx(best, abs=1e-4)
    # The p-median plans here cover as many as the best plan of each size.
    assert [r["population_within_radius_share"] for r in rows] == pytest.approx(best, abs=1e-4)
    assert all(r["placement_status"] == "optimal" and r["status"] == "optimal" for r in rows), [
        r["status_detail"] for r in rows]
    assert rows[0]["station_ids"] == ["V5"]
    assert rows[2]["station_ids"] == ["V2", "V5", "V8"]
    assert all(r["cost_per_day"] is None and r["vehicles_used"] is None for r in rows)
    curve = swept.summary["curves"][0]
    assert curve["knee_stations"] == 3
    assert [round(s["coverage_gain"] * 9) for s in curve["steps"]] == [2, 2, 0]
    assert curve["best_step_basis"] == "per added station"
    assert len(swept.plans) == 4 and [len(p.stations) for p in swept.plans] == [1, 2, 3, 4]


def test_target_ninety_percent_needs_three_and_two_cannot(swept) -> None:  # type: ignore[no-untyped-def]
    (target,) = swept.summary["targets"]
    assert target["reached"] and target["proven"]
    assert target["stations"] == 3
    assert target["best_share"] == pytest.approx(1.0)
    assert target["below_stations"] == 2
    assert target["below_bound_share"] == pytest.approx(7 / 9)
    assert sorted(target["station_ids"]) == ["V2", "V5", "V8"]
    assert "3 stations are the fewest" in target["statement"]
    assert "with 2 at most 77.78 %" in target["statement"]


def test_target_beyond_the_swept_numbers(grid: Path) -> None:
    # Radius 0.5 km: K stations cover K/9; 90 % needs 9, found beyond the swept 2 and 4.
    result = run_sweep(load_checked_config(grid),
                       SweepSpec(stations=(2, 4), radii_km=(0.5,), target_coverage=0.9))
    rows = result.summary["rows"]
    assert [r["best_within_radius_share"] for r in rows] == pytest.approx([2 / 9, 4 / 9],
                                                                          abs=1e-4)
    (target,) = result.summary["targets"]
    assert target["proven"] and target["stations"] == 9
    assert target["below_stations"] == 8
    assert target["below_bound_share"] == pytest.approx(8 / 9)


def test_target_no_number_of_stations_reaches(tmp_path: Path) -> None:
    path = write_grid_region(tmp_path / "g", extra_config={
        "placement": {"stations": 2, "radius_km": 0.5, "exclude_sites": ["V1", "V2", "V3"]},
        "solver": {"time_limit_s": 60}})
    result = run_sweep(load_checked_config(path),
                       SweepSpec(stations=(1, 2), target_coverage=0.9))
    (target,) = result.summary["targets"]
    assert not target["reached"] and target["proven"] and target["stations"] is None
    assert target["below_bound_share"] == pytest.approx(6 / 9)
    assert "no number of stations within the 6 usable candidate sites" in target["statement"]


def test_several_radii_share_one_placement_per_number(grid: Path) -> None:
    result = run_sweep(load_checked_config(grid),
                       SweepSpec(stations=(1, 3), radii_km=(1.2, 0.5, 2.5)))
    rows = result.summary["rows"]
    assert [(r["stations"], r["radius_km"]) for r in rows] == [
        (1, 1.2), (1, 0.5), (1, 2.5), (3, 1.2), (3, 0.5), (3, 2.5)]
    by = {(r["stations"], r["radius_km"]): r for r in rows}
    assert by[(1, 0.5)]["best_within_radius_share"] == pytest.approx(1 / 9, abs=1e-4)
    # 2.5 km reaches the diagonal neighbours (2.1 km): the centre covers all nine.
    assert by[(1, 2.5)]["best_within_radius_share"] == pytest.approx(1.0)
    assert by[(3, 0.5)]["station_ids"] == by[(3, 1.2)]["station_ids"]  # p-median: no radius
    assert len(result.plans) == 2 and [c["radius_km"] for c in result.summary["curves"]] == [
        1.2, 0.5, 2.5]


def test_routed_points_count_every_cost(tmp_path: Path) -> None:
    # Vans big enough for all 900 parcels/day, so every plan delivers everything and its
    # cost is comparable (a plan leaving parcels behind gets no per-cost step).
    van = {"name": "van", "capacity_parcels": 1000, "count": 3, "cost_per_km": 2.0,
           "fixed_cost_per_day": 100, "service_time_min": 5}
    grid = write_grid_region(tmp_path / "g", extra_config={
        "placement": {"stations": 2, "radius_km": 1.2, "opening_cost_per_day": 1000},
        "fleet": {"vehicles": [van]}})
    config = load_checked_config(grid, time_limit_s=4)
    result = run_sweep(config, SweepSpec(stations=(1, 3), route=True))
    for row, plan in zip(result.summary["rows"], result.plans, strict=True):
        s = plan.summary
        assert row["vehicles_used"] == s["vehicles_used"] >= 1
        assert row["cost_per_day"] == pytest.approx(s["cost"]["total_per_day"])
        assert row["cost_per_day"] > s["cost"]["travel_per_day"] > 0
        assert s["cost"]["opening_per_day"] == 1000 * row["stations"]
        assert row["cost_per_parcel"] == pytest.approx(
            row["cost_per_day"] / s["delivered_parcels_per_day"], rel=1e-3)
        assert row["delivered_share"] == pytest.approx(
            s["delivered_parcels_per_day"] / s["parcels_per_day"], abs=1e-4) == 1.0
        assert row["status"] == s["status"] and row["status_detail"] == s["status_detail"]
        assert row["routing_status"] == s["routing"]["status"]
        assert len(plan.routes) >= 1
    curve = result.summary["curves"][0]
    assert curve["best_step_basis"] == "per 1,000 of daily cost"
    step = curve["steps"][0]
    rows = result.summary["rows"]
    assert step["cost_added_per_day"] == pytest.approx(
        rows[1]["cost_per_day"] - rows[0]["cost_per_day"], abs=0.011)


def test_steps_knee_and_best_step_by_hand() -> None:
    k = np.array([10, 20, 30, 40])
    cov = np.array([0.5, 0.8, 0.9, 0.95])
    cost = np.array([1000.0, 2000.0, 2500.0, 4500.0])
    found = steps(k, cov, cost)
    assert [s.coverage_per_station for s in found] == pytest.approx([0.03, 0.01, 0.005])
    assert [s.coverage_per_1000_per_day for s in found] == pytest.approx([0.3, 0.2, 0.025])
    assert best_step(found) == 0
    # x scaled: 0, 1/3, 2/3, 1; y scaled: 0, 2/3, 8/9, 1 → farthest above the chord at 20.
    assert knee(k, cov) == 1
    assert knee(k, np.array([0.1, 0.2, 0.3, 0.4])) is None  # straight: no knee
    assert knee(k[:2], cov[:2]) is None
    no_cost = steps(k, cov, np.full(4, np.nan))
    assert all(np.isnan(s.coverage_per_1000_per_day) for s in no_cost)
    assert best_step(no_cost) == 0
    # A point without a comparable cost (a partial plan) leaves its steps out of the
    # per-cost choice: 30 → 40 is the only step priced.
    partial = steps(k, cov, np.array([np.nan, np.nan, 2500.0, 4500.0]))
    assert best_step(partial) == 2


def test_parsing_the_swept_values() -> None:
    assert parse_stations("10:30:10") == (10, 20, 30)
    assert parse_stations("40,10,10,20") == (10, 20, 40)
    assert parse_stations("10:25:10") == (10, 20)
    assert parse_radii("3") == (3.0,)
    assert parse_radii("2:3:0.5") == (2.0, 2.5, 3.0)
    assert parse_target("coverage=0.9") == 0.9
    assert parse_target("coverage=90%") == pytest.approx(0.9)
    for bad, text in (
        (lambda: parse_stations("10:5:1"), "--stations 10:5:1: expected FIRST:LAST:STEP"),
        (lambda: parse_stations("ten"), "--stations 'ten': expected FIRST:LAST:STEP"),
        (lambda: parse_stations("0:10:5"), "--stations 0:10:5: every number of stations"),
        (lambda: parse_stations("2.5"), "--stations 2.5: expected whole numbers"),
        (lambda: parse_radii("0,3"), "--radius-km 0,3: every radius must be above 0 km"),
        (lambda: parse_target("coverage=1.5"), "--target 'coverage=1.5': the coverage share"),
        (lambda: parse_target("cost=3"), "--target 'cost=3': expected coverage=SHARE"),
    ):
        with pytest.raises(ConfigError) as info:
            bad()
        (problem,) = info.value.problems
        assert problem.startswith(text), problem


def test_cli_writes_the_sweep_folder(grid: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    code, stdout, stderr = cli("sweep", str(grid), "--stations", "1:4:1", "--target",
                               "coverage=0.9", "--out", str(out))
    assert code == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "config.yaml", "report.html", "sweep.csv", "sweep_summary.json"]
    # Progress: one line per point.
    assert [line.split("]")[0].strip() for line in stderr.splitlines() if "] " in line] == [
        "[1/4", "[2/4", "[3/4", "[4/4"]
    assert "4 proven optimal" in stdout
    assert "knee at 3 stations (1.2 km)" in stdout
    assert "target: 3 stations are the fewest" in stdout
    table = list(csv.DictReader((out / "sweep.csv").open(encoding="utf-8")))
    assert tuple(table[0]) == CSV_COLUMNS
    assert [r["stations"] for r in table] == ["1", "2", "3", "4"]
    assert table[1]["best_within_radius_share"] == "0.7778"
    assert table[1]["cost_per_day"] == ""  # placement only: no cost known
    summary = json.loads((out / "sweep_summary.json").read_text(encoding="utf-8"))
    assert summary["targets"][0]["stations"] == 3
    assert summary["stations_swept"] == [1, 2, 3, 4]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="k-slider"' in page and page.count('class="sweep-map"') == 4
    assert "https://" not in page and "http://" not in page.replace("http://www.w3.org", "")


def test_cli_errors_are_one_line_and_keep_what_exists(grid: Path, tmp_path: Path) -> None:
    out = tmp_path / "kept"
    out.mkdir()
    (out / "old.txt").write_text("previous", encoding="utf-8")
    cases = [
        (["--stations", "5:1:1"], "error: --stations 5:1:1: expected FIRST:LAST:STEP"),
        # --force: the folder would be replaced, but only once the sweep is complete.
        (["--stations", "1:12:1", "--force"], "error: --stations 12: placement.stations = 12 is "
                                              "more than the 9 usable candidate sites"),
        (["--stations", "1:3:1", "--target", "coverage=2"], "error: --target 'coverage=2'"),
        (["--stations", "1:3:1"], f"error: {out}: folder exists and is not empty"),
    ]
    for extra, expected in cases:
        code, _, stderr = cli("sweep", str(grid), *extra, "--out", str(out), "-q")
        assert code == 2, (extra, stderr)
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and errors[0].startswith(expected), (extra, stderr)
        assert "Traceback" not in stderr
    assert [p.name for p in out.iterdir()] == ["old.txt"]


def test_a_method_without_a_number_of_stations_is_refused(tmp_path: Path) -> None:
    path = write_grid_region(tmp_path / "g", extra_config={
        "placement": {"method": "set_cover", "radius_km": 1.2},
        "solver": {"time_limit_s": 60}})
    code, _, stderr = cli("sweep", str(path), "--stations", "1:3:1", "--out",
                          str(tmp_path / "o"), "-q")
    assert code == 2
    assert stderr.strip() == (
        "error: placement.method = set_cover: a sweep over --stations needs a model that opens "
        "a given number of stations (p_median, max_coverage); pass --method p_median")
    code, _, stderr = cli("sweep", str(path), "--stations", "1:3:1", "--method", "max_coverage",
                          "--out", str(tmp_path / "o"), "-q")
    assert code == 0, stderr


def test_write_sweep_replaces_only_with_force(swept, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "s"
    write_sweep(swept, out)
    before = (out / "sweep.csv").read_text(encoding="utf-8")
    with pytest.raises(Exception, match="folder exists and is not empty"):
        write_sweep(swept, out)
    write_sweep(swept, out, force=True)
    assert (out / "sweep.csv").read_text(encoding="utf-8") == before
