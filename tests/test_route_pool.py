"""Route-pool recombination: set covering over hand-made pools with known optima."""

from __future__ import annotations

import itertools
import warnings
from dataclasses import replace

import numpy as np
import pyvrp

from rural_logistics.routing.model import RawSolution, RoutingProblem, VehicleSpec, build_visits
from rural_logistics.routing.pyvrp_engine import (
    PooledRun,
    Recombination,
    build_data,
    merge_runs,
    solve_pyvrp,
)

# Internals of the engine, from the modules that define them.
from rural_logistics.routing.pyvrp_engine.data import _activities, _route_cost
from rural_logistics.routing.pyvrp_engine.ils import _solve
from rural_logistics.routing.pyvrp_engine.pool import _PoolState
from rural_logistics.routing.pyvrp_engine.settings import _Span
from rural_logistics.routing.route_pool import (
    PoolRoute,
    RoutePool,
    drop_repeats,
    reload_at,
    solve_route_cover,
)
from rural_logistics.solvers.budget import Budget

# Four clients; the cheapest cover is {0, 1} + {2, 3} = 20 (one route: 25; {0} + {1, 2, 3}: 21).
POOL = [
    PoolRoute(0, (0, 1, 2, 3), 25.0),
    PoolRoute(0, (0,), 6.0),
    PoolRoute(0, (1, 2, 3), 15.0),
    PoolRoute(0, (0, 1), 10.0),
    PoolRoute(0, (2, 3), 10.0),
    PoolRoute(0, (1,), 5.0),
    PoolRoute(0, (2,), 5.0),
    PoolRoute(0, (3,), 5.0),
]


def cover(**kwargs: object):  # type: ignore[no-untyped-def]
    options: dict = {
        "n_clients": 4,
        "required": [True] * 4,
        "prizes": [0.0] * 4,
        "fleet": [10],
        "time_limit_s": 5.0,
    }
    options.update(kwargs)
    return solve_route_cover(POOL, **options)


def test_cover_picks_the_cheapest_combination() -> None:
    result = cover()
    assert result.proven
    assert result.chosen == (3, 4)
    assert result.objective == 20.0


def test_fleet_limit_forces_one_route() -> None:
    result = cover(fleet=[1])
    assert result.chosen == (0,)
    assert result.objective == 25.0


def test_optional_client_is_left_out_when_its_prize_is_below_its_cost() -> None:
    # Client 3 optional with prize 4: serving it costs at least 5 more ({2} vs {2, 3}
    # costs the same 5 vs 10), so {0, 1} + {2} = 15 plus the prize forgone.
    result = cover(required=[True, True, True, False], prizes=[0.0, 0.0, 0.0, 4.0])
    assert result.chosen == (3, 6)
    assert result.objective == 15.0
    # With prize 6 it pays: {0, 1} + {2, 3} = 20 - 6.
    result = cover(required=[True, True, True, False], prizes=[0.0, 0.0, 0.0, 6.0])
    assert result.chosen == (3, 4)
    assert result.objective == 14.0


def test_nothing_below_the_bound_is_proven() -> None:
    result = cover(upper_bound=19.0)
    assert result.chosen is None
    assert result.proven


def test_client_in_no_route_has_no_cover() -> None:
    result = solve_route_cover(
        [POOL[1], POOL[3]], n_clients=4, required=[True] * 4, prizes=[0.0] * 4, fleet=[10]
    )
    assert result.chosen is None


def test_pool_keeps_cheapest_order_and_best_score() -> None:
    pool = RoutePool()
    pool.add(0, (1, 2), cost=12.0, score=100.0)
    pool.add(0, (2, 1), cost=10.0, score=120.0)
    pool.add(1, (2, 1), cost=11.0, score=90.0)  # another vehicle type: another route
    assert len(pool) == 2
    assert pool.best_score() == 90.0
    assert pool.select(100.0) == [PoolRoute(1, (2, 1), 11.0), PoolRoute(0, (2, 1), 10.0)]
    assert pool.select(100.0, max_entries=3) == [PoolRoute(1, (2, 1), 11.0)]
    assert pool.select(95.0) == [PoolRoute(1, (2, 1), 11.0)]


