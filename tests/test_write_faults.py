"""A write that fails (full disk, quota, I/O error) at any output file: one clear line
naming the folder and the space the run needs, nothing put in place, the previous run
byte-identical, nothing left beside it. Failures are injected (no small file system)."""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable
from pathlib import Path

import pyogrio.errors
import pytest
from conftest import write_grid_region

from rural_logistics import outputs
from rural_logistics.cli import main
from rural_logistics.config import RegionConfig
from rural_logistics.errors import OutputError
from rural_logistics.pipeline import plan_region
from rural_logistics.plan import Plan
from rural_logistics.report import write_report
from rural_logistics.report.runs import RunResult
from rural_logistics.validation import load_checked_config

PREVIOUS = {"summary.json": b'{"previous": true}\n', "keep.txt": b"from the previous run"}


@pytest.fixture(scope="module")
def grid_plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[RegionConfig, Plan]:
    config_path = write_grid_region(tmp_path_factory.mktemp("grid") / "grid")
    config = load_checked_config(config_path, time_limit_s=0.5)
    return config, plan_region(config)


def previous_run(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, data in PREVIOUS.items():
        (folder / name).write_bytes(data)
    return folder


def assert_previous_intact(out_dir: Path) -> None:
    assert {p.name: p.read_bytes() for p in out_dir.iterdir()} == PREVIOUS
    assert [p.name for p in out_dir.parent.iterdir() if p.name.startswith(".")] == []


def disk_full_at(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the write of ``name`` fail half-way with ENOSPC."""
    if name == "plan.gpkg":

        def gpkg_cut_short(plan: Plan, path: Path) -> None:
            path.write_bytes(b"\0" * 4096)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

        monkeypatch.setattr(outputs, "write_geopackage", gpkg_cut_short)
        return
    write_bytes: Callable[[Path, bytes], int] = Path.write_bytes

    def cut_short(self: Path, data: bytes) -> int:
        if self.name == name:
            write_bytes(self, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return write_bytes(self, data)

    monkeypatch.setattr(Path, "write_bytes", cut_short)


@pytest.mark.parametrize(
    "name", ["plan.gpkg", "summary.json", "config.yaml", "map.png", "report.html",
             "stops.csv", "routes.csv"]
)
def test_disk_full_at_any_file_is_one_line_and_keeps_the_previous_run(
    name: str, grid_plan: tuple[RegionConfig, Plan], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config, plan = grid_plan
    out_dir = previous_run(tmp_path / "run")
    disk_full_at(name, monkeypatch)
    with pytest.raises(OutputError) as caught:
        outputs.write_run(plan, out_dir, config=config, force=True)
    (message,) = caught.value.problems
    assert message.startswith(f"{tmp_path.resolve()}: no space left on the device for {name}")
    assert f"the previous run in {out_dir} is unchanged" in message
    # The space needed: every file but the GeoPackage is measured in memory; a
    # GeoPackage cut short gives only a lower bound.
    files = outputs.rendered_files(plan, config=config, map_png=True, folder=out_dir)
    assert ("needs at least " in message) == (name == "plan.gpkg")
    needed = message.split("needs ")[1].removeprefix("at least ").split(" there")[0]
    rest = sum(len(d) for d in files.values())
    gpkg = 4096 if name == "plan.gpkg" else _gpkg_size(plan, tmp_path)
    assert needed == outputs.size_text(rest + gpkg)
    assert "\n" not in message
    assert_previous_intact(out_dir)


def _gpkg_size(plan: Plan, tmp_path: Path) -> int:
    path = tmp_path / "measure" / "plan.gpkg"
    path.parent.mkdir()
    outputs.write_geopackage(plan, path)
    size = path.stat().st_size
    path.unlink()
    path.parent.rmdir()
    return size


def test_too_little_free_space_is_found_before_the_files_are_written(
    grid_plan: tuple[RegionConfig, Plan], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, plan = grid_plan
    out_dir = previous_run(tmp_path / "run")
    real_usage = outputs.shutil.disk_usage
    monkeypatch.setattr(outputs.shutil, "disk_usage",
                        lambda p: real_usage(p)._replace(free=50_000))
    written: list[str] = []
    write_bytes = Path.write_bytes
    monkeypatch.setattr(Path, "write_bytes",
                        lambda self, data: written.append(self.name) or write_bytes(self, data))
    with pytest.raises(OutputError, match=r"for the rest of the run: the run needs \d.* there "
                       r"and 50 kB are free"):
        outputs.write_run(plan, out_dir, config=config, force=True)
    assert written == []
    assert_previous_intact(out_dir)


def test_gdal_disk_full_and_other_write_errors_name_the_file(
    grid_plan: tuple[RegionConfig, Plan], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, plan = grid_plan
    out_dir = previous_run(tmp_path / "run")

    def gdal_full(plan: Plan, path: Path) -> None:
        raise pyogrio.errors.DataSourceError(
            "sqlite3_exec(COMMIT) failed: database or disk is full")

    monkeypatch.setattr(outputs, "write_geopackage", gdal_full)
    with pytest.raises(OutputError, match=r"no space left on the device for plan\.gpkg"):
        outputs.write_run(plan, out_dir, config=config, force=True)
    assert_previous_intact(out_dir)

    monkeypatch.undo()
    write_bytes = Path.write_bytes

    def io_error(self: Path, data: bytes) -> int:
        if self.name == "map.png":
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(self))
        return write_bytes(self, data)

    monkeypatch.setattr(Path, "write_bytes", io_error)
    with pytest.raises(OutputError) as caught:
        outputs.write_run(plan, out_dir, config=config, force=True)
    assert caught.value.problems == (
        f"{tmp_path.resolve()}: cannot write map.png of the run (Input/output error); "
        f"the previous run in {out_dir} is unchanged",)
    assert_previous_intact(out_dir)


def test_a_bug_in_a_writer_keeps_its_traceback(
    grid_plan: tuple[RegionConfig, Plan], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, plan = grid_plan
    out_dir = previous_run(tmp_path / "run")

    def buggy(plan: Plan, path: Path) -> None:
        raise pyogrio.errors.FieldError("unsupported field type object")

    monkeypatch.setattr(outputs, "write_geopackage", buggy)
    with pytest.raises(pyogrio.errors.FieldError):
        outputs.write_run(plan, out_dir, config=config, force=True)
    assert_previous_intact(out_dir)


def test_solve_on_a_full_disk_exits_2_with_one_line(
    grid_config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out_dir = previous_run(tmp_path / "run")
    disk_full_at("map.png", monkeypatch)
    err = io.StringIO()
    code = main(["solve", str(grid_config_path), "--out", str(out_dir), "--force", "-q",
                 "--time-limit", "0.5"], stdout=io.StringIO(), stderr=err)
    assert code == 2
    lines = err.getvalue().splitlines()
    assert [ln for ln in lines if not ln.startswith("warning: ")] == [
        ln for ln in lines if ln.startswith("error: ")]
    (error,) = [ln for ln in lines if ln.startswith("error: ")]
    assert error.startswith(f"error: {tmp_path.resolve()}: no space left on the device for "
                            "map.png: the run needs ")
    assert_previous_intact(out_dir)


def test_compare_on_a_full_disk_is_one_line(
    grid_plan: tuple[RegionConfig, Plan], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, plan = grid_plan
    target = tmp_path / "compare.html"
    target.write_text("previous", encoding="utf-8")

    class FullDisk(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("rural_logistics.report.page.os.fdopen", lambda fd, *a, **k: (
        os.close(fd), FullDisk())[1])
    with pytest.raises(OutputError, match=r"cannot write compare.html \(No space left on "
                       r"device; \d.* needed\); the previous compare.html is unchanged"):
        write_report([RunResult(plan=plan), RunResult(plan=plan)], target)
    assert target.read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compare.html"]
