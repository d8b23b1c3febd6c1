"""Two-echelon network: county DC → township hubs (trunk) → village stations (last mile).

Nodes of :class:`TwoEchelonProblem`: ``0`` is the distribution centre (DC), ``1 … h`` the
candidate hubs, ``h+1 … h+s`` the stations. The search opens a set of hubs and prices it
exactly: the last-mile tier is a location-routing problem with the DC (when it may serve
stations directly) and the open hubs as depots (:func:`solve_capacitated`, depot
capacities = hub capacities); the trunk tier is a CVRP from the DC to the open hubs, each
hub's load split into full truckloads plus a remainder. Hub sets are ranked by an
estimate (savings routes for the last mile, each hub charging its radial trunk cost per
parcel) and the best few are confirmed by both routing solves.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rural_logistics.errors import InfeasibleError
from rural_logistics.lrp.engine import depot_loads, solve_capacitated, solve_mdvrp
from rural_logistics.lrp.estimate import assign_capacitated, routes_cost, savings_routes
from rural_logistics.lrp.evaluate import evaluate_lrp, route_travel
from rural_logistics.lrp.model import LrpProblem, LrpRoute
from rural_logistics.solvers.budget import Budget

#: Enumerate every hub subset up to this many candidates (else a greedy add/drop).
ENUMERATE_MAX_HUBS = 10
#: Hub sets confirmed by the routing solves.
CONFIRM = 3


@dataclass(frozen=True)
class TierFleet:
    """One tier's vehicles (unlimited count).

    Attributes
    ----------
    capacity_parcels
        Parcels per route.
    fixed_cost
        Cost per route used.
    cost_per_km
        Running cost.
    max_route_duration_min
        Shift length: driving (at ``speed_factor``) plus service, depot to depot
        (``inf``: not limited). Enforced on the last mile by splitting longer routes.
    speed_factor
        Multiplies road speeds.
    service_time_min
        Minutes at each stop.
    max_route_distance_km
        Longest route, depot to depot (``inf``: not limited). Enforced on the last mile
        with the shift.
    """

    capacity_parcels: int
    fixed_cost: float
    cost_per_km: float
    max_route_duration_min: float = math.inf
    speed_factor: float = 1.0
    service_time_min: float = 0.0
    max_route_distance_km: float = math.inf


@dataclass(frozen=True)
class TwoEchelonProblem:
    """DC, candidate hubs and stations.

    Attributes
    ----------
    distance_km
        ``(1 + h + s, 1 + h + s)`` road distances: DC, hubs, stations.
    parcels_per_day
        ``(s,)`` parcels per station (each at most the last-mile capacity; split larger
        stations into several entries first).
    hub_capacity_parcels
        ``(h,)`` most parcels a hub handles per day.
    hub_opening_cost
        ``(h,)`` daily cost of an open hub.
    trunk, last_mile
        The two fleets.
    dc_serves_stations
        Last-mile vehicles may also start at the DC.
    time_min
        ``(1 + h + s, 1 + h + s)`` travel times at speed factor 1, for the last-mile
        shift (``None``: shifts not checked).
    unserved_penalty_per_parcel
        Price of a parcel no last-mile vehicle can deliver within its shift.
    """

    distance_km: np.ndarray
    parcels_per_day: np.ndarray
    hub_capacity_parcels: np.ndarray
    hub_opening_cost: np.ndarray
    trunk: TierFleet
    last_mile: TierFleet
    dc_serves_stations: bool = True
    time_min: np.ndarray | None = None
    unserved_penalty_per_parcel: float = 0.0

    @property
    def n_hubs(self) -> int:
        """Candidate hubs ``h``."""
        return len(self.hub_capacity_parcels)

    def last_mile_problem(self) -> LrpProblem:
        """The last-mile tier as a location-routing problem (depot 0 = DC, 1… = hubs)."""
        demand = np.asarray(self.parcels_per_day, dtype=np.int64)
        total = float(demand.sum())
        dc_cap = total if self.dc_serves_stations else 0.0
        return LrpProblem(
            cost=np.asarray(self.distance_km, dtype=float) * self.last_mile.cost_per_km,
            demand=demand,
            depot_capacity=np.concatenate([[dc_cap], np.asarray(self.hub_capacity_parcels)]),
            opening_cost=np.concatenate([[0.0], np.asarray(self.hub_opening_cost, float)]),
            vehicle_capacity=self.last_mile.capacity_parcels,
            route_fixed_cost=self.last_mile.fixed_cost,
            cost_scale=1000,
        )


@dataclass(frozen=True)
class TrunkStop:
    """One trunk delivery: hub index (0-based among candidates) and parcels dropped."""

    hub: int
    parcels: int


@dataclass(frozen=True)
class TwoEchelonSolution:
    """Open hubs, both tiers' routes and the cost split.

    Attributes
    ----------
    open_hubs
        Candidate hub indices (0-based) that open.
    last_mile_routes
        Routes with ``depot`` 0 = DC, ``k`` = hub ``k-1``; customers are station indices.
    trunk_routes
        DC → hubs → DC routes.
    opening_cost, fixed_vehicle_cost, travel_cost
        Cost split (both tiers' route fixed costs; both tiers' running costs).
    trunk_km, last_mile_km
        Kilometres driven per tier.
    unserved
        Stations (indices into ``parcels_per_day``) that no last-mile vehicle can serve
        within its shift from any open hub or the DC.
    unserved_penalty
        Their parcels times the penalty per parcel.
    """

    open_hubs: tuple[int, ...]
    last_mile_routes: tuple[LrpRoute, ...]
    trunk_routes: tuple[tuple[TrunkStop, ...], ...]
    opening_cost: float
    fixed_vehicle_cost: float
    travel_cost: float
    trunk_km: float
    last_mile_km: float
    notes: tuple[str, ...] = ()
    unserved: tuple[int, ...] = ()
    unserved_penalty: float = 0.0

    @property
    def total_cost(self) -> float:
        """Opening + fixed vehicle + travel cost (+ unserved penalty)."""
        return (
            self.opening_cost + self.fixed_vehicle_cost + self.travel_cost
            + self.unserved_penalty
        )


def _route_km(dist: np.ndarray, nodes: list[int]) -> float:
    return float(sum(dist[a, b] for a, b in itertools.pairwise(nodes)))


def _trunk_radial_price(problem: TwoEchelonProblem) -> np.ndarray:
    """Per parcel at each hub: a full truck's round trip cost shared by its parcels."""
    dist = np.asarray(problem.distance_km, dtype=float)
    h = problem.n_hubs
    t = problem.trunk
    round_trip = dist[0, 1 : 1 + h] + dist[1 : 1 + h, 0]
    return (t.fixed_cost + t.cost_per_km * round_trip) / t.capacity_parcels


