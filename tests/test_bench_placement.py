"""The pmed and cfl benchmark commands on tiny instance files written here."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from rural_logistics.benchmarks.cfl import read_cfl
from rural_logistics.benchmarks.pmed import read_pmed
from rural_logistics.cli import main
from rural_logistics.errors import InputDataError

# A path 1-2-3-4-5-6 with lengths 1, 1, 8, 1, 1. The edge 3-4 is listed twice: the last
# line (8) wins, as in the OR-Library erratum. With p = 1 the median (3 or 4) costs
# 2 + 1 + 0 + 8 + 9 + 10 = 30 (54 if the first line won); with p = 2, 2 and 5: 4.
PMED_P1 = "6 6 1\n1 2 1\n2 3 1\n3 4 20\n4 5 1\n5 6 1\n3 4 8\n"
PMED_P2 = PMED_P1.replace("6 6 1\n", "6 6 2\n", 1)

# Two warehouses, three customers of demand 3; serving one wholly costs 1 from the first,
# 20 from the second; opening either costs 10.
# - capacities 4.5 / 10: the first takes 1.5 customers: 20 + 1.5 + 1.5 × 20 = 51.5;
# - uncapacitated: the first alone, 10 + 3 = 13;
# - "capacity" words with 9 from optima.csv: the first holds everyone, 13 again.
CFL_T1 = "2 3\n4.5 10\n10 10\n3 1 20\n3 1 20\n3 1 20\n"
CFL_T2 = "2 3\ncapacity 10\ncapacity 10\n3 1 20\n3 1 20\n3 1 20\n"

COLUMNS = ["instance", "n", "p", "objective", "reference", "gap_pct", "bound", "seconds", "status"]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def pmed_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pmed"
    folder.mkdir()
    (folder / "t1.txt").write_text(PMED_P1.replace("\n", "\r\n"))
    (folder / "t2.txt").write_text(PMED_P2)
    (folder / "optima.csv").write_text("name,n,edges,p,optimum\nt1,6,6,1,30\nt2,6,6,2,4\n")
    return folder


@pytest.fixture
def cfl_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "cfl"
    (folder / "extra").mkdir(parents=True)
    (folder / "extra" / "t1.txt").write_text(CFL_T1)
    (folder / "t2.txt").write_text(CFL_T2)
    (folder / "optima.csv").write_text(
        "name,file,m,n,capacity,total_demand,capacity_binding,optimum_capacitated,"
        "optimum_uncapacitated\n"
        "t1,extra/t1.txt,2,3,4.5,9,yes,51.500,13.000\n"
        "t2,t2.txt,2,3,ignored (UFL),9,n/a,,13.000\n"
        "t2@9,t2.txt,2,3,9,9,no,13.000,\n"
    )
    return folder


def test_pmed_reader_last_edge_wins(pmed_dir: Path) -> None:
    inst = read_pmed(pmed_dir / "t1.txt")
    assert inst.p == 1
    assert inst.cost[2, 3] == 8
    assert inst.cost[0, 5] == 12


def test_pmed_reader_rejects_garbage(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("six vertices\n")
    with pytest.raises(InputDataError, match=r"bad\.txt"):
        read_pmed(bad)


def test_pmed_benchmark_command(pmed_dir: Path, tmp_path: Path) -> None:
    out_csv = tmp_path / "pmed.csv"
    code, out, err = run(
        "benchmark", "pmed", "--data", str(pmed_dir), "--time-limit", "10", "--out", str(out_csv)
    )
    assert code == 0, err
    with out_csv.open() as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        rows = list(reader)
    assert [r["instance"] for r in rows] == ["t1", "t2"]
    assert [float(r["objective"]) for r in rows] == [30, 4]
    assert [float(r["bound"]) for r in rows] == [30, 4]
    assert [r["status"] for r in rows] == ["optimal", "optimal"]
    assert [float(r["gap_pct"]) for r in rows] == [0, 0]
    assert out.splitlines()[0].split() == COLUMNS
    assert "rural_logistics: 2/2 at the published optimum, 2/2 proven optimal" in out


def test_pmed_unknown_instance_is_named(pmed_dir: Path) -> None:
    code, _, err = run("benchmark", "pmed", "--data", str(pmed_dir), "--instances", "t9")
    assert code == 2
    assert "t9" in err


def test_pmed_compare_spopt(pmed_dir: Path) -> None:
    pytest.importorskip("spopt")
    code, out, err = run(
        "benchmark", "pmed", "--data", str(pmed_dir), "--instances", "t2",
        "--time-limit", "10", "--compare", "spopt",
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == [*COLUMNS, "engine"]
    assert "spopt (PuLP/CBC): 1/1 at the published optimum" in out
    assert "median-time ratio spopt / rural_logistics" in out


def test_cfl_reader(cfl_dir: Path) -> None:
    inst = read_cfl(cfl_dir / "t2.txt")
    assert np.isnan(inst.capacity).all()
    assert inst.fixed_cost.tolist() == [10, 10]
    assert inst.demand.tolist() == [3, 3, 3]
    assert inst.assign_cost.tolist() == [[1, 20]] * 3


def test_cfl_benchmark_command(cfl_dir: Path, tmp_path: Path) -> None:
    out_csv = tmp_path / "cfl.csv"
    code, out, err = run(
        "benchmark", "cfl", "--data", str(cfl_dir), "--time-limit", "10", "--out", str(out_csv)
    )
    assert code == 0, err
    with out_csv.open() as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        rows = {r["instance"]: r for r in reader}
    assert set(rows) == {"t1", "t1:ufl", "t2:ufl", "t2@9"}
    expected = {"t1": (51.5, 2), "t1:ufl": (13, 1), "t2:ufl": (13, 1), "t2@9": (13, 1)}
    for name, (objective, opened) in expected.items():
        assert float(rows[name]["objective"]) == pytest.approx(objective)
        assert float(rows[name]["bound"]) == pytest.approx(objective)
        assert int(rows[name]["p"]) == opened
        assert rows[name]["status"] == "optimal"
    assert "cfl: 4/4 at the published optimum (relative gap < 1e-6), 4/4 proven optimal" in out


def test_cfl_variant_filter(cfl_dir: Path) -> None:
    code, out, err = run(
        "benchmark", "cfl", "--data", str(cfl_dir), "--variant", "uncapacitated",
        "--time-limit", "10",
    )
    assert code == 0, err
    assert "cfl: 2/2 at the published optimum" in out
