"""Property tests (hypothesis): travel matrices, assignments, routes, and bad inputs.

The default run is short and derandomized (a few examples per property, the same every
time). For a long randomized run set ``RL_HYPOTHESIS=thorough``:

    RL_HYPOTHESIS=thorough python -m pytest -q tests/test_properties.py

which runs a few thousand generated bad inputs and hundreds of the other properties.
"""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rural_logistics import network as net
from rural_logistics.cli import main
from rural_logistics.placement import solve_p_median
from rural_logistics.routing import RoutingProblem, VehicleSpec, solve_vrp
from rural_logistics.solvers.budget import Budget

THOROUGH = os.environ.get("RL_HYPOTHESIS", "") == "thorough"
BASE = Path(__file__).resolve().parent / "data" / "bad" / "_base"


def examples(quick: int, thorough: int) -> Callable[[Any], Any]:
    """Settings: ``quick`` derandomized examples by default, ``thorough`` when asked."""
    return settings(
        max_examples=thorough if THOROUGH else quick,
        derandomize=not THOROUGH,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much],
        database=None,
    )


# --- travel matrices on random small road graphs ------------------------------------------

@st.composite
def road_graphs(draw: st.DrawFn) -> tuple[list[shapely.LineString], np.ndarray, np.ndarray]:
    """Random roads between random nodes (metres), random speeds, random points to snap."""
    n_nodes = draw(st.integers(2, 9))
    coord = st.integers(0, 20).map(lambda v: 250.0 * v)
    nodes = draw(st.lists(st.tuples(coord, coord), min_size=n_nodes, max_size=n_nodes,
                          unique=True))
    pairs = st.tuples(st.integers(0, n_nodes - 1), st.integers(0, n_nodes - 1)).filter(
        lambda p: p[0] != p[1])
    edges = draw(st.lists(pairs, min_size=1, max_size=14))
    lines = [shapely.LineString([nodes[a], nodes[b]]) for a, b in edges]
    speeds = np.array(draw(st.lists(st.sampled_from([5.0, 25.0, 35.0, 50.0, 70.0]),
                                    min_size=len(lines), max_size=len(lines))))
    n_points = draw(st.integers(1, 7))
    pts = draw(st.lists(st.tuples(st.floats(-500, 5500), st.floats(-500, 5500)),
                        min_size=n_points, max_size=n_points))
    return lines, speeds, np.array(pts, dtype=float)


@examples(quick=25, thorough=500)
@given(road_graphs())
def test_travel_matrices_are_metric(graph: tuple[list, np.ndarray, np.ndarray]) -> None:
    lines, speeds, points = graph
    network, snapped = net.build_road_network(lines, speeds, points={"p": points})
    pts = snapped["p"]
    road = net.travel_matrices(network, pts, pts, offroad_speed_kph=5.0, include_offroad=False)
    t, d = road.time_min, road.distance_km
    assert np.all(np.diag(t) == 0) and np.all(np.diag(d) == 0)
    assert np.all(t >= 0) and np.all(d >= 0)
    assert np.allclose(t, t.T, equal_nan=True, rtol=1e-9, atol=1e-9)
    finite = np.isfinite(t)
    assert np.array_equal(finite, np.isfinite(d))
    # Triangle inequality on the minimised quantity (time); distance is the length of the
    # fastest path, so it is at least the straight line between the two road points.
    n = len(t)
    for j in range(n):
        via = t[:, j : j + 1] + t[j : j + 1, :]
        assert np.all(t <= via + 1e-9)
    xy = network.node_xy[pts.node]
    straight_km = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / 1000
    assert np.all(d[finite] >= straight_km[finite] - 1e-9)
    # With the off-road legs: the road figures plus both legs, never negative.
    full = net.travel_matrices(network, pts, pts, offroad_speed_kph=5.0)
    legs_km = (pts.offroad_m[:, None] + pts.offroad_m[None, :]) / 1000
    assert np.allclose(full.distance_km[finite], (d + legs_km)[finite])


