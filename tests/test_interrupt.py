"""Interrupted and killed runs: the previous run folder survives, nothing half-written.

The subprocess tests start ``python -m rural_logistics solve`` on the tiny grid with a
previous run in ``--out`` and ``--force``, wait until routing has started (the placement
stage line is printed when that stage ends) and send a signal.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import write_grid_region

from rural_logistics import outputs
from rural_logistics.cli import main

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

REPO = Path(__file__).resolve().parents[1]
PREVIOUS = '{"previous": true}\n'


def previous_run(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(PREVIOUS, encoding="utf-8")
    (folder / "keep.txt").write_text("from the previous run", encoding="utf-8")
    return folder


def assert_previous_intact(out_dir: Path) -> None:
    assert sorted(p.name for p in out_dir.iterdir()) == ["keep.txt", "summary.json"]
    assert (out_dir / "summary.json").read_text(encoding="utf-8") == PREVIOUS


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}


def start_solve(
    config: Path, out_dir: Path, *prefix: str, extra: tuple[str, ...] = ()
) -> subprocess.Popen[str]:
    args = [*prefix] if prefix else ["-m", "rural_logistics"]
    return subprocess.Popen(
        [sys.executable, *args, "solve", str(config), "--out", str(out_dir), "--force", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
        cwd=REPO,
        start_new_session=True,  # its own process group, like a job in a terminal
        # Ctrl-C as in a terminal even when the tests run in a background job (whose
        # shell hands SIGINT on ignored, and a solve keeps a SIGINT its parent ignores).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for_routing(proc: subprocess.Popen[str]) -> list[str]:
    """Read progress lines until the placement stage has ended (routing runs next)."""
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.strip().startswith("placing"):
            return lines
    raise AssertionError("solve ended before routing:\n" + "".join(lines))


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split(")")[-1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            pids.append(int(entry.name))
    return pids


#: Solver time of the interrupted runs: the routing workers would run for most of it.
SLOW_LIMIT_S = 60


@pytest.fixture
def slow_grid(tmp_path: Path) -> Path:
    """The grid with a 60 s time limit and two routing worker processes."""
    return write_grid_region(
        tmp_path / "grid",
        extra_config={"solver": {"time_limit_s": SLOW_LIMIT_S, "seed": 1},
                      "routing": {"workers": 2}},
    )


def children(pid: int) -> list[int]:
    """Pids of the child processes of ``pid`` (Linux ``/proc``; empty elsewhere)."""
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def wait_for_workers(proc: subprocess.Popen[str], n: int) -> list[int]:
    """The pids of ``proc``'s routing worker processes, once ``n`` of them run."""
    if not Path("/proc").is_dir():
        return []  # no process table to inspect (not Linux)
    deadline = time.monotonic() + SLOW_LIMIT_S / 2
    while len(kids := children(proc.pid)) < n:
        assert proc.poll() is None and time.monotonic() < deadline, "no routing workers"
        time.sleep(0.05)
    return kids


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (not a zombie)."""
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("group", [True, False], ids=["ctrl-c-in-terminal", "sigint-to-main"])
def test_sigint_midway_exits_130_cleanly_and_keeps_previous_run(
    slow_grid: Path, tmp_path: Path, group: bool
) -> None:
    out_dir = previous_run(tmp_path / "run")
    proc = start_solve(slow_grid, out_dir)
    wait_for_routing(proc)
    workers = wait_for_workers(proc, 2)
    time.sleep(0.5)
    (os.killpg if group else os.kill)(proc.pid, signal.SIGINT)
    sent = time.monotonic()
    assert proc.stderr is not None
    stderr = ""
    for line in proc.stderr:
        stderr += line
        if "interrupted" in line:
            break
    # The workers are stopped, not waited for until their time limit: gone by the time
    # the message is printed, well before the limit. (The bound is generous: a niced
    # test on a loaded machine may get a few per cent of a core.)
    assert time.monotonic() - sent < SLOW_LIMIT_S / 2, stderr
    assert [pid for pid in workers if alive(pid)] == []
    stdout, rest = proc.communicate(timeout=SLOW_LIMIT_S)
    stderr += rest
    assert proc.returncode == 130, stderr
    assert "interrupted; nothing was written" in stderr
    assert "Traceback" not in stderr
    assert stdout == ""
    assert_previous_intact(out_dir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid", "run"]


def test_sigkill_midway_keeps_previous_run_and_leaves_no_solver_behind(
    slow_grid: Path, tmp_path: Path
) -> None:
    out_dir = previous_run(tmp_path / "run")
    proc = start_solve(slow_grid, out_dir)
    wait_for_routing(proc)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert_previous_intact(out_dir)
    # The routing worker processes die with their parent (no orphaned solver).
    if not Path("/proc").is_dir():
        return  # no process table to inspect (not Linux)
    deadline = time.monotonic() + 5
    while processes_mentioning(str(out_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(str(out_dir)) == []


KILL_WHILE_WRITING = """
import os, signal, sys
from rural_logistics import outputs
from rural_logistics.cli import main

