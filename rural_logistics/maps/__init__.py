"""Static maps of a plan: villages by access time, stations, depots and van routes.

Everything here uses matplotlib's object-oriented API (:class:`~matplotlib.figure.Figure`
with an Agg canvas), so importing this module never selects a backend or touches pyplot's
global state. :func:`draw_plan` draws one panel on any :class:`~matplotlib.axes.Axes`, so
several scenarios can be compared side by side; pass them one common extent from
:func:`map_extent` and the same ``access_bands_min`` and ``station_size_max`` so that
positions, colours and marker sizes mean the same thing in every panel. Band colours depend
only on the band edges (:func:`access_band_colors`), never on the data.

Coordinates are the plan's projected CRS, in metres.

Names in Chinese (or Japanese, Korean) are drawn with Noto Sans CJK SC, which the install
brings (the ``noto-cjk-sans-otc`` package, SIL Open Font License); without it, with an
installed CJK font (``fc-list :lang=zh``); with none, one warning says that CJK names are
drawn as boxes (see :func:`cjk_font`). Latin text stays in DejaVu Sans.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D

from rural_logistics.maps.fonts import (
    TITLE_WIDTH,
    cjk_font,
    font_context,
    has_cjk,
    wrap_title,
)
from rural_logistics.plan import Plan
from rural_logistics.summary import Summary
from rural_logistics.text import plural

__all__ = [
    "TITLE_WIDTH",
    "access_band_colors",
    "access_band_index",
    "access_band_labels",
    "cjk_font",
    "draw_plan",
    "font_context",
    "has_cjk",
    "map_extent",
    "wrap_title",
    "write_map_png",
]

DEFAULT_ACCESS_BANDS_MIN: tuple[float, ...] = (0, 10, 20, 30, 45, 60)

# Sequential green → yellow → red; a saturated yellow so mid bands stay visible on white.
_ACCESS_CMAP = LinearSegmentedColormap.from_list(
    "rural_access", ["#1a9850", "#91cf60", "#f0c419", "#f46d43", "#b2182b"]
)
# Qualitative route palette (Okabe–Ito-like, without the blue used for stations).
ROUTE_COLORS: tuple[str, ...] = (
    "#e69f00",  # orange
    "#56b4e9",  # sky blue
    "#009e73",  # bluish green
    "#cc79a7",  # reddish purple
    "#d55e00",  # vermillion
    "#7b6fd0",  # violet
    "#8c6d31",  # brown
    "#17becf",  # cyan
    "#999999",  # grey
    "#bcbd22",  # olive
)
STATION_COLOR = "#1f3f8f"
DEPOT_COLOR = "#6a1b9a"
UNASSIGNED_COLOR = "#111111"
NO_ACCESS_COLOR = "#bdbdbd"
#: Stations and villages whose parcels are not (fully) delivered: a red ring.
UNSERVED_COLOR = "#d32f2f"
TOWNSHIP_COLOR = "#9e9e9e"

_VILLAGE_AREA = 28.0  # marker area, pt²
_STATION_MAX_AREA = 380.0  # marker area of the largest station, pt²
_STATION_MIN_AREA = 16.0
_DEPOT_AREA = 520.0
_MAX_ROUTES_IN_LEGEND = 10
_FIG_WIDTH_IN = 11.0
_SUBTITLE_WIDTH = 100
_FIG_MIN_HEIGHT_IN = 7.0
_FIG_MAX_HEIGHT_IN = 10.0
_MAX_STATION_LABELS = 80


# --------------------------------------------------------------------------- bands


def _check_bands(access_bands_min: Sequence[float] | np.ndarray) -> np.ndarray:
    edges = np.asarray(list(access_bands_min), dtype=float)
    if edges.ndim != 1 or edges.size == 0:
        raise ValueError("access_bands_min: need at least one band edge")
    if not np.all(np.isfinite(edges)):
        raise ValueError("access_bands_min: band edges must be finite")
    if np.any(np.diff(edges) <= 0):
        raise ValueError("access_bands_min: band edges must be strictly increasing")
    return edges


def access_band_colors(
    access_bands_min: Sequence[float] | np.ndarray = DEFAULT_ACCESS_BANDS_MIN,
) -> list[str]:
    """Colours of the access-time bands, green (short) to red (long).

    Parameters
    ----------
    access_bands_min
        Increasing band edges in minutes. Band ``i`` is ``[edges[i], edges[i + 1])``; the
        last band, ``≥ edges[-1]``, is open-ended, so there are ``len(edges)`` bands.

    Returns
    -------
    list of str
        One hex colour per band. The colours depend only on the number of bands, never on
        the data, so panels drawn with the same edges share one colour scale.
    """
    edges = _check_bands(access_bands_min)
    positions = np.linspace(0.0, 1.0, edges.size) if edges.size > 1 else np.array([0.0])
    return [to_hex(_ACCESS_CMAP(float(p))) for p in positions]


def access_band_index(
    values: Sequence[float] | np.ndarray | pd.Series,
    access_bands_min: Sequence[float] | np.ndarray = DEFAULT_ACCESS_BANDS_MIN,
) -> np.ndarray:
    """Band number of each access time.

    Parameters
    ----------
    values
        Access times in minutes.
    access_bands_min
        Increasing band edges in minutes (see :func:`access_band_colors`).

    Returns
    -------
    numpy.ndarray of int
        Band index per value: values below the first edge fall into band 0, values at or
        above the last edge into the last band, and missing (NaN) values get ``-1``.
    """
    edges = _check_bands(access_bands_min)
    v = np.asarray(pd.to_numeric(pd.Series(np.asarray(values, dtype=object).ravel()),
                                 errors="coerce"), dtype=float)
    idx = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, edges.size - 1)
    return np.where(np.isnan(v), -1, idx).astype(int)


def access_band_labels(
    access_bands_min: Sequence[float] | np.ndarray = DEFAULT_ACCESS_BANDS_MIN,
) -> list[str]:
    """Legend labels of the access-time bands, e.g. ``"10–20 min"`` and ``"≥ 60 min"``.

    Parameters
    ----------
    access_bands_min
        Increasing band edges in minutes (see :func:`access_band_colors`).

    Returns
    -------
    list of str
        One label per band.
    """
    edges = _check_bands(access_bands_min)
    labels = [f"{a:g}–{b:g} min" for a, b in itertools.pairwise(edges)]
    labels.append(f"≥ {edges[-1]:g} min")
    return labels


# --------------------------------------------------------------------------- extent


def _present(layer: gpd.GeoDataFrame | None) -> gpd.GeoSeries:
    """The non-missing, non-empty geometries of a layer (possibly none)."""
    if layer is None or len(layer) == 0 or layer.geometry is None:
        return gpd.GeoSeries([], dtype="geometry")
    geoms = layer.geometry
    return geoms[geoms.notna() & ~geoms.is_empty]


def _plan_layers(plan: Plan) -> list[gpd.GeoDataFrame | None]:
    return [plan.villages, plan.stations, plan.depots, plan.routes, plan.townships]


def map_extent(*plans: Plan, pad_frac: float = 0.03) -> tuple[float, float, float, float]:
    """Common map extent of all layers of one or more plans.

    Parameters
    ----------
    *plans
        The plans to cover (villages, stations, depots, routes and townships).
    pad_frac
        Margin on each side as a share of the extent's width (x) or height (y). A
        degenerate dimension (all features on one line) borrows the other's span; a
        single point gets a 1 km span.

    Returns
    -------
    tuple of float
        ``(xmin, xmax, ymin, ymax)`` in the plans' CRS, ready for
        ``ax.set_xlim(xmin, xmax)`` / ``ax.set_ylim(ymin, ymax)``.

    Raises
    ------
    ValueError
        If no plan is given or the plans have no geometry at all.
    """
    if not plans:
        raise ValueError("map_extent: need at least one plan")
    if pad_frac < 0:
        raise ValueError("map_extent: pad_frac must not be negative")
    bounds = [
        _present(layer).total_bounds
        for plan in plans
        for layer in _plan_layers(plan)
        if len(_present(layer))
    ]
    if not bounds:
        raise ValueError("map_extent: the plans have no geometry")
    b = np.vstack(bounds)
    xmin, ymin = float(b[:, 0].min()), float(b[:, 1].min())
    xmax, ymax = float(b[:, 2].max()), float(b[:, 3].max())
    width, height = xmax - xmin, ymax - ymin
    if width <= 0 and height <= 0:
        width = height = 1000.0
        xmin, xmax = xmin - 500.0, xmax + 500.0
        ymin, ymax = ymin - 500.0, ymax + 500.0
    elif width <= 0:
        xmin, xmax, width = xmin - height / 2, xmax + height / 2, height
    elif height <= 0:
        ymin, ymax, height = ymin - width / 2, ymax + width / 2, width
    return (
        xmin - pad_frac * width,
        xmax + pad_frac * width,
        ymin - pad_frac * height,
        ymax + pad_frac * height,
    )


# --------------------------------------------------------------------------- helpers


def _line_parts(geoms: Iterable[Any]) -> list[np.ndarray]:
    """Coordinate arrays of every line part of (multi)line or polygon-boundary geometries."""
    parts: list[np.ndarray] = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type in ("Polygon", "MultiPolygon"):
            geom = geom.boundary
        for part in shapely.get_parts(geom):
            if part.geom_type in ("LineString", "LinearRing"):
                coords = shapely.get_coordinates(part)
                if len(coords) >= 2:
                    parts.append(coords)
            elif part.geom_type in ("MultiLineString", "GeometryCollection"):
                parts.extend(_line_parts(shapely.get_parts(part)))
    return parts


def _xy(geoms: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """x and y of point geometries (representative point for anything else)."""
    if len(geoms) == 0:
        return np.empty(0), np.empty(0)
    pts = [g if g.geom_type == "Point" else g.representative_point() for g in geoms]
    coords = shapely.get_coordinates(np.asarray(pts, dtype=object))
    return coords[:, 0], coords[:, 1]


def _nice_floor(value: float) -> float:
    """Largest number of the form {1, 2, 5} × 10^k not above ``value`` (> 0)."""
    if not value > 0 or not math.isfinite(value):
        return 0.0
    exp = math.floor(math.log10(value))
    for m in (5.0, 2.0, 1.0):
        candidate = m * 10.0**exp
        if candidate <= value * (1 + 1e-9):
            return candidate
    return 10.0 ** (exp - 1) * 5.0


def _format_length(metres: float) -> str:
    return f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"


def station_areas(parcels: np.ndarray, size_max: float) -> np.ndarray:
    """Marker areas (pt²) proportional to parcels, i.e. side length ∝ √parcels."""
    p = np.nan_to_num(np.asarray(parcels, dtype=float), nan=0.0).clip(min=0.0)
    if size_max <= 0:
        return np.full(p.shape, _STATION_MAX_AREA / 2)
    return np.maximum(_STATION_MAX_AREA * p / size_max, _STATION_MIN_AREA)


def size_reference_values(size_max: float) -> list[float]:
    """Two or three round parcel counts for the station size legend."""
    top = _nice_floor(size_max)
    if top <= 0:
        return []
    values = [top, _nice_floor(top / 2), _nice_floor(top / 5)]
    out: list[float] = []
    for v in values:
        if v > 0 and v not in out and _STATION_MAX_AREA * v / size_max >= _STATION_MIN_AREA:
            out.append(v)
    return out


def _missing_station(villages: gpd.GeoDataFrame) -> np.ndarray:
    if "station_id" not in villages.columns:
        return np.zeros(len(villages), dtype=bool)
    sid = villages["station_id"]
    return np.asarray(sid.isna() | (sid.astype(str).str.strip() == ""), dtype=bool)


_HALO = [patheffects.withStroke(linewidth=2.5, foreground="white", alpha=0.85)]


def _draw_scale_bar(ax: Axes, extent: tuple[float, float, float, float]) -> None:
    """A two-segment black/white scale bar ≈ 1/5 of the map width, lower left."""
    xmin, xmax, ymin, ymax = extent
    width, height = xmax - xmin, ymax - ymin
    length = _nice_floor(width / 5)
    if length <= 0:
        return
    x0 = xmin + 0.04 * width
    y0 = ymin + 0.05 * height
    half = length / 2
    common: dict[str, Any] = {"solid_capstyle": "butt", "zorder": 20, "clip_on": False}
    ax.plot([x0, x0 + length], [y0, y0], color="black", linewidth=6.5, **common)
    ax.plot([x0, x0 + half], [y0, y0], color="black", linewidth=4.5, **common)
    ax.plot([x0 + half, x0 + length], [y0, y0], color="white", linewidth=4.5, **common)
    text_kw: dict[str, Any] = {
        "ha": "center", "va": "bottom", "fontsize": 8, "zorder": 21,
        "path_effects": _HALO,
    }
    scale = 1000.0 if length >= 1000 else 1.0
    for x, label in ((x0, "0"), (x0 + half, f"{half / scale:g}"),
                     (x0 + length, _format_length(length))):
        ax.annotate(label, (x, y0), xytext=(0, 5), textcoords="offset points", **text_kw)


def _draw_north_arrow(ax: Axes) -> None:
    """A small north arrow in the upper-right corner (grid north of the projected CRS)."""
    ax.annotate(
        "",
        xy=(0.965, 0.975),
        xytext=(0.965, 0.905),
        xycoords="axes fraction",
        arrowprops={"facecolor": "black", "edgecolor": "white", "linewidth": 0.6,
                    "width": 3.0, "headwidth": 10.0, "headlength": 11.0},
        zorder=20,
    )
    ax.text(0.965, 0.895, "N", transform=ax.transAxes, ha="center", va="top",
            fontsize=10, fontweight="bold", zorder=20, path_effects=_HALO)


def _draw_offroad_legs(ax: Axes, plan: Plan) -> None:
    """Dashed lines from stations far from a road (``offroad_legs`` in the plan summary) to
    the road where vans stop: the last stretch no route drives."""
    legs = (plan.summary or {}).get("offroad_legs")
    if not isinstance(legs, list) or not legs:
        return
    segments = [np.array([leg["station_xy"], leg["road_xy"]], dtype=float) for leg in legs
                if isinstance(leg, dict) and "station_xy" in leg and "road_xy" in leg]
    if segments:
        ax.add_collection(LineCollection(segments, colors=STATION_COLOR, linewidths=1.2,
                                         linestyles=(0, (3, 2)), zorder=4.8))


def _header(label: str) -> tuple[Line2D, str]:
    return Line2D([], [], linestyle="none", marker="none"), label


# --------------------------------------------------------------------------- drawing


def draw_plan(
    ax: Axes,
    plan: Plan,
    *,
    extent: tuple[float, float, float, float] | None = None,
    access_bands_min: Sequence[float] = DEFAULT_ACCESS_BANDS_MIN,
    legend: bool = True,
    title: str | None = None,
    station_size_max: float | None = None,
    station_labels: bool = False,
) -> None:
    """Draw one map panel of a plan.

    Townships (thin grey outlines, names at representative points), routes (one colour
    each, following the roads), villages (dots coloured by access-time band; unassigned
    villages as black ×), stations (blue squares, area ∝ parcels per day), depots (stars),
    a legend outside the right edge of the axes, a km scale bar and a north arrow.

    Parameters
    ----------
    ax
        The axes to draw on; its ticks are hidden and its aspect set equal.
    plan
        The plan to draw.
    extent
        ``(xmin, xmax, ymin, ymax)`` in the plan's CRS; default :func:`map_extent` of the
        plan. Pass a common extent to compare panels.
    access_bands_min
        Increasing band edges in minutes; the last band is open-ended.
    legend
        Draw the legend (outside the axes, to the right). In a row of panels, draw it on
        the right-most panel only.
    title
        Axes title.
    station_size_max
        Parcels per day drawn with the largest station marker; default the plan's busiest
        station. Pass one value for all panels of a comparison.
    station_labels
        Write each station's name beside it (up to 80 stations).
    """
    edges = _check_bands(access_bands_min)
    colors = access_band_colors(edges)
    if extent is None:
        try:
            extent = map_extent(plan)
        except ValueError:
            extent = (0.0, 1000.0, 0.0, 1000.0)
            ax.text(0.5, 0.5, "nothing to draw", transform=ax.transAxes, ha="center",
                    va="center", color="grey")
    xmin, xmax, ymin, ymax = (float(v) for v in extent)
    if not (xmax > xmin and ymax > ymin):
        raise ValueError(f"draw_plan: invalid extent {extent!r}")
    has_townships = _draw_townships(ax, plan.townships)
    route_handles = _draw_routes(ax, plan.routes)
    short = unserved_station_ids(plan.stations, plan.summary)
    no_access = _draw_villages(ax, plan.villages, edges, colors)
    _draw_unserved_villages(ax, plan.villages, short)
    _draw_offroad_legs(ax, plan)
    size_max = _draw_stations(ax, plan.stations, station_size_max, labels=station_labels)
    _draw_unserved_stations(ax, plan.stations, short)
    _draw_depots(ax, plan.depots)
    _draw_frame(ax, (xmin, xmax, ymin, ymax), title)
    if legend:
        _draw_legend(ax, edges, colors, no_access=no_access, size_max=size_max,
                     route_handles=route_handles, has_townships=has_townships,
                     unserved=bool(short))


def unserved_station_ids(
    stations: gpd.GeoDataFrame, summary: Summary | dict[str, Any] | None = None
) -> set[str]:
    """Stations not (fully) served: those the summary's ``diagnosis`` lists when there is
    one (in a peak week the parcels still within their promise at the end are backlog,
    not unserved), else those whose ``delivered_parcels_per_day`` is below
    ``parcels_per_day`` by half a parcel or more."""
    rows = (summary or {}).get("diagnosis")
    if isinstance(rows, list):
        return {str(r["station_id"]) for r in rows if isinstance(r, dict)}
    if not {"station_id", "parcels_per_day", "delivered_parcels_per_day"} <= set(
        stations.columns
    ):
        return set()
    need = pd.to_numeric(stations["parcels_per_day"], errors="coerce").to_numpy(dtype=float)
    got = pd.to_numeric(stations["delivered_parcels_per_day"], errors="coerce").to_numpy(
        dtype=float
    )
    short = np.isfinite(need) & np.isfinite(got) & (got < need - 0.5)
    return {str(x) for x in stations.loc[short, "station_id"]}


def _draw_unserved_villages(ax: Axes, villages: gpd.GeoDataFrame, short: set[str]) -> None:
    """A red ring around each village whose station is not fully served."""
    if not short or "station_id" not in villages.columns:
        return
    geoms = _present(villages)
    hit = villages.loc[geoms.index, "station_id"].astype(str).isin(short).to_numpy()
    if hit.any():
        vx, vy = _xy(geoms)
        ax.scatter(vx[hit], vy[hit], s=_VILLAGE_AREA * 3.2, facecolors="none",
                   edgecolors=UNSERVED_COLOR, linewidths=1.3, zorder=4.6)


def _draw_unserved_stations(ax: Axes, stations: gpd.GeoDataFrame, short: set[str]) -> None:
    """A red outline and cross over each station not fully served."""
    if not short:
        return
    geoms = _present(stations)
    hit = stations.loc[geoms.index, "station_id"].astype(str).isin(short).to_numpy()
    if hit.any():
        sx, sy = _xy(geoms)
        ax.scatter(sx[hit], sy[hit], s=150, marker="s", facecolors="none",
                   edgecolors=UNSERVED_COLOR, linewidths=2.2, zorder=5.5)
        ax.scatter(sx[hit], sy[hit], s=60, marker="x", c=UNSERVED_COLOR, linewidths=1.8,
                   zorder=5.6)


def _draw_townships(ax: Axes, townships: gpd.GeoDataFrame | None) -> bool:
    """Thin grey outlines and names; whether there were any."""
    if townships is None or not len(_present(townships)):
        return False
    geoms = _present(townships)
    ax.add_collection(LineCollection(
        _line_parts(geoms), colors=TOWNSHIP_COLOR, linewidths=0.7, zorder=1,
    ))
    if "name" in townships.columns:
        names = townships.loc[geoms.index, "name"]
        for geom, name in zip(geoms, names, strict=True):
            if name is None or (isinstance(name, float) and math.isnan(name)):
                continue
            pt = geom.representative_point()
            ax.text(pt.x, pt.y, str(name), ha="center", va="center", fontsize=9,
                    fontstyle="italic", color="#616161", zorder=3, clip_on=True,
                    path_effects=_HALO)
    return True


def _draw_routes(ax: Axes, routes: gpd.GeoDataFrame) -> list[tuple[Line2D, str]]:
    """One colour per vehicle route (all its trips: rows with one ``route_id`` and
    ``day``), wider first so shared roads show stacked colours; one legend entry each."""
    route_geoms = _present(routes)
    keys = [
        (str(routes.at[idx, "route_id"]), routes.at[idx, "day"] if "day" in routes.columns
         else 0) if "route_id" in routes.columns else (f"route {k + 1}", 0)
        for k, idx in enumerate(route_geoms.index)
    ]
    order = list(dict.fromkeys(keys))
    n_routes = len(order)
    groups: dict[tuple[str, object], list[int]] = {key: [] for key in order}
    for idx, key in zip(route_geoms.index, keys, strict=True):
        groups[key].append(idx)
    route_handles: list[tuple[Line2D, str]] = []
    for k, key in enumerate(order):
        rows = routes.loc[groups[key]]
        trunk = bool((rows.get("tier") == "trunk").any()) if "tier" in rows.columns else False
        color = "#212121" if trunk else ROUTE_COLORS[k % len(ROUTE_COLORS)]
        lw = 4.2 - 2.6 * k / max(n_routes - 1, 1) if n_routes > 1 else 2.6
        ax.add_collection(LineCollection(
            _line_parts(list(route_geoms.loc[groups[key]])), colors=color, linewidths=lw,
            alpha=0.95, zorder=2, capstyle="round", joinstyle="round",
            linestyles="dashed" if trunk else "solid",
        ))
        name = f"{key[0]} (trunk)" if trunk else key[0]
        km = (pd.to_numeric(rows["route_km"], errors="coerce") if "route_km" in rows.columns
              else None)
        total = float(km.sum()) if km is not None and km.notna().any() else None
        label = f"{name} · {total:.1f} km" if total is not None else name
        handle = Line2D([], [], color=color, linewidth=2.6, linestyle="--" if trunk else "-")
        route_handles.append((handle, label))
    return route_handles


def _draw_villages(
    ax: Axes, villages: gpd.GeoDataFrame, edges: np.ndarray, colors: list[str]
) -> bool:
    """Dots by access band, unassigned villages as ×; whether some have no access time."""
    v_geoms = _present(villages)
    if not len(v_geoms):
        return False
    vx, vy = _xy(v_geoms)
    unassigned = _missing_station(villages.loc[v_geoms.index])
    access = (villages.loc[v_geoms.index, "access_min"]
              if "access_min" in villages.columns else pd.Series(np.nan, index=v_geoms.index))
    band = access_band_index(access.to_numpy(), edges)
    face = np.array([colors[b] if b >= 0 else NO_ACCESS_COLOR for b in band], dtype=object)
    ok = ~unassigned
    if ok.any():
        ax.scatter(vx[ok], vy[ok], s=_VILLAGE_AREA, c=list(face[ok]), edgecolors="#424242",
                   linewidths=0.4, zorder=4)
    if unassigned.any():
        ax.scatter(vx[unassigned], vy[unassigned], s=_VILLAGE_AREA * 1.6, marker="x",
                   c=UNASSIGNED_COLOR, linewidths=1.4, zorder=4.5)
    return bool((ok & (band < 0)).any())


def _draw_stations(
    ax: Axes, stations: gpd.GeoDataFrame, station_size_max: float | None, *, labels: bool
) -> float:
    """Squares, area ∝ parcels per day (and their names with ``labels``, up to
    :data:`_MAX_STATION_LABELS` stations); the parcels drawn with the largest marker."""
    s_geoms = _present(stations)
    if "parcels_per_day" in stations.columns and len(s_geoms):
        parcels = pd.to_numeric(stations.loc[s_geoms.index, "parcels_per_day"],
                                errors="coerce").to_numpy(dtype=float)
    else:
        parcels = np.full(len(s_geoms), np.nan)
    if station_size_max is None:
        finite = parcels[np.isfinite(parcels)]
        size_max = float(finite.max()) if finite.size else 0.0
    else:
        size_max = float(station_size_max)
    if len(s_geoms):
        sx, sy = _xy(s_geoms)
        areas = station_areas(parcels, size_max)
        order = np.argsort(-areas, kind="stable")  # big ones first, small ones on top
        ax.scatter(sx[order], sy[order], s=areas[order], marker="s", c=STATION_COLOR,
                   edgecolors="white", linewidths=1.2, zorder=5)
        if labels and "name" in stations.columns and len(s_geoms) <= _MAX_STATION_LABELS:
            for x, y, name in zip(sx, sy, stations.loc[s_geoms.index, "name"], strict=True):
                if isinstance(name, str) and name:
                    ax.annotate(name, (x, y), xytext=(5, 4), textcoords="offset points",
                                ha="left", va="bottom", fontsize=6.5, color=STATION_COLOR,
                                zorder=6.5, annotation_clip=True, path_effects=_HALO)
    return size_max


def _draw_depots(ax: Axes, depots: gpd.GeoDataFrame) -> None:
    """Large stars with their names."""
    d_geoms = _present(depots)
    if not len(d_geoms):
        return
    dx, dy = _xy(d_geoms)
    ax.scatter(dx, dy, s=_DEPOT_AREA, marker="*", c=DEPOT_COLOR, edgecolors="white",
               linewidths=1.2, zorder=6)
    if "name" in depots.columns:
        for x, y, name in zip(dx, dy, depots.loc[d_geoms.index, "name"], strict=True):
            if isinstance(name, str) and name:
                ax.annotate(name, (x, y), xytext=(9, -3), textcoords="offset points",
                            ha="left", va="top", fontsize=8.5, fontweight="bold",
                            color=DEPOT_COLOR, zorder=7, annotation_clip=True,
                            path_effects=_HALO)


def _draw_frame(
    ax: Axes, extent: tuple[float, float, float, float], title: str | None
) -> None:
    """Extent, frame, scale bar, north arrow and title."""
    xmin, xmax, ymin, ymax = extent
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("#fbfbf8")
    for spine in ax.spines.values():
        spine.set_edgecolor("#757575")
        spine.set_linewidth(0.8)
    _draw_scale_bar(ax, extent)
    _draw_north_arrow(ax)
    if title:
        ax.set_title(title, fontsize=11)


def _draw_legend(
    ax: Axes,
    edges: np.ndarray,
    colors: list[str],
    *,
    no_access: bool,
    size_max: float,
    route_handles: list[tuple[Line2D, str]],
    has_townships: bool,
    unserved: bool = False,
) -> None:
    """The legend, outside the right edge of the axes; group headers in bold."""
    entries: list[tuple[Line2D, str]] = [_header("Village access time")]
    for color, label in zip(colors, access_band_labels(edges), strict=True):
        entries.append((Line2D([], [], linestyle="none", marker="o", markersize=6,
                               markerfacecolor=color, markeredgecolor="#424242",
                               markeredgewidth=0.4), label))
    if no_access:
        entries.append((Line2D([], [], linestyle="none", marker="o", markersize=6,
                               markerfacecolor=NO_ACCESS_COLOR, markeredgecolor="#424242",
                               markeredgewidth=0.4), "no access time"))
    entries.append((Line2D([], [], linestyle="none", marker="x", markersize=7,
                           color=UNASSIGNED_COLOR, markeredgewidth=1.4), "unassigned"))
    entries.append(_header("Facilities"))
    entries.append((Line2D([], [], linestyle="none", marker="*", markersize=16,
                           markerfacecolor=DEPOT_COLOR, markeredgecolor="white",
                           markeredgewidth=1.0), "depot"))
    ref_values = size_reference_values(size_max)
    if ref_values:
        for v in ref_values:
            area = float(station_areas(np.array([v]), size_max)[0])
            entries.append((Line2D([], [], linestyle="none", marker="s",
                                   markersize=math.sqrt(area), markerfacecolor=STATION_COLOR,
                                   markeredgecolor="white", markeredgewidth=1.0),
                            f"station, {v:g} parcels/day"))
    else:
        entries.append((Line2D([], [], linestyle="none", marker="s", markersize=9,
                               markerfacecolor=STATION_COLOR, markeredgecolor="white"),
                        "station"))
    if unserved:
        entries.append((Line2D([], [], linestyle="none", marker="s", markersize=10,
                               markerfacecolor="none", markeredgecolor=UNSERVED_COLOR,
                               markeredgewidth=2.0), "station not fully served"))
        entries.append((Line2D([], [], linestyle="none", marker="o", markersize=9,
                               markerfacecolor="none", markeredgecolor=UNSERVED_COLOR,
                               markeredgewidth=1.3), "village not fully served"))
    n_routes = len(route_handles)
    if n_routes:
        entries.append(_header(f"Van routes ({n_routes})"))
        if n_routes <= _MAX_ROUTES_IN_LEGEND:
            entries.extend(route_handles)
        else:
            entries.append((Line2D([], [], color=ROUTE_COLORS[0], linewidth=2.6),
                            "one colour per route"))
    if has_townships:
        entries.append((Line2D([], [], color=TOWNSHIP_COLOR, linewidth=0.8),
                        "township boundary"))
    leg = ax.legend(
        [h for h, _ in entries], [lab for _, lab in entries],
        loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
        fontsize=8.5, frameon=True, framealpha=0.9, edgecolor="#bdbdbd", labelspacing=0.7,
        handlelength=2.0, borderpad=0.8,
    )
    headers = {lab for h, lab in entries if h.get_marker() in ("none", "None", None)
               and h.get_linestyle() in ("none", "None", "")}
    for text in leg.get_texts():
        if text.get_text() in headers:
            text.set_fontweight("bold")


def _format_summary(summary: Summary, radius_km: float) -> str:
    """One line of key figures; missing or non-numeric entries are skipped."""

    def num(key: str) -> float | None:
        value = summary.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value) if math.isfinite(value) else None

    parts: list[str] = []
    delivered = num("delivered_share")
    if delivered is not None:
        parts.append(f"{delivered:.1%} of parcels delivered")
    share = num("population_within_radius_share")
    radius = num("radius_km") or radius_km
    if share is not None:
        parts.append(f"{share:.0%} of population within {radius:g} km of a station")
    mean_km, mean_min = num("mean_access_km"), num("mean_access_min")
    if mean_km is not None:
        extra = f" ({mean_min:.0f} min)" if mean_min is not None else ""
        parts.append(f"mean access {mean_km:.1f} km{extra}")
    route_km = num("total_route_km")
    if route_km is not None:
        parts.append(f"{route_km:,.0f} km of routes per day")
    parcels = num("parcels_per_day")
    if parcels is not None:
        parts.append(f"{parcels:,.0f} parcels/day")
    unserved = summary.get("unserved_villages")
    if isinstance(unserved, list | tuple) and unserved:
        parts.append(f"{plural(len(unserved), 'unserved village')}")
    network = summary.get("network")
    if isinstance(network, dict) and network.get("mode", "roads") != "roads":
        parts.append(f"NO ROAD DATA: distances are {network.get('distance_basis')}")
    return _join_lines(parts, width=_SUBTITLE_WIDTH)


def _join_lines(parts: list[str], *, width: int) -> str:
    """Join parts with ``" · "``, breaking lines between parts, not inside them."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return "\n".join(lines)