# --- assignments ---------------------------------------------------------------------------

@st.composite
def placement_instances(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    n_clients = draw(st.integers(1, 9))
    n_sites = draw(st.integers(1, 7))
    cost = np.array(draw(st.lists(st.floats(0, 100, allow_nan=False), min_size=n_clients *
                                  n_sites, max_size=n_clients * n_sites)))
    cost = cost.reshape(n_clients, n_sites)
    weights = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 3.5, 100.0]),
                                     min_size=n_clients, max_size=n_clients)))
    p = draw(st.integers(1, n_sites))
    return cost, weights, p


@examples(quick=20, thorough=400)
@given(placement_instances())
def test_every_village_with_demand_goes_to_exactly_one_open_station(
    instance: tuple[np.ndarray, np.ndarray, int],
) -> None:
    cost, weights, p = instance
    result = solve_p_median(cost, weights, p=p, time_limit_s=2.0)
    open_sites = set(int(s) for s in result.open_sites)
    assert len(open_sites) == p == len(result.open_sites)
    assert len(result.assignment) == len(weights)
    for client, site in enumerate(result.assignment):
        if weights[client] > 0:
            assert int(site) in open_sites  # one station, an open one
            # ... the nearest open one (no capacity in the p-median).
            assert cost[client, int(site)] <= min(cost[client, s] for s in open_sites) + 1e-9
    served = sum(weights[c] * cost[c, int(s)] for c, s in enumerate(result.assignment)
                 if weights[c] > 0)
    assert math.isclose(served, result.objective, rel_tol=1e-6, abs_tol=1e-6)


# --- routes --------------------------------------------------------------------------------

@st.composite
def routing_instances(draw: st.DrawFn) -> RoutingProblem:
    n = draw(st.integers(1, 6))
    xy = np.array(draw(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)),
                                min_size=n + 1, max_size=n + 1)), dtype=float)
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    loads = draw(st.lists(st.integers(1, 60), min_size=n, max_size=n))
    capacity = draw(st.integers(20, 100))
    vehicles = tuple(
        VehicleSpec(type_name="van", capacity_parcels=capacity, cost_per_km=1.0,
                    fixed_cost_per_day=10.0, speed_factor=1.0,
                    max_route_duration_min=float(draw(st.integers(30, 300))),
                    service_time_min=float(draw(st.integers(0, 10))),
                    max_trips=draw(st.integers(1, 2)))
        for _ in range(draw(st.integers(1, 3)))
    )
    return RoutingProblem(distance_km=d, time_min=d, parcels_per_day=np.array([0.0, *loads]),
                          vehicles=vehicles)


@examples(quick=8, thorough=200)
@given(routing_instances())
def test_routes_visit_each_stop_once_within_capacity_and_shift(problem: RoutingProblem) -> None:
    result = solve_vrp(problem, engine="pyvrp", budget=Budget.of(5.0, iteration_limit=200),
                       seed=1, workers=1)
    assert not [n for n in result.notes if n.startswith("check failed")]
    delivered = np.zeros(problem.n_nodes)
    for route in result.routes:
        vehicle = problem.vehicles[route.vehicle]
        trips = route.trips or (route.stops,)
        assert len(trips) <= vehicle.max_trips
        position = 0
        for trip in trips:
            assert len(set(trip)) == len(trip)  # each stop once per trip
            trip_load = sum(route.loads[position : position + len(trip)])
            assert trip_load <= vehicle.capacity_parcels
            position += len(trip)
        assert route.duration_min <= vehicle.max_route_duration_min + 1e-6
        for stop, load in zip(route.stops, route.loads, strict=True):
            delivered[stop] += load
    unserved = {node for node, _ in result.unserved}
    assert len(result.unserved_reasons) == len(result.unserved)
    for node in range(1, problem.n_nodes):
        need = problem.parcels_per_day[node]
        if node in unserved:
            assert delivered[node] < need
        else:
            assert delivered[node] == need  # served exactly once in total


