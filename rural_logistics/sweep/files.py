"""A sweep's folder: ``sweep.csv``, ``sweep_summary.json``, ``report.html``, ``config.yaml``.

Written like a run folder (:func:`rural_logistics.outputs.write_folder`): into a
temporary folder first, renamed into place only when every file is complete.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rural_logistics.outputs import config_yaml, json_text, write_folder
from rural_logistics.report.sweep import SWEEP_REPORT_FILE, render_sweep_report
from rural_logistics.summary import SweepRow
from rural_logistics.sweep.run import SweepResult

SWEEP_CSV = "sweep.csv"
SWEEP_SUMMARY = "sweep_summary.json"
#: Columns of ``sweep.csv``: every key of a row but the station ids (in the JSON).
CSV_COLUMNS = tuple(k for k in SweepRow.__annotations__ if k != "station_ids")


def sweep_csv(rows: list[SweepRow]) -> str:
    """``sweep.csv`` text: one row per point, empty cells where a figure is unknown."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()


def write_sweep(result: SweepResult, out: Path, *, force: bool = False) -> list[Path]:
    """Write the sweep folder atomically.

    Returns
    -------
    list of Path
        The files written, at their final location.

    Raises
    ------
    OutputError
        If ``out`` cannot be written (a file, a non-empty folder without ``force``).
    """

    def fill(tmp: Path) -> list[str]:
        (tmp / SWEEP_CSV).write_text(sweep_csv(result.summary["rows"]), encoding="utf-8")
        (tmp / SWEEP_SUMMARY).write_text(json_text(result.summary), encoding="utf-8")
        (tmp / SWEEP_REPORT_FILE).write_text(
            render_sweep_report(result.summary, result.plans,
                                target_plans=result.target_plans), encoding="utf-8")
        (tmp / "config.yaml").write_text(config_yaml(result.config), encoding="utf-8")
        return [SWEEP_CSV, SWEEP_SUMMARY, SWEEP_REPORT_FILE, "config.yaml"]

    return write_folder(Path(out), fill, force=force)
