"""GCJ-02 / BD-09 → WGS 84 (``data.coordinate_system``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from rural_logistics.config import load_config
from rural_logistics.io import read_region
from rural_logistics.io.coords import (
    bd09_to_gcj02,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_gcj02,
)
from tests.conftest import write_grid_region


def test_bd09_to_gcj02_matches_the_published_example() -> None:
    # Tiananmen in BD-09 → GCJ-02, as in the widely used coordtransform library's README.
    lon, lat = bd09_to_gcj02(116.404, 39.915)
    assert (float(lon), float(lat)) == pytest.approx((116.39762729119315, 39.90865673957631),
                                                     abs=1e-9)


def test_gcj02_inverse_is_exact_and_the_shift_is_hundreds_of_metres() -> None:
    rng = np.random.default_rng(0)
    lon = rng.uniform(98, 122, 200)
    lat = rng.uniform(20, 45, 200)
    glon, glat = wgs84_to_gcj02(lon, lat)
    shift_m = np.hypot((glon - lon) * 111_320 * np.cos(np.radians(lat)), (glat - lat) * 110_540)
    assert shift_m.min() > 50 and shift_m.max() < 1000
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    assert np.abs(back_lon - lon).max() < 1e-9 and np.abs(back_lat - lat).max() < 1e-9
    # The usual one-step approximation is within ~2 m of the exact inverse.
    one_lon, one_lat = gcj02_to_wgs84(116.404, 39.915)
    assert (float(one_lon), float(one_lat)) == pytest.approx((116.39775550083061,
                                                              39.91359571849836), abs=3e-6)


def test_outside_china_nothing_moves() -> None:
    lon, lat = to_wgs84(np.array([11.55]), np.array([50.0]), "gcj02")
    assert lon[0] == 11.55 and lat[0] == 50.0


def test_villages_in_gcj02_are_read_in_wgs84(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    path = write_grid_region(folder)
    villages = pd.read_csv(folder / "villages.csv")
    truth = read_region(load_config(path)).villages.geometry
    glon, glat = wgs84_to_gcj02(villages["lon"].to_numpy(), villages["lat"].to_numpy())
    villages.assign(lon=glon, lat=glat).to_csv(folder / "villages.csv", index=False)
    depot = read_region(load_config(path)).depots.to_crs("EPSG:4326").geometry.iloc[0]
    dlon, dlat = wgs84_to_gcj02(np.array([depot.x]), np.array([depot.y]))
    row = f"DC1,Depot,{float(dlon[0])!r},{float(dlat[0])!r}"
    (folder / "depots.csv").write_text(f"id,name,lon,lat\n{row}\n", encoding="utf-8")
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["data"]["depots"] = "depots.csv"
    config["data"]["coordinate_system"] = "gcj02"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    got = read_region(load_config(path)).villages.geometry
    assert got.distance(truth).max() < 0.01  # metres
    config["data"]["coordinate_system"] = "wgs84"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    shifted = read_region(load_config(path)).villages.geometry
    assert shifted.distance(truth).min() > 50
