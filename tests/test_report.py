"""The HTML report: contents equal the runs' figures, errors name the folder at fault.

Run folders are built from hand-made plans on the 3 × 3 grid of ``conftest`` (stations at
chosen grid nodes, villages assigned to the nearest one along the grid roads), so every
figure is known without a solver and each test runs in well under a second. One test also
goes through ``rural-logistics solve`` on the grid when the solver stack imports.
"""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import UTM, grid_xy, write_grid_region

from rural_logistics.cli import main
from rural_logistics.config import load_config
from rural_logistics.metrics import summarize
from rural_logistics.outputs import write_run
from rural_logistics.plan import Plan
from rural_logistics.report import (
    KPIS,
    RunResult,
    compare_runs,
    load_run,
    render_report,
    township_table,
    worst_served,
)

POPULATIONS = [100, 200, 300, 400, 500, 600, 700, 800, 900]
SPEED_KPH = 30.0


def _node(k: int) -> tuple[int, int]:
    """Grid node (column, row) of village ``k`` (0-based, row by row from the south)."""
    return k % 3, k // 3


def make_plan(
    *,
    stations: list[int],
    scenario: str = "normal",
    multiplier: float = 1.0,
    region: str = "Grid",
    radius_km: float = 1.0,
) -> Plan:
    """A plan on the grid with stations at the given village nodes.

    Villages go to the nearest station along the grid (Manhattan distance, ties to the
    first listed); access time is distance at 30 km/h. One van visits the stations in
    order, starting and ending at the depot in the south-west corner.
    """
    v_rows, v_geoms = [], []
    for k, pop in enumerate(POPULATIONS):
        i, j = _node(k)
        dists = [abs(i - _node(s)[0]) + abs(j - _node(s)[1]) for s in stations]
        best = int(np.argmin(dists))
        km = float(dists[best])
        x, y = grid_xy(i, j)
        v_rows.append({
            "village_id": f"V{k + 1}",
            "name": f"Village {k + 1}",
            "township": "North" if j == 2 else "South",
            "population": pop,
            "parcels_per_day": pop * multiplier,
            "produce_kg_per_day": 0.0,
            "station_id": f"S{best + 1}",
            "access_km": km,
            "access_min": km / SPEED_KPH * 60,
            "within_radius": km <= radius_km,
            "road_distance_m": 50.0,
        })
        v_geoms.append(shapely.Point(x, y + 50.0))
    villages = gpd.GeoDataFrame(v_rows, geometry=v_geoms, crs=UTM)
    s_rows, s_geoms = [], []
    for n, k in enumerate(stations):
        served = villages[villages["station_id"] == f"S{n + 1}"]
        i, j = _node(k)
        s_rows.append({
            "station_id": f"S{n + 1}",
            "site_id": f"V{k + 1}",
            "name": f"Village {k + 1}",
            "township": "North" if j == 2 else "South",
            "existing": False,
            "villages": len(served),
            "population": int(served["population"].sum()),
            "parcels_per_day": float(served["parcels_per_day"].sum()),
            "produce_kg_per_day": 0.0,
            "visits": 1,
            "delivered_parcels_per_day": int(served["parcels_per_day"].sum()),
        })
        s_geoms.append(shapely.Point(*grid_xy(i, j)))
    station_layer = gpd.GeoDataFrame(s_rows, geometry=s_geoms, crs=UTM)
    path = [grid_xy(0, 0)]
    for k in stations:
        i, j = _node(k)
        path.append((path[-1][0], grid_xy(i, j)[1]))  # along the column, then the row
        path.append(grid_xy(i, j))
    path.append((path[-1][0], grid_xy(0, 0)[1]))
    path.append(grid_xy(0, 0))
    line = shapely.LineString(path)
    route_km = line.length / 1000
    load = int(station_layer["delivered_parcels_per_day"].sum())
    routes = gpd.GeoDataFrame({
        "route_id": ["R1"], "vehicle_id": ["van-1"], "vehicle_type": ["van"],
        "stops": [">".join(station_layer["station_id"])], "n_stops": [len(stations)],
        "load_parcels": [load], "route_km": [route_km], "route_min": [route_km * 2],
        "cost": [100 + 2 * route_km],
    }, geometry=[line], crs=UTM)
    depots = gpd.GeoDataFrame({"depot_id": ["DC1"], "name": ["Depot"]},
                              geometry=[shapely.Point(*grid_xy(0, 0))], crs=UTM)
    summary = summarize(
        region=region, scenario=scenario,
        villages=pd.DataFrame(villages.drop(columns="geometry")),
        stations=pd.DataFrame(station_layer.drop(columns="geometry")),
        routes=pd.DataFrame(routes.drop(columns="geometry")),
        radius_km=radius_km, unserved_village_ids=[],
    )
    summary.update({
        "status": "ok", "crs": UTM, "seed": 1, "time_limit_s": 2,
        "placement": {"method": "p_median", "objective": "time", "weight": "population",
                      "status": "optimal", "objective_value": 1.0, "bound": 1.0, "gap": 0.0},
        "routing": {"status": "feasible", "notes": []},
        "warnings": [], "solve_seconds": 0.5,
        "produce_collected_kg_per_day": 0.0, "produce_left_behind_kg_per_day": 0.0,
    })
    return Plan(region=region, scenario=scenario, crs=UTM, villages=villages,
                stations=station_layer, depots=depots, routes=routes, townships=None,
                summary=summary, radius_km=radius_km)


