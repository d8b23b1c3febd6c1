"""The report page: styles and script, :func:`render_report` and the functions that write it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import yaml

from rural_logistics import __version__
from rural_logistics.config import RegionConfig
from rural_logistics.errors import InputDataError, OutputError
from rural_logistics.maps import cjk_font, has_cjk, map_extent
from rural_logistics.plan import Plan
from rural_logistics.report.kpis import WORST_N, count_text, fmt, fmt_int, number
from rural_logistics.report.panels import (
    SCENARIO_COLORS,
    distribution_chart,
    map_panel,
    station_size_max,
)
from rural_logistics.report.produce import produce_html
from rural_logistics.report.runs import RunResult, check_same_region, load_run, scenario_labels
from rural_logistics.report.sections import (
    cards_html,
    esc,
    frequency_html,
    kpi_table,
    legend_html,
    peak_html,
    settings_html,
    township_html,
    worst_tables,
)

REPORT_FILE = "report.html"
MIN_RUNS = 2
#: Most runs whose maps (and access-distance chart) a report draws; the key figures,
#: equity, township and settings tables take any number of runs.
MAX_MAP_RUNS = 6


REPORT_CSS = """
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
.delta.na { color: var(--muted); font-style: italic; }
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


def _map_figures(
    runs: Sequence[RunResult],
    labels: Sequence[str],
    *,
    extent: tuple[float, float, float, float],
    size_max: float,
) -> list[str]:
    """One captioned map figure per run."""
    panels = []
    for i, (run, label) in enumerate(zip(runs, labels, strict=True)):
        s = run.summary
        share = number(s.get("population_within_radius_share"))
        caption = (
            f"<b>{esc(label)}</b> <span class=\"sub\">— "
            f"{count_text(s.get('stations_open'), 'station')}"
            f", {count_text(s.get('routes'), 'route')}; "
            f"{'n/a' if share is None else f'{100 * share:.0f} %'} of population within "
            f"{number(s.get('radius_km')) or 0:g} km; mean access "
            f"{fmt(s.get('mean_access_km'), 1)} km</span>"
        )
        svg = map_panel(run, index=i, extent=extent, size_max=size_max)
        panels.append(
            f'<figure class="map" data-run="{i}" '
            f'style="--c:{SCENARIO_COLORS[i % len(SCENARIO_COLORS)]}">'
            f"<figcaption>{caption}</figcaption>{svg}</figure>"
        )
    return panels


