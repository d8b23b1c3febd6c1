"""Visit patterns chosen inside PyVRP's search (the periodic planner's joint search).

The joint model of :mod:`rural_logistics.routing.pyvrp_periodic` routes every day of a
horizon in one PyVRP instance, but a station visited on *several* days of a pattern
(Mon/Thu or Tue/Fri) cannot be left to PyVRP: nothing in a VRP links two visits. This
module searches those patterns around PyVRP's own local search:

* One instance holds, for every multi-visit station, a client for each (day, parcels)
  any of its options needs. The chosen option's clients are required; the others are
  optional with no prize, so no operator puts them on a route.
* The search is PyVRP's iterated local search (perturbation and local search of the
  routes, late acceptance, penalties for load and time managed as PyVRP does), with one
  more kind of step: a **pattern move** gives a random multi-visit station another
  option (most often the one whose removal saving and cheapest insertions are best),
  takes its clients off the days it leaves, puts those of its new days at their cheapest
  place on a route of that day (or on a free vehicle of that day), and lets PyVRP's
  local search (all its operators) repair and improve the whole plan, also moving the
  stations that may be visited on any day. The step is accepted or not by the same
  late-acceptance rule, with the options' extra cost added to the plan's cost.
* The best feasible plan is kept (and searched once more exhaustively when found).

This is the pattern-improvement move of Vidal et al.'s hybrid genetic search for the PVRP
(2012) with PyVRP's local search as the route improvement, in PyVRP's iterated local
search instead of a population.
"""

from __future__ import annotations

import math
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.search import (
    OPERATORS,
    LocalSearch,
    PerturbationManager,
    compute_neighbours,
)

from rural_logistics.routing.model import RoutingProblem
from rural_logistics.routing.pyvrp_engine import penalty_params
from rural_logistics.routing.pyvrp_periodic import DayVisit, build_joint, read_joint, routes_of
from rural_logistics.solvers.budget import Budget

#: Share of the iterations that are pattern moves (the others: PyVRP's perturbation and
#: local search of the routes).
PATTERN_SHARE = 0.05
#: Options of a station ranked by their insertion estimate; a pattern move takes the
#: cheapest with this probability, else a random other option.
GREEDY_MOVE = 0.7
#: Late acceptance history (iterations), as PyVRP's iterated local search.
HISTORY = 300
#: Iterations without a better plan before the search goes back to the best plan.
RESTART_ITERS = 20_000
#: Seconds between progress lines.
SAY_EVERY_S = 5.0
_EPS = 1e-6

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PatternOption:
    """One way of visiting a station: ``(day, parcels)`` per visit, and its extra cost
    (in the routing cost's units, scaled like it)."""

    visits: tuple[tuple[int, int], ...]
    extra_cost: float = 0.0


@dataclass(frozen=True)
class PatternResult:
    """The best plan found: per station, its option; per day, routes ``(vehicle index in
    the problem's fleet, station indices in order)``; and what the search did."""

    choice: tuple[int, ...]
    routes: tuple[tuple[tuple[int, tuple[int, ...]], ...], ...]
    cost: float
    iterations: int
    moves_tried: int
    moves_kept: int


