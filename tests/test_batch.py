"""``batch`` without a Dask cluster: inputs and manifests, fingerprints, records, the
results table, one run executed in this process, resume decisions, memory limits.

The runs use the 3 × 3 grid region of ``conftest`` (a second or less each). The batch on
a real local Dask cluster is in ``test_batch_dask.py``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import write_grid_region

from rural_logistics.batch import (
    RECORD_COLUMNS,
    BatchRun,
    ClusterInfo,
    collect_runs,
    execute_run,
    fingerprint,
    flatten,
    parse_memory_limit,
    prepare_batch,
    read_manifest,
    results_frame,
)
from rural_logistics.batch.results import read_record, write_record, write_results
from rural_logistics.batch.task import RunTask, _spawned_solver_processes
from rural_logistics.errors import InfeasibleError, InputDataError, OutputError


def _manifest(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- inputs


def test_manifest_reads_runs_overrides_and_batch_defaults(tmp_path: Path) -> None:
    path = _manifest(tmp_path / "m" / "runs.csv", (
        "\ufeffrun_id,config,scenario,stations,seed,time_limit_s\n"
        "# a comment row\n"
        "base,a.yaml,,,,\n"
        "\n"
        "peak,a.yaml,double11,12,3,2.5\n"
        ",sub/b.yaml,,7,,\n"
        f",{tmp_path / 'abs.yaml'},,,,\n"
    ))
    runs = read_manifest(path, defaults={"scenario": "normal", "time_limit_s": 9.0})
    assert [r.run_id for r in runs] == ["base", "peak", "b", "abs"]
    assert runs[0].config == tmp_path / "m" / "a.yaml"
    assert runs[2].config == tmp_path / "m" / "sub" / "b.yaml"
    assert runs[3].config == tmp_path / "abs.yaml"
    assert runs[0].overrides() == {"scenario": "normal", "time_limit_s": 9.0}
    assert runs[1].overrides() == {"scenario": "double11", "stations": 12, "seed": 3,
                                   "time_limit_s": 2.5}
    assert runs[2].overrides() == {"scenario": "normal", "stations": 7, "time_limit_s": 9.0}
    assert runs[1].source == f"{path}: row 5"


def test_manifest_problems_are_all_listed_with_row_and_column(tmp_path: Path) -> None:
    path = _manifest(tmp_path / "bad.csv", (
        "run_id,config,stations,seed,time_limit_s\n"
        "a,a.yaml,two,,\n"
        "b,,,-1,\n"
        "c,c.yaml,0,,0\n"
        "d,d.yaml,,,fast,extra\n"
    ))
    with pytest.raises(InputDataError) as info:
        read_manifest(path)
    assert info.value.problems == (
        f"{path}: row 2: stations: 'two' is not a whole number",
        f"{path}: row 3: seed: '-1' must be >= 0",
        f"{path}: row 3: config: empty (every row needs a config file)",
        f"{path}: row 4: stations: '0' must be >= 1",
        f"{path}: row 4: time_limit_s: '0' must be more than 0 and at most 86400 seconds",
        f"{path}: row 5: 6 cells, more than the 5 columns",
    )
    unknown = _manifest(tmp_path / "cols.csv", "config,staions,config\na.yaml,3,b\n")
    with pytest.raises(InputDataError) as info:
        read_manifest(unknown)
    assert info.value.problems == (
        f"{unknown}: unknown column(s) 'staions' (known: run_id, config, scenario, stations, "
        "seed, time_limit_s)",
        f"{unknown}: column(s) config appear more than once",
    )
    dupes = _manifest(tmp_path / "dupes.csv", "run_id,config\nx,a.yaml\nx,b.yaml\n../up,c.yaml\n")
    with pytest.raises(InputDataError) as info:
        read_manifest(dupes)
    assert info.value.problems == (
        f"{dupes}: row 4: run_id: '../up' must not start with '.' or contain '/' or '\\'",
        f"{dupes}: row 3: run_id 'x' already used by {dupes}: row 2 (give each row its own "
        "run_id)",
    )
    for text, message in (("", "manifest is empty"), ("config\n", "has a header but no run"),
                          ("run_id\nx\n", "no 'config' column")):
        with pytest.raises(InputDataError, match=message):
            read_manifest(_manifest(tmp_path / "e.csv", text))
    with pytest.raises(InputDataError, match="manifest file not found"):
        read_manifest(tmp_path / "missing.csv")


def test_runs_from_files_folders_and_globs(tmp_path: Path) -> None:
    for name in ("north/config.yaml", "south/config.yaml", "east/east.yml", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    runs = collect_runs([str(tmp_path / "*" / "config.yaml"), str(tmp_path / "east"),
                         str(tmp_path / "north" / "config.yaml"), str(tmp_path / "gone.yaml")],
                        seed=4)
    # duplicates dropped; colliding names made unique by their folder; a missing file kept
    assert [r.run_id for r in runs] == ["north-config", "south-config", "east", "gone"]
    assert [r.config.name for r in runs] == ["config.yaml", "config.yaml", "east.yml", "gone.yaml"]
    assert all(r.overrides() == {"seed": 4} for r in runs)
    with pytest.raises(InputDataError) as info:
        collect_runs([str(tmp_path / "*.yaml"), str(tmp_path / "north" / "none*"),
                      str(tmp_path / "east" / "x"), str(tmp_path)])
    assert info.value.problems == (
        f"{tmp_path / '*.yaml'}: no .yaml/.yml config file matches this pattern",
        f"{tmp_path / 'north' / 'none*'}: no .yaml/.yml config file matches this pattern",
        f"{tmp_path}: folder has no .yaml/.yml config file",
    )
    with pytest.raises(InputDataError, match="give one manifest CSV alone"):
        collect_runs([str(tmp_path / "m.csv"), str(tmp_path / "east")])


def test_the_committed_sweep_manifest_names_valid_runs(repo_root: Path) -> None:
    from rural_logistics.batch import effective_config

    runs = collect_runs([repo_root / "configs" / "demo_sweep.csv"])
    assert [r.run_id for r in runs] == [
        "normal-30", "normal-40", "normal-50", "double11-40", "double11-50"]
    configs = [effective_config(r, solve_workers=1) for r in runs]
    assert [(c.scenario, c.placement.stations, c.routing.workers) for c in configs] == [
        ("normal", 30, 1), ("normal", 40, 1), ("normal", 50, 1), ("double11", 40, 1),
        ("double11", 50, 1)]


# --------------------------------------------------------------------------- fingerprints


def test_fingerprint_follows_config_data_overrides_and_batch_options(tmp_path: Path) -> None:
    config = write_grid_region(tmp_path / "grid")
    run = BatchRun(run_id="g", config=config)

    def fp(r: BatchRun = run, **kwargs: Any) -> str:
        return fingerprint(r, solve_workers=kwargs.get("solve_workers", 1),
                           map_png=kwargs.get("map_png", True))

    base = fp()
    assert fp() == base and len(base) == 16
    (tmp_path / "grid" / "unrelated.txt").write_text("not named by the config")
    assert fp() == base
    assert fp(BatchRun(run_id="other-name", config=config, source="elsewhere")) == base
    assert fp(BatchRun(run_id="g", config=config, stations=3)) != base
    assert fp(solve_workers=2) != base and fp(map_png=False) != base
    text = config.read_text()
    config.write_text(text.replace("seed: 1", "seed: 2"))
    assert fp() != base
    config.write_text(text)
    assert fp() == base
    villages = tmp_path / "grid" / "villages.csv"
    villages.write_text(villages.read_text().replace("Village 1,", "Village One,"))
    assert fp() != base
    broken = tmp_path / "broken.yaml"
    broken.write_text("region: [")
    first = fp(BatchRun(run_id="b", config=broken))
    broken.write_text("region: [ ")
    assert fp(BatchRun(run_id="b", config=broken)) != first


# --------------------------------------------------------------------------- results


SUMMARY: dict[str, Any] = {
    "region": "Grid", "villages": 9, "radius_km": 1.0, "cost_per_parcel": None,
    "run_id": "clash", "unserved_villages": ["V1", "V2"], "warnings": [],
    "placement": {"status": "optimal", "gap": 0.0, "uncovered_villages": []},
    "routing": {"status": "solved", "notes": ["a"]}, "empty": {},
    "mean_access_km": np.float64(1.25), "nan": float("nan"),
}


def test_flatten_nested_summary() -> None:
    assert flatten(SUMMARY) == {
        "region": "Grid", "villages": 9, "radius_km": 1.0, "cost_per_parcel": None,
        "run_id": "clash", "unserved_villages": '["V1", "V2"]', "warnings": "[]",
        "placement.status": "optimal", "placement.gap": 0.0,
        "placement.uncovered_villages": "[]", "routing.status": "solved",
        "routing.notes": '["a"]', "empty": "{}", "mean_access_km": 1.25, "nan": None,
    }


def test_results_table_types_do_not_depend_on_the_values(tmp_path: Path) -> None:
    ok = {"run_id": "a", "run_status": "ok", "reused": False, "run_s": 2.5, "pid": 12,
          "overrides": {"stations": 3}, "summary": SUMMARY}
    failed = {"run_id": "b", "run_status": "failed", "error": "a.yaml: config file not found",
              "error_type": "ConfigError", "summary": None}
    frame = results_frame([ok, failed])
    assert list(frame.columns[: len(RECORD_COLUMNS)]) == list(RECORD_COLUMNS)
    assert frame.loc[0, "summary.run_id"] == "clash" and frame.loc[0, "run_id"] == "a"
    assert pd.isna(frame.loc[1, "summary.run_id"])
    assert str(frame["radius_km"].dtype) == "Float64"  # 1.0, not turned into an integer
    assert str(frame["villages"].dtype) == "Int64"
    assert str(frame["reused"].dtype) == "boolean"
    assert frame.loc[0, "overrides"] == '{"stations": 3}'
    assert pd.isna(frame.loc[1, "villages"]) and frame.loc[1, "error_type"] == "ConfigError"
    csv_path, parquet_path = write_results([ok, failed], tmp_path)
    from_csv = pd.read_csv(csv_path)
    from_parquet = pd.read_parquet(parquet_path)
    assert list(from_csv.columns) == list(from_parquet.columns) == list(frame.columns)
    assert from_csv["villages"].tolist()[0] == 9 and from_parquet["villages"].tolist()[0] == 9
    assert str(from_parquet["radius_km"].dtype) == "Float64"
    assert not list(tmp_path.glob(".*partial"))


def test_records_round_trip_and_unreadable_ones_are_none(tmp_path: Path) -> None:
    path = tmp_path / "records" / "a.json"
    write_record(path, {"run_id": "a", "x": np.int64(3), "p": Path("/x")})
    assert read_record(path) == {"run_id": "a", "x": 3, "p": "/x"}
    path.write_text("{half")
    assert read_record(path) is None
    assert read_record(tmp_path / "none.json") is None


# --------------------------------------------------------------------------- one run


def _task(tmp_path: Path, config: Path, run_id: str = "grid", **kwargs: Any) -> RunTask:
    run = BatchRun(run_id=run_id, config=config, **kwargs)
    return RunTask(run=run, run_dir=tmp_path / "out" / "runs" / run_id,
                   record_path=tmp_path / "out" / "records" / f"{run_id}.json",
                   fingerprint="f" * 16, map_png=False)


def test_a_run_writes_the_files_of_solve_and_its_record(tmp_path: Path) -> None:
    config = write_grid_region(tmp_path / "grid")
    task = _task(tmp_path, config, stations=1, time_limit_s=1.0)
    record = execute_run(task)
    assert record["run_status"] == "ok", record.get("error")
    assert {p.name for p in task.run_dir.iterdir()} == {
        "plan.gpkg", "summary.json", "config.yaml", "report.html", "stops.csv", "routes.csv"}
    summary = json.loads((task.run_dir / "summary.json").read_text())
    assert record["summary"] == summary and summary["stations_open"] == 1
    assert record["overrides"] == {"stations": 1, "time_limit_s": 1.0}
    assert record["run_dir"] == "runs/grid" and record["fingerprint"] == "f" * 16
    assert record["pid"] == os.getpid() and record["error"] is None
    assert record["run_s"] > 0 and record["cpu_s"] > 0 and record["peak_rss_mib"] > 50
    assert read_record(task.record_path) == json.loads(json.dumps(record))
    written = (task.run_dir / "config.yaml").read_text()
    assert "stations: 1" in written and "workers: 1" in written


def test_a_failed_run_is_recorded_on_one_line(tmp_path: Path, monkeypatch: Any) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("region: {name: X}\nfleet: 3\n")
    record = execute_run(_task(tmp_path, broken, run_id="broken"))
    assert record["run_status"] == "failed" and record["summary"] is None
    assert record["error_type"] == "ConfigError"
    assert record["error"].startswith(f"{broken}: data: required key is missing; {broken}: ")
    assert "\n" not in record["error"] and "traceback" not in record
    assert not (tmp_path / "out" / "runs" / "broken").exists()

    config = write_grid_region(tmp_path / "grid")

    def boom(*args: Any, **kwargs: Any) -> None:
        raise ValueError("line one\nline two")

    monkeypatch.setattr("rural_logistics.pipeline.plan_region", boom)
    record = execute_run(_task(tmp_path, config, run_id="bug"))
    assert record["run_status"] == "failed"
    assert record["error"] == "ValueError: line one\\nline two"
    assert "Traceback" in record["traceback"]


def test_solver_processes_cannot_start_in_a_daemonic_worker(monkeypatch: Any) -> None:
    monkeypatch.setattr(multiprocessing, "current_process", lambda: SimpleNamespace(daemon=True))
    with pytest.raises(InfeasibleError, match="DASK_DISTRIBUTED__WORKER__DAEMON=False"), \
            _spawned_solver_processes(2):
        pass
    with _spawned_solver_processes(1):  # one solver process per run needs no children
        pass


def test_spawned_solver_processes_find_the_forked_plan() -> None:
    from test_pyvrp_engine import thirty_stations_problem

    from rural_logistics.routing.model import build_visits
    from rural_logistics.routing.pyvrp_engine import solve_pyvrp
    from rural_logistics.solvers import Budget
    from rural_logistics.solvers.processes import process_context

    problem = thirty_stations_problem()
    visits = build_visits(problem)

    def solve() -> Any:
        return solve_pyvrp(problem, visits, budget=Budget.of(30.0, iteration_limit=20), seed=0,
                           workers=2)

    assert process_context().get_start_method() == "fork"
    forked = solve()
    with _spawned_solver_processes(2):
        assert process_context().get_start_method() == "spawn"
        spawned = solve()
    assert process_context().get_start_method() == "fork"
    assert spawned.feasible and spawned.routes == forked.routes
    assert spawned.objective == forked.objective


# --------------------------------------------------------------------------- the batch folder


def test_resume_reuses_only_finished_unchanged_runs(tmp_path: Path) -> None:
    config = write_grid_region(tmp_path / "grid")
    runs = [BatchRun(run_id=name, config=config, stations=k)
            for k, name in enumerate(("done", "changed", "failed", "lost", "new"), start=1)]
    out = tmp_path / "out"
    plan = prepare_batch(runs, out_dir=out)
    assert [t.run.run_id for t in plan.tasks] == [r.run_id for r in runs] and not plan.reused
    by_id = {t.run.run_id: t for t in plan.tasks}
    for name, status in (("done", "ok"), ("changed", "ok"), ("failed", "failed"), ("lost", "ok")):
        task = by_id[name]
        write_record(task.record_path, {"run_id": name, "run_status": status,
                                        "fingerprint": task.fingerprint})
        if name != "lost":
            task.run_dir.mkdir(parents=True)
            (task.run_dir / "summary.json").write_text("{}")
    with pytest.raises(OutputError, match="use --resume to finish that batch, or --force"):
        prepare_batch(runs, out_dir=out)
    runs[1] = BatchRun(run_id="changed", config=config, stations=5)
    again = prepare_batch(runs, out_dir=out, resume=True)
    assert list(again.reused) == ["done"] and again.reused["done"]["reused"] is True
    assert [t.run.run_id for t in again.tasks] == ["changed", "failed", "lost", "new"]
    forced = prepare_batch(runs, out_dir=out, force=True)
    assert len(forced.tasks) == 5 and not forced.reused
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="exists and is not a folder"):
        prepare_batch(runs, out_dir=tmp_path / "file")


def test_memory_limit_sizes_and_errors(monkeypatch: Any) -> None:
    monkeypatch.setattr("rural_logistics.batch.cluster.system_memory_bytes", lambda: 16 * 2**30)
    assert parse_memory_limit(None, workers=4) == 4 * 2**30
    assert parse_memory_limit("auto", workers=3) == 16 * 2**30 // 3
    assert parse_memory_limit("2GiB", workers=1) == 2 * 2**30
    assert parse_memory_limit("1500MB", workers=1) == 1_500_000_000
    assert parse_memory_limit("0.25", workers=1) == 4 * 2**30
    for text, message in (("lots", "is not a size"), ("100MiB", "below the 256.0 MiB"),
                          ("20GiB", "more than this machine's 16.0 GiB")):
        with pytest.raises(InputDataError, match=message):
            parse_memory_limit(text, workers=1)


def test_local_cluster_options_are_refused_with_a_scheduler() -> None:
    from rural_logistics.batch import batch_cluster

    with pytest.raises(InputDataError) as info, batch_cluster(
        scheduler="tcp://127.0.0.1:1", workers=2, threads_per_worker=2, memory_limit="1GiB"
    ):
        pass
    assert info.value.problems == (
        "--workers, --memory-limit, --threads-per-worker: not with --scheduler (an existing "
        "cluster's workers have their own threads and memory limit)",)


def test_cluster_description_states_workers_and_memory() -> None:
    local = ClusterInfo("local", "tcp://127.0.0.1:1", 2, (1, 1), (2 * 2**30, 2 * 2**30), 0.95)
    assert local.describe() == (
        "local Dask cluster: 2 workers × 1 thread, memory limit 2.0 GiB per worker; a worker "
        "above 95% of it is restarted and its run recorded as failed")
    assert local.total_threads == 2
    remote = ClusterInfo("existing", "tcp://h:8786", 3, (4, 4, 2), (None, 2**30, 2**31), None)
    assert remote.describe() == (
        "Dask cluster at tcp://h:8786: 3 workers × 2–4 threads, memory limit 1.0 GiB–2.0 GiB "
        "per worker (some workers have none)")