def make_run(folder: Path, *, stations: list[int], scenario: str = "normal",
             region: str = "Grid", config_dir: Path | None = None) -> Path:
    """Write a run folder (with config.yaml when ``config_dir`` is given) and return it."""
    plan = make_plan(stations=stations, scenario=scenario, region=region,
                     multiplier=5.1 if scenario == "double11" else 1.0)
    config = None
    if config_dir is not None:
        config = load_config(write_grid_region(config_dir)).with_overrides(
            stations=len(stations), scenario=scenario)
    write_run(plan, folder, config=config, map_png=False)
    return folder


@pytest.fixture(scope="session")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two grid runs (read only): 1 station in the centre vs 3 (west, centre, east)."""
    root = tmp_path_factory.mktemp("runs")
    a = make_run(root / "k1", stations=[4], config_dir=root / "cfg1")
    b = make_run(root / "k3", stations=[3, 4, 5], config_dir=root / "cfg3")
    return a, b


class _Cells(HTMLParser):
    """Collects the KPI cells (data-key/data-run/data-value and the shown value text)."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, int], dict[str, Any]] = {}
        self._cell: dict[str, Any] | None = None
        self._in_value = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "td" and "data-key" in a:
            self._cell = {"value": a["data-value"], "text": ""}
            self.cells[(str(a["data-key"]), int(str(a["data-run"])))] = self._cell
        elif tag == "span" and self._cell is not None and a.get("class") == "v":
            self._in_value = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "span":
            self._in_value = False
        elif tag == "td":
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._in_value and self._cell is not None:
            self._cell["text"] += data


def parse_shown(text: str) -> tuple[float, int] | None:
    """The number in a shown KPI value and its decimals, or None for ``n/a``."""
    text = text.strip().replace("\u2212", "-").replace(",", "")
    if text == "n/a":
        return None
    m = re.fullmatch(r"(-?\d+(?:\.(\d+))?)( %)?", text)
    assert m, f"unexpected KPI text {text!r}"
    value = float(m.group(1)) / (100 if m.group(3) else 1)
    return value, len(m.group(2) or "") + (2 if m.group(3) else 0)


def assert_kpis_match(cells: dict[tuple[str, int], dict[str, Any]],
                      summaries: list[dict[str, Any]]) -> None:
    """Every KPI cell carries the summary value and shows it rounded, nothing else."""
    assert len(cells) == len(KPIS) * len(summaries)
    for i, summary in enumerate(summaries):
        for kpi in KPIS:
            cell = cells[(kpi.key, i)]
            expected = summary[kpi.key]
            assert json.loads(cell["value"]) == expected, (kpi.key, i)
            shown = parse_shown(cell["text"])
            if expected is None:
                assert shown is None
                continue
            assert shown is not None, (kpi.key, i, cell["text"])
            value, decimals = shown
            assert abs(value - expected) <= 0.5 * 10.0**-decimals + 1e-9, (
                kpi.key, i, cell["text"], expected)


# --------------------------------------------------------------------------- tests


def test_kpi_values_in_the_report_equal_each_summary(two_runs: tuple[Path, Path],
                                                     tmp_path: Path) -> None:
    out = compare_runs(list(two_runs), out=tmp_path / "cmp.html")
    summaries = [json.loads((run / "summary.json").read_text()) for run in two_runs]
    parser = _Cells()
    parser.feed(out.read_text(encoding="utf-8"))
    assert_kpis_match(parser.cells, summaries)
    # The two runs differ, so the table is not comparing a run with itself.
    assert summaries[0]["mean_access_km"] > summaries[1]["mean_access_km"]
    assert summaries[0]["stations_open"] == 1 and summaries[1]["stations_open"] == 3


