"""``benchmark solve-overhead`` on the tiny corpus region (not a timing test)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rural_logistics.cli import main

BASE = Path(__file__).resolve().parent / "data" / "bad" / "_base" / "region.yaml"


def test_solve_overhead_rows_and_csv(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    csv_path = tmp_path / "overhead.csv"
    code = main(["benchmark", "solve-overhead", "--config", str(BASE), "--limits", "2",
                 "--repeats", "2", "--out", str(csv_path)], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert [r["repeat"] for r in rows] == ["1", "2"]
    for r in rows:
        assert r["time_limit_s"] == "2"
        parts = sum(float(r[k]) for k in ("prepare_s", "placement_s", "delivery_s",
                                          "assemble_s", "write_s"))
        assert abs(parts - float(r["wall_s"])) < 0.05
        assert float(r["excess_s"]) == round(float(r["wall_s"]) - 2, 2)
        assert r["status"] in ("feasible", "time_limit")
    # The tiny grid is solved to the same plan every time with the same seed.
    assert [r["same_as_first"] for r in rows] == ["yes", "yes"]
    assert "identical across repeats (timing fields aside): yes" in out.getvalue()


def test_bad_limits_are_one_line(tmp_path: Path) -> None:
    err = io.StringIO()
    code = main(["benchmark", "solve-overhead", "--config", str(BASE), "--limits", "2,x"],
                stdout=io.StringIO(), stderr=err)
    assert code == 2
    assert err.getvalue().strip() == "error: --limits: expected comma-separated seconds, got '2,x'"
