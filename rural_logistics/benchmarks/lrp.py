"""Capacitated location-routing on the Prodhon-format sets (Prins, Tuzun, Barreto) vs BKS.

Cost conventions (``lrp/README.md`` of the benchmark data): cost-type flag 0 (Prins set)
prices each arc at ``ceil(100 × Euclidean)``, flag 1 (Tuzun, Barreto) at the plain real
Euclidean distance; the objective is depot opening costs + route fixed cost × routes +
travel. Every solution is checked by :func:`rural_logistics.lrp.evaluate_lrp` before its
row is written. Each instance is solved by the location-routing search and by the
sequential baseline (fixed-charge placement, then routing); the ``method`` column tells
them apart.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from rural_logistics.benchmarks.common import (
    BenchmarkTable,
    gap_line,
    gap_pct,
    mean,
    natural_key,
    select_instances,
)
from rural_logistics.errors import InfeasibleError, InputDataError
from rural_logistics.lrp import LrpProblem, LrpSolution, evaluate_lrp, solve_lrp, solve_sequential

COLUMNS = (
    "instance",
    "customers",
    "depots",
    "objective",
    "reference",
    "gap_pct",
    "seconds",
    "status",
    "feasible",
    "method",
)

#: ``--set`` → (folder under ``--data``, set name in ``bks.csv``).
SETS = {
    "prins": ("prins", "prins_ppw06"),
    "tuzun": ("tuzun", "tuzun_tb99"),
    "barreto": ("barreto/prodhon-format", "barreto"),
}


def read_prodhon(path: Path) -> tuple[LrpProblem, int]:
    """Read a Prodhon-format ``.dat`` file.

    Returns
    -------
    problem, decimals
        The instance under its cost convention, and the decimals its objective is
        reported with (0 for integer costs, 2 for real costs).

    Raises
    ------
    InputDataError
        When the file does not hold the expected numbers.
    """
    try:
        tokens = [float(t) for t in path.read_text(encoding="utf-8", errors="replace").split()]
    except ValueError as exc:
        raise InputDataError(f"{path}: not a Prodhon-format LRP file ({exc})") from None
    if len(tokens) < 2:
        raise InputDataError(f"{path}: not a Prodhon-format LRP file (too short)")
    n, m = int(tokens[0]), int(tokens[1])
    expected = 5 + 4 * m + 3 * n
    # coordOr117 writes each depot as ``x y .0 0.000``: four fields per depot line.
    width = 4 if len(tokens) == expected + 2 * m else 2
    if len(tokens) != expected + (width - 2) * m:
        raise InputDataError(
            f"{path}: expected {expected} numbers for {n} customers and {m} depots, "
            f"found {len(tokens)}"
        )
    pos = 2
    depot_xy = np.array(tokens[pos : pos + width * m]).reshape(m, width)[:, :2]
    pos += width * m
    cust_xy = np.array(tokens[pos : pos + 2 * n]).reshape(n, 2)
    pos += 2 * n
    q = tokens[pos]
    pos += 1
    cap = np.array(tokens[pos : pos + m])
    pos += m
    demand = np.array(tokens[pos : pos + n])
    pos += n
    opening = np.array(tokens[pos : pos + m])
    pos += m
    fixed, flag = tokens[pos], int(tokens[pos + 1])
    xy = np.vstack([depot_xy, cust_xy])
    diff = xy[:, None, :] - xy[None, :, :]
    dist = np.hypot(diff[..., 0], diff[..., 1])
    if flag == 0:
        cost, scale, decimals = np.ceil(100.0 * dist - 1e-9), 1, 0
    elif flag == 1:
        cost, scale, decimals = dist, 1000, 2
    else:
        raise InputDataError(f"{path}: cost-type flag must be 0 or 1, found {flag}")
    problem = LrpProblem(
        cost=cost,
        demand=demand.astype(np.int64),
        depot_capacity=cap,
        opening_cost=opening,
        vehicle_capacity=int(q),
        route_fixed_cost=float(fixed),
        cost_scale=scale,
    )
    return problem, decimals


def read_bks(root: Path, set_name: str) -> dict[str, float]:
    """``name → BKS`` of one set from ``bks.csv`` at the top of the data folder."""
    path = root / "bks.csv"
    if not path.is_file():
        raise InputDataError(f"{path}: reference table bks.csv not found")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        needed = {"set", "name", "bks"}
        if reader.fieldnames is None or not needed <= set(reader.fieldnames):
            raise InputDataError(f"{path}: needs columns set, name and bks")
        return {r["name"]: float(r["bks"]) for r in reader if r["set"] == set_name and r["bks"]}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``benchmark lrp``."""
    parser.add_argument("--set", choices=tuple(SETS), default="prins", help="instance set")
    parser.add_argument("--seed", type=int, default=0, help="random seed (PyVRP)")
    parser.add_argument(
        "--workers", type=int, default=2, choices=(1, 2),
        help="parallel confirming solves of the location-routing search",
    )
    parser.add_argument(
        "--baseline-time-limit", type=float, metavar="S",
        help="seconds for the sequential baseline (default a third of --time-limit)",
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the sequential baseline rows"
    )


