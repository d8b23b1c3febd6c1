"""Networks without roads: straight lines between every pair of points, or a user's matrix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rural_logistics.network import RoadNetwork, SnappedPoints, make_network, node_ids


def build_point_network(
    points: Mapping[str, np.ndarray],
    *,
    circuity: float,
    speed_kph: float,
) -> tuple[RoadNetwork, dict[str, SnappedPoints]]:
    """A network without roads: every pair of points joined by a straight edge.

    The edge between two points is their straight-line distance times ``circuity`` (how
    much longer a road trip is than the straight line), travelled at ``speed_kph``. Points
    at the same place (to 1 cm) share a node, so a site at a village is 0 km from it.

    Parameters
    ----------
    points
        Named ``(n, 2)`` projected coordinate arrays (metres).
    circuity
        Road distance / straight-line distance, ≥ 1.
    speed_kph
        Travel speed on every edge.

    Returns
    -------
    RoadNetwork, dict of str to SnappedPoints
        As :func:`build_road_network`; every point sits on its node (no off-road leg).
    """
    names = list(points)
    all_xy = np.concatenate([np.asarray(points[n], dtype=float).reshape(-1, 2) for n in names])
    node_xy, node_of = node_ids(all_xy)
    n = len(node_xy)
    u, v = np.triu_indices(n, k=1)
    length = np.hypot(*(node_xy[u] - node_xy[v]).T) * float(circuity)
    network = make_network(
        node_xy, u, v, np.full(len(u), float(speed_kph)), np.zeros(len(u), dtype=bool),
        length_m=length,
    )
    return network, _snap_to_nodes(names, points, node_of, all_xy)


def build_matrix_network(
    points: Mapping[str, np.ndarray],
    ids: Mapping[str, Sequence[str]],
    *,
    origin: Sequence[str],
    destination: Sequence[str],
    km: np.ndarray,
    minutes: np.ndarray,
) -> tuple[RoadNetwork, dict[str, SnappedPoints]]:
    """A network from a user's travel matrix: one directed arc per given pair.

    Points with the same id (a candidate site at its village) share a node. Shortest paths
    through the matrix are used, so a pair missing from it is travelled via other points,
    and a pair whose given time exceeds a path through a third point takes that path.

    Parameters
    ----------
    points
        Named ``(n, 2)`` projected coordinate arrays (used for drawing only).
    ids
        The id of every point, by the same names.
    origin, destination, km, minutes
        The matrix rows: from, to, kilometres, minutes (both > 0).

    Returns
    -------
    RoadNetwork, dict of str to SnappedPoints
    """
    names = list(points)
    all_xy = np.concatenate([np.asarray(points[n], dtype=float).reshape(-1, 2) for n in names])
    all_ids = [str(i) for n in names for i in ids[n]]
    node_index: dict[str, int] = {}
    first_xy: list[np.ndarray] = []
    node_of = np.empty(len(all_ids), dtype=np.int64)
    for k, pid in enumerate(all_ids):
        if pid not in node_index:
            node_index[pid] = len(node_index)
            first_xy.append(all_xy[k])
        node_of[k] = node_index[pid]
    node_xy = np.array(first_xy, dtype=float).reshape(-1, 2)
    known = np.array(
        [o in node_index and d in node_index and o != d for o, d in
         zip(origin, destination, strict=True)],
        dtype=bool,
    )
    u = np.array([node_index[o] for o, ok in zip(origin, known, strict=True) if ok], np.int64)
    v = np.array([node_index[d] for d, ok in zip(destination, known, strict=True) if ok],
                 np.int64)
    length_m = np.asarray(km, dtype=float)[known] * 1000.0
    time_s = np.asarray(minutes, dtype=float)[known] * 60.0
    network = make_network(
        node_xy, u, v, length_m / time_s * 3.6, np.zeros(len(u), dtype=bool),
        oneway=np.ones(len(u), dtype=bool), length_m=length_m,
    )
    return network, _snap_to_nodes(names, points, node_of, all_xy)


def _snap_to_nodes(
    names: list[str], points: Mapping[str, np.ndarray], node_of: np.ndarray, all_xy: np.ndarray
) -> dict[str, SnappedPoints]:
    snapped: dict[str, SnappedPoints] = {}
    offset = 0
    for name in names:
        n = len(np.asarray(points[name]).reshape(-1, 2))
        sl = slice(offset, offset + n)
        snapped[name] = SnappedPoints(node=node_of[sl], offroad_m=np.zeros(n), xy=all_xy[sl])
        offset += n
    return snapped
