"""Periodic (weekly) routing problems and plans, on arrays.

A :class:`PeriodicProblem` is one day's routing problem (depots first, then the stations;
the fleet is the fleet of one day) plus, per station, the visit options it may get over
a horizon of ``days`` days: the days of each visit and the parcels it brings on each.
A :class:`PeriodicPlan` is one option per station and the routes of every day, checked
by the routing evaluator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from rural_logistics.routing.model import RoutingProblem, RoutingResult


@dataclass(frozen=True)
class VisitOption:
    """One way of visiting a station over the horizon.

    Attributes
    ----------
    days
        Visit days (0-based, increasing).
    parcels
        Parcels delivered on each visit day (same order as ``days``).
    label
        Name in the outputs (``Mon/Thu``, or the benchmark's combination code).
    extra_cost
        Cost over the horizon that is not routing (e.g. the waiting it costs villages);
        added to the plan's cost.
    """

    days: tuple[int, ...]
    parcels: tuple[int, ...]
    label: str = ""
    extra_cost: float = 0.0

    @property
    def frequency(self) -> int:
        """Visits over the horizon."""
        return len(self.days)


def accumulated_parcels(days: Sequence[int], *, horizon_days: int,
                        parcels_per_day: float) -> tuple[int, ...]:
    """Parcels a station has on each visit day: those arrived since the previous visit,
    cyclic over the horizon (a week repeats), rounded up.

    >>> accumulated_parcels((0, 3), horizon_days=6, parcels_per_day=5.0)
    (15, 15)
    """
    out = []
    for k, d in enumerate(days):
        prev = days[k - 1] if k > 0 else days[-1] - horizon_days
        out.append(math.ceil(parcels_per_day * (d - prev) - 1e-9))
    return tuple(out)


def waiting_days(days: Sequence[int], *, horizon_days: int) -> tuple[float, int]:
    """Mean and worst days a parcel arriving on a day of the horizon waits until the next
    visit (0 when the station is visited that day; cyclic).

    >>> waiting_days((0, 3), horizon_days=6)
    (1.0, 2)
    """
    waits = []
    for d in range(horizon_days):
        nxt = min((v - d) % horizon_days for v in days)
        waits.append(nxt)
    return float(np.mean(waits)), int(max(waits))


@dataclass(frozen=True)
class PeriodicProblem:
    """Stations to visit over a horizon of days.

    Attributes
    ----------
    template
        One day's routing problem: depots first, station ``i`` at node ``n_depots + i``;
        its parcels are ignored (each day gets its own); its vehicles are one day's fleet.
    days
        Days of the horizon.
    options
        Per station, the visit options it may get (at least one).
    """

    template: RoutingProblem
    days: int
    options: tuple[tuple[VisitOption, ...], ...]

    def __post_init__(self) -> None:
        n = self.template.n_nodes - self.template.n_depots
        if len(self.options) != n:
            raise ValueError(f"{len(self.options)} option lists for {n} stations")
        for i, opts in enumerate(self.options):
            if not opts:
                raise ValueError(f"station {i} has no visit option")
            for o in opts:
                if not all(0 <= d < self.days for d in o.days) or len(o.days) != len(o.parcels):
                    raise ValueError(f"station {i}: option {o.label!r} is outside the horizon")

    @property
    def n_stations(self) -> int:
        """Stations (template nodes after the depots)."""
        return len(self.options)

    def day_parcels(self, choice: Sequence[int], day: int) -> np.ndarray:
        """``(n_stations,)`` parcels each station gets on ``day`` under ``choice``."""
        out = np.zeros(self.n_stations)
        for i, c in enumerate(choice):
            o = self.options[i][c]
            if day in o.days:
                out[i] = o.parcels[o.days.index(day)]
        return out

    def day_visits(self, choice: Sequence[int], day: int) -> np.ndarray:
        """``(n_stations,)`` whether each station is visited on ``day``."""
        return np.array([day in self.options[i][c].days for i, c in enumerate(choice)])

    def day_problem(self, choice: Sequence[int], day: int) -> RoutingProblem:
        """The routing problem of ``day``: the template with that day's parcels."""
        zeros = np.zeros(self.template.n_depots)
        parcels = np.concatenate([zeros, self.day_parcels(choice, day)])
        return replace(self.template, parcels_per_day=parcels,
                       produce_kg_per_day=np.zeros_like(parcels))

    def extra_cost(self, choice: Sequence[int]) -> float:
        """The options' non-routing cost."""
        return float(sum(self.options[i][c].extra_cost for i, c in enumerate(choice)))


@dataclass(frozen=True)
class PeriodicPlan:
    """One option per station and every day's routes.

    Attributes
    ----------
    problem
        The problem solved.
    choice
        Per station, the index of its option.
    day_problems
        Routing problem of each day (the template with the day's parcels).
    day_results
        Routes of each day, checked by the routing evaluator.
    seconds
        Wall time of the solve.
    notes
        What the search did (rounds, moves, re-optimised days).
    """

    problem: PeriodicProblem
    choice: tuple[int, ...]
    day_problems: tuple[RoutingProblem, ...]
    day_results: tuple[RoutingResult, ...]
    seconds: float = 0.0
    notes: tuple[str, ...] = ()

    def routing_cost(self) -> float:
        """Route cost over the horizon (fixed + distance)."""
        return float(sum(r.cost() for r in self.day_results))

    def cost(self) -> float:
        """Route cost plus the options' extra cost."""
        return self.routing_cost() + self.problem.extra_cost(self.choice)

    def distance_km(self) -> float:
        """Kilometres over the horizon."""
        return float(sum(r.distance_km() for r in self.day_results))

    def is_feasible(self) -> bool:
        """Whether every day's routes deliver every parcel and pass the checker."""
        return all(r.is_feasible() and not any(n.startswith("check failed") for n in r.notes)
                   for r in self.day_results)

    def option(self, station: int) -> VisitOption:
        """The option chosen for a station."""
        return self.problem.options[station][self.choice[station]]

    def summary(self) -> str:
        """One line for logs."""
        return (f"{self.problem.days} days, {sum(len(r.routes) for r in self.day_results)} "
                f"routes, {self.distance_km():.2f} km, cost {self.cost():.2f}, "
                f"{'feasible' if self.is_feasible() else 'NOT feasible'}")
