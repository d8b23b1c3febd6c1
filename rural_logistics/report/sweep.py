"""The report of a sweep: how many stations for what coverage and cost, in one HTML file.

The page holds the answers first (the smallest number of stations that reaches the
target, with its proof; the knee; the step that buys the most coverage), the curves of
coverage and cost against the number of stations, a slider over the swept numbers that
switches the coverage map to that plan (and marks it on the curves and in the table),
the table of every point and the steps between them. Like the scenario report it loads
nothing from the network (inline SVG, styles and script; see
:func:`rural_logistics.report.page.html_page`); printed, it keeps the curves, the chosen
number of stations and its map.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from rural_logistics import __version__
from rural_logistics.maps import map_extent
from rural_logistics.plan import Plan
from rural_logistics.report.kpis import fmt, fmt_int
from rural_logistics.report.page import html_page
from rural_logistics.report.panels import (
    map_panel,
    share_map_layers,
    station_size_max,
    sweep_chart,
)
from rural_logistics.report.runs import RunResult
from rural_logistics.report.sections import esc, legend_html
from rural_logistics.summary import SweepRow, SweepSummary

SWEEP_REPORT_FILE = "report.html"

_CSS = """
.rl-kline { display: none; }
.rl-kline.on { display: inline; }
.answers { display: grid; gap: 12px; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr));
  margin: 8px 0 4px; }
.answer { border: 1px solid var(--line); border-left: 6px solid #1f4e9c; border-radius: 6px;
  padding: 8px 12px; background: var(--soft); }
