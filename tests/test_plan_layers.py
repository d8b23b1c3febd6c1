"""What a dispatcher and a GIS user get: stops a reader can replay, one row per trip, the
vehicle days, served flags with reasons, townships, CSV exports (issue 20, item 1).

The multi-trip grid: one 300-parcel van (4 trips at most) for the 900 parcels of the
3 × 3 grid, produce picked up (1.5 kg per parcel, 900 kg payload)."""

from __future__ import annotations

import itertools
from pathlib import Path
from xml.etree import ElementTree

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from conftest import write_grid_region
from matplotlib.colors import to_rgba

from rural_logistics import load_config, plan_region, write_run
from rural_logistics.config import RegionConfig
from rural_logistics.delivery.base import routing_template
from rural_logistics.maps import DEFAULT_ACCESS_BANDS_MIN, access_band_colors
from rural_logistics.plan import Plan
from rural_logistics.region import prepare_region

VAN = {"name": "van", "capacity_parcels": 300, "count": 1, "max_trips": 4,
       "cost_per_km": 2.0, "fixed_cost_per_day": 100, "service_time_min": 5,
       "capacity_kg": 900, "shift_start_min": 420}


#: Each village's own service time, minutes (the ``service_time_min`` column).
STATION_SERVICE_MIN = {f"V{k}": float(k) for k in range(1, 10)}


@pytest.fixture(scope="module")
def multi_trip(tmp_path_factory: pytest.TempPathFactory) -> tuple[RegionConfig, Plan, Path]:
    folder = tmp_path_factory.mktemp("multi_trip")
    config = load_config(write_grid_region(folder / "grid", extra_config={
        "fleet": {"vehicles": [VAN]},
        "routing": {"pickup_produce": True, "parcel_kg": 1.5},
        "solver": {"time_limit_s": 2, "seed": 1},
    }))
    # Each station's own service time (column of the villages layer), on top of the van's.
    villages = pd.read_csv(folder / "grid" / "villages.csv")
    villages["service_time_min"] = [STATION_SERVICE_MIN[v] for v in villages["id"]]
    villages.to_csv(folder / "grid" / "villages.csv", index=False)
    plan = plan_region(config)
    out = folder / "run"
    write_run(plan, out, config=config, map_png=False)
    return config, plan, out


def test_arrival_times_replay_from_the_travel_matrix(
    multi_trip: tuple[RegionConfig, Plan, Path],
) -> None:
    config, plan, _ = multi_trip
    stops = plan.stops
    assert stops is not None
    assert plan.routes.groupby("route_id")["trip"].max().max() >= 2  # a multi-trip route
    # The matrix between the DC and every candidate site, as routing gets it.
    prepared = prepare_region(config)
    sites = np.arange(len(prepared.data.sites))
    template = routing_template(config, prepared, sites)
    node = {d: k for k, d in enumerate(template.depot_ids)}
    node |= {str(prepared.data.sites["site_id"].iloc[j]): template.problem.n_depots + j
             for j in sites}
    time_min = template.problem.time_min
    for _, route in stops.groupby(["route_id", "day"], sort=False):
        rows = route.sort_values(["trip", "sequence"]).to_dict("records")
        assert rows[0]["kind"] == "depart"
        assert rows[0]["departure_min"] == pytest.approx(VAN["shift_start_min"])
        departure = rows[0]["departure_min"]
        for prev, row in itertools.pairwise(rows):
            if row["kind"] == "depart":  # next trip: leaves when the last one returned
                assert prev["kind"] == "return"
                assert row["departure_min"] == pytest.approx(prev["arrival_min"])
                departure = row["departure_min"]
                continue
            arrival = departure + time_min[node[prev["stop_id"]], node[row["stop_id"]]]
            assert row["arrival_min"] == pytest.approx(arrival, abs=0.011)
            service = (VAN["service_time_min"] + STATION_SERVICE_MIN[row["stop_id"]]
                       if row["kind"] == "station" else 0.0)
            assert row["departure_min"] == pytest.approx(arrival + service, abs=0.011)
            departure = arrival + service


