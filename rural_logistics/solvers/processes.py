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
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any, TypeVar

T = TypeVar("T")

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
def _sigint_blocked() -> Iterator[None]:
    """SIGINT blocked in this thread meanwhile (delivered when unblocked, never lost)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class _WorkerPool(ProcessPoolExecutor):
    """A process pool whose workers start with SIGINT blocked.

    The workers are started inside ``submit``; a Ctrl-C to the process group between a
    worker's start and its initializer (which ignores SIGINT, then unblocks it) would
    otherwise raise ``KeyboardInterrupt`` in the new worker and print its traceback. A
    child inherits the blocked signal mask (across ``exec`` too, with ``spawn``); the
    parent's Ctrl-C is only delayed until ``submit`` returns.
    """

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with _sigint_blocked():
            return super().submit(fn, *args, **kwargs)


@contextlib.contextmanager
def worker_pool(n_workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of solver processes that end when this process ends or is interrupted.

    A killed run (``kill -9``, an out-of-memory kill) must not leave orphaned solver
    processes running: each worker asks the kernel to kill it when its parent dies
    (Linux ``PR_SET_PDEATHSIG``), and elsewhere polls its parent id. Workers ignore
    SIGINT: a Ctrl-C in a terminal reaches the whole process group, and stopping the
    workers is the parent's job (an idle worker would otherwise print its own
    ``KeyboardInterrupt`` traceback). On an exception in the caller (Ctrl-C while
    waiting for the workers) or while the pool shuts down, the workers are killed at
    once instead of being waited for until their time limit, and the pool's manager
    thread has ended when the exception leaves this block (see :func:`stop_pool`).
    """
    pool = _WorkerPool(
        max_workers=n_workers,
        mp_context=process_context(),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        yield pool
        pool.shutdown(wait=True)
    except BaseException:
        stop_pool(pool)
        raise


#: Longest wait for a pool's manager thread after its workers were killed. It needs only
#: CPU time to see the dead workers and close its pipes — milliseconds, but a niced
#: process on a loaded machine gets about 2 % of a core (measured on the test machine),
#: so the former 2 s were not enough; the bound only guards against a CPython hang.
MANAGER_JOIN_S = 120.0


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Kill a pool's workers and wait until its manager thread has finished.

    Why the wait matters: at interpreter exit ``threading._shutdown`` runs
    ``concurrent.futures.process._python_exit``, which writes to the wake-up pipe of
    every pool whose manager thread is still alive, without the lock under which that
    thread closes the pipe (CPython 3.11; later releases guard the pipe with a lock of
    its own, CPython gh-125451). A manager thread
    still cleaning up after the killed workers then races the write, and the user sees
    an ``OSError`` traceback from ``threading._shutdown`` after ``interrupted``. Once the
    thread has ended its pipe is marked closed and the exit-time write is skipped.

    The wait cannot block for long: the workers are dead (SIGKILL, reaped here), so
    the manager thread finds their sentinels ready, marks the pool broken, closes the
    call queue's reading end (no feeder can stay blocked on a full pipe) and ends.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    for process in processes:
        process.kill()
    for process in processes:
        process.join()
    pool.shutdown(wait=False, cancel_futures=True)
    if manager is not None and manager is not threading.current_thread():
        manager.join(timeout=MANAGER_JOIN_S)


def die_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this process when the parent ``parent_pid`` ends (Linux
    ``PR_SET_PDEATHSIG``, and a watcher thread polling the parent id everywhere)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the workers
    if hasattr(signal, "pthread_sigmask"):  # blocked by _WorkerPool.submit until now
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform.startswith("linux"):
        import ctypes

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
