"""Shared tiny fixtures whose answers are known by hand.

``grid_region`` is a 3 × 3 road grid with 1 km spacing in UTM zone 49N (EPSG:32649):
horizontal roads are county roads (50 km/h), vertical roads village roads (25 km/h).
Nine villages sit 50 m north of each grid node; the depot is at the south-west corner.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml
from pyproj import Transformer

ORIGIN_X, ORIGIN_Y = 500_000.0, 3_000_000.0
UTM = "EPSG:32649"


def grid_xy(i: int, j: int) -> tuple[float, float]:
    """Projected coordinates of grid node (column i, row j)."""
    return ORIGIN_X + 1000.0 * i, ORIGIN_Y + 1000.0 * j


def write_grid_region(
    folder: Path,
    *,
    populations: list[int] | None = None,
    extra_config: dict | None = None,
) -> Path:
    """Write the 3 × 3 grid region (CSV villages, GPKG roads, GeoJSON depot) and its config."""
    folder.mkdir(parents=True, exist_ok=True)
    to_lonlat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    pops = populations or [100] * 9
    rows = []
    for k, (j, i) in enumerate((j, i) for j in range(3) for i in range(3)):
        x, y = grid_xy(i, j)
        lon, lat = to_lonlat.transform(x, y + 50.0)
        rows.append(
            {
                "id": f"V{k + 1}",
                "name": f"Village {k + 1}",
                "township": "North" if j == 2 else "South",
                "population": pops[k],
                "existing_station": k == 4,
                "produce_kg_per_day": 10.0 * k,
                "lon": lon,
                "lat": lat,
            }
        )
    pd.DataFrame(rows).to_csv(folder / "villages.csv", index=False)
    lines, classes = [], []
    for j in range(3):
        lines.append(shapely.LineString([grid_xy(i, j) for i in range(3)]))
        classes.append("county")
    for i in range(3):
        lines.append(shapely.LineString([grid_xy(i, j) for j in range(3)]))
        classes.append("village")
    gpd.GeoDataFrame(
        {"road_id": [f"R{k}" for k in range(6)], "road_class": classes}, geometry=lines, crs=UTM
    ).to_file(folder / "roads.gpkg", layer="roads", engine="pyogrio")
    gpd.GeoDataFrame(
        {"id": ["DC1"], "name": ["Depot"]}, geometry=[shapely.Point(grid_xy(0, 0))], crs=UTM
    ).to_file(folder / "depots.geojson", driver="GeoJSON", engine="pyogrio")
    config = {
        "region": {"name": "Grid", "crs": UTM},
        "data": {
            "villages": "villages.csv",
            "roads": "roads.gpkg",
            "depots": "depots.geojson",
        },
        "network": {"speed_kph_by_class": {"county": 50, "village": 25}},
        "demand": {"parcels_per_capita_per_year": 365},
        "placement": {"stations": 2, "radius_km": 1.0},
        "fleet": {
            "vehicles": [
                {
                    "name": "van",
                    "capacity_parcels": 500,
                    "count": 2,
                    "cost_per_km": 2.0,
                    "fixed_cost_per_day": 100,
                    "service_time_min": 5,
                }
            ]
        },
        "solver": {"time_limit_s": 2, "seed": 1},
    }
    for key, value in (extra_config or {}).items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    path = folder / "region.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def grid_config_path(tmp_path: Path) -> Path:
    """Path of the grid region config in a fresh temporary folder."""
    return write_grid_region(tmp_path / "grid")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return Path(__file__).resolve().parents[1]