def plan_texts(plan: Plan) -> list[str]:
    """Every name a map of ``plan`` may draw (for :func:`font_context`)."""
    texts = [plan.region]
    for layer, column in ((plan.townships, "name"), (plan.depots, "name"),
                          (plan.stations, "name")):
        if layer is not None and column in layer.columns:
            texts.extend(str(v) for v in layer[column].dropna())
    return texts


def write_map_png(
    plan: Plan, path: Path | BinaryIO, *, dpi: int = 150, title: str | None = None
) -> None:
    """Draw a plan as a single-panel map and save it as PNG.

    Parameters
    ----------
    plan
        The plan to draw.
    path
        The PNG file to write (overwritten; its folder must exist), or a binary file
        object to write it into.
    dpi
        Resolution. The figure is 11 inches wide and 7–10 inches high, fitted to the
        map's aspect ratio so that little paper is left blank.
    title
        Main title; default ``"<region> — <scenario>: N stations, M routes"``, wrapped to
        :data:`TITLE_WIDTH` columns. A subtitle with key figures from ``plan.summary`` is
        added below it when available. Station, township and depot names are drawn; names
        in Chinese use the CJK font of :func:`cjk_font`.
    """
    if title is None:
        peak = (plan.summary or {}).get("peak")
        days = f" (peak week, {len(peak['days'])} days)" if isinstance(peak, dict) else ""
        week = (plan.summary or {}).get("frequency")
        if isinstance(week, dict):
            days = f" (weekly plan, {week['horizon_days']} days, routes of every day)"
        title = (f"{plan.region} — {plan.scenario}{days}: "
                 f"{plural(len(plan.stations), 'station')}, "
                 f"{plural(len(plan.routes), 'route')}")
    title = wrap_title(title)
    try:
        xmin, xmax, ymin, ymax = map_extent(plan)
        aspect = (ymax - ymin) / (xmax - xmin)
    except ValueError:
        aspect = 1.0
    # The map gets ~8.2 in of width beside the legend; fit the height to it (~9 in).
    height = min(max(8.2 * aspect + 1.1, _FIG_MIN_HEIGHT_IN), _FIG_MAX_HEIGHT_IN)
    height += 0.3 * title.count("\n")
    with font_context(plan_texts(plan)):
        fig = Figure(
            figsize=(_FIG_WIDTH_IN, height),
            layout=ConstrainedLayoutEngine(compress=True, w_pad=0.12, h_pad=0.12),
        )
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        draw_plan(ax, plan, station_labels=True)
        fig.suptitle(title, fontsize=14, fontweight="bold")
        subtitle = _format_summary(plan.summary or {}, plan.radius_km)
        if subtitle:
            ax.set_title(subtitle, fontsize=9.5, color="#424242")
        target = Path(path) if isinstance(path, str | Path) else path
        fig.savefig(target, dpi=dpi, format="png", facecolor="white")