class _Model:
    """The joint instance with every multi-visit station's possible clients."""

    def __init__(self, problem: RoutingProblem, days: int, fixed: Sequence[list[DayVisit]],
                 options: Sequence[Sequence[PatternOption]]) -> None:
        self.options = options
        visits: list[DayVisit] = []
        self.station_of: list[int] = []
        self.fixed = [bool(f) for f in fixed]
        self.copy: dict[tuple[int, int, int], int] = {}  # (station, day, parcels) -> client
        for s, opts in enumerate(options):
            if fixed[s]:
                for v in fixed[s]:
                    visits.append(v)
                    self.station_of.append(s)
                continue
            for o in opts:
                for d, q in o.visits:
                    if (s, d, q) not in self.copy:
                        self.copy[(s, d, q)] = len(visits)
                        visits.append(DayVisit(problem.n_depots + s, d, q))
                        self.station_of.append(s)
        self.visits = visits
        built = build_joint(problem, days, visits)
        if built is None:
            raise ValueError("the horizon does not fit PyVRP's time axis")
        self.full, self.owners = built
        self.clients = list(self.full.clients())
        # A client not in the plan: optional without a prize, and more parcels than any
        # vehicle carries, so a plan that visits it (PyVRP's perturbation inserts
        # optional clients) is never feasible.
        too_much = 1 + max(int(vt.capacity[0]) for vt in self.full.vehicle_types())
        self.unplanned = [
            cl if self.fixed[self.station_of[i]] else pyvrp.Client(
                location=cl.location, delivery=[too_much], pickup=list(cl.pickup),
                service_duration=cl.service_duration, tw_early=cl.tw_early,
                tw_late=cl.tw_late, prize=0, required=False)
            for i, cl in enumerate(self.clients)]
        self.neighbours = compute_neighbours(self.full)
        self.day_of_type = [d for d, _ in self.owners]

    def option_clients(self, s: int, c: int) -> list[int]:
        return [self.copy[(s, d, q)] for d, q in self.options[s][c].visits]

    def required(self, choice: Sequence[int]) -> set[int]:
        """Clients on routes under ``choice``: the fixed stations' and the options'."""
        need = {i for i, s in enumerate(self.station_of) if self.fixed[s]}
        for s, c in enumerate(choice):
            if not self.fixed[s]:
                need.update(self.option_clients(s, c))
        return need

    def data(self, choice: Sequence[int]) -> pyvrp.ProblemData:
        """The instance with the clients of ``choice`` required, the others optional."""
        need = self.required(choice)
        return self.full.replace(clients=[
            cl if i in need else self.unplanned[i] for i, cl in enumerate(self.clients)])