# Clients on a line at x = 1, 2, 3 (client i at x = i + 1), depot at 0; a route's cost
# is its length out and back, routes longer than 6 are infeasible.
def line_cost(vehicle_type: int, visits: tuple[int, ...]) -> float | None:
    xs = [0] + [v + 1 if v >= 0 else 0 for v in visits] + [0]
    length = float(sum(abs(a - b) for a, b in itertools.pairwise(xs)))
    return length if length <= 6 else None


def test_repeated_client_is_removed_where_that_saves_most() -> None:
    # Client 1 (x = 2) on two routes: out of (0, 1) it saves 2 (4 → 2), out of (1,) all 4.
    routes = [PoolRoute(0, (0, 1), 4.0), PoolRoute(0, (1,), 4.0), PoolRoute(0, (2,), 6.0)]
    kept = drop_repeats(routes, route_cost=line_cost)
    assert kept == [PoolRoute(0, (0, 1), 4.0), PoolRoute(0, (2,), 6.0)]


def test_removal_that_makes_a_route_infeasible_is_not_taken() -> None:
    # Client 1 on (0, 1) and (1, 2). Leaving it out of the first would save more, but
    # (0,) alone is infeasible (say client 0 is only reachable through client 1).
    costs = {(0,): None, (2,): 4.0}
    kept = drop_repeats(
        [PoolRoute(0, (0, 1), 5.0), PoolRoute(0, (1, 2), 5.0)],
        route_cost=lambda vt, visits: costs[visits],
    )
    assert kept == [PoolRoute(0, (0, 1), 5.0), PoolRoute(0, (2,), 4.0)]
    # No feasible removal at all: no plan.
    costs[(2,)] = None
    assert (
        drop_repeats(
            [PoolRoute(0, (0, 1), 5.0), PoolRoute(0, (1, 2), 5.0)],
            route_cost=lambda vt, visits: costs[visits],
        )
        is None
    )


def test_reload_left_dangling_by_a_removal_goes_too() -> None:
    # Two trips (0) and (1) with a reload at depot 0 between them (length 2 + 4 = 6);
    # client 0 also on (0, 2). Out of the two-trip route the reload goes with it (saves
    # 2); out of (0, 2) nothing (6 → 6).
    routes = [PoolRoute(0, (0, reload_at(0), 1), 6.0), PoolRoute(0, (0, 2), 6.0)]
    kept = drop_repeats(routes, route_cost=line_cost)
    assert kept == [PoolRoute(0, (1,), 4.0), PoolRoute(0, (0, 2), 6.0)]


def _ring(n: int, capacity: int) -> pyvrp.ProblemData:
    """Depot at the centre, ``n`` clients (demand 1) on a circle of radius 100."""
    angles = 2 * np.pi * np.arange(n) / n
    xy = np.vstack([[0.0, 0.0], np.c_[100 * np.cos(angles), 100 * np.sin(angles)]])
    dist = np.rint(np.hypot(*(xy[:, None] - xy[None, :]).transpose(2, 0, 1))).astype(int)
    return pyvrp.ProblemData(
        [pyvrp.Location(float(x), float(y)) for x, y in xy],
        [pyvrp.Client(location=i, delivery=[1]) for i in range(1, n + 1)],
        [pyvrp.Depot(location=0)],
        [pyvrp.VehicleType(num_available=n, capacity=[capacity])],
        [dist],
        [dist],
    )


def test_search_with_recombination_finds_the_ring_optimum() -> None:
    # 8 clients on a ring, 4 per vehicle: two half-rings, 2 × (100 + 3 × 77 + 100) = 862.
    data = _ring(8, 4)
    outcome = _solve(
        data, _Span(iterations=200), seed=1, default=False, recombination=Recombination()
    )
    assert outcome.best.is_feasible()
    assert outcome.cost() == 862


