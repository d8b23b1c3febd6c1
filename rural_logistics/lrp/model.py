"""Problem and solution types of the location-routing solver (arrays and indices only).

Nodes: ``0 … m-1`` are the candidate depots, ``m … m+n-1`` the customers. Customer ``i``
(0-based) is node ``m + i``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rural_logistics.errors import InputDataError


@dataclass(frozen=True)
class LrpProblem:
    """A capacitated location-routing instance.

    Attributes
    ----------
    cost
        ``(m + n, m + n)`` travel cost of each arc (currency units), depots first.
    demand
        ``(n,)`` customer demand (integer units).
    depot_capacity
        ``(m,)`` most demand one open depot may serve.
    opening_cost
        ``(m,)`` cost of opening each depot.
    vehicle_capacity
        Most demand one route may carry (the fleet is unlimited).
    route_fixed_cost
        Cost of each route used.
    cost_scale
        Integer units per cost unit inside the routing engine (1 when every arc cost is
        an integer, as in the Prins set; the reported costs are recomputed in floating
        point from :attr:`cost`).
    """

    cost: np.ndarray
    demand: np.ndarray
    depot_capacity: np.ndarray
    opening_cost: np.ndarray
    vehicle_capacity: int
    route_fixed_cost: float
    cost_scale: int = 1

    def __post_init__(self) -> None:
        m, n = len(self.depot_capacity), len(self.demand)
        if np.asarray(self.cost).shape != (m + n, m + n):
            raise InputDataError(
                f"lrp cost matrix has shape {np.asarray(self.cost).shape}, "
                f"expected ({m + n}, {m + n})"
            )
        if len(self.opening_cost) != m:
            raise InputDataError("lrp opening_cost needs one value per depot")
        big = np.flatnonzero(np.asarray(self.demand) > self.vehicle_capacity)
        if len(big):
            raise InputDataError(
                f"lrp customer {int(big[0]) + 1}: demand exceeds the vehicle capacity"
            )

    @property
    def n_depots(self) -> int:
        """Candidate depots ``m``."""
        return len(self.depot_capacity)

    @property
    def n_customers(self) -> int:
        """Customers ``n``."""
        return len(self.demand)

    @property
    def total_demand(self) -> float:
        """Sum of the demands."""
        return float(np.sum(self.demand))

    def min_routes(self) -> int:
        """Lower bound on the number of routes."""
        return math.ceil(self.total_demand / self.vehicle_capacity - 1e-9)


@dataclass(frozen=True)
class LrpRoute:
    """One route: an open depot and the customers (0-based) in visiting order."""

    depot: int
    customers: tuple[int, ...]


@dataclass(frozen=True)
class LrpSolution:
    """Open depots and routes, with the cost split the solver computed.

    Attributes
    ----------
    open_depots
        Sorted depot indices.
    routes
        Every route.
    opening_cost, route_fixed_cost, travel_cost
        The three parts of :attr:`cost`.
    method
        ``location_routing`` or ``sequential``.
    seconds
        Wall-clock time used.
    notes
        What the search did (candidate sets tried, repairs).
    """

    open_depots: tuple[int, ...]
    routes: tuple[LrpRoute, ...]
    opening_cost: float
    route_fixed_cost: float
    travel_cost: float
    method: str
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def cost(self) -> float:
        """Opening plus route fixed plus travel cost."""
        return self.opening_cost + self.route_fixed_cost + self.travel_cost