def render_report(
    runs: Sequence[RunResult],
    *,
    title: str | None = None,
    labels: Sequence[str] | None = None,
    sections_before: Sequence[str] = (),
) -> str:
    """The report of one or more runs as one self-contained HTML document.

    Parameters
    ----------
    runs
        One run, or several runs of one region (the first is the baseline of the deltas).
        Maps and the access-distance chart are drawn for up to :data:`MAX_MAP_RUNS` runs;
        a report of more runs says so in their place.
    title
        Page title; default ``"<region> — scenario comparison"`` (or the run's scenario
        for a single run).
    labels
        Names of the runs (default: from the settings that differ between them).
    sections_before
        HTML ``<section>`` elements placed before the maps (e.g. the carriers' designs
        and fair split tables).

    Returns
    -------
    str
        HTML text with every style, script and image inline.

    Raises
    ------
    InputDataError
        If no run, or runs of different regions are given.
    """
    if not runs:
        raise InputDataError("report: no run given")
    check_same_region(runs)
    with_maps = len(runs) <= MAX_MAP_RUNS
    region = runs[0].plan.region
    labels = list(labels) if labels is not None else scenario_labels(runs)
    single = len(runs) == 1
    if title is None:
        title = (f"{region} — {labels[0]}" if single else f"{region} — scenario comparison")
    try:
        extent = map_extent(*(r.plan for r in runs))
    except ValueError:
        extent = (0.0, 1.0, 0.0, 1.0)
    size_max = station_size_max(runs)
    cols = 1 if single else 2 if len(runs) in (2, 4) else 3

    panels = _map_figures(runs, labels, extent=extent, size_max=size_max) if with_maps else []
    toggles = "".join(
        f'<label><input type="checkbox" data-layer="{key}" checked> {name}</label>'
        for key, name in _LAYER_TOGGLES
    )
    gini_row = " · ".join(
        f"{esc(label)}: <b>{fmt(r.summary.get('access_gini'), 3)}</b>"
        for label, r in zip(labels, runs, strict=True)
    )
    what = "this run" if single else f"{len(runs)} scenarios"
    subtitle = (
        f"{fmt_int(runs[0].summary.get('villages'))} villages, "
        f"{fmt_int(runs[0].summary.get('population'))} people · {what} · "
        "hover a village or station on a map for details"
    )
    no_roads = [
        f"{label}: distances are {r.summary['network'].get('distance_basis')}"
        for label, r in zip(labels, runs, strict=True)
        if isinstance(r.summary.get("network"), dict)
        and r.summary["network"].get("mode", "roads") != "roads"
    ]
    banner = (f'<p class="lead"><span class="flag">NO ROAD DATA</span> {esc("; ".join(no_roads))}'
              "</p>" if no_roads else "")
    sections = [
        f"<header><h1>{esc(title)}</h1><p class=\"lead\">{esc(subtitle)}</p>{banner}"
        '<nav><a href="#maps">Maps</a><a href="#kpis">Key figures</a>'
        '<a href="#equity">Equity</a><a href="#townships">Townships</a>'
        '<a href="#settings">Run settings</a></nav></header>',
        f'<section id="summary">{cards_html(runs, labels)}</section>',
        *sections_before,
        '<section id="maps"><h2>Coverage maps</h2>'
        + (f'<div class="controls" role="group" aria-label="Map layers"><b>Show:</b>{toggles}'
           f"</div>{legend_html(runs, size_max)}"
           f'<div class="maps" style="--cols:{cols}">{"".join(panels)}</div>'
           '<p class="note">All panels share one extent, one colour scale for access time and '
           "one size scale for stations (square area proportional to parcels per day).</p>"
           if with_maps else _too_many_note(len(runs), "Maps"))
        + "</section>",
        f'<section id="kpis"><h2>Key figures</h2><div class="table-wrap">'
        f"{kpi_table(runs, labels)}</div></section>",
        *([f'<section id="peak"><h2>Peak week</h2>{peak}</section>']
          if (peak := peak_html(runs, labels)) else []),
        *([f'<section id="week"><h2>Weekly plan (visit frequencies)</h2>{week}</section>']
          if (week := frequency_html(runs, labels)) else []),
        *([f'<section id="produce"><h2>Farm produce</h2>{produce}</section>']
          if (produce := produce_html(runs, labels)) else []),
        '<section id="equity"><h2>Equity of access</h2>'
        f'<p>Gini coefficient of access distance, weighted by population (0 = everyone '
        f"equally far from a station, 1 = maximally unequal): {gini_row}</p>"
        + (f'<figure class="chart" id="distribution">{distribution_chart(runs, labels)}</figure>'
           if with_maps else _too_many_note(len(runs), "The access-distance chart"))
        + f"<h3>The {WORST_N} worst-served villages</h3>{worst_tables(runs, labels)}</section>",
        '<section id="townships"><h2>Townships</h2><div class="table-wrap">'
        f"{township_html(runs, labels)}</div></section>",
        '<section id="settings"><h2>Run settings</h2><div class="table-wrap">'
        f"{settings_html(runs, labels)}</div></section>",
        f"<footer>Made by rural-logistics {esc(__version__)}. This file is self-contained: it "
        "loads nothing from the network and can be mailed or printed as it is.</footer>",
    ]
    return html_page(title=title, body="\n".join(sections), script=_SCRIPT)


