"""The Dask cluster a batch runs on: a local one started for the batch, or an existing one.

A local cluster has one process per worker, each watched by a nanny that restarts it
when it dies or passes its memory limit (Dask's ``distributed.worker.memory.terminate``,
95 % of the limit by default). These Dask settings are held for the cluster's lifetime:

- ``distributed.worker.daemon: False`` — a run may start solver processes
  (``routing.workers`` 2), which a daemonic process cannot;
- ``distributed.scheduler.allowed-failures: 0`` — a run whose worker died is recorded
  as failed at once instead of being retried on another worker (a run that exhausts
  its memory would only kill that one too);
- ``distributed.scheduler.worker-saturation: 1.0`` — a worker is given only as many runs
  as it has threads, so a worker that dies takes only the runs it was running;
- ``distributed.worker.memory.target/spill/pause: False`` — a run holds no Dask data to
  spill, and a worker paused by memory that a finished run left resident would never
  start the next run (the batch would hang); the limit acts by restarting the worker.

An existing cluster (``scheduler``) keeps its own settings; the batch only reads how many
workers, threads and how much memory it has.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rural_logistics.errors import InputDataError
from rural_logistics.text import plural

if TYPE_CHECKING:
    from distributed import Client

LOCAL_SETTINGS: dict[str, Any] = {
    "distributed.worker.daemon": False,
    "distributed.scheduler.allowed-failures": 0,
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.memory.target": False,
    "distributed.worker.memory.spill": False,
    "distributed.worker.memory.pause": False,
}
MIN_MEMORY_LIMIT = 256 * 2**20


@dataclass(frozen=True)
class ClusterInfo:
    """What a batch runs on (stated in the output and in ``batch.json``).

    Attributes
    ----------
    kind
        ``"local"`` (started for the batch) or ``"existing"`` (``--scheduler``).
    address
        The scheduler's address.
    workers
        Number of workers.
    threads
        Threads per worker (runs at once on a worker), one per worker.
    memory_limit_bytes
        Memory limit per worker (``None`` where a worker has none).
    terminate_fraction
        Share of the limit at which a nanny restarts its worker (local clusters).
    """

    kind: str
    address: str
    workers: int
    threads: tuple[int, ...]
    memory_limit_bytes: tuple[int | None, ...]
    terminate_fraction: float | None

    @property
    def total_threads(self) -> int:
        """Runs at once on the whole cluster."""
        return sum(self.threads)

    def describe(self) -> str:
        """One line: kind, workers × threads, memory limit per worker."""
        threads = sorted(set(self.threads))
        per = f"{threads[0]}" if len(threads) == 1 else f"{threads[0]}–{threads[-1]}"
        limits = [m for m in self.memory_limit_bytes if m]
        if not limits:
            memory = "no memory limit per worker"
        else:
            low, high = min(limits), max(limits)
            span = format_bytes(low) if low == high else f"{format_bytes(low)}–{format_bytes(high)}"
            memory = f"memory limit {span} per worker"
            if len(limits) < len(self.memory_limit_bytes):
                memory += " (some workers have none)"
        if self.terminate_fraction:
            memory += (f"; a worker above {self.terminate_fraction:.0%} of it is restarted and "
                       "its run recorded as failed")
        where = "local Dask cluster" if self.kind == "local" else f"Dask cluster at {self.address}"
        return (f"{where}: {plural(self.workers, 'worker')} × {per} "
                f"thread{'s' if threads != [1] else ''}, {memory}")

    def as_dict(self) -> dict[str, Any]:
        """For ``batch.json``."""
        return {
            "kind": self.kind,
            "address": self.address,
            "workers": self.workers,
            "threads_per_worker": list(self.threads),
            "memory_limit_bytes": list(self.memory_limit_bytes),
            "memory_limit": [format_bytes(m) if m else None for m in self.memory_limit_bytes],
            "terminate_fraction": self.terminate_fraction,
        }


def format_bytes(n: int) -> str:
    """``12884901888`` → ``"12.0 GiB"``."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def system_memory_bytes() -> int:
    """Memory this process may use (the machine's, or its cgroup/rlimit if lower)."""
    from distributed.system import MEMORY_LIMIT

    return int(MEMORY_LIMIT)


