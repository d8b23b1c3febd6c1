"""Maps: a tiny hand-made plan renders to a valid, non-blank PNG with a stable colour scale."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import matplotlib.image as mpimg
import numpy as np
import pytest
import shapely
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from rural_logistics.maps import (
    access_band_colors,
    access_band_index,
    access_band_labels,
    draw_plan,
    map_extent,
    write_map_png,
)
from rural_logistics.plan import Plan

UTM = "EPSG:32649"
X0, Y0 = 500_000.0, 3_000_000.0


def _pt(x_km: float, y_km: float) -> shapely.Point:
    return shapely.Point(X0 + 1000.0 * x_km, Y0 + 1000.0 * y_km)


def make_plan(*, access_scale: float = 1.0) -> Plan:
    """Six villages (one unassigned), two stations, one depot, two routes, two townships."""
    villages = gpd.GeoDataFrame(
        {
            "village_id": [f"V{k}" for k in range(1, 7)],
            "name": [f"Village {k}" for k in range(1, 7)],
            "township": ["West", "West", "West", "East", "East", "East"],
            "population": [800, 450, 300, 1200, 500, 150],
            "parcels_per_day": [40.0, 22.5, 15.0, 60.0, 25.0, 7.5],
            "produce_kg_per_day": [10.0, 0.0, 5.0, 20.0, 0.0, 0.0],
            "station_id": ["S1", "S1", "S1", "S2", "S2", None],
            "access_km": [0.2, 1.5, 3.2, 0.1, 2.4, np.nan],
            "access_min": np.array([2.0, 14.0, 33.0, 1.0, 24.0, np.nan]) * access_scale,
            "within_radius": [True, True, False, True, True, False],
            "road_distance_m": [50.0, 120.0, 80.0, 40.0, 60.0, 900.0],
        },
        geometry=[_pt(2, 6), _pt(3.5, 7.5), _pt(1, 3), _pt(8, 5), _pt(9.5, 7), _pt(11, 1.5)],
        crs=UTM,
    )
    stations = gpd.GeoDataFrame(
        {
            "station_id": ["S1", "S2"],
            "site_id": ["V1", "V4"],
            "name": ["Village 1 station", "Village 4 station"],
            "township": ["West", "East"],
            "existing": [True, False],
            "villages": [3, 2],
            "population": [1550, 1700],
            "parcels_per_day": [77.5, 85.0],
            "produce_kg_per_day": [15.0, 20.0],
            "visits": [1, 1],
            "delivered_parcels_per_day": [77.5, 85.0],
        },
        geometry=[_pt(2, 6), _pt(8, 5)],
        crs=UTM,
    )
    depots = gpd.GeoDataFrame(
        {"depot_id": ["DC1"], "name": ["County DC"]}, geometry=[_pt(5, 1)], crs=UTM
    )
    routes = gpd.GeoDataFrame(
        {
            "route_id": ["R1", "R2"],
            "vehicle_id": ["van-1", "van-2"],
            "vehicle_type": ["van", "van"],
            "stops": ["S1", "S2"],
            "n_stops": [1, 1],
            "load_parcels": [77.5, 85.0],
            "route_km": [15.0, 13.0],
            "route_min": [40.0, 35.0],
            "cost": [120.0, 110.0],
        },
        geometry=[
            shapely.LineString([_pt(5, 1), _pt(5, 4), _pt(2, 4), _pt(2, 6),
                                _pt(2, 4), _pt(5, 4), _pt(5, 1)]),
            shapely.LineString([_pt(5, 1), _pt(5, 4), _pt(8, 4), _pt(8, 5),
                                _pt(8, 4), _pt(5, 4), _pt(5, 1)]),
        ],
        crs=UTM,
    )
    townships = gpd.GeoDataFrame(
        {"name": ["West", "East"]},
        geometry=[shapely.box(X0, Y0, X0 + 6000, Y0 + 9000),
                  shapely.box(X0 + 6000, Y0, X0 + 12_000, Y0 + 9000)],
        crs=UTM,
    )
    return Plan(
        region="Testshire",
        scenario="normal",
        crs=UTM,
        villages=villages,
        stations=stations,
        depots=depots,
        routes=routes,
        townships=townships,
        summary={"population_within_radius_share": 0.8485, "mean_access_km": 1.02,
                 "mean_access_min": 9.6, "total_route_km": 28.0, "parcels_per_day": 170.0,
                 "unserved_villages": ["V6"]},
        radius_km=3.0,
    )


def _axes() -> tuple[Figure, Axes]:
    fig = Figure(figsize=(6, 5))
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def test_write_map_png_is_a_valid_non_blank_png(tmp_path: Path) -> None:
    path = tmp_path / "map.png"
    write_map_png(make_plan(), path, dpi=60)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(path)
    assert 7 * 60 - 2 <= img.shape[0] <= 10 * 60 + 2
    assert img.shape[1] == pytest.approx(11 * 60, abs=2)
    assert float(img[..., :3].std()) > 0.01


def test_map_extent_known_coordinates() -> None:
    plan = make_plan()
    # Townships span the widest: x 0..12 km, y 0..9 km from the origin.
    assert map_extent(plan, pad_frac=0.0) == pytest.approx((X0, X0 + 12_000, Y0, Y0 + 9000))
    xmin, xmax, ymin, ymax = map_extent(plan, pad_frac=0.1)
    assert (xmin, xmax) == pytest.approx((X0 - 1200, X0 + 13_200))
    assert (ymin, ymax) == pytest.approx((Y0 - 900, Y0 + 9900))
    # Several plans: the union; a plan without townships is smaller on its own.
    far = make_plan()
    far_villages = far.villages.copy()
    far_villages.loc[0, "geometry"] = _pt(20, -5)
    far = replace(far, villages=far_villages, townships=None)
    assert map_extent(plan, far, pad_frac=0.0) == pytest.approx(
        (X0, X0 + 20_000, Y0 - 5000, Y0 + 9000)
    )
    with pytest.raises(ValueError):
        map_extent()


def test_map_extent_single_point_gets_a_kilometre() -> None:
    plan = make_plan()
    lone = replace(plan, villages=plan.villages.iloc[:0], stations=plan.stations.iloc[:0],
                   routes=plan.routes.iloc[:0], townships=None)
    assert map_extent(lone, pad_frac=0.0) == pytest.approx(
        (X0 + 4500, X0 + 5500, Y0 + 500, Y0 + 1500)
    )


def test_draw_plan_uses_the_given_extent_and_scale_bar() -> None:
    _, ax = _axes()
    extent = (X0 - 1000.0, X0 + 14_000.0, Y0 - 2000.0, Y0 + 10_000.0)
    draw_plan(ax, make_plan(), extent=extent, title="Panel")
    assert ax.get_xlim() == pytest.approx(extent[:2])
    assert ax.get_ylim() == pytest.approx(extent[2:])
    texts = {t.get_text() for t in ax.texts}
    assert "2 km" in texts  # 15 km wide → 1/5 is 3 km → round down to 2 km
    assert {"West", "East", "N"} <= texts
    legend = ax.get_legend()
    assert legend is not None
    legend_texts = [t.get_text() for t in legend.get_texts()]
    assert "≥ 60 min" in legend_texts
    assert "unassigned" in legend_texts
    assert any(t.startswith("R1") for t in legend_texts)


def test_band_colours_depend_only_on_the_band_edges() -> None:
    bands = (0, 10, 20, 30, 45, 60)
    colors = access_band_colors(bands)
    assert len(colors) == len(bands) == len(set(colors))
    assert access_band_labels(bands)[0] == "0–10 min"
    assert access_band_labels(bands)[-1] == "≥ 60 min"
    idx = access_band_index([-1.0, 0.0, 9.99, 10.0, 44.0, 60.0, 500.0, np.nan], bands)
    assert idx.tolist() == [0, 0, 0, 1, 3, 5, 5, -1]

    def colours_by_village(plan: Plan) -> list[str]:
        return [colors[b] for b in access_band_index(plan.villages["access_min"], bands) if b >= 0]

    small, large = make_plan(access_scale=1.0), make_plan(access_scale=3.0)
    # Village 2 is in the 10–20 band in the small plan, village 1 (2 → 6 min) stays in 0–10.
    assert colours_by_village(small)[0] == colours_by_village(large)[0] == colors[0]
    assert colours_by_village(small)[1] == colors[1]
    # Same band, same colour, whatever the data range; drawn dots use exactly these colours.
    for plan in (small, large):
        _, ax = _axes()
        draw_plan(ax, plan, access_bands_min=bands, legend=False)
        expected = np.array([to_rgba(c) for c in colours_by_village(plan)])
        drawn = [np.asarray(coll.get_facecolor()) for coll in ax.collections]
        assert any(d.shape == expected.shape and np.allclose(d, expected) for d in drawn)
    assert access_band_colors(bands) == colors
    with pytest.raises(ValueError):
        access_band_colors((10, 5))


def test_empty_routes_and_stations_render(tmp_path: Path) -> None:
    plan = make_plan()
    bare = replace(plan, stations=plan.stations.iloc[:0], routes=plan.routes.iloc[:0],
                   summary={})
    path = tmp_path / "bare.png"
    write_map_png(bare, path, dpi=40)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    nothing = replace(bare, villages=plan.villages.iloc[:0], depots=plan.depots.iloc[:0],
                      townships=None)
    write_map_png(nothing, tmp_path / "nothing.png", dpi=40)
    assert (tmp_path / "nothing.png").stat().st_size > 0