def test_loads_per_trip_stay_within_capacity_and_add_up(
    multi_trip: tuple[RegionConfig, Plan, Path],
) -> None:
    _, plan, _ = multi_trip
    stops, routes, days = plan.stops, plan.routes, plan.vehicle_days
    assert stops is not None and days is not None
    assert (routes["load_parcels"] <= routes["capacity_parcels"]).all()
    assert (routes["capacity_parcels"] == VAN["capacity_parcels"]).all()
    for (route_id, trip), rows in stops.groupby(["route_id", "trip"]):
        rows = rows.sort_values("sequence")
        trip_row = routes[(routes["route_id"] == route_id) & (routes["trip"] == trip)].iloc[0]
        delivered = rows["parcels_delivered"].to_numpy()
        assert delivered.sum() == trip_row["load_parcels"]
        # On board after each stop: the trip's load less what was delivered so far.
        on_board = rows["parcels_on_board"].to_numpy()[:-1]
        assert list(on_board) == list(trip_row["load_parcels"] - np.cumsum(delivered[:-1]))
        produce = rows["produce_kg_on_board"].to_numpy()
        assert produce[-1] == pytest.approx(rows["produce_kg_collected"].sum(), abs=0.05)
        kg = rows["load_kg_on_board"].to_numpy()[:-1]
        assert kg == pytest.approx(on_board * 1.5 + produce[:-1], abs=0.05)
        assert (kg <= VAN["capacity_kg"] + 1e-6).all()
        assert trip_row["stops"] == ">".join(rows["stop_id"][rows["kind"] == "station"])
    # Trips add up to the vehicle's day, which the summary's figures come from.
    for route_id, trips in routes.groupby("route_id"):
        day = days[days["route_id"] == route_id].iloc[0]
        assert day["n_trips"] == len(trips)
        assert day["load_parcels"] == trips["load_parcels"].sum()
        assert day["route_km"] == pytest.approx(trips["route_km"].sum(), abs=0.01)
        assert day["cost"] == pytest.approx(trips["cost"].sum(), abs=0.02)
        assert day["stops"].count(f">{day['depot_id']}>") == len(trips) - 1
    assert plan.summary["routes"] == len(days)
    assert plan.summary["total_route_km"] == pytest.approx(days["route_km"].sum(), abs=0.01)


def test_geopackage_and_csv_exports_hold_every_layer(
    multi_trip: tuple[RegionConfig, Plan, Path],
) -> None:
    out = multi_trip[2]
    layers = dict(pyogrio.list_layers(out / "plan.gpkg"))
    assert layers == {"villages": "Point", "stations": "Point", "depots": "Point",
                      "routes": "LineString", "vehicle_day": "LineString", "stops": "Point",
                      "desire_lines": "LineString", "layer_styles": None}
    for name, file in (("stops", "stops.csv"), ("routes", "routes.csv")):
        on_disk = pd.read_csv(out / file, encoding="utf-8-sig")
        layer = gpd.read_file(out / "plan.gpkg", layer=name)
        assert list(on_disk.columns) == [c for c in layer.columns if c != "geometry"]
        assert len(on_disk) == len(layer)
    stops = gpd.read_file(out / "plan.gpkg", layer="stops")
    assert stops.geometry.notna().all()


def test_served_flags_and_reasons_on_villages_and_stations(tmp_path: Path) -> None:
    # One single-trip van of 300 parcels for 900: a station stays (partly) unserved.
    van = {**VAN, "max_trips": 1, "capacity_kg": None}
    config = load_config(write_grid_region(tmp_path / "grid", extra_config={
        "fleet": {"vehicles": [van]}, "solver": {"time_limit_s": 1, "seed": 1}}))
    plan = plan_region(config)
    stations = plan.stations.set_index("station_id")
    unserved = {r["station_id"] for r in plan.summary["diagnosis"]}
    assert unserved and set(stations.index[~stations["served"]]) == unserved
    for sid in unserved:
        assert stations.at[sid, "unserved_parcels"] > 0
        assert stations.at[sid, "unserved_reason"] != ""
    assert (stations.loc[stations["served"], "unserved_reason"] == "").all()
    villages = plan.villages
    assert set(villages.loc[~villages["served"], "village_id"]) == set(
        plan.summary["unserved_villages"])
    for _, v in villages[~villages["served"]].iterrows():
        assert v["unserved_reason"].startswith(f"station {v['station_id']} not served: ")


