"""Honest KPIs: delivered share first, cost over every cost per parcel delivered, a
partial run never compared green on cost, unserved stations and villages drawn as such."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from test_maps import make_plan

from rural_logistics.maps import UNSERVED_COLOR, draw_plan, unserved_station_ids
from rural_logistics.metrics import summarize
from rural_logistics.report.kpis import KPIS, delivers_all


def _figures(delivered: list[float], *, opening: float) -> dict:
    villages = pd.DataFrame({
        "population": [100, 100], "parcels_per_day": [60.0, 40.0], "access_km": [1.0, 2.0],
        "access_min": [2.0, 4.0], "station_id": ["S1", "S2"],
    })
    stations = pd.DataFrame(
        {"parcels_per_day": [60.0, 40.0], "delivered_parcels_per_day": delivered}
    )
    routes = pd.DataFrame({"vehicle_id": ["v1"], "route_km": [10.0], "route_min": [30.0],
                           "cost": [30.0], "load_parcels": [sum(delivered)]})
    return dict(summarize(region="R", scenario="s", villages=villages, stations=stations,
                          routes=routes, radius_km=3.0, unserved_village_ids=[],
                          opening_cost_per_day=opening))


def test_cost_per_parcel_counts_every_cost_per_parcel_delivered() -> None:
    # Routes 30 + stations 20 = 50 a day; 60 of 100 parcels delivered: 50 / 60.
    s = _figures([60.0, 0.0], opening=20.0)
    assert next(iter(s)) == "delivered_share"
    assert s["delivered_share"] == 0.6
    assert s["total_cost_per_day"] == 50.0
    assert s["cost_per_parcel"] == pytest.approx(50.0 / 60.0, abs=1e-4)


def test_partial_run_is_never_green_on_cost() -> None:
    # The partial run is cheaper per parcel (30/60 vs 70/100) but leaves 40 parcels.
    full = {**_figures([60.0, 40.0], opening=40.0), "comparable": True}
    part = {**_figures([60.0, 0.0], opening=0.0), "comparable": False}
    assert part["cost_per_parcel"] < full["cost_per_parcel"]
    kpis = {k.key: k for k in KPIS}
    assert KPIS[0].key == "delivered_share"
    comparable = delivers_all(full) and delivers_all(part)
    assert kpis["cost_per_parcel"].format_delta(
        part["cost_per_parcel"], full["cost_per_parcel"], comparable=comparable
    ) == ("not comparable", "na")
    assert kpis["total_cost_per_day"].format_delta(
        part["total_cost_per_day"], full["total_cost_per_day"], comparable=comparable
    )[1] == "na"
    # Delivered share is compared: the partial run is red.
    assert kpis["delivered_share"].format_delta(
        part["delivered_share"], full["delivered_share"], comparable=comparable
    )[1] == "worse"
    # A run written before `comparable` existed is judged by delivered against demand.
    assert not delivers_all({"delivered_parcels_per_day": 60.0, "parcels_per_day": 100.0})


def test_unserved_stations_and_villages_are_drawn_as_unserved() -> None:
    plan = make_plan()
    stations = plan.stations.copy()
    stations["delivered_parcels_per_day"] = [77.5, 40.0]  # S2 gets 40 of 85 parcels
    short = replace(plan, stations=stations)
    assert unserved_station_ids(short.stations) == {"S2"}
    assert unserved_station_ids(plan.stations) == set()
    # A run's diagnosis decides when there is one (a peak week's last-day backlog is
    # within its promise: not unserved although the week's mean falls short).
    assert unserved_station_ids(short.stations, {"diagnosis": []}) == set()
    assert unserved_station_ids(plan.stations, {"diagnosis": [{"station_id": "S1"}]}) == {"S1"}

    def red_marks(p: object) -> int:
        fig = Figure()
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        draw_plan(ax, p)  # type: ignore[arg-type]
        red = to_rgba(UNSERVED_COLOR)
        n = 0
        for coll in ax.collections:
            edges = [tuple(c) for c in coll.get_edgecolors()]
            faces = [tuple(c) for c in coll.get_facecolors()]
            if red in edges or red in faces:
                n += len(coll.get_offsets())
        return n

    assert red_marks(plan) == 0
    # S2 (outline and cross) and its two villages (rings).
    assert red_marks(short) == 2 + 2
