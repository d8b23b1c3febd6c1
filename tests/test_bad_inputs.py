"""The bad-input corpus (``tests/data/bad/``, written by ``make_corpus.py`` there).

Every case must make ``validate`` exit with code 2 and print each expected message in an
``error:`` line, with no traceback; a selection is also run through ``solve``, which must
refuse it the same way and write nothing. Cases whose expected lines all start with
``warning: `` (folders ``warns_*``: data that used to be taken silently and is now
explained) must validate with exit code 0 and print each of them in a ``warning:`` line.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rural_logistics.cli import main

BAD = Path(__file__).resolve().parent / "data" / "bad"
CASES = sorted(p.name for p in BAD.iterdir() if p.is_dir() and not p.name.startswith("_"))


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


WARNING = "warning: "


def expected(case: str) -> list[str]:
    text = (BAD / case / "expected.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def expected_warnings(case: str) -> list[str]:
    return [line[len(WARNING):] for line in expected(case) if line.startswith(WARNING)]


def expected_errors(case: str) -> list[str]:
    return [line for line in expected(case) if not line.startswith(WARNING)]


def assert_warned(err: str, case: str) -> None:
    warnings = [line for line in err.splitlines() if line.startswith(WARNING)]
    for message in expected_warnings(case):
        assert any(message in line for line in warnings), f"{message!r} not in:\n{err}"


def assert_refused(code: int, out: str, err: str, case: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert errors, err
    assert all(line.startswith(("error: ", "warning: ", "  ")) for line in err.splitlines())
    for message in expected_errors(case):
        assert any(message in line for line in errors), f"{message!r} not in:\n{err}"
    assert_warned(err, case)


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40


def test_base_region_is_valid() -> None:
    code, out, err = run("validate", str(BAD / "_base" / "region.yaml"))
    assert code == 0, err
    assert "OK — 9 villages, 900 people" in out


@pytest.mark.parametrize("case", CASES)
def test_validate_refuses_bad_input(case: str) -> None:
    code, out, err = run("validate", str(BAD / case / "region.yaml"))
    if not expected_errors(case):  # a warning case: valid, but explained
        assert code == 0, err
        assert "Traceback" not in err and "error: " not in err
        assert_warned(err, case)
        assert "OK" in out
        return
    assert_refused(code, out, err, case)
    assert out == ""


def test_warning_cases_are_named_so() -> None:
    for case in CASES:
        assert case.startswith("warns_") == (not expected_errors(case)), case


SOLVE_CASES = [
    "malformed_yaml", "unknown_key", "missing_file", "csv_lonlat_swapped", "roads_without_crs",
    "nan_population", "roads_do_not_connect", "depot_far_from_roads",
    "stations_more_than_candidates", "capacity_below_one_parcel_kg", "huge_demand",
    "many_problems_at_once", "unknown_vehicle_depot", "crs_web_mercator",
    "villages_metres_labelled_wgs84_auto", "raw_osm_lines_layer", "gpkg_several_layers",
    "road_class_column_misspelled", "exclude_sites_unknown", "township_short_of_sites",
    "max_stations_below_kept_stations", "max_access_km_infeasible",
]


@pytest.mark.parametrize("case", SOLVE_CASES)
def test_solve_refuses_bad_input_and_writes_nothing(case: str, tmp_path: Path) -> None:
    out_dir = tmp_path / "run"
    code, out, err = run("solve", str(BAD / case / "region.yaml"), "--out", str(out_dir), "-q")
    assert_refused(code, out, err, case)
    assert not out_dir.exists()
    assert list(tmp_path.iterdir()) == []
