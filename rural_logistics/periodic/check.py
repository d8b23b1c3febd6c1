"""An independent checker of periodic plans (the PVRP benchmark's rules).

It reads nothing of the solver: the plan is a list of routes per day (customer numbers,
the depot 0 left out), and the rules are plain arrays. A plan passes when

* every customer is visited on exactly the days of one of its allowed options, exactly
  once on each of those days, and gets that option's parcels on each;
* every route's load is at most the capacity;
* every route's duration (travel + service) is at most the limit, where one is given;
* no day has more routes than vehicles.

Its cost is the total distance, recomputed in double precision.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: Tolerance of the duration check (the solver's time units are rounded).
DURATION_TOL = 1e-6


@dataclass(frozen=True)
class PlanCheck:
    """Outcome of :func:`check_plan`.

    Attributes
    ----------
    feasible
        No rule broken.
    distance
        Total distance over all days.
    routes_per_day
        Routes driven each day.
    violations
        One line per broken rule (at most 20, then a count).
    """

    feasible: bool
    distance: float
    routes_per_day: tuple[int, ...]
    violations: tuple[str, ...] = field(default=())


def check_plan(
    *,
    distance: np.ndarray,
    demand: Sequence[float] | np.ndarray,
    allowed: Sequence[Sequence[tuple[int, ...]]],
    routes: Sequence[Sequence[Sequence[int]]],
    capacity: float,
    vehicles_per_day: int,
    max_duration: float = 0.0,
    service: Sequence[float] | np.ndarray | None = None,
    time: np.ndarray | None = None,
    loads: Sequence[Sequence[Sequence[float]]] | None = None,
    amounts: Sequence[dict[tuple[int, ...], tuple[float, ...]]] | None = None,
) -> PlanCheck:
    """Check a periodic plan.

    Parameters
    ----------
    distance
        ``(N, N)`` distances, node 0 the depot, customers ``1 … N-1``.
    demand
        ``(N,)`` parcels per visit (used when ``loads`` is not given).
    allowed
        Per node (entry 0 ignored), the allowed sets of visit days (0-based, sorted).
    routes
        Per day, the routes: each a sequence of customer nodes (the depot left out).
    capacity
        Vehicle capacity.
    vehicles_per_day
        Most routes a day.
    max_duration
        Route duration limit (travel + service); 0 = none.
    service
        ``(N,)`` service time per node (default 0).
    time
        ``(N, N)`` travel times (default: ``distance``).
    loads
        Per day and route, the parcels delivered at each stop (default: ``demand``).
    amounts
        Per node, for each allowed set of days, the parcels due on each of those days
        (checked against ``loads``; default: ``demand`` on every visit).
    """
    dist = np.asarray(distance, dtype=float)
    tmat = dist if time is None else np.asarray(time, dtype=float)
    n = dist.shape[0]
    serv = np.zeros(n) if service is None else np.asarray(service, dtype=float)
    bad: list[str] = []
    visits: list[list[int]] = [[] for _ in range(n)]
    got: list[dict[int, float]] = [{} for _ in range(n)]
    total = 0.0
    per_day = []
    for d, day in enumerate(routes):
        per_day.append(sum(1 for r in day if len(r)))
        if per_day[-1] > vehicles_per_day:
            bad.append(f"day {d + 1}: {per_day[-1]} routes, {vehicles_per_day} vehicles")
        for k, route in enumerate(day):
            if not len(route):
                continue
            path = [0, *(int(c) for c in route), 0]
            if any(not 1 <= c < n for c in path[1:-1]):
                bad.append(f"day {d + 1} route {k + 1}: unknown customer")
                continue
            km = float(sum(dist[a, b] for a, b in itertools.pairwise(path)))
            dur = float(sum(tmat[a, b] for a, b in itertools.pairwise(path))
                        + sum(serv[c] for c in path[1:-1]))
            total += km
            carried = ([float(demand[c]) for c in path[1:-1]] if loads is None
                       else [float(x) for x in loads[d][k]])
            if len(carried) != len(path) - 2:
                bad.append(f"day {d + 1} route {k + 1}: {len(carried)} loads for "
                           f"{len(path) - 2} stops")
            if sum(carried) > capacity + 1e-9:
                bad.append(f"day {d + 1} route {k + 1}: load {sum(carried):g} > capacity "
                           f"{capacity:g}")
            if max_duration > 0 and dur > max_duration + DURATION_TOL:
                bad.append(f"day {d + 1} route {k + 1}: duration {dur:.4f} > {max_duration:g}")
            for c, q in zip(path[1:-1], carried, strict=False):
                visits[c].append(d)
                got[c][d] = got[c].get(d, 0.0) + q
    for c in range(1, n):
        days = tuple(sorted(visits[c]))
        if len(set(days)) != len(days):
            bad.append(f"customer {c}: visited more than once on a day ({days})")
        elif days not in {tuple(sorted(a)) for a in allowed[c]}:
            bad.append(f"customer {c}: visit days {tuple(x + 1 for x in days)} are not an "
                       "allowed pattern")
        else:
            due = (amounts[c][days] if amounts is not None
                   else tuple(float(demand[c]) for _ in days))
            for d, q in zip(days, due, strict=True):
                if abs(got[c][d] - q) > 1e-6:
                    bad.append(f"customer {c}: day {d + 1} gets {got[c][d]:g} of {q:g}")
    shown = bad[:20] + ([f"... and {len(bad) - 20} more"] if len(bad) > 20 else [])
    return PlanCheck(not bad, total if math.isfinite(total) else math.inf, tuple(per_day),
                     tuple(shown))
