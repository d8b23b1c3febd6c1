"""Open / close / swap moves on village stations, priced against real routes.

The search state is an open set of sites with **routes** (trips of real vehicles from the
last routing-engine solve, edited by the accepted moves). A move is priced as

- the exact change of opening cost + village transport cost (villages reassigned to
  their cheapest open site, or greedily within the station capacities), plus
- the change of route cost on the current routes: closing a station removes its stops
  (the detour saved; a vehicle whose only stop it was is saved with its fixed cost),
  opening one inserts it where it is cheapest (or on a new out-and-back trip of an
  unused vehicle), a swap also tries the new site in the old one's place; plus
- penalties where the new station loads overfill a trip (the overflow priced at the
  trip's cost per parcel of a full vehicle) or the inserted stops overrun a shift (the
  overrun priced at the vehicle's cost per shift minute).

This is the cost a routing engine sees first after the move, before it re-optimises;
the search confirms the sets it picks with the engine (:mod:`rural_logistics.lrp.stations`).
Arrays and indices only: site ``j`` is node ``n_depots + j`` of the template routing problem.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from rural_logistics.placement.result import SiteRules
from rural_logistics.routing.model import Route, RoutingProblem, RoutingResult, VehicleSpec

#: Closed sites tried as swap partners of each open site (nearest by road).
SWAP_NEIGHBOURS = 10

Key = tuple[int, ...]


@dataclass
class _Trip:
    """One trip of one vehicle: template nodes visited and parcels dropped at each."""

    route: int
    vehicle: VehicleSpec
    stops: list[int]
    parcels: list[float]


class SetSearch:
    """Pricing and descent over open sets, with the current routes as the reference.

    Parameters
    ----------
    assign_cost
        ``(n_villages, n_sites)`` transport cost; ``inf`` = not allowed.
    parcels
        ``(n_villages,)`` parcels per village.
    opening
        ``(n_sites,)`` opening cost.
    capacity
        ``(n_sites,)`` station capacity, or ``None``.
    rules
        Side constraints on the open set.
    template
        Routing problem over depots then every site.
    """

    def __init__(
        self,
        *,
        assign_cost: np.ndarray,
        parcels: np.ndarray,
        opening: np.ndarray,
        capacity: np.ndarray | None,
        rules: SiteRules,
        template: RoutingProblem,
    ) -> None:
        self.cost = np.asarray(assign_cost, dtype=float)
        self.parcels = np.asarray(parcels, dtype=float)
        self.opening = np.asarray(opening, dtype=float)
        self.cap = None if capacity is None else np.asarray(capacity, dtype=float)
        self.rules = rules
        self.template = template
        self.n_dep = template.n_depots
        self.n_sites = self.cost.shape[1]
        self.dist = np.asarray(template.distance_km, dtype=float)
        self.tmin = np.asarray(template.time_min, dtype=float)
        self.service = (
            np.zeros(template.n_nodes) if template.service_time_min is None
            else np.asarray(template.service_time_min, dtype=float)
        )
        self.clients = np.flatnonzero(self.parcels > 0)
        self.allowed = (
            np.isfinite(self.cost[self.clients]).any(axis=0) if len(self.clients)
            else np.ones(self.n_sites, dtype=bool)
        )
        self.allowed[np.asarray(rules.excluded, dtype=np.int64)] = False
        self.locked = {int(j) for j in rules.locked}
        self.groups = (
            np.asarray(rules.groups) if rules.groups is not None and rules.min_per_group > 0
            else None
        )
        nodes = self.n_dep + np.arange(self.n_sites)
        self.site_dist = self.dist[np.ix_(nodes, nodes)]
        self.key: Key = ()
        self.trips: list[_Trip] = []
        self.route_km: dict[int, float] = {}
        self.route_min: dict[int, float] = {}
        self.route_vehicle: dict[int, VehicleSpec] = {}
        self.route_index: dict[int, int] = {}
        self.spare: list[int] = []  # indices of unused vehicles
        self.priced = 0
        #: Moves may not overfill trips or overrun shifts (else they are priced).
        self.hard = True
        #: Sites opened or closed in this descent: not moved again (no undoing a move
        #: for the route reordering it would price, which the engine does anyway).
        self.touched: set[int] = set()

    # ------------------------------------------------------------------ state
    def set_routes(self, open_sites: np.ndarray, routing: RoutingResult) -> None:
        """Take the engine's routes of ``open_sites`` (subset numbering) as the state."""
        open_sites = np.asarray(open_sites, dtype=np.int64)
        self.key = tuple(int(j) for j in open_sites)
        d = self.n_dep
        vehicles = self.template.vehicles
        self.trips = []
        self.route_km, self.route_min, self.route_vehicle = {}, {}, {}
        self.route_index = {}
        used = set()
        for r_id, route in enumerate(routing.routes):
            spec = vehicles[route.vehicle]
            used.add(route.vehicle)
            self.route_vehicle[r_id] = spec
            self.route_index[r_id] = route.vehicle
            self.route_km[r_id] = float(route.distance_km)
            self.route_min[r_id] = float(route.duration_min)
            loads = iter(route.loads)
            for trip in route.trip_stops:
                stops = [d + int(open_sites[s - d]) for s in trip]
                self.trips.append(_Trip(r_id, spec, stops, [float(next(loads)) for _ in trip]))
        self.spare = [k for k in range(len(vehicles)) if k not in used]

    def _edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(from node, to node, trip index) of every leg of every trip."""
        frm: list[int] = []
        to: list[int] = []
        trip_of: list[int] = []
        for t, trip in enumerate(self.trips):
            path = [trip.vehicle.depot, *trip.stops, trip.vehicle.depot]
            frm += path[:-1]
            to += path[1:]
            trip_of += [t] * (len(path) - 1)
        return np.array(frm, dtype=np.int64), np.array(to, dtype=np.int64), np.array(
            trip_of, dtype=np.int64
        )

    # ------------------------------------------------------------------ rules, assignment
    def meets_rules(self, key: Key) -> bool:
        """Whether an open set meets the side constraints."""
        rules = self.rules
        s = set(key)
        if not s or not self.locked <= s or not self.allowed[list(key)].all():
            return False
        if rules.max_stations is not None and len(key) > rules.max_stations:
            return False
        budget = rules.max_opening_cost
        if budget is not None and rules.opening_cost is not None and (
            float(np.asarray(rules.opening_cost)[list(key)].sum()) > budget + 1e-9
        ):
            return False
        if self.groups is not None:
            labels = self.groups
            mine = labels[list(key)]
            have = np.bincount(mine[mine >= 0], minlength=int(labels.max()) + 1)
            if any(have[g] < rules.min_per_group for g in np.unique(labels[labels >= 0])):
                return False
        return True

    def assign(self, key: Key) -> tuple[np.ndarray, float] | None:
        """Parcels per open site (``key`` order) and transport cost; ``None`` if unservable.

        Uncapacitated: every village to its cheapest open site (exact). Capacitated: the
        villages in decreasing order of regret to the cheapest site with room (an
        estimate; a confirmed set gets the exact assignment).
        """
        opened = np.asarray(key, dtype=np.int64)
        rows = self.clients
        sub = self.cost[np.ix_(rows, opened)]
        if not np.isfinite(sub).any(axis=1).all():
            return None
        if self.cap is None:
            col = np.argmin(sub, axis=1)
            nearest = np.bincount(col, weights=self.parcels[rows], minlength=len(key))
            return nearest, float(sub[np.arange(len(rows)), col].sum())
        room = self.cap[opened].copy()
        if room.sum() + 1e-9 < self.parcels.sum():
            return None
        order = np.argsort(sub, axis=1)
        best = sub[np.arange(len(rows)), order[:, 0]]
        second = sub[np.arange(len(rows)), order[:, 1]] if len(key) > 1 else best
        regret = np.where(np.isfinite(second), second - best, 1e18)
        loads = np.zeros(len(key))
        total = 0.0
        for i in np.lexsort((-self.parcels[rows], -regret)):
            p = self.parcels[rows[i]]
            finite = [c for c in order[i] if np.isfinite(sub[i, c])]
            fits = [c for c in finite if room[c] + 1e-9 >= p]
            col = fits[0] if fits else finite[0]
            room[col] -= p
            loads[col] += p
            total += float(sub[i, col])
        return loads, total

    # ------------------------------------------------------------------ move pricing
    def _insertion(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Cheapest insertion of every site into the current trips.

        Returns
        -------
        cost, trip, minutes, edge
            ``(n_sites,)`` added route cost, trip index (``-1``: a new out-and-back trip
            of a spare vehicle), added minutes, leg index.
        """
        frm, to, trip_of = self._edges()
        nodes = self.n_dep + np.arange(self.n_sites)
        per_km = np.array([self.trips[t].vehicle.cost_per_km for t in trip_of])
        speed = np.array([self.trips[t].vehicle.speed_factor for t in trip_of])
        svc = np.array([self.trips[t].vehicle.service_time_min for t in trip_of])
        detour_km = (
            self.dist[np.ix_(frm, nodes)] + self.dist[np.ix_(nodes, to)].T
            - self.dist[frm, to][:, None]
        )
        detour_min = (
            self.tmin[np.ix_(frm, nodes)] + self.tmin[np.ix_(nodes, to)].T
            - self.tmin[frm, to][:, None]
        ) / speed[:, None] + svc[:, None] + self.service[nodes][None, :]
        cost = per_km[:, None] * detour_km
        if len(frm):
            e = np.argmin(cost, axis=0)
            best = cost[e, np.arange(self.n_sites)]
            trip = trip_of[e]
            minutes = detour_min[e, np.arange(self.n_sites)]
        else:
            e = np.full(self.n_sites, -1)
            best = np.full(self.n_sites, math.inf)
            trip = np.full(self.n_sites, -1)
            minutes = np.zeros(self.n_sites)
        vehicles = self.template.vehicles
        for v in {vehicles[k].type_name: vehicles[k] for k in self.spare}.values():
            out = v.fixed_cost_per_day + v.cost_per_km * (
                self.dist[v.depot, nodes] + self.dist[nodes, v.depot]
            )
            better = out < best
            best = np.where(better, out, best)
            trip = np.where(better, -1, trip)
            e = np.where(better, -1, e)
        return best, trip, minutes, e

    def _removal(self) -> tuple[dict[int, float], dict[int, dict[int, float]]]:
        """Route cost saved by removing each open site's stops, and minutes saved per route."""
        saved: dict[int, float] = {}
        minutes: dict[int, dict[int, float]] = {}
        stops_of_route: dict[int, int] = {}
        for trip in self.trips:
            stops_of_route[trip.route] = stops_of_route.get(trip.route, 0) + len(trip.stops)
        d = self.n_dep
        for trip in self.trips:
            v = trip.vehicle
            path = [v.depot, *trip.stops, v.depot]
            for k in range(1, len(path) - 1):
                p, j, n = path[k - 1], path[k], path[k + 1]
                site = j - d
                km = self.dist[p, j] + self.dist[j, n] - self.dist[p, n]
                mins = (self.tmin[p, j] + self.tmin[j, n] - self.tmin[p, n]) / v.speed_factor
                mins += v.service_time_min + self.service[j]
                gain = v.cost_per_km * km
                if stops_of_route[trip.route] == 1:
                    gain += v.fixed_cost_per_day
                saved[site] = saved.get(site, 0.0) + float(gain)
                minutes.setdefault(site, {})
                minutes[site][trip.route] = minutes[site].get(trip.route, 0.0) + float(mins)
        return saved, minutes

    def _penalties(self, trip_load: np.ndarray, route_min: dict[int, float]) -> float:
        """Overfilled trips and overrun shifts, priced."""
        total = 0.0
        for t, trip in enumerate(self.trips):
            v = trip.vehicle
            over = trip_load[t] - v.capacity_parcels
            if over > 1e-9:
                far = max(self.dist[v.depot, s] + self.dist[s, v.depot] for s in trip.stops)
                total += over * (v.fixed_cost_per_day + v.cost_per_km * far) / v.capacity_parcels
        for r, minutes in route_min.items():
            v = self.route_vehicle[r]
            over = minutes - v.max_route_duration_min
            if over > 1e-9:
                per_min = (v.fixed_cost_per_day + v.cost_per_km * self.route_km[r]) / (
                    v.max_route_duration_min
                )
                total += over * per_min
        return total

    def descent(self, *, deadline: float) -> tuple[Key, float]:
        """Best-improvement descent from the current state until no move pays.

        Returns
        -------
        key, gain
            The final open set and the estimated saving against the start (≥ 0).
        """
        gain_total = 0.0
        self.touched = set()
        while time.perf_counter() < deadline:
            move = self._best_move(deadline)
            if move is None:
                break
            gain, removed, added, in_place = move
            self._apply(removed, added, in_place)
            self.touched |= {removed, added} - {-1}
            gain_total += gain
        return self.key, gain_total

    def _current_loads(self) -> tuple[np.ndarray, float] | None:
        return self.assign(self.key)

    def _best_move(self, deadline: float) -> tuple[float, int, int, bool] | None:
        """(estimated gain, removed site or -1, added site or -1, swap in place)."""
        here = self._current_loads()
        if here is None:
            return None
        key = self.key
        s = set(key)
        loads0, transport0 = here
        base_place = float(self.opening[list(key)].sum()) + transport0
        ins_cost, ins_trip, ins_min, _ = self._insertion()
        rem_saved, rem_min = self._removal()
        # Share of each open site's parcels carried on each trip (by current drops).
        d = self.n_dep
        visit_trip: list[int] = []
        visit_site: list[int] = []
        visit_parcels: list[float] = []
        for t, trip in enumerate(self.trips):
            for node, p in zip(trip.stops, trip.parcels, strict=True):
                visit_trip.append(t)
                visit_site.append(node - d)
                visit_parcels.append(p)
        vt = np.array(visit_trip, dtype=np.int64)
        vs = np.array(visit_site, dtype=np.int64)
        vp = np.array(visit_parcels, dtype=float)
        carried = np.zeros(self.n_sites)
        np.add.at(carried, vs, vp)
        share = np.where(carried[vs] > 0, vp / np.maximum(carried[vs], 1e-12), 0.0)
        n_trips = len(self.trips)
        load_now = np.zeros(self.n_sites)
        load_now[list(key)] = loads0
        trip_load0 = np.bincount(vt, weights=share * load_now[vs], minlength=n_trips)
        penalty0 = self._penalties(trip_load0, self.route_min)
        # Hard limits: a move may not overfill a trip or overrun a shift that was within
        # them (each stop may round its parcels up by one), so the edited routes stay a
        # feasible plan whenever the start was.
        cap = np.array([t.vehicle.capacity_parcels for t in self.trips], dtype=float)
        stops = np.array([len(t.stops) for t in self.trips], dtype=float)
        full0 = trip_load0 + stops > cap + 1e-9
        late0 = {
            r: m > self.route_vehicle[r].max_route_duration_min + 1e-9
            for r, m in self.route_min.items()
        }
        closed = np.flatnonzero(self.allowed & ~np.isin(np.arange(self.n_sites), key))
        candidates: list[tuple[int, int, bool]] = []
        for j in key:
            if j not in self.locked and len(s) > 1:
                candidates.append((j, -1, False))
        candidates += [(-1, int(j), False) for j in closed]
        if len(closed):
            for i in key:
                if i in self.locked:
                    continue
                near = closed[np.argsort(self.site_dist[i, closed], kind="stable")]
                for j in near[:SWAP_NEIGHBOURS]:
                    candidates.append((i, int(j), False))
                    candidates.append((i, int(j), True))
        best: tuple[float, int, int, bool] | None = None
        for removed, added, in_place in candidates:
            if time.perf_counter() > deadline:
                break
            if removed in self.touched or added in self.touched:
                continue
            new_key = tuple(sorted((s - {removed}) | ({added} if added >= 0 else set())))
            if not self.meets_rules(new_key):
                continue
            got = self.assign(new_key)
            self.priced += 1
            if got is None:
                continue
            loads, transport = got
            place = float(self.opening[list(new_key)].sum()) + transport
            load_new = np.zeros(self.n_sites)
            load_new[list(new_key)] = loads
            route_delta = 0.0
            minutes = dict(self.route_min)
            trip_load = np.bincount(vt, weights=share * load_new[vs], minlength=n_trips)
            if removed >= 0 and not in_place:
                route_delta -= rem_saved.get(removed, 0.0)
                for r, m in rem_min.get(removed, {}).items():
                    minutes[r] -= m
            if added >= 0 and not in_place:
                t = int(ins_trip[added])
                if removed >= 0 and t >= 0 and self.n_dep + removed in self.trips[t].stops:
                    continue  # inserted into the trip the removal edits: the in-place swap
                route_delta += float(ins_cost[added])
                if t >= 0:
                    trip_load[t] += load_new[added]
                    r = self.trips[t].route
                    minutes[r] += float(ins_min[added])
            if in_place:
                delta, extra = self._replace_cost(removed, added)
                route_delta += delta
                for r, m in extra.items():
                    minutes[r] += m
                trip_load += np.bincount(
                    vt, weights=share * (vs == removed) * load_new[added], minlength=n_trips
                )
            if self.hard:
                extra_stop = np.zeros(n_trips)
                if added >= 0 and not in_place and int(ins_trip[added]) >= 0:
                    extra_stop[int(ins_trip[added])] = 1.0
                if np.any((trip_load + stops + extra_stop > cap + 1e-9) & ~full0):
                    continue
                if any(
                    m > self.route_vehicle[r].max_route_duration_min + 1e-9 and not late0[r]
                    for r, m in minutes.items()
                ):
                    continue
            penalty = self._penalties(trip_load, minutes)
            gain = (base_place + penalty0) - (place + route_delta + penalty)
            if gain > 1e-6 and (best is None or gain > best[0] + 1e-9):
                best = (gain, removed, added, in_place)
        return best

    def _replace_cost(self, removed: int, added: int) -> tuple[float, dict[int, float]]:
        """Route cost and minutes per route of visiting ``added`` where ``removed`` was."""
        d = self.n_dep
        i, j = d + removed, d + added
        delta = 0.0
        extra: dict[int, float] = {}
        for trip in self.trips:
            v = trip.vehicle
            path = [v.depot, *trip.stops, v.depot]
            for k in range(1, len(path) - 1):
                if path[k] != i:
                    continue
                p, n = path[k - 1], path[k + 1]
                km = self.dist[p, j] + self.dist[j, n] - self.dist[p, i] - self.dist[i, n]
                mins = (
                    self.tmin[p, j] + self.tmin[j, n] - self.tmin[p, i] - self.tmin[i, n]
                ) / v.speed_factor + self.service[j] - self.service[i]
                delta += v.cost_per_km * float(km)
                extra[trip.route] = extra.get(trip.route, 0.0) + float(mins)
        return delta, extra

    def _apply(self, removed: int, added: int, in_place: bool) -> None:
        """Edit the routes and the open set by one move."""
        d = self.n_dep
        target: tuple[_Trip, int] | None = None
        if added >= 0 and not in_place:
            _, ins_trip, ins_min, edge = self._insertion()
            t = int(ins_trip[added])
            if t >= 0:
                _, _, trip_of = self._edges()
                at = int(edge[added]) - int(np.flatnonzero(trip_of == t)[0])
                target = (self.trips[t], at)
                self.route_min[self.trips[t].route] += float(ins_min[added])
        if in_place:
            _, extra = self._replace_cost(removed, added)
            for trip in self.trips:
                trip.stops = [d + added if s == d + removed else s for s in trip.stops]
            for r, m in extra.items():
                self.route_min[r] += m
        else:
            if removed >= 0:
                _, rem_min = self._removal()
                for r, m in rem_min.get(removed, {}).items():
                    self.route_min[r] -= m
                for trip in self.trips:
                    keep = [k for k, s in enumerate(trip.stops) if s != d + removed]
                    trip.stops = [trip.stops[k] for k in keep]
                    trip.parcels = [trip.parcels[k] for k in keep]
                self.trips = [t for t in self.trips if t.stops]
                live = {t.route for t in self.trips}
                for r in [r for r in self.route_vehicle if r not in live]:
                    self.route_vehicle.pop(r)
                    self.spare.append(self.route_index.pop(r))
                    del self.route_km[r], self.route_min[r]
            if target is not None:
                trip, at = target
                trip.stops.insert(at, d + added)
                trip.parcels.insert(at, 0.0)
            elif added >= 0 and self.spare:
                fleet = self.template.vehicles
                k = min(
                    self.spare,
                    key=lambda i: fleet[i].fixed_cost_per_day
                    + fleet[i].cost_per_km * (self.dist[fleet[i].depot, d + added] * 2),
                )
                v = fleet[k]
                self.spare.remove(k)
                r = max(self.route_km, default=-1) + 1
                self.route_vehicle[r] = v
                self.route_index[r] = k
                self.route_km[r] = float(
                    self.dist[v.depot, d + added] + self.dist[d + added, v.depot]
                )
                self.route_min[r] = float(
                    (self.tmin[v.depot, d + added] + self.tmin[d + added, v.depot])
                    / v.speed_factor + v.service_time_min + self.service[d + added]
                )
                self.trips.append(_Trip(r, v, [d + added], [0.0]))
        s = set(self.key)
        if removed >= 0:
            s.discard(removed)
        if added >= 0:
            s.add(added)
        self.key = tuple(sorted(s))
        # Drops follow the new assignment: each trip carries its stops' new loads.
        got = self.assign(self.key)
        if got is not None:
            loads, _ = got
            load_of = {d + j: float(x) for j, x in zip(self.key, loads, strict=True)}
            visits: dict[int, int] = {}
            for trip in self.trips:
                for node in trip.stops:
                    visits[node] = visits.get(node, 0) + 1
            for trip in self.trips:
                trip.parcels = [load_of.get(n, 0.0) / visits[n] for n in trip.stops]

    def edited_routes(
        self, open_sites: np.ndarray, parcels: np.ndarray, produce: np.ndarray
    ) -> list[Route]:
        """The current routes as routing-engine routes of the open set.

        Nodes in subset numbering (depots, then open site ``k`` as ``n_depots + k``);
        each station's whole parcels (rounded up) and produce are split evenly over its
        visits. The caller checks them with the independent evaluator: the moves priced
        overfilled trips and overrun shifts but did not forbid them.
        """
        d = self.n_dep
        position = {d + int(j): d + k for k, j in enumerate(open_sites)}
        need = {
            d + int(j): math.ceil(float(p) - 1e-9)
            for j, p in zip(open_sites, parcels, strict=True)
        }
        pick = 1.0 if self.template.pickup_produce else 0.0
        up = {d + int(j): pick * float(u) for j, u in zip(open_sites, produce, strict=True)}
        visits: dict[int, int] = {}
        for trip in self.trips:
            for node in trip.stops:
                visits[node] = visits.get(node, 0) + 1
        seen: dict[int, int] = {}
        by_route: dict[int, list[tuple[list[int], list[int], list[float]]]] = {}
        for trip in self.trips:
            stops, loads, ups = [], [], []
            for node in trip.stops:
                if node not in position:
                    continue
                n, k = visits[node], seen.get(node, 0)
                seen[node] = k + 1
                base, extra = divmod(need[node], n)
                stops.append(position[node])
                loads.append(base + (1 if k < extra else 0))
                ups.append(up[node] / n)
            if stops:
                by_route.setdefault(trip.route, []).append((stops, loads, ups))
        routes = []
        for r, trips in by_route.items():
            flat = tuple(s for t in trips for s in t[0])
            routes.append(
                Route(
                    vehicle=self.route_index[r],
                    stops=flat,
                    loads=tuple(x for t in trips for x in t[1]),
                    distance_km=0.0,
                    duration_min=0.0,
                    cost=0.0,
                    trips=tuple(tuple(t[0]) for t in trips) if len(trips) > 1 else (),
                    pickups_kg=tuple(x for t in trips for x in t[2]),
                    depot=self.route_vehicle[r].depot,
                )
            )
        return routes
