"""Placement methods chosen in the config, run through the CLI on the 3 × 3 grid.

Villages sit on the vertical (village) roads, 50 m north of each node: a village is
1.0 km by road from its vertical neighbours and 1.1 km from its horizontal ones. With a
1.05 km radius a station covers its own column only, so three stations are needed and
the middle row (V4, V5, V6) serves every column at the least access cost.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyogrio
import pytest
from conftest import write_grid_region

from rural_logistics.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _solve(tmp_path: Path, placement: dict) -> tuple[int, dict, str]:
    config = write_grid_region(
        tmp_path / "grid", extra_config={"placement": {"radius_km": 1.05, **placement}}
    )
    out_dir = tmp_path / "run"
    code, _, err = run("solve", str(config), "--out", str(out_dir), "--no-map", "-q")
    summary = json.loads((out_dir / "summary.json").read_text()) if code == 0 else {}
    return code, summary, err


def test_set_cover_opens_the_middle_row(tmp_path: Path) -> None:
    code, summary, err = _solve(tmp_path, {"method": "set_cover"})
    assert code == 0, err
    placement = summary["placement"]
    assert placement["method"] == "set_cover"
    assert placement["status"] == "optimal"
    assert placement["objective_value"] == 3
    assert placement["bound"] == 3
    assert placement["gap"] == 0
    assert summary["stations_open"] == 3
    assert summary["population_within_radius_share"] == pytest.approx(1.0)
    stations = pyogrio.read_dataframe(tmp_path / "run" / "plan.gpkg", layer="stations")
    assert sorted(stations["site_id"]) == ["V4", "V5", "V6"]


def test_max_coverage_two_stations(tmp_path: Path) -> None:
    # Two columns covered: 6 villages of 100 people.
    code, summary, err = _solve(tmp_path, {"method": "max_coverage", "stations": 2})
    assert code == 0, err
    assert summary["placement"]["objective_value"] == pytest.approx(600)
    assert summary["placement"]["status"] == "optimal"
    assert len(summary["placement"]["uncovered_villages"]) == 3


def test_set_cover_lists_villages_out_of_reach(tmp_path: Path) -> None:
    # Only the first column may hold a station: V2, V3, V5, V6, V8, V9 are out of reach.
    code, _, err = _solve(
        tmp_path,
        {"method": "set_cover", "exclude_sites": ["V2", "V3", "V5", "V6", "V8", "V9"]},
    )
    assert code == 2
    assert "placement.radius_km" in err
    assert "village(s) V2, V3, V5, V6, V8, V9" in err


def test_unknown_excluded_site_is_named(tmp_path: Path) -> None:
    code, _, err = _solve(tmp_path, {"method": "set_cover", "exclude_sites": ["V99"]})
    assert code == 2
    assert "placement.exclude_sites" in err and "V99" in err


def test_fixed_charge_options_are_validated(tmp_path: Path) -> None:
    code, _, err = _solve(tmp_path, {"method": "p_median", "single_source": True})
    assert code == 2
    assert "single_source applies to methods fixed_charge, location_routing" in err


def test_fixed_charge_expensive_stations_open_one_in_the_centre(tmp_path: Path) -> None:
    # 100 parcels/day per village; from V5 the road km are 1.0 (V2, V8), 1.1 (V4, V6) and
    # 2.0 (corners): transport 100 × 12.2 = 1220 per day, plus one opening cost.
    code, summary, err = _solve(
        tmp_path,
        {
            "method": "fixed_charge",
            "opening_cost_per_day": 1_000_000,
            "transport_cost_per_parcel_km": 1.0,
        },
    )
    assert code == 0, err
    assert summary["stations_open"] == 1
    assert summary["placement"]["objective_value"] == pytest.approx(1_001_220, abs=0.01)
    assert summary["placement"]["status"] == "optimal"
    stations = pyogrio.read_dataframe(tmp_path / "run" / "plan.gpkg", layer="stations")
    assert stations["site_id"].tolist() == ["V5"]
