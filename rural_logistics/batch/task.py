"""One run of a batch, as a Dask worker executes it: :func:`execute_run`.

The task calls the library as ``solve`` does — :func:`~rural_logistics.config.load_config`
(with the run's overrides), :func:`~rural_logistics.pipeline.plan_region`,
:func:`~rural_logistics.outputs.write_run` (atomic: a killed run never leaves half a
folder) — and records what happened in ``records/RUN_ID.json``: first a ``running``
record (which process, since when), then the final one. It never raises for a failed
run: a user error (bad config, bad data, an impossible request) or an internal error
becomes a ``failed`` record with the error on one line, so the other runs go on.

Nothing here imports Dask: the function runs the same in a plain process (tests).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import resource
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rural_logistics.batch.results import (
    RUN_FAILED,
    RUN_OK,
    RUN_RUNNING,
    write_record,
)
from rural_logistics.batch.runs import BatchRun, effective_config
from rural_logistics.errors import InfeasibleError, RuralLogisticsError, one_line


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run (picklable, paths absolute).

    Attributes
    ----------
    run
        The run.
    run_dir
        Its output folder (``runs/RUN_ID``).
    record_path
        Its record file (``records/RUN_ID.json``).
    fingerprint
        Its fingerprint (see :func:`~rural_logistics.batch.runs.fingerprint`).
    solve_workers
        ``routing.workers`` of the run: solver processes the run starts (1: none).
    map_png
        Draw ``map.png``.
    """

    run: BatchRun
    run_dir: Path
    record_path: Path
    fingerprint: str
    solve_workers: int = 1
    map_png: bool = True


def now_iso() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def base_record(task: RunTask) -> dict[str, Any]:
    """The record fields known before the run starts."""
    return {
        "run_id": task.run.run_id,
        "config": str(task.run.config),
        "overrides": task.run.overrides(),
        "run_dir": f"{task.run_dir.parent.name}/{task.run_dir.name}",
        "fingerprint": task.fingerprint,
        "reused": False,
        "solve_workers": task.solve_workers,
    }


def error_text(exc: BaseException) -> str:
    """The error of a failed run on one line, as the CLI prints it (problems joined
    by ``; ``); an unexpected exception as ``Type: message``."""
    if isinstance(exc, RuralLogisticsError):
        return "; ".join(one_line(p) for p in exc.problems)
    return one_line(f"{type(exc).__name__}: {exc}")


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return ""


class _PeakMemory:
    """Peak resident memory of this process and its children, sampled every 0.2 s."""

    def __init__(self) -> None:
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _sample(self) -> None:
        import psutil

        try:
            me = psutil.Process()
            total = me.memory_info().rss
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
        except psutil.Error:
            return
        self.peak_bytes = max(self.peak_bytes, total)

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def __enter__(self) -> _PeakMemory:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


_spawn_lock = threading.Lock()
_spawning = 0


@contextmanager
def _spawned_solver_processes(solve_workers: int) -> Iterator[None]:
    """Let the run start its solver processes inside a Dask worker.

    A Dask worker runs other threads (its event loop, the memory monitor), so solver
    processes are spawned, not forked (a forked child can hang on a lock one of those
    threads held). A daemonic process cannot have children at all: say so clearly.
    """
    if solve_workers <= 1:
        yield
        return
    if multiprocessing.current_process().daemon:
        raise InfeasibleError(
            f"routing.workers = {solve_workers} needs solver processes, but this Dask worker "
            "is a daemonic process, which cannot start them: start the workers with "
            "DASK_DISTRIBUTED__WORKER__DAEMON=False in their environment, or use "
            "--solve-workers 1"
        )
    from rural_logistics.solvers.processes import set_start_method

    global _spawning
    with _spawn_lock:  # runs in other threads of this worker may be solving too
        if _spawning == 0:
            set_start_method("spawn")
        _spawning += 1
    try:
        yield
    finally:
        with _spawn_lock:
            _spawning -= 1
            if _spawning == 0:
                set_start_method(None)


def execute_run(task: RunTask) -> dict[str, Any]:
    """Plan one run and write its folder; return (and write) its record.

    Parameters
    ----------
    task
        The run.

    Returns
    -------
    dict
        The record: :data:`~rural_logistics.batch.results.RECORD_COLUMNS` and
        ``summary`` (``summary.json`` as written, ``None`` if the run failed).
    """
    from rural_logistics.outputs import write_run
    from rural_logistics.pipeline import plan_region

    record = base_record(task)
    record.update(
        run_status=RUN_RUNNING,
        started_at=now_iso(),
        worker=_worker_address(),
        pid=os.getpid(),
        host=socket.gethostname(),
    )
    write_record(task.record_path, record)
    start = time.perf_counter()
    cpu_start = time.thread_time()
    children_start = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary: dict[str, Any] | None = None
    error: BaseException | None = None
    with _PeakMemory() as memory:
        try:
            with _spawned_solver_processes(task.solve_workers):
                config = effective_config(task.run, solve_workers=task.solve_workers)
                plan = plan_region(config)
                write_run(plan, task.run_dir, config=config, force=True, map_png=task.map_png)
            summary = json.loads((task.run_dir / "summary.json").read_text(encoding="utf-8"))
        except Exception as exc:  # every failure is this run's alone
            error = exc
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (time.thread_time() - cpu_start) + (
        children.ru_utime + children.ru_stime - children_start.ru_utime - children_start.ru_stime
    )
    record.update(
        run_status=RUN_OK if error is None else RUN_FAILED,
        error=None if error is None else error_text(error),
        error_type=None if error is None else type(error).__name__,
        finished_at=now_iso(),
        run_s=round(time.perf_counter() - start, 3),
        cpu_s=round(cpu_s, 3),
        peak_rss_mib=round(memory.peak_bytes / 2**20, 1),
        summary=summary,
    )
    if error is not None and not isinstance(error, RuralLogisticsError):
        record["traceback"] = "".join(traceback.format_exception(error))
    write_record(task.record_path, record)
    return record