# --- bad configs and data never crash --------------------------------------------------------

JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-10**30, 10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.lists(st.integers(-5, 5), max_size=3), st.dictionaries(st.text(max_size=5),
                                                               st.integers(), max_size=2),
)
CONFIG_KEYS = [
    ("region", "name"), ("region", "crs"), ("data", "villages"), ("data", "roads"),
    ("data", "depots"), ("data", "lon_column"), ("network", "default_speed_kph"),
    ("network", "max_offroad_m"), ("network", "disconnected"), ("network", "offroad_speed_kph"),
    ("demand", "parcels_per_capita_per_year"), ("demand", "scenarios"), ("scenario",),
    ("placement", "stations"), ("placement", "radius_km"), ("placement", "method"),
    ("placement", "opening_cost_per_day"), ("fleet", "vehicles"), ("routing", "engine"),
    ("routing", "parcel_kg"), ("routing", "station_hours_min"), ("solver", "time_limit_s"),
    ("solver", "seed"), ("unknown",), ("placement", "unknown"),
]
VEHICLE_KEYS = ["name", "capacity_parcels", "count", "speed_factor", "cost_per_km",
                "fixed_cost_per_day", "max_route_duration_min", "capacity_kg", "depot",
                "max_trips", "shift_start_min"]
CELL = st.one_of(
    st.sampled_from(["", "nan", "inf", "-inf", "1e308", "-1", "0", "1e15", "abc", "V1",
                     "1,5", '"', "NULL", "113.5", "27.0", "95", "-200", " 12 "]),
    st.integers(-10**20, 10**20).map(str), st.floats(allow_nan=True).map(repr),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6),
)
LAYER_TEXT = st.sampled_from([
    "", "{}", "[]", "not json", '{"type": "FeatureCollection", "features": []}',
    '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
    '{"id": "DC1"}, "geometry": {"type": "Point", "coordinates": [1e308, -1e308]}}]}',
    '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
    '{"id": null}, "geometry": {"type": "LineString", "coordinates": [[0, 0]]}}]}',
    '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
    '"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], '
    "[0, 0]]]}}]}",
])


@st.composite
def bad_regions(draw: st.DrawFn) -> dict[str, Any]:
    """A mutated copy of the good tiny region: config values, CSV cells, layer files."""
    config: dict[str, Any] = yaml.safe_load((BASE / "region.yaml").read_text(encoding="utf-8"))
    for path in draw(st.lists(st.sampled_from(CONFIG_KEYS), max_size=3, unique=True)):
        node = config
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        if draw(st.booleans()):
            node.pop(path[-1], None)
        else:
            node[path[-1]] = draw(JUNK)
    vehicle = config.get("fleet", {}).get("vehicles")
    if isinstance(vehicle, list) and vehicle and isinstance(vehicle[0], dict):
        for key in draw(st.lists(st.sampled_from(VEHICLE_KEYS), max_size=2, unique=True)):
            vehicle[0][key] = draw(JUNK)
    rows = [line.split(",") for line in
            (BASE / "villages.csv").read_text(encoding="utf-8").splitlines()]
    for _ in range(draw(st.integers(0, 4))):
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(rows[0]) - 1))
        rows[r][c] = draw(CELL)
    if draw(st.booleans()):
        rows.append(list(rows[draw(st.integers(1, len(rows) - 1))]))  # a duplicate row
    files = {"villages.csv": "\n".join(",".join(r) for r in rows) + "\n"}
    for name in ("roads.geojson", "depots.geojson"):
        if draw(st.integers(0, 4)) == 0:
            files[name] = draw(LAYER_TEXT)
    raw_yaml = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    if draw(st.integers(0, 9)) == 0:  # break the YAML itself
        cut = draw(st.integers(0, len(raw_yaml)))
        raw_yaml = raw_yaml[:cut] + draw(st.sampled_from(["{", "]", ": :", "\t", "\x00",
                                                           "- [", "&a *b"]))
    return {"yaml": raw_yaml, "files": files}


