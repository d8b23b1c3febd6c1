"""VRPTW on Solomon instances against the distance-minimising best-known solutions.

Cost convention (CVRPLIB Solomon set): each arc is the Euclidean distance truncated to
one decimal; travel time equals distance; service must start within the window; the
vehicle returns before the depot closes; at most the file's vehicle number; total
distance is minimised (the vehicle count is free). Reference column ``bks_distance``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rural_logistics.benchmarks.common import BenchmarkTable, natural_key, select_instances
from rural_logistics.benchmarks.cvrp import euclid, find_files, read_reference
from rural_logistics.benchmarks.routing_race import (
    BenchInstance,
    add_routing_arguments,
    run_instances,
)
from rural_logistics.errors import InputDataError
from rural_logistics.routing import RoutingProblem, VehicleSpec


def read_solomon(path: Path) -> tuple[int, int, np.ndarray]:
    """Read a Solomon text file.

    Returns
    -------
    vehicles, capacity, table
        Vehicle number, capacity and the customer table ``(N, 7)``: number, x, y,
        demand, ready, due, service; row 0 the depot.
    """
    lines = [ln.split() for ln in path.read_text(encoding="utf-8").splitlines()]
    numbers = [ln for ln in lines if ln and all(_is_number(x) for x in ln)]
    try:
        vehicles, capacity = int(numbers[0][0]), int(numbers[0][1])
        table = np.array([[float(x) for x in ln] for ln in numbers[1:] if len(ln) == 7])
    except (IndexError, ValueError) as exc:
        raise InputDataError(f"{path}: not a Solomon instance ({exc})") from None
    if table.ndim != 2 or len(table) < 2:
        raise InputDataError(f"{path}: no customer table")
    return vehicles, capacity, table


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def solomon_instance(path: Path) -> BenchInstance:
    """A Solomon file as a benchmark instance (arcs truncated to one decimal)."""
    vehicles, capacity, table = read_solomon(path)
    xy = table[:, 1:3]
    dist = np.floor(euclid(xy) * 10 + 1e-9) / 10
    windows = table[:, 4:6].copy()
    service = table[:, 6].copy()
    service[0] = 0.0
    van = VehicleSpec(
        type_name="vehicle",
        capacity_parcels=capacity,
        cost_per_km=1.0,
        fixed_cost_per_day=0.0,
        speed_factor=1.0,
        max_route_duration_min=math.inf,
        service_time_min=0.0,
        shift_start_min=float(windows[0, 0]),
        shift_end_min=float(windows[0, 1]),
    )
    problem = RoutingProblem(
        distance_km=dist,
        time_min=dist,
        parcels_per_day=table[:, 3].copy(),
        vehicles=(van,) * vehicles,
        time_window_min=windows,
        service_time_min=service,
        optional=False,
        xy=xy,
        distance_scale_per_km=10,
        time_scale_per_min=10,
    )

    def build(engine: str) -> RoutingProblem:
        del engine  # both engines get the file's fleet
        return problem

    return BenchInstance(name=path.stem, n=len(table) - 1, build=build, decimals=1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``benchmark vrptw``."""
    add_routing_arguments(parser)


def run(args: argparse.Namespace, *, on_row: Callable[[dict[str, Any]], None]) -> BenchmarkTable:
    """Run ``benchmark vrptw``."""
    files = find_files(args.data, ".txt")
    references = read_reference(args.data, "bks_distance")
    available = sorted((n for n in files if n in references), key=natural_key)
    names = select_instances(available, args.instances, source=args.data)
    instances = [solomon_instance(files[n]) for n in names]
    return run_instances(
        args, name="vrptw", instances=instances, references=references, on_row=on_row
    )
