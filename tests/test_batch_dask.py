"""``batch`` on a real local Dask cluster: three tiny generated counties (one with a broken
config) through the CLI, ``--resume``; a worker process killed mid-batch loses only its
run; solver processes started inside a Dask worker.

The counties have 10–14 villages and a 0.2 s time limit per solver stage, and maps are
off, so a run takes about a second; most of each test is starting the cluster's worker
processes (a few seconds).
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from rural_logistics.batch import (
    batch_cluster,
    collect_runs,
    prepare_batch,
    run_batch,
)
from rural_logistics.batch.results import read_record
from rural_logistics.cli import main
from rural_logistics.generate import generate_province

SOLVE_FILES = {"plan.gpkg", "summary.json", "config.yaml", "report.html", "stops.csv",
               "routes.csv"}


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def province(tmp_path: Path) -> Path:
    """Three tiny counties: manifest, configs, data."""
    folder = tmp_path / "province"
    generate_province(folder, n_counties=3, seed=5, villages=(10, 14), time_limit_s=1.0)
    return folder


def test_three_tiny_counties_one_broken_then_resume(province: Path, tmp_path: Path) -> None:
    manifest = province / "manifest.csv"
    ids = pd.read_csv(manifest)["run_id"].tolist()
    broken = province / "configs" / f"{ids[1]}.yaml"
    good_text = broken.read_text()
    broken.write_text(good_text.replace("stations:", "statoins:"))
    out = tmp_path / "batch"
    code, stdout, err = cli("batch", str(manifest), "--out", str(out), "--workers", "2",
                            "--memory-limit", "1GiB", "--no-map")
    assert code == 1, err
    assert stdout.splitlines()[0].startswith("3 runs: 2 ok, 1 failed in ")
    assert "local Dask cluster: 2 workers × 1 thread, memory limit 1.0 GiB per worker" in err
    assert "routing.workers = 1 per run (--solve-workers)" in err
    error = f"{broken}: placement.statoins: unknown key"
    (line,) = [x for x in err.splitlines() if ids[1] in x]
    assert line.startswith("  [") and " failed " in line and line.endswith(f"  error: {error}")
    table = pd.read_csv(out / "results.csv")
    assert table["run_id"].tolist() == ids
    assert table["run_status"].tolist() == ["ok", "failed", "ok"]
    assert table.loc[1, "error"] == error and table.loc[1, "error_type"] == "ConfigError"
    assert table.loc[[0, 2], "status"].tolist() == ["feasible", "feasible"]
    assert (table["run_s"] > 0).all() and table.loc[[0, 2], "cpu_s"].gt(0).all()
    parquet = pd.read_parquet(out / "results.parquet")
    assert parquet["run_id"].tolist() == ids and list(parquet.columns) == list(table.columns)
    for k in (0, 2):
        summary = json.loads((out / "runs" / ids[k] / "summary.json").read_text())
        assert {p.name for p in (out / "runs" / ids[k]).iterdir()} == SOLVE_FILES
        assert table.loc[k, "villages"] == summary["villages"]
        assert table.loc[k, "placement.status"] == summary["placement"]["status"]
    assert not (out / "runs" / ids[1]).exists()
    settings = json.loads((out / "batch.json").read_text())
    assert settings["cluster"]["workers"] == 2
    assert settings["cluster"]["memory_limit"] == ["1.0 GiB", "1.0 GiB"]
    assert (settings["ok"], settings["failed"], settings["status"]) == (2, 1, "finished")

    # Fixed config, --resume: only the failed run runs again.
    broken.write_text(good_text)
    kept = {k: (out / "runs" / ids[k] / "summary.json").stat().st_mtime_ns for k in (0, 2)}
    code, stdout, err = cli("batch", str(manifest), "--out", str(out), "--workers", "1",
                            "--resume", "--no-map")
    assert code == 0, err
    assert stdout.splitlines()[0].startswith("3 runs: 3 ok, 0 failed (2 reused) in ")
    assert "3 runs into" in err and "1 to run, 2 reused" in err
    assert {k: (out / "runs" / ids[k] / "summary.json").stat().st_mtime_ns
            for k in (0, 2)} == kept
    table = pd.read_csv(out / "results.csv")
    assert table["run_status"].tolist() == ["ok"] * 3
    assert table["reused"].tolist() == [True, False, True]


def _kill_when_running(record: Path, seen: dict[str, Any]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        data = read_record(record)
        if data and data.get("run_status") == "running" and data.get("pid"):
            time.sleep(0.3)  # inside the run, well before its 30 s time limit ends
            os.kill(int(data["pid"]), signal.SIGKILL)
            seen["pid"] = data["pid"]
            return
        time.sleep(0.05)


def test_a_killed_worker_loses_only_its_run_and_resume_finishes(
    province: Path, tmp_path: Path
) -> None:
    ids = pd.read_csv(province / "manifest.csv")["run_id"].tolist()
    long_manifest = tmp_path / "long.csv"
    long_manifest.write_text(
        "run_id,config,time_limit_s\n"
        + "".join(f"{i},{province / 'configs' / f'{i}.yaml'},{30 if k == 0 else ''}\n"
                  for k, i in enumerate(ids))
    )
    out = tmp_path / "batch"
    plan = prepare_batch(collect_runs([long_manifest]), out_dir=out, map_png=False)
    seen: dict[str, Any] = {}
    killer = threading.Thread(
        target=_kill_when_running, args=(out / "records" / f"{ids[0]}.json", seen))
    with batch_cluster(workers=2, memory_limit="1GiB") as (client, info):
        killer.start()
        result = run_batch(plan, client, cluster=info)
        killer.join()
        assert seen, "the long run never started"
        statuses = [r["run_status"] for r in result.records]
        assert statuses == ["failed", "ok", "ok"], [r.get("error") for r in result.records]
        lost = result.records[0]
        assert lost["error_type"] == "KilledWorker"
        assert lost["error"] == (
            f"the Dask worker process (pid {seen['pid']}) running this run died: killed, or "
            "restarted above its memory limit of 1.0 GiB")
        assert not (out / "runs" / ids[0]).exists()
        assert not list((out / "runs").glob(".*partial*"))

        # --resume with the killed run's time limit back to the config's: the others stay.
        short = collect_runs([province / "manifest.csv"])
        again = prepare_batch(short, out_dir=out, resume=True, map_png=False)
        assert [t.run.run_id for t in again.tasks] == [ids[0]]
        assert sorted(again.reused) == sorted(ids[1:])
        resumed = run_batch(again, client, cluster=info)
        assert [r["run_status"] for r in resumed.records] == ["ok", "ok", "ok"]
        assert [bool(r.get("reused")) for r in resumed.records] == [False, True, True]
        assert (out / "runs" / ids[0] / "summary.json").is_file()

        # Solver processes inside a Dask worker (routing.workers = 2, spawned): same runs.
        twice = prepare_batch(short[:1], out_dir=tmp_path / "two", solve_workers=2,
                              map_png=False)
        (record,) = run_batch(twice, client, cluster=info).records
        assert record["run_status"] == "ok", record.get("error")
        assert record["solve_workers"] == 2
        assert record["summary"]["routing"]["status"] == "solved"

        # The CLI on this existing cluster (--scheduler).
        code, stdout, err = cli("batch", str(province / "configs" / f"{ids[2]}.yaml"),
                                "--out", str(tmp_path / "existing"), "--scheduler",
                                info.address, "--no-map")
        assert code == 0, err
        assert f"Dask cluster at {info.address}: 2 workers × 1 thread, memory limit " \
            "1.0 GiB per worker" in err
        assert stdout.startswith("1 run: 1 ok, 0 failed in ")
    table = pd.read_csv(out / "results.csv")
    assert table["run_status"].tolist() == ["ok", "ok", "ok"]
