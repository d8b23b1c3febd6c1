"""The seeded synthetic county generator: files, determinism, geography and road noding."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from rural_logistics.errors import OutputError
from rural_logistics.generate import generate_county, make_county

UTM = "EPSG:32649"
SMALL: dict[str, Any] = {"n_villages": 40, "n_townships": 4, "area_km2": 300.0, "n_remote": 2}
DEMO: dict[str, Any] = {"n_villages": 250, "n_townships": 14, "area_km2": 2000.0, "n_remote": 6}
VILLAGE_COLUMNS = [
    "id", "name", "name_zh", "township", "population", "households", "existing_station",
    "produce_kg_per_day", "lon", "lat",
]  # fmt: skip
KEYS = ("villages", "roads", "depots", "towns", "townships")


def _read(folder: Path) -> dict[str, Any]:
    return {
        "villages": pd.read_csv(
            folder / "villages.csv", keep_default_na=False, dtype={"existing_station": str}
        ),
        "roads": gpd.read_file(folder / "roads.gpkg", layer="roads", engine="pyogrio"),
        "depots": gpd.read_file(folder / "depots.geojson", engine="pyogrio"),
        "towns": gpd.read_file(folder / "towns.geojson", engine="pyogrio"),
        "townships": gpd.read_file(folder / "townships.gpkg", layer="townships", engine="pyogrio"),
    }


def _village_points(villages: pd.DataFrame) -> gpd.GeoSeries:
    return gpd.GeoSeries(
        gpd.points_from_xy(villages["lon"], villages["lat"]), crs="EPSG:4326"
    ).to_crs(UTM)


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small") / "county"
    generate_county(folder, seed=11, **SMALL)
    return folder


@pytest.fixture(scope="module", params=["small", "demo"])
def county(
    request: pytest.FixtureRequest, small_dir: Path, repo_root: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The layers of the small generated county and of the committed demo county."""
    if request.param == "small":
        return _read(small_dir), dict(SMALL)
    folder = repo_root / "datasets" / "demo_county"
    if not (folder / "villages.csv").exists():
        pytest.skip("committed demo county not present")
    return _read(folder), dict(DEMO)


def test_returns_the_written_paths(tmp_path: Path) -> None:
    paths = generate_county(tmp_path / "out", seed=1, **SMALL)
    assert tuple(paths) == KEYS
    assert [p.name for p in paths.values()] == [
        "villages.csv", "roads.gpkg", "depots.geojson", "towns.geojson", "townships.gpkg",
    ]  # fmt: skip
    assert all(p.is_file() and p.parent == tmp_path / "out" for p in paths.values())


def test_columns_crs_and_counts(county: tuple[dict[str, Any], dict[str, Any]]) -> None:
    layers, args = county
    villages = layers["villages"]
    assert list(villages.columns) == VILLAGE_COLUMNS
    assert len(villages) == args["n_villages"]
    assert villages["id"].is_unique and villages["name"].is_unique
    assert villages["id"].str.fullmatch(r"V\d{3,}").all()
    roads = layers["roads"]
    assert list(roads.columns) == ["road_id", "road_class", "name", "geometry"]
    assert set(roads["road_class"]) == {"county", "township", "village"}
    assert roads["road_id"].is_unique
    assert (roads.geom_type == "LineString").all()
    depots = layers["depots"]
    assert list(depots.columns) == ["id", "name", "name_zh", "kind", "geometry"]
    assert depots["id"].tolist() == ["DC1"] and depots["kind"].tolist() == ["county_dc"]
    assert depots["name"].iloc[0].endswith(" County Distribution Centre")
    towns = layers["towns"]
    assert list(towns.columns) == ["id", "name", "name_zh", "township", "geometry"]
    assert len(towns) == args["n_townships"]
    assert towns["id"].tolist() == [f"T{k + 1:02d}" for k in range(len(towns))]
    assert towns["name"].iloc[0] == "Chengguan" and towns["name"].is_unique
    assert (towns["name"] == towns["township"]).all()
    townships = layers["townships"]
    assert list(townships.columns) == ["name", "name_zh", "population", "geometry"]
    assert (townships.geom_type == "Polygon").all() and townships.is_valid.all()
    assert sorted(townships["name"]) == sorted(towns["name"])
    for key in ("roads", "depots", "towns", "townships"):
        assert layers[key].crs.to_epsg() == 4326, key


