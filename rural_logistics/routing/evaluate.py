"""Independent check of a routing solution: recomputed from the routes, not the engine.

Uses only the problem's floating-point matrices and the stops of each route. Checks each
station served once (several visits only when its demand exceeds the largest vehicle, or
with split delivery), no station given more than it ordered,
parcels and kilograms per trip (with produce picked up, the load after every stop),
time windows, shift start/end and length, route distance, the vehicle's depot and trip
count, and that no vehicle is used twice. Costs, distances and durations are recomputed.

Integer engines round times and distances; a limit is treated as met when it is exceeded
by no more than that rounding (half a unit per arc driven).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rural_logistics.routing.model import (
    Route,
    RoutingProblem,
    largest_capacities,
    service_minutes,
    station_demand,
)

_EPS = 1e-6


@dataclass(frozen=True)
class RouteMetrics:
    """Recomputed figures of one route.

    Attributes
    ----------
    distance_km, duration_min, cost
        Driven distance, first departure to last return (waiting included, departure
        delayed as far as the time windows allow), fixed plus running cost.
    start_min
        Departure time.
    """

    distance_km: float
    duration_min: float
    cost: float
    start_min: float


@dataclass(frozen=True)
class Evaluation:
    """Outcome of :func:`evaluate`.

    Attributes
    ----------
    violations
        One line per broken rule; empty when feasible.
    cost, distance_km
        Totals over routes (cost excludes penalties).
    unserved
        ``(node, parcels)`` not delivered (with ``parcels`` 0 for a produce-only station).
    penalty
        Price of the unserved stations.
    metrics
        Per route, in the order given.
    """

    violations: tuple[str, ...]
    cost: float
    distance_km: float
    unserved: tuple[tuple[int, int], ...]
    penalty: float
    metrics: tuple[RouteMetrics, ...] = field(default=())

    @property
    def feasible(self) -> bool:
        """No rule broken."""
        return not self.violations


def route_metrics(
    problem: RoutingProblem, route: Route, violations: list[str] | None = None
) -> RouteMetrics:
    """Distance, duration, cost and schedule of one route; appends broken rules."""
    out = violations if violations is not None else []
    v = problem.vehicles[route.vehicle]
    dist = np.asarray(problem.distance_km, dtype=float)
    tmin = np.asarray(problem.time_min, dtype=float)
    service = service_minutes(problem) + v.service_time_min * (
        np.arange(problem.n_nodes) >= problem.n_depots
    )
    tw = problem.time_window_min
    path = route.path
    km = float(sum(dist[a, b] for a, b in itertools.pairwise(path)))
    tol_t = 0.5 / problem.time_scale_per_min
    tol_d = 0.5 / problem.distance_scale_per_km
    # Earliest schedule from the shift start.
    t = v.shift_start_min
    starts: list[tuple[int, float, int]] = []  # (node, service start, arcs so far)
    for arc, (a, b) in enumerate(itertools.pairwise(path), start=1):
        t += service[a] + tmin[a, b] / v.speed_factor
        if b >= problem.n_depots:
            early = -math.inf if tw is None else float(tw[b, 0])
            t = max(t, early)
            starts.append((b, t, arc))
    end = t
    slack = v.shift_end_min - end
    for node, start, arc in starts:
        late = math.inf if tw is None else float(tw[node, 1])
        if start > late + tol_t * arc + _EPS:
            out.append(
                f"vehicle {route.vehicle}: station {node} served at {start:.2f} min, "
                f"after its window closes ({late:g})"
            )
        slack = min(slack, late - start)
    n_arcs = len(path) - 1
    if end > v.shift_end_min + tol_t * n_arcs + _EPS:
        out.append(
            f"vehicle {route.vehicle}: returns at {end:.2f} min, after its shift ends "
            f"({v.shift_end_min:g})"
        )
    delay = max(0.0, slack) if math.isfinite(slack) else 0.0
    # Departing later by `delay` keeps every window; it can only shorten the day.
    t = v.shift_start_min + delay
    for a, b in itertools.pairwise(path):
        t += service[a] + tmin[a, b] / v.speed_factor
        if b >= problem.n_depots and tw is not None:
            t = max(t, float(tw[b, 0]))
    duration = t - (v.shift_start_min + delay)
    # The end time does not move until the delay has absorbed the waiting, so the
    # earliest departure with this shortest day is the delay the day got shorter by.
    depart = v.shift_start_min + max(0.0, min(delay, (end - v.shift_start_min) - duration))
    if duration > v.max_route_duration_min + tol_t * n_arcs + _EPS:
        out.append(
            f"vehicle {route.vehicle}: day of {duration:.2f} min is longer than "
            f"{v.max_route_duration_min:g}"
        )
    if v.max_route_distance_km is not None and km > v.max_route_distance_km + (
        tol_d * n_arcs + _EPS
    ):
        out.append(
            f"vehicle {route.vehicle}: {km:.3f} km is longer than {v.max_route_distance_km:g}"
        )
    cost = v.fixed_cost_per_day + v.cost_per_km * km
    return RouteMetrics(
        distance_km=km, duration_min=duration, cost=cost, start_min=depart
    )


def load_violations(problem: RoutingProblem, route: Route) -> list[str]:
    """Parcels and kilograms per trip of one route against its vehicle (with produce
    picked up, the load after every stop); one line per overloaded trip."""
    out: list[str] = []
    k = route.vehicle
    v = problem.vehicles[k]
    pickups = route.pickups_kg if route.pickups_kg else tuple(0.0 for _ in route.stops)
    position = 0
    for trip_no, trip in enumerate(route.trip_stops):
        loads = route.loads[position : position + len(trip)]
        ups = pickups[position : position + len(trip)]
        position += len(trip)
        if sum(loads) > v.capacity_parcels:
            out.append(
                f"vehicle {k} trip {trip_no + 1}: {sum(loads)} parcels, capacity "
                f"{v.capacity_parcels}"
            )
        if v.capacity_kg is not None:
            load_kg = sum(problem.parcel_kg * p for p in loads)
            peak = load_kg
            for p, u in zip(loads, ups, strict=True):
                load_kg += u - problem.parcel_kg * p
                peak = max(peak, load_kg)
            if peak > v.capacity_kg + 1e-6:
                out.append(
                    f"vehicle {k} trip {trip_no + 1}: load reaches {peak:.1f} kg, "
                    f"capacity {v.capacity_kg:g}"
                )
    return out


@dataclass(frozen=True)
class NodeTime:
    """When a route is at one node of its path (:attr:`Route.path`).

    Attributes
    ----------
    node
        The node (a depot at the start, between trips and at the end).
    trip
        Trip number from 0; a depot between two trips ends the first (its departure
        starts the next).
    arrival_min, start_min, departure_min
        Arrival, start of service (later than the arrival when the vehicle waits for
        the station to open) and departure, minutes from midnight.
    """

    node: int
    trip: int
    arrival_min: float
    start_min: float
    departure_min: float


def route_schedule(problem: RoutingProblem, route: Route) -> tuple[NodeTime, ...]:
    """The times of a route at every node of its path, from its departure
    ``route.start_min``: travel at the vehicle's speed, waiting for opening windows, the
    station's and the vehicle's service time — the schedule :func:`route_metrics` checks
    (its ``start_min`` is the latest departure that keeps every window)."""
    v = problem.vehicles[route.vehicle]
    tmin = np.asarray(problem.time_min, dtype=float)
    service = service_minutes(problem) + v.service_time_min * (
        np.arange(problem.n_nodes) >= problem.n_depots
    )
    tw = problem.time_window_min
    path = route.path
    times = [NodeTime(path[0], 0, route.start_min, route.start_min, route.start_min)]
    trip = 0
    for a, b in itertools.pairwise(path):
        arrival = times[-1].departure_min + tmin[a, b] / v.speed_factor
        start = arrival
        if b >= problem.n_depots and tw is not None:
            start = max(arrival, float(tw[b, 0]))
        times.append(NodeTime(b, trip, arrival, start, start + float(service[b])))
        if b < problem.n_depots:
            trip += 1
    return tuple(times)


def evaluate(problem: RoutingProblem, routes: Sequence[Route]) -> Evaluation:
    """Check routes against the problem and recompute their figures.

    Parameters
    ----------
    problem
        The instance.
    routes
        The solution's routes (``stops``, ``loads``, ``pickups_kg``, ``trips``,
        ``vehicle``, ``depot`` are read; the figures on them are ignored).

    Returns
    -------
    Evaluation
    """
    violations: list[str] = []
    parcels, down_kg, up_kg = station_demand(problem)
    cap_p, cap_kg = largest_capacities(problem)
    delivered = np.zeros(problem.n_nodes, dtype=np.int64)
    picked = np.zeros(problem.n_nodes)
    visits = np.zeros(problem.n_nodes, dtype=np.int64)
    used: set[int] = set()
    metrics = []
    for route in routes:
        k = route.vehicle
        if not 0 <= k < len(problem.vehicles):
            violations.append(f"route uses vehicle {k}, which does not exist")
            continue
        if k in used:
            violations.append(f"vehicle {k} is used by more than one route")
        used.add(k)
        v = problem.vehicles[k]
        if route.depot != v.depot:
            violations.append(f"vehicle {k} starts at node {route.depot}, not its depot {v.depot}")
        trips = route.trip_stops
        flat = [s for trip in trips for s in trip]
        if tuple(flat) != tuple(route.stops):
            violations.append(f"vehicle {k}: trips do not match the stops")
        if len(route.loads) != len(flat):
            violations.append(f"vehicle {k}: {len(route.loads)} loads for {len(flat)} stops")
            continue
        pickups = route.pickups_kg if route.pickups_kg else tuple(0.0 for _ in flat)
        if len(trips) > v.max_trips:
            violations.append(f"vehicle {k}: {len(trips)} trips, at most {v.max_trips} allowed")
        violations.extend(load_violations(problem, route))
        for stop, p, u in zip(flat, route.loads, pickups, strict=True):
            if not problem.n_depots <= stop < problem.n_nodes:
                violations.append(f"vehicle {k} stops at node {stop}, which is not a station")
                continue
            if p < 0 or u < -1e-9:
                violations.append(f"vehicle {k}: negative load at station {stop}")
            delivered[stop] += p
            picked[stop] += u
            visits[stop] += 1
        metrics.append(route_metrics(problem, route, violations))
    unserved: list[tuple[int, int]] = []
    penalty = 0.0
    rates = problem.penalty_rates()
    for node in range(problem.n_depots, problem.n_nodes):
        need_p, need_up = int(parcels[node]), float(up_kg[node])
        if delivered[node] > need_p:
            violations.append(
                f"station {node}: {delivered[node]} parcels delivered, {need_p} ordered"
            )
        if picked[node] > need_up + 1e-6:
            violations.append(
                f"station {node}: {picked[node]:.1f} kg picked up, {need_up:.1f} ready"
            )
        needs_split = (
            problem.split_delivery
            or need_p > cap_p
            or max(down_kg[node], need_up) > cap_kg + 1e-9
        )
        if visits[node] > 1 and not needs_split:
            violations.append(f"station {node} is visited {visits[node]} times")
        missing = need_p - int(delivered[node])
        missing_up = need_up - float(picked[node])
        if problem.produce_optional():
            # Produce may be left behind: priced at its value; the station is unserved
            # only when parcels are missing.
            penalty += float(problem.produce_value_per_kg or 0.0) * max(missing_up, 0.0)
            if missing > 0:
                unserved.append((node, missing))
                penalty += rates[node] * missing
            continue
        if missing > 0 or missing_up > 1e-6:
            unserved.append((node, max(missing, 0)))
            penalty += rates[node] * max(missing, 1)
    if unserved and not problem.optional:
        violations.append(
            f"{len(unserved)} station(s) not fully served: "
            + ", ".join(str(n) for n, _ in unserved[:10])
        )
    return Evaluation(
        violations=tuple(violations),
        cost=float(sum(m.cost for m in metrics)),
        distance_km=float(sum(m.distance_km for m in metrics)),
        unserved=tuple(unserved),
        penalty=penalty,
        metrics=tuple(metrics),
    )
