"""Choose each station's visit option and build every day's routes.

With PyVRP and a fleet the joint model represents
(:func:`rural_logistics.routing.pyvrp_periodic.supported`: one speed and service time,
single trips, no opening windows, parcels only), the whole search runs in **one PyVRP
instance of all days** (:func:`rural_logistics.routing.pyvrp_patterns.search_patterns`):
a station with one visit on any day is one client whose day is its vehicle's, one with
one visit on some days a group of day copies (PyVRP picks the day while it routes), and a
station with several visits gets its pattern from pattern moves made inside PyVRP's
iterated local search, each repaired by PyVRP's local search. It starts from the greedy
assignment below.

Otherwise (OR-Tools, or a fleet the joint model does not represent):

1. **Start**: a greedy assignment (stations with the fewest options and the most parcels
   first) that puts each station on the days where it lies nearest to the stations
   already there, keeping each day's parcels within the day's fleet capacity — or, for
   the benchmarks' baseline, each station's first option.
2. **Route** each day with the routing engine (:func:`rural_logistics.routing.solve_vrp`).
3. **Improve**: for each station in turn, the change of option whose removal savings
   plus cheapest feasible insertions on the current day routes (every changed route
   checked by the routing evaluator's own rules) lowers the cost most is applied;
   after a pass, the changed days are routed again by the engine and the cheaper of the
   two kept. A move may put a station over a route's capacity when the day's fleet has
   room: that day must then be routed again, and the pass is undone if it cannot be.
   Passes repeat until none improves; a kick then moves a few random stations to random
   options and the search goes on from there, the best plan kept (it stops after
   :data:`STALE_KICKS` or one per two stations kicks without a better plan); the last share of
   the budget re-routes every day of the best plan.

Everything stops on the one :class:`~rural_logistics.solvers.budget.Budget`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from rural_logistics.periodic.model import PeriodicPlan, PeriodicProblem
from rural_logistics.routing.evaluate import evaluate, load_violations, route_metrics
from rural_logistics.routing.model import Route, RoutingProblem, RoutingResult, trip_parcels
from rural_logistics.routing.pyvrp_periodic import DayVisit, supported
from rural_logistics.routing.solve import DEFAULT_ENGINE, solve_vrp
from rural_logistics.solvers.budget import Budget

#: Share of the budget for routing the start plan's days.
START_SHARE = 0.25
#: Share of the budget kept for re-routing every day of the best plan at the end.
POLISH_SHARE = 0.2
#: Share of the stations a kick moves (at least 2).
KICK_SHARE = 0.05
#: The search stops after this many kicks in a row that do not improve the best plan
#: (or one per two stations, if more): small problems end before their budget.
STALE_KICKS = 5
_EPS = 1e-7

Progress = Callable[[str], None]


@dataclass
class _Route:
    vehicle: int
    depot: int
    nodes: list[int]
    loads: list[int]
    cost: float


@dataclass
class _Day:
    routes: list[_Route]
    frozen: bool  # multi-trip routes: not edited by the moves, only re-routed
    dirty: bool = False  # a route is over capacity: the day must be routed again


def _route_cost(problem: RoutingProblem, vehicle: int, depot: int, nodes: Sequence[int],
                loads: Sequence[int]) -> float | None:
    """The route's cost if it breaks no rule of the routing evaluator, else ``None``."""
    if not nodes:
        return 0.0
    r = Route(vehicle=vehicle, stops=tuple(nodes), loads=tuple(loads), distance_km=0.0,
              duration_min=0.0, cost=0.0, pickups_kg=(0.0,) * len(nodes), depot=depot)
    violations = load_violations(problem, r)
    metrics = route_metrics(problem, r, violations)
    return None if violations else metrics.cost


def _day_state(result: RoutingResult) -> _Day:
    routes, frozen = [], False
    for r in result.routes:
        if r.trips:
            frozen = True
        routes.append(_Route(r.vehicle, r.depot, list(r.stops), list(r.loads), r.cost))
    return _Day(routes, frozen)