def _estimate(problem: TwoEchelonProblem, lm: LrpProblem, key: tuple[int, ...]) -> float:
    """Savings last-mile routes plus radial trunk price (``inf`` if it does not fit)."""
    cap = np.asarray(lm.depot_capacity, dtype=float)
    if cap[list(key)].sum() + 1e-9 < lm.total_demand:
        return math.inf
    price = np.concatenate([[0.0], _trunk_radial_price(problem)])
    m = lm.n_depots
    demand = np.asarray(lm.demand, dtype=float)
    cost = np.asarray(lm.cost, dtype=float)
    weight = cost[np.ix_(m + np.arange(lm.n_customers), np.arange(m))] + (
        price[None, :] * demand[:, None]
    )
    assign = assign_capacitated(lm, key, weight=weight, strict=False)
    if assign is None:
        return math.inf
    total = float(np.asarray(lm.opening_cost)[list(key)].sum())
    for d in key:
        mine = np.flatnonzero(assign == d)
        total += routes_cost(lm, d, savings_routes(lm, d, mine))
        total += float(price[d] * demand[mine].sum())
    return total


def solve_trunk(
    problem: TwoEchelonProblem, hub_parcels: np.ndarray, *, time_limit_s: float, seed: int
) -> tuple[list[tuple[TrunkStop, ...]], float, float, float]:
    """Trunk routes for the hubs' loads: (routes, fixed cost, travel cost, km).

    Each hub's load is split into full truckloads (out-and-back) and one remainder; the
    remainders are routed as a CVRP from the DC.
    """
    dist = np.asarray(problem.distance_km, dtype=float)
    t = problem.trunk
    q = t.capacity_parcels
    routes: list[tuple[TrunkStop, ...]] = []
    rest_hubs: list[int] = []
    rest: list[int] = []
    for hub, load in enumerate(np.asarray(hub_parcels, dtype=np.int64)):
        full, left = divmod(int(load), q)
        routes += [(TrunkStop(hub, q),)] * full
        if left:
            rest_hubs.append(hub)
            rest.append(left)
    if rest:
        nodes = [0, *(1 + h for h in rest_hubs)]
        sub = LrpProblem(
            cost=dist[np.ix_(nodes, nodes)] * t.cost_per_km,
            demand=np.asarray(rest, dtype=np.int64),
            depot_capacity=np.array([float(sum(rest))]),
            opening_cost=np.zeros(1),
            vehicle_capacity=q,
            route_fixed_cost=t.fixed_cost,
            cost_scale=1000,
        )
        for r in solve_mdvrp(sub, [0], time_limit_s=time_limit_s, seed=seed):
            routes.append(tuple(TrunkStop(rest_hubs[c], rest[c]) for c in r.customers))
    km = sum(_route_km(dist, [0, *(1 + s.hub for s in r), 0]) for r in routes)
    return routes, t.fixed_cost * len(routes), t.cost_per_km * km, km