def test_fruitless_mips_skip_ever_more_checkpoints() -> None:
    # Ten checkpoints. A MIP stopped by its limit without a better plan skips the next
    # checkpoint, the second in a row the next three; a better plan starts over.
    mix = Recombination(checkpoints=tuple(k / 10 for k in range(10)), backoff_after=1)
    state = _PoolState(_ring(4, 2), _Span(iterations=10), mix)

    def fired(outcomes: dict[int, tuple[bool, bool]]) -> list[int]:
        shown = []
        for k in range(10):
            if state.due(k / 10):
                shown.append(k)
                proven, improved = outcomes.get(k, (False, False))
                state.record(proven=proven, improved=improved)
        return shown

    # 0 fails (skip 1), 2 fails (skip 3-5), 6 finds a plan, 7 fails (skip 8), 9.
    assert fired({6: (False, True)}) == [0, 2, 6, 7, 9]
    # From the second fruitless MIP on: 0, 1 fail (skip 2), 3 fails (skip 4-6), 7 finds
    # a plan, 8, 9 fail.
    state = _PoolState(_ring(4, 2), _Span(iterations=10), replace(mix, backoff_after=2))
    assert fired({7: (False, True)}) == [0, 1, 3, 7, 8, 9]
    # Without the backoff every checkpoint fires.
    state = _PoolState(_ring(4, 2), _Span(iterations=10), replace(mix, backoff_after=None))
    assert fired({}) == list(range(10))
    # A proven MIP (no better plan exists in the pool) is not fruitless either.
    state = _PoolState(_ring(4, 2), _Span(iterations=10), mix)
    assert fired({k: (True, False) for k in range(10)}) == list(range(10))


def test_same_seed_same_routes_with_recombination() -> None:
    data = _ring(12, 4)

    def routes() -> list[list[int]]:
        best = _solve(
            data, _Span(iterations=150), seed=3, default=False, recombination=Recombination()
        ).best
        return sorted([int(a.idx) for a in r.schedule() if a.is_client()] for r in best.routes())

    assert routes() == routes()


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
        outcome = _solve(data, _Span(iterations=6_000), seed=0, default=False)
    assert not outcome.best.is_feasible()
    assert outcome.penalty_capped > 0
    assert caught == []


def test_two_runs_one_steady_one_restarting() -> None:
    from rural_logistics.routing.pyvrp_engine import parallel_runs

    mix = Recombination(restart_per_client=100)
    runs = parallel_runs(seed=7, deadline=0.0, iteration_limit=None, recombination=mix, workers=2)
    assert [r.seed for r in runs] == [7, 8]
    assert runs[0].recombination is not None and runs[0].recombination.restart_per_client is None
    assert runs[1].recombination == mix
    both = Recombination(restart_per_client=100, steady_first_run=False)
    runs = parallel_runs(seed=0, deadline=0.0, iteration_limit=None, recombination=both, workers=2)
    assert all(r.recombination == both for r in runs)
    plain = parallel_runs(seed=0, deadline=0.0, iteration_limit=None, recombination=None, workers=2)
    assert all(r.recombination is None for r in plain)


def test_partition_serves_each_client_once() -> None:
    # Covering takes {0, 1} + {1, 2} = 10 (client 1 twice); partitioning cannot, and
    # its cheapest is {0, 1} + {2} = 11 (or {0} + {1, 2}; the tie is broken either way).
    pool = [
        PoolRoute(0, (0, 1), 5.0),
        PoolRoute(0, (1, 2), 5.0),
        PoolRoute(0, (0,), 6.0),
        PoolRoute(0, (1,), 6.0),
        PoolRoute(0, (2,), 6.0),
    ]
    options: dict = {"n_clients": 3, "required": [True] * 3, "prizes": [0.0] * 3, "fleet": [5]}
    covering = solve_route_cover(pool, **options)
    assert covering.chosen == (0, 1)
    assert covering.objective == 10.0
    partition = solve_route_cover(pool, partition=True, **options)
    assert partition.proven
    assert partition.objective == 11.0
    assert partition.chosen in ((0, 4), (1, 2))


def test_scored_routes_come_with_their_scores_best_first() -> None:
    pool = RoutePool()
    pool.add(0, (1, 2), cost=10.0, score=120.0)
    pool.add(0, (3,), cost=4.0, score=100.0)
    pool.add(0, (4,), cost=4.0, score=130.0)
    assert pool.scored(125.0) == [
        (PoolRoute(0, (3,), 4.0), 100.0),
        (PoolRoute(0, (1, 2), 10.0), 120.0),
    ]


