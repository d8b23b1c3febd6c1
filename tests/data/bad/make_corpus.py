"""Write the bad-input corpus under ``tests/data/bad/`` (run from the repository root).

    python tests/data/bad/make_corpus.py

``_base/`` holds one good tiny region: the 3 × 3 road grid of ``tests/conftest.py``
(1 km spacing, UTM zone 49N) in WGS 84: nine villages (CSV), six roads and one depot
(GeoJSON). Every other folder is one bad input: ``region.yaml`` (usually pointing at the
good files in ``_base/`` and changing one thing), any bad data file it needs, and
``expected.txt``: substrings that ``rural-logistics validate region.yaml`` must print, each
in some ``error:`` line. ``tests/test_bad_inputs.py`` runs them all. The output is
deterministic; rerun the script after changing a case and commit the result.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import yaml
from pyproj import Transformer

HERE = Path(__file__).resolve().parent
UTM = "EPSG:32649"
ORIGIN_X, ORIGIN_Y = 500_000.0, 3_000_000.0
_TO_LONLAT = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)


def utm(i: float, j: float) -> tuple[float, float]:
    """Grid node (column i, row j) in UTM metres."""
    return ORIGIN_X + 1000.0 * i, ORIGIN_Y + 1000.0 * j


def lonlat(i: float, j: float) -> list[float]:
    """Grid node (column i, row j) in WGS 84 degrees, 7 decimals."""
    lon, lat = _TO_LONLAT.transform(*utm(i, j))
    return [round(lon, 7), round(lat, 7)]


def village_rows() -> list[dict[str, Any]]:
    """The nine good villages, 50 m north of each grid node."""
    rows = []
    for k, (j, i) in enumerate((j, i) for j in range(3) for i in range(3)):
        lon, lat = lonlat(i, j + 0.05)
        rows.append({"id": f"V{k + 1}", "name": f"Village {k + 1}", "population": 100,
                     "lon": lon, "lat": lat})
    return rows


def csv_text(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    columns = columns or list(rows[0])
    lines = [",".join(columns)]
    lines += [",".join("" if r.get(c) is None else str(r.get(c)) for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def feature(props: dict[str, Any], geometry: dict[str, Any] | None) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def collection(features: list[dict[str, Any]], crs: str | None = None) -> str:
    doc: dict[str, Any] = {"type": "FeatureCollection"}
    if crs is not None:
        doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:{crs}"}}
    doc["features"] = features
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def line(points: list[list[float]]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": points}


def road_features(*, project: Any = lonlat) -> list[dict[str, Any]]:
    """Three county roads (rows) and three village roads (columns) sharing grid vertices."""
    feats = []
    for j in range(3):
        feats.append(feature({"road_id": f"H{j}", "road_class": "county"},
                             line([list(project(i, j)) for i in range(3)])))
    for i in range(3):
        feats.append(feature({"road_id": f"C{i}", "road_class": "village"},
                             line([list(project(i, j)) for j in range(3)])))
    return feats


def depot_features(i: float = 0.0, j: float = 0.0) -> list[dict[str, Any]]:
    return [feature({"id": "DC1", "name": "County DC"},
                    {"type": "Point", "coordinates": lonlat(i, j)})]


BASE_CONFIG: dict[str, Any] = {
    "region": {"name": "Bad input corpus", "crs": UTM},
    "data": {
        "villages": "../_base/villages.csv",
        "roads": "../_base/roads.geojson",
        "depots": "../_base/depots.geojson",
    },
    "network": {"speed_kph_by_class": {"county": 50, "village": 25}},
    "placement": {"stations": 2, "radius_km": 1.0},
    "fleet": {"vehicles": [{"name": "van", "capacity_parcels": 500, "count": 2}]},
    "solver": {"time_limit_s": 2, "seed": 1},
}

DELETE = object()


def merged(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``patch`` into a copy of ``base``; ``DELETE`` removes a key."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is DELETE:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def van(**extra: Any) -> dict[str, Any]:
    return {"fleet": {"vehicles": [{"name": "van", "capacity_parcels": 500, "count": 2,
                                    **extra}]}}


def rows_with(k: int, **changes: Any) -> list[dict[str, Any]]:
    """The good villages with village ``k`` (0-based) changed."""
    rows = village_rows()
    rows[k] = {**rows[k], **changes}
    return rows


def cases() -> dict[str, dict[str, Any]]:
    """Case name → ``config`` (patch dict or raw text/bytes), ``files``, ``expected``."""
    v = {"data": {"villages": "villages.csv"}}
    r = {"data": {"roads": "roads.geojson"}}
    d = {"data": {"depots": "depots.geojson"}}
    good_roads = road_features()
    c: dict[str, dict[str, Any]] = {
        # --- the config file itself ---------------------------------------------------
        "malformed_yaml": {"config": "region: {name: X\nfleet: [\n",
                           "expected": ["region.yaml: malformed YAML at line"]},
        "config_not_utf8": {"config": b"region: {name: D\xe9p\xf4t}\n",
                            "expected": ["region.yaml: not UTF-8 text"]},
        "config_not_a_mapping": {"config": "- region\n- data\n",
                                 "expected": ["expected a mapping of keys at the top level"]},
        "config_empty": {"config": "",
                         "expected": ["expected a mapping of keys at the top level"]},
        "unknown_key": {"config": {"placment": {"stations": 2}},
                        "expected": ["region.yaml: placment: unknown key"]},
        "unknown_nested_key": {"config": van(capacity=10),
                               "expected": ["fleet.vehicles.0.capacity: unknown key"]},
        "wrong_type": {"config": {"placement": {"stations": "two"}},
                       "expected": ["placement.stations: Input should be a valid integer"]},
        "wrong_type_section": {"config": {"network": "fast"},
                               "expected": ["network: Input should be a valid dictionary"]},
        "missing_required_key": {"config": {"fleet": DELETE},
                                 "expected": ["region.yaml: fleet: required key is missing"]},
        "missing_region_name": {"config": {"region": {"name": DELETE}},
                                "expected": ["region.name: required key is missing"]},
        "missing_data_path": {"config": {"data": {"roads": DELETE}},
                              "expected": ["data.roads: required key is missing"]},
        "radius_zero": {"config": {"placement": {"radius_km": 0}},
                        "expected": ["placement.radius_km: Input should be greater than 0"]},
        "radius_negative": {"config": {"placement": {"radius_km": -3}},
                            "expected": ["placement.radius_km: Input should be greater than 0"]},
        "time_limit_zero": {"config": {"solver": {"time_limit_s": 0}},
                            "expected": ["solver.time_limit_s: Input should be greater than 0"]},
        "time_limit_negative": {
            "config": {"solver": {"time_limit_s": -1}},
            "expected": ["solver.time_limit_s: Input should be greater than 0"]},
        "capacity_zero": {
            "config": van(capacity_parcels=0),
            "expected": ["fleet.vehicles.0.capacity_parcels: Input should be greater than or "
                         "equal to 1"]},
        "capacity_below_one_parcel_kg": {
            "config": merged(van(capacity_kg=2), {"routing": {"parcel_kg": 5}}),
            "expected": ["fleet.vehicles.0 (van): capacity_kg = 2 is less than one parcel"]},
        "stations_more_than_candidates": {
            "config": {"placement": {"stations": 12}},
            "expected": ["placement.stations = 12 is more than the 9 usable candidate sites"]},
        "stations_zero": {"config": {"placement": {"stations": 0}},
                          "expected": ["placement.stations: Input should be greater than or "
                                       "equal to 1"]},
        "huge_capacity": {
            "config": van(capacity_parcels=10**30),
            "expected": ["fleet.vehicles.0.capacity_parcels: Input should be less than or "
                         "equal to 1000000"]},
        "huge_vehicle_count": {
            "config": {"fleet": {"vehicles": [{"name": "van", "capacity_parcels": 500,
                                               "count": 10**9}]}},
            "expected": ["fleet.vehicles.0.count: Input should be less than or equal to 1000"]},
        "huge_seed": {"config": {"solver": {"seed": 2**64}},
                      "expected": ["solver.seed: Input should be less than or equal to "
                                   "2147483647"]},
        "huge_cost": {"config": van(fixed_cost_per_day=1e300),
                      "expected": ["fleet.vehicles.0.fixed_cost_per_day: Input should be less "
                                   "than or equal to 1000000000"]},
        "tiny_speed": {"config": {"network": {"default_speed_kph": 1e-300}},
                       "expected": ["network.default_speed_kph: Input should be greater than "
                                    "or equal to 0.5"]},
        "nan_speed": {"config": {"network": {"speed_kph_by_class": {"county": float("nan")}}},
                      "expected": ["network.speed_kph_by_class.county: Input should be a "
                                   "finite number"]},
        "unknown_scenario": {"config": {"scenario": "peak"},
                             "expected": ["scenario 'peak' is not in demand.scenarios"]},
        "unknown_crs": {"config": {"region": {"crs": "EPSG:999999"}},
                        "expected": ["region.crs: unknown CRS 'EPSG:999999'"]},
        "geographic_crs": {"config": {"region": {"crs": "EPSG:4326"}},
                           "expected": ["region.crs: 'EPSG:4326' is not a projected CRS"]},
        "duplicate_vehicle_names": {
            "config": {"fleet": {"vehicles": [
                {"name": "van", "capacity_parcels": 500, "count": 1},
                {"name": "van", "capacity_parcels": 300, "count": 1}]}},
            "expected": ["fleet.vehicles: Value error, duplicate vehicle type name(s): van"]},
        "unknown_vehicle_depot": {
            "config": van(depot="DC9"),
            "expected": ["fleet.vehicles.0 (van): depot 'DC9' is not in depots.geojson"]},
        "opening_hours_reversed": {
            "config": {"routing": {"station_hours_min": [1020, 480]}},
            "expected": ["routing.station_hours_min: Value error, opening time must be before "
                         "closing time"]},
        # --- huge numbers that would overflow the solvers' integer scaling --------------
        "huge_population": {
            "config": v, "files": {"villages.csv": csv_text(rows_with(2, population=1e15))},
            "expected": ["villages.csv: village V3: population must be a number from 0 to "
                         "10,000,000"]},
        "huge_demand": {
            "config": merged(v, {"demand": {"parcels_per_capita_per_year": 10_000,
                                            "scenarios": {"normal": 1000}}}),
            "files": {"villages.csv": csv_text(
                [{**row, "population": 9_000_000} for row in village_rows()])},
            "expected": ["parcels/day need at least", "more than the routing model handles"]},
        "huge_unserved_penalty": {
            "config": merged(merged(v, van(capacity_parcels=1_000_000)), {
                "demand": {"parcels_per_capita_per_year": 1000},
                "routing": {"unserved_penalty_per_parcel": 1_000_000}}),
            "files": {"villages.csv": csv_text(
                [{**row, "population": 1_000_000} for row in village_rows()])},
            "expected": ["routing.unserved_penalty_per_parcel: leaving the",
                         "more than the solvers' integer costs can hold"]},
        "huge_road_speed": {
            "config": r,
            "files": {"roads.geojson": collection(
                [*road_features()[:5], feature({"road_id": "C2", "speed_kph": 1e300},
                                               road_features()[5]["geometry"])])},
            "expected": ["roads.geojson: road C2: speed_kph must be > 0 and at most 300 km/h"]},
        # --- files that cannot be read ------------------------------------------------
        "missing_file": {"config": {"data": {"villages": "nowhere.csv"}},
                         "expected": ["nowhere.csv: file not found"]},
        "control_character_in_path": {
            "config": {"data": {"villages": "vil\rlages.csv"}},
            "expected": ["vil\\rlages.csv: file not found"]},
        "wrong_format_gpkg": {"config": {"data": {"roads": "roads.gpkg"}},
                              "files": {"roads.gpkg": "this is not a GeoPackage\n"},
                              "expected": ["roads.gpkg: cannot read as gpkg"]},
        "wrong_format_geojson": {"config": d,
                                 "files": {"depots.geojson": "id,lon,lat\nDC1,111,27\n"},
                                 "expected": ["depots.geojson: cannot read as geojson"]},
        "unsupported_suffix": {"config": {"data": {"villages": "villages.xlsx"}},
                               "files": {"villages.xlsx": "PK\x03\x04 not really excel\n"},
                               "expected": ["villages.xlsx: unsupported format .xlsx"]},
        "folder_instead_of_file": {"config": {"data": {"villages": "villages.csv"}},
                                   "files": {"villages.csv/.keep": ""},
                                   "expected": ["villages.csv: is a folder, expected a data "
                                                "file"]},
        "csv_not_utf8": {
            "config": v,
            "files": {"villages.csv": csv_text(rows_with(0, name="青山村")).encode("gbk")},
            "expected": ["villages.csv: not UTF-8 text"]},
        "geojson_not_utf8": {
            "config": d,
            "files": {"depots.geojson": collection(
                [feature({"id": "DC1", "name": "Dépôt"},
                         {"type": "Point", "coordinates": lonlat(0, 0)})]).encode("latin-1")},
            "expected": ["depots.geojson: not UTF-8 text"]},
        "csv_zero_bytes": {"config": v, "files": {"villages.csv": ""},
                           "expected": ["villages.csv: cannot read as CSV"]},
        "csv_ragged_rows": {
            "config": v,
            "files": {"villages.csv": csv_text(village_rows()) + "V10,x,1,2,3,4,5,6\n"},
            "expected": ["villages.csv: cannot read as CSV"]},
        # --- coordinates and CRS ---------------------------------------------------------
        "csv_without_coordinates": {
            "config": v,
            "files": {"villages.csv": csv_text(
                [{"id": r["id"], "population": 100, "x": r["lon"], "y": r["lat"]}
                 for r in village_rows()])},
            "expected": ["villages.csv: missing coordinate column(s) lon, lat"]},
        "csv_coordinates_out_of_range": {
            "config": v, "files": {"villages.csv": csv_text(rows_with(4, lat=95.0))},
            "expected": ["villages.csv: id V5: lon/lat out of range"]},
        "csv_coordinates_missing": {
            "config": v, "files": {"villages.csv": csv_text(rows_with(4, lon=None))},
            "expected": ["villages.csv: id V5: lon/lat missing or not a number"]},
        "csv_lonlat_swapped": {
            "config": v,
            "files": {"villages.csv": csv_text(
                [{**row, "lon": row["lat"], "lat": row["lon"]} for row in village_rows()])},
            "expected": ["villages.csv: id V1: lon/lat out of range; lon and lat look swapped"]},
        "roads_without_crs": {
            "config": {"data": {"roads": "roads.shp"}}, "files": "roads_shapefile_no_prj",
            "expected": ["roads.shp: layer has no CRS"]},
        "roads_different_crs": {
            "config": r,
            "files": {"roads.geojson": collection(road_features(project=utm),
                                                  crs="EPSG::32650")},
            "expected": ["villages.csv: all 9 villages are 593.4 to 595.4 km from the nearest "
                         "road", "the two layers do not overlap"]},
        "roads_metres_as_degrees": {
            "config": r, "files": {"roads.geojson": collection(road_features(project=utm))},
            "expected": ["roads.geojson: road H0", "coordinates cannot be projected"]},
        # --- empty layers and ids --------------------------------------------------------
        "villages_header_only": {"config": v,
                                 "files": {"villages.csv": "id,name,population,lon,lat\n"},
                                 "expected": ["villages.csv: no villages in the layer"]},
        "roads_empty": {"config": r, "files": {"roads.geojson": collection([])},
                        "expected": ["roads.geojson: no roads in the layer"]},
        "depots_empty": {"config": d, "files": {"depots.geojson": collection([])},
                         "expected": ["depots.geojson: no depots in the layer"]},
        "depots_without_id": {
            "config": d,
            "files": {"depots.geojson": collection(
                [feature({"name": "DC"}, {"type": "Point", "coordinates": lonlat(0, 0)})])},
            "expected": ["depots.geojson: missing column(s) id (has: name)"]},
        "duplicate_village_ids": {
            "config": v, "files": {"villages.csv": csv_text(rows_with(2, id="V2"))},
            "expected": ["villages.csv: duplicate village id(s): V2"]},
        "empty_village_id": {
            "config": v, "files": {"villages.csv": csv_text(rows_with(2, id=None))},
            "expected": ["villages.csv: empty village id in feature(s) 3"]},
        "duplicate_depot_ids": {
            "config": d,
            "files": {"depots.geojson": collection(depot_features() + depot_features(1, 0))},
            "expected": ["depots.geojson: duplicate depot id(s): DC1"]},
        "missing_population_column": {
            "config": v,
            "files": {"villages.csv": csv_text(village_rows(), ["id", "name", "lon", "lat"])},
            "expected": ["villages.csv: missing column(s) population"]},
        # --- populations -------------------------------------------------------------------
        "negative_population": {
            "config": v, "files": {"villages.csv": csv_text(rows_with(2, population=-5))},
            "expected": ["villages.csv: village V3: population must be a number from 0"]},
        "nan_population": {
            "config": v, "files": {"villages.csv": csv_text(rows_with(2, population=None))},
            "expected": ["villages.csv: village V3: population must be a number from 0"]},
        "text_population": {
            "config": v, "files": {"villages.csv": csv_text(rows_with(2, population="many"))},
            "expected": ["villages.csv: village V3: population must be a number from 0 to "
                         "10,000,000 (got 'many')"]},
        "zero_total_population": {
            "config": v,
            "files": {"villages.csv": csv_text(
                [{**row, "population": 0} for row in village_rows()])},
            "expected": ["villages.csv: total population is 0; nothing to serve"]},
        "negative_produce": {
            "config": v,
            "files": {"villages.csv": csv_text(
                [{**row, "produce_kg_per_day": -1 if k == 1 else 0}
                 for k, row in enumerate(village_rows())])},
            "expected": ["villages.csv: village V2: produce_kg_per_day must be a number from "
                         "0"]},
        # --- geometries --------------------------------------------------------------------
        "villages_not_points": {
            "config": v,
            "files": {"villages.geojson": collection(
                [feature({"id": row["id"], "population": 100},
                         {"type": "Polygon", "coordinates": [[
                             [row["lon"], row["lat"]], [row["lon"] + 0.001, row["lat"]],
                             [row["lon"], row["lat"] + 0.001], [row["lon"], row["lat"]]]]})
                 for row in village_rows()])},
            "config_patch": {"data": {"villages": "villages.geojson"}},
            "expected": ["villages.geojson: village V1: geometry is Polygon, expected Point"]},
        "villages_null_geometry": {
            "config": {"data": {"villages": "villages.geojson"}},
            "files": {"villages.geojson": collection(
                [feature({"id": row["id"], "population": 100},
                         None if row["id"] == "V4" else
                         {"type": "Point", "coordinates": [row["lon"], row["lat"]]})
                 for row in village_rows()])},
            "expected": ["villages.geojson: village V4: empty or missing geometry"]},
        "roads_not_lines": {
            "config": r,
            "files": {"roads.geojson": collection(
                [*good_roads[:5], feature({"road_id": "C2"},
                                          {"type": "Point", "coordinates": lonlat(2, 1)})])},
            "expected": ["roads.geojson: road C2: geometry is Point, expected LineString or "
                         "MultiLineString"]},
        "roads_null_geometry": {
            "config": r,
            "files": {"roads.geojson": collection([*good_roads,
                                                   feature({"road_id": "X1"}, None)])},
            "expected": ["roads.geojson: road X1: empty or missing geometry"]},
        "roads_invalid_geometry": {
            "config": r,
            "files": {"roads.geojson": collection(
                [*good_roads, feature({"road_id": "X1"}, line([lonlat(1, 1), lonlat(1, 1)]))])},
            "expected": ["roads.geojson: road X1: invalid geometry (Too few points"]},
        "roads_negative_speed": {
            "config": r,
            "files": {"roads.geojson": collection(
                [*good_roads[:5], feature({"road_id": "C2", "speed_kph": -30},
                                          good_roads[5]["geometry"])])},
            "expected": ["roads.geojson: road C2: speed_kph must be > 0"]},
        # --- network -----------------------------------------------------------------------
        "roads_do_not_connect": {
            "config": r,
            # The column roads cross the row roads without a shared vertex.
            "files": {"roads.geojson": collection(
                [*good_roads[:3],
                 *(feature({"road_id": f"C{i}", "road_class": "village"},
                           line([lonlat(i + 0.01, -0.5), lonlat(i + 0.01, 2.5)]))
                   for i in range(3))])},
            "expected": ["roads.geojson: ", "lie on roads not connected to depot DC1",
                         "separate pieces; lines connect only where they share a vertex"]},
        "village_unreachable_from_depot": {
            "config": merged(v, r),
            "files": {
                "villages.csv": csv_text([*village_rows(), {
                    "id": "V10", "name": "Island", "population": 50,
                    "lon": lonlat(6, 1.05)[0], "lat": lonlat(6, 1.05)[1]}]),
                "roads.geojson": collection(
                    [*good_roads, feature({"road_id": "I1", "road_class": "village"},
                                          line([lonlat(5, 1), lonlat(7, 1)]))])},
            "expected": ["1 village(s) lie on roads not connected to depot DC1: V10"]},
        "depot_far_from_roads": {
            "config": d, "files": {"depots.geojson": collection(depot_features(0, -25))},
            "expected": ["depots.geojson: depot DC1: 25.0 km from the nearest road"]},
        "village_far_from_roads": {
            "config": v,
            "files": {"villages.csv": csv_text(rows_with(8, lon=lonlat(2, 40)[0],
                                                         lat=lonlat(2, 40)[1]))},
            "expected": ["villages.csv: village V9: 38.0 km from the nearest road"]},
        # --- two-echelon hubs ----------------------------------------------------------
        "hub_depot_unknown": {
            "config": merged(d, {"hubs": {
                "candidates": [{"depot_id": "H9", "capacity_parcels_per_day": 500}],
                "trunk_vehicle": "van", "last_mile_vehicle": "van"}}),
            "files": {"depots.geojson": collection(
                [*depot_features(), feature({"id": "H1", "name": "Hub"},
                                            {"type": "Point", "coordinates": lonlat(1, 1)})])},
            "expected": ["hubs.candidates.0.depot_id: 'H9' is not in depots.geojson "
                         "(known: DC1, H1)"]},
        "hubs_with_station_hours": {
            # The two-echelon stage has no opening hours: rejected, not dropped.
            "config": merged(d, {"hubs": {
                "candidates": [{"depot_id": "H1", "capacity_parcels_per_day": 500}],
                "trunk_vehicle": "van", "last_mile_vehicle": "van"},
                "routing": {"station_hours_min": [480, 1080]}}),
            "files": {"depots.geojson": collection(
                [*depot_features(), feature({"id": "H1", "name": "Hub"},
                                            {"type": "Point", "coordinates": lonlat(1, 1)})])},
            "expected": ["routing.station_hours_min is not supported with hubs: no station "
                         "opening hours in the two-echelon stage"]},
        "hub_is_the_dc": {
            "config": {"hubs": {
                "candidates": [{"depot_id": "DC1", "capacity_parcels_per_day": 500}],
                "trunk_vehicle": "van", "last_mile_vehicle": "van"}},
            "expected": ["hubs.candidates.0.depot_id: 'DC1' is the distribution centre"]},
        "hub_vehicle_unknown": {
            "config": {"hubs": {
                "candidates": [{"depot_id": "DC1", "capacity_parcels_per_day": 500}],
                "trunk_vehicle": "lorry", "last_mile_vehicle": "van"}},
            "expected": ["hubs.trunk_vehicle: 'lorry' is not a fleet.vehicles name (van)"]},
        "location_routing_without_opening_cost": {
            "config": {"placement": {"method": "location_routing"}},
            "expected": ["placement: Value error, location_routing needs "
                         "opening_cost_per_day > 0"]},
        "location_routing_free_fleet": {
            "config": merged(van(cost_per_km=0),
                             {"placement": {"method": "location_routing",
                                            "opening_cost_per_day": 10}}),
            "expected": ["location_routing needs a fleet.vehicles type with cost_per_km or "
                         "fixed_cost_per_day > 0"]},
        # --- what the data means (issue 16): each silent case is now a warning or error -----
        "crs_web_mercator": {
            "config": {"region": {"crs": "EPSG:3857"}},
            "expected": ["villages.csv: region.crs: 'EPSG:3857' (EPSG:3857) stretches "
                         "distances by up to 12.", "use region.crs: auto (here EPSG:32649)"]},
        "warns_crs_far_utm_zone": {
            "config": {"region": {"crs": "EPSG:32652"}},
            "expected": ["warning: villages.csv: region.crs: 'EPSG:32652' (EPSG:32652) "
                         "stretches distances by up to 4.0% at these villages"]},
        "villages_metres_labelled_wgs84_auto": {
            "config": merged(v, {"region": {"crs": "auto"}}),
            "files": {"villages.geojson": collection(
                [feature({"id": row["id"], "population": 100},
                         {"type": "Point", "coordinates": list(utm(k % 3, k // 3))})
                 for k, row in enumerate(village_rows())])},
            "config_patch": {"data": {"villages": "villages.geojson"}},
            "expected": ["villages.geojson: village V1, village V2",
                         "coordinates cannot be projected from the layer's CRS EPSG:4326"]},
        "road_class_column_misspelled": {
            "config": {"network": {"road_class_column": "roadclass"}},
            "expected": ["roads.geojson: network.road_class_column: column 'roadclass' is not "
                         "in the layer (has: road_id, road_class)"]},
        "speed_column_misspelled": {
            "config": {"network": {"speed_column": "maxspeed"}},
            "expected": ["network.speed_column: column 'maxspeed' is not in the layer"]},
        "warns_road_classes_unknown": {
            "config": r,
            "files": {"roads.geojson": collection(
                [*road_features()[:3], *(feature({"road_id": f"C{i}", "road_class": "lane"},
                                                 road_features()[3 + i]["geometry"])
                                         for i in range(3))])},
            "expected": ["warning: roads.geojson: 3 roads (6.0 km) run at "
                         "network.default_speed_kph = 30 km/h: their class is not in "
                         "network.speed_kph_by_class (lane 6 km)"]},
        "warns_roads_without_class": {
            "config": r,
            "files": {"roads.geojson": collection(
                [feature({"road_id": f["properties"]["road_id"]}, f["geometry"])
                 for f in road_features()])},
            "expected": ["warning: roads.geojson: 6 roads (12.0 km) run at "
                         "network.default_speed_kph = 30 km/h: the layer has no 'road_class' "
                         "column"]},
        "raw_osm_lines_layer": {
            "config": merged(r, {"network": {"road_class_column": "highway"}}),
            "files": {"roads.geojson": collection(
                [feature({"osm_id": str(k), "highway": "tertiary", "waterway": None},
                         f["geometry"]) for k, f in enumerate(road_features())]
                + [feature({"osm_id": "90", "highway": None, "waterway": "river"},
                           line([lonlat(0, 0.5), lonlat(2, 0.5)])),
                   feature({"osm_id": "91", "highway": "footway", "waterway": None},
                           line([lonlat(0, 1.5), lonlat(2, 1.5)]))])},
            "expected": ["roads.geojson: looks like a raw OpenStreetMap lines layer: 2 of 8 "
                         "lines are not roads for vans (no highway tag (waterway 1) 1, "
                         "highway=footway 1)", "rural-logistics import-osm"]},
        "gpkg_several_layers": {
            "config": {"data": {"roads": "roads.gpkg"}},
            "files": {"roads.gpkg": "two_layer_gpkg"},
            "expected": ["roads.gpkg: has 2 layers (roads, rivers); say which one to read "
                         "with data.layers.roads"]},
        "gpkg_layer_unknown": {
            "config": {"data": {"roads": "roads.gpkg", "layers": {"roads": "streets"}}},
            "files": {"roads.gpkg": "two_layer_gpkg"},
            "expected": ["roads.gpkg: has no layer 'streets' (data.layers.roads); its layers: "
                         "roads, rivers"]},
        "warns_villages_at_the_same_point": {
            "config": v,
            "files": {"villages.csv": csv_text(rows_with(
                4, lon=village_rows()[3]["lon"], lat=village_rows()[3]["lat"]))},
            "expected": ["warning: villages.csv: 1 pair(s) of villages at the same point "
                         "(within 1 m): V4 and V5"]},
        "id_column_absent": {
            "config": {"data": {"id_column": "code"}},
            "expected": ["villages.csv: data.id_column: column 'code' is not in the layer"]},
        "population_column_absent": {
            "config": {"data": {"population_column": "pop_2020"}},
            "expected": ["villages.csv: data.population_column: column 'pop_2020' is not in "
                         "the layer"]},
        "shapefile_configured_column_absent": {
            "config": {"data": {"villages": "villages.shp", "name_column": "name_pinyin"}},
            "files": {"villages.shp": "villages_shapefile"},
            "expected": ["villages.shp: data.name_column: column 'name_pinyin' is not in the "
                         "layer (has: id, name, population, existing_station, "
                         "produce_kg_per_day)"]},
        "shapefile_truncated_column_ambiguous": {
            "config": {"data": {"villages": "villages.shp", "id_column": "village_code",
                                "name_column": "village_common_name"}},
            "files": {"villages.shp": "villages_shapefile_long_names"},
            "expected": ["villages.shp: column 'village_co' is cut to 10 characters (Shapefile "
                         "limit) and may be any of village_code, village_common_name"]},
        "shapefile_truncated_column_is_another_column": {
            "config": {"data": {"villages": "villages.shp",
                                "population_column": "households_2020"}},
            "files": {"villages.shp": "villages_shapefile_households"},
            "expected": ["villages.shp: column 'households' is cut to 10 characters (Shapefile "
                         "limit) and may be any of households_2020, households"]},
        "warns_shapefile_truncated_columns": {
            "config": {"data": {"villages": "villages.shp"}},
            "files": {"villages.shp": "villages_shapefile"},
            "expected": ["warning: villages.shp: column 'existing_s' read as "
                         "'existing_station' (Shapefile names are cut to 10 characters",
                         "warning: villages.shp: column 'produce_kg' read as "
                         "'produce_kg_per_day'"]},
        "gcj02_on_projected_layer": {
            "config": {"data": {"coordinate_system": "gcj02", "depots": "depots.geojson"}},
            "files": {"depots.geojson": collection(
                [feature({"id": "DC1"}, {"type": "Point", "coordinates": list(utm(0, 0))})],
                crs="EPSG::32649")},
            "expected": ["depots.geojson: data.coordinate_system is gcj02, a system of "
                         "longitude/latitude, but the layer is in the projected CRS EPSG:32649"]},
        "osm_roads_unreadable": {
            "config": {"data": {"roads": "roads.osm.pbf"}},
            "files": {"roads.osm.pbf": "this is not OpenStreetMap data\n"},
            "expected": ["roads.osm.pbf: cannot read as OpenStreetMap (not OSM XML or PBF "
                         "data)"]},
        "osm_file_as_villages": {
            "config": {"data": {"villages": "villages.osm.pbf"}},
            "files": {"villages.osm.pbf": "x\n"},
            "expected": ["villages.osm.pbf: unsupported format .pbf; use .gpkg, .geojson, .shp "
                         "or .csv"]},
        "matrix_mode_without_matrix": {
            "config": {"network": {"mode": "matrix"}},
            "expected": ["data.travel_matrix: required key is missing"]},
        "travel_matrix_unknown_id": {
            "config": {"network": {"mode": "matrix"},
                       "data": {"travel_matrix": "matrix.csv"}},
            "files": {"matrix.csv": "origin,destination,km,min\nDC1,V1,1.2,3\nV1,X7,1,2\n"},
            "expected": ["matrix.csv: id(s) X7 are not villages, candidate sites, towns or "
                         "depots of this region"]},
        "travel_matrix_bad_numbers": {
            "config": {"network": {"mode": "matrix"},
                       "data": {"travel_matrix": "matrix.csv"}},
            "files": {"matrix.csv": "origin,destination,km,min\nDC1,V1,-1,3\nV1,V2,1,x\n"},
            "expected": ["matrix.csv: row 2 (DC1 → V1): km and min must be numbers > 0",
                         "matrix.csv: row 3 (V1 → V2): km and min must be numbers > 0"]},
        # --- placement side constraints against the data (the check pass) -------------
        "exclude_sites_unknown": {
            "config": {"placement": {"exclude_sites": ["V2", "V99"]}},
            "expected": ["placement.exclude_sites: unknown candidate site id(s) V99"]},
        "township_short_of_sites": {
            "config": merged(v, {"placement": {"min_stations_per_township": 1,
                                               "exclude_sites": ["V9"]}}),
            "files": {"villages.csv": csv_text(
                [{**row, "township": "Hilltop" if row["id"] == "V9" else "Valley"}
                 for row in village_rows()])},
            "expected": ["placement.min_stations_per_township = 1: too few usable candidate "
                         "sites in township(s) Hilltop (0 usable site(s))"]},
        "max_stations_below_kept_stations": {
            "config": merged(v, {"placement": {"method": "set_cover", "keep_existing": True,
                                               "max_stations": 2}}),
            "files": {"villages.csv": csv_text(
                [{**row, "existing_station": row["id"] in ("V1", "V5", "V9")}
                 for row in village_rows()])},
            "expected": ["placement.max_stations = 2 is below the 3 existing stations kept "
                         "open (placement.keep_existing)"]},
        "max_access_km_infeasible": {
            # Every village is a candidate site; with V9's own site excluded, the nearest
            # other site is 1 km away.
            "config": {"placement": {"max_access_km": 0.5, "exclude_sites": ["V9"]}},
            "expected": ["placement.max_access_km = 0.5: no usable candidate site within it "
                         "of village(s) V9"]},
        # --- per-station terms from columns of the sites layer (issue 20, item 2) ------
        "station_window_not_a_number": {
            "config": v, "files": {"villages.csv": csv_text(
                rows_with(2, tw_open_min="eight"),
                [*village_rows()[0], "tw_open_min"])},
            "expected": ["villages.csv: village V3: column 'tw_open_min' must be minutes from "
                         "midnight, 0 to 2880 (got 'eight')"]},
        "station_window_reversed": {
            "config": v, "files": {"villages.csv": csv_text(
                rows_with(1, tw_open_min=600, tw_close_min=540),
                [*village_rows()[0], "tw_open_min", "tw_close_min"])},
            "expected": ["villages.csv: village V2: column 'tw_close_min' (540) must be after "
                         "'tw_open_min' (600): the window closes before it opens"]},
        "station_service_time_negative": {
            "config": v, "files": {"villages.csv": csv_text(
                rows_with(4, service_time_min=-5),
                [*village_rows()[0], "service_time_min"])},
            "expected": ["villages.csv: village V5: column 'service_time_min' must be minutes, "
                         "0 to 1440 (got -5)"]},
        "station_penalty_zero": {
            "config": merged(v, {"routing": {"columns": {"unserved_penalty": "priority"}}}),
            "files": {"villages.csv": csv_text(
                rows_with(0, priority=0), [*village_rows()[0], "priority"])},
            "expected": ["villages.csv: village V1: column 'priority' must be currency per "
                         "parcel, above 0 and at most 1e6 (got 0)"]},
        "station_column_absent": {
            "config": {"routing": {"columns": {"time_window_open": "opens_at"}}},
            "expected": ["villages.csv: routing.columns.time_window_open: column 'opens_at' is "
                         "not in the layer (has: id, name, population)"]},
        "station_window_outside_shift": {
            # The vans' shift is 480–960 (08:00 + 480 min); V4 opens at 22:00.
            "config": v, "files": {"villages.csv": csv_text(
                rows_with(3, tw_open_min=1320, tw_close_min=1400),
                [*village_rows()[0], "tw_open_min", "tw_close_min"])},
            "expected": ["villages.csv: columns 'tw_open_min'/'tw_close_min': the window of "
                         "station site(s) V4 lies outside every vehicle's shift (480–960 min "
                         "from midnight): no vehicle could serve it"]},
        "station_window_reversed_by_default_hours": {
            # Only the opening is given (11:00); the default hours close at 10:00.
            "config": merged(v, {"routing": {"station_hours_min": [480, 600]}}),
            "files": {"villages.csv": csv_text(
                rows_with(5, tw_open_min=660), [*village_rows()[0], "tw_open_min"])},
            "expected": ["villages.csv: columns 'tw_open_min'/'tw_close_min': the window of "
                         "station site(s) V6 closes before it opens once "
                         "routing.station_hours_min [480.0, 600.0] fills the blank side"]},
        "hubs_with_station_terms": {
            "config": merged(merged(d, v), {"hubs": {
                "candidates": [{"depot_id": "H1", "capacity_parcels_per_day": 500}],
                "trunk_vehicle": "van", "last_mile_vehicle": "van"}}),
            "files": {
                "depots.geojson": collection(
                    [*depot_features(), feature({"id": "H1", "name": "Hub"},
                                                {"type": "Point", "coordinates": lonlat(1, 1)})]),
                "villages.csv": csv_text(rows_with(2, service_time_min=20),
                                         [*village_rows()[0], "service_time_min"])},
            "expected": ["routing.columns: per-station time windows, service times and "
                         "penalties are not supported with hubs"]},
        # --- several problems at once: all are reported -------------------------------
        "many_problems_at_once": {
            "config": merged(v, {"placment": {}, "solver": {"time_limit_s": 0},
                                 "data": {"roads": "missing_roads.gpkg"}}),
            "files": {"villages.csv": csv_text(rows_with(2, population=-1))},
            "expected": ["placment: unknown key",
                         "solver.time_limit_s: Input should be greater than 0",
                         "villages.csv: village V3: population must be a number from 0",
                         "missing_roads.gpkg: file not found"]},
    }
    return c


def write_shapefile_without_prj(folder: Path) -> None:
    """The road grid as a Shapefile in UTM metres, with the ``.prj`` (its CRS) left out."""
    import geopandas as gpd
    import shapely

    lines = [shapely.LineString([utm(i, j) for i in range(3)]) for j in range(3)]
    lines += [shapely.LineString([utm(i, j) for j in range(3)]) for i in range(3)]
    gdf = gpd.GeoDataFrame({"road_id": [f"R{k}" for k in range(6)]}, geometry=lines)
    gdf.to_file(folder / "roads.shp", engine="pyogrio")
    for extra in ("roads.prj", "roads.cpg"):
        (folder / extra).unlink(missing_ok=True)


def write_two_layer_gpkg(path: Path) -> None:
    """The road grid (layer ``roads``) and a river (layer ``rivers``) in one GeoPackage
    (with a fixed timestamp, so that the file is the same on every run)."""
    import geopandas as gpd
    import pyogrio
    import shapely

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2026-01-01T00:00:00Z"})

    lines = [shapely.LineString([utm(i, j) for i in range(3)]) for j in range(3)]
    lines += [shapely.LineString([utm(i, j) for j in range(3)]) for i in range(3)]
    gpd.GeoDataFrame({"road_id": [f"R{k}" for k in range(6)], "road_class": "county"},
                     geometry=lines, crs=UTM).to_file(path, layer="roads", engine="pyogrio")
    gpd.GeoDataFrame({"name": ["river"]}, geometry=[shapely.LineString([utm(0, 0.5),
                                                                        utm(2, 0.5)])],
                     crs=UTM).to_file(path, layer="rivers", engine="pyogrio")


def write_villages_shapefile(path: Path) -> None:
    """The nine villages as a Shapefile: ``existing_station`` and ``produce_kg_per_day``
    are saved as ``existing_s`` and ``produce_kg`` (10-character dBASE names)."""
    import warnings

    import geopandas as gpd
    import shapely

    rows = village_rows()
    frame = gpd.GeoDataFrame(
        {"id": [r["id"] for r in rows], "name": [r["name"] for r in rows],
         "population": [r["population"] for r in rows],
         "existing_station": [k == 4 for k in range(len(rows))],
         "produce_kg_per_day": [5.0 * k for k in range(len(rows))]},
        geometry=[shapely.Point(r["lon"], r["lat"]) for r in rows], crs="EPSG:4326")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's "normalized/laundered field name" warnings
        frame.to_file(path, engine="pyogrio")


def write_villages_shapefile_long_names(path: Path) -> None:
    """The nine villages as a Shapefile with the codes in ``village_code`` and the names in
    ``village_common_name``: saved as ``village_co`` and ``village__1``."""
    _villages_shapefile(path, {"village_code": "id", "village_common_name": "name"})


def write_villages_shapefile_households(path: Path) -> None:
    """The nine villages as a Shapefile with ``households_2020`` (saved as ``households``)
    in place of ``population``."""
    _villages_shapefile(path, {"households_2020": "population"})


def _villages_shapefile(path: Path, columns: dict[str, str]) -> None:
    import warnings

    import geopandas as gpd
    import shapely

    rows = village_rows()
    frame = gpd.GeoDataFrame(
        {new: [r[old] for r in rows] for new, old in columns.items()},
        geometry=[shapely.Point(r["lon"], r["lat"]) for r in rows], crs="EPSG:4326")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's "normalized/laundered field name" warnings
        frame.to_file(path, engine="pyogrio")


_WRITERS = {
    "two_layer_gpkg": write_two_layer_gpkg,
    "villages_shapefile": write_villages_shapefile,
    "villages_shapefile_long_names": write_villages_shapefile_long_names,
    "villages_shapefile_households": write_villages_shapefile_households,
}


def write_case(name: str, spec: dict[str, Any]) -> None:
    folder = HERE / name
    folder.mkdir()
    config = spec["config"]
    if isinstance(config, dict):
        config = merged(merged(BASE_CONFIG, config), spec.get("config_patch", {}))
        text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
        (folder / "region.yaml").write_text(text, encoding="utf-8")
    elif isinstance(config, bytes):
        (folder / "region.yaml").write_bytes(config)
    else:
        (folder / "region.yaml").write_text(config, encoding="utf-8")
    files = spec.get("files", {})
    if files == "roads_shapefile_no_prj":
        write_shapefile_without_prj(folder)
        files = {}
    for rel, content in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str) and content in _WRITERS:
            _WRITERS[content](target)
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    (folder / "expected.txt").write_text("\n".join(spec["expected"]) + "\n", encoding="utf-8")


def main() -> None:
    for child in HERE.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
    base = HERE / "_base"
    base.mkdir()
    (base / "villages.csv").write_text(csv_text(village_rows()), encoding="utf-8")
    (base / "roads.geojson").write_text(collection(road_features()), encoding="utf-8")
    (base / "depots.geojson").write_text(collection(depot_features()), encoding="utf-8")
    (base / "region.yaml").write_text(
        yaml.safe_dump(merged(BASE_CONFIG, {"data": {
            "villages": "villages.csv", "roads": "roads.geojson",
            "depots": "depots.geojson"}}), sort_keys=False),
        encoding="utf-8",
    )
    all_cases = cases()
    for name, spec in all_cases.items():
        write_case(name, spec)
    print(f"wrote {len(all_cases)} cases and _base/ under {HERE}")


if __name__ == "__main__":
    main()
