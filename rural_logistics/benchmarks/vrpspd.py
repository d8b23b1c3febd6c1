"""VRPSPD (simultaneous pickup and delivery) on Dethloff's instances against the BKS.

Cost convention (the folder's README): the LKH-3 files hold distances × 10⁴ as integers
and loads × 10⁴; the cost of a plan is the sum of its arcs ÷ 10⁴, scored against
``tour_cost_div1e4`` of ``bks.csv`` (the best-known tour's cost on the same matrix; it
equals the literature BKS within 0.01). The fleet is unlimited, distance is the only
objective. A vehicle leaves the depot with every delivery of its route; at each customer
its load drops by the delivery and rises by the pickup and must never exceed the
capacity.

Mapping onto the routing model: a delivery is parcels of 1 kg (``parcel_kg = 1``), a
pickup is produce in kg (``pickup_produce``), the capacity bounds both parcels and kg
(``capacity_parcels = capacity_kg = Q``), all in the file's integer units. Every plan is
checked twice: by the routing package's evaluator and by :meth:`VrpspdData.check`, which
reads only the file's arrays (each customer once, the load after every stop, the cost).
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rural_logistics.benchmarks.common import BenchmarkTable, natural_key, select_instances
from rural_logistics.benchmarks.cvrp import find_files, read_reference, vrplib_sections
from rural_logistics.benchmarks.routing_race import (
    BenchInstance,
    add_routing_arguments,
    run_instances,
)
from rural_logistics.errors import InputDataError
from rural_logistics.routing import Route, RoutingProblem, VehicleSpec

#: Integer units per unit of distance and load in the LKH-3 files.
FILE_SCALE = 10_000


@dataclass(frozen=True)
class VrpspdData:
    """One instance as the file gives it (depot first, integer file units).

    Attributes
    ----------
    name
        Instance name.
    matrix
        ``(N, N)`` distances × 10⁴.
    delivery, pickup
        ``(N,)`` loads × 10⁴ (depot 0).
    capacity
        Vehicle capacity × 10⁴.
    vehicles
        The file's ``VEHICLES`` (the route count of LKH-3's tour; not a limit).
    """

    name: str
    matrix: np.ndarray
    delivery: np.ndarray
    pickup: np.ndarray
    capacity: int
    vehicles: int

    @property
    def n(self) -> int:
        """Customers."""
        return len(self.delivery) - 1

    def check(self, routes: Sequence[Route]) -> tuple[list[str], float]:
        """Independent check of a plan on the file's own arrays.

        Each customer visited exactly once; on every trip the load leaving the depot
        (all its deliveries) and the load after every stop (``− delivery + pickup``)
        within the capacity.

        Returns
        -------
        violations, cost
            One line per broken rule, and the plan's cost (:meth:`cost`).
        """
        out: list[str] = []
        seen = np.zeros(len(self.delivery), dtype=np.int64)
        for route in routes:
            for trip in route.trip_stops:
                load = int(self.delivery[list(trip)].sum())
                peak = load
                for stop in trip:
                    if not 1 <= stop <= self.n:
                        out.append(f"{self.name}: stop {stop} is not a customer")
                        continue
                    seen[stop] += 1
                    load += int(self.pickup[stop]) - int(self.delivery[stop])
                    peak = max(peak, load)
                if peak > self.capacity:
                    out.append(
                        f"{self.name}: vehicle {route.vehicle} carries {peak} on trip "
                        f"{'-'.join(map(str, trip))}, capacity {self.capacity}"
                    )
        for customer in range(1, self.n + 1):
            if seen[customer] != 1:
                out.append(f"{self.name}: customer {customer} visited {seen[customer]} times")
        return out, self.cost(routes)

    def cost(self, routes: Sequence[Route]) -> float:
        """Total distance of a plan in the benchmark's units (matrix ÷ 10⁴)."""
        units = sum(
            int(self.matrix[a, b]) for r in routes for a, b in itertools.pairwise(r.path)
        )
        return units / FILE_SCALE


