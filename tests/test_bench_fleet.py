"""Multi-depot and mixed-fleet benchmarks: parsers, the independent checker, both engines.

Tiny instances written here whose optima are worked by hand; the stop rule is an
iteration count, so results are deterministic. The last tests re-check the published
solution files of the shared benchmark folders when they are present (skipped otherwise).
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np
import pytest

from rural_logistics.benchmarks.fleet_check import (
    FleetInstance,
    FleetType,
    PlanRoute,
    check_plan,
)
from rural_logistics.benchmarks.fleet_race import engine_count, solve_instance, to_problem
from rural_logistics.benchmarks.hfvrp import parse_golden, parse_x
from rural_logistics.benchmarks.mdvrp import parse_cordeau_mdvrp
from rural_logistics.benchmarks.routing_race import LINES
from rural_logistics.cli import main
from rural_logistics.errors import InputDataError
from rural_logistics.routing import solve_vrp
from rural_logistics.routing.model import build_visits
from rural_logistics.routing.ortools_engine import OrToolsOptions, run_ortools, tight_fleet
from rural_logistics.solvers.budget import Budget

# Two depots, one vehicle of capacity 2 each. Depot 1 at (0, 0), depot 2 at (10, 0);
# customers a (0, 1), b (0, -1), c (1, 0) near depot 1 and d (10, 1) near depot 2, one
# parcel each. Depot 1 can take only two: it serves a and b (0-a-b-0 = 1 + 2 + 1 = 4), depot
# 2 serves c and d (9 + sqrt(81 + 1) + 1); giving depot 2 a or b instead costs more
# (3.414 + 21.248 or 3.414 + 21.050).
MDVRP = """2 1 4 2
0 2
0 2
1 0 1 0 1 1 2 1 2
2 0 -1 0 1 1 2 1 2
3 1 0 0 1 1 2 1 2
4 10 1 0 1 1 2 1 2
5 0 0 0 0
6 10 0 0 0
"""
MDVRP_OPT = 4 + 9 + math.sqrt(82) + 1

# Depot (0, 0), customers A (1, 0) and B (-1, 0), one unit each. A small vehicle (Q = 1,
# 1 per km) and a big one (Q = 2, 3 per km). Limited to one of each: small takes A (2),
# big takes B (6) = 8; the big one alone would cost 3 × 4 = 12.
GOLDEN = """// hand-made
// line 6: N T range service LB BKS
// then per type: count capacity fixed v
// depot
// customers
 2 2 999999.0 0.0 8 8
 1 1 0.0 1.0
 1 2 0.0 3.0
 0 0
 1 0 1
 -1 0 1
