"""Shared pieces of the benchmark commands: instance discovery, tables and CSV."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rural_logistics.errors import InputDataError

DEFAULT_DATA_ROOT = Path("../shared/benchmarks")


@dataclass(frozen=True)
class BenchmarkTable:
    """Rows of one benchmark run.

    Attributes
    ----------
    name
        Benchmark name (``pmed``, ``cvrp``, …).
    columns
        CSV column order.
    rows
        One dict per instance (and per engine where several are compared).
    summary
        Closing lines (mean gap, counts, targets met).
    """

    name: str
    columns: tuple[str, ...]
    rows: list[dict[str, Any]]
    summary: list[str] = field(default_factory=list)


def select_instances(available: Sequence[str], wanted: str | None, *, source: Path) -> list[str]:
    """Instances to run: all of ``available`` or the comma-separated ``wanted`` ones.

    Raises
    ------
    InputDataError
        Naming any requested instance that is not in ``source``.
    """
    if not wanted:
        return list(available)
    names = [w.strip() for w in wanted.split(",") if w.strip()]
    missing = [n for n in names if n not in set(available)]
    if missing:
        raise InputDataError(f"{source}: no instance(s) named {', '.join(missing)}")
    return names


def gap_pct(objective: float | None, reference: float | None) -> float | None:
    """``100 × (objective − reference) / reference``, or ``None`` when unknown."""
    if objective is None or reference is None or reference == 0 or not math.isfinite(objective):
        return None
    return 100.0 * (objective - reference) / reference


def format_value(value: Any) -> str:
    """Compact text for tables and CSV (floats to 4 significant decimals)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return f"{value:.4f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:.3f}"
    return str(value)


def format_row(columns: Sequence[str], row: dict[str, Any], widths: Sequence[int]) -> str:
    """One fixed-width table line."""
    cells = (format_value(row.get(c)).rjust(w) for c, w in zip(columns, widths, strict=True))
    return "  ".join(cells)


def format_table(table: BenchmarkTable) -> str:
    """The whole table as text, header first."""
    widths = [
        max([len(c), *(len(format_value(r.get(c))) for r in table.rows)]) for c in table.columns
    ]
    header = "  ".join(c.rjust(w) for c, w in zip(table.columns, widths, strict=True))
    lines = [header, *(format_row(table.columns, r, widths) for r in table.rows)]
    return "\n".join(lines)


def write_csv(table: BenchmarkTable, path: Path) -> None:
    """Write the rows with the table's columns (written beside, then renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table.columns), extrasaction="ignore")
        writer.writeheader()
        for row in table.rows:
            writer.writerow({c: format_value(row.get(c)) for c in table.columns})
    tmp.replace(path)


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the known values, ``None`` if there are none."""
    known = [v for v in values if v is not None and math.isfinite(v)]
    return sum(known) / len(known) if known else None


def gap_line(prefix: str, rows: Sequence[dict[str, Any]], *, cpu: bool = True) -> str:
    """One summary line of rows: ``PREFIX: mean gap G% (worst W%), F/N feasible`` and,
    with ``cpu``, their mean CPU seconds."""
    gaps = [r.get("gap_pct") for r in rows]
    known = [g for g in gaps if g is not None]
    avg = mean(gaps)
    text = f"{prefix}: mean gap {avg:.3f}%" if avg is not None else f"{prefix}: no gap known"
    if known:
        text += f" (worst {max(known):.3f}%)"
    text += f", {sum(bool(r['feasible']) for r in rows)}/{len(rows)} feasible"
    seconds = mean(r.get("cpu_s") for r in rows) if cpu else None
    if seconds is not None:
        text += f", mean {seconds:.1f} CPU s"
    return text


def natural_key(name: str) -> tuple[Any, ...]:
    """Sort key putting ``A-n9`` before ``A-n10`` (numbers compared as numbers)."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))
