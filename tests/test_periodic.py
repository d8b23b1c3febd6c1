"""The periodic (weekly) planner, its checker and the ``frequency`` config, on cases
worked by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from rural_logistics.config import ConfigError, parse_config
from rural_logistics.delivery.weekly import default_patterns, rule_visits, station_options
from rural_logistics.periodic.check import check_plan
from rural_logistics.periodic.model import (
    PeriodicProblem,
    VisitOption,
    accumulated_parcels,
    waiting_days,
)
from rural_logistics.periodic.search import solve_periodic
from rural_logistics.routing import RoutingProblem, VehicleSpec
from rural_logistics.solvers.budget import Budget

#: Depot, A, B, C.
XY = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 4.0], [-10.0, 0.0]])


def _dist() -> np.ndarray:
    diff = XY[:, None, :] - XY[None, :, :]
    return np.hypot(diff[..., 0], diff[..., 1])


def two_day_problem(*, capacity: int = 3) -> PeriodicProblem:
    """2 days, one vehicle a day; A every day, B and C once (either day), 1 parcel a
    visit."""
    dist = _dist()
    van = VehicleSpec(type_name="van", capacity_parcels=capacity, cost_per_km=1.0,
                      fixed_cost_per_day=0.0, speed_factor=1.0,
                      max_route_duration_min=math.inf, service_time_min=0.0)
    template = RoutingProblem(distance_km=dist, time_min=dist, parcels_per_day=np.zeros(4),
                              vehicles=(van,), optional=False, xy=XY)
    once = (VisitOption((0,), (1,), "day 1"), VisitOption((1,), (1,), "day 2"))
    return PeriodicProblem(template=template, days=2,
                           options=((VisitOption((0, 1), (1, 1), "both"),), once, once))


def test_two_days_three_customers_optimum_by_hand() -> None:
    """A (10, 0) is visited both days; B (10, 4) and C (−10, 0) once, on either day;
    one vehicle of capacity 3 a day, depot at the origin.

    * B and C on the same day: that day 0→C→B→A→0 (or reversed) = 10 + √416 + 4 + 10,
      the other day 0→A→0 = 20: total 44 + √416 = **64.396** (C is on the far side, so
      0→C→A→B→0 = 10 + 20 + 4 + √116 = 44.77 is longer).
    * B and C on different days: 0→A→B→0 = 10 + 4 + √116 = 24.770 and 0→A→C→0 (or
      0→C→A→0) = 10 + 20 + 10 = 40: total **64.770**.

    So the optimum puts B and C on one day: 44 + √416 ≈ 64.3961 (two optimal plans, one
    per day).
    """
    plan = solve_periodic(two_day_problem(), budget=Budget.of(20, iteration_limit=50),
                          seed=1)
    assert plan.is_feasible()
    assert plan.cost() == pytest.approx(44 + math.sqrt(416), abs=1e-6)
    assert plan.option(1).days == plan.option(2).days
    assert plan.option(0).days == (0, 1)


def test_capacity_two_forces_b_and_c_apart() -> None:
    """With capacity 2 a day holds A and one of B, C: 24.770 + 40 = 64.770."""
    plan = solve_periodic(two_day_problem(capacity=2),
                          budget=Budget.of(20, iteration_limit=50), seed=1)
    assert plan.is_feasible()
    assert plan.cost() == pytest.approx(14 + math.sqrt(116) + 40, abs=1e-6)
    assert plan.option(1).days != plan.option(2).days


def test_first_option_baseline_is_the_start_plan_routed() -> None:
    """Each customer's first option puts B and C both on day 1: the same 64.396 here,
    but the choice is not searched."""
    plan = solve_periodic(two_day_problem(), budget=Budget.of(20, iteration_limit=50),
                          start="first", improve=False)
    assert plan.choice == (0, 0, 0)
    assert plan.cost() == pytest.approx(44 + math.sqrt(416), abs=1e-6)


def test_ortools_engine_solves_the_periodic_case() -> None:
    plan = solve_periodic(two_day_problem(), budget=Budget.of(10, iteration_limit=50),
                          engine="ortools", seed=1)
    assert plan.is_feasible()
    assert plan.cost() == pytest.approx(44 + math.sqrt(416), abs=1e-6)


# -- the independent checker ---------------------------------------------------------------

ALLOWED = [(), ((0, 1),), ((0,), (1,)), ((0,), (1,))]


def _check(routes: list[list[list[int]]], **kw: object) -> object:
    args = {"distance": _dist(), "demand": [0, 1, 1, 1], "allowed": ALLOWED,
            "routes": routes, "capacity": 3, "vehicles_per_day": 1, **kw}
    return check_plan(**args)  # type: ignore[arg-type]


def test_checker_accepts_the_optimum_and_recomputes_its_cost() -> None:
    check = _check([[[3, 2, 1]], [[1]]])
    assert check.feasible, check.violations
    assert check.distance == pytest.approx(44 + math.sqrt(416))
    assert check.routes_per_day == (1, 1)


@pytest.mark.parametrize(("routes", "kw", "says"), [
    ([[[3, 2, 1]], []], {}, "customer 1: visit days (1,) are not an allowed pattern"),
    ([[[3, 2, 1]], [[1, 2]]], {}, "customer 2: visit days (1, 2)"),
    ([[[3, 2, 1]], [[1]]], {"capacity": 2}, "load 3 > capacity 2"),
    ([[[3, 2], [1]], [[1]]], {}, "day 1: 2 routes, 1 vehicles"),
    ([[[3, 2, 1, 1]], [[1]]], {}, "visited more than once on a day"),
    ([[[3, 2, 1]], [[1]]], {"max_duration": 40.0}, "duration 44.3961 > 40"),
    ([[[3, 2, 1]], [[1]]], {"loads": [[[1, 1, 2]], [[1]]]}, "customer 1: day 1 gets 2"),
])
def test_checker_rejects_a_bad_plan(routes: list[list[list[int]]], kw: dict[str, object],
                                    says: str) -> None:
    check = _check(routes, **kw)
    assert not check.feasible
    assert any(says in v for v in check.violations), check.violations


# -- loads, waiting, patterns, rules ---------------------------------------------------------


def test_parcels_accumulate_since_the_previous_visit_cyclically() -> None:
    assert accumulated_parcels((0, 3), horizon_days=6, parcels_per_day=5.0) == (15, 15)
    assert accumulated_parcels((0, 2, 4), horizon_days=6, parcels_per_day=2.5) == (5, 5, 5)
    # Mon/Tue in a 6-day week: Monday brings Wed–Mon (5 days), Tuesday one day.
    assert accumulated_parcels((0, 1), horizon_days=6, parcels_per_day=3.0) == (15, 3)


def test_waiting_days_until_the_next_visit() -> None:
    assert waiting_days((0, 3), horizon_days=6) == (1.0, 2)
    assert waiting_days(tuple(range(6)), horizon_days=6) == (0.0, 0)
    assert waiting_days((0,), horizon_days=4) == (1.5, 3)


def test_default_patterns_are_evenly_spaced_rotations() -> None:
    assert default_patterns(2, 6) == ((0, 3), (1, 4), (2, 5))
    assert default_patterns(3, 6) == ((0, 2, 4), (1, 3, 5))
    assert default_patterns(6, 6) == ((0, 1, 2, 3, 4, 5),)


def _frequency(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "horizon_days": 6,
        "rules": [{"min_parcels_per_day": 20, "visits": [6]},
                  {"min_parcels_per_day": 0, "visits": [2, 3]}],
        "patterns": {2: [[1, 4], [2, 5]]},
        "station_storage_parcels": 40,
    }
    base.update(over)
    return base


def _config(frequency: dict[str, object], **extra: object) -> dict[str, object]:
    return {
        "region": {"name": "x"},
        "data": {"villages": "v.csv", "depots": "d.geojson"},
        "network": {"mode": "straight_line"},
        "fleet": {"vehicles": [{"name": "van", "capacity_parcels": 100, "count": 1,
                                "cost_per_km": 1, "fixed_cost_per_day": 1}]},
        "frequency": frequency,
        **extra,
    }


def test_rules_and_storage_give_each_station_its_options() -> None:
    freq = parse_config(_config(_frequency())).frequency
    assert freq is not None
    assert rule_visits(freq, 25.0) == (6,)
    assert rule_visits(freq, 5.0) == (2, 3)
    options, notes = station_options(freq, np.array([5.0, 10.0, 30.0]),
                                     ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"],
                                     ["S1", "S2", "S3"])
    # 5/day: twice (Mon/Thu, Tue/Fri: 15 each) or three times (10 each).
    assert [o.label for o in options[0]] == ["Mon/Thu", "Tue/Fri", "Mon/Wed/Fri",
                                             "Tue/Thu/Sat"]
    assert options[0][0].parcels == (15, 15)
    # 10/day: twice would bring 30 (fits 40), three times 20.
    assert len(options[1]) == 4
    # 30/day daily: 30 a visit.
    assert options[2][0].parcels == (30,) * 6 and not notes


def test_storage_too_small_for_every_pattern_is_named() -> None:
    freq = parse_config(_config(_frequency(station_storage_parcels=8))).frequency
    assert freq is not None
    options, notes = station_options(freq, np.array([5.0]), ["a"] * 6, ["S9"])
    assert options[0][0].label == "daily" and "S9" in notes[0]


@pytest.mark.parametrize(("over", "says"), [
    ({"rules": [{"min_parcels_per_day": 0, "visits": [7]}]},
     "frequency.rules[0].visits: 7 visits do not fit in horizon_days 6"),
    ({"rules": [{"min_parcels_per_day": 5, "visits": [2]}]},
     "frequency.rules: no rule for the smallest stations"),
    ({"patterns": {2: [[1, 9]]}}, "frequency.patterns.2[0]: day 9 is outside 1–6"),
    ({"patterns": {2: [[1, 2, 3]]}}, "frequency.patterns.2[0]: needs 2 different days"),
    ({"day_names": ["a", "b"]}, "frequency.day_names: 2 names for horizon_days 6"),
    ({"horizon_days": 0}, "frequency.horizon_days"),
    ({"waiting_cost_per_parcel_day": -1}, "frequency.waiting_cost_per_parcel_day"),
    ({"storage": 3}, "frequency.storage: unknown key"),
])
def test_frequency_config_errors_name_the_key(over: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_config(_frequency(**over)), source="week.yaml")
    assert says in str(err.value)
    assert "\n" not in str(err.value).strip() or len(str(err.value).splitlines()) == 1


def test_frequency_needs_direct_delivery() -> None:
    with pytest.raises(ConfigError, match="frequency: the weekly plan is direct delivery"):
        parse_config(_config(_frequency(), peak={}))


def test_demo_week_config_is_valid(repo_root: Path) -> None:
    from rural_logistics.config import load_config

    config = load_config(repo_root / "configs" / "demo_week.yaml")
    assert config.frequency is not None and config.frequency.horizon_days == 6


def test_weekly_plan_end_to_end_on_the_grid(tmp_path: Path) -> None:
    """The grid's 2 stations, ~90 parcels a day each, visited twice in a 4-day week:
    each visit brings two days of parcels; the plan is checked by the periodic checker
    and compared with daily service."""
    import io
    import json

    import pandas as pd
    from conftest import write_grid_region

    from rural_logistics.cli import main

    config = write_grid_region(tmp_path / "grid", extra_config={
        "demand": {"parcels_per_capita_per_year": 73},
        "frequency": {"horizon_days": 4, "rules": [{"min_parcels_per_day": 0,
                                                    "visits": [2]}]},
        "solver": {"time_limit_s": 4, "seed": 1},
    })
    out = tmp_path / "run"
    err = io.StringIO()
    code = main(["solve", str(config), "--out", str(out), "-q", "--no-map"],
                stdout=io.StringIO(), stderr=err)
    assert code == 0, err.getvalue()
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    week = s["frequency"]
    assert s["delivered_share"] == 1.0
    assert week["horizon_days"] == 4 and week["day_names"] == ["Mon", "Tue", "Wed", "Thu"]
    routed = [st for st in week["stations"]]
    assert routed and all(st["visits"] == 2 for st in routed)
    for st in routed:
        assert st["max_load_parcels"] == math.ceil(2 * st["parcels_per_day"] - 1e-9)
        assert st["mean_wait_days"] == 0.5 and st["worst_wait_days"] == 1
    assert week["check"]["applied"] and week["check"]["feasible"], week["check"]
    assert week["weekly"]["delivered_share"] == 1.0
    assert week["daily_service"]["km_per_week"] >= week["weekly"]["km_per_week"] - 1e-6
    assert week["saving_vs_daily"]["km_per_week"] == pytest.approx(
        week["daily_service"]["km_per_week"] - week["weekly"]["km_per_week"], abs=0.2)
    assert sum(d["stations_visited"] for d in week["days"]) == 2 * len(routed)
    routes = pd.read_csv(out / "routes.csv")
    stops = pd.read_csv(out / "stops.csv")
    assert "day" in routes.columns and "day" in stops.columns
    assert set(routes["day"]) <= {0, 1, 2, 3} and len(set(routes["day"])) >= 2
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Weekly plan (visit frequencies)" in html and "Daily service" in html