def test_deltas_are_against_the_first_run_and_coloured_by_direction(
    two_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    text = compare_runs(list(two_runs), out=tmp_path / "cmp.html").read_text()
    # 1 station in the centre: mean access = Σ pop × Manhattan km / Σ pop.
    pops = np.array(POPULATIONS, dtype=float)
    km1 = np.array([2, 1, 2, 1, 0, 1, 2, 1, 2], dtype=float)
    km3 = np.array([1, 1, 1, 0, 0, 0, 1, 1, 1], dtype=float)
    delta = np.average(km3, weights=pops) - np.average(km1, weights=pops)
    cell = re.search(r'data-key="mean_access_km" data-run="1"[^>]*>(.*?)</td>', text)
    assert cell is not None
    assert f'<span class="delta better">\u2212{abs(delta):.2f}</span>' in cell.group(1)
    cell = re.search(r'data-key="total_route_km" data-run="1"[^>]*>(.*?)</td>', text)
    assert cell is not None and 'class="delta worse">+' in cell.group(1)
    first = re.search(r'data-key="mean_access_km" data-run="0"[^>]*>(.*?)</td>', text)
    assert first is not None and "delta" not in first.group(1)


def test_report_is_self_contained(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    text = compare_runs(list(two_runs), out=tmp_path / "cmp.html").read_text()
    # No external reference of any kind: no URLs, no src/href to files or hosts.
    assert not re.search(r"https?://(?!www\.w3\.org/(2000/svg|1999/xlink))", text)
    assert not re.search(r"""\b(src|href)\s*=\s*["'](?!#|data:)""", text)
    assert "@import" not in text and "url(http" not in text
    # One map per run with hover titles on every village; ids are unique in the page.
    assert text.count('<figure class="map"') == 2
    assert text.count('class="rl-hit-v"') == 2 * 9
    ids = re.findall(r'\bid="([^"]+)"', text)
    assert len(ids) == len(set(ids))
    for ref in set(re.findall(r'href="#([^"]+)"', text)):
        assert ref in ids, ref


def test_township_table_and_worst_served_by_hand() -> None:
    plan = make_plan(stations=[4])  # centre station; radius 1 km
    table = township_table(plan)
    assert list(table.index) == ["North", "South"]
    north = table.loc["North"]  # villages 7, 8, 9 at 2, 1, 2 km
    assert north["population"] == 700 + 800 + 900
    assert north["stations"] == 0
    assert north["share_covered"] == pytest.approx(800 / 2400)
    assert north["mean_access_km"] == pytest.approx((2 * 700 + 800 + 2 * 900) / 2400)
    south = table.loc["South"]  # villages 1–6; the station is village 5
    assert south["stations"] == 1
    assert south["share_covered"] == pytest.approx((200 + 400 + 500 + 600) / 2100)
    worst = worst_served(plan, n=4)
    assert list(worst["village_id"]) == ["V1", "V3", "V7", "V9"]  # 2 km, ties by id


def test_worst_served_lists_villages_without_station_first() -> None:
    plan = make_plan(stations=[4])
    plan.villages.loc[plan.villages["village_id"] == "V5", ["station_id", "access_km"]] = (
        None, np.nan)
    worst = worst_served(plan, n=3)
    assert list(worst["village_id"]) == ["V5", "V1", "V3"]


def test_solve_writes_report_into_the_run_folder(tmp_path: Path) -> None:
    folder = make_run(tmp_path / "run", stations=[4], config_dir=tmp_path / "cfg")
    report = folder / "report.html"
    assert report.is_file()
    text = report.read_text(encoding="utf-8")
    assert "<title>Grid — normal · 1 station</title>" in text
    assert text.count('<figure class="map"') == 1
    assert f"rural-logistics solve {folder / 'config.yaml'}" in text
    # Nothing else is left behind in the parent (written in the temp folder, then renamed).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg", "run"]


def test_loaded_run_round_trips_the_plan(two_runs: tuple[Path, Path]) -> None:
    run = load_run(two_runs[1])
    assert run.plan.region == "Grid"
    assert len(run.plan.villages) == 9 and len(run.plan.stations) == 3
    assert run.summary == json.loads((two_runs[1] / "summary.json").read_text())
    assert run.config["placement"]["stations"] == 3


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_compare_cli_writes_the_report(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    target = tmp_path / "out" / "cmp.html"
    code, out, err = cli("compare", *map(str, two_runs), "--out", str(target))
    assert code == 0, err
    assert out.strip() == f"wrote {target}"
    assert "Grid — scenario comparison" in target.read_text()
    code, _, err = cli("compare", *map(str, two_runs), "--out", str(target))
    assert code == 2
    assert err.strip() == f"error: {target}: file exists (use --force to replace it)"
    code, _, err = cli("compare", *map(str, two_runs), "--out", str(target), "--force")
    assert code == 0, err


def test_compare_cli_errors_name_the_folder(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = map(str, two_runs)
    out = str(tmp_path / "r.html")
    not_run = tmp_path / "plain"
    not_run.mkdir()
    (not_run / "notes.txt").write_text("hello")
    other = make_run(tmp_path / "other", stations=[4], region="Elsewhere")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "summary.json").write_text("{not json")
    (broken / "plan.gpkg").write_bytes(b"")
    cases = {
        (a,): "error: compare: give at least 2 run folders, got 1",
        (a, str(tmp_path / "missing")): f"error: {tmp_path / 'missing'}: run folder not found",
        (a, str(not_run)): f"error: {not_run}: not a run folder (no summary.json or plan.gpkg); "
                           "expected an output folder of `rural-logistics solve`",
        (a, str(other)): f"error: {other}: region 'Elsewhere' differs from 'Grid' of {a}; "
                         "compare runs of one region",
        (a, str(broken)): f"error: {broken / 'summary.json'}: not valid JSON "
                          "(line 1: Expecting property name enclosed in double quotes)",
    }
    for folders, message in cases.items():
        code, stdout, err = cli("compare", *folders, "--out", out)
        assert (code, stdout, err.strip()) == (2, "", message), folders
    assert not Path(out).exists()
    code, _, err = cli("compare", a, b, "--out", str(tmp_path))
    assert (code, err.strip()) == (
        2, f"error: {tmp_path}: is a folder; give the report file name, e.g. report.html")


def test_runs_of_other_villages_are_refused(two_runs: tuple[Path, Path], tmp_path: Path) -> None:
    plan = make_plan(stations=[4])
    plan.villages.loc[0, "village_id"] = "V99"
    write_run(plan, tmp_path / "renamed", map_png=False)
    with pytest.raises(Exception, match="villages differ from those of"):
        compare_runs([two_runs[0], tmp_path / "renamed"], out=tmp_path / "x.html")


def test_six_runs_render_with_distinct_labels(tmp_path: Path) -> None:
    runs = [RunResult(plan=make_plan(stations=s), folder=tmp_path / f"r{k}")
            for k, s in enumerate([[4], [3, 5], [0, 8], [1, 7], [3, 4, 5], [0, 4, 8]])]
    text = render_report(runs)
    assert text.count('<figure class="map"') == 6
    labels = re.findall(r'<figure class="map"[^>]*><figcaption><b>([^<]+)</b>', text)
    assert len(set(labels)) == 6


def test_more_than_six_runs_give_key_figures_without_maps(tmp_path: Path) -> None:
    stations = [[4], [3, 5], [0, 8], [1, 7], [3, 4, 5], [0, 4, 8], [0, 2, 6, 8], [2], [6, 2]]
    folders = []
    for k, s in enumerate(stations):
        folders.append(tmp_path / f"r{k}")
        write_run(make_plan(stations=s), folders[-1], map_png=False)
    target = tmp_path / "nine.html"
    code, _, err = cli("compare", *map(str, folders), "--out", str(target))
    assert (code, err) == (0, ""), err
    text = target.read_text(encoding="utf-8")
    assert '<figure class="map"' not in text and 'id="distribution"' not in text
    assert "Maps are drawn for up to 6 runs; this report compares 9." in text
    parser = _Cells()
    parser.feed(text)
    summaries = [json.loads((f / "summary.json").read_text()) for f in folders]
    assert_kpis_match(parser.cells, summaries)
    assert {int(run) for _, run in parser.cells} == set(range(9))
    # Six runs still get their maps.
    code, _, err = cli("compare", *map(str, folders[:6]), "--out", str(target), "--force")
    assert code == 0, err
    assert target.read_text(encoding="utf-8").count('<figure class="map"') == 6


def test_solve_then_compare_on_the_grid(tmp_path: Path) -> None:
    """End to end through the real pipeline (skipped while the solver stack does not import)."""
    try:
        import rural_logistics.pipeline  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"pipeline does not import yet: {exc}")
    config = write_grid_region(tmp_path / "grid")
    for k in (1, 2):
        code, _, err = cli("solve", str(config), "--out", str(tmp_path / f"k{k}"),
                           "--stations", str(k), "--no-map", "-q")
        assert code == 0, err
        assert (tmp_path / f"k{k}" / "report.html").is_file()
    target = tmp_path / "cmp.html"
    code, _, err = cli("compare", str(tmp_path / "k1"), str(tmp_path / "k2"), "--out", str(target))
    assert code == 0, err
    parser = _Cells()
    parser.feed(target.read_text(encoding="utf-8"))
    assert_kpis_match(parser.cells, [json.loads((tmp_path / f"k{k}" / "summary.json").read_text())
                                     for k in (1, 2)])
