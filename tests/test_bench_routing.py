"""The cvrp and vrptw benchmark commands on tiny instance files written here.

Instances sit at different depths under --data with bks.csv at the top; the stop rule is
an iteration count, so the rows are deterministic.
"""

from __future__ import annotations

import csv
import math
import os
import time
from pathlib import Path

import numpy as np
import pytest

from rural_logistics.benchmarks.cvrp import cvrp_instance, read_vrplib
from rural_logistics.benchmarks.routing_race import cpu_seconds, head_to_head
from rural_logistics.benchmarks.vrptw import read_solomon, solomon_instance
from rural_logistics.cli import main
from rural_logistics.routing import RoutingProblem, VehicleSpec, solve_vrp
from rural_logistics.solvers.budget import Budget
from rural_logistics.solvers.processes import worker_pool

# Depot at (0, 0); customers on a 3-4-5 grid so that rounded arcs are exact.
CVRP = """NAME : T-n5-k2
COMMENT : hand-made
TYPE : CVRP
DIMENSION : 5
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 0 4
3 3 4
4 30 40
5 30 44
DEMAND_SECTION
1 0
2 5
3 5
4 5
5 5
DEPOT_SECTION
1
-1
EOF
"""
# Capacity 10 pairs the customers: 0-1-2-0 (4 + 3 + 5 = 12) and 0-3-4-0 (50 + 4 + 53,
# the last arc sqrt(30² + 44²) = 53.25 rounded).
CVRP_OPT = 12 + 50 + 4 + 53

SOLOMON = """T1

VEHICLE
NUMBER     CAPACITY
  3         20

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0         0          0          0       200          0
    1      0         10         5          0        50         10
    2      10        10         5         60       100         10
    3      10        0          5          0       200         10
"""
# One vehicle 0-1-2-3-0: 10 + 10 + 10 + 10 = 40 (customer 2 opens at 60: wait).
SOLOMON_OPT = 40.0


@pytest.fixture
def data_dirs(tmp_path: Path) -> tuple[Path, Path]:
    cvrp = tmp_path / "cvrp"
    (cvrp / "deep" / "er").mkdir(parents=True)
    (cvrp / "deep" / "er" / "T-n5-k2.vrp").write_text(CVRP)
    (cvrp / "bks.csv").write_text(f"name,bks\nT-n5-k2,{CVRP_OPT}\n")
    vrptw = tmp_path / "vrptw"
    (vrptw / "sub").mkdir(parents=True)
    (vrptw / "sub" / "T1.txt").write_text(SOLOMON)
    (vrptw / "bks.csv").write_text(f"name,bks_distance\nT1,{SOLOMON_OPT}\n")
    return cvrp, vrptw


def test_cvrp_reader_and_rounding(tmp_path: Path) -> None:
    path = tmp_path / "T-n5-k2.vrp"
    path.write_text(CVRP)
    xy, demand, capacity, k = read_vrplib(path)
    assert xy.shape == (5, 2) and capacity == 10 and k == 2
    assert demand.tolist() == [0, 5, 5, 5, 5]
    problem = cvrp_instance(path).build("pyvrp")
    assert problem.distance_km[0, 3] == 50.0  # nint(50.0)
    assert problem.distance_km[1, 3] == 47.0  # sqrt(30² + 36²) = 46.86 → 47
    assert problem.distance_km[4, 0] == 53.0


def test_solomon_reader_truncates(tmp_path: Path) -> None:
    path = tmp_path / "T1.txt"
    path.write_text(SOLOMON)
    vehicles, capacity, table = read_solomon(path)
    assert (vehicles, capacity) == (3, 20)
    assert table.shape == (4, 7)
    problem = solomon_instance(path).build("pyvrp")
    assert problem.distance_km[0, 2] == pytest.approx(14.1)  # 14.142… truncated
    assert problem.time_window_min is not None
    assert problem.time_window_min[2].tolist() == [60.0, 100.0]


@pytest.mark.parametrize("engine", ["pyvrp", "ortools"])
def test_cvrp_benchmark_command(data_dirs: tuple[Path, Path], tmp_path: Path, engine: str) -> None:
    out = tmp_path / "cvrp.csv"
    code = main(
        [
            "benchmark", "cvrp", "--data", str(data_dirs[0]), "--time-limit", "20",
            "--iterations", "200", "--workers", "1", "--engine", engine, "--out", str(out),
        ]
    )
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == [
        "instance", "n", "objective", "reference", "gap_pct", "seconds", "workers", "cpu_s",
        "status", "feasible", "engine",
    ]
    assert rows[0]["instance"] == "T-n5-k2"
    assert rows[0]["feasible"] == "yes"
    assert float(rows[0]["objective"]) == CVRP_OPT
    assert float(rows[0]["gap_pct"]) == 0.0


def test_vrptw_benchmark_command_with_reference_lines(
    data_dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "vrptw.csv"
    code = main(
        [
            "benchmark", "vrptw", "--data", str(data_dirs[1]), "--time-limit", "20",
            "--iterations", "200", "--workers", "1", "--compare", "--out", str(out),
        ]
    )
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["engine"] for r in rows] == ["pyvrp", "ortools-default", "pyvrp-default"]
    for row in rows:
        assert row["feasible"] == "yes"
        assert float(row["objective"]) == pytest.approx(SOLOMON_OPT)


