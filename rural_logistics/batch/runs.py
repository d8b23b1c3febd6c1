"""The runs of a batch: config files, globs or a manifest CSV → :class:`BatchRun` list;
the effective config of a run; its fingerprint for ``--resume``.

A manifest is a CSV file (UTF-8, a BOM from Excel is fine) with a header row. Columns:

``config`` (required)
    The region config YAML, relative to the manifest's folder (or absolute).
``run_id``
    The run's name, its folder under ``runs/`` (default: the config file's name without
    ``.yaml``, made unique by its folder when two configs share a name).
``scenario``, ``stations``, ``seed``, ``time_limit_s``
    Per-run overrides, as ``solve --scenario/--stations/--seed/--time-limit``. A blank
    cell keeps the batch-wide value (the ``batch`` option), else the config's own.

Blank lines and lines whose first cell starts with ``#`` are skipped. Any other column
is an error (a misspelt override must not be silently ignored).
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rural_logistics.config import RegionConfig, load_config
from rural_logistics.errors import ConfigError, InputDataError, RuralLogisticsError, read_text

MANIFEST_COLUMNS = ("run_id", "config", "scenario", "stations", "seed", "time_limit_s")
OVERRIDES = ("scenario", "stations", "seed", "time_limit_s")
CONFIG_SUFFIXES = (".yaml", ".yml")
_GLOB_CHARS = re.compile(r"[*?\[]")
_MAX_RUN_ID = 100


@dataclass(frozen=True)
class BatchRun:
    """One run of a batch: a config and its overrides.

    Attributes
    ----------
    run_id
        Unique name of the run in the batch; its folder is ``runs/RUN_ID``.
    config
        The region config file.
    scenario, stations, seed, time_limit_s
        Overrides (``None``: the config's own value).
    source
        Where the run was given (``manifest.csv row 4`` or the config path), for messages.
    """

    run_id: str
    config: Path
    scenario: str | None = None
    stations: int | None = None
    seed: int | None = None
    time_limit_s: float | None = None
    source: str = ""

    def overrides(self) -> dict[str, Any]:
        """The overrides that are set, by name."""
        values = {k: getattr(self, k) for k in OVERRIDES}
        return {k: v for k, v in values.items() if v is not None}


def check_run_id(run_id: str) -> str | None:
    """Why ``run_id`` cannot name a run folder, or ``None`` if it can."""
    if not run_id:
        return "is empty"
    if len(run_id) > _MAX_RUN_ID:
        return f"is longer than {_MAX_RUN_ID} characters"
    if run_id.startswith(".") or "/" in run_id or "\\" in run_id:
        return "must not start with '.' or contain '/' or '\\'"
    if not run_id.isprintable() or run_id != run_id.strip():
        return "must not contain control characters or start or end with a space"
    return None


def collect_runs(
    inputs: Sequence[str | Path],
    *,
    scenario: str | None = None,
    stations: int | None = None,
    seed: int | None = None,
    time_limit_s: float | None = None,
) -> list[BatchRun]:
    """The runs named by ``inputs``: config files, folders of them, globs, or one manifest.

    Parameters
    ----------
    inputs
        Either one manifest ``.csv`` file, or any number of config files, folders (their
        ``*.yaml``/``*.yml`` files) and glob patterns (``counties/*/config.yaml``,
        ``**`` for any depth). A config path that does not exist is kept: that run fails
        with "config file not found", as ``solve`` would.
    scenario, stations, seed, time_limit_s
        Batch-wide overrides; a manifest cell, where given, wins.

    Returns
    -------
    list of BatchRun
        In the order given (a glob's and a folder's files sorted by path).

    Raises
    ------
    InputDataError
        Listing every problem: a manifest mixed with other inputs, a glob or folder that
        matches no config, a bad manifest cell or column, duplicate run ids.
    """
    defaults = {"scenario": scenario, "stations": stations, "seed": seed,
                "time_limit_s": time_limit_s}
    paths = [Path(p) for p in inputs]
    if not paths:
        raise InputDataError("batch: give config files, a glob or a manifest CSV")
    manifests = [p for p in paths if p.suffix.lower() == ".csv"]
    if manifests:
        if len(paths) > 1:
            raise InputDataError(
                f"batch: give one manifest CSV alone, or config files and globs "
                f"(got {len(manifests)} CSV file(s) among {len(paths)} inputs)"
            )
        return read_manifest(manifests[0], defaults=defaults)
    problems: list[str] = []
    configs: list[Path] = []
    for given in inputs:
        text = str(given)
        if _GLOB_CHARS.search(text) and not Path(text).exists():
            found = sorted(
                Path(p) for p in glob.glob(text, recursive=True)
                if Path(p).suffix.lower() in CONFIG_SUFFIXES and Path(p).is_file()
            )
            if not found:
                problems.append(f"{text}: no .yaml/.yml config file matches this pattern")
            configs.extend(found)
        elif Path(text).is_dir():
            found = sorted(p for p in Path(text).iterdir()
                           if p.suffix.lower() in CONFIG_SUFFIXES and p.is_file())
            if not found:
                problems.append(f"{text}: folder has no .yaml/.yml config file")
            configs.extend(found)
        else:
            configs.append(Path(text))
    if problems:
        raise InputDataError(problems)
    unique: list[Path] = []
    seen: set[Path] = set()
    for path in configs:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    ids = _run_ids_from_paths(unique)
    runs = [
        BatchRun(run_id=run_id, config=path, source=str(path),
                 **{k: v for k, v in defaults.items()})  # type: ignore[arg-type]
        for run_id, path in zip(ids, unique, strict=True)
    ]
    bad = [f"{r.config}: run id {r.run_id!r} {why}" for r in runs
           if (why := check_run_id(r.run_id)) is not None]
    if bad:
        raise InputDataError(bad)
    return runs


def _run_ids_from_paths(paths: Sequence[Path]) -> list[str]:
    """File names without suffix; where two collide, the path from the configs' common
    folder with ``/`` as ``-`` (``a/config.yaml`` and ``b/config.yaml`` → ``a-config``,
    ``b-config``)."""
    stems = [p.stem for p in paths]
    if len(set(stems)) == len(stems):
        return stems
    absolute = [p.resolve() for p in paths]
    common = Path(os.path.commonpath([str(p.parent) for p in absolute]))
    ids = []
    for stem, path in zip(stems, absolute, strict=True):
        if stems.count(stem) == 1:
            ids.append(stem)
        else:
            ids.append("-".join(path.with_suffix("").relative_to(common).parts))
    return ids


def read_manifest(path: Path, *, defaults: dict[str, Any] | None = None) -> list[BatchRun]:
    """Read a manifest CSV (see the module docstring).

    Parameters
    ----------
    path
        The manifest file.
    defaults
        Batch-wide overrides for blank cells (keys of :data:`OVERRIDES`).

    Returns
    -------
    list of BatchRun
        In file order; config paths resolved against the manifest's folder.

    Raises
    ------
    InputDataError
        Listing every problem, each naming the file, row and column.
    """
    defaults = defaults or {}
    text = read_text(path, what="manifest file", expected="a manifest CSV file",
                     error=InputDataError, encoding="utf-8-sig")
    rows = list(csv.reader(text.splitlines()))
    numbered = [(i + 1, r) for i, r in enumerate(rows)
                if any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if not numbered:
        raise InputDataError(f"{path}: manifest is empty (expected a header row with 'config')")
    header_line, header = numbered[0]
    columns = [c.strip() for c in header]
    problems: list[str] = []
    unknown = [c for c in columns if c not in MANIFEST_COLUMNS]
    if unknown:
        problems.append(
            f"{path}: unknown column(s) {', '.join(repr(c) for c in unknown)} "
            f"(known: {', '.join(MANIFEST_COLUMNS)})"
        )
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        problems.append(f"{path}: column(s) {', '.join(dupes)} appear more than once")
    if "config" not in columns:
        problems.append(f"{path}: no 'config' column in the header row (line {header_line})")
    if problems:
        raise InputDataError(problems)
    base = path.parent
    runs: list[BatchRun] = []
    for line, row in numbered[1:]:
        where = f"{path}: row {line}"
        if len(row) > len(columns):
            problems.append(f"{where}: {len(row)} cells, more than the {len(columns)} columns")
            continue
        cells = {c: (row[i].strip() if i < len(row) else "") for i, c in enumerate(columns)}
        values: dict[str, Any] = {}
        for key in OVERRIDES:
            raw = cells.get(key, "")
            if raw == "":
                values[key] = defaults.get(key)
                continue
            value, why = _parse_cell(key, raw)
            if why:
                problems.append(f"{where}: {key}: {raw!r} {why}")
            values[key] = value
        if not cells["config"]:
            problems.append(f"{where}: config: empty (every row needs a config file)")
            continue
        config = Path(cells["config"])
        config = config if config.is_absolute() else base / config
        run_id = cells.get("run_id") or ""
        runs.append(BatchRun(run_id=run_id, config=config, source=where, **values))
    if not runs and not problems:
        problems.append(f"{path}: manifest has a header but no run")
    if problems:
        raise InputDataError(problems)
    missing_ids = [i for i, r in enumerate(runs) if not r.run_id]
    if missing_ids:
        derived = _run_ids_from_paths([runs[i].config for i in missing_ids])
        for i, run_id in zip(missing_ids, derived, strict=True):
            runs[i] = replace(runs[i], run_id=run_id)
    for run in runs:
        if (bad := check_run_id(run.run_id)) is not None:
            problems.append(f"{run.source}: run_id: {run.run_id!r} {bad}")
    seen: dict[str, str] = {}
    for run in runs:
        if run.run_id in seen:
            problems.append(
                f"{run.source}: run_id {run.run_id!r} already used by {seen[run.run_id]} "
                "(give each row its own run_id)"
            )
        seen.setdefault(run.run_id, run.source)
    if problems:
        raise InputDataError(problems)
    return runs


def _parse_cell(key: str, raw: str) -> tuple[Any, str]:
    """A manifest override cell → (value, why it is bad or "")."""
    if key == "scenario":
        return raw, ""
    if key in ("stations", "seed"):
        try:
            value = int(raw)
        except ValueError:
            return None, "is not a whole number"
        low = 1 if key == "stations" else 0
        return (value, "") if value >= low else (None, f"must be >= {low}")
    try:
        number = float(raw)
    except ValueError:
        return None, "is not a number"
    if not (0 < number <= 86_400):
        return None, "must be more than 0 and at most 86400 seconds"
    return number, ""


def effective_config(run: BatchRun, *, solve_workers: int | None = None) -> RegionConfig:
    """The config a run solves: the file, its overrides and ``routing.workers``.

    Raises
    ------
    ConfigError
        If the file or an override is invalid.
    """
    config = load_config(run.config).with_overrides(
        scenario=run.scenario, stations=run.stations, seed=run.seed,
        time_limit_s=run.time_limit_s,
    )
    if solve_workers is None or config.routing.workers == solve_workers:
        return config
    data = config.model_dump()
    data["routing"]["workers"] = solve_workers
    try:
        return RegionConfig.model_validate(data)
    except ValueError as exc:
        raise ConfigError(f"{run.config}: routing.workers = {solve_workers}: {exc}") from None


def _paths(value: Any, prefix: str = "") -> list[tuple[str, Path]]:
    """Every ``Path`` in a (nested) config dump, keyed by its dotted location."""
    if isinstance(value, Path):
        return [(prefix, value)]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _paths(v, f"{prefix}.{k}".lstrip("."))]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in _paths(v, f"{prefix}.{i}")]
    return []


class FileHasher:
    """SHA-256 of data files, each file read once per batch (runs share datasets)."""

    def __init__(self) -> None:
        self._done: dict[Path, str] = {}

    def __call__(self, path: Path) -> str:
        path = Path(path).resolve()
        if path not in self._done:
            self._done[path] = _hash_path(path)
        return self._done[path]


def _hash_path(path: Path) -> str:
    if path.is_dir():
        digest = hashlib.sha256()
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(child.relative_to(path)).encode())
            digest.update(_hash_path(child).encode())
        return digest.hexdigest()
    try:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError:
        return "unreadable"


def fingerprint(
    run: BatchRun, *, solve_workers: int, map_png: bool, hasher: FileHasher | None = None
) -> str:
    """A hash of everything that decides a run's outputs: its effective config and the
    content of every data file it names, and the batch options that change the files.

    A run whose fingerprint matches its previous finished run is skipped by ``--resume``.
    An invalid config is fingerprinted by its file bytes (it fails again anyway).

    Returns
    -------
    str
        16 hex digits.
    """
    hasher = hasher or FileHasher()
    payload: dict[str, Any] = {"batch": {"solve_workers": solve_workers, "map_png": map_png}}
    try:
        config = effective_config(run, solve_workers=solve_workers)
    except RuralLogisticsError:
        payload["config_file"] = hasher(run.config) if run.config.exists() else "missing"
        payload["overrides"] = run.overrides()
    else:
        payload["config"] = config.model_dump(mode="json")
        payload["data"] = {
            key: hasher(value) if value.exists() else "missing"
            for key, value in _paths(config.data.model_dump())
        }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