def _result_of(problem: RoutingProblem, day: _Day, engine: str, seconds: float) -> RoutingResult:
    routes = [Route(vehicle=r.vehicle, stops=tuple(r.nodes), loads=tuple(r.loads),
                    distance_km=0.0, duration_min=0.0, cost=0.0,
                    pickups_kg=(0.0,) * len(r.nodes), depot=r.depot)
              for r in day.routes if r.nodes]
    check = evaluate(problem, routes)
    routes = [replace(r, distance_km=m.distance_km, duration_min=m.duration_min, cost=m.cost,
                      start_min=m.start_min) for r, m in zip(routes, check.metrics, strict=True)]
    notes = tuple(f"check failed: {v}" for v in check.violations)
    return RoutingResult(tuple(routes), check.unserved,
                         "solved" if not check.unserved else "partial", seconds, notes,
                         engine, check.penalty)


class _Search:
    def __init__(self, problem: PeriodicProblem, *, engine: str, seed: int, workers: int,
                 progress: Progress | None) -> None:
        self.p = problem
        self.t = problem.template
        self.engine = engine
        self.seed = seed
        self.workers = workers
        self.progress = progress
        self.rng = random.Random(seed)
        self.n_dep = self.t.n_depots
        self.dist = np.asarray(self.t.distance_km, dtype=float)
        self.cap = [trip_parcels(v, self.t.parcel_kg) for v in self.t.vehicles]
        self.fleet_parcels = sum(c * v.max_trips for c, v in zip(self.cap, self.t.vehicles,
                                                                 strict=True))
        self.rounds = 0
        self.relax = True  # insertions over a route's capacity allowed (the day re-routed)
        self.moves = 0
        self.reroutes = 0

    # -- routing of whole days -------------------------------------------------------
    def route_day(self, choice: Sequence[int], d: int, budget: Budget) -> RoutingResult:
        self.reroutes += 1
        return solve_vrp(self.p.day_problem(choice, d), engine=self.engine, budget=budget,
                         seed=self.seed + self.reroutes, workers=self.workers)

    # -- move evaluation -------------------------------------------------------------
    def removal(self, day: _Day, s: int) -> float:
        """Cost saved by taking station ``s`` (template station index) off a day."""
        node = self.n_dep + s
        saved = 0.0
        for r in day.routes:
            if node in r.nodes:
                k = [i for i, x in enumerate(r.nodes) if x != node]
                nodes = [r.nodes[i] for i in k]
                saved += r.cost - self._cost_cheap(r, nodes)
        return saved

    def _cost_cheap(self, r: _Route, nodes: Sequence[int]) -> float:
        if not nodes:
            return 0.0
        v = self.t.vehicles[r.vehicle]
        path = [r.depot, *nodes, r.depot]
        return v.fixed_cost_per_day + v.cost_per_km * float(
            self.dist[path[:-1], path[1:]].sum())

    def insertion(self, prob: RoutingProblem, day: _Day, s: int, parcels: int,
                  *, apply: bool = False) -> float | None:
        """Cheapest feasible insertion of ``s`` with ``parcels`` into the day's routes or
        an unused vehicle, else (when the day's fleet has room) the cheapest insertion
        over a route's capacity, which marks the day for routing again (``None``:
        nowhere); applied to ``day`` when ``apply``."""
        node = self.n_dep + s
        cands: list[tuple[float, int, int]] = []  # (delta, route index, position)
        over: list[tuple[float, int, int]] = []
        used = set()
        for ri, r in enumerate(day.routes):
            used.add(r.vehicle)
            v = self.t.vehicles[r.vehicle]
            path = np.array([r.depot, *r.nodes, r.depot])
            delta = v.cost_per_km * (self.dist[path[:-1], node] + self.dist[node, path[1:]]
                                     - self.dist[path[:-1], path[1:]])
            if sum(r.loads) + parcels > self.cap[r.vehicle]:
                pos = int(np.argmin(delta))
                over.append((float(delta[pos]), ri, pos))
                continue
            for pos in np.argsort(delta)[:3]:
                cands.append((float(delta[pos]), ri, int(pos)))
        seen: set[tuple[str, int]] = set()
        for k, v in enumerate(self.t.vehicles):
            if k in used or parcels > self.cap[k] or (v.type_name, v.depot) in seen:
                continue
            seen.add((v.type_name, v.depot))
            cost = v.fixed_cost_per_day + v.cost_per_km * (
                self.dist[v.depot, node] + self.dist[node, v.depot])
            cands.append((float(cost), -1 - k, 0))
        cands.sort()
        for _delta, ri, pos in cands:
            if ri >= 0:
                r = day.routes[ri]
                nodes = [*r.nodes[:pos], node, *r.nodes[pos:]]
                loads = [*r.loads[:pos], parcels, *r.loads[pos:]]
                cost = _route_cost(prob, r.vehicle, r.depot, nodes, loads)
                if cost is None:
                    continue
                if apply:
                    day.routes[ri] = _Route(r.vehicle, r.depot, nodes, loads, cost)
                return cost - r.cost
            k = -1 - ri
            v = self.t.vehicles[k]
            cost = _route_cost(prob, k, v.depot, [node], [parcels])
            if cost is None:
                continue
            if apply:
                day.routes.append(_Route(k, v.depot, [node], [parcels], cost))
            return cost
        room = self.fleet_parcels - sum(sum(r.loads) for r in day.routes)
        if self.relax and over and parcels <= room and not day.frozen:
            delta, ri, pos = min(over)
            if apply:
                r = day.routes[ri]
                nodes = [*r.nodes[:pos], node, *r.nodes[pos:]]
                loads = [*r.loads[:pos], parcels, *r.loads[pos:]]
                day.routes[ri] = _Route(r.vehicle, r.depot, nodes, loads,
                                        self._cost_cheap(r, nodes))
                day.dirty = True
            return delta
        return None

    def remove(self, prob: RoutingProblem, day: _Day, s: int) -> None:
        node = self.n_dep + s
        for i, r in enumerate(day.routes):
            if node in r.nodes:
                keep = [j for j, x in enumerate(r.nodes) if x != node]
                nodes = [r.nodes[j] for j in keep]
                loads = [r.loads[j] for j in keep]
                cost = _route_cost(prob, r.vehicle, r.depot, nodes, loads)
                day.routes[i] = _Route(r.vehicle, r.depot, nodes, loads,
                                       cost if cost is not None else self._cost_cheap(r, nodes))
        day.routes = [r for r in day.routes if r.nodes]

    def change(self, choice: list[int], days: list[_Day], s: int, new: int,
               *, apply: bool) -> float | None:
        """Cost change of giving station ``s`` option ``new`` (``None``: infeasible)."""
        old_o, new_o = self.p.options[s][choice[s]], self.p.options[s][new]
        old = dict(zip(old_o.days, old_o.parcels, strict=True))
        nxt = dict(zip(new_o.days, new_o.parcels, strict=True))
        touched = sorted(d for d in set(old) | set(nxt) if old.get(d) != nxt.get(d))
        if any(days[d].frozen for d in touched):
            return None
        delta = new_o.extra_cost - old_o.extra_cost
        trial = list(choice)
        trial[s] = new
        for d in touched:
            day = days[d]
            if apply:
                prob = self.p.day_problem(trial, d)
                if d in old:
                    self.remove(prob, day, s)
                if d in nxt:
                    got = self.insertion(prob, day, s, nxt[d], apply=True)
                    assert got is not None
                continue
            if d in old:
                delta -= self.removal(day, s)
            if d in nxt:
                work = day
                if d in old:
                    work = _Day([_Route(r.vehicle, r.depot, list(r.nodes), list(r.loads),
                                        r.cost) for r in day.routes], False)
                    self.remove(self.t, work, s)
                ins = self.insertion(self.t, work, s, nxt[d])
                if ins is None:
                    return None
                delta += ins
        if apply:
            choice[s] = new
        return delta

    # -- every day at once (PyVRP) ----------------------------------------------------
    def joint_visits(self, choice: Sequence[int]) -> tuple[list[DayVisit], list[tuple[int, int]]]:
        """The joint model's clients: single-visit alternatives as groups, the rest on
        the days of their chosen option; and each client's ``(station, day)``."""
        visits, keys = [], []
        every = set(range(self.p.days))
        for s, opts in enumerate(self.p.options):
            if ({o.days for o in opts} == {(d,) for d in every} and len(opts) == self.p.days
                    and len({o.parcels for o in opts}) == 1
                    and len({o.extra_cost for o in opts}) == 1):
                # One visit on any day: one client, its day the vehicle's.
                visits.append(DayVisit(self.n_dep + s, -1, opts[0].parcels[0]))
                keys.append((s, -1))
                continue
            group = (s if len(opts) > 1 and all(o.frequency == 1 for o in opts)
                     and len({o.days for o in opts}) == len(opts)
                     and len({o.extra_cost for o in opts}) == 1 else None)
            for o in (opts if group is not None else (opts[choice[s]],)):
                for d, q in zip(o.days, o.parcels, strict=True):
                    visits.append(DayVisit(self.n_dep + s, d, q, group))
                    keys.append((s, d))
        return visits, keys

    def descend(self, choice: list[int], days: list[_Day], budget: Budget) -> set[int]:
        """One pass of option changes; the days changed."""
        changed: set[int] = set()
        order = list(range(self.p.n_stations))
        self.rng.shuffle(order)
        for s in order:
            if budget.expired():
                break
            if len(self.p.options[s]) < 2:
                continue
            best: tuple[float, int] | None = None
            for c in range(len(self.p.options[s])):
                if c == choice[s]:
                    continue
                delta = self.change(choice, days, s, c, apply=False)
                if delta is not None and delta < -_EPS and (best is None or delta < best[0]):
                    best = (delta, c)
            if best is None:
                continue
            o1 = self.p.options[s][choice[s]]
            o2 = self.p.options[s][best[1]]
            before = _plan_cost(days)
            saved = [self._copy(days[d]) for d in range(self.p.days)]
            old_choice = list(choice)
            self.change(choice, days, s, best[1], apply=True)
            if _plan_cost(days) + self.p.extra_cost(choice) > before + self.p.extra_cost(
                    old_choice) - _EPS:
                days[:] = saved
                choice[:] = old_choice
                continue
            self.moves += 1
            changed.update(set(o1.days) ^ set(o2.days) | {
                d for d in set(o1.days) & set(o2.days)
                if o1.parcels[o1.days.index(d)] != o2.parcels[o2.days.index(d)]})
        return changed

    @staticmethod
    def _copy(day: _Day) -> _Day:
        return _Day([_Route(r.vehicle, r.depot, list(r.nodes), list(r.loads), r.cost)
                     for r in day.routes], day.frozen, day.dirty)

    def say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)


