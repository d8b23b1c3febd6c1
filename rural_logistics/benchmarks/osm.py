"""OSM road km: our matrices against an independent networkx shortest path on the same ways.

For every OpenStreetMap extract in ``--data`` (``.osm.pbf``, ``.pbf``, ``.osm``, ``.osm.gz``,
``.osm.bz2``): the drivable roads and place nodes are read (:mod:`rural_logistics.osm`),
``--pairs`` village pairs are drawn with ``--seed`` among the villages the network connects,
and for each pair the fastest-path kilometres and minutes of
:func:`rural_logistics.network.travel_matrices` (vehicle legs: no off-road stretch) are
compared with a networkx Dijkstra on a graph built here independently from the same lines
(each village's foot point inserted into its nearest line with shapely's ``project``, one
arc per vertex pair, one direction for one-way lines). Target: every pair within 1 %.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from rural_logistics import network as net
from rural_logistics.benchmarks.common import BenchmarkTable, select_instances
from rural_logistics.errors import InputDataError
from rural_logistics.osm import OSM_SPEED_KPH, is_osm_file, read_osm

COLUMNS = ("instance", "origin", "destination", "km", "nx_km", "diff_pct", "min", "nx_min",
           "oneway_lines", "seconds")
TARGET_PCT = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``benchmark osm``."""
    parser.add_argument("--pairs", type=int, default=5, help="village pairs per extract")
    parser.add_argument("--seed", type=int, default=0, help="seed of the pair draw")


def independent_km(
    lines: np.ndarray, speeds: np.ndarray, oneway: np.ndarray, points: np.ndarray,
    pairs: list[tuple[int, int]],
) -> list[tuple[float, float]]:
    """(km, min) of the fastest path between point pairs, by networkx on the lines.

    Each point joins the road at the foot of its perpendicular on the nearest line; lines
    connect where they share a vertex (to 1 cm), one-way lines run in vertex order.
    """
    tree = shapely.STRtree(lines)
    nearest = tree.nearest(shapely.points(points))
    inserts: dict[int, list[tuple[float, tuple[float, float]]]] = {}
    foot_key: list[tuple[int, int]] = []
    for k, (x, y) in enumerate(points):
        line = lines[int(nearest[k])]
        along = float(line.project(shapely.Point(x, y)))
        foot = line.interpolate(along)
        inserts.setdefault(int(nearest[k]), []).append((along, (foot.x, foot.y)))
        foot_key.append((round(foot.x * 100), round(foot.y * 100)))
    graph = nx.DiGraph()
    for k, line in enumerate(lines):
        coords = [tuple(c) for c in shapely.get_coordinates(line)]
        if k in inserts:
            cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(np.array(coords), axis=0).T))])
            extra = [(d, xy) for d, xy in inserts[k]]
            merged = sorted([(float(c), xy) for c, xy in zip(cum, coords, strict=True)] + extra,
                            key=lambda item: item[0])
            coords = [xy for _, xy in merged]
        for a, b in itertools.pairwise(coords):
            ka, kb = (round(a[0] * 100), round(a[1] * 100)), (round(b[0] * 100), round(b[1] * 100))
            if ka == kb:
                continue
            length = float(np.hypot(b[0] - a[0], b[1] - a[1]))
            seconds = length / (float(speeds[k]) / 3.6)
            arcs = [(ka, kb)] if oneway[k] else [(ka, kb), (kb, ka)]
            for u, v in arcs:
                old = graph.get_edge_data(u, v)
                if old is None or seconds < old["time"]:
                    graph.add_edge(u, v, time=seconds, length=length)
    out = []
    for origin, target in pairs:
        path = nx.dijkstra_path(graph, foot_key[origin], foot_key[target], weight="time")
        length = sum(graph[u][v]["length"] for u, v in itertools.pairwise(path))
        seconds = sum(graph[u][v]["time"] for u, v in itertools.pairwise(path))
        out.append((length / 1000.0, seconds / 60.0))
    return out


def compare_extract(path: Path, *, pairs: int, seed: int) -> list[dict[str, Any]]:
    """Rows of one extract (see the module docstring)."""
    start = time.perf_counter()
    layers = read_osm(path, speeds=OSM_SPEED_KPH)
    roads = layers.roads.roads
    places = layers.places
    if roads.empty or len(places) < 2:
        raise InputDataError(f"{path}: needs drivable roads and at least 2 place nodes")
    crs = gpd.GeoSeries(places.geometry, crs="EPSG:4326").estimate_utm_crs()
    lines = roads.to_crs(crs).geometry.to_numpy()
    xy = shapely.get_coordinates(places.to_crs(crs).geometry.to_numpy())
    speeds = roads["speed_kph"].to_numpy(dtype=float)
    oneway = roads["oneway"].to_numpy(dtype=bool)
    graph, snapped = net.build_road_network(lines, speeds, points={"v": xy}, oneway=oneway)
    ours = net.travel_matrices(graph, snapped["v"], snapped["v"], offroad_speed_kph=5.0,
                               include_offroad=False)
    rng = np.random.default_rng(seed)
    candidates = [(a, b) for a in range(len(xy)) for b in range(len(xy))
                  if a != b and np.isfinite(ours.distance_km[a, b])
                  and ours.distance_km[a, b] > 0.5]
    if not candidates:
        raise InputDataError(f"{path}: no two villages connected by road")
    chosen = [candidates[int(i)] for i in
              rng.choice(len(candidates), size=min(pairs, len(candidates)), replace=False)]
    theirs = independent_km(lines, speeds, oneway, xy, chosen)
    ids = [f"N{o}" for o in places["osm_id"]]
    seconds = time.perf_counter() - start
    rows = []
    for (a, b), (km, minutes) in zip(chosen, theirs, strict=True):
        ours_km = float(ours.distance_km[a, b])
        rows.append({
            "instance": path.name, "origin": ids[a], "destination": ids[b],
            "km": round(ours_km, 4), "nx_km": round(km, 4),
            "diff_pct": round(100.0 * (ours_km - km) / km, 4) + 0.0,  # no "-0"
            "min": round(float(ours.time_min[a, b]), 3), "nx_min": round(minutes, 3),
            "oneway_lines": int(oneway.sum()), "seconds": round(seconds, 2),
        })
    return rows


def run(args: argparse.Namespace, *, on_row: Callable[[dict[str, Any]], None]) -> BenchmarkTable:
    """Compare every extract in ``args.data``."""
    folder: Path = args.data
    if not folder.is_dir():
        raise InputDataError(f"{folder}: not a folder of OpenStreetMap extracts")
    available = sorted(p.name for p in folder.iterdir() if is_osm_file(p))
    if not available:
        raise InputDataError(f"{folder}: no .osm.pbf, .pbf, .osm, .osm.gz or .osm.bz2 file")
    rows: list[dict[str, Any]] = []
    for name in select_instances(available, args.instances, source=folder):
        for row in compare_extract(folder / name, pairs=args.pairs, seed=args.seed):
            on_row(row)
            rows.append(row)
    worst = max(abs(r["diff_pct"]) for r in rows)
    within = sum(abs(r["diff_pct"]) <= TARGET_PCT for r in rows)
    return BenchmarkTable(
        name="osm", columns=COLUMNS, rows=rows,
        summary=[f"{within}/{len(rows)} pairs within {TARGET_PCT:g} % of networkx "
                 f"(largest difference {worst:.4f} %)"],
    )
