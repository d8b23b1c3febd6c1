"""The PyVRP engine is PyVRP's own solve: seeds in parallel, penalties scaled to the units."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pyvrp
from pyvrp.stop import MaxIterations

from rural_logistics.routing.model import RawSolution, RoutingProblem, VehicleSpec, build_visits
from rural_logistics.routing.pyvrp_engine import (
    _solve,
    build_data,
    penalty_params,
    solve_pyvrp,
)
from rural_logistics.solvers.budget import Budget


def random_problem(seed: int, *, n: int = 30, metres: bool = False) -> RoutingProblem:
    """``n`` stations (1–2 parcels) uniform on a 50 km square, vans of 8 parcels;
    integer kilometres, or metres as ``solve`` uses."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, 50.0, size=(n + 1, 2))
    d = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    van = VehicleSpec(
        type_name="van", capacity_parcels=8, cost_per_km=1.0, fixed_cost_per_day=0.0,
        speed_factor=1.0, max_route_duration_min=math.inf, service_time_min=0.0,
    )
    return RoutingProblem(
        distance_km=d, time_min=d, parcels_per_day=np.r_[0.0, rng.integers(1, 3, n)],
        vehicles=(van,) * n, xy=xy, optional=False,
        distance_scale_per_km=1000 if metres else 1, time_scale_per_min=1,
    )


def thirty_stations_problem() -> RoutingProblem:
    """30 random stations (seeded), vans of 8 parcels: plans can differ between seeds."""
    return random_problem(4)


def test_on_benchmark_units_a_run_is_pyvrps_default_solve() -> None:
    # Unit costs in small integers: the scaled penalties are PyVRP's defaults, so a run
    # of the engine and PyVRP's default solve with the same seed and iterations agree.
    problem = random_problem(4)
    visits = build_visits(problem)
    data, _ = build_data(problem, visits)
    defaults = pyvrp.PenaltyParams()
    params = penalty_params(data)
    assert params.max_penalty == defaults.max_penalty
    assert params.midpoint_penalties(data) == defaults.midpoint_penalties(data)

    def solve(default: bool) -> RawSolution:
        return solve_pyvrp(
            problem, visits, budget=Budget.of(30.0, iteration_limit=50), seed=3, default=default
        )

    ours, theirs = solve(False), solve(True)
    assert ours.feasible
    assert (ours.routes, ours.objective) == (theirs.routes, theirs.objective)


def test_large_cost_units_raise_the_penalties() -> None:
    # Distances in metres: one more route costs far more than PyVRP's default penalty
    # cap, so the cap and the starting penalties are raised to match.
    problem = random_problem(4, metres=True)
    data, _ = build_data(problem, build_visits(problem))
    params = penalty_params(data)
    assert params.max_penalty > pyvrp.PenaltyParams().max_penalty
    load, duration, distance = params.midpoint_penalties(data)
    assert min(load) > pyvrp.PenaltyParams().midpoint_penalties(data)[0][0]
    assert max(*load, duration, distance) <= params.max_penalty


def test_two_workers_keep_the_better_of_two_seeds() -> None:
    # Iteration stop rule: each seed's run is deterministic, so two parallel runs give
    # exactly the better of the two single runs; 20 iterations leave the seeds apart.
    problem = thirty_stations_problem()
    visits = build_visits(problem)

    def solve(*, seed: int, workers: int) -> RawSolution:
        return solve_pyvrp(
            problem, visits, budget=Budget.of(30.0, iteration_limit=20), seed=seed, workers=workers
        )

    one, two = solve(seed=5, workers=1), solve(seed=6, workers=1)
    assert one.objective != two.objective
    both = solve(seed=5, workers=2)
    assert both == min(one, two, key=lambda r: r.objective)
    assert both == solve(seed=5, workers=2)  # same seed, same routes


def test_penalty_cap_warning_is_counted_not_printed() -> None:
    # One client that no vehicle can carry: penalties climb to their cap.
    data = pyvrp.ProblemData(
        [pyvrp.Location(0, 0), pyvrp.Location(3, 4)],
        [pyvrp.Client(location=1, delivery=[10])],
        [pyvrp.Depot(location=0)],
        [pyvrp.VehicleType(num_available=1, capacity=[5])],
        [np.array([[0, 5], [5, 0]])],
        [np.array([[0, 5], [5, 0]])],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result, capped = _solve(data, MaxIterations(6_000), seed=0)
    assert not result.best.is_feasible()
    assert capped > 0
    assert caught == []
