"""batch: a generated province on local Dask clusters of 1, 2, … workers, wall time and speed-up.

The province is generated (``generate --counties``: ``--counties`` counties of
``--villages`` villages each, seeded) unless ``--province`` names one; every count of
``--workers`` then runs the whole batch from scratch on a fresh local cluster (one thread
and one solver process per worker). Each row reports the cluster's start, the batch's wall
time (first run submitted to results table written), ``total_s`` (the cluster's start to
its shutdown: what a user waits), the speed-up of ``total_s`` over the first row, the
runs' summed wall and CPU time, how many cores were busy on average (CPU seconds / batch
seconds), the largest memory of a run and the load average before and after.
``--time-limit`` is ``solver.time_limit_s`` of every run (solver seconds of the whole run).
Routing stops at its time limit whatever the machine, so the summary also gives the share
of the runs' time spent in routing and the CPU seconds per run at each worker count:
equal CPU per run means the workers did not starve each other.
``--data`` and ``--instances`` are not used.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rural_logistics.benchmarks.common import BenchmarkTable
from rural_logistics.errors import InputDataError
from rural_logistics.text import plural

COLUMNS = (
    "workers",
    "runs",
    "ok",
    "failed",
    "cluster_start_s",
    "batch_s",
    "total_s",
    "speedup",
    "runs_per_min",
    "run_s_sum",
    "routing_s_sum",
    "cpu_s_sum",
    "cpu_s_per_run",
    "cores_busy",
    "peak_rss_mib",
    "load_before",
    "load_after",
)
#: The speed-up two workers must reach over one (issue 19).
TARGET_SPEEDUP = 1.8


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``benchmark batch``."""
    parser.add_argument("--counties", type=int, default=40,
                        help="counties of the generated province (default 40)")
    parser.add_argument("--villages", default="30-150", metavar="MIN-MAX",
                        help="villages per county (default 30-150)")
    parser.add_argument("--seed", type=int, default=2026, help="province seed (default 2026)")
    parser.add_argument("--province", type=Path, metavar="DIR",
                        help="use this generated province (its manifest.csv) instead")
    parser.add_argument("--workers", default="1,2", metavar="N,N,…",
                        help="local Dask worker counts to measure, in order (default 1,2)")
    parser.add_argument("--memory-limit", default=None, metavar="SIZE",
                        help="memory per worker (default: this machine's memory / workers)")
    parser.add_argument("--no-map", action="store_true", help="runs do not draw map.png")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the province and the batch folders here (default: a "
                        "temporary folder, deleted)")
    parser.set_defaults(time_limit=2.0)


def _worker_counts(text: str) -> list[int]:
    try:
        counts = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise InputDataError(f"--workers: expected counts like 1,2, got {text!r}")
    return counts