def test_unknown_instance_is_an_input_error(data_dirs: tuple[Path, Path]) -> None:
    code = main(["benchmark", "cvrp", "--data", str(data_dirs[0]), "--instances", "nope"])
    assert code == 2


def test_grid_is_exact() -> None:
    # The hand-known optimum above relies on these arcs.
    xy = np.array([[0, 0], [0, 4], [3, 4], [30, 40], [30, 44]], dtype=float)
    d = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    assert d[0, 1] + d[1, 2] + d[2, 0] == 12
    assert d[0, 3] + d[3, 4] + d[4, 0] == 50 + 4 + 53


def test_race_gives_every_line_the_same_workers(
    data_dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    # --engines picks the lines (no OR-Tools); each runs with --workers 2 processes and
    # reports the CPU it used.
    out = tmp_path / "race.csv"
    code = main(
        [
            "benchmark", "cvrp", "--data", str(data_dirs[0]), "--iterations", "100",
            "--workers", "2", "--engines", "pyvrp-default,pyvrp", "--out", str(out),
        ]
    )
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["engine"] for r in rows] == ["pyvrp-default", "pyvrp"]
    for row in rows:
        assert row["workers"] == "2"
        assert float(row["cpu_s"]) >= 0.0
        assert float(row["objective"]) == CVRP_OPT


def _spin(n: int) -> int:
    return sum(range(n))


def test_cpu_of_worker_processes_is_counted() -> None:
    # A worker's CPU shows up in the parent's count once the pool has ended.
    before = cpu_seconds()
    with worker_pool(1) as pool:
        spent = pool.submit(_cpu_burn).result()
    assert cpu_seconds() - before >= 0.9 * spent > 0.0


def _cpu_burn() -> float:
    start = time.process_time()
    while time.process_time() - start < 0.2:
        _spin(10_000)
    return time.process_time() - start


def test_concurrent_lines_give_the_same_rows(
    data_dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("--concurrent with two lines needs two cores")
    outs = []
    for extra in ([], ["--concurrent"]):
        out = tmp_path / f"race{len(extra)}.csv"
        code = main(
            [
                "benchmark", "vrptw", "--data", str(data_dirs[1]), "--iterations", "100",
                "--workers", "1", "--engines", "pyvrp,pyvrp-default", "--out", str(out),
                *extra,
            ]
        )
        assert code == 0
        outs.append(
            [(r["engine"], r["objective"], r["feasible"]) for r in csv.DictReader(out.open())]
        )
    assert outs[0] == outs[1] == [
        ("pyvrp", "40", "yes"), ("pyvrp-default", "40", "yes")
    ]


def test_concurrent_lines_beyond_the_cores_are_refused(
    data_dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "benchmark", "cvrp", "--data", str(data_dirs[0]), "--iterations", "10",
            "--workers", "100000", "--engines", "pyvrp,pyvrp-default", "--concurrent",
        ]
    )
    assert code == 2
    assert "--concurrent: 2 lines × 100000 workers" in capsys.readouterr().err


def test_unknown_engine_line_is_a_usage_error(data_dirs: tuple[Path, Path]) -> None:
    code = main(["benchmark", "cvrp", "--data", str(data_dirs[0]), "--engines", "pyvrp,cplex"])
    assert code == 2


def test_head_to_head_counts_instances_both_solved() -> None:
    rows = [
        {"instance": "a", "engine": "one", "gap_pct": 0.5},
        {"instance": "a", "engine": "two", "gap_pct": 1.0},
        {"instance": "b", "engine": "one", "gap_pct": 0.2},
        {"instance": "b", "engine": "two", "gap_pct": 0.2},
        {"instance": "c", "engine": "one", "gap_pct": 0.9},
        {"instance": "c", "engine": "two", "gap_pct": 0.3},
        {"instance": "d", "engine": "one", "gap_pct": None},  # infeasible: left out
        {"instance": "d", "engine": "two", "gap_pct": 0.0},
    ]
    assert head_to_head(rows, "one", "two") == (
        "one vs two: better on 1, worse on 1, equal on 1 of 3; "
        "mean gap -0.033 points in one's favour"
    )


def _random_problem(seed: int, n: int = 30) -> RoutingProblem:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, 50.0, size=(n + 1, 2))
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    van = VehicleSpec(
        type_name="van", capacity_parcels=8, cost_per_km=1.0, fixed_cost_per_day=0.0,
        speed_factor=1.0, max_route_duration_min=math.inf, service_time_min=0.0,
    )
    return RoutingProblem(
        distance_km=d, time_min=d, parcels_per_day=np.r_[0.0, rng.integers(1, 3, n)],
        vehicles=(van,) * n, xy=xy, optional=False,
    )


def test_pyvrp_default_with_two_workers_is_the_better_of_two_seeds() -> None:
    # Iteration stop rule: each seed's run is deterministic, so two parallel runs give
    # exactly the better of the two single runs. 20 iterations leave the seeds apart.
    problem = _random_problem(4)

    def cost(*, seed: int, workers: int) -> float:
        return solve_vrp(
            problem, engine="pyvrp", default=True, seed=seed, workers=workers,
            budget=Budget.of(30.0, iteration_limit=20),
        ).cost()

    one, two = cost(seed=5, workers=1), cost(seed=6, workers=1)
    assert one != two
    assert cost(seed=5, workers=2) == min(one, two)