"""
GOLDEN_LIMITED_OPT = 8.0
# Unlimited (fleet size and mix): two small vehicles, 2 + 2 = 4.
GOLDEN_UNLIMITED_OPT = 4.0

# The same in the X dialect (costs ×100, no fixed-cost section = 0), with fixed costs
# 10 (small) and 3 (big) and 1 per km each: two smalls 24, one big 3 + 4 = 7.
X_FSMF = """NAME: T-FSMF
TYPE: HFVRP
DIMENSION: 3
VEHICLES: 4
EDGE_WEIGHT_TYPE: EUC_2D
NODE_COORD_SECTION
1 0 0
2 1 0
3 -1 0
DEMAND_SECTION
1 0
2 1
3 1
CAPACITY_SECTION
1 1
2 1
3 2
4 2
VEHICLES_FIXED_COST_SECTION
1 1000
2 1000
3 300
4 300
VEHICLES_UNIT_DISTANCE_COST_SECTION
1 100
2 100
3 100
4 100
DEPOT_SECTION
1
EOF
"""
X_FSMF_OPT = 7.0

ENGINES = ("pyvrp", "ortools")


def solve(instance: FleetInstance, engine: str) -> dict:
    return solve_instance(
        instance,
        reference=None,
        line=LINES[engine],
        time_limit_s=20.0,
        seed=0,
        workers=1,
        iterations=300,
    )


def test_cordeau_parser() -> None:
    inst = parse_cordeau_mdvrp(MDVRP, name="t")
    assert inst.n_customers == 4 and inst.n_depots == 2
    assert inst.depot_xy.tolist() == [[0, 0], [10, 0]]
    assert inst.demand.tolist() == [1, 1, 1, 1]
    assert [(t.capacity, t.count, t.depot) for t in inst.types] == [(2, 1, 0), (2, 1, 1)]
    assert inst.max_duration is None


def test_cordeau_parser_reads_service_and_duration() -> None:
    text = "2 3 1 1\n100 50\n1 5 5 7 9 1 2 1 2\n2 0 0 0 0\n"
    inst = parse_cordeau_mdvrp(text, name="t")
    assert inst.service.tolist() == [7.0] and inst.demand.tolist() == [9.0]
    assert inst.max_duration == 100 and inst.types[0].capacity == 50
    assert inst.types[0].count == 3


@pytest.mark.parametrize(
    "text",
    ["", "2 1 4 2\n0 2\n", "3 1 1 1\n0 5\n1 0 0 0 1\n2 0 0 0 0\n", "2 1 1 1\n0 x\n"],
)
def test_cordeau_parser_rejects_bad_files(text: str) -> None:
    with pytest.raises(InputDataError, match=r"bad\.txt"):
        parse_cordeau_mdvrp(text, name="t", source="bad.txt")


def test_golden_parser_limited_and_unlimited() -> None:
    limited = parse_golden(GOLDEN, name="g", unlimited=False)
    assert [(t.capacity, t.fixed_cost, t.cost_per_distance, t.count) for t in limited.types] == [
        (1, 0, 1.0, 1),
        (2, 0, 3.0, 1),
    ]
    assert limited.customer_xy.tolist() == [[1, 0], [-1, 0]]
    assert limited.max_duration is None
    unlimited = parse_golden(GOLDEN, name="g", unlimited=True)
    assert all(t.count is None for t in unlimited.types)


def test_golden_parser_rejects_a_short_file() -> None:
    with pytest.raises(InputDataError, match=r"g\.txt"):
        parse_golden(GOLDEN.rsplit("\n", 2)[0], name="g", unlimited=False, source="g.txt")


def test_x_parser_divides_costs_and_groups_vehicles() -> None:
    inst = parse_x(X_FSMF, name="x", unlimited=True)
    assert [(t.capacity, t.fixed_cost, t.cost_per_distance) for t in inst.types] == [
        (1, 10.0, 1.0),
        (2, 3.0, 1.0),
    ]
    assert inst.vehicle_type == (0, 0, 1, 1)
    assert all(t.count is None for t in inst.types)
    limited = parse_x(X_FSMF.replace("VEHICLES_FIXED_COST_SECTION\n1 1000\n2 1000\n3 300\n"
                                     "4 300\n", ""), name="x", unlimited=False)
    assert [(t.fixed_cost, t.count) for t in limited.types] == [(0.0, 2), (0.0, 2)]


def test_x_parser_names_a_missing_section() -> None:
    with pytest.raises(InputDataError, match="CAPACITY_SECTION"):
        parse_x(X_FSMF.replace("CAPACITY_SECTION", "CAPACITY_SECTIONX"), name="x",
                unlimited=True, source="x.vrp")


def test_checker_costs_a_plan_from_the_coordinates() -> None:
    inst = parse_cordeau_mdvrp(MDVRP, name="t")
    plan = [PlanRoute(0, 0, (0, 1)), PlanRoute(1, 1, (2, 3))]
    check = check_plan(inst, plan)
    assert check.feasible
    assert check.cost == pytest.approx(MDVRP_OPT, abs=1e-12)
    assert check.routes_per_type == (1, 1)


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ([PlanRoute(0, 0, (0, 1)), PlanRoute(1, 1, (2,))], "not served"),
        ([PlanRoute(0, 0, (0, 1)), PlanRoute(1, 1, (1, 2, 3))], "more than once"),
        ([PlanRoute(0, 0, (0, 1, 2)), PlanRoute(1, 1, (3,))], "exceeds capacity"),
        ([PlanRoute(0, 0, (0, 1)), PlanRoute(0, 0, (2,)), PlanRoute(1, 1, (3,))], "only 1"),
        ([PlanRoute(0, 1, (0, 1)), PlanRoute(1, 1, (2, 3))], "belongs to depot 0"),
        ([PlanRoute(0, 0, (0, 1)), PlanRoute(1, 1, (2, 7))], "no customer"),
        ([PlanRoute(0, 0, (0, 1)), PlanRoute(2, 1, (2, 3))], "no vehicle type 2"),
    ],
)
def test_checker_rejects_bad_plans(plan: list[PlanRoute], message: str) -> None:
    check = check_plan(parse_cordeau_mdvrp(MDVRP, name="t"), plan)
    assert not check.feasible
    assert any(message in v for v in check.violations), check.violations


def test_checker_counts_service_against_the_duration_limit() -> None:
    inst = FleetInstance(
        name="d",
        depot_xy=np.array([[0.0, 0.0]]),
        customer_xy=np.array([[3.0, 4.0]]),
        demand=np.array([1.0]),
        service=np.array([2.0]),
        types=(FleetType(capacity=1, fixed_cost=5, cost_per_distance=2, count=1),),
        max_duration=12.0,
    )
    ok = check_plan(inst, [PlanRoute(0, 0, (0,))])
    assert ok.feasible and ok.cost == pytest.approx(5 + 2 * 10)  # fixed + 2 per unit × 10
    tight = FleetInstance(**{**inst.__dict__, "max_duration": 11.9})
    assert "duration 12.0000 exceeds" in check_plan(tight, [PlanRoute(0, 0, (0,))]).violations[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_solve_the_two_depot_instance(engine: str) -> None:
    row = solve(parse_cordeau_mdvrp(MDVRP, name="t"), engine)
    assert row["feasible"] and row["status"] == "solved"
    assert row["objective"] == round(MDVRP_OPT, 2)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("unlimited", "optimum"), [(False, GOLDEN_LIMITED_OPT), (True, GOLDEN_UNLIMITED_OPT)]
)
def test_engines_choose_the_vehicle_types(engine: str, unlimited: bool, optimum: float) -> None:
    inst = parse_golden(GOLDEN, name="g", unlimited=unlimited)
    row = solve(inst, engine)
    assert row["feasible"]
    assert row["objective"] == optimum


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_weigh_fixed_costs(engine: str) -> None:
    row = solve(parse_x(X_FSMF, name="x", unlimited=True), engine)
    assert row["feasible"] and row["objective"] == X_FSMF_OPT and row["routes"] == 1


def test_fleet_counts_per_engine() -> None:
    inst = parse_golden(GOLDEN, name="g", unlimited=True)
    assert engine_count(inst, 0, engine="pyvrp") == 2  # one per customer
    assert engine_count(inst, 0, engine="ortools") == 2  # min(n, 1.2 × 2 + 2)
    limited = parse_golden(GOLDEN, name="g", unlimited=False)
    built = to_problem(limited, engine="ortools")
    assert built.vehicle_type == (0, 1)
    assert [v.cost_per_km for v in built.problem.vehicles] == [1.0, 3.0]


def test_travel_times_round_up_so_the_duration_limit_holds() -> None:
    inst = FleetInstance(
        name="d",
        depot_xy=np.array([[0.0, 0.0]]),
        customer_xy=np.array([[1.0, 1.0]]),
        demand=np.array([1.0]),
        service=np.array([0.0]),
        types=(FleetType(capacity=1, fixed_cost=0, cost_per_distance=1, count=1),),
        max_duration=2 * math.sqrt(2),
    )
    problem = to_problem(inst, engine="pyvrp").problem
    assert problem.time_min[0, 1] >= math.sqrt(2)
    assert problem.distance_km[0, 1] == math.sqrt(2)


def test_ortools_serves_a_tight_mixed_fleet_through_dear_disjunctions() -> None:
    # Capacities 1 + 2 for three parcels: every vehicle full.
    inst = parse_golden(GOLDEN.replace(" 2 2 999999", " 3 2 999999") + " 0 1 1\n", name="g",
                        unlimited=False)
    problem = to_problem(inst, engine="ortools").problem
    visits = build_visits(problem)
    options = OrToolsOptions("SAVINGS", "GUIDED_LOCAL_SEARCH", time.time() + 10, 200,
                             soft_required=True)
    raw = run_ortools(problem, visits, options)
    assert raw.feasible
    assert sorted(i for _, trips in raw.routes for t in trips for i in t) == [0, 1, 2]


def test_ortools_reports_a_fleet_too_small_as_no_solution() -> None:
    inst = parse_golden(GOLDEN.replace(" 2 2 999999", " 3 2 999999") + " 0 1 2\n", name="g",
                        unlimited=False)
    problem = to_problem(inst, engine="ortools").problem
    result = solve_vrp(problem, engine="ortools", budget=Budget.of(5, iteration_limit=100))
    assert result.status == "no_solution" and not result.routes


@pytest.fixture
def data(tmp_path: Path) -> Path:
    md = tmp_path / "mdvrp"
    md.mkdir()
    (md / "t2").write_text(MDVRP)
    (md / "bks.csv").write_text(f"name,bks\nt2,{MDVRP_OPT:.2f}\n")
    hf = tmp_path / "hfvrp"
    (hf / "golden").mkdir(parents=True)
    (hf / "x").mkdir()
    (hf / "golden" / "g1.txt").write_text(GOLDEN)
    (hf / "golden" / "g2.txt").write_text(GOLDEN)
    (hf / "x" / "X3-FSMF.vrp").write_text(X_FSMF)
    (hf / "bks.csv").write_text(
        "name,set,variant,bks\ng1,golden,HFVRP,8\ng2,golden,VFMP_V,4\nX3-FSMF,x,FSMF,7\n"
    )
    return tmp_path


@pytest.mark.parametrize("engine", ENGINES)
def test_mdvrp_command(data: Path, tmp_path: Path, engine: str,
                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "md.csv"
    code = main(["benchmark", "mdvrp", "--data", str(data / "mdvrp"), "--iterations", "200",
                 "--workers", "1", "--engine", engine, "--out", str(out)])
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["instance"] == "t2" and rows[0]["feasible"] == "yes"
    assert float(rows[0]["objective"]) == round(MDVRP_OPT, 2)
    assert f"{engine}: mean gap 0.000%" in capsys.readouterr().out


def test_hfvrp_command_runs_instances_concurrently(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "hf.csv"
    code = main(["benchmark", "hfvrp", "--data", str(data / "hfvrp"), "--iterations", "200",
                 "--workers", "1", "--jobs", "2", "--out", str(out)])
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["instance"] for r in rows] == ["g1", "g2", "X3-FSMF"]  # subset, then name
    assert [float(r["objective"]) for r in rows] == [8.0, 4.0, 7.0]
    text = capsys.readouterr().out
    assert "pyvrp golden: mean gap 0.000% (worst 0.000%), 2/2 feasible" in text
    assert "pyvrp x/FSMF: mean gap 0.000%" in text


def test_hfvrp_subset_filter(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "hf.csv"
    assert main(["benchmark", "hfvrp", "--data", str(data / "hfvrp"), "--subset", "x",
                 "--iterations", "100", "--workers", "1", "--out", str(out)]) == 0
    assert [r["instance"] for r in csv.DictReader(out.open())] == ["X3-FSMF"]


def test_too_many_jobs_is_refused(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["benchmark", "mdvrp", "--data", str(data / "mdvrp"), "--jobs", "64",
                 "--workers", "1"])
    assert code != 0
    assert "--jobs 64" in capsys.readouterr().err


SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"
SHARED_ALT = Path("/work/shared/benchmarks")
BENCH = SHARED if SHARED.is_dir() else SHARED_ALT


@pytest.mark.skipif(not (BENCH / "mdvrp" / "solutions").is_dir(), reason="no shared mdvrp")
def test_checker_reproduces_cordeau_solution_files() -> None:
    folder = BENCH / "mdvrp"
    table = {r["name"]: r for r in csv.DictReader((folder / "bks.csv").open())}
    for name, row in table.items():
        inst = parse_cordeau_mdvrp((folder / name).read_text(), name=name)
        lines = (folder / "solutions" / f"{name}.res").read_text().split("\n")
        plan = []
        for line in lines[1:]:
            parts = line.split()
            if not parts:
                continue
            customers = tuple(int(c) - 1 for c in parts[5:-1])
            plan.append(PlanRoute(int(parts[0]) - 1, int(parts[0]) - 1, customers))
        check = check_plan(inst, plan)
        assert check.feasible, (name, check.violations)
        assert check.cost == pytest.approx(float(row["sol_recomputed"]), abs=1e-3), name


@pytest.mark.skipif(not (BENCH / "hfvrp" / "x").is_dir(), reason="no shared hfvrp")
def test_checker_reproduces_x_solution_files() -> None:
    folder = BENCH / "hfvrp"
    table = {r["name"]: r for r in csv.DictReader((folder / "bks.csv").open())}
    for name, row in table.items():
        if row["set"] != "x":
            continue
        unlimited = row["variant"].startswith("FSM")
        inst = parse_x((folder / "x" / f"{name}.vrp").read_text(), name=name,
                       unlimited=unlimited)
        plan = []
        for line in (folder / "x" / f"{name}.sol").read_text().splitlines():
            if line.startswith("Route #"):
                head, _, body = line.partition(":")
                vehicle = int(head.removeprefix("Route #")) - 1
                customers = tuple(int(c) - 1 for c in body.split())
                plan.append(PlanRoute(inst.vehicle_type[vehicle], 0, customers))
        check = check_plan(inst, plan)
        assert check.feasible, (name, check.violations)
        assert round(check.cost, 2) == pytest.approx(float(row["bks"]), abs=0.011), name


# Capacities 5, 5, 5 (1 per km) and 4 (2 per km) for 19 units: a perfect packing (4 | 4+1,
# 4+1, 3+2) exists. With every station required, OR-Tools' SAVINGS found no first plan and
# searched the whole budget for one; the tight fleet now starts from dear disjunctions.
TIGHT = """// a
// b
// c
// d
// e
 7 2 999999.0 0.0 1 1
 3 5 0.0 1.0
 1 4 0.0 2.0
 0 0
 6 2 1
 8 1 4
 -7 -2 2
 8 -3 4
 3 3 1
 -9 1 4
 5 7 3
