"""The road network: county roads, township road trees, village spurs, noding."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import minimum_spanning_tree, shortest_path

from rural_logistics.generate.common import XY, FloatArray, IntArray


@dataclass
class Road:
    """A road being built: projected vertices (metres) and its class."""

    coords: list[XY]
    road_class: str


def _as_xy(p: FloatArray | Sequence[float]) -> XY:
    """A coordinate pair as a tuple of Python floats (hashable, comparable exactly)."""
    return (float(p[0]), float(p[1]))


def _wiggly_line(rng: np.random.Generator, a: XY, b: XY, *, amplitude_frac: float) -> list[XY]:
    """A gently wiggling polyline from ``a`` to ``b``, a vertex every 500–1000 m."""
    ax, ay = a
    bx, by = b
    length = math.hypot(bx - ax, by - ay)
    step = rng.uniform(500.0, 1000.0)
    n = max(1, round(length / step))
    if n == 1:
        return [a, b]
    t = np.linspace(0.0, 1.0, n + 1)
    amplitude = min(amplitude_frac * length, 1500.0)
    offset = np.zeros_like(t)
    for k in (1, 2, 3):
        offset += rng.normal(0.0, 1.0 / k) * np.sin(k * math.pi * t)
    offset *= amplitude
    offset[1:-1] += rng.normal(0.0, min(30.0, 0.03 * length), size=n - 1)
    nx, ny = -(by - ay) / length, (bx - ax) / length
    xs = ax + t * (bx - ax) + offset * nx
    ys = ay + t * (by - ay) + offset * ny
    inner = [(float(x), float(y)) for x, y in zip(xs[1:-1], ys[1:-1], strict=True)]
    return [a, *inner, b]


def _mst_edges(xy: FloatArray) -> list[tuple[int, int]]:
    """Euclidean minimum spanning tree edges ``(i, j)``, ``i < j``, sorted."""
    if len(xy) < 2:
        return []
    dist = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    tree = minimum_spanning_tree(csr_matrix(np.triu(dist))).tocoo()
    return sorted((int(min(i, j)), int(max(i, j))) for i, j in zip(tree.row, tree.col, strict=True))


def _add_loops(
    xy: FloatArray,
    edges: list[tuple[int, int]],
    *,
    pairs: Sequence[tuple[int, int]],
    max_new: int,
    min_ratio: float,
    max_length_m: float,
) -> list[tuple[int, int]]:
    """Add up to ``max_new`` of ``pairs`` whose road detour ratio is largest (>= min_ratio)."""
    n = len(xy)
    dist = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    edges = list(edges)
    for _ in range(max_new):
        rows = [i for i, _ in edges] + [j for _, j in edges]
        cols = [j for _, j in edges] + [i for i, _ in edges]
        weights = [dist[i, j] for i, j in edges] * 2
        graph = csr_matrix((weights, (rows, cols)), shape=(n, n))
        path = shortest_path(graph, directed=False)
        best: tuple[float, tuple[int, int]] | None = None
        for i, j in pairs:
            if (i, j) in edges or dist[i, j] > max_length_m or dist[i, j] <= 0.0:
                continue
            ratio = float(path[i, j] / dist[i, j])
            if ratio >= min_ratio and (best is None or ratio > best[0]):
                best = (ratio, (i, j))
        if best is None:
            break
        edges.append(best[1])
    return edges


def county_roads(rng: np.random.Generator, seats: FloatArray) -> list[Road]:
    """County roads: spanning tree of the seats, direct links from the county seat, loops."""
    edges = _mst_edges(seats)
    lengths = [math.dist(seats[i], seats[j]) for i, j in edges]
    n = len(seats)
    edges = _add_loops(
        seats,
        edges,
        pairs=[(0, j) for j in range(1, n)],
        max_new=int(rng.integers(2, 4)),
        min_ratio=1.35,
        max_length_m=1.6 * max(lengths),
    )
    edges = _add_loops(
        seats,
        edges,
        pairs=[(i, j) for i in range(1, n) for j in range(i + 1, n)],
        max_new=2,
        min_ratio=1.8,
        max_length_m=1.3 * float(np.median(lengths)),
    )
    return [
        Road(
            _wiggly_line(
                rng, _as_xy(seats[i]), _as_xy(seats[j]), amplitude_frac=rng.uniform(0.02, 0.05)
            ),
            "county",
        )
        for i, j in edges
    ]


def township_roads(
    rng: np.random.Generator,
    roads: list[Road],
    seats: FloatArray,
    anchors: FloatArray,
    village_town: IntArray,
    population: IntArray,
) -> npt.NDArray[np.bool_]:
    """Township road trees from each seat through its larger villages; returns who is on one."""
    in_tree = np.zeros(len(anchors), dtype=bool)
    for t in range(len(seats)):
        members = np.flatnonzero(village_town == t)
        if len(members) == 0:
            continue
        order = members[np.argsort(-population[members], kind="stable")]
        chosen = np.sort(order[: max(1, math.ceil(0.5 * len(members)))])
        in_tree[chosen] = True
        nodes = np.vstack([seats[t][None, :], anchors[chosen]])
        edges = _mst_edges(nodes)
        if len(nodes) >= 5:
            lengths = [math.dist(nodes[i], nodes[j]) for i, j in edges]
            edges = _add_loops(
                nodes,
                edges,
                pairs=[(i, j) for i in range(len(nodes)) for j in range(i + 1, len(nodes))],
                max_new=int(rng.integers(0, 2)),
                min_ratio=2.0,
                max_length_m=1.5 * max(lengths),
            )
        for i, j in edges:
            roads.append(
                Road(
                    _wiggly_line(
                        rng,
                        _as_xy(nodes[i]),
                        _as_xy(nodes[j]),
                        amplitude_frac=rng.uniform(0.03, 0.07),
                    ),
                    "township",
                )
            )
    return in_tree


def _insert_vertex(coords: list[XY], p: XY) -> None:
    """Insert ``p`` into the polyline ``coords`` on the segment nearest to it."""
    if p in coords:
        return
    arr = np.asarray(coords)
    a, b = arr[:-1], arr[1:]
    ab = b - a
    denom = np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12)
    t = np.clip(np.einsum("ij,ij->i", np.asarray(p) - a, ab) / denom, 0.0, 1.0)
    foot = a + t[:, None] * ab
    k = int(np.argmin(np.hypot(*(foot - np.asarray(p)).T)))
    coords.insert(k + 1, p)


def _nearest_vertex(coords: list[XY], p: XY) -> tuple[XY, float]:
    """The vertex of ``coords`` nearest to ``p`` and its distance, metres."""
    arr = np.asarray(coords)
    d = np.hypot(arr[:, 0] - p[0], arr[:, 1] - p[1])
    k = int(np.argmin(d))
    return coords[k], float(d[k])


def village_spurs(
    rng: np.random.Generator, roads: list[Road], anchors: FloatArray, todo: npt.NDArray[np.bool_]
) -> None:
    """A ``village`` spur from each remaining village to the nearest county/township road."""
    trunk = list(roads)
    lines = [shapely.LineString(r.coords) for r in trunk]
    tree = shapely.STRtree(lines)
    for v in np.flatnonzero(todo):
        start = _as_xy(anchors[v])
        point = shapely.Point(start)
        k = int(tree.query_nearest(point, all_matches=False)[0])
        road = trunk[k]
        foot_geom = lines[k].interpolate(lines[k].project(point))
        foot = (float(foot_geom.x), float(foot_geom.y))
        vertex, d_vertex = _nearest_vertex(road.coords, foot)
        if d_vertex < 25.0:
            foot = vertex
        else:
            _insert_vertex(road.coords, foot)
        if math.dist(start, foot) < 1.0:
            continue
        roads.append(
            Road(_wiggly_line(rng, start, foot, amplitude_frac=rng.uniform(0.02, 0.06)), "village")
        )


def node_crossings(roads: list[Road], *, snap_m: float = 0.5) -> None:
    """Make every point where two roads meet a vertex of both (plane noding)."""
    lines = [shapely.LineString(r.coords) for r in roads]
    tree = shapely.STRtree(lines)
    left, right = tree.query(lines, predicate="intersects")
    for i, j in sorted({(int(a), int(b)) for a, b in zip(left, right, strict=True) if a < b}):
        a = roads[i].coords
        b = roads[j].coords
        meet = shapely.LineString(a).intersection(shapely.LineString(b))
        points = shapely.get_coordinates(meet)
        if meet.geom_type not in ("Point", "MultiPoint"):
            # Overlapping stretches do not happen by construction; node their ends anyway.
            points = shapely.get_coordinates(shapely.get_parts(meet))
        for x, y in points:
            p = (float(x), float(y))
            va, da = _nearest_vertex(a, p)
            vb, db = _nearest_vertex(b, p)
            if da <= snap_m and db <= snap_m and va == vb:
                continue
            shared = va if da <= snap_m else vb if db <= snap_m else p
            _insert_vertex(a, shared)
            _insert_vertex(b, shared)


def village_lanes(
    rng: np.random.Generator,
    roads: list[Road],
    anchors: FloatArray,
    *,
    length_m: tuple[float, float] = (250.0, 700.0),
) -> None:
    """Two crossing ``village`` lanes through each village's road end (its anchor).

    A natural village is a cluster of houses along a few lanes; the lanes cross at the
    anchor, which is a vertex of the road or spur reaching the village, so every lane is
    connected. Lanes that cross other roads are noded by :func:`node_crossings`.
    """
    n = len(anchors)
    half = 0.5 * rng.uniform(*length_m, size=(n, 2))
    first = rng.uniform(0.0, math.pi, size=n)
    second = first + rng.uniform(0.35 * math.pi, 0.65 * math.pi, size=n)
    for v in range(n):
        centre = _as_xy(anchors[v])
        for k, angle in enumerate((first[v], second[v])):
            dx, dy = half[v, k] * math.cos(angle), half[v, k] * math.sin(angle)
            roads.append(
                Road([(centre[0] - dx, centre[1] - dy), centre, (centre[0] + dx, centre[1] + dy)],
                     "village")
            )


def densify(roads: list[Road], *, vertex_spacing_m: float) -> None:
    """Shape points every ``vertex_spacing_m`` or less along every road, as in an
    OpenStreetMap export (existing vertices, and so every junction, are kept exactly)."""
    lines = shapely.segmentize(
        np.array([shapely.LineString(r.coords) for r in roads]), vertex_spacing_m
    )
    for road, line in zip(roads, lines, strict=True):
        coords = shapely.get_coordinates(line)
        road.coords = [road.coords[0], *((float(x), float(y)) for x, y in coords[1:-1]),
                       road.coords[-1]]
