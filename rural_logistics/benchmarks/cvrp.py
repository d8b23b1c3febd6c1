"""CVRP on CVRPLIB instances (Augerat A, Uchoa X) against the best-known solutions.

Cost convention (CVRPLIB/TSPLIB): each arc is the Euclidean distance rounded to the
nearest integer; vehicles are unlimited. Every solution is checked by the independent
evaluator (each customer once, capacity, cost recomputed from the routes) before its row
is written. The engines race at equal CPU (:mod:`.routing_race`).
"""

from __future__ import annotations

import argparse
import csv
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rural_logistics.benchmarks.common import BenchmarkTable, natural_key, select_instances
from rural_logistics.benchmarks.routing_race import (
    BenchInstance,
    add_routing_arguments,
    run_instances,
)
from rural_logistics.errors import InputDataError
from rural_logistics.routing import RoutingProblem, VehicleSpec


def find_files(folder: Path, suffix: str) -> dict[str, Path]:
    """Instance files under ``folder`` at any depth, by stem.

    Raises
    ------
    InputDataError
        When the folder is missing or two files share a name.
    """
    if not folder.is_dir():
        raise InputDataError(f"{folder}: benchmark folder not found (use --data)")
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob(f"*{suffix}")):
        if path.stem in found:
            raise InputDataError(f"{path}: instance name {path.stem} appears twice")
        found[path.stem] = path
    return found


def read_reference(folder: Path, column: str) -> dict[str, float]:
    """``name → reference value`` from ``bks.csv`` at the top of ``folder``."""
    path = folder / "bks.csv"
    if not path.is_file():
        raise InputDataError(f"{path}: reference table bks.csv not found")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or "name" not in reader.fieldnames or (
            column not in reader.fieldnames
        ):
            raise InputDataError(f"{path}: needs columns name and {column}")
        return {row["name"]: float(row[column]) for row in reader if row[column]}


def vrplib_sections(text: str) -> tuple[dict[str, str], dict[str, list[list[str]]]]:
    """A VRPLIB file's ``KEY: value`` header (keys upper-cased) and its sections
    (``NAME_SECTION`` → rows of whitespace-split fields)."""
    header: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line == "EOF":
            continue
        if line.endswith("_SECTION"):
            current = line
            sections[current] = []
        elif current is None and ":" in line:
            key, value = line.split(":", 1)
            header[key.strip().upper()] = value.strip()
        elif current is not None:
            sections[current].append(line.split())
    return header, sections


def read_vrplib(path: Path) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Read a TSPLIB-style CVRP file (EUC_2D, one depot).

    Returns
    -------
    xy, demand, capacity, k_min
        Coordinates ``(N, 2)`` with the depot first, demands ``(N,)``, capacity, and
        the minimum vehicle count from the name's ``-kNN`` (0 if absent).
    """
    header, sections = vrplib_sections(path.read_text(encoding="utf-8", errors="replace"))
    try:
        if header.get("EDGE_WEIGHT_TYPE", "EUC_2D") != "EUC_2D":
            raise InputDataError(f"{path}: only EDGE_WEIGHT_TYPE EUC_2D is supported")
        capacity = int(header["CAPACITY"])
        coords = sections["NODE_COORD_SECTION"]
        demands = sections["DEMAND_SECTION"]
        depot = int(sections.get("DEPOT_SECTION", [["1"]])[0][0])
    except (KeyError, ValueError, IndexError) as exc:
        raise InputDataError(f"{path}: not a CVRPLIB instance ({exc})") from None
    ids = [int(r[0]) for r in coords]
    order = [ids.index(depot)] + [i for i, node in enumerate(ids) if node != depot]
    xy = np.array([[float(r[1]), float(r[2])] for r in coords])[order]
    dem_by_id = {int(r[0]): int(r[1]) for r in demands}
    demand = np.array([dem_by_id[ids[i]] for i in order], dtype=float)
    demand[0] = 0.0
    match = re.search(r"-k(\d+)", path.stem)
    return xy, demand, capacity, int(match.group(1)) if match else 0


def euclid(xy: np.ndarray) -> np.ndarray:
    """``(N, N)`` Euclidean distances."""
    diff = xy[:, None, :] - xy[None, :, :]
    return np.hypot(diff[..., 0], diff[..., 1])


def cvrp_instance(path: Path) -> BenchInstance:
    """A CVRPLIB file as a benchmark instance (arcs rounded to the nearest integer)."""
    xy, demand, capacity, k_min = read_vrplib(path)
    dist = np.rint(euclid(xy))
    n = len(xy) - 1
    k = max(k_min, math.ceil(demand.sum() / capacity))

    def build(engine: str) -> RoutingProblem:
        # PyVRP: unlimited fleet (one per customer); OR-Tools: k + 20 % + 2 vehicles
        # (BKS use at most a few more than k; more vehicles only slow its search).
        count = n if engine == "pyvrp" else math.ceil(1.2 * k) + 2
        van = VehicleSpec(
            type_name="vehicle",
            capacity_parcels=capacity,
            cost_per_km=1.0,
            fixed_cost_per_day=0.0,
            speed_factor=1.0,
            max_route_duration_min=math.inf,
            service_time_min=0.0,
        )
        return RoutingProblem(
            distance_km=dist,
            time_min=dist,
            parcels_per_day=demand,
            vehicles=(van,) * count,
            optional=False,
            xy=xy,
            distance_scale_per_km=1,
            time_scale_per_min=1,
        )

    return BenchInstance(name=path.stem, n=n, build=build, decimals=0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``benchmark cvrp``."""
    add_routing_arguments(parser)


def run(args: argparse.Namespace, *, on_row: Callable[[dict[str, Any]], None]) -> BenchmarkTable:
    """Run ``benchmark cvrp``."""
    files = find_files(args.data, ".vrp")
    references = read_reference(args.data, "bks")
    names = select_instances(sorted(files, key=natural_key), args.instances, source=args.data)
    instances = [cvrp_instance(files[n]) for n in names]
    return run_instances(
        args, name="cvrp", instances=instances, references=references, on_row=on_row
    )