def _load() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def run(args: argparse.Namespace, *, on_row: Callable[[dict[str, Any]], None]) -> BenchmarkTable:
    """Generate (or read) the province and run it at each worker count."""
    from rural_logistics.batch import batch_cluster, collect_runs, prepare_batch, run_batch
    from rural_logistics.generate import generate_province, parse_villages_range

    counts = _worker_counts(args.workers)
    if args.time_limit is None or not 0 < args.time_limit <= 86_400:
        raise InputDataError(f"--time-limit: expected seconds > 0, got {args.time_limit!r}")
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="rl-bench-batch-"))
    summary: list[str] = []
    try:
        if args.province is not None:
            manifest = Path(args.province) / "manifest.csv"
            if not manifest.is_file():
                raise InputDataError(f"{manifest}: not found (give a folder written by "
                                     "`generate --counties`)")
            source = f"province {args.province}"
        else:
            try:
                villages = parse_villages_range(args.villages)
            except ValueError as exc:
                raise InputDataError(f"--villages: {exc}") from None
            start = time.perf_counter()
            try:
                files = generate_province(root / "province", n_counties=args.counties,
                                          seed=args.seed, villages=villages,
                                          time_limit_s=args.time_limit)
            except ValueError as exc:
                raise InputDataError(f"benchmark batch: {exc}") from None
            manifest = files.manifest
            sizes = [int(c["villages"]) for c in files.counties]
            source = (f"generated province: {len(sizes)} counties, {sum(sizes):,} villages "
                      f"({min(sizes)}–{max(sizes)} per county, seed {args.seed}) in "
                      f"{time.perf_counter() - start:.1f} s")
        runs = collect_runs([manifest], time_limit_s=args.time_limit)
        summary.append(f"{source}; solver time limit {args.time_limit:g} s per run, "
                       f"maps {'off' if args.no_map else 'on'}, 1 thread and 1 solver "
                       "process per worker")
        rows: list[dict[str, Any]] = []
        objectives: list[dict[str, Any]] = []
        for workers in counts:
            out = root / f"runs-{workers}-workers"
            if out.exists():
                shutil.rmtree(out)
            plan = prepare_batch(runs, out_dir=out, map_png=not args.no_map)
            load_before = _load()
            start = time.perf_counter()
            with batch_cluster(workers=workers, memory_limit=args.memory_limit) as (client, info):
                cluster_s = time.perf_counter() - start
                result = run_batch(plan, client, cluster=info)
            total_s = time.perf_counter() - start
            records = result.records
            ok = [r for r in records if r["run_status"] == "ok"]
            cpu = sum(float(r.get("cpu_s") or 0) for r in records)
            run_s = sum(float(r.get("run_s") or 0) for r in records)
            routing_s = sum(float((r.get("summary") or {}).get("routing", {})
                                  .get("solve_seconds") or 0) for r in ok)
            row: dict[str, Any] = {
                "workers": workers,
                "runs": len(records),
                "ok": len(ok),
                "failed": result.count("failed"),
                "cluster_start_s": round(cluster_s, 2),
                "batch_s": round(result.elapsed_s, 2),
                "total_s": round(total_s, 2),
                "speedup": None,
                "runs_per_min": round(60 * len(records) / result.elapsed_s, 2),
                "run_s_sum": round(run_s, 1),
                "routing_s_sum": round(routing_s, 1),
                "cpu_s_sum": round(cpu, 1),
                "cpu_s_per_run": round(cpu / max(1, len(records)), 2),
                "cores_busy": round(cpu / result.elapsed_s, 2),
                "peak_rss_mib": max((float(r.get("peak_rss_mib") or 0) for r in records),
                                    default=0.0),
                "load_before": load_before,
                "load_after": _load(),
            }
            if rows:
                row["speedup"] = round(rows[0]["total_s"] / row["total_s"], 3)
            rows.append(row)
            objectives.append({r["run_id"]: (r.get("summary") or {}).get("placement", {})
                               .get("objective_value") for r in ok})
            on_row(row)
        first = rows[0]
        for row in rows[1:]:
            ratio = row["speedup"]
            if first["workers"] == 1 and row["workers"] == 2:
                verdict = "met" if ratio >= TARGET_SPEEDUP else "NOT met"
                summary.append(f"2 workers: {ratio:.2f}× faster than 1 (target ≥ "
                               f"{TARGET_SPEEDUP:g}×): {verdict}")
            else:
                summary.append(f"{row['workers']} workers: {ratio:.2f}× faster than "
                               f"{first['workers']}")
        summary.append(
            "CPU seconds per run: " + ", ".join(
                f"{r['cpu_s_per_run']:g} at {plural(r['workers'], 'worker')}"
                for r in rows)
            + "; routing (stops at its time limit) "
            + ", ".join(f"{100 * r['routing_s_sum'] / max(r['run_s_sum'], 1e-9):.0f} %"
                        for r in rows) + " of the runs' wall time")
        same = all(o == objectives[0] for o in objectives[1:])
        summary.append(f"placement objectives identical at every worker count: "
                       f"{'yes' if same else 'NO'} (placement is exact; routing is "
                       "time-limited, so route costs may differ)")
        if args.keep:
            summary.append(f"kept the province and the batch folders in {root}")
        return BenchmarkTable(name="batch", columns=COLUMNS, rows=rows, summary=summary)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