class _Search:
    """Moves, estimates and PyVRP's pieces on a :class:`_Model`."""

    def __init__(self, model: _Model, *, seed: int, progress: Progress | None) -> None:
        self.m = model
        self.rng = random.Random(seed)
        self.progress = progress
        self.tried = self.kept = 0
        self.penalties = penalty_params(model.full)
        load, tw, dist = self.penalties.start
        # Local search in a pattern move: penalties high enough that a feasible repair
        # wins, not so high that the search cannot pass through an overloaded route.
        self.evaluator = pyvrp.CostEvaluator([10.0 * x for x in load], 10.0 * tw, 10.0 * dist)
        self.exact = pyvrp.CostEvaluator([0.0] * len(load), 0.0, 0.0)
        self.dist = np.asarray(model.full.distance_matrix(0), dtype=float)
        self.unit = [vt.unit_distance_cost for vt in model.full.vehicle_types()]

    # -- PyVRP pieces ---------------------------------------------------------------------
    def local_search(self, data: pyvrp.ProblemData) -> LocalSearch:
        ls = LocalSearch(data, pyvrp.RandomNumberGenerator(seed=self.rng.randrange(2**31)),
                         self.m.neighbours, PerturbationManager())
        for op in OPERATORS:
            if op.supports(data):
                ls.add_operator(op(data))
        return ls

    # -- moves --------------------------------------------------------------------------
    def free_types(self, routes: list[tuple[int, list[int]]]) -> list[int]:
        used: dict[int, int] = {}
        for t, _ in routes:
            used[t] = used.get(t, 0) + 1
        return [t for t, vt in enumerate(self.m.full.vehicle_types())
                if used.get(t, 0) < vt.num_available]

    def insert_cost(self, routes: list[tuple[int, list[int]]], client: int,
                    day: int) -> tuple[float, int, int]:
        """Cheapest detour of ``client`` on a route of ``day`` (or a new route of a free
        vehicle of that day): ``(cost, route index or -1 - type, position)``."""
        loc = self.m.clients[client].location
        best = (math.inf, 0, 0)
        for ri, (t, visits) in enumerate(routes):
            if self.m.day_of_type[t] != day:
                continue
            vt = self.m.full.vehicle_type(t)
            path = np.array([vt.start_depot, *[self.m.clients[i].location for i in visits],
                             vt.end_depot])
            delta = (self.dist[path[:-1], loc] + self.dist[loc, path[1:]]
                     - self.dist[path[:-1], path[1:]]) * self.unit[t]
            pos = int(np.argmin(delta))
            if delta[pos] < best[0]:
                best = (float(delta[pos]), ri, pos)
        for t in self.free_types(routes):
            if self.m.day_of_type[t] != day:
                continue
            vt = self.m.full.vehicle_type(t)
            cost = vt.fixed_cost + self.unit[t] * (self.dist[vt.start_depot, loc]
                                                   + self.dist[loc, vt.end_depot])
            if cost < best[0]:
                best = (float(cost), -1 - t, 0)
        return best

    def estimate(self, routes: list[tuple[int, list[int]]], s: int, old: int,
                 new: int) -> float:
        """Removal saving and cheapest insertions of a pattern move (no repair)."""
        m = self.m
        leave = set(m.option_clients(s, old)) - set(m.option_clients(s, new))
        enter = set(m.option_clients(s, new)) - set(m.option_clients(s, old))
        delta = m.options[s][new].extra_cost - m.options[s][old].extra_cost
        trimmed = []
        for t, visits in routes:
            if leave & set(visits):
                vt = m.full.vehicle_type(t)
                before = self.path_cost(t, vt, visits)
                visits = [i for i in visits if i not in leave]
                delta -= before - self.path_cost(t, vt, visits)
            trimmed.append((t, visits))
        for i in enter:
            delta += self.insert_cost(trimmed, i, m.visits[i].day)[0]
        return delta

    def path_cost(self, t: int, vt: Any, visits: Sequence[int]) -> float:
        if not visits:
            return 0.0
        path = [vt.start_depot, *[self.m.clients[i].location for i in visits], vt.end_depot]
        return vt.fixed_cost + self.unit[t] * float(self.dist[path[:-1], path[1:]].sum())

    def apply(self, routes: list[tuple[int, list[int]]], s: int,
              new: int) -> list[tuple[int, list[int]]] | None:
        """The routes with station ``s`` moved to option ``new`` (not repaired: a route
        may be over its capacity); ``None`` if a day has no vehicle."""
        m = self.m
        keep = set(m.option_clients(s, new))
        mine = {i for i in range(len(m.visits)) if m.station_of[i] == s}
        out = [(t, [i for i in visits if i not in mine or i in keep]) for t, visits in routes]
        there = {i for _, visits in out for i in visits}
        for i in sorted(keep - there):
            cost, ri, pos = self.insert_cost(out, i, m.visits[i].day)
            if not math.isfinite(cost):
                return None
            if ri >= 0:
                out[ri][1].insert(pos, i)
            else:
                out.append((-1 - ri, [i]))
        return [(t, v) for t, v in out if v]

    def pattern_move(self, curr: _State, movable: Sequence[int],
                     ev: pyvrp.CostEvaluator) -> _State | None:
        """A random multi-visit station moved to another option (its cheapest by the
        insertion estimate, or a random one) and the plan repaired by the local search;
        ``None`` when the move cannot be made."""
        s = self.rng.choice(movable)
        old = curr.choice[s]
        others = [c for c in range(len(self.m.options[s])) if c != old]
        routes = routes_of(curr.sol)
        if self.rng.random() < GREEDY_MOVE:
            new = min(others, key=lambda c: self.estimate(routes, s, old, c))
        else:
            new = self.rng.choice(others)
        moved = self.apply(routes, s, new)
        if moved is None:
            return None
        self.tried += 1
        trial = list(curr.choice)
        trial[s] = new
        data = self.m.data(trial)
        ls = self.local_search(data)
        sol = ls(pyvrp.Solution(data, [pyvrp.Route(data, v, t) for t, v in moved]), ev,
                 exhaustive=True)
        return _State(sol, trial, data, ls, self.extra(trial))

    def extra(self, choice: Sequence[int]) -> float:
        return float(sum(self.m.options[s][c].extra_cost for s, c in enumerate(choice)
                         if not self.m.fixed[s]))

    def say(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)