def _plan_cost(days: Sequence[_Day]) -> float:
    return float(sum(r.cost for d in days for r in d.routes))


def start_choice(problem: PeriodicProblem, *, how: str = "balanced") -> list[int]:
    """The start assignment: ``"first"`` option of every station, or ``"balanced"``
    (greedy, module docstring)."""
    if how == "first":
        return [0] * problem.n_stations
    t = problem.template
    dist = np.asarray(t.distance_km, dtype=float)
    n_dep = t.n_depots
    capacity = float(sum(trip_parcels(v, t.parcel_kg) * v.max_trips for v in t.vehicles))
    load = np.zeros(problem.days)
    members: list[list[int]] = [[] for _ in range(problem.days)]
    order = sorted(range(problem.n_stations), key=lambda i: (
        len(problem.options[i]), -sum(problem.options[i][0].parcels),
        -float(dist[:n_dep, n_dep + i].min())))
    scale = float(np.median(dist[:n_dep, n_dep:])) if problem.n_stations else 1.0
    choice = [0] * problem.n_stations
    for i in order:
        node = n_dep + i
        best: tuple[float, int] | None = None
        for c, o in enumerate(problem.options[i]):
            score = o.extra_cost / max(t.vehicles[0].cost_per_km, 1e-9) if t.vehicles else 0.0
            for d, q in zip(o.days, o.parcels, strict=True):
                near = (float(dist[node, members[d]].min()) if members[d]
                        else float(dist[:n_dep, node].min()))
                over = max(0.0, load[d] + q - 0.95 * capacity)
                score += near + 10 * scale * over / max(q, 1) + 0.1 * scale * load[d] / max(
                    capacity, 1)
            if best is None or score < best[0]:
                best = (score, c)
        assert best is not None
        choice[i] = best[1]
        o = problem.options[i][best[1]]
        for d, q in zip(o.days, o.parcels, strict=True):
            load[d] += q
            members[d].append(node)
    return choice


