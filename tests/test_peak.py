"""The peak week: hire plan, backlog oldest first, worked by hand (one station, 3 days)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import write_grid_region

from rural_logistics.cli import main
from rural_logistics.delivery.peak import default_arrivals, run_backlog
from rural_logistics.routing import RoutingProblem, VehicleSpec
from rural_logistics.routing.hire import HireOption, plan_hires
from tests.test_routing import SQUARE, euclid


def van(name: str = "van", *, fixed: float = 50.0) -> VehicleSpec:
    return VehicleSpec(
        type_name=name, capacity_parcels=500, cost_per_km=1.0, fixed_cost_per_day=fixed,
        speed_factor=1.0, max_route_duration_min=600.0, service_time_min=0.0,
    )


def one_station() -> RoutingProblem:
    """The depot and station 1 (10 km away) of the square; one own 500-parcel van."""
    d = euclid(SQUARE[:2])
    return RoutingProblem(distance_km=d, time_min=d, parcels_per_day=np.array([0.0, 0.0]),
                          vehicles=(van(),), split_delivery=True)


#: 300 parcels on day 1, 900 on day 2, none on day 3.
ARRIVALS = np.array([[300], [900], [0]])
HIRE = [HireOption(van("van (hired)", fixed=100.0), cost_per_day=100.0, available_per_day=2)]


def test_two_day_promise_needs_no_hire_and_the_backlog_clears_on_day_3() -> None:
    # Day 1: 300 delivered. Day 2: 500 of 900 (the van is full), 400 wait.
    # Day 3: the 400 go (one day late is within 2 days). No hire needed.
    plan = plan_hires(one_station(), ARRIVALS, HIRE, within_days=2, storage_parcels=None,
                      time_limit_s=10.0)
    assert plan.status == "optimal"
    assert plan.hired.tolist() == [[0], [0], [0]]
    assert plan.cost == 0.0
    backlog, wait, clear = run_backlog(ARRIVALS, [np.array([300]), np.array([500]),
                                                  np.array([400])])
    assert backlog == [0, 400, 0]
    assert wait == [0, 0, 1]
    assert clear == 3


def test_same_day_promise_hires_one_van_on_day_2() -> None:
    # Within 1 day: day 2's 900 must all go on day 2: own 500 + one hired 500.
    plan = plan_hires(one_station(), ARRIVALS, HIRE, within_days=1, storage_parcels=None,
                      time_limit_s=10.0)
    assert plan.status == "optimal"
    assert plan.hired.tolist() == [[0], [1], [0]]
    assert plan.cost == pytest.approx(100.0)
    assert plan.bound == pytest.approx(100.0)


def test_no_hire_within_limits_is_a_proof() -> None:
    none_left = [HireOption(HIRE[0].vehicle, 100.0, 0)]
    assert plan_hires(one_station(), ARRIVALS, none_left, within_days=1, storage_parcels=None,
                      time_limit_s=10.0).status == "infeasible"
    # A station that takes in 400 a day cannot get day 2's 900 over days 2 and 3.
    assert plan_hires(one_station(), ARRIVALS, HIRE, within_days=2, storage_parcels=400,
                      time_limit_s=10.0).status == "infeasible"
    assert plan_hires(one_station(), ARRIVALS, HIRE, within_days=2, storage_parcels=450,
                      time_limit_s=10.0).status == "optimal"


def test_backlog_goes_out_oldest_first() -> None:
    # 100 a day for 3 days, 50 delivered a day: day 1 keeps 50 of its own; day 2 takes
    # day 1's other 50 (waited 1 day); day 3 takes 50 of day 2's (waited 1 day), not of
    # its own. The backlog grows by 50 a day.
    backlog, wait, clear = run_backlog(np.array([[100], [100], [100]]),
                                       [np.array([50])] * 3)
    assert backlog == [50, 100, 150]
    assert wait == [0, 1, 1]
    assert clear is None


def test_default_profile_from_the_2017_figures() -> None:
    # 1-10 Nov: (84.608 - 39.24) / 10 = 4.5368 bn a day; 11 Nov = 8.649 of those days.
    profile = default_arrivals()
    assert len(profile) == 8
    assert profile[:2] == (1.0, 1.0) and profile[-1] == 1.0
    assert sum(profile) - 8 == pytest.approx(39.24 / 4.5368 - 1, abs=0.01)
    assert profile[2] == pytest.approx(1 + 0.3 * (39.24 / 4.5368 - 1), abs=1e-3)


def test_peak_week_end_to_end_on_the_grid(tmp_path: Path) -> None:
    # 900 parcels a normal day, two own 500-parcel vans; day 2 doubles the arrivals and
    # the promise is the same day: vans must be hired on day 2 only.
    config = write_grid_region(tmp_path / "grid", extra_config={
        "peak": {"arrivals": [1.0, 2.0, 1.0], "deliver_within_days": 1,
                 "hire": [{"vehicle": "van", "cost_per_day": 300, "available_per_day": 3}]},
        "solver": {"time_limit_s": 6, "seed": 1},
    })
    out = tmp_path / "run"
    err = io.StringIO()
    code = main(["solve", str(config), "--out", str(out), "-q", "--no-map"],
                stdout=io.StringIO(), stderr=err)
    assert code == 0, err.getvalue()
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    peak = s["peak"]
    assert peak["days"] == [1, 2, 3]
    assert peak["arrivals"][1] == 2 * peak["arrivals"][0]
    assert peak["delivered"] == peak["arrivals"]
    assert peak["backlog"] == [0, 0, 0]
    assert peak["promise_kept"] and s["delivered_share"] == 1.0
    assert peak["hired"]["van"][0] == 0 and peak["hired"]["van"][2] == 0
    assert peak["hired"]["van"][1] >= 1
    assert peak["hire_plan"]["status"] == "optimal"
    assert peak["one_fewer_on_busiest_day"]["day"] == 2


def test_report_shows_the_week_as_chart_and_table() -> None:
    from types import SimpleNamespace

    from rural_logistics.report.sections import peak_html

    peak = {"days": [1, 2, 3], "arrivals": [300, 900, 0], "delivered": [300, 500, 400],
            "backlog": [0, 400, 0], "hired": {"van": [0, 0, 0]}, "longest_wait_days": [0, 0, 1],
            "cost": [80.0, 80.0, 80.0], "deliver_within_days": 2, "promise_kept": True,
            "max_backlog_parcels": 400, "days_to_clear": 3, "hire_plan": {"status": "optimal"}}
    html = peak_html([SimpleNamespace(summary={"peak": peak})], ["week"])  # type: ignore[list-item]
    assert "<svg" in html and html.count("<rect x=") == 9  # 3 days × 3 series
    assert "<td class=\"n\">400</td>" in html and "kept" in html
    assert peak_html([SimpleNamespace(summary={})], ["day"]) == ""  # type: ignore[list-item]
