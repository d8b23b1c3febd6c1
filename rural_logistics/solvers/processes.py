"""Solver worker processes that end with their parent.

Parallel solver runs (the routing engines' independent runs, location-routing's
confirming solves) go through :func:`worker_pool`. A killed run (``kill -9``, an
out-of-memory kill) must not leave orphaned solver processes, and Ctrl-C must not wait
for workers until their time limit.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext

#: Start methods :func:`set_start_method` accepts. ``forkserver`` is not one: its
#: processes are children of the server, not of the solve, so they could not die with it.
START_METHODS = ("fork", "spawn")
_start_method: str | None = None


def set_start_method(method: str | None) -> None:
    """Choose how this process starts its solver processes from now on.

    Parameters
    ----------
    method
        ``"spawn"`` (a fresh interpreter per process) or ``"fork"``; ``None`` restores the
        default of :func:`process_context`. A process that runs other threads while it
        solves (a Dask worker of ``rural-logistics batch``) should use ``"spawn"``: a
        forked child inherits the other threads' locks but not the threads, and can hang
        on one of them.

    Raises
    ------
    ValueError
        If ``method`` is not one of :data:`START_METHODS` or this platform lacks it.
    """
    global _start_method
    if method is not None and (
        method not in START_METHODS or method not in multiprocessing.get_all_start_methods()
    ):
        raise ValueError(f"start method {method!r} is not available here")
    _start_method = method


def process_context() -> BaseContext:
    """Start method of the parallel runs: the one chosen by :func:`set_start_method`,
    else ``fork`` where the platform has it (no re-import of the caller's script, quick
    start), else ``spawn``."""
    if _start_method is not None:
        return multiprocessing.get_context(_start_method)
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


@contextlib.contextmanager
def worker_pool(n_workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of solver processes that end when this process ends or is interrupted.

    A killed run (``kill -9``, an out-of-memory kill) must not leave orphaned solver
    processes running: each worker asks the kernel to kill it when its parent dies
    (Linux ``PR_SET_PDEATHSIG``), and elsewhere polls its parent id. On an exception in
    the caller (Ctrl-C while waiting for the workers) the workers are killed at once
    instead of being waited for until their time limit.
    """
    pool = ProcessPoolExecutor(
        max_workers=n_workers,
        mp_context=process_context(),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        yield pool
    except BaseException:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        # Let the executor's manager thread see the killed workers and close its
        # wake-up pipe now: at interpreter exit, CPython 3.11 otherwise races it
        # (``_python_exit`` writes to the pipe while the thread closes it, an
        # ``OSError: Bad file descriptor`` traceback after a Ctrl-C).
        manager = getattr(pool, "_executor_manager_thread", None)
        if manager is not None:
            manager.join(timeout=2.0)
        raise
    pool.shutdown(wait=True)


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this process when the parent ``parent_pid`` ends (Linux
    ``PR_SET_PDEATHSIG``, and a watcher thread polling the parent id everywhere)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before the line above
        os._exit(1)

    def watch() -> None:
        while True:
            threading.Event().wait(1.0)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
