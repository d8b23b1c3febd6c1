"""Capacitated and uncapacitated facility location on OR-Library cap* (Beasley 1988, 1993).

Multi-source, as the published optima assume: a customer's demand may be split, serving a
share ``x`` from a warehouse costs ``x`` times the file's all-demand cost. Rows: the
capacitated variant under the optima.csv name (``cap41``, ``capa@8000``), the
uncapacitated one as ``NAME:ufl``; ``n`` = customers, ``p`` = warehouses opened.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rural_logistics.benchmarks.common import BenchmarkTable, gap_pct, select_instances
from rural_logistics.benchmarks.pmed import COLUMNS, read_optima
from rural_logistics.errors import InfeasibleError, InputDataError

if TYPE_CHECKING:
    from rural_logistics.placement import PlacementResult

@dataclass(frozen=True)
class CflInstance:
    """One OR-Library warehouse location instance.

    Attributes
    ----------
    capacity
        ``(m,)`` warehouse capacities (``nan`` where the file has the word ``capacity``).
    fixed_cost
        ``(m,)`` opening costs.
    demand
        ``(n,)`` customer demands.
    assign_cost
        ``(n, m)`` cost of serving all of a customer's demand from a warehouse.
    """

    capacity: np.ndarray
    fixed_cost: np.ndarray
    demand: np.ndarray
    assign_cost: np.ndarray


def read_cfl(path: Path) -> CflInstance:
    """Read an OR-Library ``cap*`` file (whitespace-separated; line breaks carry no meaning).

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
        m, n = int(tokens[0]), int(tokens[1])
        head = tokens[2 : 2 + 2 * m]
        capacity = np.array(
            [float("nan") if t.lower() == "capacity" else float(t) for t in head[0::2]]
        )
        fixed = np.array(head[1::2], dtype=float)
        body = np.array(tokens[2 + 2 * m : 2 + 2 * m + n * (m + 1)], dtype=float)
        body = body.reshape(n, m + 1)
    except (ValueError, IndexError):
        raise InputDataError(f"{path}: not in the OR-Library cap* layout") from None
    return CflInstance(capacity, fixed, body[:, 0], body[:, 1:])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``benchmark cfl``."""
    parser.add_argument(
        "--variant",
        choices=["all", "capacitated", "uncapacitated"],
        default="all",
        help="which published optima to run against (default all)",
    )
    parser.add_argument(
        "--engine", choices=["HIGHS", "SCIP"], default="HIGHS", help="MIP solver (default HIGHS)"
    )


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def run(args: argparse.Namespace, *, on_row: Callable[[dict[str, Any]], None]) -> BenchmarkTable:
    """Solve the selected instances; capacitated ones multi-source, as the optima assume."""
    from rural_logistics.placement.models import solve_fixed_charge

    folder = Path(args.data)
    optima = read_optima(folder)
    names = select_instances(list(optima), args.instances, source=folder)
    rows: list[dict[str, Any]] = []
    cache: dict[str, CflInstance] = {}
    for name in names:
        spec = optima[name]
        jobs = []
        if args.variant in ("all", "capacitated") and _number(spec["optimum_capacitated"]):
            jobs.append(("capacitated", _number(spec["optimum_capacitated"])))
        if args.variant in ("all", "uncapacitated") and _number(spec["optimum_uncapacitated"]):
            jobs.append(("uncapacitated", _number(spec["optimum_uncapacitated"])))
        if not jobs:
            continue
        file = spec["file"]
        if file not in cache:
            cache = {file: read_cfl(folder / file)}
        inst = cache[file]
        for variant, reference in jobs:
            capacity = None
            if variant == "capacitated":
                given = _number(spec["capacity"])
                capacity = inst.capacity.copy()
                unknown = ~np.isfinite(capacity)
                if unknown.any():
                    if given is None:
                        raise InputDataError(
                            f"{folder / 'optima.csv'}: {name}: capacity column is needed"
                        )
                    capacity[unknown] = given
            start = time.perf_counter()
            try:
                result: PlacementResult | None = solve_fixed_charge(
                    inst.assign_cost,
                    inst.demand,
                    inst.fixed_cost,
                    capacity=capacity,
                    time_limit_s=args.time_limit,
                    engine=args.engine,
                )
            except InfeasibleError:  # no plan within the time limit: a row, not a stop
                result = None
            seconds = time.perf_counter() - start
            row = {
                "instance": name if variant == "capacitated" else f"{name}:ufl",
                "n": len(inst.demand),
                "p": len(result.open_sites) if result else None,
                "objective": round(result.objective, 4) if result else None,
                "reference": reference,
                "gap_pct": gap_pct(result.objective, reference) if result else None,
                "bound": round(result.bound, 4) if result else None,
                "seconds": round(seconds, 3),
                "status": result.status if result else "no solution",
            }
            rows.append(row)
            on_row(row)
    return BenchmarkTable(name="cfl", columns=COLUMNS, rows=rows, summary=summarize(rows))


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    """One line: how many within 1e-6 relative of the published optimum, time statistics."""
    if not rows:
        return ["no instances run"]
    # Published values carry 3 decimals: count a match when within 1e-6 relative.
    at_ref = sum(1 for r in rows if r["gap_pct"] is not None and abs(r["gap_pct"]) < 1e-4)
    proven = sum(1 for r in rows if r["status"] == "optimal")
    secs = [float(r["seconds"]) for r in rows]
    return [
        f"cfl: {at_ref}/{len(rows)} at the published optimum (relative gap < 1e-6), "
        f"{proven}/{len(rows)} proven optimal, median {statistics.median(secs):.2f} s, "
        f"max {max(secs):.2f} s"
    ]
