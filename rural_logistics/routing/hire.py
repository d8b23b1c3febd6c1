"""The cheapest vehicle hire over a horizon of days so that every parcel reaches its
station within N days: a MIP over the delivery bounds of :mod:`rural_logistics.routing.bounds`.

Per day ``d``, vehicle kind ``g`` (own vehicles of a type at a depot, plus ``h[g, d]``
hired ones) and station ``s``, ``x[d, g, s]`` parcels are carried. The rows are the
shift-time bound's, with the number of vehicles a variable:

- ``Σ_s x[d,g,s] ≤ (own_g + h[g,d]) × parcels per trip × trips``,
- ``Σ_s x[d,g,s] × round trip[g,s] / parcels per trip ≤ (own_g + h[g,d]) × shift``
  (a trip lasts at least its farthest station's round trip),
- ``Σ_g x[d,g,s] ≤ storage_s`` (what a station can take in a day),
- backlog, oldest first: what reaches station ``s`` by day ``d`` is at most what arrived
  by day ``d`` and at least what arrived by day ``d − N + 1`` (so no parcel waits longer),
- ``0 ≤ h[g,d] ≤ available``, integer; minimise the hire cost.

Every routing plan that keeps the promise satisfies these rows, so the MIP's optimum is a
**lower bound** on the hire cost of any plan, and an infeasible MIP **proves** that no
hire within the limits keeps the promise. Routing the days with the MIP's hires may need
more (the routes are a heuristic); :mod:`rural_logistics.delivery.peak` adds them and says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from rural_logistics.routing.bounds import able_and_round_trips, shift_minutes
from rural_logistics.routing.model import RoutingProblem, VehicleSpec, trip_parcels
from rural_logistics.solvers.mip import Model


@dataclass(frozen=True)
class HireOption:
    """Vehicles that can be hired per day: a fleet type's spec at a daily price."""

    vehicle: VehicleSpec
    cost_per_day: float
    available_per_day: int


@dataclass(frozen=True)
class HirePlan:
    """The MIP's answer.

    Attributes
    ----------
    status
        ``optimal`` (proven cheapest under the bound rows), ``infeasible`` (proven: no hire
        within the limits keeps the promise) or ``time_limit`` (a hire found, not proven).
    hired
        ``(days, options)`` vehicles hired per day and option.
    cost
        Hire cost over the horizon.
    bound
        Lower bound on the hire cost of any plan keeping the promise.
    """

    status: str
    hired: np.ndarray
    cost: float
    bound: float


def plan_hires(
    problem: RoutingProblem,
    arrivals: np.ndarray,
    options: Sequence[HireOption],
    *,
    within_days: int,
    storage_parcels: float | None,
    time_limit_s: float,
    available: np.ndarray | None = None,
) -> HirePlan:
    """Cheapest hire per option and day (module docstring).

    Parameters
    ----------
    problem
        The routing problem of a day: depots, stations (node ``n_depots + s``), the own
        fleet (its parcels are ignored).
    arrivals
        ``(days, stations)`` parcels arriving for each station per day.
    options
        What can be hired.
    within_days
        ``N``: a parcel arriving on day ``d`` reaches its station by day ``d + N − 1``.
    storage_parcels
        Parcels a station can take in per day (``None``: no limit).
    time_limit_s
        Limit of the MIP.
    available
        ``(days, options)`` most vehicles hired per day and option (default each
        option's ``available_per_day``).
    """
    days, n_st = arrivals.shape
    own: dict[VehicleSpec, int] = {}
    for v in problem.vehicles:
        own[v] = own.get(v, 0) + 1
    kinds = list(own)
    hire_kind = []
    for opt in options:
        if opt.vehicle not in own:
            kinds.append(opt.vehicle)
            own[opt.vehicle] = 0
        hire_kind.append(kinds.index(opt.vehicle))
    probe = replace(
        problem, vehicles=tuple(kinds),
        parcels_per_day=np.concatenate([np.zeros(problem.n_depots), np.ones(n_st)]),
    )
    able, minutes, _ = able_and_round_trips(probe, kinds)
    model = Model("HIGHS")
    limit = (np.array([[o.available_per_day for o in options]] * days, dtype=float)
             if available is None else np.asarray(available, dtype=float))
    h = [[model.add_var(0.0, float(limit[d, i]), o.cost_per_day, integer=True)
          for i, o in enumerate(options)] for d in range(days)]
    x: dict[tuple[int, int, int], object] = {}
    for d in range(days):
        for g, j in zip(*np.nonzero(able), strict=True):
            x[d, int(g), int(j)] = model.add_var(0.0, float(arrivals[: d + 1, j].sum()))
    for d in range(days):
        for g, v in enumerate(kinds):
            cap = float(trip_parcels(v, problem.parcel_kg))
            mine = [(x[d, g, int(j)], int(j)) for j in np.flatnonzero(able[g])]
            if not mine or cap <= 0:
                continue
            hired = [(h[d][i], i) for i in range(len(options)) if hire_kind[i] == g]
            load_row = [(var, 1.0) for var, _ in mine]
            load_row += [(var, -cap * v.max_trips) for var, _ in hired]
            model.add_row(load_row, ub=own[v] * cap * v.max_trips)
            time_row = [(var, float(minutes[g, j] / cap)) for var, j in mine]
            time_row += [(var, -shift_minutes(v)) for var, _ in hired]
            model.add_row(time_row, ub=own[v] * shift_minutes(v))
    for j in range(n_st):
        for d in range(days):
            today = [(x[d, g, j], 1.0) for g in range(len(kinds)) if (d, g, j) in x]
            if storage_parcels is not None and today:
                model.add_row(today, ub=float(storage_parcels))
            upto = [(x[k, g, j], 1.0) for k in range(d + 1) for g in range(len(kinds))
                    if (k, g, j) in x]
            due = float(arrivals[: max(0, d - within_days + 2), j].sum())
            got = float(arrivals[: d + 1, j].sum())
            if not upto:
                if due > 0:
                    return HirePlan("infeasible", np.zeros((days, len(options))), math.inf,
                                    math.inf)
                continue
            model.add_row(upto, lb=due, ub=got)
    result = model.solve(time_limit_s=time_limit_s,
                         read={"h": [var for row in h for var in row]})
    if result.infeasible:
        return HirePlan("infeasible", np.zeros((days, len(options))), math.inf, math.inf)
    if not result.has_solution:
        return HirePlan("time_limit", np.zeros((days, len(options))), math.nan, result.bound)
    hired = np.rint(result.values["h"]).astype(np.int64).reshape(days, len(options))
    return HirePlan(
        "optimal" if result.optimal else "time_limit", hired, float(result.objective),
        float(result.bound),
    )