def test_attributes_in_range(county: tuple[dict[str, Any], dict[str, Any]]) -> None:
    layers, _ = county
    villages = layers["villages"]
    pop = villages["population"]
    assert pop.dtype.kind == "i" and pop.between(120, 6000).all()
    ratio = pop / villages["households"]
    assert ratio.between(2.7, 3.5).all()
    assert set(villages["existing_station"].astype(str)) <= {"true", "false"}
    produce = villages["produce_kg_per_day"]
    assert ((produce == 0) | produce.between(20, 400)).all()
    if len(villages) >= 200:  # shares are only stable in a county-sized sample
        assert 700 <= pop.median() <= 1200
        assert 0.08 <= (villages["existing_station"].astype(str) == "true").mean() <= 0.25
        assert 0.2 <= (produce > 0).mean() <= 0.4
    assert set(villages["township"]) <= set(layers["townships"]["name"])
    totals = villages.groupby("township")["population"].sum()
    townships = layers["townships"].set_index("name")
    assert (townships["population"] == totals.reindex(townships.index, fill_value=0)).all()
    # lon/lat carry at most 7 decimals
    for column in ("lon", "lat"):
        assert np.allclose(villages[column], villages[column].round(7), rtol=0, atol=1e-12)


def test_geography(county: tuple[dict[str, Any], dict[str, Any]]) -> None:
    layers, args = county
    townships = layers["townships"].to_crs(UTM)
    assert townships.area.sum() / 1e6 == pytest.approx(args["area_km2"], rel=1e-3)
    outline = shapely.union_all(townships.geometry.to_numpy()).buffer(1.0)
    points = _village_points(layers["villages"])
    assert points.within(outline).all()
    by_name = townships.set_index("name").geometry
    for point, name in zip(points, layers["villages"]["township"], strict=True):
        assert by_name[name].buffer(1.0).contains(point)
    xy = shapely.get_coordinates(points.to_numpy())
    gaps = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    np.fill_diagonal(gaps, np.inf)
    assert gaps.min() >= 300.0
    # township seats lie inside their own township
    towns = layers["towns"].to_crs(UTM)
    for point, name in zip(towns.geometry, towns["township"], strict=True):
        assert by_name[name].contains(point)


