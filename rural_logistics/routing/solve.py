"""Choose an engine, run it, and turn its visits back into checked station routes."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

import numpy as np

from rural_logistics.routing.bounds import delivery_bound
from rural_logistics.routing.diagnose import diagnose_unserved
from rural_logistics.routing.evaluate import evaluate, load_violations, route_metrics
from rural_logistics.routing.model import (
    ROUNDING_NOTE_REL,
    RawSolution,
    Route,
    RoutingProblem,
    RoutingResult,
    Visits,
    build_visits,
    make_scaling,
    station_demand,
    travel_time_units,
    trip_parcels,
)
from rural_logistics.solvers.budget import Budget

Engine = Literal["ortools", "pyvrp"]
ENGINES: tuple[str, ...] = ("pyvrp", "ortools")
#: The engine the benchmarks favour (see the README's routing section).
DEFAULT_ENGINE: Engine = "pyvrp"


def run_engine(
    problem: RoutingProblem,
    visits: Visits,
    *,
    engine: str,
    budget: Budget,
    seed: int,
    workers: int,
    default: bool = False,
) -> RawSolution:
    """Dispatch to an engine module (imported only when used); the engines take the
    budget at their entry and keep a deadline inside."""
    if engine == "ortools":
        from rural_logistics.routing.ortools_engine import solve_ortools

        return solve_ortools(problem, visits, budget=budget, workers=workers, default=default)
    if engine == "pyvrp":
        from rural_logistics.routing.pyvrp_engine import solve_pyvrp

        return solve_pyvrp(
            problem, visits, budget=budget, seed=seed, workers=workers, default=default
        )
    raise ValueError(f"unknown routing engine {engine!r} (known: {', '.join(ENGINES)})")


def to_routes(problem: RoutingProblem, visits: Visits, raw: RawSolution) -> list[Route]:
    """Engine visits → station routes (consecutive visits to one station merged)."""
    routes = []
    for vehicle, trips in raw.routes:
        trip_stops: list[tuple[int, ...]] = []
        loads: list[int] = []
        ups: list[float] = []
        for trip in trips:
            stops: list[int] = []
            for i in trip:
                s = int(visits.station[i])
                if stops and stops[-1] == s:
                    loads[-1] += int(visits.parcels[i])
                    ups[-1] += float(visits.pickup_kg[i])
                else:
                    stops.append(s)
                    loads.append(int(visits.parcels[i]))
                    ups.append(float(visits.pickup_kg[i]))
            if stops:
                trip_stops.append(tuple(stops))
        if not trip_stops:
            continue
        flat = tuple(s for t in trip_stops for s in t)
        routes.append(
            Route(
                vehicle=vehicle,
                stops=flat,
                loads=tuple(loads),
                distance_km=0.0,
                duration_min=0.0,
                cost=0.0,
                trips=tuple(trip_stops) if len(trip_stops) > 1 else (),
                pickups_kg=tuple(ups),
                depot=problem.vehicles[vehicle].depot,
            )
        )
    return routes


def solve_vrp(
    problem: RoutingProblem,
    *,
    budget: Budget,
    engine: str = DEFAULT_ENGINE,
    seed: int = 0,
    workers: int = 1,
    default: bool = False,
) -> RoutingResult:
    """Route the fleet to the stations with the chosen engine.

    Parameters
    ----------
    problem
        The instance.
    budget
        Wall-clock budget of the search (building the engine's model included), and
        optionally its iteration cap (a deterministic stop rule: PyVRP iterations,
        OR-Tools solutions).
    engine
        ``"pyvrp"`` or ``"ortools"``.
    seed
        Random seed (PyVRP; OR-Tools' search is deterministic and has none).
    workers
        Parallel independent runs, the best kept (1 or 2).
    default
        Run the engine's textbook default setting (benchmark reference lines).

    Returns
    -------
    RoutingResult
        Figures recomputed by :func:`rural_logistics.routing.evaluate.evaluate`; a route
        set that fails the check is reported in the notes.
    """
    start = time.perf_counter()
    if engine not in ENGINES:
        raise ValueError(f"unknown routing engine {engine!r} (known: {', '.join(ENGINES)})")
    parcels, _, up = station_demand(problem)
    all_unserved = tuple(
        (n, int(parcels[n]))
        for n in range(problem.n_depots, problem.n_nodes)
        if parcels[n] > 0 or up[n] > 0
    )
    if not problem.vehicles:
        return RoutingResult(
            (), all_unserved, "no_solution", 0.0, ("the fleet is empty",), engine,
            _penalty(problem, all_unserved),
            diagnose_unserved(problem, all_unserved),
        )
    bound = delivery_bound(problem) if problem.split_delivery else None
    visits = build_visits(problem)
    notes = list(visits.notes) + list(make_scaling(problem).notes)
    notes.extend(_time_rounding_notes(problem))
    if len(visits) == 0:
        return RoutingResult((), (), "solved", time.perf_counter() - start, tuple(notes), engine)
    raw = run_engine(
        problem,
        visits,
        engine=engine,
        budget=budget.share(1.0),
        seed=seed,
        workers=workers,
        default=default,
    )
    elapsed = time.perf_counter() - start
    if not raw.feasible:
        penalty = _penalty(problem, all_unserved)
        return RoutingResult(
            (), all_unserved, "no_solution", elapsed,
            (*notes, f"{raw.note}: no feasible solution found"), engine, penalty,
            diagnose_unserved(problem, all_unserved, bound), bound,
        )
    routes = to_routes(problem, visits, raw)
    check = evaluate(problem, routes)
    if problem.split_delivery and check.unserved and not check.violations:
        filled, added = fill_spare_capacity(problem, routes, check.unserved)
        if added:
            routes = filled
            check = evaluate(problem, routes)
            notes.append(
                f"split delivery: {added:,} more parcels placed in spare capacity of the "
                "routes (a station's remainder shared between vehicles)"
            )
    routes = [
        Route(
            vehicle=r.vehicle,
            stops=r.stops,
            loads=r.loads,
            distance_km=m.distance_km,
            duration_min=m.duration_min,
            cost=m.cost,
            trips=r.trips,
            pickups_kg=r.pickups_kg,
            depot=r.depot,
            start_min=m.start_min,
        )
        for r, m in zip(routes, check.metrics, strict=True)
    ]
    notes.extend(f"check failed: {v}" for v in check.violations)
    status = "solved" if not check.unserved else "partial"
    return RoutingResult(
        tuple(routes), check.unserved, status, elapsed, tuple(notes), engine, check.penalty,
        diagnose_unserved(problem, check.unserved, bound), bound,
    )


def _penalty(problem: RoutingProblem, unserved: Sequence[tuple[int, int]]) -> float:
    """Price of unserved ``(node, parcels)`` (a station without parcels counts as one)."""
    rates = problem.penalty_rates()
    return float(sum(rates[n] * max(p, 1) for n, p in unserved))


def _time_rounding_notes(problem: RoutingProblem) -> list[str]:
    """A note when rounded travel times could decide a shift or a window.

    The worst case over a route (every arc rounded the same way) is compared with the
    tightest time limit: the shortest shift or the narrowest opening window.
    """
    limits = [v.max_route_duration_min for v in problem.vehicles]
    if problem.time_window_min is not None:
        tw = np.asarray(problem.time_window_min, dtype=float)[problem.n_depots :]
        limits.extend((tw[:, 1] - tw[:, 0]).tolist())
    finite = [x for x in limits if np.isfinite(x) and x > 0]
    if not finite:
        return []
    kinds = {(v.speed_factor, v.service_time_min) for v in problem.vehicles}
    error = max(
        travel_time_units(problem, speed_factor=speed, vehicle_service_min=service)[1]
        for speed, service in kinds
    )
    route_arcs = problem.n_nodes - problem.n_depots + max(v.max_trips for v in problem.vehicles)
    worst_min = error * route_arcs
    if worst_min <= ROUNDING_NOTE_REL * min(finite):
        return []
    return [
        f"travel times rounded to 1/{problem.time_scale_per_min} min for the solver could "
        f"shift a route's schedule by up to {worst_min:.3g} min; a route at a time limit "
        "may be judged differently by the evaluator"
    ]


def _with_load(route: Route, position: int, amount: int, station: int | None) -> Route:
    """``route`` with ``amount`` more parcels at flat stop ``position`` (an existing stop
    when ``station`` is ``None``, else a new stop of ``station`` inserted there)."""
    loads = list(route.loads)
    ups = list(route.pickups_kg) if route.pickups_kg else [0.0] * len(loads)
    trips = [list(t) for t in route.trip_stops]
    if station is None:
        loads[position] += amount
    else:
        loads.insert(position, amount)
        ups.insert(position, 0.0)
        # Find the trip the flat position falls in (a position at a trip's end joins it).
        at = position
        for trip in trips:
            if at <= len(trip):
                trip.insert(at, station)
                break
            at -= len(trip)
    flat = tuple(x for t in trips for x in t)
    return replace(
        route, stops=flat, loads=tuple(loads), pickups_kg=tuple(ups),
        trips=tuple(tuple(t) for t in trips) if len(trips) > 1 else (),
    )


def _feasible_cost(problem: RoutingProblem, route: Route) -> float | None:
    """The route's cost if it breaks no rule, else ``None``."""
    violations = load_violations(problem, route)
    metrics = route_metrics(problem, route, violations)
    return None if violations else metrics.cost


def fill_spare_capacity(
    problem: RoutingProblem, routes: Sequence[Route], unserved: Sequence[tuple[int, int]]
) -> tuple[list[Route], int]:
    """Place unserved parcels in the routes' spare capacity (split delivery).

    For each station with parcels left (largest first), repeatedly take the cheapest
    feasible way of carrying more of them per parcel: more parcels at a stop the route
    already makes (no extra driving), a new stop inserted in a trip with room, or an
    unused vehicle driving there; a way is taken only when it costs less than the
    unserved penalty of the parcels it carries. Every changed route is checked against
    the shift, distance, window and capacity rules by the routing checker's own
    functions.

    Returns
    -------
    routes, added
        The routes and the number of parcels added.
    """
    out = list(routes)
    costs = [_feasible_cost(problem, r) for r in out]
    used = {r.vehicle for r in out}
    free: dict[tuple[str, int], int] = {}
    for k, v in enumerate(problem.vehicles):  # one unused vehicle per distinct kind
        if k not in used:
            free.setdefault((v.type_name, v.depot), k)
    rates = problem.penalty_rates()
    added = 0
    # Dearest parcels first (those due today in a peak week), then the largest remainder.
    for node, missing in sorted(unserved, key=lambda u: (-rates[u[0]], -u[1])):
        while missing > 0:
            best: tuple[float, int, Route, int] | None = None  # (per parcel, index, route, n)
            for i, route in enumerate(out):
                base = costs[i]
                if base is None:
                    continue
                cap = trip_parcels(problem.vehicles[route.vehicle], problem.parcel_kg)
                position = 0
                for trip in route.trip_stops:
                    room = cap - sum(route.loads[position : position + len(trip)])
                    amount = min(room, missing)
                    if amount > 0:
                        options: list[tuple[int, int | None]]
                        if node in trip:
                            options = [(position + trip.index(node), None)]
                        else:
                            options = [(position + j, node) for j in range(len(trip) + 1)]
                        for at, new in options:
                            cand = _with_load(route, at, amount, new)
                            cost = _feasible_cost(problem, cand)
                            if cost is None:
                                continue
                            per = (cost - base) / amount
                            if best is None or per < best[0]:
                                best = (per, i, cand, amount)
                    position += len(trip)
            for k in free.values():
                v = problem.vehicles[k]
                amount = min(trip_parcels(v, problem.parcel_kg), missing)
                if amount <= 0:
                    continue
                cand = Route(vehicle=k, stops=(node,), loads=(amount,), distance_km=0.0,
                             duration_min=0.0, cost=0.0, pickups_kg=(0.0,), depot=v.depot)
                cost = _feasible_cost(problem, cand)
                if cost is not None and (best is None or cost / amount < best[0]):
                    best = (cost / amount, -1 - k, cand, amount)
            if best is None or best[0] >= rates[node]:
                break
            _, i, cand, amount = best
            if i >= 0:
                out[i] = cand
                costs[i] = _feasible_cost(problem, cand)
            else:
                out.append(cand)
                costs.append(_feasible_cost(problem, cand))
                kind = (problem.vehicles[cand.vehicle].type_name, cand.depot)
                used.add(cand.vehicle)
                nxt = [k for k, v in enumerate(problem.vehicles)
                       if k not in used and (v.type_name, v.depot) == kind]
                if nxt:
                    free[kind] = nxt[0]
                else:
                    del free[kind]
            missing -= amount
            added += amount
    return out, added
