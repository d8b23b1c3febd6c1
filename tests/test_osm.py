"""OpenStreetMap import: a tiny hand-written extract whose answers are known, and the
real extracts in ``../shared/benchmarks/osm`` (skipped where absent).

The tiny extract (``tiny_osm``) near 49.99 N, 11.55 E: a primary road A–B–C (west to
east, ~1.43 km per leg, maxspeed 50), a one-way residential loop C → D → A back (tagged
``oneway=yes``), a ``oneway=-1`` service road E–B (drawn B → E, travelled E → B only), a
private road B–F, a footway A–F, a river A–C; place nodes: village "Nord" (population
1200) at B, hamlet "Süd" (no population) near D, village "北村" (``name:zh``) near E, and a
closed administrative boundary (admin_level 8) "Gemeinde" around A, B, C, D.
"""

from __future__ import annotations

import bz2
import gzip
import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import yaml

from rural_logistics import network as net
from rural_logistics.cli import main
from rural_logistics.osm import parse_maxspeed, read_osm, read_osm_roads
from rural_logistics.osm.importer import import_osm

SHARED = Path(__file__).resolve().parents[1] / ".." / ".." / "shared" / "benchmarks" / "osm"
if not SHARED.is_dir():
    SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks" / "osm"

LAT0, LON0 = 49.99, 11.55
DLON = 0.02  # ~1.43 km at 50 N
DLAT = 0.0128  # ~1.42 km

NODES = {
    1: (LON0, LAT0),  # A
    2: (LON0 + DLON, LAT0),  # B
    3: (LON0 + 2 * DLON, LAT0),  # C
    4: (LON0 + DLON, LAT0 - DLAT),  # D (south of B)
    5: (LON0 + DLON, LAT0 + DLAT),  # E (north of B)
    6: (LON0 + DLON, LAT0 + 2 * DLAT),  # F
    7: (LON0 - 0.005, LAT0 - 0.02),  # boundary corners
    8: (LON0 + 2 * DLON + 0.005, LAT0 - 0.02),
    9: (LON0 + 2 * DLON + 0.005, LAT0 + 0.005),
    10: (LON0 - 0.005, LAT0 + 0.005),
}


def _node(i: int, tags: dict[str, str] | None = None) -> str:
    lon, lat = NODES[i] if i in NODES else PLACES[i][:2]
    inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in (tags or {}).items())
    return f'<node id="{i}" version="1" lat="{lat}" lon="{lon}">{inner}</node>'


PLACES = {
    101: (LON0 + DLON + 0.0005, LAT0 + 0.0005, {"place": "village", "name": "Nord",
                                                 "population": "1200"}),
    102: (LON0 + DLON + 0.001, LAT0 - DLAT + 0.0005, {"place": "hamlet", "name": "Süd"}),
    103: (LON0 + DLON + 0.0005, LAT0 + DLAT, {"place": "village", "name": "Nordhof",
                                              "name:zh": "北村"}),
}


def _way(i: int, nodes: list[int], tags: dict[str, str]) -> str:
    refs = "".join(f'<nd ref="{n}"/>' for n in nodes)
    inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return f'<way id="{i}" version="1">{refs}{inner}</way>'


def tiny_osm_text() -> str:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    parts += [_node(i) for i in NODES]
    parts += [_node(i, tags) for i, (_, _, tags) in PLACES.items()]
    parts += [
        _way(201, [1, 2, 3], {"highway": "primary", "maxspeed": "50", "name": "B1"}),
        _way(202, [3, 4, 1], {"highway": "residential", "oneway": "yes"}),
        _way(203, [2, 5], {"highway": "service", "oneway": "-1"}),
        _way(204, [2, 6], {"highway": "unclassified", "access": "private"}),
        _way(205, [1, 6], {"highway": "footway"}),
        _way(206, [1, 3], {"waterway": "river"}),
        _way(207, [7, 8, 9, 10, 7], {}),
        '<relation id="301" version="1"><member type="way" ref="207" role="outer"/>'
        '<tag k="type" v="boundary"/><tag k="boundary" v="administrative"/>'
        '<tag k="admin_level" v="8"/><tag k="name" v="Gemeinde"/></relation>',
        "</osm>",
    ]
    return "\n".join(parts) + "\n"


