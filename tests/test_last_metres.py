"""Honest last metres on the 3 × 3 grid: a station at the depot is served without a
vehicle; a station far from any road is warned about and its off-road leg is shown.

The depot is at grid node (0, 0); village V1 sits 50 m north of it, so its road foot is
the depot's node: 0 km by road. With every village a station (K = 9), V1 is open.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from pyproj import Transformer

from rural_logistics.config import load_config
from rural_logistics.pipeline import plan_region
from tests.conftest import UTM, grid_xy, write_grid_region


def test_station_at_the_depot_is_served_without_a_vehicle(tmp_path: Path) -> None:
    path = write_grid_region(tmp_path / "g", extra_config={"placement": {"stations": 9}})
    plan = plan_region(load_config(path))
    stations = plan.stations.set_index("station_id")
    assert stations.loc["V1", "served_by"] == "depot"
    assert stations.loc["V1", "visits"] == 0
    assert stations.loc["V1", "delivered_parcels_per_day"] >= stations.loc["V1",
                                                                           "parcels_per_day"]
    assert (stations.drop(index="V1")["served_by"] == "vehicle").all()
    assert not any("V1" in str(stops).split(">") for stops in plan.routes["stops"])
    assert plan.summary["stations_at_depot"] == ["V1"]
    assert plan.summary["unserved_villages"] == []
    assert any("served there without a vehicle: V1" in w for w in plan.warnings)


def test_station_far_from_roads_is_warned_and_its_leg_drawn(tmp_path: Path) -> None:
    folder = tmp_path / "g"
    path = write_grid_region(folder, extra_config={"placement": {"stations": 10}})
    to_lonlat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    x, y = grid_xy(1, 2)
    lon, lat = to_lonlat.transform(x, y + 1500.0)  # 1.5 km north of the top road
    villages = pd.read_csv(folder / "villages.csv")
    extra = {**villages.iloc[0].to_dict(), "id": "V10", "name": "Hilltop", "lon": lon,
             "lat": lat, "existing_station": False}
    pd.concat([villages, pd.DataFrame([extra])]).to_csv(folder / "villages.csv", index=False)
    plan = plan_region(load_config(path))
    legs = plan.summary["offroad_legs"]
    assert [leg["station_id"] for leg in legs] == ["V10"]
    assert abs(legs[0]["offroad_m"] - 1500.0) < 1.0
    assert abs(legs[0]["road_xy"][1] - y) < 1.0
    assert any("1 station(s) farther than 1000 m from any road" in w and "V10 (1.5 km)" in w
               for w in plan.warnings)
    stations = plan.stations.set_index("station_id")
    assert abs(stations.loc["V10", "road_distance_m"] - 1500.0) < 1.0
    json.dumps(plan.summary["offroad_legs"])  # JSON-ready