def read_vrpspd(path: Path) -> VrpspdData:
    """Read an LKH-3 ``.vrpspd`` file (explicit full matrix, one depot).

    Raises
    ------
    InputDataError
        Naming the file and what is wrong with it.
    """
    header, rows_of = vrplib_sections(path.read_text(encoding="utf-8", errors="replace"))
    sections = {name: [x for row in rows for x in row] for name, rows in rows_of.items()}
    try:
        if header.get("TYPE", "VRPSPD") != "VRPSPD":
            raise InputDataError(f"{path}: TYPE {header['TYPE']}, expected VRPSPD")
        if header.get("EDGE_WEIGHT_FORMAT", "FULL_MATRIX") != "FULL_MATRIX":
            raise InputDataError(f"{path}: only EDGE_WEIGHT_FORMAT FULL_MATRIX is supported")
        size = int(header["DIMENSION"])
        capacity = int(header["CAPACITY"])
        vehicles = int(header.get("VEHICLES", "0"))
        weights = np.array([int(x) for x in sections["EDGE_WEIGHT_SECTION"]], dtype=np.int64)
        rows = np.array(
            [int(float(x)) for x in sections["PICKUP_AND_DELIVERY_SECTION"]], dtype=np.int64
        ).reshape(-1, 7)
        depot = int(sections.get("DEPOT_SECTION", ["1"])[0])
    except InputDataError:
        raise
    except (KeyError, ValueError, IndexError) as exc:
        raise InputDataError(f"{path}: not an LKH-3 VRPSPD instance ({exc})") from None
    if weights.size != size * size:
        raise InputDataError(
            f"{path}: EDGE_WEIGHT_SECTION has {weights.size} numbers, expected {size}×{size}"
        )
    if len(rows) != size or sorted(rows[:, 0].tolist()) != list(range(1, size + 1)):
        raise InputDataError(f"{path}: PICKUP_AND_DELIVERY_SECTION must list nodes 1…{size}")
    if not 1 <= depot <= size:
        raise InputDataError(f"{path}: depot {depot} is not a node")
    by_id = {int(r[0]): r for r in rows}
    # Depot first, then the customers in file order.
    order = [depot, *(i for i in range(1, size + 1) if i != depot)]
    matrix = weights.reshape(size, size)[np.ix_([i - 1 for i in order], [i - 1 for i in order])]
    pickup = np.array([by_id[i][5] for i in order], dtype=np.int64)
    delivery = np.array([by_id[i][6] for i in order], dtype=np.int64)
    pickup[0] = delivery[0] = 0
    too_big = [
        str(order[k]) for k in range(1, size) if max(pickup[k], delivery[k]) > capacity
    ]
    if too_big:
        raise InputDataError(
            f"{path}: node(s) {', '.join(too_big[:5])} exceed the capacity {capacity}"
        )
    return VrpspdData(path.stem, matrix, delivery, pickup, capacity, vehicles)


def vrpspd_problem(data: VrpspdData, *, vehicles: int) -> RoutingProblem:
    """The instance as a routing problem with ``vehicles`` identical vehicles (see the
    module docstring for the mapping)."""
    van = VehicleSpec(
        type_name="vehicle",
        capacity_parcels=data.capacity,
        cost_per_km=1.0,
        fixed_cost_per_day=0.0,
        speed_factor=1.0,
        max_route_duration_min=math.inf,
        service_time_min=0.0,
        capacity_kg=float(data.capacity),
    )
    dist = data.matrix.astype(float) / FILE_SCALE
    return RoutingProblem(
        distance_km=dist,
        time_min=dist,
        parcels_per_day=data.delivery.astype(float),
        vehicles=(van,) * vehicles,
        produce_kg_per_day=data.pickup.astype(float),
        parcel_kg=1.0,
        pickup_produce=True,
        optional=False,
        distance_scale_per_km=FILE_SCALE,
        time_scale_per_min=FILE_SCALE,
    )


def fleet_lower_bound(data: VrpspdData) -> int:
    """Fewest vehicles any plan needs: total deliveries or pickups over the capacity."""
    most = max(int(data.delivery.sum()), int(data.pickup.sum()))
    return max(1, math.ceil(most / data.capacity))


def vrpspd_instance(path: Path) -> BenchInstance:
    """An LKH-3 VRPSPD file as a benchmark instance (cost in matrix units ÷ 10⁴)."""
    data = read_vrpspd(path)
    k = fleet_lower_bound(data)

    def build(engine: str) -> RoutingProblem:
        # PyVRP: an unlimited fleet (one per customer); OR-Tools: the lower bound + 20 %
        # + 2 (as for CVRP: more vehicles only slow its search).
        count = data.n if engine == "pyvrp" else min(data.n, math.ceil(1.2 * k) + 2)
        return vrpspd_problem(data, vehicles=count)

    return BenchInstance(name=data.name, n=data.n, build=build, decimals=4, check=data.check)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``benchmark vrpspd``."""
    add_routing_arguments(parser)


def run(args: argparse.Namespace, *, on_row: Callable[[dict[str, Any]], None]) -> BenchmarkTable:
    """Run ``benchmark vrpspd``."""
    files = find_files(args.data, ".vrpspd")
    references = read_reference(args.data, "tour_cost_div1e4")
    names = select_instances(sorted(files, key=natural_key), args.instances, source=args.data)
    instances = [vrpspd_instance(files[n]) for n in names]
    return run_instances(
        args, name="vrpspd", instances=instances, references=references, on_row=on_row
    )