def test_villages_near_roads_and_remote_ones_far(
    county: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    layers, args = county
    roads = layers["roads"].to_crs(UTM)
    tree = shapely.STRtree(roads.geometry.to_numpy())
    points = _village_points(layers["villages"]).to_numpy()
    _, dist_m = tree.query_nearest(points, return_distance=True, all_matches=False)
    remote = dist_m > 2000.0
    assert remote.sum() == args["n_remote"]
    assert (dist_m[~remote] <= 500.0).all()
    assert (dist_m[~remote] >= 1.0).all()  # near a road, not on it
    assert np.median(dist_m[~remote]) < 300.0
    remote_pop = layers["villages"]["population"][remote]
    assert (remote_pop <= 600).all()
    depot = layers["depots"].to_crs(UTM).geometry.to_numpy()
    _, depot_m = tree.query_nearest(depot, return_distance=True, all_matches=False)
    assert depot_m.max() <= 200.0
    county_roads = shapely.union_all(roads.geometry[roads["road_class"] == "county"].to_numpy())
    assert shapely.distance(depot[0], county_roads) <= 100.0
    towns = layers["towns"].to_crs(UTM).geometry.to_numpy()
    _, town_m = tree.query_nearest(towns, return_distance=True, all_matches=False)
    assert town_m.max() <= 200.0


def _vertex_graph(roads: gpd.GeoDataFrame) -> nx.Graph:
    graph = nx.Graph()
    for line in roads.geometry:
        coords = [tuple(c) for c in line.coords]
        graph.add_nodes_from(coords)
        graph.add_edges_from(itertools.pairwise(coords))
    return graph


def test_road_network_is_noded_and_connected(
    county: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    layers, _ = county
    roads = layers["roads"]
    graph = _vertex_graph(roads)
    assert nx.number_connected_components(graph) == 1

    vertex_lines: dict[tuple[float, float], set[int]] = {}
    for k, line in enumerate(roads.geometry):
        for c in line.coords:
            vertex_lines.setdefault(tuple(c), set()).add(k)
    villages_utm = _village_points(layers["villages"]).to_numpy()
    town_tree = shapely.STRtree(
        np.concatenate([villages_utm, layers["towns"].to_crs(UTM).geometry.to_numpy()])
    )
    roads_utm = roads.to_crs(UTM)
    for k, (cls, line, line_utm) in enumerate(
        zip(roads["road_class"], roads.geometry, roads_utm.geometry, strict=True)
    ):
        if cls == "county":
            continue
        ends = ((line.coords[0], line_utm.coords[0]), (line.coords[-1], line_utm.coords[-1]))
        for end, end_utm in ends:
            if vertex_lines[tuple(end)] - {k}:
                continue  # joins another road here
            _, d = town_tree.query_nearest(
                shapely.Point(end_utm), return_distance=True, all_matches=False
            )
            assert d[0] <= 350.0, f"road {roads['road_id'].iloc[k]} ends nowhere"

    # roads meet only at vertices they share
    geoms = roads.geometry.to_numpy()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    for i, j in zip(left, right, strict=True):
        if i >= j:
            continue
        shared = set(map(tuple, geoms[i].coords)) & set(map(tuple, geoms[j].coords))
        meet = shapely.get_coordinates(geoms[i].intersection(geoms[j]))
        for x, y in meet:
            assert any(abs(x - sx) < 1e-9 and abs(y - sy) < 1e-9 for sx, sy in shared), (
                f"roads {i} and {j} cross at ({x}, {y}) without a shared vertex"
            )


def test_road_vertices_are_dense(county: tuple[dict[str, Any], dict[str, Any]]) -> None:
    layers, _ = county
    roads = layers["roads"].to_crs(UTM)
    coords, index = shapely.get_coordinates(roads.geometry.to_numpy(), return_index=True)
    same = index[1:] == index[:-1]
    step = np.hypot(*(coords[1:] - coords[:-1]).T)[same]
    assert step.max() <= 1500.0
    assert step.min() > 0.05


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    first = generate_county(tmp_path / "a", seed=5, **SMALL)
    second = generate_county(tmp_path / "b", seed=5, **SMALL)
    third = generate_county(tmp_path / "c", seed=6, **SMALL)
    for key in KEYS:
        assert first[key].read_bytes() == second[key].read_bytes(), key
    one, two, other = _read(tmp_path / "a"), _read(tmp_path / "b"), _read(tmp_path / "c")
    for key in KEYS:
        pd.testing.assert_frame_equal(one[key], two[key])
    assert not one["villages"].equals(other["villages"])
    assert not one["roads"].geometry.geom_equals(other["roads"].geometry).all()
    assert third["villages"].exists()


def test_in_memory_county_matches_the_files(small_dir: Path) -> None:
    county = make_county(seed=11, **SMALL)
    layers = _read(small_dir)
    pd.testing.assert_frame_equal(
        county.villages.reset_index(drop=True), layers["villages"], check_dtype=False
    )
    assert county.roads.geometry.geom_equals_exact(layers["roads"].geometry, 0).all()
    assert len(county.remote_village_ids) == SMALL["n_remote"]
    assert county.area_km2 == pytest.approx(SMALL["area_km2"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_villages": 0}, "n_villages"),
        ({"n_townships": 1}, "n_townships"),
        ({"n_remote": -1}, "n_remote"),
        ({"area_km2": float("nan")}, "area_km2"),
        ({"area_km2": 10.0}, "area_km2"),
        ({"seed": -3}, "seed"),
        ({"n_villages": 5, "n_townships": 4, "n_remote": 2}, "every township"),
        ({"n_villages": 1000, "area_km2": 300.0}, "per village"),
        ({"elongation": 0.5}, "elongation"),
        ({"orientation_deg": float("inf")}, "orientation_deg"),
        ({"centre_lonlat": (0.0, 0.0)}, "centre_lonlat"),
    ],
)
def test_bad_arguments_raise(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {**SMALL, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate_county(tmp_path / "x", **args)  # type: ignore[arg-type]
    assert not (tmp_path / "x").exists()


def test_out_dir_must_be_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        generate_county(target, seed=1, **SMALL)


def test_small_counties_of_other_seeds_are_valid(tmp_path: Path) -> None:
    for seed in (0, 1, 2):
        folder = tmp_path / str(seed)
        generate_county(folder, seed=seed, n_villages=30, n_townships=3, area_km2=200.0, n_remote=1)
        layers = _read(folder)
        assert nx.number_connected_components(_vertex_graph(layers["roads"])) == 1
        tree = shapely.STRtree(layers["roads"].to_crs(UTM).geometry.to_numpy())
        _, dist_m = tree.query_nearest(
            _village_points(layers["villages"]).to_numpy(), return_distance=True, all_matches=False
        )
        assert (dist_m > 2000.0).sum() == 1
        assert (np.sort(dist_m)[:-1] <= 500.0).all()


def test_committed_demo_is_what_the_generator_makes(repo_root: Path) -> None:
    folder = repo_root / "datasets" / "demo_county"
    if not (folder / "villages.csv").exists():
        pytest.skip("committed demo county not present")
    layers = _read(folder)
    county = make_county(seed=2026, **DEMO)
    made = county.villages
    committed = layers["villages"]
    for column in ("id", "name", "township", "population", "households", "existing_station"):
        assert made[column].astype(str).tolist() == committed[column].astype(str).tolist(), column
    # tolerances allow for other PROJ/GEOS builds; regenerate the demo if this fails
    for column in ("lon", "lat", "produce_kg_per_day"):
        assert np.allclose(made[column], committed[column], rtol=0, atol=1e-6), column
    assert made["id"][made["id"].isin(county.remote_village_ids)].size == DEMO["n_remote"]
    assert county.roads["road_class"].tolist() == layers["roads"]["road_class"].tolist()
    assert county.roads.geometry.geom_equals_exact(layers["roads"].geometry, 1e-6).all()


# ----------------------------------------------------------------------------- provinces


def _aspect(outline: shapely.Geometry) -> float:
    rect = shapely.minimum_rotated_rectangle(outline)
    xy = np.asarray(rect.exterior.coords)[:4]
    sides = np.hypot(*(np.roll(xy, -1, axis=0) - xy).T)
    return float(sides.max() / sides.min())


def test_elongated_county_keeps_its_area_and_centre() -> None:
    args = {**SMALL, "n_remote": 0}
    round_county = make_county(seed=4, **args)
    long_county = make_county(seed=4, **args, elongation=3.0, orientation_deg=90.0,
                              centre_lonlat=(112.0, 26.0))
    assert long_county.area_km2 == pytest.approx(SMALL["area_km2"])
    outline = shapely.union_all(long_county.townships.to_crs(UTM).geometry)
    assert _aspect(outline) > 2.0 > _aspect(
        shapely.union_all(round_county.townships.to_crs(UTM).geometry))
    minx, miny, maxx, maxy = long_county.townships.total_bounds
    assert maxy - miny > 2 * (maxx - minx) * np.cos(np.radians(26.0))  # north–south valley
    assert minx < 112.0 < maxx and miny < 26.0 < maxy
    assert len(long_county.villages) == SMALL["n_villages"]


def test_province_is_seeded_varied_and_laid_out_apart(tmp_path: Path) -> None:
    from rural_logistics.config import load_config
    from rural_logistics.generate import generate_province, plan_province

    files = generate_province(tmp_path / "a", n_counties=6, seed=9, villages=(10, 60),
                              time_limit_s=3.0)
    again = generate_province(tmp_path / "b", n_counties=6, seed=9, villages=(10, 60),
                              time_limit_s=3.0)
    for name in ("manifest.csv", "counties.csv", *(f"configs/{c.name}" for c in files.configs)):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert again.counties == files.counties
    table = pd.read_csv(files.counties_table)
    manifest = pd.read_csv(files.manifest)
    assert manifest.columns.tolist() == ["run_id", "config"]
    assert manifest["run_id"].tolist() == table["run_id"].tolist()
    assert table["run_id"].is_unique and table["run_id"].str.match(r"^[1-6]-[a-z]+$").all()
    assert table["villages"].between(10, 60).all() and table["villages"].nunique() >= 5
    assert table["villages"].max() - table["villages"].min() >= 25  # spans the range
    assert table["elongation"].between(1.0, 3.5).all() and table["elongation"].nunique() == 6
    outlines = []
    for row in table.itertuples():
        config = load_config(tmp_path / "a" / row.config)
        assert config.solver.time_limit_s == 3.0
        assert config.placement.stations == row.stations
        layers = _read(config.data.villages.parent)
        assert len(layers["villages"]) == row.villages
        assert int(layers["villages"]["population"].sum()) == row.population
        outlines.append(shapely.union_all(layers["townships"].to_crs(UTM).geometry))
    for a, b in itertools.combinations(outlines, 2):
        assert a.distance(b) > 1000.0  # counties side by side, never overlapping
    assert [c.villages for c in plan_province(n_counties=6, seed=10, villages=(10, 60))] != \
        table["villages"].tolist()


def test_province_arguments_are_checked() -> None:
    from rural_logistics.generate import parse_villages_range, plan_province

    assert parse_villages_range("40-250") == (40, 250)
    assert parse_villages_range("30") == (30, 30)
    for text in ("", "a-b", "50-20", "0", "1-2-3"):
        with pytest.raises(ValueError, match="MIN-MAX"):
            parse_villages_range(text)
    with pytest.raises(ValueError) as info:
        plan_province(n_counties=0, seed=-1, villages=(5, 50))
    assert str(info.value) == (
        "counties must be an integer from 1 to 500, got 0; seed must be an integer >= 0, "
        "got -1; villages per county must be MIN-MAX with 10 <= MIN <= MAX, got 5-50")


def test_generate_counties_cli(tmp_path: Path) -> None:
    import io

    from rural_logistics.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()

    target = tmp_path / "prov"
    code, out, err = run("generate", "--counties", "2", "--villages", "10-20", "--seed", "1",
                         "--time-limit", "2", "--out", str(target))
    assert code == 0, err
    assert out.startswith("wrote 2 counties (")
    assert f"run them: rural-logistics batch {target / 'manifest.csv'} --out RUNS_FOLDER" in out
    assert sorted(p.name for p in target.iterdir()) == [
        "configs", "counties.csv", "data", "manifest.csv"]
    for argv, message in (
        (("--counties", "2", "--townships", "3"), "--townships: not with --counties"),
        (("--villages", "10-20",), "--villages: a range MIN-MAX needs --counties"),
        (("--counties", "2", "--villages", "ten"), "--villages: expected N or MIN-MAX"),
        (("--counties", "0",), "generate: counties must be an integer from 1 to 500"),
        (("--time-limit", "3",), "--time-limit: only with --counties"),
    ):
        code, out, err = run("generate", *argv, "--out", str(tmp_path / "x"))
        assert (code, out) == (2, ""), argv
        assert err.startswith(f"error: {message}"), err