def killed_while_writing(plan, path):
    path.write_bytes(b"half a GeoPackage")
    os.kill(os.getpid(), signal.SIGKILL)

outputs.write_geopackage = killed_while_writing
sys.exit(main(sys.argv[1:]))
"""


def test_sigkill_while_writing_outputs_keeps_previous_run(
    grid_config_path: Path, tmp_path: Path
) -> None:
    out_dir = previous_run(tmp_path / "run")
    proc = start_solve(grid_config_path, out_dir, "-c", KILL_WHILE_WRITING,
                       extra=("--time-limit", "0.5", "--no-map"))
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert_previous_intact(out_dir)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".run.partial-")]
    assert len(leftovers) == 1  # hidden, beside the target, never the target itself
    # The next run removes the dead run's leftover and replaces the previous run.
    code = main(["solve", str(grid_config_path), "--out", str(out_dir), "--force", "-q",
                 "--no-map", "--time-limit", "0.5"], stdout=io.StringIO(), stderr=io.StringIO())
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid", "run"]
    assert (out_dir / "summary.json").read_text(encoding="utf-8") != PREVIOUS


def test_ctrl_c_while_writing_outputs_keeps_previous_run(
    grid_config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out_dir = previous_run(tmp_path / "run")

    def interrupted(plan: object, target: io.BytesIO) -> None:
        target.write(b"half a PNG")
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "write_map_png", interrupted)
    err = io.StringIO()
    code = main(["solve", str(grid_config_path), "--out", str(out_dir), "--force", "-q",
                 "--time-limit", "0.5"], stdout=io.StringIO(), stderr=err)
    assert code == 130
    assert "interrupted; nothing was written" in err.getvalue()
    assert_previous_intact(out_dir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid", "run"]


def test_force_swaps_atomically_and_leaves_nothing_beside(
    grid_config_path: Path, tmp_path: Path
) -> None:
    out_dir = previous_run(tmp_path / "run")
    code = main(["solve", str(grid_config_path), "--out", str(out_dir), "--force", "-q",
                 "--no-map", "--time-limit", "0.5"], stdout=io.StringIO(), stderr=io.StringIO())
    assert code == 0
    assert not (out_dir / "keep.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid", "run"]


def test_recover_puts_back_a_run_moved_aside_by_a_killed_process(tmp_path: Path) -> None:
    # Where folders cannot be swapped atomically, the previous run is renamed aside
    # first; a kill between the two renames leaves only the aside copy.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    pid = int(dead.stdout)
    aside = previous_run(tmp_path / f".run.old-{pid}-abc")
    partial = tmp_path / f".run.partial-{pid}-def"
    partial.mkdir()
    handled = outputs.recover_interrupted(tmp_path / "run")
    assert sorted(handled) == sorted([aside, partial])
    assert_previous_intact(tmp_path / "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
