"""A carriers run's folder: a run folder per design, the designs, coalitions and Shapley
tables, their summary and one report.

``OUT/designs.csv``, ``OUT/coalitions.csv``, ``OUT/shapley.csv``,
``OUT/carriers_summary.json``, ``OUT/report.html`` (the designs side by side),
``OUT/config.yaml`` and ``OUT/<design>/`` (``plan.gpkg``, ``summary.json``, ``map.png``,
``report.html``, ``stops.csv``, ``routes.csv``, as ``solve`` writes them). Written like a
run folder (:func:`rural_logistics.outputs.write_folder`): into a temporary folder
first, renamed into place only when every file is complete.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from rural_logistics.carriers.run import DESIGN_TEXT, CarriersResult, core_lines
from rural_logistics.outputs import (
    GEOPACKAGE_FILE,
    config_yaml,
    json_text,
    rendered_files,
    write_folder,
    write_geopackage,
)
from rural_logistics.report import REPORT_FILE
from rural_logistics.report.carriers import (
    DESIGN_COLUMNS,
    SHAPLEY_COLUMNS,
    cell_text,
    designs_section,
    split_section,
)
from rural_logistics.report.page import render_report
from rural_logistics.report.runs import RunResult

DESIGNS_CSV = "designs.csv"
COALITIONS_CSV = "coalitions.csv"
SHAPLEY_CSV = "shapley.csv"
CARRIERS_SUMMARY = "carriers_summary.json"


def rows_csv(rows: Sequence[Mapping[str, object]]) -> str:
    """CSV text of dict rows (empty cells for ``None``)."""
    if not rows:
        return ""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()


def carriers_summary(result: CarriersResult) -> dict[str, object]:
    """``carriers_summary.json``: the tables, the checks and the timings."""
    split = result.split
    names = list(result.parcels.names)
    out: dict[str, object] = {
        "region": result.config.region.name,
        "scenario": result.config.scenario,
        "carriers": names,
        "parcels_per_day": [round(float(x), 1) for x in result.parcels.totals()],
        "time_limit_s_per_design": result.config.solver.time_limit_s,
        "designs": [d.row for d in result.designs],
        "notes": list(result.notes),
        "solve_seconds": round(result.solve_seconds, 1),
    }
    if split is not None:
        out["coalitions"] = split.coalition_rows
        out["shapley"] = result.shapley_rows
        out["core"] = core_lines(split, names)
    return out


def carriers_report(result: CarriersResult, *, out: Path) -> str:
    """``report.html``: the designs and fair split tables, then the designs' plans side
    by side (maps, key figures, townships)."""
    sections = [designs_section([d.row for d in result.designs], design_text=DESIGN_TEXT,
                                notes=result.notes)]
    if result.split is not None:
        sections.append(split_section(result.shapley_rows, result.split.coalition_rows,
                                      core_lines=core_lines(result.split,
                                                            list(result.parcels.names))))
    config_text = config_yaml(result.config)
    runs = [RunResult(plan=d.plan, folder=out / d.name, config_text=config_text)
            for d in result.designs]
    return render_report(runs, title=f"{result.config.region.name} — carriers' designs",
                         labels=[d.name for d in result.designs], sections_before=sections)


def write_carriers(
    result: CarriersResult, out: Path, *, force: bool = False, map_png: bool = True
) -> list[Path]:
    """Write the carriers run folder atomically.

    Returns
    -------
    list of Path
        The files written, at their final location.

    Raises
    ------
    OutputError
        If ``out`` cannot be written (a file, a non-empty folder without ``force``).
    """
    out = Path(out)

    def fill(tmp: Path) -> list[str]:
        names: list[str] = []
        for design in result.designs:
            folder = tmp / design.name
            folder.mkdir()
            write_geopackage(design.plan, folder / GEOPACKAGE_FILE)
            names.append(f"{design.name}/{GEOPACKAGE_FILE}")
            files = rendered_files(design.plan, config=result.config, map_png=map_png,
                                   folder=out / design.name)
            for name, data in files.items():
                (folder / name).write_bytes(data)
                names.append(f"{design.name}/{name}")
        tables = {DESIGNS_CSV: [d.row for d in result.designs]}
        if result.split is not None:
            tables[COALITIONS_CSV] = result.split.coalition_rows
            tables[SHAPLEY_CSV] = result.shapley_rows
        for name, rows in tables.items():
            (tmp / name).write_text(rows_csv(rows), encoding="utf-8")
        (tmp / CARRIERS_SUMMARY).write_text(json_text(carriers_summary(result)),
                                            encoding="utf-8")
        (tmp / REPORT_FILE).write_text(carriers_report(result, out=out), encoding="utf-8")
        (tmp / "config.yaml").write_text(config_yaml(result.config), encoding="utf-8")
        return [*tables, CARRIERS_SUMMARY, REPORT_FILE, "config.yaml", *names]

    return write_folder(out, fill, force=force)


def markdown_table(rows: Sequence[Mapping[str, object]],
                   columns: Sequence[tuple[str, str, int | None]]) -> str:
    """A Markdown table of dict rows (what ``solve`` prints, and the README shows)."""
    lines = ["| " + " | ".join(h for _, h, _ in columns) + " |",
             "|" + "|".join(" --- " for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell_text(r.get(k), d) for k, _, d in columns) + " |"
              for r in rows]
    return "\n".join(lines) + "\n"


def result_text(result: CarriersResult) -> str:
    """The designs and Shapley tables, the core checks and the notes, as printed by
    ``solve``."""
    text = markdown_table([d.row for d in result.designs], DESIGN_COLUMNS)
    if result.split is not None:
        text += "\n" + markdown_table(result.shapley_rows, SHAPLEY_COLUMNS)
        text += "".join(f"{line}\n" for line in core_lines(result.split,
                                                          list(result.parcels.names)))
    return text
