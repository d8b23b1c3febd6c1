"""``benchmark batch`` on two tiny generated counties (the table and summary, not timings)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from rural_logistics.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["benchmark", "batch", *argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_two_tiny_counties_at_one_and_two_workers(tmp_path: Path) -> None:
    csv_path = tmp_path / "batch.csv"
    code, out, err = run("--counties", "2", "--villages", "10-12", "--time-limit", "1",
                         "--workers", "1,2", "--no-map", "--keep", str(tmp_path / "kept"),
                         "--out", str(csv_path))
    assert code == 0, err
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert [(r["workers"], r["runs"], r["ok"], r["failed"]) for r in rows] == [
        ("1", "2", "2", "0"), ("2", "2", "2", "0")]
    assert rows[0]["speedup"] == ""
    assert float(rows[1]["speedup"]) == pytest.approx(
        float(rows[0]["total_s"]) / float(rows[1]["total_s"]), abs=1e-3)
    for r in rows:
        assert float(r["total_s"]) > float(r["batch_s"]) > 0
        assert float(r["cpu_s_sum"]) > 0 and float(r["peak_rss_mib"]) > 50
    lines = out.splitlines()
    assert lines[3].startswith("generated province: 2 counties, ")
    assert "solver time limit 1 s per run, maps off" in lines[3]
    assert lines[4].startswith("2 workers: ") and "(target ≥ 1.8×): " in lines[4]
    assert lines[5].startswith("CPU seconds per run: ")
    assert lines[6].startswith("placement objectives identical at every worker count: yes")
    assert (tmp_path / "kept" / "runs-2-workers" / "results.csv").is_file()


@pytest.mark.parametrize(("argv", "message"), [
    (("--workers", "0"), "--workers: expected counts like 1,2, got '0'"),
    (("--villages", "many"), "--villages: expected N or MIN-MAX with 1 <= MIN <= MAX, got 'many'"),
    (("--counties", "0"), "benchmark batch: counties must be an integer from 1 to 500, got 0"),
])
def test_bad_options_are_one_line(tmp_path: Path, argv: tuple[str, ...], message: str) -> None:
    code, out, err = run(*argv, "--keep", str(tmp_path))
    assert (code, out, err.strip()) == (2, "", f"error: {message}")
