"""Inline SVG of the report: coverage map panels and the access-distance chart.

The only report module that imports matplotlib.
"""

from __future__ import annotations

import html
import io
import itertools
import math
import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from rural_logistics.maps import (
    DEFAULT_ACCESS_BANDS_MIN,
    draw_plan,
    font_context,
    station_areas,
)
from rural_logistics.report.kpis import assigned_mask, count_text, fmt, fmt_int
from rural_logistics.report.runs import RunResult
from rural_logistics.summary import SweepSummary

#: Line colours of the scenarios in charts and headers (distinct from the access bands).
SCENARIO_COLORS: tuple[str, ...] = (
    "#1f4e9c", "#d95f02", "#7b3294", "#1b9e77", "#c51b7d", "#525252",
)
_MAP_WIDTH_IN = 7.0
_DISTANCE_BINS_KM: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0, 5.0, 10.0)


def _svg_style() -> AbstractContextManager[None]:
    """matplotlib settings of every inline SVG: text as paths, stable ids."""
    return font_context(rc={"svg.fonttype": "path", "svg.hashsalt": "rural-logistics",
                            "font.size": 9.0})


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


def map_panel(
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
                f"population: {fmt_int(row.get('population'))}",
                (f"access: {fmt(row.get('access_km'), 2)} km, "
                 f"{fmt(row.get('access_min'), 1)} min to station {station}")
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
        areas = station_areas(parcels, size_max)
        for (x, y), area, (_, row) in zip(pos, areas, s.iterrows(), strict=True):
            lines = [
                f"station {row.get('station_id')}: {row.get('name') or row.get('site_id')}",
                f"township: {row.get('township') or '—'}",
                f"villages served: {fmt_int(row.get('villages'))}, "
                f"population {fmt_int(row.get('population'))}",
                f"parcels/day: {fmt(row.get('parcels_per_day'), 0)}",
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
    return f"{s.get('scenario')}, {count_text(s.get('stations_open'), 'station')}"


def distribution_chart(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
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
            ok = assigned_mask(v) & np.isfinite(km)
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


def station_size_max(runs: Sequence[RunResult]) -> float:
    top = 0.0
    for run in runs:
        s = run.plan.stations
        if len(s) and "parcels_per_day" in s.columns:
            p = pd.to_numeric(s["parcels_per_day"], errors="coerce").to_numpy(dtype=float)
            p = p[np.isfinite(p)]
            if p.size:
                top = max(top, float(p.max()))
    return top


#: Colours of the radii in a sweep's curves.
RADIUS_COLORS = SCENARIO_COLORS


def sweep_chart(summary: SweepSummary) -> str:
    """A sweep's trade-off curves as inline SVG: coverage against the number of stations
    (the plans, and the maximal-coverage frontier dashed), and cost per day against it
    (mean access distance when no cost is known). Every swept number of stations has a
    vertical marker (``<g class="rl-kline" data-k="K">``), hidden until the page shows
    the chosen one."""
    rows = summary["rows"]
    radii = summary["radii_km"]
    has_cost = any(r["cost_per_day"] is not None for r in rows)
    with _svg_style():
        fig = Figure(figsize=(11.0, 3.9), dpi=72,
                     layout=ConstrainedLayoutEngine(w_pad=0.1, h_pad=0.08, wspace=0.08))
        ax_cov, ax_cost = fig.subplots(1, 2)
        for i, radius in enumerate(radii):
            color = RADIUS_COLORS[i % len(RADIUS_COLORS)]
            mine = [r for r in rows if r["radius_km"] == radius]
            k = [r["stations"] for r in mine]
            ax_cov.plot(k, [100 * r["population_within_radius_share"] for r in mine],
                        color=color, marker="o", markersize=3.5, linewidth=2.0,
                        label=f"plans ({summary['method'].replace('_', '-')}), {radius:g} km")
            ax_cov.plot(k, [100 * r["best_within_radius_share"] for r in mine], color=color,
                        linestyle="--", linewidth=1.2,
                        label=f"best possible (max. coverage), {radius:g} km")
            curve = next((c for c in summary["curves"] if c["radius_km"] == radius), None)
            if curve is not None and curve["knee_stations"] is not None:
                at = next(r for r in mine if r["stations"] == curve["knee_stations"])
                ax_cov.plot([at["stations"]], [100 * at["population_within_radius_share"]],
                            marker="D", markersize=8, color=color, markerfacecolor="white",
                            markeredgewidth=2.0, linestyle="none",
                            label=f"knee: {at['stations']} stations")
            if i == 0 or has_cost:
                y = [r["cost_per_day"] if has_cost else r["mean_access_km"] for r in mine]
                ax_cost.plot(k, [np.nan if v is None else v for v in y], color=color,
                             marker="o", markersize=3.5, linewidth=2.0,
                             label=f"{radius:g} km" if has_cost else None)
        for target in summary["targets"]:
            ax_cov.axhline(100 * target["coverage"], color="#b3261e", linestyle=":",
                           linewidth=1.2)
            if target["stations"] is not None:
                ax_cov.plot([target["stations"]], [100 * (target["best_share"] or 0)],
                            marker="*", markersize=12, color="#b3261e", linestyle="none",
                            label=f"target {100 * target['coverage']:g} % within "
                            f"{target['radius_km']:g} km: {target['stations']} stations")
        swept = sorted({r["stations"] for r in rows})
        for axis, name in ((ax_cov, "a"), (ax_cost, "b")):
            for k_value in swept:
                line = axis.axvline(k_value, color="#212121", linewidth=1.4, alpha=0.55)
                line.set_gid(f"rl-kline-{k_value}-{name}")
            axis.set_xlabel("stations")
            axis.grid(True, color="#e0e0e0", linewidth=0.6)
            axis.spines[["top", "right"]].set_visible(False)
        ax_cov.set_ylim(0, 101)
        ax_cov.set_ylabel("people within the radius of a station, %")
        ax_cov.set_title("Coverage against the number of stations", fontsize=10)
        ax_cov.legend(loc="lower right", fontsize=7.5, frameon=True)
        if has_cost:
            ax_cost.set_ylabel("cost per day, all costs")
            ax_cost.set_title("Cost per day (stations, vehicles, km)", fontsize=10)
            if len(radii) > 1:
                ax_cost.legend(loc="upper left", fontsize=7.5)
        else:
            ax_cost.set_ylabel("mean access distance, km (population-weighted)")
            ax_cost.set_title("Mean access distance (no cost known: placement only)",
                              fontsize=10)
    svg = _svg_text(fig)
    svg = re.sub(r'<g id="rl-kline-(\d+)-(\w)"',
                 r'<g id="rl-kline-\1-\2" class="rl-kline" data-k="\1"', svg)
    svg = _open_svg_tag(svg, css_class="rl-chart-svg",
                        label="Coverage and cost against the number of stations")
    return _prefix_ids(svg, "curves-")


#: A group of an inline map this long or longer is shared between maps when identical.
_SHARE_MIN_CHARS = 1500


def _group_end(svg: str, start: int) -> int:
    """End (exclusive) of the ``<g …>…</g>`` element that starts at ``start``."""
    depth = 0
    for m in re.finditer(r"<g[\s>/][^>]*>|</g>", svg[start:]):
        tag = m.group(0)
        if tag == "</g>":
            depth -= 1
        elif not tag.endswith("/>"):
            depth += 1
        if depth == 0:
            return start + m.end()
    raise ValueError("unbalanced <g> in map SVG")


def share_map_layers(svgs: Sequence[str], *, prefix: str = "shared-") -> tuple[str, list[str]]:
    """Draw layers that several maps of one extent hold identically only once.

    Maps drawn by :func:`map_panel` with the same extent and size repeat the township
    boundaries, their names (text drawn as paths, the largest part of a map) and the
    depot; the groups of map ``i`` (ids ``m{i}-…``) that equal map 0's are moved into one
    hidden ``<svg>`` of definitions and replaced by ``<use>`` in every map.

    Returns
    -------
    defs, maps
        The ``<svg>`` holding the shared groups (to be placed in the page once) and the
        maps with ``<use>`` in their place.
    """
    if len(svgs) < 2:
        return "", list(svgs)
    first = svgs[0]
    candidates: dict[str, str] = {}
    for m in re.finditer(r'<g id="m0-([^"]+)"', first):
        end = _group_end(first, m.start())
        body = first[m.start():end]
        plan_layers = ("rl-villages", "rl-stations", "rl-routes")
        if (end - m.start() >= _SHARE_MIN_CHARS and not any(c in body for c in plan_layers)
                and not m.group(1).startswith("axes_")):
            candidates[m.group(1)] = body
    shared: dict[str, str] = {}
    out = []
    for i, svg in enumerate(svgs):
        for name, body in candidates.items():
            head = f'<g id="m{i}-{name}"'
            start = svg.find(head)
            if start < 0:
                continue
            end = _group_end(svg, start)
            if svg[start:end].replace(f"m{i}-", "m0-") != body:
                continue
            shared[name] = body
            css = re.search(r'class="([^"]*)"', body[: body.index(">")])
            cls = f' class="{css.group(1)}"' if css else ""
            svg = svg[:start] + f'<use href="#{prefix}{name}"{cls}/>' + svg[end:]
        out.append(svg)
    defs = "".join(
        body.replace(f'<g id="m0-{name}"', f'<g id="{prefix}{name}"', 1)
        for name, body in shared.items()
    )
    return (f'<svg class="rl-shared" width="0" height="0" aria-hidden="true" '
            f'style="position:absolute"><defs>{defs}</defs></svg>'), out
