"""Run folders as the report sees them: loading, checking, and labelling runs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import pyogrio
import yaml

from rural_logistics.errors import InputDataError
from rural_logistics.plan import PLAN_LAYERS, Plan
from rural_logistics.report.kpis import count_text, number
from rural_logistics.summary import Summary

_REQUIRED_SUMMARY_KEYS = ("scenario", "villages", "population", "stations_open", "radius_km")


@dataclass(frozen=True)
class RunResult:
    """One run as the report sees it.

    Attributes
    ----------
    plan
        The plan (layers and summary).
    folder
        The run folder, or ``None`` for a plan that is not (yet) on disk.
    config_text
        The effective config as YAML text (``config.yaml``), if known.
    notes
        Things the report could not show (e.g. a missing township boundary file).
    """

    plan: Plan
    folder: Path | None = None
    config_text: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> Summary:
        """The run's ``summary.json`` figures."""
        return self.plan.summary

    @property
    def config(self) -> dict[str, Any]:
        """The parsed config (empty when unknown)."""
        return _safe_yaml(self.config_text)


def _not_a_run(folder: Path, why: str) -> InputDataError:
    return InputDataError(
        f"{folder}: not a run folder ({why}); expected an output folder of `rural-logistics solve`"
    )


def load_run(folder: str | Path) -> RunResult:
    """Read a run folder written by ``rural-logistics solve``.

    Parameters
    ----------
    folder
        The folder holding ``summary.json`` and ``plan.gpkg`` (``config.yaml`` optional).
        Township boundaries come from a ``townships`` layer of ``plan.gpkg`` if there is
        one, else from the file named by ``data.townships`` in ``config.yaml`` if it still
        exists.

    Returns
    -------
    RunResult

    Raises
    ------
    InputDataError
        If the folder is missing, is not a run folder, or a file in it cannot be read;
        the message names the folder or file.
    """
    folder = Path(folder)
    if not folder.exists():
        raise InputDataError(f"{folder}: run folder not found")
    if not folder.is_dir():
        raise _not_a_run(folder, "it is a file")
    missing = [n for n in ("summary.json", "plan.gpkg") if not (folder / n).is_file()]
    if missing:
        raise _not_a_run(folder, "no " + " or ".join(missing))
    summary = _read_summary(folder / "summary.json")
    gpkg = folder / "plan.gpkg"
    try:
        available = {str(name) for name in pyogrio.list_layers(gpkg)[:, 0]}
    except Exception as exc:  # pyogrio raises several error types for broken files
        raise InputDataError(f"{gpkg}: cannot read GeoPackage ({exc})") from None
    absent = [name for name in PLAN_LAYERS if name not in available]
    if absent:
        raise InputDataError(f"{gpkg}: missing layer(s) {', '.join(absent)}")
    layers = {name: _read_layer(gpkg, name) for name in PLAN_LAYERS}
    extra = {name: _read_layer(gpkg, name) for name in ("vehicle_day", "stops", "desire_lines")
             if name in available}
    crs = str(summary.get("crs") or layers["villages"].crs or "")
    config_text = None
    if (folder / "config.yaml").is_file():
        config_text = (folder / "config.yaml").read_text(encoding="utf-8")
    notes: list[str] = []
    townships = None
    if "townships" in available:
        townships = _read_layer(gpkg, "townships")
    else:
        townships = _townships_from_config(config_text, crs, notes)
    config = _safe_yaml(config_text)
    region = summary.get("region") or nested_get(config, "region", "name") or folder.name
    radius = number(summary.get("radius_km"))
    plan = Plan(
        region=str(region),
        scenario=str(summary["scenario"]),
        crs=crs,
        villages=layers["villages"],
        stations=layers["stations"],
        depots=layers["depots"],
        routes=layers["routes"],
        townships=townships,
        summary=summary,
        warnings=tuple(str(w) for w in summary.get("warnings") or ()),
        radius_km=radius if radius is not None else 3.0,
        vehicle_days=extra.get("vehicle_day"),
        stops=extra.get("stops"),
        desire_lines=extra.get("desire_lines"),
    )
    return RunResult(plan=plan, folder=folder, config_text=config_text, notes=tuple(notes))


