"""p-median on OR-Library pmed1–40 (Beasley 1985) against the published optima.

Every vertex is a client of weight 1 and a candidate site; costs are shortest-path
lengths with the OR-Library rule that a repeated edge's last line wins. Columns:
``instance,n,p,objective,reference,gap_pct,bound,seconds,status`` (plus ``engine`` with
``--compare``, whose rows solve the same instance with PySAL spopt + CBC).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from rural_logistics.benchmarks.common import BenchmarkTable, gap_pct, select_instances
from rural_logistics.errors import InputDataError

COLUMNS = (
    "instance",
    "n",
    "p",
    "objective",
    "reference",
    "gap_pct",
    "bound",
    "seconds",
    "status",
)


@dataclass(frozen=True)
class PmedInstance:
    """One OR-Library p-median instance.

    Attributes
    ----------
    name
        Instance name (``pmed1`` …).
    cost
        ``(n, n)`` shortest-path distances; every vertex is a client (weight 1) and a site.
    p
        Number of medians.
    """

    name: str
    cost: np.ndarray
    p: int


def read_pmed(path: Path) -> PmedInstance:
    """Read an OR-Library ``pmed`` file into its shortest-path matrix.

    Edges are read in order and a repeated edge overwrites the earlier one (the
    OR-Library erratum), then all-pairs shortest paths are computed.

    Raises
    ------
    InputDataError
        If the file is missing or malformed.
    """
    try:
        tokens = path.read_text(encoding="ascii").split()
    except OSError as exc:
        raise InputDataError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        n, n_edges, p = (int(t) for t in tokens[:3])
        edges = np.array(tokens[3 : 3 + 3 * n_edges], dtype=np.int64).reshape(n_edges, 3)
    except ValueError:
        raise InputDataError(f"{path}: expected 'n edges p' then 'i j cost' lines") from None
    weight: dict[tuple[int, int], int] = {}
    for i, j, c in edges:
        a, b = int(i) - 1, int(j) - 1
        if a == b:
            continue
        weight[(min(a, b), max(a, b))] = int(c)
    rows = np.array([k[0] for k in weight], dtype=np.int64)
    cols = np.array([k[1] for k in weight], dtype=np.int64)
    vals = np.array(list(weight.values()), dtype=float)
    graph = csr_matrix((vals, (rows, cols)), shape=(n, n))
    cost = shortest_path(graph, method="D", directed=False)
    return PmedInstance(name=path.stem, cost=cost, p=p)


def read_optima(folder: Path) -> dict[str, dict[str, str]]:
    """Rows of ``optima.csv`` by instance name."""
    path = folder / "optima.csv"
    try:
        with path.open(encoding="utf-8") as handle:
            return {row["name"]: row for row in csv.DictReader(handle)}
    except OSError:
        raise InputDataError(f"{path}: cannot read the table of published optima") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``benchmark pmed``."""
    parser.add_argument(
        "--compare",
        choices=["spopt"],
        help="also run PySAL spopt's PMedian (PuLP + CBC) on the same instances",
    )
    parser.add_argument(
        "--engine",
        choices=["HIGHS", "SCIP"],
        default="HIGHS",
        help="MIP solver used to prove optimality (default HIGHS)",
    )


def _spopt_row(inst: PmedInstance, time_limit_s: float) -> dict[str, Any]:
    from rural_logistics.benchmarks.spopt_compare import solve_with_spopt

    start = time.perf_counter()
    objective, status = solve_with_spopt(inst.cost, inst.p, time_limit_s=time_limit_s)
    return {"objective": objective, "status": status, "seconds": time.perf_counter() - start}


def run(args: argparse.Namespace, *, on_row: Callable[[dict[str, Any]], None]) -> BenchmarkTable:
    """Solve the selected pmed instances (and, with ``--compare spopt``, the same with spopt)."""
    from rural_logistics.placement import solve_p_median

    folder = Path(args.data)
    optima = read_optima(folder)
    available = [name for name in optima if (folder / f"{name}.txt").exists()]
    names = select_instances(available, args.instances, source=folder)
    rows: list[dict[str, Any]] = []
    for name in names:
        inst = read_pmed(folder / f"{name}.txt")
        reference = float(optima[name]["optimum"])
        start = time.perf_counter()
        result = solve_p_median(
            inst.cost,
            np.ones(len(inst.cost)),
            p=inst.p,
            time_limit_s=args.time_limit,
            engine=args.engine,
        )
        seconds = time.perf_counter() - start
        row = {
            "instance": name,
            "engine": "rural_logistics",
            "n": len(inst.cost),
            "p": inst.p,
            "objective": result.objective,
            "reference": reference,
            "gap_pct": gap_pct(result.objective, reference),
            "bound": result.bound,
            "seconds": round(seconds, 3),
            "status": result.status,
        }
        rows.append(row)
        on_row(row)
        if args.compare == "spopt":
            other = _spopt_row(inst, args.time_limit)
            row2 = {
                "instance": name,
                "engine": "spopt",
                "n": len(inst.cost),
                "p": inst.p,
                "objective": other["objective"],
                "reference": reference,
                "gap_pct": gap_pct(other["objective"], reference),
                "bound": None,
                "seconds": round(other["seconds"], 3),
                "status": other["status"],
            }
            rows.append(row2)
            on_row(row2)
    columns = (*COLUMNS, "engine") if args.compare else COLUMNS
    return BenchmarkTable(name="pmed", columns=columns, rows=rows, summary=summarize(rows))


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    """Summary lines: how many at the reference, proven, time statistics, spopt ratio."""
    lines = []
    ours = [r for r in rows if r["engine"] == "rural_logistics"]
    if ours:
        at_ref = sum(1 for r in ours if r["gap_pct"] is not None and abs(r["gap_pct"]) < 1e-9)
        proven = sum(1 for r in ours if r["status"] == "optimal")
        secs = [float(r["seconds"]) for r in ours]
        lines.append(
            f"rural_logistics: {at_ref}/{len(ours)} at the published optimum, "
            f"{proven}/{len(ours)} proven optimal, median {statistics.median(secs):.2f} s, "
            f"max {max(secs):.2f} s"
        )
    theirs = [r for r in rows if r["engine"] == "spopt"]
    if theirs:
        at_ref = sum(1 for r in theirs if r["gap_pct"] is not None and abs(r["gap_pct"]) < 1e-9)
        secs_t = [float(r["seconds"]) for r in theirs]
        names = {r["instance"] for r in theirs}
        secs_o = [float(r["seconds"]) for r in ours if r["instance"] in names]
        ratio = statistics.median(secs_t) / max(statistics.median(secs_o), 1e-9)
        lines.append(
            f"spopt (PuLP/CBC): {at_ref}/{len(theirs)} at the published optimum, median "
            f"{statistics.median(secs_t):.2f} s, max {max(secs_t):.2f} s; median-time ratio "
            f"spopt / rural_logistics = {ratio:.1f}x on the same {len(theirs)} instance(s)"
        )
    return lines