# Three pairs of stations, A north, B east, C south of the depot, 10 km out; one
# parcel each, vans of 2: the optimum drives each pair on its own.
PAIRS_XY = np.array(
    [[0.0, 0.0], [0.0, 10.0], [1.0, 10.0], [10.0, 0.0], [10.0, 1.0], [0.0, -10.0], [1.0, -10.0]]
)


def pairs_problem() -> RoutingProblem:
    d = np.hypot(*(PAIRS_XY[:, None, :] - PAIRS_XY[None, :, :]).transpose(2, 0, 1))
    van = VehicleSpec(
        type_name="van", capacity_parcels=2, cost_per_km=1.0, fixed_cost_per_day=0.0,
        speed_factor=1.0, max_route_duration_min=600.0, service_time_min=0.0,
    )
    return RoutingProblem(
        distance_km=d, time_min=d, parcels_per_day=np.array([0.0] + [1.0] * 6),
        vehicles=(van,) * 3, xy=PAIRS_XY, optional=False,
    )


def test_merged_pools_give_a_plan_neither_run_had() -> None:
    # Clients 0..5 are stations 1..6: A = (0, 1), B = (2, 3), C = (4, 5). Run 1 drives
    # A, then B and C crosswise; run 2 crosses A and B and drives C; only run 2's pool
    # also holds B (from a worse solution). Together they hold A + B + C.
    problem = pairs_problem()
    visits = build_visits(problem)
    data, _ = build_data(problem, visits)

    def priced(routes: list[tuple[int, ...]], score: float | None = None) -> list:
        pooled = [
            PoolRoute(0, r, _route_cost(pyvrp.Route(data, _activities(r), 0))) for r in routes
        ]
        total = sum(p.cost for p in pooled)
        return [(p, total if score is None else score) for p in pooled]

    def run(best: list[tuple[int, ...]], extra: list[tuple[int, ...]]) -> PooledRun:
        scored = priced(best)
        total = scored[0][1]
        scored += priced(extra, score=total + 1.0)
        raw = RawSolution((), total, True, "PyVRP (seed 0, 1 iterations)")
        return PooledRun(raw, tuple(scored), tuple((0, r) for r in best), 1)

    one = run([(0, 1), (2, 4), (3, 5)], [])
    two = run([(0, 2), (1, 3), (4, 5)], [(2, 3)])
    optimum = sum(
        _route_cost(pyvrp.Route(data, _activities(r), 0)) for r in [(0, 1), (2, 3), (4, 5)]
    )
    merged = merge_runs(
        problem, visits, [one, two], recombination=Recombination(slack=0.5, max_slack=0.5),
        deadline=0.0, iteration_limit=100, seed=0,
    )
    assert merged.objective == optimum < min(one.raw.objective, two.raw.objective)
    assert sorted(tuple(sorted(t)) for _, (t,) in merged.routes) == [(0, 1), (2, 3), (4, 5)]


def thirty_stations_problem() -> RoutingProblem:
    """30 random stations (seeded), vans of 8 parcels: plans can differ between runs."""
    rng = np.random.default_rng(4)
    xy = rng.uniform(0.0, 50.0, size=(31, 2))
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    van = pairs_problem().vehicles[0]
    return RoutingProblem(
        distance_km=d, time_min=d, parcels_per_day=np.r_[0.0, rng.integers(1, 3, 30)],
        vehicles=(replace(van, capacity_parcels=8),) * 10, xy=xy, optional=False,
    )


def test_two_runs_with_exchange_same_seed_same_routes() -> None:
    # Two worker processes, iteration stop rule: the exchange and the final merge are
    # deterministic too. 30 random stations, so that plans can differ between runs.
    problem = thirty_stations_problem()
    visits = build_visits(problem)

    def once(seed: int = 0) -> RawSolution:
        return solve_pyvrp(
            problem, visits, budget=Budget.of(30.0, iteration_limit=20), seed=seed, workers=2
        )

    first, second = once(), once()
    assert first.feasible
    assert first.routes == second.routes
    assert first.objective == second.objective
    # 20 iterations are few enough that another seed ends elsewhere: the check has teeth.
    assert once(seed=1).objective != first.objective