def parse_memory_limit(text: str | int | None, *, workers: int) -> int:
    """``--memory-limit`` → bytes per worker.

    Parameters
    ----------
    text
        ``"auto"`` or ``None`` (this machine's memory divided by ``workers``), a size
        (``"2GiB"``, ``"1500MB"``, bytes as an integer) or a fraction of the machine's
        memory (``"0.25"``).
    workers
        Number of local workers.

    Raises
    ------
    InputDataError
        If the text is not a size, or is below 256 MiB or above the machine's memory.
    """
    total = system_memory_bytes()
    if text is None or (isinstance(text, str) and text.strip().lower() == "auto"):
        return total // max(1, workers)
    if isinstance(text, int):
        limit = text
    else:
        from dask.utils import parse_bytes

        raw = text.strip()
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        try:
            limit = int(number * total) if 0 < number <= 1 else int(parse_bytes(raw))
        except (ValueError, TypeError):
            raise InputDataError(
                f"--memory-limit: {text!r} is not a size (e.g. 2GiB, 1500MB, 0.25 of the "
                "machine's memory, or auto)"
            ) from None
    if limit < MIN_MEMORY_LIMIT:
        raise InputDataError(
            f"--memory-limit: {format_bytes(limit)} is below the {format_bytes(MIN_MEMORY_LIMIT)} "
            "a run needs at least"
        )
    if limit > total:
        raise InputDataError(
            f"--memory-limit: {format_bytes(limit)} is more than this machine's "
            f"{format_bytes(total)}"
        )
    return limit


def default_workers(*, threads_per_worker: int = 1, solve_workers: int = 1) -> int:
    """One worker per core, counting each run's threads and solver processes."""
    cores = os.cpu_count() or 1
    return max(1, cores // max(1, threads_per_worker * solve_workers))


def _info(client: Client, kind: str, terminate: float | None) -> ClusterInfo:
    info = client.scheduler_info(n_workers=-1)
    workers = sorted(info.get("workers", {}).values(), key=lambda w: str(w.get("name")))
    return ClusterInfo(
        kind=kind,
        address=str(info.get("address", "")),
        workers=len(workers),
        threads=tuple(int(w.get("nthreads", 1)) for w in workers),
        memory_limit_bytes=tuple(int(w["memory_limit"]) if w.get("memory_limit") else None
                                 for w in workers),
        terminate_fraction=terminate,
    )


@contextmanager
def batch_cluster(
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    threads_per_worker: int = 1,
    memory_limit: str | int | None = None,
    solve_workers: int = 1,
    runs: int | None = None,
) -> Iterator[tuple[Client, ClusterInfo]]:
    """A Dask client for a batch: a local cluster started here, or an existing one.

    Parameters
    ----------
    scheduler
        Address of an existing scheduler (``tcp://host:8786``); ``None`` starts a local
        cluster, stopped when the block ends.
    workers
        Local worker processes (default :func:`default_workers`).
    threads_per_worker
        Runs at once per local worker.
    memory_limit
        Per local worker, see :func:`parse_memory_limit`.
    solve_workers
        Solver processes per run, for the default number of workers.
    runs
        Runs to execute: a local cluster starts no more workers than that (their
        memory limit is then still the machine's memory divided by ``workers``).

    Yields
    ------
    (Client, ClusterInfo)

    Raises
    ------
    InputDataError
        If options that shape a local cluster are given with ``scheduler``, a number is
        out of range, or the scheduler cannot be reached.
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        given = [name for name, value in (("--workers", workers),
                                          ("--memory-limit", memory_limit)) if value is not None]
        if threads_per_worker != 1:
            given.append("--threads-per-worker")
        if given:
            raise InputDataError(
                f"{', '.join(given)}: not with --scheduler (an existing cluster's workers "
                "have their own threads and memory limit)"
            )
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputDataError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        try:
            yield client, _info(client, "existing", None)
        finally:
            client.close()
        return

    n_workers = workers if workers is not None else default_workers(
        threads_per_worker=threads_per_worker, solve_workers=solve_workers)
    if n_workers < 1 or threads_per_worker < 1:
        raise InputDataError("--workers and --threads-per-worker must be at least 1")
    limit = parse_memory_limit(memory_limit, workers=n_workers)
    if runs is not None:
        n_workers = max(1, min(n_workers, runs))
    with dask.config.set(LOCAL_SETTINGS):
        terminate = dask.config.get("distributed.worker.memory.terminate", default=None)
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            memory_limit=limit,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
            host="127.0.0.1",
        )
        try:
            client = Client(cluster)
            try:
                yield client, _info(client, "local", float(terminate) if terminate else None)
            finally:
                client.close()
        finally:
            cluster.close()
