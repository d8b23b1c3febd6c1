"""MDVRP on Cordeau's multi-depot instances against the best-known solutions.

Cost convention (Cordeau et al. 1997, the folder's README): total travel distance with
exact double-precision Euclidean arcs, BKS to 2 decimals. Each depot has ``m`` identical
vehicles; a route starts and ends at its depot; when the file gives a duration limit
``D > 0``, route travel plus service time is at most ``D``. Each plan is checked by the
independent checker (:mod:`.fleet_check`: every customer once, capacity, at most ``m``
routes per depot, the duration limit; cost recomputed from the coordinates) before its
row is written.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rural_logistics.benchmarks.common import BenchmarkTable, natural_key, select_instances
from rural_logistics.benchmarks.cvrp import read_reference
from rural_logistics.benchmarks.fleet_check import FleetInstance, FleetType
from rural_logistics.benchmarks.fleet_race import add_fleet_arguments, run_fleet_instances
from rural_logistics.errors import InputDataError


def parse_cordeau_mdvrp(text: str, *, name: str, source: str = "") -> FleetInstance:
    """Read a Cordeau data file of type 2 (MDVRP).

    Format: ``2 m n t``; ``t`` lines ``D Q``; ``n`` customer lines ``i x y d q …``
    (``d`` service time, ``q`` demand); ``t`` depot lines ``i x y …``.

    Parameters
    ----------
    text
        The file's contents.
    name
        Instance name.
    source
        File named in error messages.

    Raises
    ------
    InputDataError
        Naming the file and what is wrong.
    """
    where = source or name
    rows = [line.split() for line in text.splitlines() if line.strip()]
    try:
        kind, m, n, t = (int(x) for x in rows[0][:4])
        if kind != 2:
            raise InputDataError(f"{where}: problem type {kind}, expected 2 (MDVRP)")
        limits = [(float(r[0]), float(r[1])) for r in rows[1 : 1 + t]]
        customers = rows[1 + t : 1 + t + n]
        depots = rows[1 + t + n : 1 + t + n + t]
        if len(customers) != n or len(depots) != t or len(limits) != t:
            raise InputDataError(
                f"{where}: expected {t} depot limits, {n} customers and {t} depots"
            )
        customer_xy = np.array([[float(r[1]), float(r[2])] for r in customers])
        service = np.array([float(r[3]) for r in customers])
        demand = np.array([float(r[4]) for r in customers])
        depot_xy = np.array([[float(r[1]), float(r[2])] for r in depots])
    except (IndexError, ValueError) as exc:
        raise InputDataError(f"{where}: not a Cordeau MDVRP file ({exc})") from None
    if n < 1 or t < 1 or m < 1:
        raise InputDataError(
            f"{where}: needs customers, depots and vehicles (m={m}, n={n}, t={t})"
        )
    types = tuple(
        FleetType(capacity=q, fixed_cost=0.0, cost_per_distance=1.0, count=m, depot=k)
        for k, (_, q) in enumerate(limits)
    )
    durations = {d for d, _ in limits}
    if len(durations) > 1:
        raise InputDataError(f"{where}: depots with different duration limits are not supported")
    duration = durations.pop()
    return FleetInstance(
        name=name,
        depot_xy=depot_xy,
        customer_xy=customer_xy,
        demand=demand,
        service=service,
        types=types,
        max_duration=duration if duration > 0 else None,
    )


def read_instance(path: Path) -> FleetInstance:
    """A Cordeau MDVRP file."""
    return parse_cordeau_mdvrp(
        path.read_text(encoding="utf-8", errors="replace"), name=path.name, source=str(path)
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``benchmark mdvrp``."""
    add_fleet_arguments(parser)


def run(args: argparse.Namespace, *, on_row: Callable[[dict[str, Any]], None]) -> BenchmarkTable:
    """Run ``benchmark mdvrp``."""
    if not args.data.is_dir():
        raise InputDataError(f"{args.data}: benchmark folder not found (use --data)")
    references = read_reference(args.data, "bks")
    available = sorted(
        (p.name for p in args.data.iterdir() if p.is_file() and p.name in references),
        key=natural_key,
    )
    names = select_instances(available, args.instances, source=args.data)
    instances = [read_instance(args.data / n) for n in names]
    return run_fleet_instances(
        args, name="mdvrp", instances=instances, references=references, on_row=on_row
    )
