"""Running a batch on a Dask client: :func:`prepare_batch`, then :func:`run_batch`.

The batch folder::

    OUT/runs/RUN_ID/        one run folder per config: what `solve` writes
    OUT/records/RUN_ID.json one record per run (status, times, error, summary)
    OUT/results.csv         one row per run: status, times, error, every summary figure
    OUT/results.parquet     the same table
    OUT/batch.json          how the batch ran: cluster, memory limits, counts, times

Runs are submitted as the cluster has threads free (never more at once than it has
threads), so a worker that dies takes only the runs it was running with it; such a run is
recorded as failed, the others go on. ``--resume`` reuses every run whose record says it
finished and whose fingerprint (config, overrides, data files) is unchanged.
"""

from __future__ import annotations

import json
import platform
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rural_logistics import __version__
from rural_logistics.batch.cluster import ClusterInfo, format_bytes
from rural_logistics.batch.results import (
    RUN_FAILED,
    RUN_NOT_RUN,
    RUN_OK,
    RUN_RUNNING,
    read_record,
    write_record,
    write_results,
)
from rural_logistics.batch.runs import BatchRun, FileHasher, fingerprint
from rural_logistics.batch.task import RunTask, base_record, execute_run, now_iso
from rural_logistics.errors import OutputError, one_line

if TYPE_CHECKING:
    from distributed import Client, Future

RUNS_DIR = "runs"
RECORDS_DIR = "records"
SETTINGS_FILE = "batch.json"


@dataclass(frozen=True)
class BatchPlan:
    """A batch ready to run.

    Attributes
    ----------
    out_dir
        The batch folder.
    runs
        Every run, in order.
    tasks
        The runs to execute (all, or those ``resume`` does not reuse).
    reused
        Records of the runs finished earlier with the same fingerprint, by run id.
    solve_workers
        ``routing.workers`` of every run.
    map_png
        Runs draw ``map.png``.
    """

    out_dir: Path
    runs: tuple[BatchRun, ...]
    tasks: tuple[RunTask, ...]
    reused: dict[str, dict[str, Any]] = field(default_factory=dict)
    solve_workers: int = 1
    map_png: bool = True


@dataclass(frozen=True)
class BatchProgress:
    """Passed to ``on_progress`` when the batch starts and after each run.

    Attributes
    ----------
    record
        The run that just finished (``None`` at the start).
    done
        Runs finished in this invocation (ok or failed).
    failed
        Of them, failed.
    running
        Runs submitted and not finished.
    total
        Runs to execute in this invocation (reused ones not counted).
    elapsed_s
        Seconds since the batch started.
    """

    record: dict[str, Any] | None
    done: int
    failed: int
    running: int
    total: int
    elapsed_s: float


@dataclass(frozen=True)
class BatchResult:
    """The outcome of :func:`run_batch`.

    Attributes
    ----------
    records
        One record per run, in the batch's order (reused, executed or not run).
    results_csv, results_parquet, settings
        The files written.
    elapsed_s
        Wall-clock seconds of the executed part.
    """

    records: tuple[dict[str, Any], ...]
    results_csv: Path
    results_parquet: Path
    settings: Path
    elapsed_s: float

    def count(self, status: str) -> int:
        """Runs with ``run_status == status`` (``ok``, ``failed``, ``not_run``)."""
        return sum(1 for r in self.records if r.get("run_status") == status)

    @property
    def reused(self) -> int:
        """Runs skipped because they had finished before with the same fingerprint."""
        return sum(1 for r in self.records if r.get("reused"))


