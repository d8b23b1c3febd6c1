"""QGIS layer styles for ``plan.gpkg``: the colours of ``map.png`` when the GeoPackage is
opened in QGIS.

QGIS reads a layer's default style from the GeoPackage's ``layer_styles`` table (one row
per layer: ``f_table_name``, ``styleQML``, ``useAsDefault``). :func:`layer_styles` gives
those rows; :func:`qml` one style document. Villages are coloured by access time in the
bands of the map (:func:`rural_logistics.maps.access_band_colors`), stations by whether
they are fully served, routes one colour per vehicle route (trunk routes dashed), stops
as small circles, depots as stars, townships as outlines, desire lines (village →
station) as thin lines in the villages' access-time colours.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba

from rural_logistics.maps import (
    DEFAULT_ACCESS_BANDS_MIN,
    DEPOT_COLOR,
    ROUTE_COLORS,
    STATION_COLOR,
    TOWNSHIP_COLOR,
    access_band_colors,
    access_band_labels,
)

#: QGIS version the style documents are written for (read by QGIS 3.x).
QGIS_VERSION = "3.28.0"
UNSERVED_COLOR = "#b2182b"
STOP_COLOR = "#ffffff"
_OUTLINE = "#424242"


def _rgba(color: str) -> str:
    r, g, b, a = (round(255 * c) for c in to_rgba(color))
    return f"{r},{g},{b},{a}"


def _props(values: dict[str, str]) -> str:
    return "".join(f"<prop k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in values.items())


def _marker(name: str, *, color: str, shape: str = "circle", size_mm: float = 2.2) -> str:
    props = {"name": shape, "color": _rgba(color), "outline_color": _rgba(_OUTLINE),
             "outline_width": "0.2", "outline_width_unit": "MM", "size": f"{size_mm:g}",
             "size_unit": "MM"}
    return (f'<symbol type="marker" name={quoteattr(name)} alpha="1" clip_to_extent="1" '
            f'force_rhr="0"><layer class="SimpleMarker" enabled="1" pass="0" locked="0">'
            f"{_props(props)}</layer></symbol>")


def _line(name: str, *, color: str, width_mm: float = 0.8, dashed: bool = False) -> str:
    props = {"line_color": _rgba(color), "line_width": f"{width_mm:g}",
             "line_width_unit": "MM", "line_style": "dash" if dashed else "solid",
             "capstyle": "round", "joinstyle": "round"}
    return (f'<symbol type="line" name={quoteattr(name)} alpha="0.95" clip_to_extent="1" '
            f'force_rhr="0"><layer class="SimpleLine" enabled="1" pass="0" locked="0">'
            f"{_props(props)}</layer></symbol>")


def _outline_fill(name: str, *, color: str) -> str:
    props = {"color": "0,0,0,0", "style": "no", "outline_color": _rgba(color),
             "outline_style": "solid", "outline_width": "0.4", "outline_width_unit": "MM"}
    return (f'<symbol type="fill" name={quoteattr(name)} alpha="1" clip_to_extent="1" '
            f'force_rhr="0"><layer class="SimpleFill" enabled="1" pass="0" locked="0">'
            f"{_props(props)}</layer></symbol>")


def _document(renderer: str) -> str:
    return (f"<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology">{renderer}</qgis>\n')


def _single(symbol: str) -> str:
    return _document(f'<renderer-v2 type="singleSymbol" symbollevels="0" forceraster="0" '
                     f'enableorderby="0"><symbols>{symbol}</symbols></renderer-v2>')


def _categorized(attr: str, categories: Sequence[tuple[str, str, str]]) -> str:
    """``categories``: (value, label, symbol XML named by its position)."""
    cats = "".join(
        f'<category render="true" symbol="{k}" value={quoteattr(value)} '
        f"label={quoteattr(label)}/>"
        for k, (value, label, _) in enumerate(categories)
    )
    symbols = "".join(symbol for _, _, symbol in categories)
    return _document(f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attr)} '
                     f'symbollevels="0" forceraster="0" enableorderby="0">'
                     f"<categories>{cats}</categories><symbols>{symbols}</symbols>"
                     f"</renderer-v2>")


def _graduated(attr: str, edges: Sequence[float], colors: Sequence[str],
               labels: Sequence[str], *, lines: bool = False) -> str:
    """Colour by ``attr`` in the bands starting at ``edges``: markers, or thin lines."""
    bounds = [*edges, max(1e9, float(edges[-1]) * 10)]
    ranges = "".join(
        f'<range render="true" symbol="{k}" lower="{bounds[k]:g}" upper="{bounds[k + 1]:g}" '
        f"label={quoteattr(labels[k])}/>"
        for k in range(len(edges))
    )
    symbols = "".join(
        _line(str(k), color=c, width_mm=0.35) if lines else _marker(str(k), color=c)
        for k, c in enumerate(colors)
    )
    return _document(f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(attr)} '
                     f'graduatedMethod="GraduatedColor" symbollevels="0" forceraster="0" '
                     f'enableorderby="0"><ranges>{ranges}</ranges><symbols>{symbols}'
                     f"</symbols></renderer-v2>")


def _route_style(layer: gpd.GeoDataFrame) -> str:
    ids = list(dict.fromkeys(str(v) for v in layer["route_id"])) if len(layer) else []
    trunk = set()
    if "tier" in layer.columns:
        trunk = {str(r) for r, t in zip(layer["route_id"], layer["tier"], strict=True)
                 if t == "trunk"}
    categories = [
        (rid, f"{rid} (trunk)" if rid in trunk else rid,
         _line(str(k), color="#212121" if rid in trunk else ROUTE_COLORS[k % len(ROUTE_COLORS)],
               dashed=rid in trunk))
        for k, rid in enumerate(ids)
    ]
    if not categories:
        return _single(_line("0", color=ROUTE_COLORS[0]))
    return _categorized("route_id", categories)


def qml(name: str, layer: gpd.GeoDataFrame) -> str | None:
    """The QGIS style of a ``plan.gpkg`` layer (``None`` for a layer without one)."""
    if name == "villages":
        edges = DEFAULT_ACCESS_BANDS_MIN
        return _graduated("access_min", edges, access_band_colors(edges),
                          access_band_labels(edges))
    if name == "stations":
        # An expression, not the boolean field: QGIS compares category values as text.
        return _categorized("if(\"served\", 'served', 'not fully served')", [
            ("served", "served",
             _marker("0", color=STATION_COLOR, shape="square", size_mm=3.2)),
            ("not fully served", "not fully served",
             _marker("1", color=UNSERVED_COLOR, shape="square", size_mm=3.2)),
        ])
    if name == "depots":
        return _single(_marker("0", color=DEPOT_COLOR, shape="star", size_mm=5.0))
    if name in ("routes", "vehicle_day"):
        return _route_style(layer)
    if name == "stops":
        return _single(_marker("0", color=STOP_COLOR, size_mm=1.6))
    if name == "townships":
        return _single(_outline_fill("0", color=TOWNSHIP_COLOR))
    if name == "desire_lines":
        # Thin lines village → station in the villages' access-time colours.
        edges = DEFAULT_ACCESS_BANDS_MIN
        return _graduated("access_min", edges, access_band_colors(edges),
                          access_band_labels(edges), lines=True)
    return None


def layer_styles(layers: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """The ``layer_styles`` table (QGIS's layout) for the given ``plan.gpkg`` layers."""
    rows = []
    now = pd.Timestamp.now(tz="UTC").floor("s")  # QGIS orders a layer's styles by it
    for name, layer in layers.items():
        style = qml(name, layer)
        if style is None:
            continue
        rows.append({
            "f_table_catalog": "", "f_table_schema": "", "f_table_name": name,
            "f_geometry_column": "geom", "styleName": name, "styleQML": style,
            "styleSLD": "", "useAsDefault": True,
            "description": f"rural_logistics style of {name} (colours as map.png)",
            "owner": "", "ui": "", "update_time": now,
        })
    frame = pd.DataFrame(rows, columns=["f_table_catalog", "f_table_schema", "f_table_name",
                                        "f_geometry_column", "styleName", "styleQML",
                                        "styleSLD", "useAsDefault", "description", "owner",
                                        "ui", "update_time"])
    frame["useAsDefault"] = frame["useAsDefault"].astype(np.bool_)
    return frame
