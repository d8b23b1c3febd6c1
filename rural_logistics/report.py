"""Scenario reports: one self-contained HTML file for one run or a comparison of runs.

A report is what policy staff read and forward by mail: coverage maps side by side, a
KPI table with deltas against the first scenario, equity figures (Gini of access distance,
the worst-served villages), a per-township table, the population-weighted distribution of
access distance, and the settings needed to reproduce each run.

The file needs nothing from the network when it is opened: maps and charts are inline SVG
drawn with matplotlib (text as paths, so no web fonts), the few lines of script and the
styles are inline, and there are no links to other files. Village and station markers carry
SVG ``<title>`` elements, so hovering shows name, population and access time in any
browser; check boxes hide or show map layers. A print stylesheet lays the report out on
landscape pages.

Maps reuse :func:`rural_logistics.maps.draw_plan` with one extent (:func:`map_extent` of
all runs), the same access-time bands and the same station size scale in every panel.

:func:`load_run` reads a run folder (``summary.json``, ``plan.gpkg``, ``config.yaml``),
:func:`render_report` turns runs into HTML text, :func:`write_report` writes it
atomically, :func:`compare_runs` does all three for ``rural-logistics compare`` and
:func:`write_plan_report` writes the single-run report of ``rural-logistics solve``.
"""

from __future__ import annotations

import html
import io
import itertools
import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import yaml
from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from rural_logistics import __version__
from rural_logistics.config import RegionConfig
from rural_logistics.errors import InputDataError, OutputError
from rural_logistics.maps import (
    _DEPOT_COLOR,
    _ROUTE_COLORS,
    _STATION_COLOR,
    _TOWNSHIP_COLOR,
    _UNASSIGNED_COLOR,
    DEFAULT_ACCESS_BANDS_MIN,
    _size_reference_values,
    _station_areas,
    access_band_colors,
    access_band_labels,
    draw_plan,
    map_extent,
)
from rural_logistics.metrics import weighted_mean
from rural_logistics.plan import Plan

__all__ = [
    "KPIS",
    "MAX_RUNS",
    "MIN_RUNS",
    "REPORT_FILE",
    "Kpi",
    "RunResult",
    "compare_runs",
    "load_run",
    "render_report",
    "scenario_labels",
    "township_table",
    "worst_served",
    "write_plan_report",
    "write_report",
]

REPORT_FILE = "report.html"
MIN_RUNS = 2
MAX_RUNS = 6
PLAN_LAYERS = ("villages", "stations", "depots", "routes")
_REQUIRED_SUMMARY_KEYS = ("scenario", "villages", "population", "stations_open", "radius_km")
#: Line colours of the scenarios in charts and headers (distinct from the access bands).
SCENARIO_COLORS: tuple[str, ...] = (
    "#1f4e9c", "#d95f02", "#7b3294", "#1b9e77", "#c51b7d", "#525252",
)
_MAP_WIDTH_IN = 7.0
_WORST_N = 10
_DISTANCE_BINS_KM: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0, 5.0, 10.0)


def _svg_style() -> AbstractContextManager[None]:
    """matplotlib settings of every inline SVG: text as paths, stable ids."""
    return rc_context({"svg.fonttype": "path", "svg.hashsalt": "rural-logistics",
                       "font.size": 9.0})


# --------------------------------------------------------------------------- runs


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
    def summary(self) -> dict[str, Any]:
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
    region = summary.get("region") or _get(config, "region", "name") or folder.name
    radius = _number(summary.get("radius_km"))
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
    )
    return RunResult(plan=plan, folder=folder, config_text=config_text, notes=tuple(notes))


def _read_summary(path: Path) -> dict[str, Any]:
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
    return summary


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


def _get(mapping: dict[str, Any], *keys: str) -> Any:
    value: Any = mapping
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _townships_from_config(
    config_text: str | None, crs: str, notes: list[str]
) -> gpd.GeoDataFrame | None:
    path = _get(_safe_yaml(config_text), "data", "townships")
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
    if "name" not in layer.columns:
        layer = layer.assign(name="")
    return layer[["name", layer.geometry.name]]


def _check_same_region(runs: Sequence[RunResult]) -> None:
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


# --------------------------------------------------------------------------- numbers


