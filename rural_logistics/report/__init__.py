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
:func:`write_plan_report` writes the single-run report of ``rural-logistics solve``
(:func:`render_plan_report`: its HTML text).

Modules: :mod:`~rural_logistics.report.runs` (run folders, labels),
:mod:`~rural_logistics.report.kpis` (KPI rows, number formatting, tables),
:mod:`~rural_logistics.report.panels` (SVG maps and charts, the only one using matplotlib),
:mod:`~rural_logistics.report.sections` (HTML fragments) and
:mod:`~rural_logistics.report.page` (the page, writing, comparing).
"""

from rural_logistics.plan import PLAN_LAYERS as PLAN_LAYERS
from rural_logistics.report.kpis import KPIS, Kpi, township_table, worst_served
from rural_logistics.report.page import (
    MAX_MAP_RUNS,
    MIN_RUNS,
    REPORT_FILE,
    compare_runs,
    render_plan_report,
    render_report,
    write_plan_report,
    write_report,
)
from rural_logistics.report.panels import SCENARIO_COLORS as SCENARIO_COLORS
from rural_logistics.report.runs import RunResult, load_run, scenario_labels

__all__ = [
    "KPIS",
    "MAX_MAP_RUNS",
    "MIN_RUNS",
    "REPORT_FILE",
    "Kpi",
    "RunResult",
    "compare_runs",
    "load_run",
    "render_plan_report",
    "render_report",
    "scenario_labels",
    "township_table",
    "worst_served",
    "write_plan_report",
    "write_report",
]