def solve_periodic(
    problem: PeriodicProblem,
    *,
    budget: Budget,
    engine: str = DEFAULT_ENGINE,
    seed: int = 0,
    workers: int = 1,
    start: str = "balanced",
    improve: bool = True,
    progress: Progress | None = None,
) -> PeriodicPlan:
    """Choose every station's option and route every day (module docstring).

    Parameters
    ----------
    problem
        The stations, their options and one day's fleet.
    budget
        Time of the whole solve.
    engine
        Routing engine of the days.
    seed
        Random seed (order of the moves, kicks, engine seeds).
    workers
        Engine processes per day routing.
    start
        ``"balanced"`` (greedy) or ``"first"`` (each station's first option).
    improve
        Search the options after the start (``False``: the start plan, routed).
    progress
        Called with a line of text after each round.

    Returns
    -------
    PeriodicPlan
    """
    t0 = time.perf_counter()
    search = _Search(problem, engine=engine, seed=seed, workers=workers, progress=progress)
    choice = start_choice(problem, how=start)
    days_n = problem.days
    days: list[_Day] | None = None
    if improve and engine == "pyvrp" and supported(problem.template):
        plan = _solve_by_patterns(problem, search, choice, budget, t0)
        if plan is not None:
            return plan
    if days is None:
        share = budget.share(START_SHARE if improve else 1.0)
        results: list[RoutingResult] = []
        for d in range(days_n):
            results.append(search.route_day(choice, d, share.share(1.0 / (days_n - d))))
        failing = [d for d, r in enumerate(results) if not r.is_feasible()]
        for k, d in enumerate(failing):  # once more, with a larger share of the budget
            again = search.route_day(choice, d, budget.share(0.5 / (len(failing) - k)))
            if again.is_feasible():
                results[d] = again
        if not improve or any(not r.is_feasible() for r in results):
            return _plan(problem, choice, results, t0, search, "start plan routed")
        days = [_day_state(r) for r in results]
    best_choice, best_days = list(choice), [search._copy(d) for d in days]
    best_cost = _plan_cost(days) + problem.extra_cost(choice)
    polish_at = budget.left() * POLISH_SHARE
    kicks = stale = 0
    while budget.left() > polish_at and stale <= max(STALE_KICKS,
                                                        problem.n_stations // 2):
        search.rounds += 1
        snap_choice, snap_days = list(choice), [search._copy(d) for d in days]
        snap_cost = _plan_cost(days) + problem.extra_cost(choice)
        changed = search.descend(choice, days, budget)
        failed = False
        if changed:
            per_day = min(max(1.0, (budget.left() - polish_at) / (2 * len(changed))),
                          budget.seconds * START_SHARE / days_n)
            for d in sorted(changed):
                if budget.left() <= polish_at and not days[d].dirty:
                    continue
                res = search.route_day(choice, d, budget.at_most(per_day))
                if res.is_feasible() and (days[d].dirty or res.cost() < sum(
                        r.cost for r in days[d].routes) - _EPS):
                    days[d] = _day_state(res)
                elif days[d].dirty:
                    failed = True
                    break
        cost = _plan_cost(days) + problem.extra_cost(choice)
        if failed or cost > snap_cost + _EPS:
            choice, days, cost = snap_choice, snap_days, snap_cost
            changed = set()
        if cost < best_cost - _EPS:
            best_cost, best_choice = cost, list(choice)
            best_days = [search._copy(d) for d in days]
            stale = 0
        search.say(f"round {search.rounds}: cost {cost:.2f} (best {best_cost:.2f}), "
                   f"{search.moves} moves, {budget.left():.0f} s left")
        if not changed:
            # Local optimum: kick from the best plan.
            choice, days = list(best_choice), [search._copy(d) for d in best_days]
            kicks += 1
            stale += 1
            movable = [s for s in range(problem.n_stations) if len(problem.options[s]) > 1]
            if not movable:
                break
            search.relax = False
            for s in search.rng.sample(movable, min(len(movable),
                                                    max(2, int(KICK_SHARE * len(movable))))):
                c = search.rng.randrange(len(problem.options[s]))
                if c != choice[s] and search.change(choice, days, s, c, apply=False) is not None:
                    search.change(choice, days, s, c, apply=True)
            search.relax = True
    # Polish: each day of the best plan routed again.
    choice, days = best_choice, best_days
    final: list[RoutingResult] = []
    for d in range(days_n):
        prob = problem.day_problem(choice, d)
        mine = _result_of(prob, days[d], engine, 0.0)
        if budget.left() > 0.5:
            res = search.route_day(choice, d, budget.share(1.0 / (days_n - d)))
            if res.is_feasible() and res.cost() < mine.cost() - _EPS:
                mine = res
        final.append(mine)
    return _plan(problem, choice, final, t0, search, f"{search.rounds} rounds, {kicks} kicks")


def _solve_by_patterns(problem: PeriodicProblem, search: _Search, choice: list[int],
                       budget: Budget, t0: float) -> PeriodicPlan | None:
    """All days in one PyVRP instance, multi-visit patterns searched around PyVRP's local
    search (:func:`rural_logistics.routing.pyvrp_patterns.search_patterns`); ``None``
    when it finds no feasible plan (the caller goes on with the other search)."""
    from rural_logistics.routing.model import make_scaling
    from rural_logistics.routing.pyvrp_patterns import PatternOption, search_patterns

    visits, keys = search.joint_visits(choice)
    fixed: list[list[DayVisit]] = [[] for _ in range(problem.n_stations)]
    for v, (s, d) in zip(visits, keys, strict=True):
        if d == -1 or v.group is not None:
            fixed[s].append(v)
    per_currency = make_scaling(problem.template).cost_units_per_currency
    options = [[PatternOption(tuple(zip(o.days, o.parcels, strict=True)),
                              o.extra_cost * per_currency) for o in opts]
               for opts in problem.options]
    found = search_patterns(problem.template, problem.days, options, fixed, choice,
                            budget=budget, seed=search.seed, progress=search.progress)
    if found is None:
        return None
    new = list(found.choice)
    seen: list[set[int]] = [set() for _ in range(problem.n_stations)]
    for d, routes in enumerate(found.routes):
        for _, stations in routes:
            for s in stations:
                seen[s].add(d)
    for s, opts in enumerate(problem.options):
        if fixed[s]:
            match = [c for c, o in enumerate(opts) if set(o.days) == seen[s]]
            if not match:
                return None
            new[s] = match[0]
        elif set(opts[new[s]].days) != seen[s]:
            raise RuntimeError(f"pattern search: station {s} is visited on days "
                               f"{sorted(seen[s])}, not those of its option")
    results = []
    for d, routes in enumerate(found.routes):
        prob = problem.day_problem(new, d)
        parcels = problem.day_parcels(new, d)
        day = _Day([], False)
        for k, stations in routes:
            nodes = [search.n_dep + s for s in stations]
            loads = [int(parcels[s]) for s in stations]
            cost = _route_cost(prob, k, search.t.vehicles[k].depot, nodes, loads)
            if cost is None:
                return None
            day.routes.append(_Route(k, search.t.vehicles[k].depot, nodes, loads, cost))
        results.append(_result_of(prob, day, search.engine, 0.0))
    search.moves = found.moves_kept
    return _plan(problem, new, results, t0, search,
                 f"one PyVRP local search over all days, {found.iterations} iterations, "
                 f"{found.moves_kept} of {found.moves_tried} pattern moves accepted")


def _plan(problem: PeriodicProblem, choice: Sequence[int], results: list[RoutingResult],
          t0: float, search: _Search, what: str) -> PeriodicPlan:
    notes = (f"periodic search: {what}, {search.moves} option changes, "
             f"{search.reroutes} day routings",)
    return PeriodicPlan(
        problem=problem, choice=tuple(choice),
        day_problems=tuple(problem.day_problem(choice, d) for d in range(problem.days)),
        day_results=tuple(results), seconds=time.perf_counter() - t0, notes=notes,
    )
