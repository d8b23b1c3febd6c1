"""OR-Tools routing engine: every variant of :class:`RoutingProblem`.

Model: nodes are the depots and the visits (stations split to fit a vehicle). Costs,
distances and times are the integers of :mod:`rural_logistics.routing.model`.

- Capacity: a ``Parcels`` dimension; kilograms in a ``Kg`` dimension. With produce picked
  up, ``KgLoad`` moves by ``pickup − delivery`` from a free start value that a constraint
  ties to the route's total delivery (``KgDown`` at the end), so the load after every
  stop stays within capacity (simultaneous pickup and delivery).
- Time: a ``Time`` dimension whose transit is service at the origin plus driving at the
  vehicle's speed; waiting is slack; station windows bound the cumul, the shift bounds
  the start and end cumuls, the shift length is a span bound.
- Multi-trip: a vehicle with ``max_trips = T`` is ``T`` routing vehicles (trips) from its
  depot; trip ``t`` starts after trip ``t − 1`` returns, is used only if trip ``t − 1``
  is, carries the fixed cost only on the first trip; shift length and day distance are
  bounded over all trips.
- Optional stations: a disjunction priced at the penalty.
- Required stations with a tight fleet (:func:`tight_fleet`), or when the strict model
  finds no first solution: disjunctions priced above serving the station alone
  (:func:`required_penalty`); the plan counts only if every station is served.

OR-Tools' routing search has no random seed: a run is deterministic for a given amount
of work (``iteration_limit``). With ``workers = 2`` two processes start from different
first solutions and the better result is kept.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from rural_logistics.routing.model import (
    HORIZON,
    RawSolution,
    RoutingProblem,
    Visits,
    capacity_kg_units,
    kg_units,
    make_scaling,
    time_windows_units,
    travel_time_units,
)
from rural_logistics.solvers.budget import Budget
from rural_logistics.solvers.processes import worker_pool

_FIRST = routing_enums_pb2.FirstSolutionStrategy
_META = routing_enums_pb2.LocalSearchMetaheuristic
_BOOL_TRUE = optional_boolean_pb2.BOOL_TRUE


@dataclass(frozen=True)
class OrToolsOptions:
    """Search settings of one OR-Tools run.

    Attributes
    ----------
    first_solution
        ``FirstSolutionStrategy`` name (``SAVINGS``, ``PARALLEL_CHEAPEST_INSERTION``, …).
    metaheuristic
        ``LocalSearchMetaheuristic`` name.
    deadline
        ``time.time()`` value at which the search must stop.
    iteration_limit
        Stop after this many solutions instead (deterministic); ``None`` = time only.
    soft_required
        Required stations as disjunctions priced above any plan's cost
        (:func:`required_penalty`), so the first-solution heuristic cannot fail on a
        tight fleet (a limited mixed fleet); the result is feasible only if the search
        served them all. Used when the strict model finds no first solution.
    """

    first_solution: str
    metaheuristic: str
    deadline: float
    iteration_limit: int | None = None
    soft_required: bool = False


def strategies(problem: RoutingProblem) -> list[str]:
    """First-solution strategies in order of preference for this problem."""
    if has_time_limits(problem):
        return ["PARALLEL_CHEAPEST_INSERTION", "LOCAL_CHEAPEST_INSERTION"]
    return ["SAVINGS", "PARALLEL_CHEAPEST_INSERTION"]


def has_time_limits(problem: RoutingProblem) -> bool:
    """Whether any time constraint can bind."""
    return problem.time_window_min is not None or any(
        math.isfinite(v.max_route_duration_min) or math.isfinite(v.shift_end_min)
        for v in problem.vehicles
    )


#: A fleet whose vehicles (one load per trip) carry less than this multiple of the
#: parcels is *tight*: with every station required, OR-Tools' first-solution heuristics
#: can fail on it (golden HVRP13: at once) or search the whole budget for a first plan,
#: so the stations are dear disjunctions from the start (``soft_required``).
TIGHT_FLEET_RATIO = 1.2


def tight_fleet(problem: RoutingProblem, visits: Visits) -> bool:
    """Whether the fleet's parcel capacity is below :data:`TIGHT_FLEET_RATIO` × the
    parcels of the visits."""
    capacity = sum(v.capacity_parcels * max(1, v.max_trips) for v in problem.vehicles)
    return capacity < TIGHT_FLEET_RATIO * int(np.sum(visits.parcels))


def solve_ortools(
    problem: RoutingProblem,
    visits: Visits,
    *,
    budget: Budget,
    workers: int = 1,
    default: bool = False,
) -> RawSolution:
    """Solve with OR-Tools routing.

    Parameters
    ----------
    problem, visits
        The instance and its visits.
    budget
        Wall-clock budget (its time left becomes the search's deadline) and its optional
        iteration cap (solutions found: a deterministic stop rule instead of the time).
    workers
        Parallel processes with different first solutions (1 or 2).
    default
        OR-Tools' textbook setting instead: guided local search from
        ``PATH_CHEAPEST_ARC`` (the benchmark's reference line); further workers start
        from the next strategies of :func:`strategies` (OR-Tools has no seed to vary).

    Returns
    -------
    RawSolution
    """
    deadline, iteration_limit = time.time() + budget.left(), budget.iteration_limit
    firsts = strategies(problem)
    if default:
        firsts = list(dict.fromkeys(["PATH_CHEAPEST_ARC", *firsts]))
    soft = not problem.optional and tight_fleet(problem, visits)
    options = [
        OrToolsOptions(first, "GUIDED_LOCAL_SEARCH", deadline, iteration_limit, soft)
        for first in firsts[: max(1, workers)]
    ]
    if len(options) == 1:
        return run_ortools(problem, visits, options[0])
    with worker_pool(len(options)) as pool:
        futures = [pool.submit(run_ortools, problem, visits, o) for o in options]
        results = [f.result() for f in futures]
    return min(results, key=lambda r: (not r.feasible, r.objective))


def run_ortools(problem: RoutingProblem, visits: Visits, options: OrToolsOptions) -> RawSolution:
    """One OR-Tools search (runs in a worker process when ``workers > 1``)."""
    n_dep = problem.n_depots
    node_station = np.concatenate([np.arange(n_dep), visits.station]).astype(np.int64)
    n_nodes = len(node_station)
    scaling = make_scaling(problem)
    vehicles = problem.vehicles
    trips: list[tuple[int, int]] = [
        (k, t) for k, v in enumerate(vehicles) for t in range(max(1, v.max_trips))
    ]
    depots = [vehicles[k].depot for k, _ in trips]
    manager = pywrapcp.RoutingIndexManager(n_nodes, len(trips), depots, depots)
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    sub = np.ix_(node_station, node_station)

    extra = _alternative_cost(visits, scaling.cost_units_per_currency, n_dep)
    cost_cb: dict[int, int] = {}
    for r, (k, t) in enumerate(trips):
        unit = scaling.unit_distance_cost[k]
        if unit not in cost_cb:
            cost_cb[unit] = routing.RegisterTransitMatrix(
                (scaling.distance[sub] * unit + extra[:, None]).tolist()
            )
        routing.SetArcCostEvaluatorOfVehicle(cost_cb[unit], r)
        routing.SetFixedCostOfVehicle(scaling.fixed_cost[k] if t == 0 else 0, r)
    for r in range(1, len(trips)):
        if trips[r][0] == trips[r - 1][0]:
            solver.Add(routing.ActiveVehicleVar(r) <= routing.ActiveVehicleVar(r - 1))

    parcels = np.concatenate([np.zeros(n_dep, dtype=np.int64), visits.parcels])
    parcels_cb = routing.RegisterUnaryTransitVector(parcels.tolist())
    routing.AddDimensionWithVehicleCapacity(
        parcels_cb, 0, [vehicles[k].capacity_parcels for k, _ in trips], True, "Parcels"
    )
    if problem.uses_kg():
        _add_kg_dimensions(routing, manager, problem, visits, trips, n_dep)

    if has_time_limits(problem):
        _add_time_dimension(routing, manager, problem, node_station, trips)

    if any(v.max_route_distance_km is not None for v in vehicles):
        sd = problem.distance_scale_per_km
        dist_cb = routing.RegisterTransitMatrix(scaling.distance[sub].tolist())
        routing.AddDimension(dist_cb, 0, HORIZON, True, "Distance")
        dim = routing.GetDimensionOrDie("Distance")
        for k, v in enumerate(vehicles):
            if v.max_route_distance_km is None:
                continue
            rows = [r for r, (kk, _) in enumerate(trips) if kk == k]
            limit = math.floor(v.max_route_distance_km * sd + 1e-9)
            solver.Add(solver.Sum([dim.CumulVar(routing.End(r)) for r in rows]) <= limit)

    if problem.optional:
        group = visits.group if visits.group is not None else np.full(len(visits), -1)
        for i in range(len(visits)):
            if group[i] < 0:
                routing.AddDisjunction(
                    [manager.NodeToIndex(n_dep + i)], scaling.penalty(float(visits.penalty[i]))
                )
        for g in range(int(np.max(group, initial=-1)) + 1):
            # Alternatives (a delivery with or without its produce): at most one served,
            # neither costs the dearer penalty, the cheaper one pays the difference as
            # an arc cost when it leaves (_alternative_cost).
            members = np.flatnonzero(group == g)
            routing.AddDisjunction(
                [manager.NodeToIndex(n_dep + int(i)) for i in members],
                scaling.penalty(float(np.max(visits.penalty[members]))),
                1,
            )
    elif options.soft_required:
        big = required_penalty(problem)
        for i in range(len(visits)):
            routing.AddDisjunction([manager.NodeToIndex(n_dep + i)], big)

    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(_FIRST, options.first_solution)
    if options.metaheuristic == "ITERATED_LOCAL_SEARCH":
        # OR-Tools' ruin-and-recreate iterated local search (simulated-annealing acceptance).
        params.use_iterated_local_search = True
        params.local_search_metaheuristic = _META.GREEDY_DESCENT
        ils = params.iterated_local_search_parameters
        sisr = ils.ruin_recreate_parameters.ruin_strategies.add().sisr
        sisr.max_removed_sequence_size = 10  # SISR (Christiaens & Vanden Berghe 2020)
        sisr.avg_num_removed_visits = 10
        sisr.bypass_factor = 0.01
        annealing = ils.reference_solution_acceptance_strategy.simulated_annealing
        annealing.automatic_temperatures = True
    else:
        params.local_search_metaheuristic = getattr(_META, options.metaheuristic)
    if problem.optional or options.soft_required:
        # Moves that trade served for unserved stations (a knapsack when the fleet is short).
        ops = params.local_search_operators
        ops.use_relocate_and_make_active = _BOOL_TRUE
        ops.use_exchange_and_make_active = _BOOL_TRUE
        ops.use_extended_swap_active = _BOOL_TRUE
        ops.use_inactive_lns = _BOOL_TRUE
    remaining = max(0.05, options.deadline - time.time())
    params.time_limit.FromMilliseconds(int(remaining * 1000))
    if options.iteration_limit is not None:
        # Deterministic: descend to a local optimum (at most this many solutions).
        params.local_search_metaheuristic = _META.GREEDY_DESCENT
        params.solution_limit = options.iteration_limit
    solution = routing.SolveWithParameters(params)
    if solution is None:
        if not problem.optional and not options.soft_required and time.time() < (
            options.deadline - 0.05
        ):
            # No first solution with every station required (e.g. a tight limited
            # mixed fleet): start again with the stations as very dear disjunctions.
            return run_ortools(problem, visits, replace(options, soft_required=True))
        return RawSolution((), math.inf, False, f"OR-Tools ({options.first_solution}): none")
    by_vehicle: dict[int, list[tuple[int, ...]]] = {}
    for r, (k, _) in enumerate(trips):
        index = routing.Start(r)
        seq: list[int] = []
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            if node >= n_dep:
                seq.append(node - n_dep)
            index = solution.Value(routing.NextVar(index))
        if seq:
            by_vehicle.setdefault(k, []).append(tuple(seq))
    routes = tuple((k, tuple(tr)) for k, tr in sorted(by_vehicle.items()))
    note = f"OR-Tools ({options.first_solution})"
    if options.soft_required:
        served = sum(len(tr) for _, trs in routes for tr in trs)
        note = f"OR-Tools ({options.first_solution}, required stations as dear disjunctions)"
        if served < len(visits):
            return RawSolution(
                (), math.inf, False, f"{note}: {len(visits) - served} visit(s) left unserved"
            )
    return RawSolution(routes, float(solution.ObjectiveValue()), True, note)


def required_penalty(problem: RoutingProblem) -> int:
    """Objective units of leaving a required visit out in the soft model: ten times what
    serving it on its own with the dearest vehicle could cost at most (fixed cost plus
    the longest arc driven four times), so the search puts serving visits first."""
    scaling = make_scaling(problem)
    longest = int(np.max(scaling.distance)) if scaling.distance.size else 0
    per_vehicle = [
        fixed + unit * 4 * longest
        for fixed, unit in zip(scaling.fixed_cost, scaling.unit_distance_cost, strict=True)
    ]
    return 1 + 10 * max([1, *per_vehicle])


def _alternative_cost(visits: Visits, units_per_currency: float, n_dep: int) -> np.ndarray:
    """Objective units charged on leaving each routing node: for a visit of a group of
    alternatives (:attr:`Visits.group`), the dearest member's penalty less its own (the
    value of the produce it leaves behind); 0 elsewhere."""
    extra = np.zeros(n_dep + len(visits), dtype=np.int64)
    if visits.group is None:
        return extra
    group = np.asarray(visits.group)
    for g in range(int(np.max(group, initial=-1)) + 1):
        members = np.flatnonzero(group == g)
        top = float(np.max(visits.penalty[members]))
        for i in members:
            extra[n_dep + int(i)] = round((top - float(visits.penalty[i])) * units_per_currency)
    return extra


def _add_kg_dimensions(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    problem: RoutingProblem,
    visits: Visits,
    trips: list[tuple[int, int]],
    n_dep: int,
) -> None:
    zeros = np.zeros(n_dep, dtype=np.int64)
    down = np.concatenate([zeros, kg_units(visits.delivery_kg)])
    up = np.concatenate([zeros, kg_units(visits.pickup_kg)])
    kg = [problem.vehicles[k].capacity_kg for k, _ in trips]
    caps = [capacity_kg_units(c) for c in kg]
    down_cb = routing.RegisterUnaryTransitVector(down.tolist())
    if not up.any():
        routing.AddDimensionWithVehicleCapacity(down_cb, 0, caps, True, "Kg")
        return
    routing.AddDimensionWithVehicleCapacity(down_cb, 0, caps, True, "KgDown")
    net_cb = routing.RegisterUnaryTransitVector((up - down).tolist())
    routing.AddDimensionWithVehicleCapacity(net_cb, 0, caps, False, "KgLoad")
    solver = routing.solver()
    kg_down = routing.GetDimensionOrDie("KgDown")
    kg_load = routing.GetDimensionOrDie("KgLoad")
    for r in range(len(trips)):
        solver.Add(
            kg_load.CumulVar(routing.Start(r)) == kg_down.CumulVar(routing.End(r))
        )
    del manager


def _add_time_dimension(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    problem: RoutingProblem,
    node_station: np.ndarray,
    trips: list[tuple[int, int]],
) -> None:
    vehicles = problem.vehicles
    st = problem.time_scale_per_min
    sub = np.ix_(node_station, node_station)
    time_cb: dict[tuple[float, float], int] = {}
    for k, _ in trips:
        key = (vehicles[k].speed_factor, vehicles[k].service_time_min)
        if key not in time_cb:
            units, _ = travel_time_units(
                problem, speed_factor=key[0], vehicle_service_min=key[1]
            )
            time_cb[key] = routing.RegisterTransitMatrix(units[sub].tolist())
    finite = [
        x
        for v in vehicles
        for x in (v.shift_end_min, v.shift_start_min + v.max_route_duration_min)
        if math.isfinite(x)
    ]
    tw = time_windows_units(problem)
    late = tw[node_station[problem.n_depots :], 1] if len(node_station) > problem.n_depots else []
    finite_late = [int(x) for x in late if x < HORIZON]
    horizon = max([round(x * st) for x in finite] + finite_late + [1]) + 1
    routing.AddDimensionWithVehicleTransits(
        [time_cb[(vehicles[k].speed_factor, vehicles[k].service_time_min)] for k, _ in trips],
        horizon,
        horizon,
        False,
        "Time",
    )
    dim = routing.GetDimensionOrDie("Time")
    for node in range(problem.n_depots, len(node_station)):
        early, lat = tw[node_station[node]]
        dim.CumulVar(manager.NodeToIndex(node)).SetRange(int(early), int(min(lat, horizon)))
    solver = routing.solver()
    for r, (k, t) in enumerate(trips):
        v = vehicles[k]
        start = round(v.shift_start_min * st)
        end = min(horizon, round(v.shift_end_min * st)) if math.isfinite(v.shift_end_min) else (
            horizon
        )
        dim.CumulVar(routing.Start(r)).SetRange(start, end)
        dim.CumulVar(routing.End(r)).SetRange(start, end)
        if v.max_trips <= 1 and math.isfinite(v.max_route_duration_min):
            dim.SetSpanUpperBoundForVehicle(math.floor(v.max_route_duration_min * st + 1e-9), r)
        if t > 0:
            solver.Add(dim.CumulVar(routing.Start(r)) >= dim.CumulVar(routing.End(r - 1)))
        if t == v.max_trips - 1 and v.max_trips > 1 and math.isfinite(v.max_route_duration_min):
            first = r - t
            solver.Add(
                dim.CumulVar(routing.End(r)) - dim.CumulVar(routing.Start(first))
                <= math.floor(v.max_route_duration_min * st + 1e-9)
            )
    for r in range(len(trips)):
        routing.AddVariableMinimizedByFinalizer(dim.CumulVar(routing.End(r)))
        routing.AddVariableMaximizedByFinalizer(dim.CumulVar(routing.Start(r)))
