"""Plans without road data: ``network.mode: straight_line`` and ``matrix`` on the 3 × 3 grid.

Villages sit 50 m north of the grid nodes, 1 km apart; the depot is at node (0, 0), 50 m
south of village V1. With circuity 1.3 and 30 km/h, V1 → V2 is 1.3 km and 2.6 min.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from rural_logistics.cli import main
from rural_logistics.config import load_config
from rural_logistics.pipeline import prepare_region
from tests.conftest import write_grid_region


def _drop_roads(path: Path, **network: object) -> Path:
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    del config["data"]["roads"]
    config["network"] = {**config.get("network", {}), **network}
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def test_straight_line_scales_km_and_minutes(tmp_path: Path) -> None:
    path = _drop_roads(write_grid_region(tmp_path / "g"), mode="straight_line", circuity=1.3,
                       straight_line_speed_kph=30)
    prepared = prepare_region(load_config(path))
    access = prepared.access
    # Village 0 (V1) to site 1 (V2, a village site): 1 km straight, 1.3 km, 2.6 min.
    assert access.distance_km[0, 1] == pytest.approx(1.3)
    assert access.time_min[0, 1] == pytest.approx(2.6)
    # V1 → V9: the diagonal of 2 km × 2 km.
    assert access.distance_km[0, 8] == pytest.approx(1.3 * np.hypot(2, 2))
    assert access.distance_km[4, 4] == 0.0
    assert any("no road data (network.mode: straight_line)" in w for w in prepared.warnings)


def test_straight_line_plan_says_so_everywhere(tmp_path: Path) -> None:
    path = _drop_roads(write_grid_region(tmp_path / "g"), mode="straight_line")
    out = tmp_path / "run"
    import io

    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(["solve", str(path), "--out", str(out), "-q"], stdout=stdout, stderr=stderr)
    assert code == 0, stderr.getvalue()
    assert "no road data: distances are straight line x circuity 1.3" in stdout.getvalue()
    assert "warning: no road data (network.mode: straight_line)" in stderr.getvalue()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["network"] == {"mode": "straight_line",
                                  "distance_basis": "straight line x circuity 1.3",
                                  "circuity": 1.3, "speed_kph": 30.0}
    assert any("no road data" in w for w in summary["warnings"])
    import geopandas as gpd

    routes = gpd.read_file(out / "plan.gpkg", layer="routes")
    assert set(routes["distance_basis"]) == {"straight line x circuity 1.3"}
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "NO ROAD DATA" in report and "straight line x circuity 1.3" in report


def test_matrix_mode_uses_the_given_km_and_minutes(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    path = _drop_roads(write_grid_region(folder), mode="matrix")
    ids = ["DC1"] + [f"V{k}" for k in range(1, 10)]
    xy = {"DC1": (0, -0.05)} | {f"V{k + 1}": (k % 3, k // 3) for k in range(9)}
    rows = ["origin,destination,km,min"]
    for a in ids:
        for b in ids:
            if a != b:
                km = abs(xy[a][0] - xy[b][0]) + abs(xy[a][1] - xy[b][1]) + 0.1
                rows.append(f"{a},{b},{km:.3f},{3 * km:.3f}")
    # One asymmetric pair: V1 → V2 is long (a detour), V2 → V1 short.
    rows = [r for r in rows if not r.startswith("V1,V2,")] + ["V1,V2,5.0,15.0"]
    (folder / "matrix.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["data"]["travel_matrix"] = "matrix.csv"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    prepared = prepare_region(load_config(path))
    access = prepared.access
    assert access.distance_km[1, 0] == pytest.approx(1.1)  # V2 → V1 as given
    assert access.time_min[1, 0] == pytest.approx(3.3)
    # V1 → V2: 5 km given, but via the depot (0.15 + 1.15 km) is faster: paths run
    # through the matrix.
    assert access.distance_km[0, 1] == pytest.approx(1.3)
    assert access.time_min[0, 1] == pytest.approx(3.9)
    assert prepared.network.directed
