"""Config loading: validation messages name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rural_logistics.config import DOUBLE11_MULTIPLIER, load_config, parse_config
from rural_logistics.errors import ConfigError

MINIMAL = {
    "region": {"name": "X"},
    "data": {"villages": "v.csv", "roads": "r.gpkg", "depots": "d.geojson"},
    "fleet": {"vehicles": [{"name": "van", "capacity_parcels": 100, "count": 1}]},
}


def write(tmp_path: Path, data: object, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_minimal_config_gets_documented_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert config.scenario == "normal"
    assert config.placement.stations == 20
    assert config.demand.scenarios == {"normal": 1.0, "double11": DOUBLE11_MULTIPLIER}
    assert config.data.villages == (tmp_path / "v.csv").resolve()
    assert config.region.crs == "auto"


def test_double11_multiplier_comes_from_the_2017_share() -> None:
    # 39.24 / 84.61 = 46.38 % of Nov 1-11 on Nov 11; times 11 days.
    assert pytest.approx(5.10, abs=0.005) == DOUBLE11_MULTIPLIER


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    with pytest.raises(Exception, match=r"frozen"):
        config.scenario = "double11"  # type: ignore[misc]


def test_unknown_key_is_named_with_the_file(tmp_path: Path) -> None:
    data = {**MINIMAL, "placement": {"stations": 3, "statoins": 4}}
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.problems == (f"{path}: placement.statoins: unknown key",)


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    data = {
        "region": {"name": "X"},
        "data": {"villages": "v.csv", "roads": "r.gpkg"},
        "placement": {"stations": "many", "radius_km": -1},
        "fleet": {"vehicles": [{"name": "van", "capacity_parcels": 0, "count": 1}]},
    }
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, data))
    text = "\n".join(info.value.problems)
    assert "data.depots: required key is missing" in text
    assert "placement.stations: Input should be a valid integer" in text
    assert "placement.radius_km: Input should be greater than 0" in text
    assert "fleet.vehicles.0.capacity_parcels: Input should be greater than or equal to 1" in text
    assert len(info.value.problems) == 4


def test_unknown_scenario(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"scenario 'peak' is not in demand\.scenarios"):
        load_config(write(tmp_path, {**MINIMAL, "scenario": "peak"}))


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("region:\n  name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml: malformed YAML at line 3"):
        load_config(path)


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    path = tmp_path / "latin1.yaml"
    path.write_bytes("region:\n  name: Caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse_config(["a", "b"], source="list.yaml")


def test_overrides_are_validated(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    changed = config.with_overrides(scenario="double11", seed=7, time_limit_s=3, stations=5)
    assert (changed.scenario, changed.solver.seed, changed.solver.time_limit_s) == (
        "double11",
        7,
        3.0,
    )
    assert changed.placement.stations == 5
    assert config.scenario == "normal"
    with pytest.raises(ConfigError, match=r"command line: solver\.time_limit_s"):
        config.with_overrides(time_limit_s=0)


def test_duplicate_vehicle_names(tmp_path: Path) -> None:
    vehicles = [
        {"name": "van", "capacity_parcels": 100, "count": 1},
        {"name": "van", "capacity_parcels": 200, "count": 1},
    ]
    with pytest.raises(ConfigError, match="duplicate vehicle type name"):
        load_config(write(tmp_path, {**MINIMAL, "fleet": {"vehicles": vehicles}}))


def test_demo_config_is_valid(repo_root: Path) -> None:
    config = load_config(repo_root / "configs" / "demo_county.yaml")
    assert config.data.villages.exists()
    assert config.data.roads.exists()


@pytest.mark.parametrize(
    "name", sorted(p.name for p in (Path(__file__).resolve().parents[1] / "configs").glob("*.yaml"))
)
def test_every_shipped_config_validates(repo_root: Path, name: str) -> None:
    import io

    from rural_logistics.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = main(["validate", str(repo_root / "configs" / name)], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    assert "OK —" in out.getvalue()