def _number(value: Any) -> float | None:
    """A finite float, or ``None`` for missing, boolean or non-numeric values."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def _minus(text: str) -> str:
    return text.replace("-", "\u2212")


@dataclass(frozen=True)
class Kpi:
    """One row of the KPI table.

    Attributes
    ----------
    key
        The ``summary.json`` key.
    label
        Row label.
    decimals
        Decimals shown; shares are shown in percent with this many decimals.
    better
        ``+1`` if more is better, ``-1`` if less is better, ``0`` if neither.
    percent
        The value is a share (0–1) shown in percent; its delta in percentage points.
    """

    key: str
    label: str
    decimals: int
    better: int = 0
    percent: bool = False

    def format(self, value: Any) -> str:
        """The value as shown in the table (``"n/a"`` when missing)."""
        v = _number(value)
        if v is None:
            return "n/a"
        if self.percent:
            return _minus(f"{100 * v:.{self.decimals}f} %")
        return _minus(f"{v:,.{self.decimals}f}")

    def format_delta(self, value: Any, base: Any) -> tuple[str, str]:
        """The change from ``base`` to ``value`` and its CSS class (better/worse/same)."""
        v, b = _number(value), _number(base)
        if v is None or b is None:
            return "", "same"
        diff = (v - b) * (100 if self.percent else 1)
        shown = round(diff, self.decimals)
        if shown == 0:
            return "±0", "same"
        unit = " pp" if self.percent else ""
        text = _minus(f"{shown:+,.{self.decimals}f}{unit}")
        if self.better == 0:
            return text, "neutral"
        return text, "better" if diff * self.better > 0 else "worse"


#: The KPI table rows, in order.
KPIS: tuple[Kpi, ...] = (
    Kpi("stations_open", "Stations open", 0),
    Kpi("population_within_radius_share", "Population within radius, share", 1, +1, True),
    Kpi("population_within_radius", "Population within radius, people", 0, +1),
    Kpi("mean_access_km", "Mean access distance, km", 2, -1),
    Kpi("p90_access_km", "90th percentile access distance, km", 2, -1),
    Kpi("max_access_km", "Max access distance, km", 2, -1),
    Kpi("mean_access_min", "Mean access time, min", 1, -1),
    Kpi("p90_access_min", "90th percentile access time, min", 1, -1),
    Kpi("max_access_min", "Max access time, min", 1, -1),
    Kpi("villages_beyond_5km", "Villages beyond 5 km", 0, -1),
    Kpi("villages_beyond_10km", "Villages beyond 10 km", 0, -1),
    Kpi("access_gini", "Gini of access distance (0 = equal)", 3, -1),
    Kpi("vehicles_used", "Vehicles used", 0, -1),
    Kpi("routes", "Routes", 0),
    Kpi("total_route_km", "Route km per day", 1, -1),
    Kpi("parcels_per_day", "Parcels per day (demand)", 0),
    Kpi("delivered_parcels_per_day", "Parcels per day delivered", 0, +1),
    Kpi("total_cost_per_day", "Transport cost per day", 0, -1),
    Kpi("cost_per_parcel", "Cost per parcel", 2, -1),
)


# --------------------------------------------------------------------------- tables


def township_table(plan: Plan) -> pd.DataFrame:
    """Per-township figures of a plan.

    Parameters
    ----------
    plan
        The plan; villages without a ``township`` are grouped as ``"(none)"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by township name (sorted), columns ``villages, population, stations,
        population_covered, share_covered`` (share of the township's population within
        the service radius of its station) and ``mean_access_km`` (population-weighted,
        over villages with a station; NaN when there are none).
    """
    v = plan.villages
    town = _township_names(v)
    pop = pd.to_numeric(v["population"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    km = pd.to_numeric(v["access_km"], errors="coerce").to_numpy(dtype=float)
    assigned = _assigned(v) & np.isfinite(km)
    within = _within(v, plan.radius_km) & assigned
    rows: dict[str, dict[str, float]] = {}
    for name in sorted(set(town)):
        m = town == name
        a = m & assigned
        total = float(pop[m].sum())
        covered = float(pop[m & within].sum())
        rows[name] = {
            "villages": int(m.sum()),
            "population": total,
            "population_covered": covered,
            "share_covered": covered / total if total > 0 else float("nan"),
            "mean_access_km": weighted_mean(km[a], pop[a]) if a.any() else float("nan"),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    s = plan.stations
    counts = _township_names(s).tolist() if len(s) else []
    table["stations"] = [counts.count(name) for name in table.index]
    extra = sorted(set(counts) - set(table.index))
    for name in extra:  # stations in a township without villages (rare)
        table.loc[name] = {"villages": 0, "population": 0.0, "population_covered": 0.0,
                           "share_covered": float("nan"), "mean_access_km": float("nan"),
                           "stations": counts.count(name)}
    return table[["villages", "population", "stations", "population_covered",
                  "share_covered", "mean_access_km"]]


def _township_names(layer: pd.DataFrame) -> np.ndarray:
    if "township" not in layer.columns:
        return np.full(len(layer), "(none)", dtype=object)
    names = layer["township"].astype(object).where(layer["township"].notna(), "(none)")
    names = names.astype(str).str.strip().replace("", "(none)")
    return names.to_numpy(dtype=object)


def _assigned(villages: pd.DataFrame) -> np.ndarray:
    if "station_id" not in villages.columns:
        return np.zeros(len(villages), dtype=bool)
    sid = villages["station_id"]
    return np.asarray(sid.notna() & (sid.astype(str).str.strip() != ""), dtype=bool)


def _within(villages: pd.DataFrame, radius_km: float) -> np.ndarray:
    if "within_radius" in villages.columns:
        return villages["within_radius"].fillna(False).astype(bool).to_numpy()
    km = pd.to_numeric(villages["access_km"], errors="coerce").to_numpy(dtype=float)
    return np.nan_to_num(km, nan=np.inf) <= radius_km


def worst_served(plan: Plan, *, n: int = _WORST_N) -> pd.DataFrame:
    """The ``n`` villages with the longest access distance.

    Parameters
    ----------
    plan
        The plan.
    n
        How many villages to list.

    Returns
    -------
    pandas.DataFrame
        Columns ``village_id, name, township, population, access_km, access_min,
        station_id``; villages without a station come first, then by access distance
        (then time) descending, ties by village id.
    """
    v = pd.DataFrame(plan.villages.drop(columns=plan.villages.geometry.name, errors="ignore"))
    cols = ["village_id", "name", "township", "population", "access_km", "access_min",
            "station_id"]
    for col in cols:
        if col not in v.columns:
            v[col] = None
    v = v[cols].copy()
    v["_unassigned"] = ~_assigned(v)
    v["_km"] = pd.to_numeric(v["access_km"], errors="coerce").fillna(np.inf)
    v["_min"] = pd.to_numeric(v["access_min"], errors="coerce").fillna(np.inf)
    v["_id"] = v["village_id"].astype(str)
    v = v.sort_values(["_unassigned", "_km", "_min", "_id"],
                      ascending=[False, False, False, True], kind="stable")
    return v[cols].head(n).reset_index(drop=True)


# --------------------------------------------------------------------------- SVG helpers


def _svg_text(fig: Figure) -> str:
    """The figure as SVG markup for inlining (no XML prolog, no size, no global style)."""
    FigureCanvasSVG(fig)
    buf = io.StringIO()
    with _svg_style():
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r"<style[^>]*>.*?</style>", "", text, flags=re.S)
    return text


def _prefix_ids(svg: str, prefix: str) -> str:
    """Make every id of an inline SVG unique in the document (several SVGs share a page)."""
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)


def _open_svg_tag(svg: str, *, css_class: str, label: str) -> str:
    """Drop the fixed width/height (the viewBox scales) and add class and label."""
    head_end = svg.index(">", svg.index("<svg")) + 1
    head = svg[:head_end]
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    head = head.replace(
        "<svg", f'<svg class="{css_class}" role="img" aria-label="{html.escape(label)}"', 1
    )
    return head + svg[head_end:]


# Layer of each artist that draw_plan adds, told apart by type and z-order.
_LAYER_CLASSES = ("villages", "stations", "routes", "townships", "depots")


def _tag_layers(ax: Any) -> None:
    for k, coll in enumerate(ax.collections):
        z = coll.get_zorder()
        layer = None
        if isinstance(coll, LineCollection):
            layer = "townships" if z < 2 else "routes"
        elif isinstance(coll, PathCollection):
            layer = "villages" if 4 <= z < 5 else "stations" if z == 5 else (
                "depots" if z == 6 else None)
        if layer:
            coll.set_gid(f"rl-{layer}-{k}")
    for k, text in enumerate(ax.texts):
        z = text.get_zorder()
        if z == 3:
            text.set_gid(f"rl-townships-t{k}")
        elif z == 7:
            text.set_gid(f"rl-depots-t{k}")


def _layer_classes(svg: str) -> str:
    return re.sub(r'<g id="rl-(\w+)-(\w+)"', r'<g id="rl-\1-\2" class="rl-\1"', svg)


def _plural(value: Any, word: str) -> str:
    """``"1 station"``, ``"3 stations"``."""
    return f"{_fmt_int(value)} {word}" + ("" if _number(value) == 1 else "s")


def _fmt_int(value: Any) -> str:
    v = _number(value)
    return "n/a" if v is None else f"{v:,.0f}"


def _fmt(value: Any, decimals: int) -> str:
    v = _number(value)
    return "n/a" if v is None else _minus(f"{v:,.{decimals}f}")


def _map_panel(
    run: RunResult,
    *,
    index: int,
    extent: tuple[float, float, float, float],
    size_max: float,
) -> str:
    """One coverage map as inline SVG with hover titles on villages and stations."""
    plan = run.plan
    xmin, xmax, ymin, ymax = extent
    aspect = (ymax - ymin) / (xmax - xmin)
    width = _MAP_WIDTH_IN
    height = min(max(width * aspect, 3.0), 11.0)
    fig = Figure(figsize=(width, height), dpi=72)
    ax = fig.add_axes((0.004, 0.004, 0.992, 0.992))
    with _svg_style():
        draw_plan(ax, plan, extent=extent, access_bands_min=DEFAULT_ACCESS_BANDS_MIN,
                  legend=False, title=None, station_size_max=size_max)
    _tag_layers(ax)
    svg = _layer_classes(_svg_text(fig))
    height_pt = fig.get_figheight() * 72.0

    def to_svg(geoms: gpd.GeoSeries) -> np.ndarray:
        pts = [g if g.geom_type == "Point" else g.representative_point() for g in geoms]
        xy = np.array([[p.x, p.y] for p in pts], dtype=float).reshape(-1, 2)
        disp = ax.transData.transform(xy)
        disp[:, 1] = height_pt - disp[:, 1]
        return disp

    hits: list[str] = ['<g class="rl-hit rl-villages">']
    v = plan.villages
    ok = v.geometry.notna() & ~v.geometry.is_empty
    v = v[ok]
    if len(v):
        pos = to_svg(v.geometry)
        for (x, y), (_, row) in zip(pos, v.iterrows(), strict=True):
            station = row.get("station_id")
            has_station = isinstance(station, str) and station.strip() != ""
            lines = [
                f"{row.get('name') or row.get('village_id')} ({row.get('village_id')})",
                f"township: {row.get('township') or '—'}",
                f"population: {_fmt_int(row.get('population'))}",
                (f"access: {_fmt(row.get('access_km'), 2)} km, "
                 f"{_fmt(row.get('access_min'), 1)} min to station {station}")
                if has_station else "no station assigned",
            ]
            title = html.escape("\n".join(lines))
            hits.append(f'<circle class="rl-hit-v" cx="{x:.1f}" cy="{y:.1f}" r="5">'
                        f"<title>{title}</title></circle>")
    hits.append('</g><g class="rl-hit rl-stations">')
    s = plan.stations
    s = s[s.geometry.notna() & ~s.geometry.is_empty]
    if len(s):
        pos = to_svg(s.geometry)
        parcels = pd.to_numeric(s.get("parcels_per_day"), errors="coerce").to_numpy(dtype=float)
        areas = _station_areas(parcels, size_max)
        for (x, y), area, (_, row) in zip(pos, areas, s.iterrows(), strict=True):
            lines = [
                f"station {row.get('station_id')}: {row.get('name') or row.get('site_id')}",
                f"township: {row.get('township') or '—'}",
                f"villages served: {_fmt_int(row.get('villages'))}, "
                f"population {_fmt_int(row.get('population'))}",
                f"parcels/day: {_fmt(row.get('parcels_per_day'), 0)}",
            ]
            half = max(math.sqrt(float(area)) / 2 + 1.0, 4.0)
            hits.append(
                f'<rect class="rl-hit-s" x="{x - half:.1f}" y="{y - half:.1f}" '
                f'width="{2 * half:.1f}" height="{2 * half:.1f}">'
                f"<title>{html.escape(chr(10).join(lines))}</title></rect>"
            )
    hits.append("</g>")
    svg = svg.replace("</svg>", "".join(hits) + "</svg>")
    svg = _open_svg_tag(svg, css_class="rl-map-svg",
                        label=f"Coverage map of {_run_label_plain(run)}")
    return _prefix_ids(svg, f"m{index}-")


def _run_label_plain(run: RunResult) -> str:
    s = run.summary
    return f"{s.get('scenario')}, {_plural(s.get('stations_open'), 'station')}"


def _distribution_chart(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
    """Population-weighted access distance: cumulative curves and grouped bars, SVG."""
    with _svg_style():
        fig = Figure(figsize=(11.0, 3.7), dpi=72,
                     layout=ConstrainedLayoutEngine(w_pad=0.1, h_pad=0.08, wspace=0.08))
        ax_cum, ax_bar = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1.0]})
        top = 0.0
        radii: set[float] = set()
        n = len(runs)
        edges = list(_DISTANCE_BINS_KM)
        bin_labels = [f"{a:g}–{b:g}" for a, b in itertools.pairwise(edges)]
        bin_labels.append(f"> {edges[-1]:g}")
        xs = np.arange(len(bin_labels), dtype=float)
        bar_w = 0.8 / max(n, 1)
        for i, (run, label) in enumerate(zip(runs, labels, strict=True)):
            color = SCENARIO_COLORS[i % len(SCENARIO_COLORS)]
            v = run.plan.villages
            km = pd.to_numeric(v["access_km"], errors="coerce").to_numpy(dtype=float)
            pop = pd.to_numeric(v["population"], errors="coerce").fillna(0).to_numpy(dtype=float)
            total = pop.sum()
            ok = _assigned(v) & np.isfinite(km)
            radii.add(float(run.plan.radius_km))
            if total <= 0 or not ok.any():
                continue
            order = np.argsort(km[ok], kind="stable")
            xk, wk = km[ok][order], pop[ok][order]
            cum = np.cumsum(wk) / total * 100
            ax_cum.step(np.concatenate([[0.0], xk]), np.concatenate([[0.0], cum]),
                        where="post", color=color, linewidth=2.0, label=label)
            top = max(top, float(xk.max()))
            idx = np.searchsorted(np.asarray(edges), xk, side="right") - 1
            idx = np.clip(idx, 0, len(bin_labels) - 1)
            # Right-closed bins: a village exactly at an edge (e.g. 3.0 km) is in the lower bin.
            on_edge = np.isin(xk, np.asarray(edges)) & (xk > 0)
            idx = np.where(on_edge, idx - 1, idx)
            shares = np.bincount(idx, weights=wk, minlength=len(bin_labels)) / total * 100
            ax_bar.bar(xs + (i - (n - 1) / 2) * bar_w, shares, width=bar_w * 0.95,
                       color=color, label=label)
        for r in sorted(radii):
            ax_cum.axvline(r, color="#757575", linestyle="--", linewidth=1.0)
            ax_cum.annotate(f"radius {r:g} km", (r, 3), xytext=(4, 0),
                            textcoords="offset points", fontsize=8, color="#616161")
        ax_cum.set_xlim(0, max(top * 1.03, 1.0))
        ax_cum.set_ylim(0, 101)
        ax_cum.set_xlabel("access distance to station, km (along roads)")
        ax_cum.set_ylabel("population within distance, %")
        ax_cum.set_title("Share of population within a given distance", fontsize=10)
        ax_cum.grid(True, color="#e0e0e0", linewidth=0.6)
        ax_cum.legend(loc="lower right", fontsize=8.5, frameon=True)
        ax_bar.set_xticks(xs, [f"{b} km" for b in bin_labels])
        ax_bar.set_ylabel("share of population, %")
        ax_bar.set_title("Population by access distance band", fontsize=10)
        ax_bar.grid(True, axis="y", color="#e0e0e0", linewidth=0.6)
        ax_bar.set_axisbelow(True)
        for axis in (ax_cum, ax_bar):
            axis.spines[["top", "right"]].set_visible(False)
    svg = _svg_text(fig)
    svg = _open_svg_tag(svg, css_class="rl-chart-svg",
                        label="Population-weighted distribution of access distance")
    return _prefix_ids(svg, "dist-")


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
            ("stations", _plural(s.get("stations_open"), "station")),
            ("radius", f"{_number(s.get('radius_km')) or 0:g} km radius"),
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


# --------------------------------------------------------------------------- HTML


def _e(value: Any) -> str:
    return html.escape(str(value))


def _station_size_max(runs: Sequence[RunResult]) -> float:
    top = 0.0
    for run in runs:
        s = run.plan.stations
        if len(s) and "parcels_per_day" in s.columns:
            p = pd.to_numeric(s["parcels_per_day"], errors="coerce").to_numpy(dtype=float)
            p = p[np.isfinite(p)]
            if p.size:
                top = max(top, float(p.max()))
    return top


def _legend_html(runs: Sequence[RunResult], size_max: float) -> str:
    items: list[str] = ['<div class="legend-group"><b>Village access time</b>']
    for color, label in zip(access_band_colors(DEFAULT_ACCESS_BANDS_MIN),
                            access_band_labels(DEFAULT_ACCESS_BANDS_MIN), strict=True):
        items.append(
            f'<span class="key"><svg width="12" height="12" aria-hidden="true">'
            f'<circle cx="6" cy="6" r="4.5" fill="{color}" stroke="#424242" '
            f'stroke-width="0.6"/></svg>{_e(label)}</span>'
        )
    items.append(
        f'<span class="key"><svg width="12" height="12" aria-hidden="true"><path '
        f'd="M2 2L10 10M10 2L2 10" stroke="{_UNASSIGNED_COLOR}" stroke-width="1.8"/></svg>'
        "no station</span></div>"
    )
    items.append('<div class="legend-group"><b>Facilities</b>')
    items.append(
        f'<span class="key"><svg width="18" height="18" aria-hidden="true"><path '
        f'd="M9 1l2.4 5.2 5.6.6-4.2 3.8 1.2 5.6L9 13.3 4 16.2l1.2-5.6L1 6.8l5.6-.6z" '
        f'fill="{_DEPOT_COLOR}"/></svg>county distribution centre</span>'
    )
    for value in _size_reference_values(size_max) or []:
        side = math.sqrt(float(_station_areas(np.array([value]), size_max)[0]))
        items.append(
            f'<span class="key"><svg width="{side + 2:.1f}pt" height="{side + 2:.1f}pt" '
            f'viewBox="0 0 {side + 2:.1f} {side + 2:.1f}" aria-hidden="true">'
            f'<rect x="1" y="1" width="{side:.1f}" height="{side:.1f}" '
            f'fill="{_STATION_COLOR}"/></svg>station, {value:g} parcels/day</span>'
        )
    items.append("</div>")
    items.append('<div class="legend-group"><b>Lines</b>')
    route_swatch = "".join(
        f'<path d="M{2 + 6 * k} 9h6" stroke="{c}" stroke-width="3"/>'
        for k, c in enumerate(_ROUTE_COLORS[:4])
    )
    items.append(f'<span class="key"><svg width="28" height="18" aria-hidden="true">'
                 f"{route_swatch}</svg>vehicle route (one colour each)</span>")
    if any(r.plan.townships is not None and len(r.plan.townships) for r in runs):
        items.append(
            f'<span class="key"><svg width="28" height="18" aria-hidden="true"><path '
            f'd="M2 9h24" stroke="{_TOWNSHIP_COLOR}" stroke-width="1"/></svg>'
            "township boundary</span>"
        )
    items.append("</div>")
    return '<div class="legend" id="legend">' + "".join(items) + "</div>"


def _cards_html(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
    headline = [k for k in KPIS if k.key in (
        "population_within_radius_share", "mean_access_km", "villages_beyond_10km",
        "cost_per_parcel")]
    cards = []
    for i, (run, label) in enumerate(zip(runs, labels, strict=True)):
        s = run.summary
        rows = []
        for kpi in headline:
            delta = ""
            if i > 0:
                text, cls = kpi.format_delta(s.get(kpi.key), runs[0].summary.get(kpi.key))
                if text:
                    delta = f' <span class="delta {cls}">{_e(text)}</span>'
            name = kpi.label.replace(", share", "").replace(
                "Population within radius",
                f"Population within {_number(s.get('radius_km')) or 0:g} km")
            rows.append(f'<div class="fig"><span class="big">{_e(kpi.format(s.get(kpi.key)))}'
                        f"</span>{delta}<span class=\"what\">{_e(name)}</span></div>")
        status = str(s.get("status", "ok"))
        flag = "" if status == "ok" else f' <span class="flag">{_e(status)}</span>'
        cards.append(
            f'<div class="card" style="--c:{SCENARIO_COLORS[i % len(SCENARIO_COLORS)]}">'
            f"<h3>{_e(label)}{flag}</h3>"
            f'<div class="sub">{_e(_folder_text(run))}</div>{"".join(rows)}</div>'
        )
    return '<div class="cards">' + "".join(cards) + "</div>"


def _folder_text(run: RunResult) -> str:
    return str(run.folder) if run.folder is not None else "this run"


def _kpi_table(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
    head = "".join(
        f'<th scope="col" style="--c:{SCENARIO_COLORS[i % len(SCENARIO_COLORS)]}">'
        f"{_e(label)}</th>"
        for i, label in enumerate(labels)
    )
    body = []
    radius = _number(runs[0].summary.get("radius_km"))
    for kpi in KPIS:
        label = kpi.label
        if kpi.key.startswith("population_within_radius") and radius is not None:
            same = all(_number(r.summary.get("radius_km")) == radius for r in runs)
            if same:
                label = label.replace("within radius", f"within {radius:g} km")
        cells = []
        base = runs[0].summary.get(kpi.key)
        for i, run in enumerate(runs):
            value = run.summary.get(kpi.key)
            raw = json.dumps(value) if _number(value) is not None else "null"
            delta = ""
            if i > 0:
                text, cls = kpi.format_delta(value, base)
                if text:
                    delta = f' <span class="delta {cls}">{_e(text)}</span>'
            cells.append(
                f'<td data-key="{kpi.key}" data-run="{i}" data-value="{_e(raw)}">'
                f'<span class="v">{_e(kpi.format(value))}</span>{delta}</td>'
            )
        body.append(f'<tr><th scope="row">{_e(label)}</th>{"".join(cells)}</tr>')
    note = (
        "Deltas are against the first column; green is better, red worse. Access is the "
        "road distance (or time) from a village to its station; means and percentiles are "
        "weighted by population."
    )
    return (
        f'<table class="kpi" id="kpi-table"><thead><tr><th scope="col">Figure</th>{head}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f'<p class="note">{_e(note)}</p>'
    )


def _worst_tables(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
    blocks = []
    for i, (run, label) in enumerate(zip(runs, labels, strict=True)):
        w = worst_served(run.plan)
        rows = []
        for _, r in w.iterrows():
            station = r["station_id"]
            has = isinstance(station, str) and station.strip() != ""
            rows.append(
                f"<tr><td>{_e(r['name'] if _present(r['name']) else r['village_id'])}</td>"
                f"<td>{_e(r['township'] if _present(r['township']) else '—')}</td>"
                f'<td class="n">{_fmt_int(r["population"])}</td>'
                f'<td class="n">{_fmt(r["access_km"], 2) if has else "—"}</td>'
                f'<td class="n">{_fmt(r["access_min"], 1) if has else "—"}</td>'
                f"<td>{_e(station) if has else 'none'}</td></tr>"
            )
        blocks.append(
            f'<div class="worst" style="--c:{SCENARIO_COLORS[i % len(SCENARIO_COLORS)]}">'
            f"<h4>{_e(label)}</h4>"
            f'<table class="small worst-table" data-run="{i}"><thead><tr><th>Village</th>'
            "<th>Township</th><th>Pop.</th><th>km</th><th>min</th><th>Station</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
        )
    return '<div class="worst-grid">' + "".join(blocks) + "</div>"


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return str(value).strip() != ""


def _township_html(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
    tables = [township_table(r.plan) for r in runs]
    names = sorted(set().union(*(set(t.index) for t in tables)))
    n = len(runs)
    top = "".join(
        f'<th colspan="3" scope="colgroup" style="--c:{SCENARIO_COLORS[i % len(SCENARIO_COLORS)]}">'
        f"{_e(label)}</th>"
        for i, label in enumerate(labels)
    )
    radius = _number(runs[0].summary.get("radius_km")) or 0.0
    sub = "".join(
        f'<th scope="col" class="n{" group" if j == 0 else ""}">{h}</th>'
        for _ in range(n)
        for j, h in enumerate(("Stations", f"Within {radius:g} km", "Mean km"))
    )
    body = []
    first = tables[0]
    for name in names:
        pop = first.loc[name, "population"] if name in first.index else float("nan")
        vil = first.loc[name, "villages"] if name in first.index else 0
        cells = []
        for t in tables:
            if name in t.index:
                row = t.loc[name]
                share = row["share_covered"]
                cells.append(
                    f'<td class="n group">{int(row["stations"])}</td>'
                    f'<td class="n">{"n/a" if pd.isna(share) else f"{100 * share:.0f} %"}</td>'
                    f'<td class="n">{_fmt(row["mean_access_km"], 2)}</td>'
                )
            else:
                cells.append('<td class="n group">—</td><td class="n">—</td><td class="n">—</td>')
        body.append(f'<tr><th scope="row">{_e(name)}</th><td class="n">{_fmt_int(vil)}</td>'
                    f'<td class="n">{_fmt_int(pop)}</td>{"".join(cells)}</tr>')
    totals = []
    for run in runs:
        s = run.summary
        share = _number(s.get("population_within_radius_share"))
        totals.append(
            f'<td class="n group">{_fmt_int(s.get("stations_open"))}</td>'
            f'<td class="n">{"n/a" if share is None else f"{100 * share:.0f} %"}</td>'
            f'<td class="n">{_fmt(s.get("mean_access_km"), 2)}</td>'
        )
    s0 = runs[0].summary
    body.append(f'<tr class="total"><th scope="row">County</th>'
                f'<td class="n">{_fmt_int(s0.get("villages"))}</td>'
                f'<td class="n">{_fmt_int(s0.get("population"))}</td>{"".join(totals)}</tr>')
    return (
        '<table class="townships small" id="township-table"><thead>'
        f'<tr><th rowspan="2" scope="col">Township</th><th rowspan="2" class="n">Villages</th>'
        f'<th rowspan="2" class="n">Population</th>{top}</tr><tr>{sub}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
        f'<p class="note">Stations: stations located in the township. Within {radius:g} km: '
        "share of the township's population whose road distance to its station is within "
        "the service radius. Mean km: population-weighted mean access distance.</p>"
    )


def _settings_html(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
    rows_spec: list[tuple[str, Callable[[RunResult], str]]] = [
        ("Run folder", _folder_text),
        ("Region", lambda r: r.plan.region),
        ("Scenario", lambda r: str(r.summary.get("scenario"))),
        ("Stations requested (K)",
         lambda r: _fmt_int(_get(r.config, "placement", "stations")
                            if r.config else r.summary.get("stations_open"))),
        ("Service radius, km", lambda r: _fmt(r.summary.get("radius_km"), 1)),
        ("Placement objective / weight",
         lambda r: f"{_get(r.summary, 'placement', 'objective') or '—'} / "
                   f"{_get(r.summary, 'placement', 'weight') or '—'}"),
        ("Seed", lambda r: str(r.summary.get("seed", "—"))),
        ("Time limit per stage, s", lambda r: _fmt(r.summary.get("time_limit_s"), 0)),
        ("Placement status", lambda r: str(_get(r.summary, "placement", "status") or "—")),
        ("Placement gap", lambda r: _gap(_get(r.summary, "placement", "gap"))),
        ("Routing status", lambda r: str(_get(r.summary, "routing", "status") or "—")),
        ("Run status", lambda r: str(r.summary.get("status", "—"))),
        ("Solve time, s", lambda r: _fmt(r.summary.get("solve_seconds"), 1)),
        ("CRS", lambda r: r.plan.crs or "—"),
        ("Warnings", lambda r: str(len(r.plan.warnings))),
    ]
    head = "".join(f"<th>{_e(label)}</th>" for label in labels)
    body = "".join(
        f'<tr><th scope="row">{_e(name)}</th>'
        + "".join(f"<td>{_e(fn(r))}</td>" for r in runs) + "</tr>"
        for name, fn in rows_spec
    )
    table = (f'<table class="small settings" id="settings-table"><thead><tr><th>Setting</th>'
             f"{head}</tr></thead><tbody>{body}</tbody></table>")
    details = []
    for run, label in zip(runs, labels, strict=True):
        parts = []
        if run.folder is not None and run.config_text:
            again = f"{run.folder.name}-again"
            parts.append(
                "<p>Reproduce:</p><pre class=\"cmd\">rural-logistics solve "
                f"{_e(run.folder / 'config.yaml')} --out {_e(again)}</pre>"
            )
        warnings = list(run.plan.warnings) + list(run.notes)
        if warnings:
            parts.append("<p>Warnings and notes:</p><ul>"
                         + "".join(f"<li>{_e(w)}</li>" for w in warnings) + "</ul>")
        if run.config_text:
            parts.append(f"<p>Effective config (config.yaml):</p><pre>{_e(run.config_text)}</pre>")
        if parts:
            details.append(f"<details><summary>{_e(label)}: reproduce, warnings, config"
                           f"</summary>{''.join(parts)}</details>")
    return table + "".join(details)


def _gap(value: Any) -> str:
    v = _number(value)
    return "—" if v is None else f"{100 * v:.2f} %"


_CSS = """
:root { --ink:#212121; --muted:#616161; --line:#e0e0e0; --bg:#ffffff; --soft:#f6f7f9;
  --better:#1a7f37; --worse:#b3261e; }
* { box-sizing: border-box; }
body { margin:0; color:var(--ink); background:var(--bg);
  font: 14px/1.45 "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; }
main { max-width: 1480px; margin: 0 auto; padding: 16px 24px 40px; }
h1 { font-size: 24px; margin: 4px 0 2px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 4px; }
h4 { font-size: 13px; margin: 0 0 4px; border-left: 4px solid var(--c, #999); padding-left: 6px; }
.lead { color: var(--muted); margin: 0 0 12px; }
nav a { color: #1f4e9c; margin-right: 14px; text-decoration: none; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(250px, 1fr)); gap: 12px; }
.card { border: 1px solid var(--line); border-top: 5px solid var(--c); border-radius: 6px;
  padding: 10px 12px; background: var(--soft); }
.card .sub { color: var(--muted); font-size: 12px; margin-bottom: 6px; word-break: break-all; }
.card .fig { display: grid; grid-template-columns: auto 1fr; column-gap: 8px;
  align-items: baseline; }
.card .big { font-size: 20px; font-weight: 700; }
.card .what { grid-column: 1 / -1; color: var(--muted); font-size: 12px; margin-bottom: 4px; }
.flag { background: #fdecea; color: var(--worse); font-size: 11px; padding: 1px 6px;
  border-radius: 8px; }
.controls { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: center; margin: 4px 0 8px;
  font-size: 13px; }
.controls label { cursor: pointer; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 28px; font-size: 12px; margin: 4px 0 10px;
  padding: 8px 10px; border: 1px solid var(--line); border-radius: 6px; }
.legend-group { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 12px; }
.legend-group b { margin-right: 2px; }
.key { display: inline-flex; align-items: center; gap: 4px; }
.maps { display: grid; gap: 14px; grid-template-columns: repeat(var(--cols, 2), minmax(0, 1fr)); }
.maps figure { margin: 0; border: 1px solid var(--line); border-top: 5px solid var(--c);
  border-radius: 6px; padding: 6px; break-inside: avoid; }
.maps figcaption { font-size: 13px; margin: 2px 2px 6px; }
.maps figcaption b { font-size: 15px; }
.maps figcaption .sub { color: var(--muted); }
svg.rl-map-svg, svg.rl-chart-svg { display: block; width: 100%; height: auto; }
svg.rl-map-svg *, svg.rl-chart-svg * { stroke-linejoin: round; stroke-linecap: butt; }
.rl-hit circle, .rl-hit rect { fill: #000; fill-opacity: 0; stroke: none; pointer-events: all; }
.rl-hit circle:hover, .rl-hit rect:hover { stroke: #000; stroke-width: 1.5; }
body.hide-villages .rl-villages, body.hide-stations .rl-stations, body.hide-routes .rl-routes,
body.hide-townships .rl-townships, body.hide-depots .rl-depots { display: none; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
thead th { background: var(--soft); border-bottom: 2px solid #bdbdbd; }
thead th[style] { border-top: 4px solid var(--c); }
table.kpi td { text-align: right; white-space: nowrap; }
table.kpi td .v { font-weight: 600; }
td.n, th.n { text-align: right; }
td.group, th.group { border-left: 1px solid #bdbdbd; }
.delta { font-size: 12px; margin-left: 6px; }
.delta.better { color: var(--better); } .delta.worse { color: var(--worse); }
.delta.neutral, .delta.same { color: var(--muted); }
table.small { font-size: 12.5px; }
tr.total th, tr.total td { font-weight: 700; border-top: 2px solid #bdbdbd; }
.note { color: var(--muted); font-size: 12px; margin: 6px 0; max-width: 100ch; }
.table-wrap { overflow-x: auto; }
.worst-grid { display: grid; gap: 16px;
  grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); }
pre { background: var(--soft); padding: 8px; border-radius: 4px; font-size: 12px;
  overflow-x: auto; }
details { margin: 8px 0; } summary { cursor: pointer; color: #1f4e9c; }
footer { margin-top: 28px; color: var(--muted); font-size: 12px; }
@media (max-width: 900px) { .maps { grid-template-columns: 1fr; } }
@page { size: A4 landscape; margin: 10mm; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav, .controls, details, .rl-hit { display: none !important; }
  h2 { break-after: avoid; margin-top: 12pt; }
  .maps { grid-template-columns: repeat(var(--cols, 2), minmax(0, 1fr)); }
  section { break-inside: auto; }
  figure, .card, table, .worst, svg { break-inside: avoid; }
  .table-wrap { overflow: visible; }
  a { color: inherit; text-decoration: none; }
}
"""

_SCRIPT = """
document.querySelectorAll('input[data-layer]').forEach(function (box) {
  box.addEventListener('change', function () {
    document.body.classList.toggle('hide-' + box.dataset.layer, !box.checked);
  });
});
"""

_LAYER_TOGGLES = (
    ("villages", "Villages"),
    ("stations", "Stations"),
    ("routes", "Routes"),
    ("townships", "Township boundaries"),
    ("depots", "Depot"),
)


def render_report(runs: Sequence[RunResult], *, title: str | None = None) -> str:
    """The report of one or more runs as one self-contained HTML document.

    Parameters
    ----------
    runs
        One run, or 2–6 runs of one region (the first is the baseline of the deltas).
    title
        Page title; default ``"<region> — scenario comparison"`` (or the run's scenario
        for a single run).

    Returns
    -------
    str
        HTML text with every style, script and image inline.

    Raises
    ------
    InputDataError
        If no run, more than :data:`MAX_RUNS` runs, or runs of different regions are given.
    """
    if not runs:
        raise InputDataError("report: no run given")
    if len(runs) > MAX_RUNS:
        raise InputDataError(f"report: at most {MAX_RUNS} runs fit one report, got {len(runs)}")
    _check_same_region(runs)
    region = runs[0].plan.region
    labels = scenario_labels(runs)
    single = len(runs) == 1
    if title is None:
        title = (f"{region} — {labels[0]}" if single else f"{region} — scenario comparison")
    try:
        extent = map_extent(*(r.plan for r in runs))
    except ValueError:
        extent = (0.0, 1.0, 0.0, 1.0)
    size_max = _station_size_max(runs)
    cols = 1 if single else 2 if len(runs) in (2, 4) else 3

    panels = []
    for i, (run, label) in enumerate(zip(runs, labels, strict=True)):
        s = run.summary
        share = _number(s.get("population_within_radius_share"))
        caption = (
            f"<b>{_e(label)}</b> <span class=\"sub\">— {_plural(s.get('stations_open'), 'station')}"
            f", {_plural(s.get('routes'), 'route')}; "
            f"{'n/a' if share is None else f'{100 * share:.0f} %'} of population within "
            f"{_number(s.get('radius_km')) or 0:g} km; mean access "
            f"{_fmt(s.get('mean_access_km'), 1)} km</span>"
        )
        svg = _map_panel(run, index=i, extent=extent, size_max=size_max)
        panels.append(
            f'<figure class="map" data-run="{i}" '
            f'style="--c:{SCENARIO_COLORS[i % len(SCENARIO_COLORS)]}">'
            f"<figcaption>{caption}</figcaption>{svg}</figure>"
        )
    toggles = "".join(
        f'<label><input type="checkbox" data-layer="{key}" checked> {name}</label>'
        for key, name in _LAYER_TOGGLES
    )
    gini_row = " · ".join(
        f"{_e(label)}: <b>{_fmt(r.summary.get('access_gini'), 3)}</b>"
        for label, r in zip(labels, runs, strict=True)
    )
    what = "this run" if single else f"{len(runs)} scenarios"
    subtitle = (
        f"{_fmt_int(runs[0].summary.get('villages'))} villages, "
        f"{_fmt_int(runs[0].summary.get('population'))} people · {what} · "
        "hover a village or station on a map for details"
    )
    sections = [
        f"<header><h1>{_e(title)}</h1><p class=\"lead\">{_e(subtitle)}</p>"
        '<nav><a href="#maps">Maps</a><a href="#kpis">Key figures</a>'
        '<a href="#equity">Equity</a><a href="#townships">Townships</a>'
        '<a href="#settings">Run settings</a></nav></header>',
        f'<section id="summary">{_cards_html(runs, labels)}</section>',
        '<section id="maps"><h2>Coverage maps</h2>'
        f'<div class="controls" role="group" aria-label="Map layers"><b>Show:</b>{toggles}</div>'
        f"{_legend_html(runs, size_max)}"
        f'<div class="maps" style="--cols:{cols}">{"".join(panels)}</div>'
        '<p class="note">All panels share one extent, one colour scale for access time and '
        "one size scale for stations (square area proportional to parcels per day).</p>"
        "</section>",
        f'<section id="kpis"><h2>Key figures</h2><div class="table-wrap">'
        f"{_kpi_table(runs, labels)}</div></section>",
        '<section id="equity"><h2>Equity of access</h2>'
        f'<p>Gini coefficient of access distance, weighted by population (0 = everyone '
        f"equally far from a station, 1 = maximally unequal): {gini_row}</p>"
        f'<figure class="chart" id="distribution">{_distribution_chart(runs, labels)}</figure>'
        f"<h3>The {_WORST_N} worst-served villages</h3>{_worst_tables(runs, labels)}</section>",
        '<section id="townships"><h2>Townships</h2><div class="table-wrap">'
        f"{_township_html(runs, labels)}</div></section>",
        '<section id="settings"><h2>Run settings</h2><div class="table-wrap">'
        f"{_settings_html(runs, labels)}</div></section>",
        f"<footer>Made by rural-logistics {_e(__version__)}. This file is self-contained: it "
        "loads nothing from the network and can be mailed or printed as it is.</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body><main>"
        + "\n".join(sections)
        + f"</main><script>{_SCRIPT}</script></body></html>\n"
    )


def write_report(runs: Sequence[RunResult], path: str | Path, *, title: str | None = None,
                 force: bool = True) -> Path:
    """Render and write the report atomically (temporary file, then rename).

    Parameters
    ----------
    runs
        The runs, see :func:`render_report`.
    path
        The HTML file to write; its folder is created if needed.
    title
        Page title, see :func:`render_report`.
    force
        Replace an existing file.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    OutputError
        If ``path`` is a folder, exists and ``force`` is not set, or cannot be written.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give the report file name, e.g. report.html")
    if path.exists() and not force:
        raise OutputError(f"{path}: file exists (use --force to replace it)")
    text = render_report(runs, title=title)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial",
                                        dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path.parent}: cannot write there ({exc.strerror})") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def compare_runs(
    folders: Sequence[str | Path], *, out: str | Path, force: bool = True,
    title: str | None = None,
) -> Path:
    """Read 2–6 run folders of one region and write their comparison report.

    Parameters
    ----------
    folders
        Run folders written by ``rural-logistics solve``; the first is the baseline.
    out
        The HTML file to write.
    force
        Replace an existing ``out``.
    title
        Page title, see :func:`render_report`.

    Returns
    -------
    Path
        The report written.

    Raises
    ------
    InputDataError
        If fewer than 2 or more than 6 folders are given, a folder is not a run, or the
        runs are of different regions.
    OutputError
        If ``out`` cannot be written.
    """
    if not MIN_RUNS <= len(folders) <= MAX_RUNS:
        raise InputDataError(
            f"compare: give {MIN_RUNS} to {MAX_RUNS} run folders, got {len(folders)}"
        )
    out = Path(out)
    if out.is_dir():
        raise OutputError(f"{out}: is a folder; give the report file name, e.g. report.html")
    if out.exists() and not force:
        raise OutputError(f"{out}: file exists (use --force to replace it)")
    runs = [load_run(folder) for folder in folders]
    return write_report(runs, out, title=title, force=force)


def write_plan_report(
    plan: Plan,
    path: str | Path,
    *,
    config: RegionConfig | None = None,
    folder: str | Path | None = None,
) -> Path:
    """Write the single-run report of a plan (what ``solve`` puts in its run folder).

    Parameters
    ----------
    plan
        The plan.
    path
        The HTML file to write.
    config
        The effective config, shown in the run settings.
    folder
        The run folder's final location, shown in the report (the file itself may be
        written into a temporary folder first).

    Returns
    -------
    Path
        The file written.
    """
    config_text = None
    if config is not None:
        config_text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False,
                                     allow_unicode=True)
    run = RunResult(plan=plan, folder=Path(folder) if folder is not None else None,
                    config_text=config_text)
    return write_report([run], path)
