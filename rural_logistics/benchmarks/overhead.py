"""Wall time against the time limit: does a whole solve stay within its budget?

``solver.time_limit_s`` is the solver time of the whole run: placement and the delivery
(routing, location-routing's search, both hub tiers) share one budget of that many
seconds. Everything else is overhead: reading and preparing the region (road network,
travel matrices), assembling the plan, writing the run folder. For each time limit (and
repeat) the config is solved as ``solve`` does it — :func:`plan_region` with its stages
timed through the progress callback, then :func:`write_run` into a temporary folder —
and the row reports the time of each part, the wall time, its excess over the time
limit, whether that stays within ``--allowance`` seconds, and whether ``summary.json``
(timing fields aside) is identical to the first run with the same limit (determinism).
``--data`` is not used.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rural_logistics.benchmarks.common import BenchmarkTable
from rural_logistics.config import load_config
from rural_logistics.errors import InputDataError
from rural_logistics.summary import Summary

COLUMNS = (
    "config",
    "time_limit_s",
    "repeat",
    "prepare_s",
    "placement_s",
    "delivery_s",
    "assemble_s",
    "write_s",
    "wall_s",
    "excess_s",
    "within",
    "status",
    "same_as_first",
)
#: Fields of summary.json that measure time rather than the plan.
TIMING_FIELDS = (
    ("solve_seconds",), ("placement", "solve_seconds"), ("routing", "solve_seconds"),
    ("location_routing", "solve_seconds"),
)
#: Progress stages of preparing the region (see rural_logistics.region).
PREPARE_STAGES = (
    "reading inputs", "building the road network", "estimating demand",
    "computing travel matrices",
)


class StageClock:
    """A progress reporter that records how long each stage took."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = time.perf_counter() - start

    def parts(self) -> tuple[float, float, float, float]:
        """Preparing, placement, delivery and assembling seconds."""
        prepare = sum(v for k, v in self.seconds.items() if k in PREPARE_STAGES)
        placing = sum(v for k, v in self.seconds.items() if k.startswith("placing"))
        assemble = self.seconds.get("assembling the plan", 0.0)
        delivery = sum(self.seconds.values()) - prepare - placing - assemble
        return prepare, placing, delivery, assemble


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``benchmark solve-overhead``."""
    parser.add_argument("--config", type=Path, default=Path("configs/demo_county.yaml"),
                        help="region config to solve (default configs/demo_county.yaml)")
    parser.add_argument("--limits", default="2,5,10", metavar="S,S,…",
                        help="time limits to try, solver seconds per run (default 2,5,10; "
                        "--time-limit S runs that one only)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs per time limit with the same seed (default 2)")
    parser.add_argument("--allowance", type=float, default=5.0, metavar="S",
                        help="overhead allowed beyond the time limit, seconds (default 5)")
    parser.set_defaults(time_limit=None)


def without_timing(summary: Summary) -> str:
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
    from rural_logistics.outputs import write_run
    from rural_logistics.pipeline import plan_region

    base = load_config(args.config)
    rows: list[dict[str, Any]] = []
    for limit in _limits(args):
        config = base.with_overrides(time_limit_s=limit)
        first: str | None = None
        for repeat in range(1, max(1, args.repeats) + 1):
            clock = StageClock()
            start = time.perf_counter()
            plan = plan_region(config, progress=clock)
            written = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="rl-overhead-") as folder:
                write_run(plan, Path(folder) / "run", config=config)
            end = time.perf_counter()
            prepare, placing, delivery, assemble = clock.parts()
            wall = end - start
            text = without_timing(plan.summary)
            first = text if first is None else first
            row = {
                "config": args.config.name,
                "time_limit_s": limit,
                "repeat": repeat,
                "prepare_s": round(prepare, 2),
                "placement_s": round(placing, 2),
                "delivery_s": round(delivery, 2),
                "assemble_s": round(assemble, 2),
                "write_s": round(end - written, 2),
                "wall_s": round(wall, 2),
                "excess_s": round(wall - limit, 2),
                "within": wall <= limit + args.allowance,
                "status": plan.summary["status"],
                "same_as_first": text == first,
            }
            rows.append(row)
            on_row(row)
    within = sum(bool(r["within"]) for r in rows)
    worst = max((r["excess_s"] for r in rows), default=0.0)
    solver_over = max(
        (r["placement_s"] + r["delivery_s"] - r["time_limit_s"] for r in rows), default=0.0
    )
    same = all(r["same_as_first"] for r in rows)
    summary = [
        f"{within}/{len(rows)} runs within the time limit + {args.allowance:g} s; largest "
        f"excess of the wall time over the limit {worst:+.2f} s",
        f"solver stages (placement + delivery) over the limit by at most {solver_over:+.2f} s",
        "summary.json identical across repeats (timing fields aside): "
        + ("yes" if same else "no (the time-limited search found different plans)"),
    ]
    return BenchmarkTable(name="solve-overhead", columns=COLUMNS, rows=rows, summary=summary)