def write_region(folder: Path, region: dict[str, Any]) -> Path:
    for name in ("villages.csv", "roads.geojson", "depots.geojson"):
        text = region["files"].get(name)
        if text is None:
            shutil.copy(BASE / name, folder / name)
        else:
            (folder / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    path = folder / "region.yaml"
    path.write_text(region["yaml"], encoding="utf-8", errors="surrogatepass")
    return path


def assert_clean(code: int, err: str) -> None:
    assert code in (0, 2), err
    assert "Traceback" not in err
    for line in err.splitlines():
        assert line.startswith(("error: ", "warning: ", "  ")), line
    if code == 2:
        assert any(line.startswith("error: ") for line in err.splitlines())


@examples(quick=30, thorough=3000)
@given(bad_regions())
def test_bad_configs_and_data_never_crash_validate(region: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_region(Path(tmp), region)
        err = io.StringIO()
        code = main(["validate", str(path)], stdout=io.StringIO(), stderr=err)
    assert_clean(code, err.getvalue())


@st.composite
def extreme_but_valid(draw: st.DrawFn) -> dict[str, Any]:
    """Configs at the edges of what validation accepts: they must solve or refuse cleanly."""
    config: dict[str, Any] = yaml.safe_load((BASE / "region.yaml").read_text(encoding="utf-8"))
    big = st.sampled_from
    config["demand"] = {"parcels_per_capita_per_year": draw(big([0.001, 1.0, 25.0, 10_000.0]))}
    config["fleet"]["vehicles"][0].update({
        "capacity_parcels": draw(big([1, 7, 500, 1_000_000])),
        "count": draw(big([1, 3, 50])),
        "cost_per_km": draw(big([0.0, 0.001, 1.0, 1e9])),
        "fixed_cost_per_day": draw(big([0.0, 1e9])),
        "max_route_duration_min": draw(big([0.001, 60.0, 1440.0])),
        "service_time_min": draw(big([0.0, 1440.0])),
        "speed_factor": draw(big([0.001, 1.0, 10.0])),
    })
    config["routing"] = {"unserved_penalty_per_parcel": draw(big([0.001, 1e6])),
                         "engine": draw(big(["pyvrp", "ortools"])), "workers": 1}
    config["placement"] = {"stations": draw(big([1, 2, 9])),
                           "radius_km": draw(big([1e-6, 1.0, 1e6]))}
    config["network"] = {"default_speed_kph": draw(big([0.5, 300.0])),
                         "offroad_speed_kph": draw(big([0.5, 300.0]))}
    config["solver"] = {"time_limit_s": 0.2, "seed": draw(big([0, 2**31 - 1]))}
    population = draw(big([0, 1, 10_000_000]))
    rows = (BASE / "villages.csv").read_text(encoding="utf-8").splitlines()
    rows = [rows[0]] + [",".join([*r.split(",")[:2], str(population if k else 1),
                                  *r.split(",")[3:]]) for k, r in enumerate(rows[1:])]
    return {"yaml": yaml.safe_dump(config, sort_keys=False), "files": {
        "villages.csv": "\n".join(rows) + "\n"}}


@examples(quick=4, thorough=150)
@given(extreme_but_valid())
def test_extreme_valid_numbers_solve_or_refuse_cleanly(region: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_region(Path(tmp), region)
        err = io.StringIO()
        out_dir = Path(tmp) / "run"
        code = main(["solve", str(path), "--out", str(out_dir), "-q", "--no-map"],
                    stdout=io.StringIO(), stderr=err)
        if code == 0:
            summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
            assert summary["status"] in ("feasible", "time_limit", "partial", "infeasible")
    assert_clean(code, err.getvalue())
