"""Single-tier location-routing: village stations chosen together with the van routes.

The fixed-charge placement prices a station by its opening cost and the village → station
transport cost only; the vans that then serve the stations from the depot are priced after
the fact. Here the open set is chosen to minimise the sum of all four parts::

    opening cost + village transport cost + vehicle fixed cost + route travel cost

under the station capacities, the placement side constraints (locked, excluded sites,
``max_stations``, opening budget, stations per township, sites a village may use) and the
fleet. A station that looks central for access can cost an extra van route.

Method (:func:`solve_station_lrp`):

1. **Sequential plan**: the fixed-charge optimum (given) routed by the routing engine with
   a third of the budget; it is the start and the baseline.
2. **Descent** on the open set by close / open / swap moves
   (:class:`~rural_logistics.lrp.station_moves.SetSearch`), each priced by its exact
   change of opening + transport cost plus the change of route cost on the current
   routes (stops removed or inserted where cheapest, within the trips' capacities and
   the shifts), so the edited routes stay a feasible plan.
3. **Confirmation**: the set the descent ends at gets its exact village assignment; the
   edited routes are checked and priced by the routing evaluator, or, if they fail or
   are not cheaper, the set is routed by the engine (a short solve). A cheaper confirmed
   plan becomes the reference and the descent goes on while its share of time lasts.
4. **Final**: the best confirmed set is routed with the rest of the budget (when no set
   beat the sequential one, the sequential set is routed again with it). The joint plan
   is kept only when its total is below the sequential plan's, so the answer is never
   worse than the sequential plan it started from; both are returned.

Arrays and indices only: sites are columns of :attr:`StationLrpProblem.assign_cost`, and
site ``j`` is node ``n_depots + j`` of the template routing problem.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from rural_logistics.errors import InfeasibleError
from rural_logistics.lrp.station_moves import SetSearch
from rural_logistics.placement.models import solve_fixed_charge
from rural_logistics.placement.result import (
    PlacementResult,
    SiteRules,
    nearest_open,
    station_loads,
)
from rural_logistics.plan import CostSplit
from rural_logistics.routing.evaluate import evaluate
from rural_logistics.routing.model import (
    RoutingProblem,
    RoutingResult,
    cost_parts,
    subset_problem,
)
from rural_logistics.routing.solve import solve_vrp
from rural_logistics.solvers.budget import Budget

#: Share of the budget for routing the sequential plan.
SEQUENTIAL_SHARE = 1 / 3
#: Share of what is left after it for the descents and their confirming solves; the
#: final routing of the best set gets the rest.
SEARCH_SHARE = 1 / 2
#: Each confirming routing solve gets this share of the sequential plan's time.
CONFIRM_SHARE = 0.4
#: Least time left worth a second routing of the sequential set (seconds).
FINAL_MIN_S = 1.0

Key = tuple[int, ...]
#: Route a set: (open sites, station parcels, station produce, budget) → result.
Router = Callable[[np.ndarray, np.ndarray, np.ndarray, Budget], RoutingResult]


@dataclass(frozen=True)
class StationLrpProblem:
    """Villages, candidate sites, depots and fleet.

    Attributes
    ----------
    assign_cost
        ``(n_villages, n_sites)`` cost of serving all of a village's parcels from a site
        (``transport_cost_per_parcel_km × parcels × km``); ``inf`` where not allowed
        (unreachable, excluded, beyond the maximum access distance).
    parcels_per_day
        ``(n_villages,)`` parcels per village.
    produce_kg_per_day
        ``(n_villages,)`` produce per village (carried to the station's route).
    opening_cost
        ``(n_sites,)`` daily cost of an open station.
    routing
        Template routing problem: nodes ``0 … n_depots-1`` are the depots, node
        ``n_depots + j`` is site ``j``; parcels are filled in per open set.
    capacity
        ``(n_sites,)`` parcels a station handles per day (``None``: uncapacitated).
    single_source
        Each village served wholly by one station.
    rules
        Placement side constraints (site indices).
    nearest_cost
        ``(n_villages, n_sites)`` cost that attaches villages without parcels to an open
        station (default ``assign_cost``).
    fallback_cost
        ``(n_villages, n_sites)`` cost that attaches a village without parcels that no
        open station may serve under ``nearest_cost`` (default: none, left at ``-1``).
    """

    assign_cost: np.ndarray
    parcels_per_day: np.ndarray
    produce_kg_per_day: np.ndarray
    opening_cost: np.ndarray
    routing: RoutingProblem
    capacity: np.ndarray | None = None
    single_source: bool = False
    rules: SiteRules = field(default_factory=SiteRules)
    nearest_cost: np.ndarray | None = None
    fallback_cost: np.ndarray | None = None

    @property
    def n_sites(self) -> int:
        """Candidate sites."""
        return int(np.asarray(self.assign_cost).shape[1])


@dataclass(frozen=True)
class StationPlan:
    """Open stations, their assignment and routes, and the cost split.

    ``routing`` numbers nodes as the routing problem of the open set: depots first, then
    open station ``k`` (in ``placement.open_sites`` order) as node ``n_depots + k``.
    """

    placement: PlacementResult
    routing: RoutingResult
    loads: np.ndarray
    cost: CostSplit


@dataclass(frozen=True)
class StationLrpResult:
    """Both plans and how the search went.

    Attributes
    ----------
    sequential
        Fixed-charge stations, then routes (the start and the baseline).
    joint
        The best plan of the joint search (the sequential plan when nothing beat it).
    chosen
        ``joint`` or ``sequential``: the cheaper of the two.
    sets_estimated, sets_confirmed
        Open sets priced by the savings estimate, and routed by the engine.
    notes
        What the search did.
    seconds
        Wall time of the search and the final solve (the sequential routing included).
    """

    sequential: StationPlan
    joint: StationPlan
    chosen: str
    sets_estimated: int
    sets_confirmed: int
    notes: tuple[str, ...]
    seconds: float

    @property
    def best(self) -> StationPlan:
        """The chosen plan."""
        return self.joint if self.chosen == "joint" else self.sequential

    @property
    def saved_per_day(self) -> float:
        """Sequential total minus chosen total (≥ 0)."""
        return self.sequential.cost.total - self.best.cost.total


# --------------------------------------------------------------------------- routing


def engine_router(
    template: RoutingProblem, *, engine: str = "pyvrp", seed: int = 0, workers: int = 1
) -> Router:
    """A :data:`Router` that solves each open set's routing problem with ``solve_vrp``."""

    def route(
        open_sites: np.ndarray, parcels: np.ndarray, produce: np.ndarray, budget: Budget
    ) -> RoutingResult:
        sub = subset_problem(template, open_sites, parcels, produce)
        return solve_vrp(sub, engine=engine, budget=budget, seed=seed, workers=workers)

    return route


def _exact_placement(problem: StationLrpProblem, key: Key, time_limit_s: float) -> PlacementResult:
    """The open set ``key`` with its exact (MIP) assignment of villages."""
    n = problem.n_sites
    others = np.setdiff1d(np.arange(n), np.asarray(key, dtype=np.int64))
    rules = replace(
        problem.rules,
        locked=np.asarray(key, dtype=np.int64),
        excluded=others,
        groups=None,
        min_per_group=0,
        max_stations=None,
        max_opening_cost=None,
    )
    result = solve_fixed_charge(
        problem.assign_cost,
        problem.parcels_per_day,
        problem.opening_cost,
        capacity=problem.capacity,
        single_source=problem.single_source,
        rules=rules,
        nearest_cost=problem.nearest_cost,
        time_limit_s=time_limit_s,
    )
    missing = result.assignment < 0
    if missing.any() and problem.fallback_cost is not None:
        fallback = nearest_open(np.asarray(problem.fallback_cost), result.open_sites)
        result = replace(result, assignment=np.where(missing, fallback, result.assignment))
    return result


def _loads(
    problem: StationLrpProblem, placement: PlacementResult
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Open sites, parcels and produce per open site (villages by ``assignment``)."""
    parcels, produce = station_loads(
        placement, problem.parcels_per_day, problem.produce_kg_per_day
    )
    return np.asarray(placement.open_sites, dtype=np.int64), parcels, produce


def _priced(
    problem: StationLrpProblem, placement: PlacementResult, result: RoutingResult
) -> StationPlan:
    """The cost split of an open set with its routes."""
    open_sites, loads, produce = _loads(problem, placement)
    sub = subset_problem(problem.routing, open_sites, loads, produce)
    fixed, travel, penalty = cost_parts(sub, result)
    opening = float(np.asarray(problem.opening_cost, dtype=float)[open_sites].sum())
    cost = CostSplit(
        opening=opening,
        village_transport=float(placement.objective) - opening,
        fixed_vehicle=fixed,
        travel=travel,
        unserved_penalty=penalty,
    )
    return StationPlan(placement=placement, routing=result, loads=loads, cost=cost)


def _plan(
    problem: StationLrpProblem,
    placement: PlacementResult,
    route: Router,
    budget: Budget,
) -> StationPlan:
    """Route an open set with the engine and price it."""
    open_sites, loads, produce = _loads(problem, placement)
    return _priced(problem, placement, route(open_sites, loads, produce, budget))


def _edited_plan(
    problem: StationLrpProblem, placement: PlacementResult, search: SetSearch
) -> StationPlan | None:
    """The search's edited routes for ``placement``, if the evaluator finds them feasible."""
    start = time.perf_counter()
    open_sites, loads, produce = _loads(problem, placement)
    sub = subset_problem(problem.routing, open_sites, loads, produce)
    routes = search.edited_routes(open_sites, loads, produce)
    check = evaluate(sub, routes)
    if check.violations or check.unserved:
        return None
    routes = [
        replace(r, distance_km=m.distance_km, duration_min=m.duration_min, cost=m.cost,
                start_min=m.start_min)
        for r, m in zip(routes, check.metrics, strict=True)
    ]
    result = RoutingResult(
        routes=tuple(routes),
        unserved=(),
        status="solved",
        solve_seconds=time.perf_counter() - start,
        engine="location-routing moves",
    )
    return _priced(problem, placement, result)


def solve_station_lrp(
    problem: StationLrpProblem,
    *,
    start: PlacementResult,
    route: Router,
    budget: Budget,
) -> StationLrpResult:
    """Choose stations and routes together, starting from the fixed-charge placement.

    Parameters
    ----------
    problem
        Villages, sites, side constraints, template routing problem.
    start
        The fixed-charge optimum (the sequential plan's stations).
    route
        Routes one open set (open sites, station parcels, station produce, time limit)
        with the routing engine; nodes as in :func:`subset_problem`.
    budget
        All of it: the sequential routing gets ``SEQUENTIAL_SHARE``, the descents and
        their confirming solves ``SEARCH_SHARE`` of what is left, the final routing of
        the best set the rest.

    Returns
    -------
    StationLrpResult
        The chosen plan is never more expensive than the sequential one.
    """
    t0 = time.perf_counter()
    first = budget.share(SEQUENTIAL_SHARE)
    sequential = _plan(problem, start, route, first)
    search = SetSearch(
        assign_cost=problem.assign_cost,
        parcels=problem.parcels_per_day,
        opening=problem.opening_cost,
        capacity=problem.capacity,
        rules=problem.rules,
        template=problem.routing,
    )
    seq_key: Key = tuple(int(j) for j in start.open_sites)
    search.set_routes(start.open_sites, sequential.routing)
    deadline = budget.share(SEARCH_SHARE).deadline
    confirm_s = max(0.05, CONFIRM_SHARE * first.seconds)
    best = sequential
    confirmed: dict[Key, StationPlan] = {}
    notes: list[str] = []
    estimated: list[float] = []
    edited = 0
    while time.perf_counter() + confirm_s < deadline:
        key, gain = search.descent(deadline=deadline - confirm_s)
        if gain <= 1e-6 or key in confirmed or key == seq_key:
            break
        try:
            placement = _exact_placement(problem, key, max(1.0, confirm_s))
        except InfeasibleError:  # e.g. single-source villages that do not fit
            break
        estimated.append(gain)
        # The edited routes are a plan already: checked by the evaluator, they confirm
        # the moves without the engine's run-to-run noise.
        plan = _edited_plan(problem, placement, search)
        if plan is None or plan.cost.total >= best.cost.total - 1e-6:
            plan = _plan(problem, placement, route, Budget.of(confirm_s))
        else:
            edited += 1
        confirmed[key] = plan
        if plan.cost.total < best.cost.total - 1e-6:
            best = plan
            search.set_routes(plan.placement.open_sites, plan.routing)
        else:
            break
    notes.append(
        f"{search.priced} station-set moves priced against the current routes, "
        f"{len(confirmed)} set(s) confirmed ({edited} by the edited routes, the others by "
        f"the routing engine); estimated savings per round "
        f"{', '.join(f'{g:.2f}' for g in estimated) or 'none'}"
    )
    if best is sequential and budget.left() >= FINAL_MIN_S:
        # No cheaper set: the time the final solve would have had routes the sequential
        # set again (the cheaper routing is kept), so a run uses its budget either way.
        again = _plan(problem, start, route, budget)
        if again.cost.total < sequential.cost.total - 1e-6:
            sequential = best = again
            notes.append("the sequential set was routed again with the time left")
    joint = sequential
    chosen = "sequential"
    if best is not sequential:
        final = _plan(problem, best.placement, route, budget)
        joint = final if final.cost.total <= best.cost.total else best
        chosen = "joint"
    elif confirmed:
        joint = min(confirmed.values(), key=lambda p: p.cost.total)
        notes.append(
            "the joint search found no plan cheaper than the sequential one once routed"
        )
    else:
        notes.append("no move of the station set was estimated to pay")
    return StationLrpResult(
        sequential=sequential,
        joint=joint,
        chosen=chosen,
        sets_estimated=search.priced,
        sets_confirmed=len(confirmed),
        notes=tuple(notes),
        seconds=time.perf_counter() - t0,
    )


def station_plan_placement(plan: StationPlan, *, bound: float) -> PlacementResult:
    """The plan's placement marked as chosen by location-routing (no optimality proof)."""
    return replace(
        plan.placement,
        status="heuristic",
        model="location_routing",
        bound=min(bound, plan.placement.objective),
    )


__all__: Sequence[str] = (
    "StationLrpProblem",
    "StationLrpResult",
    "StationPlan",
    "engine_router",
    "solve_station_lrp",
)