def _hub_sets(problem: TwoEchelonProblem, lm: LrpProblem) -> dict[tuple[int, ...], float]:
    """Depot keys of the last-mile problem (DC first when allowed) with their estimate."""
    h = problem.n_hubs
    base = (0,) if problem.dc_serves_stations else ()
    found: dict[tuple[int, ...], float] = {}

    def price(hubs: tuple[int, ...]) -> float:
        key = tuple(sorted(base + tuple(1 + j for j in hubs)))
        if key not in found:
            found[key] = _estimate(problem, lm, key) if key else math.inf
        return found[key]

    if h <= ENUMERATE_MAX_HUBS:
        for size in range(0, h + 1):
            for hubs in itertools.combinations(range(h), size):
                price(hubs)
    else:
        current: tuple[int, ...] = ()
        while True:
            moves = [tuple(sorted(set(current) ^ {j})) for j in range(h)]
            best = min(moves, key=price)
            if price(best) + 1e-9 >= price(current):
                break
            current = best
    return {k: v for k, v in found.items() if math.isfinite(v)}


def solve_two_echelon(
    problem: TwoEchelonProblem, *, budget: Budget, seed: int = 0
) -> TwoEchelonSolution:
    """Open hubs and route both tiers, minimising opening + fixed vehicle + travel cost.

    Parameters
    ----------
    problem
        The network.
    budget
        Wall-clock budget for all routing solves: the best hub sets share it equally
        with a final solve of the best one, which also gets whatever they left.
    seed
        PyVRP seed.

    Returns
    -------
    TwoEchelonSolution
        Last-mile routes checked by :func:`evaluate_lrp` (each station once, vehicle and
        hub capacities); trunk routes carry every open hub's load.

    Raises
    ------
    InfeasibleError
        When no hub set (with the DC if allowed) can hold the demand.
    """
    lm = problem.last_mile_problem()
    sets = _hub_sets(problem, lm)
    if not sets:
        raise InfeasibleError(
            "two-echelon: the hubs (and the DC) cannot hold the parcels of all stations"
        )
    ranked = sorted(sets, key=lambda k: sets[k])[:CONFIRM]
    per_s = budget.left() / (len(ranked) + 1)
    best: TwoEchelonSolution | None = None
    for key in ranked:
        sol = _price_exactly(problem, lm, key, budget=budget.at_most(per_s), seed=seed)
        if sol is not None and (best is None or sol.total_cost < best.total_cost - 1e-9):
            best = sol
    if best is None:
        raise InfeasibleError("two-echelon: no feasible plan found (raise the time limit)")
    if budget.left() > 0.3:
        key = tuple(sorted(({0} if problem.dc_serves_stations else set())
                           | {1 + j for j in best.open_hubs}))
        cost = np.asarray(lm.cost, dtype=float)
        start_routes = list(best.last_mile_routes) + [  # unserved ones: from the nearest
            LrpRoute(min(key, key=lambda d: cost[d, lm.n_depots + c]), (c,))
            for c in best.unserved
        ]
        again = _price_exactly(
            problem, lm, key, budget=budget, seed=seed + 1, initial=start_routes,
        )
        if again is not None and again.total_cost < best.total_cost - 1e-9:
            best = again
    notes = (
        f"{len(sets)} hub sets priced by the estimate, {len(ranked)} confirmed by routing",
    )
    return TwoEchelonSolution(**{**best.__dict__, "notes": notes})


def route_minutes(problem: TwoEchelonProblem, depot: int, customers: Sequence[int]) -> float:
    """Last-mile route duration: driving at the vehicle's speed plus service at each stop."""
    if problem.time_min is None:
        return 0.0
    t = np.asarray(problem.time_min, dtype=float)
    base = 1 + problem.n_hubs
    path = [depot, *(base + c for c in customers), depot]
    lm = problem.last_mile
    return _route_km(t, path) / lm.speed_factor + lm.service_time_min * len(customers)


def route_fits(problem: TwoEchelonProblem, depot: int, customers: Sequence[int]) -> bool:
    """Whether a last-mile route keeps the shift and the distance limit."""
    lm = problem.last_mile
    if route_minutes(problem, depot, customers) > lm.max_route_duration_min + 1e-9:
        return False
    if not math.isfinite(lm.max_route_distance_km):
        return True
    base = 1 + problem.n_hubs
    path = [depot, *(base + c for c in customers), depot]
    return _route_km(np.asarray(problem.distance_km, float), path) <= (
        lm.max_route_distance_km + 1e-9
    )


