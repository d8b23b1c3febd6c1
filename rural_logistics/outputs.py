"""Plan → files: ``plan.gpkg``, ``summary.json``, ``map.png``, ``config.yaml``, ``report.html``.

A run is written into a temporary folder beside the target and renamed into place only
when every file is complete, so an interrupted or failed run never leaves a half-written
result and never damages a previous one. ``force`` replaces a previous run only at that
final step.
"""

from __future__ import annotations

import ctypes
import errno
import json
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import yaml

from rural_logistics.config import RegionConfig
from rural_logistics.errors import OutputError
from rural_logistics.maps import write_map_png
from rural_logistics.plan import PLAN_LAYERS, Plan
from rural_logistics.report import REPORT_FILE, write_plan_report
from rural_logistics.summary import Summary

_GEOMETRY_TYPES = {
    "villages": "Point",
    "stations": "Point",
    "depots": "Point",
    "routes": "LineString",
}


def check_output_dir(out: Path, *, force: bool) -> None:
    """Fail early if ``out`` cannot receive a run.

    Raises
    ------
    OutputError
        If ``out`` is a file, or a non-empty folder and ``force`` is not set.
    """
    recover_interrupted(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputError(f"{out}: folder exists and is not empty (use --force to replace it)")
    parent = out.resolve().parent
    if not parent.exists():
        try:
            parent.mkdir(parents=True)
        except OSError as exc:
            raise OutputError(f"{parent}: cannot create folder ({exc.strerror})") from None
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{parent}: folder is not writable")


def _json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(value: Mapping[str, Any]) -> str:
    """JSON text as the run files are written: 2-space indented, UTF-8, no NaN (null)."""
    return json.dumps(_json_ready(value), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def summary_json(summary: Summary) -> str:
    """``summary.json`` text: 2-space indented, UTF-8, no NaN (written as null)."""
    return json_text(summary)


def config_yaml(config: RegionConfig) -> str:
    """The effective config as YAML text (``config.yaml`` of a run)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


def write_geopackage(plan: Plan, path: Path) -> None:
    """Write the plan layers (and townships if present) to one GeoPackage."""
    for name in PLAN_LAYERS:
        layer: gpd.GeoDataFrame = getattr(plan, name)
        layer.to_file(
            path,
            layer=name,
            driver="GPKG",
            engine="pyogrio",
            geometry_type=_GEOMETRY_TYPES[name],
        )


def write_run(
    plan: Plan,
    out: Path,
    *,
    config: RegionConfig | None = None,
    force: bool = False,
    map_png: bool = True,
) -> list[Path]:
    """Write a complete run folder atomically.

    Parameters
    ----------
    plan
        The plan to write.
    out
        Target folder.
    config
        The effective config (after command-line overrides), saved as ``config.yaml``
        so the run can be reproduced.
    force
        Replace an existing non-empty ``out``.
    map_png
        Also draw ``map.png``.

    Returns
    -------
    list of Path
        The files written, at their final location.

    Raises
    ------
    OutputError
        If the target cannot be written.
    """
    out = Path(out)

    def fill(tmp: Path) -> list[str]:
        names = ["plan.gpkg", "summary.json"]
        write_geopackage(plan, tmp / "plan.gpkg")
        (tmp / "summary.json").write_text(summary_json(plan.summary), encoding="utf-8")
        if config is not None:
            (tmp / "config.yaml").write_text(config_yaml(config), encoding="utf-8")
            names.append("config.yaml")
        if map_png:
            write_map_png(plan, tmp / "map.png")
            names.append("map.png")
        write_plan_report(plan, tmp / REPORT_FILE, config=config, folder=out)
        names.append(REPORT_FILE)
        return names

    return write_folder(out, fill, force=force)


def write_folder(out: Path, fill: Callable[[Path], list[str]], *, force: bool) -> list[Path]:
    """Write a folder of results atomically: ``fill`` writes the files into a temporary
    folder beside ``out`` and returns their names; the folder then replaces ``out`` in
    one step (see :func:`_swap_into_place`). On any error nothing is left behind and a
    previous ``out`` is untouched.

    Returns
    -------
    list of Path
        The files written, at their final location.

    Raises
    ------
    OutputError
        If the target cannot be written.
    """
    out = Path(out)
    check_output_dir(out, force=force)
    parent = out.resolve().parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=parent))
    try:
        names = fill(tmp)
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [out / n for n in names]


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Put the complete run ``tmp`` at ``out`` in one step.

    Without a previous run this is one ``rename``. With one, Linux swaps the two folders
    atomically (``renameat2`` with ``RENAME_EXCHANGE``), so ``out`` always holds either
    the old or the new complete run, whenever the process is killed; the old run is then
    deleted. Elsewhere the old run is first renamed aside (``.NAME.old-PID-…``), the new
    one renamed in, and the old one deleted; :func:`recover_interrupted` puts an old run
    back if a kill fell between the two renames.
    """
    if not out.exists():
        os.replace(tmp, out)
        return
    if _exchange(tmp, out):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the previous run
        return
    parent = out.resolve().parent
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-{os.getpid()}-", dir=parent))
    old.rmdir()
    os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2`` ``RENAME_EXCHANGE``).

    Returns ``False`` where the call or the file system does not support it.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_interrupted(out: Path) -> list[Path]:
    """Clean up after runs into ``out`` that were killed while writing.

    A killed run leaves its hidden ``.NAME.partial-PID-…`` folder beside ``out`` (``out``
    itself is untouched); it is deleted once that process is gone. A previous run moved
    aside as ``.NAME.old-PID-…`` (only where folders cannot be swapped atomically) is
    put back if ``out`` is missing, else deleted.

    Returns
    -------
    list of Path
        The leftovers removed or restored.
    """
    parent = out.resolve().parent
    if not parent.is_dir():
        return []
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.(partial|old)-(\d+)-")
    handled = []
    for entry in sorted(parent.iterdir()):
        match = pattern.match(entry.name)
        if match is None or _pid_alive(int(match.group(2))):
            continue
        if match.group(1) == "old" and not out.exists():
            os.replace(entry, out)
        else:
            shutil.rmtree(entry, ignore_errors=True)
        handled.append(entry)
    return handled