def test_townships_layer_is_written_when_the_region_has_boundaries(
    repo_root: Path, tmp_path: Path,
) -> None:
    config = load_config(repo_root / "configs" / "demo_county.yaml").with_overrides(
        time_limit_s=2)
    plan = plan_region(config)
    assert plan.townships is not None
    write_run(plan, tmp_path / "run", map_png=False)
    layers = dict(pyogrio.list_layers(tmp_path / "run" / "plan.gpkg"))
    assert layers["townships"] == "MultiPolygon"
    assert len(gpd.read_file(tmp_path / "run" / "plan.gpkg", layer="townships")) == len(
        plan.townships)


def test_every_layer_has_a_default_qgis_style_in_the_geopackage(
    multi_trip: tuple[RegionConfig, Plan, Path],
) -> None:
    out = multi_trip[2]
    styles = pyogrio.read_dataframe(out / "plan.gpkg", layer="layer_styles")
    spatial = {name for name, kind in pyogrio.list_layers(out / "plan.gpkg") if kind}
    assert set(styles["f_table_name"]) == spatial
    assert styles["useAsDefault"].all()
    geometry_column = pyogrio.read_info(out / "plan.gpkg", layer="villages")["geometry_name"]
    assert set(styles["f_geometry_column"]) == {geometry_column}
    for qml in styles["styleQML"]:
        ElementTree.fromstring(qml.split("\n", 1)[1])  # well-formed after the DOCTYPE
    villages = ElementTree.fromstring(
        styles.set_index("f_table_name").at["villages", "styleQML"].split("\n", 1)[1])
    renderer = villages.find("renderer-v2")
    assert renderer is not None and renderer.get("attr") == "access_min"
    colours = [layer.find("prop[@k='color']").get("v")  # type: ignore[union-attr]
               for layer in renderer.iter("layer")]
    expected = [",".join(str(round(255 * c)) for c in to_rgba(h))
                for h in access_band_colors(DEFAULT_ACCESS_BANDS_MIN)]
    assert colours == expected  # the access bands of map.png


def test_desire_lines_join_each_served_village_to_its_station(
    multi_trip: tuple[RegionConfig, Plan, Path],
) -> None:
    _, plan, out = multi_trip
    lines = gpd.read_file(out / "plan.gpkg", layer="desire_lines")
    villages = plan.villages.set_index("village_id")
    stations = plan.stations.set_index("station_id")
    assert villages["served"].all()  # the four trips serve every station
    assert len(lines) == int(villages["served"].sum()) == 9
    assert lines["served"].all()
    for _, row in lines.iterrows():
        start, end = row.geometry.coords[0], row.geometry.coords[-1]
        village = villages.loc[row["village_id"]]
        assert start == pytest.approx(village.geometry.coords[0], abs=1e-6)
        assert row["station_id"] == village["station_id"]
        assert end == pytest.approx(stations.loc[row["station_id"]].geometry.coords[0],
                                    abs=1e-6)
        assert row["access_km"] == pytest.approx(village["access_km"])
        assert row["access_min"] == pytest.approx(village["access_min"])
        assert row["parcels_per_day"] == pytest.approx(village["parcels_per_day"])
        assert row["straight_km"] == pytest.approx(row.geometry.length / 1000, abs=1e-3)
    # A village hosting its station has a zero-length line; the others do not.
    hosts = lines["village_id"] == lines["station_id"]
    assert hosts.sum() == len(plan.stations)
    assert (lines.loc[hosts, "straight_km"] == 0).all()
    assert (lines.loc[~hosts, "straight_km"] > 0).all()
    styles = pyogrio.read_dataframe(out / "plan.gpkg", layer="layer_styles")
    qml = styles.set_index("f_table_name").at["desire_lines", "styleQML"]
    renderer = ElementTree.fromstring(qml.split("\n", 1)[1]).find("renderer-v2")
    assert renderer is not None and renderer.get("attr") == "access_min"
    assert {s.get("type") for s in renderer.iter("symbol")} == {"line"}
