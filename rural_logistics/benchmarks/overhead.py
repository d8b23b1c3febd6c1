"""solve_seconds against the time limit: does a whole solve stay within its budget?

``solver.time_limit_s`` applies to each solver stage (placement, then routing), so a
solve's budget is ``stages × time limit``; everything else (reading, the road network,
travel matrices, assembling the plan) is overhead. For each time limit (and repeat) the
pipeline is run on a region config and the row reports the stages' own times, the
overhead, ``solve_seconds`` from ``summary.json``, its excess over the budget, whether it
stays within ``--allowance`` seconds of it, and whether ``summary.json`` (timing fields
aside) is identical to the first run with the same limit (determinism). Writing files
is not part of ``solve_seconds`` and not measured. ``--data`` is not used.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rural_logistics.benchmarks.common import BenchmarkTable
from rural_logistics.config import load_config
from rural_logistics.errors import InputDataError

COLUMNS = (
    "config",
    "time_limit_s",
    "repeat",
    "placement_s",
    "routing_s",
    "overhead_s",
    "solve_seconds",
    "budget_s",
    "excess_s",
    "within",
    "status",
    "same_as_first",
)
#: Fields of summary.json that measure time rather than the plan.
TIMING_FIELDS = (("solve_seconds",), ("placement", "solve_seconds"), ("routing", "solve_seconds"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``benchmark solve-overhead``."""
    parser.add_argument("--config", type=Path, default=Path("configs/demo_county.yaml"),
                        help="region config to solve (default configs/demo_county.yaml)")
    parser.add_argument("--limits", default="2,5,10", metavar="S,S,…",
                        help="time limits to try, seconds per stage (default 2,5,10; "
                        "--time-limit S runs that one only)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs per time limit with the same seed (default 2)")
    parser.add_argument("--allowance", type=float, default=5.0, metavar="S",
                        help="overhead allowed beyond the budget, seconds (default 5)")
    parser.set_defaults(time_limit=None)


def without_timing(summary: dict[str, Any]) -> str:
    """summary.json text with the timing fields removed (to compare runs)."""
    data = json.loads(json.dumps(summary, default=str))
    for path in TIMING_FIELDS:
        node = data
        for key in path[:-1]:
            node = node.get(key, {})
        node.pop(path[-1], None)
    return json.dumps(data, sort_keys=True)


def _limits(args: argparse.Namespace) -> list[float]:
    if getattr(args, "time_limit", None) is not None:
        return [float(args.time_limit)]
    try:
        return [float(x) for x in str(args.limits).split(",") if x.strip()]
    except ValueError:
        raise InputDataError(
            f"--limits: expected comma-separated seconds, got {args.limits!r}"
        ) from None


def run(
    args: argparse.Namespace, *, on_row: Callable[[dict[str, Any]], None]
) -> BenchmarkTable:
    """Solve the config at each time limit ``--repeats`` times; one row per run."""
    from rural_logistics.outputs import summary_json
    from rural_logistics.pipeline import plan_region

    base = load_config(args.config)
    rows: list[dict[str, Any]] = []
    stages = 2
    for limit in _limits(args):
        config = base.with_overrides(time_limit_s=limit)
        first: str | None = None
        for repeat in range(1, max(1, args.repeats) + 1):
            plan = plan_region(config)
            s = json.loads(summary_json(plan.summary))
            placement_s = float(s["placement"].get("solve_seconds") or 0.0)
            routing_s = float(s["routing"].get("solve_seconds") or 0.0)
            total = float(s["solve_seconds"])
            budget = stages * limit
            text = without_timing(s)
            first = text if first is None else first
            row = {
                "config": args.config.name,
                "time_limit_s": limit,
                "repeat": repeat,
                "placement_s": placement_s,
                "routing_s": routing_s,
                "overhead_s": round(total - placement_s - routing_s, 2),
                "solve_seconds": total,
                "budget_s": budget,
                "excess_s": round(total - budget, 2),
                "within": total <= budget + args.allowance,
                "status": s.get("status"),
                "same_as_first": text == first,
            }
            rows.append(row)
            on_row(row)
    within = sum(bool(r["within"]) for r in rows)
    worst = max((r["excess_s"] for r in rows), default=0.0)
    same = all(r["same_as_first"] for r in rows)
    summary = [
        f"{within}/{len(rows)} runs within budget (stages × time limit) + {args.allowance:g} s; "
        f"largest excess over the budget {worst:+.2f} s",
        "summary.json identical across repeats (timing fields aside): "
        + ("yes" if same else "no (the time-limited search found different plans)"),
    ]
    return BenchmarkTable(name="solve-overhead", columns=COLUMNS, rows=rows, summary=summary)
