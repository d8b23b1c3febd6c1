"""Per-station time windows, service times and unserved penalties (issue 20, item 2):
honoured by both engines and by the independent checker, read from columns of the sites
layer into the routing problem and the stops layer.

Instances (hand-worked):

``LINE``: the depot and stations A, B on a road, A 10 min (10 km) out, B 10 min beyond A.
Both orders drive 40 km, so only the windows decide the order. A opens 60–70, B 0–30;
each station takes 5 min of its own (the van none). A first: at A by 10, wait to 60,
leave 65, at B by 75 > 30, late. B first: the latest departure that keeps both windows is
10 (B's slack 30 − 20 and A's 70 − 60 are 10 each): at B 30–35, at A 45, wait 15 min, serve
60–65, back at 75.

``FORK``: C 5 km from the depot, D 100 km the other way. At 1 per km, serving D costs
200 km; at its own penalty of 10 per parcel (1 parcel) D is dropped, C (the default 1000)
is served. At D's default penalty both are served.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_grid_region

from rural_logistics import load_config, plan_region
from rural_logistics.delivery.base import routing_template
from rural_logistics.region import prepare_region
from rural_logistics.routing import (
    ENGINES,
    Route,
    RoutingProblem,
    RoutingResult,
    VehicleSpec,
    evaluate,
    route_schedule,
    solve_vrp,
)
from rural_logistics.routing.diagnose import PRICED_OUT
from rural_logistics.solvers.budget import Budget

engines = pytest.mark.parametrize("engine", ENGINES)


def van(*, shift_start_min: float = 0.0) -> VehicleSpec:
    return VehicleSpec(
        type_name="van", capacity_parcels=100, cost_per_km=1.0, fixed_cost_per_day=0.0,
        speed_factor=1.0, max_route_duration_min=1000.0, service_time_min=0.0,
        shift_start_min=shift_start_min,
    )


def line_problem() -> RoutingProblem:
    t = np.array([[0.0, 10.0, 20.0], [10.0, 0.0, 10.0], [20.0, 10.0, 0.0]])
    return RoutingProblem(
        distance_km=t, time_min=t, parcels_per_day=np.array([0.0, 1.0, 1.0]),
        vehicles=(van(),),
        time_window_min=np.array([[-np.inf, np.inf], [60.0, 70.0], [0.0, 30.0]]),
        service_time_min=np.array([0.0, 5.0, 5.0]),
        optional=False,
    )


def solve(problem: RoutingProblem, engine: str) -> RoutingResult:
    return solve_vrp(problem, engine=engine, budget=Budget.of(20.0, iteration_limit=200))


@engines
def test_windows_force_the_visiting_order_and_the_schedule(engine: str) -> None:
    result = solve(line_problem(), engine)
    assert result.is_feasible() and not any("check failed" in n for n in result.notes)
    (route,) = result.routes
    assert route.stops == (2, 1)  # B before A
    assert route.start_min == pytest.approx(10.0)
    assert route.duration_min == pytest.approx(65.0)
    times = route_schedule(line_problem(), route)
    assert [t.node for t in times] == [0, 2, 1, 0]
    assert [t.arrival_min for t in times] == pytest.approx([10.0, 30.0, 45.0, 75.0])
    assert [t.start_min for t in times] == pytest.approx([10.0, 30.0, 60.0, 75.0])
    assert [t.departure_min for t in times] == pytest.approx([10.0, 35.0, 65.0, 75.0])


def test_checker_rejects_the_order_that_misses_a_window() -> None:
    problem = line_problem()
    late = Route(vehicle=0, stops=(1, 2), loads=(1, 1), distance_km=0.0, duration_min=0.0,
                 cost=0.0)
    check = evaluate(problem, [late])
    assert check.violations == ("vehicle 0: station 2 served at 75.00 min, after its window "
                                "closes (30)",)
    ok = Route(vehicle=0, stops=(2, 1), loads=(1, 1), distance_km=0.0, duration_min=0.0,
               cost=0.0)
    assert evaluate(problem, [ok]).feasible


def test_checker_counts_the_station_service_time() -> None:
    # A → B with B closing at 24: at A by 10, A's own 5 min, at B by 25: late. Without
    # the station service time the same route reaches B by 20, on time.
    tw = np.array([[-np.inf, np.inf], [0.0, 100.0], [0.0, 24.0]])
    problem = replace(line_problem(), time_window_min=tw)
    route = Route(vehicle=0, stops=(1, 2), loads=(1, 1), distance_km=0.0, duration_min=0.0,
                  cost=0.0)
    assert evaluate(problem, [route]).violations == (
        "vehicle 0: station 2 served at 25.00 min, after its window closes (24)",
    )
    assert evaluate(replace(problem, service_time_min=None), [route]).feasible


def fork_problem(d_weight: float) -> RoutingProblem:
    km = np.array([[0.0, 5.0, 100.0], [5.0, 0.0, 105.0], [100.0, 105.0, 0.0]])
    return RoutingProblem(
        distance_km=km, time_min=km, parcels_per_day=np.array([0.0, 1.0, 1.0]),
        vehicles=(van(),), unserved_penalty_per_parcel=1000.0,
        penalty_weight=np.array([1.0, 1.0, d_weight]),
    )


@engines
def test_own_penalty_makes_one_station_droppable_and_not_the_other(engine: str) -> None:
    cheap = solve(fork_problem(0.01), engine)  # D: 10 per parcel < 200 km of driving
    assert [r.stops for r in cheap.routes] == [(1,)]
    assert cheap.unserved == ((2, 1),)
    assert cheap.unserved_penalty == pytest.approx(10.0)
    assert cheap.unserved_reasons[0].startswith(PRICED_OUT)
    dear = solve(fork_problem(1.0), engine)  # D at the default 1000: served
    assert dear.is_feasible()
    assert sorted(s for r in dear.routes for s in r.stops) == [1, 2]


# --- the columns of the sites layer, through the pipeline ------------------------------

TERMS = {  # village → (tw_open_min, tw_close_min, service_time_min, penalty per parcel)
    "V1": (None, None, 12, None), "V2": (540, 600, 12, None), "V3": (None, 700, 12, 5000),
    "V4": (510, None, 12, None), "V5": (540, 600, 12, None), "V6": (None, None, 12, None),
    "V7": (None, None, 12, None), "V8": (540, 620, 12, None), "V9": (None, None, 12, 2000),
}


def write_terms(folder: Path, extra_config: dict | None = None) -> Path:
    path = write_grid_region(folder, extra_config=extra_config)
    villages = pd.read_csv(folder / "villages.csv")
    for name, k in (("tw_open_min", 0), ("tw_close_min", 1), ("service_time_min", 2),
                    ("unserved_penalty_per_parcel", 3)):
        villages[name] = [TERMS[v][k] for v in villages["id"]]
    villages.to_csv(folder / "villages.csv", index=False)
    return path


def test_columns_become_the_routing_problem(tmp_path: Path) -> None:
    config = load_config(write_terms(tmp_path / "grid", {
        "routing": {"station_hours_min": [480, 1020], "unserved_penalty_per_parcel": 1000}}))
    prepared = prepare_region(config)
    template = routing_template(config, prepared, np.arange(len(prepared.data.sites)))
    problem, d = template.problem, template.problem.n_depots
    ids = prepared.site_ids
    assert problem.time_window_min is not None and problem.service_time_min is not None
    for k, sid in enumerate(ids):
        opens, closes, service, penalty = TERMS[sid]
        assert problem.time_window_min[d + k].tolist() == [
            opens if opens is not None else 480.0, closes if closes is not None else 1020.0]
        assert problem.service_time_min[d + k] == service
        assert problem.penalty_rates()[d + k] == (penalty if penalty is not None else 1000.0)


def test_without_columns_the_problem_is_unchanged(tmp_path: Path) -> None:
    config = load_config(write_grid_region(tmp_path / "grid"))
    prepared = prepare_region(config)
    template = routing_template(config, prepared, np.arange(len(prepared.data.sites)))
    problem = template.problem
    assert problem.time_window_min is None
    assert problem.service_time_min is None
    assert problem.penalty_weight is None


@engines
def test_stops_layer_keeps_windows_and_service_times(tmp_path: Path, engine: str) -> None:
    config = load_config(write_terms(tmp_path / "grid", {
        "placement": {"stations": 5},
        "routing": {"engine": engine, "workers": 1},
        "fleet": {"vehicles": [{"name": "van", "capacity_parcels": 500, "count": 2,
                                "cost_per_km": 2.0, "fixed_cost_per_day": 100,
                                "service_time_min": 5}]},
    }))
    plan = plan_region(config)
    assert not any("check failed" in w for w in plan.warnings)
    stops = plan.stops
    assert stops is not None
    at = stops[stops["kind"] == "station"]
    assert len(at) == len(plan.stations) == 5
    for _, row in at.iterrows():
        opens, closes, service, _ = TERMS[row["stop_id"]]
        if opens is not None:
            assert row["start_min"] >= opens - 1e-9
        if closes is not None:
            assert row["start_min"] <= closes + 0.01
        assert row["wait_min"] == pytest.approx(row["start_min"] - row["arrival_min"], abs=0.011)
        # The van's 5 min and the station's own 12 min.
        assert row["departure_min"] - row["start_min"] == pytest.approx(5 + service, abs=0.011)
    # The windows bind: some station's service starts at its opening (the departure is
    # delayed to it rather than waiting there).
    opening = [TERMS[s][0] for s in at["stop_id"]]
    assert any(o is not None and abs(t - o) < 0.011
               for o, t in zip(opening, at["start_min"], strict=True))
    assert "per-station terms read" in " ".join(plan.warnings)


# --- the demo: datasets/demo_county_windows ---------------------------------------------

DEMO_TERMS = {  # id → (tw_open_min, tw_close_min, service_time_min, penalty) as in its README
    **{i: ("540", "660", "", "") for i in ("V094", "V105", "V114", "V118")},
    "V104": ("540", "660", "15", ""), "V198": ("", "", "15", ""),
    "V186": ("", "", "15", ""), "V246": ("", "", "", "0.05"),
}


def test_windows_demo_is_the_demo_county_plus_the_term_columns(repo_root: Path) -> None:
    demo = pd.read_csv(repo_root / "datasets" / "demo_county" / "villages.csv", dtype=str,
                       keep_default_na=False)
    derived = pd.read_csv(repo_root / "datasets" / "demo_county_windows" / "villages.csv",
                          dtype=str, keep_default_na=False)
    names = ["tw_open_min", "tw_close_min", "service_time_min", "unserved_penalty_per_parcel"]
    assert list(derived.columns) == [*demo.columns, *names]
    pd.testing.assert_frame_equal(derived[list(demo.columns)], demo)
    for k, name in enumerate(names):
        assert derived[name].tolist() == [DEMO_TERMS.get(i, ("",) * 4)[k] for i in demo["id"]]
    config = load_config(repo_root / "configs" / "demo_county_windows.yaml")
    assert config.routing.columns.column("time_window_open") == "tw_open_min"


def test_stations_priced_out_are_said_so_in_the_summary(tmp_path: Path) -> None:
    # 0.01 per parcel everywhere: a station's ~450 parcels cost 4.5 unserved, a van's day
    # 100 fixed: every station is left out, by price, not for want of a plan.
    path = write_grid_region(tmp_path / "grid", extra_config={
        "routing": {"workers": 1}, "solver": {"time_limit_s": 1, "seed": 1}})
    villages = pd.read_csv(tmp_path / "grid" / "villages.csv")
    villages["unserved_penalty_per_parcel"] = 0.01
    villages.to_csv(tmp_path / "grid" / "villages.csv", index=False)
    plan = plan_region(load_config(path))
    summary = plan.summary
    assert len(plan.routes) == 0
    assert summary["status"] == "partial"
    assert all(r["reason"].startswith(PRICED_OUT) for r in summary["diagnosis"])
    assert "2 priced out at their own unserved penalty" in summary["status_detail"]
    assert "heuristic miss" not in summary["status_detail"]
    bound = summary["delivery_bound"]
    assert bound["priced_out_parcels_per_day"] == bound["demand_parcels_per_day"] == 900
    assert bound["heuristic_gap_parcels_per_day"] == 0
    assert not summary["comparable"]
