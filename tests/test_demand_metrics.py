"""Demand formula and key-figure helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rural_logistics.config import DemandSettings
from rural_logistics.demand import estimate_demand
from rural_logistics.metrics import gini, summarize, weighted_mean, weighted_quantile


def test_parcels_follow_the_documented_formula() -> None:
    settings = DemandSettings(
        parcels_per_capita_per_year=36.5, scenarios={"normal": 1.0, "peak": 5.0},
        produce_multiplier={"peak": 2.0},
    )
    normal = estimate_demand(np.array([1000, 0]), np.array([5.0, 1.0]), settings=settings,
                             scenario="normal")
    assert normal.parcels_per_day.tolist() == pytest.approx([100.0, 0.0])
    assert normal.produce_kg_per_day.tolist() == [5.0, 1.0]
    peak = estimate_demand(np.array([1000, 0]), np.array([5.0, 1.0]), settings=settings,
                           scenario="peak")
    assert peak.parcels_per_day.tolist() == pytest.approx([500.0, 0.0])
    assert peak.produce_kg_per_day.tolist() == [10.0, 2.0]
    assert peak.multiplier == 5.0


def test_weighted_helpers() -> None:
    values = np.array([1.0, 2.0, 10.0])
    weights = np.array([1.0, 1.0, 2.0])
    assert weighted_mean(values, weights) == pytest.approx(23 / 4)
    assert weighted_quantile(values, weights, 0.5) == 2.0
    assert weighted_quantile(values, weights, 0.9) == 10.0


def test_gini_known_values() -> None:
    assert gini(np.array([3.0, 3.0, 3.0])) == pytest.approx(0.0)
    # One of n holds everything: G = (n - 1) / n.
    assert gini(np.array([0.0, 0.0, 0.0, 8.0])) == pytest.approx(0.75)
    # Weights act as repetition counts.
    assert gini(np.array([1.0, 5.0]), np.array([2.0, 1.0])) == pytest.approx(
        gini(np.array([1.0, 1.0, 5.0]))
    )


def test_summary_counts_coverage_by_population() -> None:
    villages = pd.DataFrame(
        {
            "population": [100, 300, 600],
            "parcels_per_day": [1.0, 3.0, 6.0],
            "access_km": [0.5, 2.0, 6.0],
            "access_min": [1.0, 4.0, 12.0],
            "station_id": ["S1", "S1", "S2"],
        }
    )
    # S2 receives 7 whole parcels for a demand of 6.0: 6 count as delivered.
    stations = pd.DataFrame(
        {"parcels_per_day": [4.0, 6.0], "delivered_parcels_per_day": [4, 7]}
    )
    routes = pd.DataFrame(
        {"vehicle_id": ["van-1"], "route_km": [20.0], "route_min": [50.0], "cost": [50.0],
         "load_parcels": [10]}
    )
    s = summarize(region="R", scenario="normal", villages=villages, stations=stations,
                  routes=routes, radius_km=3.0, unserved_village_ids=[])
    assert s["population_within_radius_share"] == 0.4
    assert s["mean_access_km"] == pytest.approx((50 + 600 + 3600) / 1000)
    assert s["max_access_km"] == 6.0
    assert s["villages_beyond_5km"] == 1
    assert s["cost_per_parcel"] == 5.0
    assert s["vehicles_used"] == 1
    assert s["delivered_parcels_per_day"] == 10.0