def prepare_batch(
    runs: Sequence[BatchRun],
    *,
    out_dir: Path,
    resume: bool = False,
    force: bool = False,
    solve_workers: int = 1,
    map_png: bool = True,
) -> BatchPlan:
    """Check the batch folder and decide which runs to execute.

    Parameters
    ----------
    runs
        The runs (see :func:`~rural_logistics.batch.runs.collect_runs`).
    out_dir
        The batch folder; created if missing.
    resume
        Reuse the runs of a previous batch in ``out_dir`` that finished with the same
        fingerprint; run the others (new, changed, failed, interrupted).
    force
        Run everything again in a non-empty ``out_dir`` (each run folder is replaced
        only when its new run is complete).
    solve_workers
        ``routing.workers`` of every run (1 or 2).
    map_png
        Runs draw ``map.png``.

    Raises
    ------
    OutputError
        If ``out_dir`` is a file, or a non-empty folder without ``resume`` or ``force``.
    """
    out_dir = Path(out_dir).resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (resume or force):
        raise OutputError(
            f"{out_dir}: folder exists and is not empty (use --resume to finish that batch, "
            "or --force to run every run again)"
        )
    try:
        (out_dir / RUNS_DIR).mkdir(parents=True, exist_ok=True)
        (out_dir / RECORDS_DIR).mkdir(exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create the folder ({exc.strerror})") from None
    hasher = FileHasher()
    tasks: list[RunTask] = []
    reused: dict[str, dict[str, Any]] = {}
    for run in runs:
        task = RunTask(
            run=replace(run, config=run.config.resolve()),
            run_dir=out_dir / RUNS_DIR / run.run_id,
            record_path=out_dir / RECORDS_DIR / f"{run.run_id}.json",
            fingerprint=fingerprint(run, solve_workers=solve_workers, map_png=map_png,
                                    hasher=hasher),
            solve_workers=solve_workers,
            map_png=map_png,
        )
        previous = read_record(task.record_path) if resume else None
        if (
            previous is not None
            and previous.get("run_status") == RUN_OK
            and previous.get("fingerprint") == task.fingerprint
            and (task.run_dir / "summary.json").is_file()
        ):
            reused[run.run_id] = {**previous, "reused": True}
        else:
            tasks.append(task)
    return BatchPlan(out_dir=out_dir, runs=tuple(runs), tasks=tuple(tasks), reused=reused,
                     solve_workers=solve_workers, map_png=map_png)


def _lost_record(task: RunTask, future: Future, cluster: ClusterInfo | None) -> dict[str, Any]:
    """The record of a run whose task did not return (its worker died, or Dask failed)."""
    from distributed import KilledWorker

    record = base_record(task)
    running = read_record(task.record_path) or {}
    if running.get("run_status") != RUN_RUNNING:  # a record of an earlier attempt
        running = {}
    record.update({k: running.get(k) for k in ("started_at", "worker", "pid", "host")})
    exc = future.exception() if future.status == "error" else None
    if exc is None and future.status == "cancelled":
        error = ("Dask cancelled the run (the connection to the scheduler was lost, or the "
                 "cluster shut down)")
        error_type = "CancelledError"
    elif isinstance(exc, KilledWorker):
        limit = ""
        if cluster is not None:
            limits = {m for m in cluster.memory_limit_bytes if m}
            if len(limits) == 1:
                limit = f" of {format_bytes(limits.pop())}"
        pid = f" (pid {running['pid']})" if running.get("pid") else ""
        error = (f"the Dask worker process{pid} running this run died: killed, or restarted "
                 f"above its memory limit{limit}")
        error_type = "KilledWorker"
    else:
        error = one_line(f"{type(exc).__name__}: {exc}") if exc else f"dask: {future.status}"
        error_type = type(exc).__name__ if exc else "DaskError"
    record.update(run_status=RUN_FAILED, error=error, error_type=error_type,
                  finished_at=now_iso(), summary=None)
    write_record(task.record_path, record)
    return record


def _slots(client: Client, fallback: int) -> int:
    try:
        threads = sum(client.nthreads().values())
    except Exception:  # a scheduler that went away: keep going with what we knew
        threads = fallback
    return max(1, threads)


def run_batch(
    plan: BatchPlan,
    client: Client | None,
    *,
    cluster: ClusterInfo | None = None,
    inputs: Sequence[str] = (),
    on_progress: Callable[[BatchProgress], None] | None = None,
) -> BatchResult:
    """Execute the plan's runs on ``client`` and write the results table.

    Parameters
    ----------
    plan
        From :func:`prepare_batch`.
    client
        A Dask client (``None`` only when the plan has no run to execute).
    cluster
        What the client runs on, for ``batch.json`` and error messages.
    inputs
        The batch's inputs as given, for ``batch.json``.
    on_progress
        Called at the start and after every finished run (in this thread).

    Returns
    -------
    BatchResult

    Raises
    ------
    KeyboardInterrupt
        After cancelling the runs in flight and writing the results of those finished
        (the others are ``not_run``; ``--resume`` runs them).
    """
    from distributed import as_completed

    start = time.perf_counter()
    started_at = now_iso()
    done: dict[str, dict[str, Any]] = dict(plan.reused)
    finished = failed = 0
    total = len(plan.tasks)

    def report(record: dict[str, Any] | None, running: int) -> None:
        if on_progress is not None:
            on_progress(BatchProgress(record, finished, failed, running, total,
                                      time.perf_counter() - start))

    def finish(status: str) -> BatchResult:
        elapsed_s = time.perf_counter() - start
        records = _all_records(plan, done)
        csv_path, parquet_path = write_results(records, plan.out_dir)
        path = _write_settings(plan, done, status=status, executed=finished, inputs=inputs,
                               cluster=cluster, started_at=started_at, elapsed_s=elapsed_s)
        return BatchResult(tuple(records), csv_path, parquet_path, path, elapsed_s)

    _write_settings(plan, done, status="running", executed=0, inputs=inputs, cluster=cluster,
                    started_at=started_at, elapsed_s=0.0)
    if not plan.tasks:
        report(None, 0)
        return finish("finished")
    if client is None:
        raise ValueError("run_batch: a Dask client is needed to execute runs")
    pending = deque(plan.tasks)
    in_flight: dict[Future, RunTask] = {}
    completed = as_completed()
    fallback = cluster.total_threads if cluster is not None else 1

    def fill() -> None:
        slots = _slots(client, fallback)
        while pending and len(in_flight) < slots:
            task = pending.popleft()
            future = client.submit(
                execute_run, task, key=f"run-{task.run.run_id}-{uuid.uuid4().hex[:8]}",
                pure=False, retries=0,
            )
            in_flight[future] = task
            completed.add(future)

    try:
        fill()
        report(None, len(in_flight))
        for future in completed:
            task = in_flight.pop(future)
            if future.status == "finished":
                record = future.result()
            else:
                record = _lost_record(task, future, cluster)
            future.release()
            done[task.run.run_id] = record
            finished += 1
            failed += record.get("run_status") == RUN_FAILED
            fill()
            report(record, len(in_flight))
    except BaseException:
        for future in list(in_flight):
            future.cancel()
        finish("interrupted")
        raise
    return finish("finished")


def _all_records(plan: BatchPlan, done: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per run of the plan, in its order: finished or reused, else ``not_run``."""
    records = []
    for run in plan.runs:
        record = done.get(run.run_id)
        if record is None:
            task = next(t for t in plan.tasks if t.run.run_id == run.run_id)
            record = {**base_record(task), "run_status": RUN_NOT_RUN, "summary": None}
        records.append(record)
    return records


def _write_settings(
    plan: BatchPlan,
    done: dict[str, dict[str, Any]],
    *,
    status: str,
    executed: int,
    inputs: Sequence[str],
    cluster: ClusterInfo | None,
    started_at: str,
    elapsed_s: float,
) -> Path:
    """Write ``batch.json``: the batch's settings and where it stands (``status``)."""
    counts = {s: sum(1 for r in done.values() if r.get("run_status") == s)
              for s in (RUN_OK, RUN_FAILED)}
    data = {
        "status": status,
        "version": __version__,
        "python": platform.python_version(),
        "inputs": list(inputs),
        "started_at": started_at,
        "finished_at": now_iso() if status != "running" else None,
        "elapsed_s": round(elapsed_s, 3),
        "runs": len(plan.runs),
        "executed": executed,
        "reused": len(plan.reused),
        "ok": counts[RUN_OK],
        "failed": counts[RUN_FAILED],
        "not_run": len(plan.runs) - counts[RUN_OK] - counts[RUN_FAILED],
        "solve_workers": plan.solve_workers,
        "map_png": plan.map_png,
        "cluster": cluster.as_dict() if cluster is not None else None,
        "memory_note": (
            "Dask counts a worker process's own memory; solver processes a run starts "
            "(routing.workers 2) are not counted against its limit"
            if plan.solve_workers > 1 else
            "each run is solved inside its worker process, so the limit bounds it"
        ),
    }
    path = plan.out_dir / SETTINGS_FILE
    write_record(path, data)
    return path


def load_settings(out_dir: Path) -> dict[str, Any] | None:
    """``batch.json`` of a batch folder, or ``None``."""
    try:
        data = json.loads((Path(out_dir) / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