def enforce_shift(
    problem: TwoEchelonProblem, lm: LrpProblem, key: Sequence[int], routes: Sequence[LrpRoute]
) -> tuple[list[LrpRoute], list[int]]:
    """Split last-mile routes longer than the shift (or the distance limit); stations no
    open depot can reach within them are returned as unserved.

    A route over a limit is cut into consecutive pieces, each within the limits, at the
    least fixed + travel cost (dynamic programming over the cut points). A station whose
    own round trip from its depot is too long moves to the open depot (hub or DC) with the
    shortest round trip that fits and has room, as a route of its own; if none, it is
    unserved.

    Returns
    -------
    routes, unserved
        Routes within the limits, and unserved customers (0-based).
    """
    limit = problem.last_mile.max_route_duration_min
    timed = problem.time_min is not None and math.isfinite(limit)
    if not timed and not math.isfinite(problem.last_mile.max_route_distance_km):
        return list(routes), []
    out: list[LrpRoute] = []
    stranded: list[int] = []
    m = lm.n_depots
    cost = np.asarray(lm.cost, dtype=float)
    for r in routes:
        if route_fits(problem, r.depot, r.customers):
            out.append(r)
            continue
        seq = [c for c in r.customers if route_fits(problem, r.depot, [c])]
        stranded += [c for c in r.customers if c not in seq]
        n = len(seq)
        best = [0.0] + [math.inf] * n
        cut = [0] * (n + 1)
        for b in range(1, n + 1):
            for a in range(b - 1, -1, -1):
                piece = seq[a:b]
                if not route_fits(problem, r.depot, piece):
                    break
                nodes = [r.depot, *(m + c for c in piece), r.depot]
                price = lm.route_fixed_cost + _route_km(cost, nodes)
                if best[a] + price < best[b]:
                    best[b], cut[b] = best[a] + price, a
        b = n
        pieces = []
        while b > 0:
            pieces.append(LrpRoute(r.depot, tuple(seq[cut[b]:b])))
            b = cut[b]
        out += pieces[::-1]
    unserved: list[int] = []
    if stranded:
        room = np.asarray(lm.depot_capacity, dtype=float) - depot_loads(lm, out)
        demand = np.asarray(lm.demand, dtype=float)
        for c in stranded:
            fits = [
                (route_minutes(problem, d, [c]), d) for d in key
                if route_fits(problem, d, [c]) and room[d] + 1e-9 >= demand[c]
            ]
            if fits:
                d = min(fits)[1]
                room[d] -= demand[c]
                out.append(LrpRoute(d, (c,)))
            else:
                unserved.append(c)
    return out, sorted(unserved)


def _price_exactly(
    problem: TwoEchelonProblem,
    lm: LrpProblem,
    key: tuple[int, ...],
    *,
    budget: Budget,
    seed: int,
    initial: list[LrpRoute] | None = None,
) -> TwoEchelonSolution | None:
    """Both tiers routed for the open depot key of the last-mile problem (the last mile
    gets 80 % of the budget, the trunk the rest)."""
    time_limit_s = budget.left()
    routes, _ = solve_capacitated(
        lm, key, time_limit_s=0.8 * time_limit_s, seed=seed, initial=initial
    )
    check = evaluate_lrp(lm, key, routes)
    if not routes or not check.feasible:
        return None
    routes, unserved = enforce_shift(problem, lm, key, routes)
    loads = depot_loads(lm, routes)[1:]
    trunk, t_fixed, t_travel, t_km = solve_trunk(
        problem, loads, time_limit_s=max(0.05, 0.2 * time_limit_s), seed=seed
    )
    dist = np.asarray(problem.distance_km, dtype=float)
    h = problem.n_hubs
    lm_km = sum(
        _route_km(dist, [r.depot, *(1 + h + c for c in r.customers), r.depot]) for r in routes
    )
    lost = float(np.asarray(problem.parcels_per_day, dtype=float)[unserved].sum())
    return TwoEchelonSolution(
        open_hubs=tuple(d - 1 for d in key if d > 0),
        last_mile_routes=tuple(sorted(routes, key=lambda r: (r.depot, r.customers))),
        trunk_routes=tuple(trunk),
        opening_cost=check.opening_cost,
        fixed_vehicle_cost=lm.route_fixed_cost * len(routes) + t_fixed,
        travel_cost=sum(route_travel(lm, r) for r in routes) + t_travel,
        trunk_km=t_km,
        last_mile_km=lm_km,
        unserved=tuple(unserved),
        unserved_penalty=problem.unserved_penalty_per_parcel * lost,
    )
