"""HTML fragments of the report: legend, cards, KPI, worst-served, township, settings."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rural_logistics.maps import (
    DEFAULT_ACCESS_BANDS_MIN,
    DEPOT_COLOR,
    ROUTE_COLORS,
    STATION_COLOR,
    TOWNSHIP_COLOR,
    UNASSIGNED_COLOR,
    UNSERVED_COLOR,
    access_band_colors,
    access_band_labels,
    size_reference_values,
    station_areas,
    unserved_station_ids,
)
from rural_logistics.report.kpis import (
    KPIS,
    delivers_all,
    fmt,
    fmt_int,
    number,
    township_table,
    worst_served,
)
from rural_logistics.report.panels import SCENARIO_COLORS
from rural_logistics.report.runs import RunResult, nested_get


def esc(value: Any) -> str:
    return html.escape(str(value))


def legend_html(runs: Sequence[RunResult], size_max: float) -> str:
    items: list[str] = ['<div class="legend-group"><b>Village access time</b>']
    for color, label in zip(access_band_colors(DEFAULT_ACCESS_BANDS_MIN),
                            access_band_labels(DEFAULT_ACCESS_BANDS_MIN), strict=True):
        items.append(
            f'<span class="key"><svg width="12" height="12" aria-hidden="true">'
            f'<circle cx="6" cy="6" r="4.5" fill="{color}" stroke="#424242" '
            f'stroke-width="0.6"/></svg>{esc(label)}</span>'
        )
    items.append(
        f'<span class="key"><svg width="12" height="12" aria-hidden="true"><path '
        f'd="M2 2L10 10M10 2L2 10" stroke="{UNASSIGNED_COLOR}" stroke-width="1.8"/></svg>'
        "no station</span></div>"
    )
    items.append('<div class="legend-group"><b>Facilities</b>')
    items.append(
        f'<span class="key"><svg width="18" height="18" aria-hidden="true"><path '
        f'd="M9 1l2.4 5.2 5.6.6-4.2 3.8 1.2 5.6L9 13.3 4 16.2l1.2-5.6L1 6.8l5.6-.6z" '
        f'fill="{DEPOT_COLOR}"/></svg>county distribution centre</span>'
    )
    for value in size_reference_values(size_max) or []:
        side = math.sqrt(float(station_areas(np.array([value]), size_max)[0]))
        items.append(
            f'<span class="key"><svg width="{side + 2:.1f}pt" height="{side + 2:.1f}pt" '
            f'viewBox="0 0 {side + 2:.1f} {side + 2:.1f}" aria-hidden="true">'
            f'<rect x="1" y="1" width="{side:.1f}" height="{side:.1f}" '
            f'fill="{STATION_COLOR}"/></svg>station, {value:g} parcels/day</span>'
        )
    if any(unserved_station_ids(r.plan.stations, r.summary) for r in runs):
        items.append(
            f'<span class="key"><svg width="14" height="14" aria-hidden="true"><rect x="1" '
            f'y="1" width="12" height="12" fill="none" stroke="{UNSERVED_COLOR}" '
            f'stroke-width="2"/><path d="M4 4L10 10M10 4L4 10" stroke="{UNSERVED_COLOR}" '
            'stroke-width="1.6"/></svg>station not fully served (its villages ringed)</span>'
        )
    items.append("</div>")
    items.append('<div class="legend-group"><b>Lines</b>')
    route_swatch = "".join(
        f'<path d="M{2 + 6 * k} 9h6" stroke="{c}" stroke-width="3"/>'
        for k, c in enumerate(ROUTE_COLORS[:4])
    )
    items.append(f'<span class="key"><svg width="28" height="18" aria-hidden="true">'
                 f"{route_swatch}</svg>vehicle route (one colour each)</span>")
    if any(r.plan.townships is not None and len(r.plan.townships) for r in runs):
        items.append(
            f'<span class="key"><svg width="28" height="18" aria-hidden="true"><path '
            f'd="M2 9h24" stroke="{TOWNSHIP_COLOR}" stroke-width="1"/></svg>'
            "township boundary</span>"
        )
    items.append("</div>")
    return '<div class="legend" id="legend">' + "".join(items) + "</div>"


def cards_html(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
    headline = [k for k in KPIS if k.key in (
        "delivered_share", "population_within_radius_share", "mean_access_km",
        "villages_beyond_10km", "cost_per_parcel")]
    cards = []
    for i, (run, label) in enumerate(zip(runs, labels, strict=True)):
        s = run.summary
        rows = []
        for kpi in headline:
            delta = ""
            if i > 0:
                text, cls = kpi.format_delta(
                    s.get(kpi.key), runs[0].summary.get(kpi.key),
                    comparable=delivers_all(s) and delivers_all(runs[0].summary),
                )
                if text:
                    delta = f' <span class="delta {cls}">{esc(text)}</span>'
            name = kpi.label.replace(", share", "").replace(
                "Population within radius",
                f"Population within {number(s.get('radius_km')) or 0:g} km")
            rows.append(f'<div class="fig"><span class="big">{esc(kpi.format(s.get(kpi.key)))}'
                        f"</span>{delta}<span class=\"what\">{esc(name)}</span></div>")
        status = str(s.get("status", "ok"))
        shown = status if delivers_all(s) else f"{status}: not comparable on cost"
        flag = "" if shown in ("ok", "feasible") else f' <span class="flag">{esc(shown)}</span>'
        cards.append(
            f'<div class="card" style="--c:{SCENARIO_COLORS[i % len(SCENARIO_COLORS)]}">'
            f"<h3>{esc(label)}{flag}</h3>"
            f'<div class="sub">{esc(_folder_text(run))}</div>{"".join(rows)}</div>'
        )
    return '<div class="cards">' + "".join(cards) + "</div>"


def _folder_text(run: RunResult) -> str:
    return str(run.folder) if run.folder is not None else "this run"


def kpi_table(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
    head = "".join(
        f'<th scope="col" style="--c:{SCENARIO_COLORS[i % len(SCENARIO_COLORS)]}">'
        f"{esc(label)}</th>"
        for i, label in enumerate(labels)
    )
    body = []
    radius = number(runs[0].summary.get("radius_km"))
    for kpi in KPIS:
        label = kpi.label
        if kpi.key.startswith("population_within_radius") and radius is not None:
            same = all(number(r.summary.get("radius_km")) == radius for r in runs)
            if same:
                label = label.replace("within radius", f"within {radius:g} km")
        cells = []
        base = runs[0].summary.get(kpi.key)
        base_full = delivers_all(runs[0].summary)
        for i, run in enumerate(runs):
            value = run.summary.get(kpi.key)
            raw = json.dumps(value) if number(value) is not None else "null"
            delta = ""
            if i > 0:
                text, cls = kpi.format_delta(
                    value, base, comparable=base_full and delivers_all(run.summary)
                )
                if text:
                    delta = f' <span class="delta {cls}">{esc(text)}</span>'
            cells.append(
                f'<td data-key="{kpi.key}" data-run="{i}" data-value="{esc(raw)}">'
                f'<span class="v">{esc(kpi.format(value))}</span>{delta}</td>'
            )
        body.append(f'<tr><th scope="row">{esc(label)}</th>{"".join(cells)}</tr>')
    note = (
        "Deltas are against the first column; green is better, red worse. Costs, vehicles "
        "and km are compared only between runs that deliver every parcel (a run that leaves "
        "parcels undelivered is marked not comparable: its cost per parcel looks cheaper "
        "than it is). Access is the "
        "road distance (or time) from a village to its station; means and percentiles are "
        "weighted by population."
    )
    return (
        f'<table class="kpi" id="kpi-table"><thead><tr><th scope="col">Figure</th>{head}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f'<p class="note">{esc(note)}</p>'
    )


def worst_tables(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
    blocks = []
    for i, (run, label) in enumerate(zip(runs, labels, strict=True)):
        w = worst_served(run.plan)
        rows = []
        for _, r in w.iterrows():
            station = r["station_id"]
            has = isinstance(station, str) and station.strip() != ""
            rows.append(
                f"<tr><td>{esc(r['name'] if _present(r['name']) else r['village_id'])}</td>"
                f"<td>{esc(r['township'] if _present(r['township']) else '—')}</td>"
                f'<td class="n">{fmt_int(r["population"])}</td>'
                f'<td class="n">{fmt(r["access_km"], 2) if has else "—"}</td>'
                f'<td class="n">{fmt(r["access_min"], 1) if has else "—"}</td>'
                f"<td>{esc(station) if has else 'none'}</td></tr>"
            )
        blocks.append(
            f'<div class="worst" style="--c:{SCENARIO_COLORS[i % len(SCENARIO_COLORS)]}">'
            f"<h4>{esc(label)}</h4>"
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


def township_html(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
    tables = [township_table(r.plan) for r in runs]
    names = sorted(set().union(*(set(t.index) for t in tables)))
    n = len(runs)
    top = "".join(
        f'<th colspan="3" scope="colgroup" style="--c:{SCENARIO_COLORS[i % len(SCENARIO_COLORS)]}">'
        f"{esc(label)}</th>"
        for i, label in enumerate(labels)
    )
    radius = number(runs[0].summary.get("radius_km")) or 0.0
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
                    f'<td class="n">{fmt(row["mean_access_km"], 2)}</td>'
                )
            else:
                cells.append('<td class="n group">—</td><td class="n">—</td><td class="n">—</td>')
        body.append(f'<tr><th scope="row">{esc(name)}</th><td class="n">{fmt_int(vil)}</td>'
                    f'<td class="n">{fmt_int(pop)}</td>{"".join(cells)}</tr>')
    totals = []
    for run in runs:
        s = run.summary
        share = number(s.get("population_within_radius_share"))
        totals.append(
            f'<td class="n group">{fmt_int(s.get("stations_open"))}</td>'
            f'<td class="n">{"n/a" if share is None else f"{100 * share:.0f} %"}</td>'
            f'<td class="n">{fmt(s.get("mean_access_km"), 2)}</td>'
        )
    s0 = runs[0].summary
    body.append(f'<tr class="total"><th scope="row">County</th>'
                f'<td class="n">{fmt_int(s0.get("villages"))}</td>'
                f'<td class="n">{fmt_int(s0.get("population"))}</td>{"".join(totals)}</tr>')
    return (
        '<table class="townships small" id="township-table"><thead>'
        f'<tr><th rowspan="2" scope="col">Township</th><th rowspan="2" class="n">Villages</th>'
        f'<th rowspan="2" class="n">Population</th>{top}</tr><tr>{sub}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
        f'<p class="note">Stations: stations located in the township. Within {radius:g} km: '
        "share of the township's population whose road distance to its station is within "
        "the service radius. Mean km: population-weighted mean access distance.</p>"
    )


def settings_html(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
    rows_spec: list[tuple[str, Callable[[RunResult], str]]] = [
        ("Run folder", _folder_text),
        ("Region", lambda r: r.plan.region),
        ("Scenario", lambda r: str(r.summary.get("scenario"))),
        ("Stations requested (K)",
         lambda r: fmt_int(nested_get(r.config, "placement", "stations")
                            if r.config else r.summary.get("stations_open"))),
        ("Service radius, km", lambda r: fmt(r.summary.get("radius_km"), 1)),
        ("Placement objective / weight",
         lambda r: f"{nested_get(r.summary, 'placement', 'objective') or '—'} / "
                   f"{nested_get(r.summary, 'placement', 'weight') or '—'}"),
        ("Seed", lambda r: str(r.summary.get("seed", "—"))),
        ("Solver time limit, s", lambda r: fmt(r.summary.get("time_limit_s"), 0)),
        ("Placement status", lambda r: str(nested_get(r.summary, "placement", "status") or "—")),
        ("Placement gap", lambda r: _gap(nested_get(r.summary, "placement", "gap"))),
        ("Routing status", lambda r: str(nested_get(r.summary, "routing", "status") or "—")),
        ("Run status", lambda r: str(r.summary.get("status", "—"))),
        ("Solve time, s", lambda r: fmt(r.summary.get("solve_seconds"), 1)),
        ("CRS", lambda r: r.plan.crs or "—"),
        ("Distances from",
         lambda r: str(nested_get(r.summary, "network", "distance_basis") or "roads")),
        ("Warnings", lambda r: str(len(r.plan.warnings))),
    ]
    head = "".join(f"<th>{esc(label)}</th>" for label in labels)
    body = "".join(
        f'<tr><th scope="row">{esc(name)}</th>'
        + "".join(f"<td>{esc(fn(r))}</td>" for r in runs) + "</tr>"
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
                f"{esc(run.folder / 'config.yaml')} --out {esc(again)}</pre>"
            )
        warnings = list(run.plan.warnings) + list(run.notes)
        if warnings:
            parts.append("<p>Warnings and notes:</p><ul>"
                         + "".join(f"<li>{esc(w)}</li>" for w in warnings) + "</ul>")
        if run.config_text:
            parts.append(f"<p>Effective config (config.yaml):</p><pre>{esc(run.config_text)}</pre>")
        if parts:
            details.append(f"<details><summary>{esc(label)}: reproduce, warnings, config"
                           f"</summary>{''.join(parts)}</details>")
    return table + "".join(details)


def _gap(value: Any) -> str:
    v = number(value)
    return "—" if v is None else f"{100 * v:.2f} %"


def peak_html(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
    """The peak week of each run that has one: a small bar chart (arrivals, delivered,
    backlog per day) and the day-by-day table; empty when no run has a ``peak`` section."""
    blocks = []
    for run, label in zip(runs, labels, strict=True):
        found = run.summary.get("peak")
        if not isinstance(found, dict):
            continue
        peak: dict[str, Any] = dict(found)
        days = list(peak.get("days", []))
        series = [("arrivals", "Arrivals", "#90a4ae"), ("delivered", "Delivered", "#1f3f8f"),
                  ("backlog", "Backlog at the DC", "#d32f2f")]
        top = max([1.0, *(float(v) for key, _, _ in series for v in peak.get(key, []))])
        width, height, bar = 56 * max(len(days), 1) + 60, 170, 14
        svg = [f'<svg viewBox="0 0 {width} {height + 40}" width="{width}" '
               f'height="{height + 40}" role="img" aria-label="Peak week per day">']
        for d, day in enumerate(days):
            x0 = 50 + 56 * d
            for k, (key, _, color) in enumerate(series):
                value = float(peak.get(key, [0] * len(days))[d])
                h = height * value / top
                svg.append(f'<rect x="{x0 + k * bar}" y="{height - h:.1f}" width="{bar - 2}" '
                           f'height="{h:.1f}" fill="{color}"><title>{esc(key)} day {day}: '
                           f"{value:,.0f}</title></rect>")
            svg.append(f'<text x="{x0 + 20}" y="{height + 16}" font-size="11" '
                       f'text-anchor="middle">day {day}</text>')
        svg.append(f'<text x="4" y="12" font-size="11">{top:,.0f}</text>'
                   f'<line x1="46" y1="{height}" x2="{width}" y2="{height}" stroke="#757575"/>')
        svg.append("</svg>")
        key_text = " ".join(
            f'<span class="key"><svg width="12" height="12"><rect width="12" height="12" '
            f'fill="{color}"/></svg> {esc(name)}</span>' for _, name, color in series
        )
        hired = peak.get("hired", {})
        head = "".join(f"<th>{esc(h)}</th>" for h in (
            "Day", "Arrivals", "Delivered", "Backlog", *(f"Hired {t}" for t in hired),
            "Longest wait, days", "Cost"))
        rows = []
        for d, day in enumerate(days):
            cells = [day, fmt_int(peak["arrivals"][d]), fmt_int(peak["delivered"][d]),
                     fmt_int(peak["backlog"][d]), *(fmt_int(hired[t][d]) for t in hired),
                     fmt_int(peak["longest_wait_days"][d]), fmt(peak["cost"][d], 0)]
            rows.append("<tr>" + "".join(f'<td class="n">{esc(str(c))}</td>' for c in cells)
                        + "</tr>")
        kept = "kept" if peak.get("promise_kept") else "BROKEN"
        clear = peak.get("days_to_clear")
        cleared = (f"backlog cleared after {clear} days" if clear is not None
                   else f"backlog not cleared within the {len(days)} days")
        blocks.append(
            f"<h3>{esc(label)}</h3>"
            f'<p>Promise: every parcel at its station within {peak.get("deliver_within_days")} '
            f"day(s) — <b>{kept}</b>; backlog at most {fmt_int(peak.get('max_backlog_parcels'))}"
            f" parcels; {cleared}; "
            f"hire plan {esc(str(peak.get('hire_plan', {}).get('status')))}.</p>"
            f'<figure class="chart">{"".join(svg)}<figcaption>{key_text}</figcaption></figure>'
            f'<div class="table-wrap"><table class="small"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )
    return "".join(blocks)


def frequency_html(runs: Sequence[RunResult], labels: Sequence[str]) -> str:
    """The weekly plan of each run that has one: the week against daily service (all
    costs, delivered share), the villages' waiting, and the day-by-day table; empty when
    no run has a ``frequency`` section."""
    blocks = []
    for run, label in zip(runs, labels, strict=True):
        found = run.summary.get("frequency")
        if not isinstance(found, dict):
            continue
        freq: dict[str, Any] = dict(found)
        week, daily = freq.get("weekly", {}), freq.get("daily_service", {})
        saving, check = freq.get("saving_vs_daily", {}), freq.get("check", {})
        head = "".join(f"<th>{esc(h)}</th>" for h in (
            "", "Vehicles (busiest day)", "km / week", "Route cost / week",
            "Waiting cost / week", "Total cost / week", "Delivered"))
        rows = []
        for name, fig in (("Weekly plan", week), ("Daily service", daily),
                          ("Saving", {**saving, "delivered_share": None})):
            cells = [name, fmt_int(fig.get("vehicles")), fmt(fig.get("km_per_week"), 0),
                     fmt(fig.get("route_cost_per_week"), 0),
                     fmt(fig.get("waiting_cost_per_week"), 0),
                     fmt(fig.get("cost_per_week"), 0),
                     "—" if fig.get("delivered_share") is None
                     else f"{100 * float(fig['delivered_share']):.1f} %"]
            rows.append("<tr>" + "".join(f'<td class="n">{esc(str(c))}</td>' for c in cells)
                        + "</tr>")
        day_head = "".join(f"<th>{esc(h)}</th>" for h in (
            "Day", "Stations visited", "Parcels", "Vehicles", "km", "Cost"))
        day_rows = []
        for d in freq.get("days", []):
            cells = [d.get("name"), fmt_int(d.get("stations_visited")), fmt_int(d.get("parcels")),
                     fmt_int(d.get("vehicles")), fmt(d.get("km"), 1), fmt(d.get("cost"), 0)]
            day_rows.append("<tr>" + "".join(f'<td class="n">{esc(str(c))}</td>'
                                             for c in cells) + "</tr>")
        counts = ", ".join(f"{n} stations {v}× a week" for v, n in sorted(
            freq.get("stations_by_visits", {}).items(), key=lambda kv: -int(kv[0])))
        verdict = ("not applied" if not check.get("applied")
                   else "passed" if check.get("feasible") else "FAILED")
        blocks.append(
            f"<h3>{esc(label)}</h3>"
            f"<p>{freq.get('horizon_days')}-day week: {esc(counts)}. Villages wait "
            f"{fmt(freq.get('mean_wait_days'), 2)} days on average for the next visit "
            f"(parcel-weighted), at worst {fmt_int(freq.get('worst_wait_days'))}. Saving "
            f"against daily service: {fmt(saving.get('cost_share', 0) * 100, 1)} % of the "
            f"weekly cost. Independent periodic check: <b>{verdict}</b>.</p>"
            f'<div class="table-wrap"><table class="small"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>"
            f'<div class="table-wrap"><table class="small"><thead><tr>{day_head}</tr></thead>'
            f"<tbody>{''.join(day_rows)}</tbody></table></div>"
        )
    return "".join(blocks)
