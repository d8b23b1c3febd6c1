"""Run records (one JSON file per run, the state ``--resume`` reads) and the results table.

A record is a flat-ish dict: the batch columns of :data:`RECORD_COLUMNS` plus ``summary``
(the run's ``summary.json`` as written, or ``None``) and, for an internal error, a
``traceback``. The results table has one row per run: the batch columns, then every
figure of the summary flattened (``placement.gap``, ``cost.total_per_day``; lists as
JSON text), in the order the summaries first name them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from rural_logistics.errors import OutputError

#: Columns every results row starts with, in order (see the README for their meaning).
RECORD_COLUMNS = (
    "run_id",
    "run_status",
    "error",
    "error_type",
    "config",
    "overrides",
    "run_dir",
    "fingerprint",
    "reused",
    "started_at",
    "finished_at",
    "run_s",
    "cpu_s",
    "peak_rss_mib",
    "solve_workers",
    "worker",
    "pid",
)
RUN_OK = "ok"
RUN_FAILED = "failed"
RUN_NOT_RUN = "not_run"
RUN_RUNNING = "running"
RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"


def plain(value: Any) -> Any:
    """A summary (a dict, a dataclass, a pydantic model, numpy scalars) as plain
    JSON-like Python values."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def flatten(summary: Any, *, prefix: str = "") -> dict[str, Any]:
    """Nested summary → one level: ``{"placement": {"gap": 0}}`` → ``{"placement.gap": 0}``.

    Lists become JSON text (``"[]"``, ``'["V040", "V057"]'``); non-finite floats ``None``.
    """
    out: dict[str, Any] = {}
    value = plain(summary)
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(item, dict) and item:
                out.update(flatten(item, prefix=name))
            elif isinstance(item, dict | list):
                out[name] = json.dumps(item, ensure_ascii=False, default=str)
            elif isinstance(item, float) and not math.isfinite(item):
                out[name] = None
            else:
                out[name] = item
    elif prefix:
        out[prefix] = value
    return out


def result_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """One results row: the batch columns, then the flattened summary.

    A summary key that is also a batch column is prefixed ``summary.``.
    """
    row = {c: record.get(c) for c in RECORD_COLUMNS}
    if isinstance(row["overrides"], dict):
        row["overrides"] = json.dumps(row["overrides"], ensure_ascii=False, sort_keys=True)
    summary = record.get("summary")
    if summary is not None:
        for key, value in flatten(summary).items():
            row[f"summary.{key}" if key in row else key] = value
    return row


def results_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The results table of ``records`` with nullable column types (whole numbers stay
    whole where a failed run leaves a gap)."""
    rows = [result_row(r) for r in records]
    columns: list[str] = list(RECORD_COLUMNS)
    seen = set(columns)
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                columns.append(key)
    data = {}
    for column in columns:
        values = [row.get(column) for row in rows]
        dtype = _dtype(values)
        if dtype == "string":
            values = [None if v is None else str(v) for v in values]
        data[column] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(data, columns=columns)


def _dtype(values: Sequence[Any]) -> str:
    """The nullable column type of a figure from its Python values (not from whether a
    float happens to be whole, so a column keeps its type from one batch to the next)."""
    known = [v for v in values if v is not None]
    if known and all(isinstance(v, bool) for v in known):
        return "boolean"
    if known and all(isinstance(v, int) and not isinstance(v, bool) for v in known):
        return "Int64"
    if known and all(isinstance(v, int | float) and not isinstance(v, bool) for v in known):
        return "Float64"
    return "string"


def write_results(
    records: Sequence[Mapping[str, Any]], out_dir: Path
) -> tuple[Path, Path]:
    """Write ``results.csv`` and ``results.parquet`` into ``out_dir``, each atomically.

    Returns
    -------
    tuple of Path
        The CSV and the Parquet file.
    """
    frame = results_frame(records)
    csv_path = out_dir / RESULTS_CSV
    parquet_path = out_dir / RESULTS_PARQUET
    _atomic(csv_path, lambda tmp: frame.to_csv(tmp, index=False))
    _atomic(parquet_path, lambda tmp: frame.to_parquet(tmp, index=False, engine="pyarrow"))
    return csv_path, parquet_path


def _atomic(path: Path, write: Any) -> None:
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path.parent}: cannot write there ({exc.strerror})") from None
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_record(path: Path, record: Mapping[str, Any]) -> None:
    """Write a run record as JSON, atomically (a reader never sees half a record)."""
    text = json.dumps(plain(record), indent=2, ensure_ascii=False, default=str) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def read_record(path: Path) -> dict[str, Any] | None:
    """A run record, or ``None`` if missing or unreadable (the run is then redone)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