def html_page(*, title: str, body: str, script: str, extra_css: str = "") -> str:
    """A self-contained HTML document: the report styles (and ``extra_css``), a
    Content-Security-Policy that lets nothing load from outside the file, the CJK
    characters of ``body`` as an embedded font subset, ``body`` and ``script`` inline."""
    font_face = cjk_font_face(body)
    # The CJK face comes first but covers only its characters (unicode-range), so Latin
    # text stays in DejaVu Sans; as a fallback after it, Chromium drew the first CJK text
    # run of the page as boxes.
    css = (REPORT_CSS.replace('"DejaVu Sans", ', f'"{CJK_WEB_FAMILY}", "DejaVu Sans", ')
           if font_face else REPORT_CSS)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; font-src data:; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'\">"
        f"<title>{esc(title)}</title><style>{font_face}{css}{extra_css}</style></head>\n"
        "<body><main>"
        + body
        + f"</main><script>{script}</script></body></html>\n"
    )


CJK_WEB_FAMILY = "RL CJK"


def cjk_font_face(text: str) -> str:
    """An ``@font-face`` rule embedding the CJK characters of ``text`` (a subset of the
    CJK font of :func:`rural_logistics.maps.cjk_font`, WOFF, base64), so that the page
    shows Chinese names on a machine without a CJK font; empty when ``text`` has none or
    no CJK font is installed (the browser's own fonts are used then)."""
    chars = "".join(sorted({ch for ch in text if has_cjk(ch)}))
    font = cjk_font()
    if not chars or font is None:
        return ""
    import base64
    import io

    from fontTools import subset

    options = subset.Options()
    options.font_number = font[2]
    options.flavor = "woff"
    options.layout_features = []
    options.name_IDs = [1, 2]
    options.hinting = False
    face = subset.load_font(str(font[1]), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(face)
    buf = io.BytesIO()
    face.flavor = "woff"
    face.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    ranges = ",".join(f"U+{ord(ch):X}" for ch in chars)
    return (f'@font-face {{ font-family: "{CJK_WEB_FAMILY}"; unicode-range: {ranges}; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); }}\n')


def _too_many_note(n: int, what: str) -> str:
    return (f'<p class="note too-many">{what} are drawn for up to {MAX_MAP_RUNS} runs; this '
            f"report compares {n}. Compare at most {MAX_MAP_RUNS} of them to see them.</p>"
            if what == "Maps" else
            f'<p class="note too-many">{what} is drawn for up to {MAX_MAP_RUNS} runs; this '
            f"report compares {n}.</p>")


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
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(
            f"{path.parent}: cannot write {path.name} ({exc.strerror}; "
            f"{len(text.encode('utf-8')) / 1e6:.1f} MB needed)"
            + ("" if not path.exists() else f"; the previous {path.name} is unchanged")
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def compare_runs(
    folders: Sequence[str | Path], *, out: str | Path, force: bool = True,
    title: str | None = None,
) -> Path:
    """Read 2 or more run folders of one region and write their comparison report (maps
    for up to :data:`MAX_MAP_RUNS` of them).

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
        If fewer than 2 folders are given, a folder is not a run, or the runs are of
        different regions.
    OutputError
        If ``out`` cannot be written.
    """
    if len(folders) < MIN_RUNS:
        raise InputDataError(
            f"compare: give at least {MIN_RUNS} run folders, got {len(folders)}"
        )
    out = Path(out)
    if out.is_dir():
        raise OutputError(f"{out}: is a folder; give the report file name, e.g. report.html")
    if out.exists() and not force:
        raise OutputError(f"{out}: file exists (use --force to replace it)")
    runs = [load_run(folder) for folder in folders]
    return write_report(runs, out, title=title, force=force)


def _plan_run(
    plan: Plan, *, config: RegionConfig | None, folder: str | Path | None
) -> RunResult:
    config_text = None
    if config is not None:
        config_text = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False,
                                     allow_unicode=True)
    return RunResult(plan=plan, folder=Path(folder) if folder is not None else None,
                     config_text=config_text)


def render_plan_report(
    plan: Plan,
    *,
    config: RegionConfig | None = None,
    folder: str | Path | None = None,
) -> str:
    """The single-run report of a plan as HTML text (see :func:`write_plan_report`)."""
    return render_report([_plan_run(plan, config=config, folder=folder)])


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
    return write_report([_plan_run(plan, config=config, folder=folder)], path)