def _row(
    name: str, problem: LrpProblem, decimals: int, reference: float | None,
    method: str, solve: Callable[[], LrpSolution],
) -> dict[str, Any]:
    try:
        sol = solve()
    except InfeasibleError as exc:
        return {
            "instance": name, "customers": problem.n_customers, "depots": problem.n_depots,
            "reference": reference, "status": f"no plan: {exc}", "feasible": False,
            "method": method,
        }
    check = evaluate_lrp(problem, sol.open_depots, sol.routes)
    objective: float | int = round(check.cost, decimals)
    if decimals == 0:
        objective = int(objective)
    return {
        "instance": name,
        "customers": problem.n_customers,
        "depots": problem.n_depots,
        "objective": objective,
        "reference": reference,
        "gap_pct": gap_pct(objective, reference) if check.feasible else None,
        "seconds": round(sol.seconds, 1),
        "status": "solved" if check.feasible else "infeasible: " + check.errors[0],
        "feasible": check.feasible,
        "method": method,
        "open": "+".join(str(d + 1) for d in sol.open_depots),
        "routes": len(sol.routes),
    }


def run(args: argparse.Namespace, *, on_row: Callable[[dict[str, Any]], None]) -> BenchmarkTable:
    """Run ``benchmark lrp``."""
    folder_name, set_name = SETS[args.set]
    folder = Path(args.data) / folder_name
    if not folder.is_dir():
        raise InputDataError(f"{folder}: benchmark folder not found (use --data)")
    files = {p.stem: p for p in sorted(folder.glob("*.dat"))}
    references = read_bks(Path(args.data), set_name)
    names = select_instances(sorted(files, key=natural_key), args.instances, source=folder)
    base_s = args.baseline_time_limit or args.time_limit / 3
    rows = []
    for name in names:
        problem, decimals = read_prodhon(files[name])
        ref = references.get(name)
        runs: list[tuple[str, Callable[[], LrpSolution]]] = [
            ("location_routing", partial(
                solve_lrp, problem, time_limit_s=args.time_limit, seed=args.seed,
                workers=args.workers,
            )),
        ]
        if not args.no_baseline:
            runs.append(("sequential", partial(
                solve_sequential, problem, time_limit_s=base_s, seed=args.seed
            )))
        for method, solve in runs:
            row = _row(name, problem, decimals, ref, method, solve)
            rows.append(row)
            on_row(row)
    return BenchmarkTable(name="lrp", columns=COLUMNS, rows=rows, summary=summarize(rows))


def summarize(rows: list[dict[str, Any]]) -> list[str]:
    """Mean and worst gap per method, and the mean difference between them."""
    lines = []
    means: dict[str, float | None] = {}
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        means[method] = mean(r.get("gap_pct") for r in mine)
        text = gap_line(method, mine, cpu=False)
        text += f", mean {mean(r.get('seconds') for r in mine) or 0:.1f} s"
        lines.append(text)
    lr, seq = means.get("location_routing"), means.get("sequential")
    if lr is not None and seq is not None:
        lines.append(f"location_routing vs sequential: {seq - lr:.3f} percentage points better")
    return lines




__all__ = ["COLUMNS", "SETS", "add_arguments", "read_bks", "read_prodhon", "run"]
