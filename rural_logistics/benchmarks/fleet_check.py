"""Independent checker of multi-depot and mixed-fleet plans (``benchmark mdvrp/hfvrp``).

Works from the instance as read from its file (coordinates, demands, service times, the
fleet's types) and a plan given as customer numbers per route; it imports nothing from
the routing package, so a defect in the engines' own evaluator cannot hide here.

Checked: every customer exactly once; each route's load within its vehicle type's
capacity; a route starts and ends at its type's depot; at most ``count`` routes per type
(a limited fleet; with one type per depot this is each depot's vehicle count); route
travel plus service time within the duration limit when one is given. The cost is
recomputed from the coordinates in the benchmarks' convention: exact double-precision
Euclidean distances, a type-``k`` route costs ``fixed_cost_k + cost_per_distance_k ×
length``.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Slack allowed on the duration limit (floating-point sums of a route's arcs).
DURATION_TOLERANCE = 1e-6


@dataclass(frozen=True)
class FleetType:
    """One vehicle type of a benchmark instance.

    Attributes
    ----------
    capacity
        Load per route.
    fixed_cost
        Cost of using one vehicle (once per route).
    cost_per_distance
        Cost per unit of distance driven.
    count
        Vehicles of this type; ``None`` = unlimited (fleet size and mix).
    depot
        Depot index (0-based) the type's vehicles start from and return to.
    """

    capacity: float
    fixed_cost: float
    cost_per_distance: float
    count: int | None
    depot: int = 0


@dataclass(frozen=True)
class FleetInstance:
    """A multi-depot / mixed-fleet instance as read from its file.

    Attributes
    ----------
    name
        Instance name.
    depot_xy
        ``(D, 2)`` depot coordinates.
    customer_xy
        ``(n, 2)`` customer coordinates; customer ``i`` (0-based) is row ``i``.
    demand
        ``(n,)`` demands.
    service
        ``(n,)`` service times (counted only against the duration limit).
    types
        The fleet.
    max_duration
        Longest route (travel + service); ``None`` = no limit.
    vehicle_type
        Type of each vehicle the file lists one by one (X files), else empty.
    """

    name: str
    depot_xy: np.ndarray
    customer_xy: np.ndarray
    demand: np.ndarray
    service: np.ndarray
    types: tuple[FleetType, ...]
    max_duration: float | None = None
    vehicle_type: tuple[int, ...] = ()

    @property
    def n_customers(self) -> int:
        """Customers."""
        return len(self.customer_xy)

    @property
    def n_depots(self) -> int:
        """Depots."""
        return len(self.depot_xy)


@dataclass(frozen=True)
class PlanRoute:
    """One route of a plan.

    Attributes
    ----------
    vehicle_type
        Index into :attr:`FleetInstance.types`.
    depot
        Depot the route starts and ends at.
    customers
        Customers (0-based) in visiting order.
    """

    vehicle_type: int
    depot: int
    customers: tuple[int, ...]


@dataclass(frozen=True)
class PlanCheck:
    """Outcome of :func:`check_plan`.

    Attributes
    ----------
    cost
        Total cost recomputed from the coordinates.
    distance
        Total length.
    violations
        One line per broken rule; empty when feasible.
    routes_per_type
        Routes driven by each type.
    """

    cost: float
    distance: float
    violations: tuple[str, ...]
    routes_per_type: tuple[int, ...]

    @property
    def feasible(self) -> bool:
        """No rule broken."""
        return not self.violations


def route_length(instance: FleetInstance, route: PlanRoute) -> float:
    """Length of ``depot → customers → depot`` with exact Euclidean distances."""
    points = [
        instance.depot_xy[route.depot],
        *(instance.customer_xy[c] for c in route.customers),
        instance.depot_xy[route.depot],
    ]
    return float(
        sum(
            math.hypot(float(b[0] - a[0]), float(b[1] - a[1]))
            for a, b in itertools.pairwise(points)
        )
    )


def check_plan(instance: FleetInstance, routes: Sequence[PlanRoute]) -> PlanCheck:
    """Check a plan against the instance and recompute its cost.

    Parameters
    ----------
    instance
        The instance read from its file.
    routes
        The plan (empty routes are allowed and cost nothing).

    Returns
    -------
    PlanCheck
    """
    bad: list[str] = []
    n = instance.n_customers
    seen: Counter[int] = Counter()
    used: Counter[int] = Counter()
    cost = distance = 0.0
    for r, route in enumerate(routes):
        if not 0 <= route.vehicle_type < len(instance.types):
            bad.append(f"route {r}: no vehicle type {route.vehicle_type}")
            continue
        vt = instance.types[route.vehicle_type]
        if route.depot != vt.depot:
            bad.append(
                f"route {r}: vehicle type {route.vehicle_type} belongs to depot {vt.depot}, "
                f"the route uses depot {route.depot}"
            )
            continue
        outside = [c for c in route.customers if not 0 <= c < n]
        if outside:
            bad.append(f"route {r}: no customer(s) {outside}")
            continue
        if not route.customers:
            continue
        seen.update(route.customers)
        used[route.vehicle_type] += 1
        load = float(sum(instance.demand[c] for c in route.customers))
        if load > vt.capacity + 1e-9:
            bad.append(
                f"route {r}: load {load:g} exceeds capacity {vt.capacity:g} of type "
                f"{route.vehicle_type}"
            )
        length = route_length(instance, route)
        if instance.max_duration is not None:
            duration = length + float(sum(instance.service[c] for c in route.customers))
            if duration > instance.max_duration + DURATION_TOLERANCE:
                bad.append(
                    f"route {r}: duration {duration:.4f} exceeds the limit "
                    f"{instance.max_duration:g}"
                )
        distance += length
        cost += vt.fixed_cost + vt.cost_per_distance * length
    missing = [c for c in range(n) if seen[c] == 0]
    twice = sorted(c for c, k in seen.items() if k > 1)
    if missing:
        bad.append(f"{len(missing)} customer(s) not served, e.g. {missing[:5]}")
    if twice:
        bad.append(f"{len(twice)} customer(s) served more than once, e.g. {twice[:5]}")
    for k, vt in enumerate(instance.types):
        if vt.count is not None and used[k] > vt.count:
            bad.append(
                f"vehicle type {k} (depot {vt.depot}): {used[k]} routes, only {vt.count} "
                "vehicles"
            )
    return PlanCheck(
        cost=cost,
        distance=distance,
        violations=tuple(bad),
        routes_per_type=tuple(used[k] for k in range(len(instance.types))),
    )
