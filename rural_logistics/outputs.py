"""Plan → files: ``plan.gpkg``, ``summary.json``, ``map.png``, ``config.yaml``, ``report.html``,
``stops.csv``, ``routes.csv``.

A run is written into a temporary folder beside the target and renamed into place only
when every file is complete, so an interrupted or failed run never leaves a half-written
result and never damages a previous one. ``force`` replaces a previous run only at that
final step.
"""

from __future__ import annotations

import ctypes
import errno
import io
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
import pyogrio
import pyogrio.errors
import yaml

from rural_logistics.config import RegionConfig
from rural_logistics.errors import OutputError
from rural_logistics.maps import write_map_png
from rural_logistics.maps.styles import layer_styles
from rural_logistics.plan import OPTIONAL_LAYERS, PLAN_LAYERS, Plan
from rural_logistics.report import REPORT_FILE, render_plan_report
from rural_logistics.summary import Summary

_GEOMETRY_TYPES = {
    "villages": "Point",
    "stations": "Point",
    "depots": "Point",
    "routes": "LineString",
    "vehicle_day": "LineString",
    "stops": "Point",
    "desire_lines": "LineString",
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


def plan_layers(plan: Plan) -> dict[str, gpd.GeoDataFrame]:
    """The layers of ``plan.gpkg`` by name: :data:`PLAN_LAYERS`, then those of
    :data:`OPTIONAL_LAYERS` the plan has."""
    layers = {name: getattr(plan, name) for name in PLAN_LAYERS}
    optional = dict(zip(OPTIONAL_LAYERS, (plan.vehicle_days, plan.stops, plan.townships,
                                          plan.desire_lines), strict=True))
    layers.update({name: layer for name, layer in optional.items() if layer is not None})
    return layers


def write_geopackage(plan: Plan, path: Path) -> None:
    """Write the plan's layers (:func:`plan_layers`) to one GeoPackage, with a QGIS style
    for each in its ``layer_styles`` table (:mod:`rural_logistics.maps.styles`)."""
    for name, layer in plan_layers(plan).items():
        layer.to_file(
            path,
            layer=name,
            driver="GPKG",
            engine="pyogrio",
            geometry_type=_GEOMETRY_TYPES.get(name),
            promote_to_multi=True if name == "townships" else None,
        )
    pyogrio.write_dataframe(layer_styles(plan_layers(plan)), path, layer="layer_styles",
                            driver="GPKG")


#: The CSV exports of a run (for people without GIS): layer → file. UTF-8 with a byte
#: order mark, so that spreadsheet programs show Chinese names.
CSV_EXPORTS = {"stops": "stops.csv", "routes": "routes.csv"}


def csv_bytes(layer: gpd.GeoDataFrame) -> bytes:
    """A layer without its geometry as CSV (UTF-8 with BOM)."""
    frame = layer.drop(columns=layer.geometry.name)
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def write_run(
    plan: Plan,
    out: Path,
    *,
    config: RegionConfig | None = None,
    force: bool = False,
    map_png: bool = True,
) -> list[Path]:
    """Write a complete run folder atomically.

    The GeoPackage is written into a hidden folder beside ``out``; the other files are
    rendered in memory first, so that their size is known: if the file system cannot
    hold them, or any write fails (a full disk, a quota, an I/O error), nothing is put
    in place, the previous run in ``out`` stays as it was, and the error names the
    folder and the space the run needs.

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
        If the target cannot be written (one line: the folder, the file, why, and for a
        full disk the space needed and free).
    """
    out = Path(out)
    check_output_dir(out, force=force)
    files = rendered_files(plan, config=config, map_png=map_png, folder=out)
    state: dict[str, Any] = {"current": GEOPACKAGE_FILE, "gpkg_bytes": None}

    def fill(tmp: Path) -> list[str]:
        write_geopackage(plan, tmp / GEOPACKAGE_FILE)
        state["gpkg_bytes"] = (tmp / GEOPACKAGE_FILE).stat().st_size
        if shutil.disk_usage(tmp).free < _total(files):
            state["current"] = "the rest of the run"
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        for name, data in files.items():
            state["current"] = name
            (tmp / name).write_bytes(data)
        return [GEOPACKAGE_FILE, *files]

    def failure(exc: BaseException, tmp: Path) -> str | None:
        gpkg_bytes = state["gpkg_bytes"]
        if gpkg_bytes is None and (tmp / GEOPACKAGE_FILE).exists():
            gpkg_bytes = -(tmp / GEOPACKAGE_FILE).stat().st_size  # partial: a lower bound
        need = _total(files) + abs(gpkg_bytes or 0)
        exact = gpkg_bytes is not None and gpkg_bytes >= 0
        return write_failure(exc, out=out, current=state["current"], need=(need, exact))

    return write_folder(out, fill, force=force, failure=failure)


def write_folder(
    out: Path,
    fill: Callable[[Path], list[str]],
    *,
    force: bool,
    failure: Callable[[BaseException, Path], str | None] | None = None,
) -> list[Path]:
    """Write a folder of results atomically: ``fill`` writes the files into a temporary
    folder beside ``out`` and returns their names; the folder then replaces ``out`` in
    one step (see :func:`_swap_into_place`). On any error nothing is left behind and a
    previous ``out`` is untouched; a failed write (full disk, I/O error) is one line,
    from ``failure(exc, tmp)`` if given (before ``tmp`` is removed), else
    :func:`write_failure`.

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
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=parent))
    except OSError as exc:
        problem = write_failure(exc, out=out, current="the folder")
        raise OutputError(problem or f"{parent}: cannot create the folder") from None
    try:
        names = fill(tmp)
        _swap_into_place(tmp, out)
    except BaseException as exc:
        problem = (failure(exc, tmp) if failure is not None
                   else write_failure(exc, out=out, current="the files"))
        shutil.rmtree(tmp, ignore_errors=True)
        if problem is None:
            raise
        raise OutputError(problem) from None
    return [out / n for n in names]


#: The GeoPackage of a run (written by GDAL straight into the run's temporary folder).
GEOPACKAGE_FILE = "plan.gpkg"


def rendered_files(
    plan: Plan, *, config: RegionConfig | None, map_png: bool, folder: Path
) -> dict[str, bytes]:
    """The run's files other than the GeoPackage, rendered in memory, in writing order:
    ``summary.json``, ``config.yaml`` (with a config), ``map.png`` (if asked),
    ``report.html`` (which shows ``folder`` as the run's location), ``stops.csv`` and
    ``routes.csv`` (:data:`CSV_EXPORTS`)."""
    files = {"summary.json": summary_json(plan.summary).encode("utf-8")}
    if config is not None:
        files["config.yaml"] = config_yaml(config).encode("utf-8")
    if map_png:
        buffer = io.BytesIO()
        write_map_png(plan, buffer)
        files["map.png"] = buffer.getvalue()
    files[REPORT_FILE] = render_plan_report(plan, config=config, folder=folder).encode("utf-8")
    layers = plan_layers(plan)
    for name, file in CSV_EXPORTS.items():
        if name in layers:
            files[file] = csv_bytes(layers[name])
    return files


def _total(files: dict[str, bytes]) -> int:
    return sum(len(data) for data in files.values())


def size_text(n_bytes: int) -> str:
    """``n_bytes`` for people: ``1.2 MB``, ``340 kB``."""
    if n_bytes >= 100_000:
        return f"{n_bytes / 1e6:.1f} MB"
    return f"{max(n_bytes, 1000) / 1e3:.0f} kB"


#: Errors of a full file system, and the words GDAL uses for them in its messages.
_NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_NO_SPACE_WORDS = ("no space left", "disk is full", "disk full", "quota exceeded")
#: GDAL messages of an I/O failure (as opposed to a bug in the layers written).
_IO_WORDS = (*_NO_SPACE_WORDS, "i/o error", "permission denied", "read-only file system")


def write_failure(
    exc: BaseException,
    *,
    out: Path,
    current: str,
    need: tuple[int, bool] | None = None,
) -> str | None:
    """One line for a failed write into ``out`` (``None``: not a write failure, e.g.
    Ctrl-C or a bug, which keeps its traceback).

    ``current``: what was being written; ``need``: the bytes the folder needs and
    whether that is exact (else a lower bound), when known.
    """
    parent = out.resolve().parent
    text = str(exc).lower()
    if isinstance(exc, OSError):
        no_space = exc.errno in _NO_SPACE_ERRNOS
        why = exc.strerror or str(exc)
    elif isinstance(exc, pyogrio.errors.DataSourceError | pyogrio.errors.DataLayerError
                    | pyogrio.errors.FeatureError | pyogrio.errors.FieldError) and any(
            w in text for w in _IO_WORDS):
        no_space = any(w in text for w in _NO_SPACE_WORDS)
        why = "no space left on device" if no_space else str(exc).splitlines()[0]
    else:
        return None
    kept = (f"the previous run in {out} is unchanged" if out.exists()
            else "nothing was written")
    if not no_space:
        return f"{parent}: cannot write {current} of the run ({why}); {kept}"
    free = size_text(shutil.disk_usage(parent).free)
    if need is None:
        return (f"{parent}: no space left on the device for {current} ({free} free; free "
                f"some space or write elsewhere); {kept}")
    at_least = "" if need[1] else "at least "
    return (
        f"{parent}: no space left on the device for {current}: the run needs "
        f"{at_least}{size_text(need[0])} there and {free} are free (free some "
        f"space or write the run elsewhere); {kept}"
    )


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
