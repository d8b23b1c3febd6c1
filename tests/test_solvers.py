"""The shared solver layer: the time budget, the MIP model, the stdout silencer."""

from __future__ import annotations

import concurrent.futures.process as cf_process
import os
import signal
import time
from typing import Any

import numpy as np
import pytest

from rural_logistics.solvers import budget as budget_module
from rural_logistics.solvers.budget import Budget
from rural_logistics.solvers.mip import Model
from rural_logistics.solvers.processes import worker_pool
from rural_logistics.solvers.silence import stdout_silenced


class FakeClock:
    """A ``time.perf_counter`` that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(budget_module.time, "perf_counter", fake)
    return fake


def test_budget_counts_down_and_expires(clock: FakeClock) -> None:
    b = Budget.of(10.0, iteration_limit=500)
    assert b.left() == 10.0 and not b.expired()
    clock.now += 4.0
    assert b.left() == 6.0 and b.elapsed() == 4.0
    clock.now += 7.0
    assert b.left() == 0.0 and b.expired()
    assert b.iteration_limit == 500


def test_shares_never_reach_past_the_parent(clock: FakeClock) -> None:
    run = Budget.of(12.0)
    placement = run.share(0.5)
    assert placement.seconds == 6.0 and placement.deadline == run.deadline - 6.0
    clock.now += 1.0  # placement finished early: the delivery gets all that is left
    assert run.left() == 11.0
    assert run.share(1.0).deadline == run.deadline
    assert run.at_most(3.0).left() == 3.0 and run.at_most(30.0) is run
    # A share of an exhausted budget still gives a solver time to return its start plan.
    clock.now += 20.0
    assert run.share(0.5).seconds == pytest.approx(0.05)
    # ... but while time is left, never more than what is left.
    clock.now = run.deadline - 0.01
    assert run.share(1.0).deadline == pytest.approx(run.deadline)


def test_budget_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="seconds >= 0"):
        Budget.of(-1.0)
    with pytest.raises(ValueError, match="fraction from 0 to 1"):
        Budget.of(1.0).share(1.5)


def test_mip_model_solves_a_knapsack_to_optimality() -> None:
    # Values 10, 13, 7 with weights 4, 6, 3 and capacity 9: items 1 and 2 (value 20,
    # weight 9) beat items 0 and 2 (value 17) and 0 and 1 (weight 10, too heavy).
    m = Model(maximize=True)
    x = [m.add_var(0, 1, v, integer=True) for v in (10.0, 13.0, 7.0)]
    m.add_row([(xi, w) for xi, w in zip(x, (4.0, 6.0, 3.0), strict=True)], ub=9.0)
    out = m.solve(time_limit_s=5.0, read={"x": x})
    assert out.optimal and out.has_solution and out.proven
    assert out.objective == pytest.approx(20.0) and out.bound == pytest.approx(20.0)
    assert np.round(out.values["x"]).tolist() == [0.0, 1.0, 1.0]


def test_mip_model_proves_infeasibility() -> None:
    m = Model()
    x = m.add_var(0, 1, 1.0, integer=True)
    m.add_row([(x, 1.0)], lb=2.0)
    out = m.solve(time_limit_s=5.0, read={"x": [x]})
    assert out.infeasible and out.proven and not out.has_solution and out.values == {}


def test_native_standard_output_is_silenced_meanwhile(capfd) -> None:  # type: ignore[no-untyped-def]
    with stdout_silenced():
        os.write(1, b"from C\n")
    os.write(1, b"after\n")
    assert capfd.readouterr().out == "after\n"


def _sleep_then_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _parent_pid_and_sigint_ignored() -> tuple[int, bool]:
    import signal

    blocked = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    return os.getppid(), signal.getsignal(signal.SIGINT) == signal.SIG_IGN and not blocked


def test_interrupted_pool_kills_its_workers_and_ends_its_manager_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The manager thread is made slow to clean up, as on a loaded machine: when the
    # interrupt leaves worker_pool, that thread must have ended anyway (else CPython
    # 3.11's exit-time wake-up races its closing of the pipe: a traceback after Ctrl-C).
    original = cf_process._ExecutorManagerThread.terminate_broken

    def slow_terminate_broken(self: Any, cause: Any) -> None:
        time.sleep(2.5)
        original(self, cause)

    monkeypatch.setattr(cf_process._ExecutorManagerThread, "terminate_broken",
                        slow_terminate_broken)
    seen: dict[str, Any] = {}
    with pytest.raises(KeyboardInterrupt), worker_pool(2) as pool:
        futures = [pool.submit(_sleep_then_pid, 60.0) for _ in range(2)]
        seen["processes"] = list(pool._processes.values())  # type: ignore[union-attr]
        seen["manager"] = pool._executor_manager_thread
        seen["futures"] = futures
        raise KeyboardInterrupt
    assert not seen["manager"].is_alive()
    assert all(p.exitcode is not None for p in seen["processes"])
    assert all(f.done() for f in seen["futures"])


def test_pool_workers_ignore_sigint_and_results_come_back() -> None:
    with worker_pool(2) as pool:
        results = [f.result() for f in [pool.submit(_parent_pid_and_sigint_ignored)
                                        for _ in range(2)]]
    assert results == [(os.getpid(), True)] * 2
    # The parent's SIGINT was blocked only while it started the workers.
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