def search_patterns(
    problem: RoutingProblem,
    days: int,
    options: Sequence[Sequence[PatternOption]],
    fixed: Sequence[list[DayVisit]],
    choice: Sequence[int],
    *,
    budget: Budget,
    seed: int,
    progress: Progress | None = None,
) -> PatternResult | None:
    """Choose the multi-visit stations' options and route every day (module docstring).

    Parameters
    ----------
    problem
        One day's routing problem (the fleet of each day; parcels ignored).
    days
        Days of the horizon.
    options
        Per station, its options (``fixed`` stations: ignored).
    fixed
        Per station, its clients when its day is PyVRP's to choose (a station visited
        once on any day, or a group of day copies), else an empty list.
    choice
        The start option of each station (for ``fixed`` stations: ignored).
    budget
        Time of the whole search; its iteration cap, if any, caps the iterations (a
        deterministic stop rule).
    seed
        Random seed.
    progress
        Called with a line of text every few seconds.

    Returns
    -------
    PatternResult or None
        ``None`` when no feasible plan was found.
    """
    try:
        model = _Model(problem, days, fixed, options)
    except ValueError:
        return None
    srch = _Search(model, seed=seed, progress=progress)
    choice = list(choice)
    movable = [s for s in range(len(options)) if not fixed[s] and len(options[s]) > 1]
    data = model.data(choice)
    ls = srch.local_search(data)
    rand = pyvrp.Solution.make_random(data, pyvrp.RandomNumberGenerator(seed=seed))
    need = model.required(choice)
    init = ls(pyvrp.Solution(data, [pyvrp.Route(data, [i for i in v if i in need], t)
                                    for t, v in routes_of(rand) if any(i in need for i in v)]),
              srch.evaluator, exhaustive=True)
    pm = pyvrp.PenaltyManager(srch.penalties.start, srch.penalties)
    history: list[float | None] = [None] * HISTORY
    curr = _State(init, choice, data, ls, srch.extra(choice))
    best: _State | None = curr if init.is_feasible() else None
    iters = since_best = 0
    next_say = time.perf_counter() + SAY_EVERY_S
    cap = budget.iteration_limit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        while not budget.expired() and (cap is None or iters < cap):
            iters += 1
            since_best += 1
            if since_best > RESTART_ITERS and best is not None:
                curr, since_best = best, 0
                history = [None] * HISTORY
            ev = pm.cost_evaluator()
            pattern = bool(movable) and srch.rng.random() < PATTERN_SHARE
            if pattern:
                cand = srch.pattern_move(curr, movable, ev)
            else:
                cand = _State(curr.ls(curr.sol, ev, exhaustive=False), curr.choice, curr.data,
                              curr.ls, curr.extra)
            if cand is None:
                continue
            pm.register(cand.sol)
            if cand.sol.is_feasible() and (best is None or cand.cost(srch) < best.cost(srch)
                                           - _EPS):
                deeper = cand.ls(cand.sol, ev, exhaustive=True)
                if deeper.is_feasible() and srch.exact.cost(deeper) < srch.exact.cost(cand.sol):
                    cand = _State(deeper, cand.choice, cand.data, cand.ls, cand.extra)
                best, since_best = cand, 0
            cand_cost = cand.penalised(ev)
            curr_cost = curr.penalised(ev)
            late = history[iters % HISTORY]
            late_cost = late if late is not None else curr_cost
            if cand_cost < late_cost or cand_cost < curr_cost:
                curr, curr_cost = cand, cand_cost
                srch.kept += pattern
            if late is None or curr_cost < late_cost:
                history[iters % HISTORY] = curr_cost
            if progress is not None and time.perf_counter() >= next_say:
                next_say = time.perf_counter() + SAY_EVERY_S
                srch.say(f"{iters} iterations: best {best.cost(srch) if best else math.inf:.2f}"
                         f", {srch.kept} of {srch.tried} pattern moves accepted, "
                         f"{budget.left():.0f} s left")
    if best is None:
        return None
    routes = read_joint(model.owners, days, routes_of(best.sol))
    return PatternResult(
        choice=tuple(best.choice),
        routes=tuple(tuple((k, tuple(model.station_of[i] for i in idx)) for k, idx in day)
                     for day in routes),
        cost=best.cost(srch), iterations=iters, moves_tried=srch.tried,
        moves_kept=srch.kept,
    )


@dataclass(frozen=True)
class _State:
    """A solution with the options it serves, its instance and that instance's local
    search."""

    sol: pyvrp.Solution
    choice: list[int]
    data: pyvrp.ProblemData
    ls: LocalSearch
    extra: float

    def cost(self, srch: _Search) -> float:
        return srch.exact.cost(self.sol) + self.extra

    def penalised(self, ev: pyvrp.CostEvaluator) -> float:
        return ev.penalised_cost(self.sol) + self.extra
