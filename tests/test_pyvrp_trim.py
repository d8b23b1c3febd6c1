"""The PyVRP engine's fallback: an infeasible plan cut back to a feasible one."""

from __future__ import annotations

import numpy as np
import pyvrp

from rural_logistics.routing.pyvrp_engine import trim_to_feasible


def _clients(solution: pyvrp.Solution) -> list[list[int]]:
    return [[int(a.idx) for a in r.schedule() if a.is_client()] for r in solution.routes()]


def _line_instance(*, capacity: int, optional: bool = True) -> pyvrp.ProblemData:
    """Depot at 0 and four clients at x = 1..4 (3 parcels each; optional: prize 100)."""
    xs = np.arange(5)
    dist = np.abs(xs[:, None] - xs[None, :]).astype(np.int64)
    return pyvrp.ProblemData(
        [pyvrp.Location(int(x), 0) for x in xs],
        [
            pyvrp.Client(
                location=i, delivery=[3], required=not optional, prize=100 if optional else 0
            )
            for i in range(1, 5)
        ],
        [pyvrp.Depot(location=0)],
        [pyvrp.VehicleType(num_available=1, capacity=[capacity])],
        [dist],
        [dist],
    )


def test_an_overloaded_route_is_cut_back_from_its_end() -> None:
    data = _line_instance(capacity=7)
    overloaded = pyvrp.Solution(data, [pyvrp.Route(data, [0, 1, 2, 3], 0)])
    assert not overloaded.is_feasible()

    trimmed = trim_to_feasible(data, overloaded)

    assert trimmed.is_feasible()
    # 3 + 3 parcels fit in 7; the third and fourth clients are cut off.
    assert _clients(trimmed) == [[0, 1]]
    assert trimmed.num_missing_clients() == 0  # optional clients are not "missing"


def test_a_feasible_solution_is_kept_as_it_is() -> None:
    data = _line_instance(capacity=12)
    full = pyvrp.Solution(data, [pyvrp.Route(data, [0, 1, 2, 3], 0)])
    trimmed = trim_to_feasible(data, full)
    assert _clients(trimmed) == [[0, 1, 2, 3]]


def test_a_route_with_no_room_at_all_is_dropped() -> None:
    data = _line_instance(capacity=2)
    trimmed = trim_to_feasible(data, pyvrp.Solution(data, [pyvrp.Route(data, [0], 0)]))
    assert trimmed.is_feasible()
    assert trimmed.num_routes() == 0


def test_a_plan_of_the_required_instance_moves_over_with_its_prizes() -> None:
    required = _line_instance(capacity=12, optional=False)
    plan = pyvrp.Solution(required, [pyvrp.Route(required, [0, 1, 2, 3], 0)])
    assert plan.prizes() == 0
    data = _line_instance(capacity=12)
    moved = trim_to_feasible(data, plan)
    assert _clients(moved) == [[0, 1, 2, 3]]
    assert moved.prizes() == 400  # counted on the prize instance
    assert moved.uncollected_prizes() == 0