def _read_summary(path: Path) -> Summary:
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputDataError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputDataError(f"{path}: cannot read ({exc})") from None
    if not isinstance(summary, dict):
        raise InputDataError(f"{path}: expected a JSON object of key figures")
    missing = [k for k in _REQUIRED_SUMMARY_KEYS if k not in summary]
    if missing:
        raise InputDataError(f"{path}: missing key(s) {', '.join(missing)}")
    # Written by this or an older version: the keys a report needs are checked above,
    # the others are read with .get.
    return cast(Summary, summary)


def _read_layer(gpkg: Path, name: str) -> gpd.GeoDataFrame:
    try:
        return gpd.read_file(gpkg, layer=name, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several error types for broken layers
        raise InputDataError(f"{gpkg}: cannot read layer {name} ({exc})") from None


def _safe_yaml(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    return data if isinstance(data, dict) else {}


def nested_get(mapping: Mapping[str, object], *keys: str) -> Any:
    value: Any = mapping
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _townships_from_config(
    config_text: str | None, crs: str, notes: list[str]
) -> gpd.GeoDataFrame | None:
    path = nested_get(_safe_yaml(config_text), "data", "townships")
    if not path:
        return None
    path = Path(str(path))
    if not path.is_file():
        notes.append(f"township boundaries not shown: {path} not found")
        return None
    try:
        layer = gpd.read_file(path, engine="pyogrio")
        if crs and layer.crs is not None:
            layer = layer.to_crs(crs)
    except Exception as exc:  # any reading or projection problem only costs the boundaries
        notes.append(f"township boundaries not shown: {path}: {exc}")
        return None
    name_column = nested_get(_safe_yaml(config_text), "data", "name_column")
    if isinstance(name_column, str) and name_column in layer.columns:
        layer = layer.drop(columns=[c for c in ("name",) if c != name_column]).rename(
            columns={name_column: "name"})
    if "name" not in layer.columns:
        layer = layer.assign(name="")
    return layer[["name", layer.geometry.name]]


def check_same_region(runs: Sequence[RunResult]) -> None:
    first = runs[0]
    ids0 = _village_ids(first.plan)
    for run in runs[1:]:
        where = run.folder if run.folder is not None else run.plan.scenario
        if run.plan.region != first.plan.region:
            raise InputDataError(
                f"{where}: region {run.plan.region!r} differs from {first.plan.region!r} "
                f"of {first.folder}; compare runs of one region"
            )
        if _village_ids(run.plan) != ids0:
            raise InputDataError(
                f"{where}: its villages differ from those of {first.folder} "
                f"(same region name, different data); compare runs of one dataset"
            )


def _village_ids(plan: Plan) -> frozenset[str]:
    if "village_id" not in plan.villages.columns:
        return frozenset()
    return frozenset(plan.villages["village_id"].astype(str))


# --------------------------------------------------------------------------- labels


def scenario_labels(runs: Sequence[RunResult]) -> list[str]:
    """Short names of the runs from the settings that differ between them.

    Parameters
    ----------
    runs
        The runs in report order.

    Returns
    -------
    list of str
        E.g. ``["normal · 15 stations", "normal · 30 stations"]``; the folder name is
        used (or added) when the settings do not tell the runs apart.
    """
    def settings(run: RunResult) -> list[tuple[str, str]]:
        s = run.summary
        return [
            ("scenario", str(s.get("scenario"))),
            ("stations", count_text(s.get("stations_open"), "station")),
            ("radius", f"{number(s.get('radius_km')) or 0:g} km radius"),
            ("seed", f"seed {s.get('seed')}"),
        ]

    all_settings = [settings(r) for r in runs]
    if len(runs) == 1:
        parts = [all_settings[0][0][1], all_settings[0][1][1]]
        return [" · ".join(parts)]
    keys = [k for k, _ in all_settings[0]]
    differing = [k for k in keys
                 if len({dict(st)[k] for st in all_settings}) > 1]
    labels = []
    for st in all_settings:
        d = dict(st)
        shown = [d[k] for k in keys if k in differing] or [d["scenario"], d["stations"]]
        labels.append(" · ".join(shown))
    if len(set(labels)) < len(labels):
        labels = [
            f"{label} · {run.folder.name if run.folder else i + 1}"
            for i, (label, run) in enumerate(zip(labels, runs, strict=True))
        ]
    if len(set(labels)) < len(labels):
        labels = [f"{chr(ord('A') + i)}: {label}" for i, label in enumerate(labels)]
    return labels