@pytest.fixture
def tiny_osm(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.osm"
    path.write_text(tiny_osm_text(), encoding="utf-8")
    return path


def test_roads_are_drivable_with_speeds_and_oneway(tiny_osm: Path) -> None:
    result = read_osm_roads(tiny_osm)
    roads = result.roads
    assert sorted(roads["osm_id"]) == ["201", "202", "203"]
    by_id = roads.set_index("osm_id")
    assert by_id.loc["201", "speed_kph"] == pytest.approx(40.0)  # 0.8 × maxspeed 50
    assert by_id.loc["201", "speed_source"] == "maxspeed"
    assert by_id.loc["202", "speed_kph"] == 25.0 and by_id.loc["202", "oneway"]
    assert by_id.loc["203", "oneway"]
    # oneway=-1: the line is reversed so that it runs E → B.
    start = shapely.get_coordinates(by_id.loc["203", "geometry"])[0]
    assert start == pytest.approx(NODES[5])
    assert result.excluded == {"access=private": 1, "highway=footway": 1}


def test_compressed_files_read_the_same(tiny_osm: Path, tmp_path: Path) -> None:
    text = tiny_osm.read_bytes()
    gz = tmp_path / "tiny.osm.gz"
    gz.write_bytes(gzip.compress(text))
    bz = tmp_path / "tiny.osm.bz2"
    bz.write_bytes(bz2.compress(text))
    base = read_osm_roads(tiny_osm).roads
    for path in (gz, bz):
        other = read_osm_roads(path).roads
        assert other["osm_id"].tolist() == base["osm_id"].tolist()
        assert other.geometry.geom_equals(base.geometry).all()


def test_places_and_boundaries(tiny_osm: Path) -> None:
    layers = read_osm(tiny_osm)
    assert sorted(layers.places["name"]) == ["Nord", "Nordhof", "Süd"]
    assert "北村" in set(layers.places["name_zh"])
    assert layers.boundaries["name"].tolist() == ["Gemeinde"]


@pytest.mark.parametrize(("text", "kph"), [("50", 50.0), ("30 mph", 48.28032), ("50;30", 50.0),
                                           ("none", None), ("DE:rural", None), ("", None)])
def test_parse_maxspeed(text: str, kph: float | None) -> None:
    got = parse_maxspeed(text)
    assert got == (pytest.approx(kph) if kph is not None else None)


def test_oneway_is_respected_in_the_matrices(tiny_osm: Path) -> None:
    """C → A may take the one-way loop via D; A → C may not (it runs C → D → A only)."""
    roads = read_osm_roads(tiny_osm).roads
    crs = roads.estimate_utm_crs()
    lines = roads.to_crs(crs)
    pts = gpd.GeoSeries(shapely.points([NODES[1], NODES[3], NODES[4], NODES[5]]),
                        crs="EPSG:4326").to_crs(crs)
    graph, snapped = net.build_road_network(
        lines.geometry.to_numpy(), lines["speed_kph"].to_numpy(), oneway=lines["oneway"],
        points={"p": shapely.get_coordinates(pts.to_numpy())},
    )
    assert graph.directed
    tm = net.travel_matrices(graph, snapped["p"], snapped["p"], offroad_speed_kph=5.0,
                             include_offroad=False)
    a, c, d, e = 0, 1, 2, 3
    leg = pts.iloc[a].distance(pts.iloc[c]) / 2  # A–B and B–C, ~1.43 km each
    # A → C: only along the primary road (40 km/h).
    assert tm.distance_km[a, c] == pytest.approx(2 * leg / 1000, rel=1e-6)
    # A → D: the loop runs C → D, so A → B → C → D.
    assert tm.distance_km[a, d] > tm.distance_km[a, c]
    # D → A directly on the loop; A → D is longer.
    assert tm.distance_km[d, a] < tm.distance_km[a, d]
    # E → B is allowed (oneway=-1 of B → E), B → E is not: E unreachable from A.
    assert np.isfinite(tm.distance_km[e, a])
    assert not np.isfinite(tm.distance_km[a, e])


def test_import_writes_a_region_that_validates(tiny_osm: Path, tmp_path: Path) -> None:
    out = tmp_path / "region"
    result = import_osm(tiny_osm, out, populations={"hamlet": 80})
    villages = pd.read_csv(out / "villages.csv")
    assert villages.set_index("name")["population"].to_dict() == {
        "Nord": 1200, "Süd": 80, "Nordhof": 500}
    assert villages.set_index("name")["population_assumed"].to_dict() == {
        "Nord": False, "Süd": True, "Nordhof": True}
    assert villages.set_index("name")["township"].fillna("").to_dict()["Nord"] == "Gemeinde"
    assert result.population_given == 1 and result.population_assumed == 2
    assert result.townships == 1
    assert set(result.road_km_by_class) == {"primary", "residential", "service"}
    config = yaml.safe_load((out / "region.yaml").read_text(encoding="utf-8"))
    assert config["network"]["oneway_column"] == "oneway"
    header = (out / "region.yaml").read_text(encoding="utf-8").split("region:")[0]
    assert "population_assumed" in header and "OSRM car profile" in header
    assert "ODbL" in (out / "ATTRIBUTION.txt").read_text(encoding="utf-8")


def test_import_refuses_a_non_empty_folder_and_bad_options(tiny_osm: Path, tmp_path: Path
                                                           ) -> None:
    out = tmp_path / "full"
    out.mkdir()
    (out / "x.txt").write_text("keep", encoding="utf-8")
    err = io.StringIO()
    code = main(["import-osm", str(tiny_osm), "--out", str(out)], stdout=io.StringIO(),
                stderr=err)
    assert code == 2 and "folder exists and is not empty" in err.getvalue()
    err = io.StringIO()
    code = main(["import-osm", str(tiny_osm), "--out", str(tmp_path / "o"), "--bbox", "1,2,3"],
                stdout=io.StringIO(), stderr=err)
    assert code == 2 and "expected four numbers" in err.getvalue()
    assert "Traceback" not in err.getvalue()


def test_pbf_as_data_roads_reads_the_same_roads(tmp_path: Path) -> None:
    pbf = SHARED / "harsdorf.osm.pbf"
    if not pbf.exists():
        pytest.skip("shared OSM extracts not available")
    out = tmp_path / "h"
    import_osm(pbf, out)
    config = yaml.safe_load((out / "region.yaml").read_text(encoding="utf-8"))
    config["data"]["roads"] = str(pbf)
    (out / "direct.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    outputs = []
    for name in ("region.yaml", "direct.yaml"):
        stdout, stderr = io.StringIO(), io.StringIO()
        code = main(["validate", str(out / name)], stdout=stdout, stderr=stderr)
        assert code == 0, stderr.getvalue()
        outputs.append(stdout.getvalue().split("OK")[1])
    assert outputs[0] == outputs[1]


def test_five_village_pairs_match_networkx() -> None:
    from rural_logistics.benchmarks.osm import compare_extract

    pbf = SHARED / "harsdorf.osm.pbf"
    if not pbf.exists():
        pytest.skip("shared OSM extracts not available")
    rows = compare_extract(pbf, pairs=5, seed=0)
    assert len(rows) == 5
    assert all(abs(r["diff_pct"]) <= 1.0 for r in rows)