.answer.target { border-left-color: #b3261e; }
.answer .big { font-size: 22px; font-weight: 700; }
.answer p { margin: 4px 0 0; font-size: 13px; }
.chooser { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; margin: 10px 0;
  padding: 8px 12px; border: 1px solid var(--line); border-radius: 6px; }
.chooser input[type=range] { flex: 1 1 380px; }
.chooser .chosen { font-size: 20px; font-weight: 700; min-width: 9ch; }
.chooser .figures { color: var(--muted); }
figure.sweep-map, figure.target-map { margin: 0 0 10px; border: 1px solid var(--line);
  border-radius: 6px; padding: 6px; max-width: 980px; }
figure.sweep-map figcaption, figure.target-map figcaption { font-size: 14px; margin: 2px 2px 6px; }
table.sweep tr.on td { background: #fff4d6; font-weight: 600; }
table.sweep td { text-align: right; white-space: nowrap; }
table.sweep td.t { text-align: left; }
@media print {
  .chooser input[type=range], .chooser .hint { display: none !important; }
  figure.sweep-map[hidden] { display: none !important; }
  figure.sweep-map, figure.target-map { max-width: 13cm; break-inside: avoid; }
}
"""

_SCRIPT = """
(function () {
  var slider = document.getElementById('k-slider');
  if (!slider) { return; }
  var ks = slider.dataset.k.split(',');
  var lines = JSON.parse(document.getElementById('k-figures').textContent);
  function show(i) {
    var k = ks[i];
    document.querySelectorAll('figure.sweep-map').forEach(function (f) {
      f.hidden = f.dataset.k !== k;
    });
    document.querySelectorAll('.rl-kline').forEach(function (g) {
      g.classList.toggle('on', g.dataset.k === k);
    });
    document.querySelectorAll('table.sweep tr[data-k]').forEach(function (tr) {
      tr.classList.toggle('on', tr.dataset.k === k);
    });
    document.getElementById('k-chosen').textContent = k + ' stations';
    document.getElementById('k-line').textContent = lines[k];
  }
  slider.addEventListener('input', function () { show(Number(slider.value)); });
  show(Number(slider.value));
})();
"""


def _pct(share: float | None, decimals: int = 1) -> str:
    return "n/a" if share is None or not math.isfinite(share) else f"{100 * share:.{decimals}f} %"


def _chosen_stations(summary: SweepSummary, swept: Sequence[int]) -> int:
    """The number of stations the page opens on: the target's (or the next swept one
    above it), else the knee, else the first."""
    for target in summary["targets"]:
        if target["stations"] is not None:
            above = [k for k in swept if k >= target["stations"]]
            if above:
                return above[0]
    for curve in summary["curves"]:
        if curve["knee_stations"] is not None:
            return curve["knee_stations"]
    return swept[0]


def _point_line(row: SweepRow) -> str:
    """One line of figures of a point (the chooser's text)."""
    cost = (f"; {fmt(row['cost_per_day'], 0)} per day, {fmt(row['cost_per_parcel'], 2)} per "
            f"parcel (all costs, {_pct(row['delivered_share'])} of parcels delivered)"
            if row["cost_per_day"] is not None else "")
    return (f"{_pct(row['population_within_radius_share'])} of people within "
            f"{row['radius_km']:g} km (best possible {_pct(row['best_within_radius_share'])}); "
            f"mean access {fmt(row['mean_access_km'], 2)} km, max {fmt(row['max_access_km'], 1)} "
            f"km; Gini {fmt(row['access_gini'], 3)}{cost}; {row['status_detail']}")


def _answers(summary: SweepSummary) -> str:
    boxes = []
    for t in summary["targets"]:
        head = (f"{t['stations']} stations" if t["stations"] is not None
                else "not reachable" if t["proven"] else "not decided")
        proof = "proven" if t["proven"] else "not proven"
        boxes.append(
            f'<div class="answer target" id="target-{t["radius_km"]:g}">'
            f"<div>Fewest stations for {_pct(t['coverage'], 0)} of people within "
            f"{t['radius_km']:g} km ({proof})</div><div class=\"big\">{esc(head)}</div>"
            f"<p>{esc(t['statement'])}</p></div>"
        )
    for c in summary["curves"]:
        if c["knee_stations"] is not None:
            row = next(r for r in summary["rows"]
                       if r["radius_km"] == c["radius_km"] and r["stations"] == c["knee_stations"])
            boxes.append(
                f'<div class="answer"><div>Knee of the coverage curve ({c["radius_km"]:g} km)'
                f'</div><div class="big">{c["knee_stations"]} stations</div>'
                f"<p>{_pct(row['population_within_radius_share'])} of people within "
                f"{c['radius_km']:g} km; past it each added station buys less coverage.</p></div>"
            )
        if c["best_step_to_stations"] is not None:
            step = next(s for s in c["steps"] if s["to_stations"] == c["best_step_to_stations"])
            per = (f"{100 * step['coverage_per_1000_per_day']:.2f} points per 1,000 of daily "
                   "cost" if step["coverage_per_1000_per_day"] is not None and
                   c["best_step_basis"].startswith("per 1,000")
                   else f"{100 * step['coverage_per_station']:.2f} points per added station")
            boxes.append(
                f'<div class="answer"><div>Step that buys the most coverage '
                f'({c["radius_km"]:g} km, {esc(c["best_step_basis"])})</div>'
                f'<div class="big">{step["from_stations"]} → {step["to_stations"]}</div>'
                f"<p>+{100 * step['coverage_gain']:.1f} points of coverage, {per}.</p></div>"
            )
    return f'<div class="answers">{"".join(boxes)}</div>'


def _table(summary: SweepSummary, chosen: int) -> str:
    routed = summary["routed"]
    head = ["stations", "radius km", "status", "within radius", "best possible",
            "mean access km", "max access km", "Gini", "opening / day"]
    if routed:
        head += ["vehicles", "route km", "delivered", "cost / day", "cost / parcel"]
    cells = ["<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr></thead>"]
    for r in summary["rows"]:
        gap = "" if r["placement_status"] == "optimal" else f" (gap {_pct(r['placement_gap'], 2)})"
        values = [
            str(r["stations"]), f"{r['radius_km']:g}", esc(r["status"] + gap),
            _pct(r["population_within_radius_share"]), _pct(r["best_within_radius_share"]),
            fmt(r["mean_access_km"], 2), fmt(r["max_access_km"], 2), fmt(r["access_gini"], 3),
            fmt(r["opening_cost_per_day"], 0),
        ]
        if routed:
            values += [fmt_int(r["vehicles_used"]), fmt(r["total_route_km"], 1),
                       _pct(r["delivered_share"]), fmt(r["cost_per_day"], 0),
                       fmt(r["cost_per_parcel"], 2)]
        on = ' class="on"' if r["stations"] == chosen else ""
        cells.append(
            f'<tr data-k="{r["stations"]}"{on}>'
            + "".join(f'<td{" class=t" if i == 2 else ""}>{v}</td>' for i, v in enumerate(values))
            + "</tr>"
        )
    return f'<table class="sweep small" id="sweep-table">{"".join(cells)}</table>'


def _points(value: float | None, decimals: int) -> str:
    return "n/a" if value is None else f"{100 * value:+.{decimals}f}"


def _steps_table(summary: SweepSummary) -> str:
    parts = []
    for c in summary["curves"]:
        rows = "".join(
            f"<tr><td class=t>{s['from_stations']} → {s['to_stations']}</td>"
            f"<td>{_points(s['coverage_gain'], 2)}</td>"
            f"<td>{_points(s['coverage_per_station'], 3)}</td>"
            f"<td>{fmt(s['cost_added_per_day'], 0)}</td>"
            f"<td>{_points(s['coverage_per_1000_per_day'], 3)}</td></tr>"
            for s in c["steps"]
        )
        parts.append(
            f"<h3>{c['radius_km']:g} km</h3><table class=\"sweep small\"><thead><tr>"
            "<th>step</th><th>coverage points</th><th>points per station</th>"
            "<th>daily cost added</th><th>points per 1,000 / day</th></tr></thead>"
            f"{rows}</table>"
        )
    return "".join(parts)


def render_sweep_report(
    summary: SweepSummary,
    plans: Sequence[Plan],
    *,
    target_plans: Sequence[Plan] = (),
    title: str | None = None,
) -> str:
    """The sweep report as one self-contained HTML document.

    Parameters
    ----------
    summary
        ``sweep_summary.json``.
    plans
        The plan of each swept number of stations (first radius), in the order of
        ``summary["stations_swept"]``.
    target_plans
        The plan of each target reached (maximal coverage, fewest stations), in the order
        of ``summary["targets"]`` (those not reached left out).
    title
        Page title (default ``"<region> — how many stations?"``).

    Returns
    -------
    str
    """
    swept = list(summary["stations_swept"])
    assert len(plans) == len(swept), "one plan per swept number of stations"
    title = title or f"{summary['region']} — how many stations?"
    chosen = _chosen_stations(summary, swept)
    first_radius = summary["radii_km"][0]
    rows = {r["stations"]: r for r in summary["rows"] if r["radius_km"] == first_radius}
    runs = [RunResult(plan=p) for p in (*plans, *target_plans)]
    try:
        extent = map_extent(*plans, *target_plans)
    except ValueError:
        extent = (0.0, 1.0, 0.0, 1.0)
    size_max = station_size_max(runs)
    shared, svgs = share_map_layers([
        map_panel(run, index=i, extent=extent, size_max=size_max) for i, run in enumerate(runs)
    ])
    reached = [t for t in summary["targets"] if t["stations"] is not None]
    target_figures = []
    for t, svg in zip(reached, svgs[len(plans):], strict=True):
        target_figures.append(
            f'<figure class="target-map" data-k="{t["stations"]}"><figcaption><b>'
            f'{t["stations"]} stations</b> — the maximal-coverage plan that puts '
            f"{_pct(t['best_share'], 2)} of people within {t['radius_km']:g} km of a "
            f"station (target {_pct(t['coverage'], 0)})</figcaption>{svg}</figure>"
        )
    figures = [shared]
    for k, svg in zip(swept, svgs[:len(plans)], strict=True):
        row = rows[k]
        caption = (f"<b><span class=\"k-count\">{k}</span> stations</b> — "
                   f"{_pct(row['population_within_radius_share'])} of people within "
                   f"{first_radius:g} km, mean access {fmt(row['mean_access_km'], 2)} km "
                   f"({esc(row['status'])})")
        hidden = "" if k == chosen else " hidden"
        figures.append(
            f'<figure class="sweep-map" data-k="{k}"{hidden}><figcaption>{caption}'
            f"</figcaption>{svg}</figure>"
        )
    chart = sweep_chart(summary).replace(
        f'class="rl-kline" data-k="{chosen}"', f'class="rl-kline on" data-k="{chosen}"')
    lines = json.dumps({str(k): _point_line(rows[k]) for k in swept}, ensure_ascii=False)
    safe_lines = lines.replace("</", "<\\/")
    index = swept.index(chosen)
    what = (f"{summary['method'].replace('_', '-')} plans for {swept[0]}–{swept[-1]} stations "
            f"({len(swept)} numbers)")
    lead = (f"{fmt_int(summary['villages'])} villages, {fmt_int(summary['population'])} people, "
            f"{summary['candidate_sites']} usable candidate sites · {what} · scenario "
            f"{summary['scenario']} · coverage = people whose station is within the radius "
            f"along roads ({summary['network']['distance_basis']})")
    body = [
        f"<header><h1>{esc(title)}</h1><p class=\"lead\">{esc(lead)}</p></header>",
        f'<section id="answers">{_answers(summary)}</section>',
        '<section id="curves"><h2>Coverage and cost against the number of stations</h2>'
        f'<figure class="chart" id="sweep-curves">{chart}</figure>'
        '<p class="note">Solid: the plans of the sweep; dashed: the most people any plan of '
        "that many stations can have within the radius (maximal coverage, solved to proven "
        f"optimality or bound). Cost basis: {esc(summary['cost_basis'])}.</p></section>",
        ('<section id="target-plans"><h2>The plan that reaches the target</h2>'
         f"{''.join(target_figures)}<p class=\"note\">The fewest stations that reach the "
         "target are placed for coverage (maximal coverage), so they may differ from the "
         "sweep's plans of the same size, which follow the config's placement model.</p>"
         "</section>" if target_figures else ""),
        '<section id="chooser-section"><h2>Choose the number of stations</h2>'
        f'<div class="chooser"><label for="k-slider" class="hint">Stations:</label>'
        f'<input type="range" id="k-slider" min="0" max="{len(swept) - 1}" step="1" '
        f'value="{index}" data-k="{",".join(map(str, swept))}" '
        'aria-label="number of stations">'
        f'<output id="k-chosen" class="chosen" for="k-slider">{chosen} stations</output>'
        f'<span id="k-line" class="figures">{esc(_point_line(rows[chosen]))}</span></div>'
        f"{legend_html(runs, size_max)}"
        f'<div id="sweep-maps">{"".join(figures)}</div></section>',
        f'<section id="table"><h2>Every point</h2><div class="table-wrap">'
        f"{_table(summary, chosen)}</div></section>",
        '<section id="steps"><h2>What each step buys</h2><p class="note">Coverage points '
        "are percentage points of people within the radius.</p>"
        f'<div class="table-wrap">{_steps_table(summary)}</div></section>',
        f'<script type="application/json" id="k-figures">{safe_lines}</script>',
        f"<footer>Made by rural-logistics {esc(__version__)} in {summary['total_seconds']:g} s "
        f"(placement {summary['placement_seconds']:g} s, frontier "
        f"{summary['frontier_seconds']:g} s, routing {summary['routing_seconds']:g} s). "
        "This file is self-contained: it loads nothing from the network.</footer>",
    ]
    return html_page(title=title, body="\n".join(body), script=_SCRIPT, extra_css=_CSS)