"""


def test_ortools_solves_a_tight_limited_fleet() -> None:
    inst = parse_golden(TIGHT, name="tight", unlimited=False)
    problem = to_problem(inst, engine="ortools").problem
    assert tight_fleet(problem, build_visits(problem))
    result = solve_vrp(problem, engine="ortools", budget=Budget.of(3))
    assert result.status == "solved", result.notes
    plan = [
        PlanRoute(0 if problem.vehicles[r.vehicle].cost_per_km == 1.0 else 1, 0,
                  tuple(s - 1 for s in r.stops))
        for r in result.routes
    ]
    assert check_plan(inst, plan).feasible


def test_a_roomy_fleet_is_not_tight() -> None:
    problem = to_problem(parse_golden(GOLDEN, name="g", unlimited=True), engine="pyvrp").problem
    assert not tight_fleet(problem, build_visits(problem))


def test_concurrent_lines_run_as_jobs(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "md.csv"
    code = main(["benchmark", "mdvrp", "--data", str(data / "mdvrp"), "--iterations", "100",
                 "--workers", "1", "--engines", "pyvrp,ortools", "--concurrent",
                 "--out", str(out)])
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["engine"] for r in rows] == ["pyvrp", "ortools"]
    assert all(float(r["objective"]) == round(MDVRP_OPT, 2) for r in rows)
