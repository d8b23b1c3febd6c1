"""Several carriers: config errors, the check pass, and a case worked by hand.

``line_region``: one 40 km county road along x (UTM 49N) with the county distribution
centre DC1 at x = 0 and carrier B's depot E1 at x = 40 km; villages V1…V4 sit 50 m north
of the road at x = 10, 20, 30, 40 km with 100 people each and 1 parcel per person per day
(``parcels_per_capita_per_year: 365``): 100 parcels a day each.

Carrier A (depot DC1) has all parcels of the West township (V1, V2) and half of the East
(V3, V4): 100, 100, 50, 50 = 300 a day. Carrier B (depot E1) has the other half of the
East: 0, 0, 50, 50 = 100 a day. Each has one vehicle (capacity 500, fixed 100 a day,
1 per km). Stations: ``fixed_charge`` with an opening cost of 10 a day and 1 per
parcel-km for the villagers: a station at a village costs 10, fetching its parcels from
the next village 10 km away at least 500, so every network opens a station in each
village where its carriers have parcels and nowhere else.

By hand (cost a day = 10 per station + 100 per vehicle + 1 per km):

- ``separate``: A opens V1…V4 and drives DC1 → 40 km → DC1 = 80 km: 40 + 100 + 80 = 220;
  B opens V3, V4 and drives E1 → V4 (0 km) → V3 → E1 = 20 km: 20 + 100 + 20 = 140;
  together 360 with 6 station openings at 4 sites, 2 vehicles, 100 km.
- ``shared_stations``: one network V1…V4 (40); A drives 80 km (180), B drives 20 km
  (120) to the shared stations where it has parcels: 340, 2 vehicles, 100 km.
- ``joint``: one network (40) and one fleet of A's and B's vehicles: B's vehicle alone
  from E1 to V1 and back (60 km, 400 parcels ≤ 500) costs 160 (A's alone 180, both
  140 + 120): 200, 1 vehicle, 60 km.
- Order: joint 200 ≤ shared_stations 340 ≤ separate 360.
- Game: c(A) = 220, c(B) = 140, c(AB) = 200. Shapley: A = (220 + (200 - 140)) / 2 = 140,
  B = (140 + (200 - 220)) / 2 = 60 (each saves 80, half the 160 saving). Proportional to
  parcels (300 : 100): A 150, B 50. Both in the core (140, 150 ≤ 220; 60, 50 ≤ 140).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import yaml
from pyproj import Transformer

from rural_logistics.carriers.run import plan_designs, planned_seconds
from rural_logistics.cli import main
from rural_logistics.config import load_config, parse_config
from rural_logistics.errors import ConfigError, InfeasibleError

UTM = "EPSG:32649"
X0, Y0 = 500_000.0, 3_000_000.0
#: Routing stops after this many engine iterations (the tiny instances are solved long
#: before), not at the time limit: the tests are deterministic and quick on a busy machine.
ITERATIONS = 200


def _vehicle(**extra: Any) -> dict[str, Any]:
    return {"name": "van", "capacity_parcels": 500, "count": 1, "cost_per_km": 1.0,
            "fixed_cost_per_day": 100.0, "service_time_min": 0, **extra}


def carriers_section() -> dict[str, Any]:
    return {
        "members": [
            {"name": "A", "share": 0.5, "share_by_township": {"West": 1.0},
             "depots": ["DC1"], "fleet": [_vehicle()]},
            {"name": "B", "share": 0.5, "share_by_township": {"West": 0.0},
             "depots": ["E1"], "fleet": [_vehicle()]},
        ],
    }


def write_line_region(folder: Path, *, carriers: dict[str, Any] | None = None) -> Path:
    """The line region of the module docstring and its config."""
    folder.mkdir(parents=True, exist_ok=True)
    to_lonlat = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    rows = []
    for k in range(4):
        lon, lat = to_lonlat.transform(X0 + 10_000.0 * (k + 1), Y0 + 50.0)
        rows.append({"id": f"V{k + 1}", "name": f"Village {k + 1}",
                     "township": "West" if k < 2 else "East", "population": 100,
                     "b_share": [0, 0, 0.5, 0.5][k], "lon": lon, "lat": lat})
    pd.DataFrame(rows).to_csv(folder / "villages.csv", index=False)
    gpd.GeoDataFrame({"road_id": ["R1"], "road_class": ["county"]},
                     geometry=[shapely.LineString([(X0, Y0), (X0 + 40_000.0, Y0)])],
                     crs=UTM).to_file(folder / "roads.gpkg", layer="roads", engine="pyogrio")
    gpd.GeoDataFrame({"id": ["DC1", "E1"], "name": ["County DC", "B depot"]},
                     geometry=[shapely.Point(X0, Y0), shapely.Point(X0 + 40_000.0, Y0)],
                     crs=UTM).to_file(folder / "depots.geojson", driver="GeoJSON",
                                      engine="pyogrio")
    config = {
        "region": {"name": "Line", "crs": UTM},
        "data": {"villages": "villages.csv", "roads": "roads.gpkg",
                 "depots": "depots.geojson"},
        "network": {"speed_kph_by_class": {"county": 50}},
        "demand": {"parcels_per_capita_per_year": 365},
        "placement": {"method": "fixed_charge", "opening_cost_per_day": 10,
                      "transport_cost_per_parcel_km": 1.0, "radius_km": 1.0},
        "routing": {"workers": 1},
        "carriers": carriers if carriers is not None else carriers_section(),
        "solver": {"time_limit_s": 20, "seed": 0},
    }
    path = folder / "carriers.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def line_result(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = write_line_region(tmp_path_factory.mktemp("line"))
    return plan_designs(load_config(path), iteration_limit=ITERATIONS)


def test_designs_match_the_hand_solution(line_result: Any) -> None:
    rows = {d.name: d.row for d in line_result.designs}
    assert [d.name for d in line_result.designs] == ["separate", "shared_stations", "joint"]
    expected = {  # stations, sites, vehicles, km, cost per day
        "separate": (6, 4, 2, 100.0, 360.0),
        "shared_stations": (4, 4, 2, 100.0, 340.0),
        "joint": (4, 4, 1, 60.0, 200.0),
    }
    for design, (stations, sites, vehicles, km, cost) in expected.items():
        row = rows[design]
        got = (row["stations"], row["sites"], row["vehicles"])
        assert got == (stations, sites, vehicles), design
        assert row["route_km_per_day"] == pytest.approx(km, abs=0.2), design
        assert row["cost_per_day"] == pytest.approx(cost, abs=0.5), design
        assert row["delivered_share"] == pytest.approx(1.0)
        assert row["cost_per_parcel"] == pytest.approx(cost / 400, abs=0.002)
        assert row["parcels_within_radius_share"] == pytest.approx(1.0)
    assert line_result.notes == ()  # the order joint <= shared <= separate holds


def test_joint_fleet_is_bs_vehicle_from_its_own_depot(line_result: Any) -> None:
    joint = next(d for d in line_result.designs if d.name == "joint")
    routes = joint.plan.routes
    assert list(routes["depot_id"]) == ["E1"]
    assert list(routes["vehicle_id"]) == ["B.van-1"]
    for name in ("separate", "shared_stations"):
        design = next(d for d in line_result.designs if d.name == name)
        assert sorted(design.plan.routes["route_id"]) == ["A-R1", "B-R1"], name
        assert sorted(design.plan.routes["depot_id"]) == ["DC1", "E1"], name
    # Every depot a route starts from is in the depots layer (and on the map).
    for design in line_result.designs:
        layer = design.plan.depots
        assert list(layer["depot_id"]) == ["DC1", "E1"], design.name
        assert list(layer["role"]) == ["dc", "depot"], design.name


def test_shapley_split_matches_the_hand_solution(line_result: Any) -> None:
    split = line_result.split
    assert split.costs[frozenset({0})] == pytest.approx(220.0, abs=0.5)
    assert split.costs[frozenset({1})] == pytest.approx(140.0, abs=0.5)
    assert split.costs[frozenset({0, 1})] == pytest.approx(200.0, abs=0.5)
    rows = {r["carrier"]: r for r in line_result.shapley_rows}
    assert rows["A"]["shapley_cost_per_day"] == pytest.approx(140.0, abs=0.5)
    assert rows["B"]["shapley_cost_per_day"] == pytest.approx(60.0, abs=0.5)
    assert rows["A"]["proportional_cost_per_day"] == pytest.approx(150.0, abs=0.5)
    assert rows["B"]["proportional_cost_per_day"] == pytest.approx(50.0, abs=0.5)
    assert rows["A"]["shapley_saving_per_day"] == pytest.approx(80.0, abs=1.0)
    assert split.shapley_core.in_core and split.proportional_core.in_core


def test_solve_writes_the_designs_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    path = write_line_region(tmp_path / "region", carriers={
        **carriers_section(), "designs": ["separate", "joint"]})
    out = tmp_path / "run"
    assert main(["solve", str(path), "--out", str(out), "--no-map", "-q",
                 "--time-limit", "2"]) == 0
    printed = capsys.readouterr().out
    assert "| separate |" in printed and "| joint |" in printed and "Shapley" in printed
    designs = pd.read_csv(out / "designs.csv")
    assert list(designs["design"]) == ["separate", "joint"]
    shapley = pd.read_csv(out / "shapley.csv")
    assert list(shapley["carrier"]) == ["A", "B"]
    summary = json.loads((out / "carriers_summary.json").read_text(encoding="utf-8"))
    assert len(summary["coalitions"]) == 3 and summary["core"][0].startswith("Shapley: in")
    for design in ("separate", "joint"):
        assert (out / design / "plan.gpkg").is_file()
        assert (out / design / "summary.json").is_file()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="designs"' in html and 'id="fair-split"' in html
    # The written config reads back (the derived fleet agrees with the carriers').
    assert load_config(out / "config.yaml").carriers is not None


def test_share_column_gives_the_same_parcels(tmp_path: Path) -> None:
    section = carriers_section()
    section["members"][1] = {**section["members"][1], "share": None,
                             "share_by_township": {}, "share_column": "b_share"}
    section["members"][1].pop("share")
    section["members"][1].pop("share_by_township")
    path = write_line_region(tmp_path, carriers={**section, "designs": ["separate"],
                                                 "shapley": False})
    result = plan_designs(load_config(path), iteration_limit=ITERATIONS)
    assert list(result.parcels.totals()) == pytest.approx([300.0, 100.0])


def _config(**carriers: Any) -> dict[str, Any]:
    section = {**carriers_section(), **carriers}
    return {"region": {"name": "x"}, "data": {"villages": "v.csv", "depots": "d.geojson",
                                              "roads": "r.gpkg"},
            "carriers": section}


@pytest.mark.parametrize(("change", "message"), [
    ({"designs": ["joint", "joint"]}, "carriers: Value error, designs: name each"),
    ({"designs": ["separate"]}, "shapley: the fair split shares the joint design's cost"),
    ({"members": carriers_section()["members"][:1]}, "members: give 2 to 5 carriers (got 1)"),
    ({"members": carriers_section()["members"] * 2}, "duplicate carrier name(s): A, B"),
    ({"members": [{**carriers_section()["members"][0], "share_column": "x"},
                  carriers_section()["members"][1]]},
     "carriers.members.0: Value error, give share (and share_by_township) or share_column"),
    ({"members": [{**carriers_section()["members"][0], "share": 1.5},
                  carriers_section()["members"][1]]},
     "carriers.members.0.share: Input should be less than or equal to 1"),
    ({"members": [{**carriers_section()["members"][0], "fleet": [_vehicle(depot="E1")]},
                  carriers_section()["members"][1]]},
     "fleet[0].depot: 'E1' is not one of the carrier's depots (DC1)"),
    ({"members": [{**carriers_section()["members"][0], "name": "A B"},
                  carriers_section()["members"][1]]},
     "carriers.members.0.name: String should match pattern"),
])
def test_config_errors_name_the_key(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(_config(**change), source="c.yaml")
    text = str(info.value)
    assert message in text, text
    assert "fleet: required key" not in text


def test_a_fleet_beside_carriers_must_be_theirs() -> None:
    data = _config()
    data["fleet"] = {"vehicles": [_vehicle()]}
    with pytest.raises(ConfigError, match="the fleet is the carriers' fleets"):
        parse_config(data, source="c.yaml")


@pytest.mark.parametrize("section", [
    {"peak": {}},
    {"frequency": {"rules": [{"min_parcels_per_day": 0, "visits": [2]}]}},
])
def test_carriers_exclude_peak_and_frequency(section: dict[str, Any]) -> None:
    data = {**_config(), **section}
    with pytest.raises(ConfigError, match="carriers: the designs route each network"):
        parse_config(data, source="c.yaml")


def test_check_pass_names_every_bad_id(tmp_path: Path) -> None:
    section = carriers_section()
    section["members"][0] = {**section["members"][0], "depots": ["DC1", "X9"],
                             "existing_stations": ["S404"],
                             "share_by_township": {"Nowhere": 1.0}}
    section["members"][1] = {**section["members"][1], "share": 0.6}
    section["competitor_stations"] = ["V2", "Q1"]
    path = write_line_region(tmp_path, carriers=section)
    with pytest.raises(InfeasibleError) as info:
        plan_designs(load_config(path))
    text = str(info.value)
    for part in ("carriers.members[0] (A).depots: X9 not in the depots layer",
                 "carriers.members[0] (A).existing_stations: unknown candidate site(s) S404",
                 "carriers.competitor_stations: unknown candidate site(s) Q1",
                 "carriers.members[0] (A).share_by_township: 'Nowhere' is not a township",
                 "the carriers' shares add up to more than 1 in village(s) V3, V4"):
        assert part in text, text


def test_solve_exits_2_with_one_line_per_problem(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    section = carriers_section()
    section["members"][1] = {**section["members"][1], "share_column": None,
                             "share": None}
    section["members"][1].pop("share")
    section["members"][1]["share_column"] = "missing_col"
    section["members"][1].pop("share_by_township")
    path = write_line_region(tmp_path, carriers=section)
    code = main(["solve", str(path), "--out", str(tmp_path / "run"), "-q"])
    assert code == 2
    err = capsys.readouterr().err
    assert "carriers.members[1] (B).share_column: column 'missing_col' is not in" in err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_a_broken_cost_order_is_said_plainly(line_result: Any) -> None:
    """A joint plan dearer than shared_stations on the same stations is a routing search
    that fell short; shared_stations dearer than separate is allowed but named."""
    from dataclasses import replace

    from rural_logistics.carriers.run import order_notes

    by = {d.name: d for d in line_result.designs}
    dear_joint = replace(by["joint"], row={**by["joint"].row, "cost_per_day": 350.0})
    notes = order_notes([by["separate"], by["shared_stations"], dear_joint])
    assert len(notes) == 1 and notes[0].startswith("heuristic broke the order: joint costs")
    dear_shared = replace(by["shared_stations"],
                          row={**by["shared_stations"].row, "cost_per_day": 400.0})
    notes = order_notes([by["separate"], dear_shared, by["joint"]])
    assert len(notes) == 1 and "sharing stations alone does not pay here" in notes[0]
    short = replace(by["separate"], row={**by["separate"].row, "delivered_share": 0.9})
    notes = order_notes([short, by["shared_stations"], by["joint"]])
    assert notes[0].startswith("design(s) separate leave parcels undelivered")


def test_validate_checks_the_carriers_section(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    good = write_line_region(tmp_path / "good")
    assert main(["validate", str(good)]) == 0
    section = carriers_section()
    section["members"][1] = {**section["members"][1], "depots": ["E9"],
                             "fleet": [_vehicle(depot="E9")]}
    bad = write_line_region(tmp_path / "bad", carriers=section)
    assert main(["validate", str(bad)]) == 2
    assert "carriers.members[1] (B).depots: E9 not in the depots layer" in capsys.readouterr().err


def test_one_plan_entry_points_refuse_a_carriers_config(tmp_path: Path) -> None:
    """No silent fallback: batch (plan_region) and sweep would plan one network."""
    from rural_logistics.pipeline import plan_region
    from rural_logistics.sweep.run import sweep_config
    from rural_logistics.sweep.spec import SweepSpec

    config = load_config(write_line_region(tmp_path))
    with pytest.raises(ConfigError, match="planned by `solve`"):
        plan_region(config)
    with pytest.raises(ConfigError, match="a sweep plans one network"):
        sweep_config(config, SweepSpec(stations=(1, 2)))


def test_planned_seconds_count_each_design_and_each_coalition_solved() -> None:
    """Four carriers, T a design: 3 designs (3T) plus the coalitions not taken from a
    design, each T·|S|/4: six pairs (6 · T/2) and four triples (4 · 3T/4): 9T in all.
    Without ``separate`` the four single carriers are solved too (4 · T/4 = T more);
    without the fair split only the designs count."""
    config = load_config(Path(__file__).parents[1] / "configs" / "demo_carriers.yaml")
    assert config.carriers is not None
    t = config.solver.time_limit_s
    assert planned_seconds(config) == pytest.approx(9 * t)
    two = config.carriers.model_copy(update={"designs": ("shared_stations", "joint")})
    assert planned_seconds(config.model_copy(update={"carriers": two})) == pytest.approx(
        2 * t + 6 * t / 2 + 4 * 3 * t / 4 + 4 * t / 4)
    off = config.carriers.model_copy(update={"shapley": False})
    assert planned_seconds(config.model_copy(update={"carriers": off})) == pytest.approx(3 * t)
