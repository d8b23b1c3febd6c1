"""HFVRP / fleet size and mix (golden and X-based sets) against the best-known solutions.

Vehicle types have a capacity ``Q_k``, a fixed cost ``F_k`` per vehicle used and a cost
``v_k`` per unit of distance; a type-``k`` route costs ``F_k + v_k × length`` (exact
double-precision Euclidean length). HFVRP/HD/HVRP: limited fleet (``n_k`` vehicles per
type); FSM (golden ``vfmp*``, X ``FSMF/FSMD/FSMFD``): unlimited, the solver chooses the
fleet. X files carry costs ×100 (PyVRP's dialect): they are divided by 100 here, so the
objective is in the BKS's original units. Each plan is checked by the independent
checker (:mod:`.fleet_check`: every customer once, capacity of the route's type, type
counts of a limited fleet; cost recomputed from the coordinates) before its row is
written.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rural_logistics.benchmarks.common import BenchmarkTable, natural_key, select_instances
from rural_logistics.benchmarks.cvrp import vrplib_sections
from rural_logistics.benchmarks.fleet_check import FleetInstance, FleetType
from rural_logistics.benchmarks.fleet_race import add_fleet_arguments, run_fleet_instances
from rural_logistics.errors import InputDataError

#: Subsets (sub-folders) of the benchmark folder.
SUBSETS = ("golden", "x")
#: Golden ``range`` at or above which routes have no length limit.
NO_LIMIT_RANGE = 999999.0
#: X files multiply every cost by this (PyVRP's VRPLIB dialect).
X_COST_FACTOR = 100.0


def parse_golden(text: str, *, name: str, unlimited: bool, source: str = "") -> FleetInstance:
    """Read a golden-set file (Lacomme/Prins text format).

    Format: comment lines ``//…``; ``N T range service LB BKS``; ``T`` lines
    ``count capacity fixed_cost cost_per_distance``; the depot ``x y``; ``N`` lines
    ``x y demand``.

    Parameters
    ----------
    text
        The file's contents.
    name
        Instance name.
    unlimited
        Fleet size and mix (the counts in the file are ignored).
    source
        File named in error messages.

    Raises
    ------
    InputDataError
        Naming the file and what is wrong.
    """
    where = source or name
    rows = [
        line.split()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("//")
    ]
    try:
        n, t = int(rows[0][0]), int(rows[0][1])
        length_limit, service_time = float(rows[0][2]), float(rows[0][3])
        types = tuple(
            FleetType(
                capacity=float(r[1]),
                fixed_cost=float(r[2]),
                cost_per_distance=float(r[3]),
                count=None if unlimited else int(r[0]),
            )
            for r in rows[1 : 1 + t]
        )
        depot = [float(rows[1 + t][0]), float(rows[1 + t][1])]
        customers = rows[2 + t : 2 + t + n]
        if len(types) != t or len(customers) != n:
            raise InputDataError(f"{where}: expected {t} vehicle types and {n} customers")
        xy = np.array([[float(r[0]), float(r[1])] for r in customers])
        demand = np.array([float(r[2]) for r in customers])
    except (IndexError, ValueError) as exc:
        raise InputDataError(f"{where}: not a golden HFVRP file ({exc})") from None
    return FleetInstance(
        name=name,
        depot_xy=np.array([depot]),
        customer_xy=xy,
        demand=demand,
        service=np.full(n, service_time),
        types=types,
        max_duration=None if length_limit >= NO_LIMIT_RANGE else length_limit,
    )


def parse_x(text: str, *, name: str, unlimited: bool, source: str = "") -> FleetInstance:
    """Read an X-based file (PyVRP's VRPLIB dialect, costs ×100).

    Vehicles with the same capacity, fixed cost and unit distance cost form one type
    (in order of first appearance; :attr:`FleetInstance.vehicle_type` maps the file's
    vehicles to them); a missing fixed-cost section means 0.

    Parameters
    ----------
    text
        The file's contents.
    name
        Instance name.
    unlimited
        Fleet size and mix: the vehicles listed only name the types.
    source
        File named in error messages.

    Raises
    ------
    InputDataError
        Naming the file and what is wrong.
    """
    where = source or name
    header, sections = vrplib_sections(text)
    try:
        if header.get("EDGE_WEIGHT_TYPE", "EUC_2D") != "EUC_2D":
            raise InputDataError(f"{where}: only EDGE_WEIGHT_TYPE EUC_2D is supported")
        n_vehicles = int(header["VEHICLES"])
        coords = {int(r[0]): (float(r[1]), float(r[2])) for r in sections["NODE_COORD_SECTION"]}
        demand_of = {int(r[0]): float(r[1]) for r in sections["DEMAND_SECTION"]}
        depot = int(sections.get("DEPOT_SECTION", [["1"]])[0][0])

        def per_vehicle(section: str, default: float | None) -> list[float]:
            if section not in sections:
                if default is None:
                    raise KeyError(section)
                return [default] * n_vehicles
            values = {int(r[0]): float(r[1]) for r in sections[section]}
            return [values[k] for k in range(1, n_vehicles + 1)]

        capacity = per_vehicle("CAPACITY_SECTION", None)
        fixed = per_vehicle("VEHICLES_FIXED_COST_SECTION", 0.0)
        unit = per_vehicle("VEHICLES_UNIT_DISTANCE_COST_SECTION", 1.0)
    except (KeyError, ValueError, IndexError) as exc:
        raise InputDataError(f"{where}: not an X HFVRP file (missing or bad {exc})") from None
    kinds: dict[tuple[float, float, float], int] = {}
    for kind in zip(capacity, fixed, unit, strict=True):
        kinds[kind] = kinds.get(kind, 0) + 1
    order = {kind: k for k, kind in enumerate(kinds)}
    vehicle_type = tuple(order[kind] for kind in zip(capacity, fixed, unit, strict=True))
    types = tuple(
        FleetType(
            capacity=q,
            fixed_cost=f / X_COST_FACTOR,
            cost_per_distance=v / X_COST_FACTOR,
            count=None if unlimited else count,
        )
        for (q, f, v), count in kinds.items()
    )
    customers = sorted(i for i in coords if i != depot)
    if depot not in coords or not customers:
        raise InputDataError(f"{where}: needs the depot {depot} and customers")
    missing = [i for i in customers if i not in demand_of]
    if missing:
        raise InputDataError(f"{where}: no demand for node(s) {missing[:5]}")
    return FleetInstance(
        name=name,
        depot_xy=np.array([coords[depot]]),
        customer_xy=np.array([coords[i] for i in customers]),
        demand=np.array([demand_of[i] for i in customers]),
        service=np.zeros(len(customers)),
        types=types,
        vehicle_type=vehicle_type,
    )


def is_unlimited(variant: str) -> bool:
    """Whether a ``variant`` of ``bks.csv`` has an unlimited fleet (fleet size and mix)."""
    return variant.upper().startswith(("VFMP", "FSM"))


def read_catalogue(folder: Path) -> dict[str, dict[str, str]]:
    """``name → row`` of ``bks.csv`` (columns ``name, set, variant, bks`` needed)."""
    path = folder / "bks.csv"
    if not path.is_file():
        raise InputDataError(f"{path}: reference table bks.csv not found")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        need = {"name", "set", "variant", "bks"}
        if reader.fieldnames is None or not need <= set(reader.fieldnames):
            raise InputDataError(f"{path}: needs columns {', '.join(sorted(need))}")
        return {row["name"]: row for row in reader}


def read_instance(path: Path, *, subset: str, variant: str) -> FleetInstance:
    """A golden (``.txt``) or X (``.vrp``) file."""
    text = path.read_text(encoding="utf-8", errors="replace")
    parse = parse_golden if subset == "golden" else parse_x
    return parse(text, name=path.stem, unlimited=is_unlimited(variant), source=str(path))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``benchmark hfvrp``."""
    add_fleet_arguments(parser)
    parser.add_argument(
        "--subset",
        choices=(*SUBSETS, "all"),
        default="all",
        help="golden (Golden/Taillard classics), x (Pessoa et al. X-based) or all (default)",
    )


def run(args: argparse.Namespace, *, on_row: Callable[[dict[str, Any]], None]) -> BenchmarkTable:
    """Run ``benchmark hfvrp``."""
    if not args.data.is_dir():
        raise InputDataError(f"{args.data}: benchmark folder not found (use --data)")
    catalogue = read_catalogue(args.data)
    files: dict[str, tuple[Path, str]] = {}
    for subset, suffix in (("golden", ".txt"), ("x", ".vrp")):
        if args.subset not in (subset, "all"):
            continue
        folder = args.data / subset
        if not folder.is_dir():
            raise InputDataError(f"{folder}: subset folder not found")
        for path in folder.glob(f"*{suffix}"):
            if path.stem in catalogue:
                files[path.stem] = (path, subset)
    available = sorted(files, key=lambda n: (SUBSETS.index(files[n][1]), natural_key(n)))
    names = select_instances(available, args.instances, source=args.data)
    instances = [
        read_instance(files[n][0], subset=files[n][1], variant=catalogue[n]["variant"])
        for n in names
    ]
    references = {n: float(row["bks"]) for n, row in catalogue.items() if row["bks"]}
    subsets = {n: files[n][1] for n in names}
    variants = {n: f"{files[n][1]}/{catalogue[n]['variant']}" for n in names}
    return run_fleet_instances(
        args,
        name="hfvrp",
        instances=instances,
        references=references,
        on_row=on_row,
        groups=(subsets, variants),
    )
