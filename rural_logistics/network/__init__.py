"""Roads → graph → travel-distance/time matrices.

Roads are LineStrings; lines connect where they share a vertex (coordinates equal to
1 cm), as in OpenStreetMap and most road exports. Every point of interest (village,
candidate site, depot) is snapped onto the nearest road *edge*: the edge is split at the
foot of the perpendicular, and the straight stretch between the point and the road is an
off-road access leg travelled at ``offroad_speed_kph``.

Shortest paths use multi-source Dijkstra from :mod:`scipy.sparse.csgraph` on travel time;
distances are the lengths of those fastest paths, so a route's kilometres always match the
road geometry drawn for it.

One-way roads (``oneway`` per line: travel only in the direction of the line's vertices)
make the graph directed: every matrix row is then the travel *from* its origin, and
``matrix[a, b]`` may differ from ``matrix[b, a]``. Without one-way roads the graph is
undirected, as before.

Without road data (``network.mode: straight_line`` or ``matrix``),
:func:`rural_logistics.network.points.build_point_network` joins every pair of points
directly: straight-line distance times a circuity factor, or the kilometres and minutes
of a user's travel matrix (:mod:`rural_logistics.network.points`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from rural_logistics.network.chains import (
    ContractedGraph,
    contract_chains,
    contracted_travel,
    tree_lengths,
)

#: From this many nodes on, two-way graphs are searched chain-contracted
#: (:func:`many_source_travel`); smaller ones on the whole graph. Both give the same matrices.
CONTRACT_MIN_NODES = 20_000
_KEY_SCALE = 100.0  # vertices equal to 1 cm are the same node
_NO_PRED = -9999  # scipy's marker for "no predecessor"


@dataclass(frozen=True)
class RoadNetwork:
    """A road graph with split edges at every snapped point.

    Attributes
    ----------
    node_xy
        ``(N, 2)`` projected coordinates of the nodes, metres.
    edge_u, edge_v
        Endpoints of each edge: ``u < v`` for two-way edges; for one-way edges the
        direction of travel, ``u → v``. Parallel edges are removed (the fastest kept per
        pair and direction).
    length_m, travel_time_s, speed_kph
        Per edge.
    connector
        Per edge: ``True`` for access links added to join disconnected road components.
    oneway
        Per edge: ``True`` where the edge can only be travelled from ``edge_u`` to
        ``edge_v``; ``None`` when every edge is two-way.
    """

    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    length_m: np.ndarray
    travel_time_s: np.ndarray
    speed_kph: np.ndarray
    connector: np.ndarray
    oneway: np.ndarray | None = None

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_xy.shape[0])

    @property
    def directed(self) -> bool:
        """Whether some edge is one-way (then travel from a to b may differ from b to a)."""
        return self.oneway is not None and bool(np.any(self.oneway))

    def arcs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Directed arcs ``(tail, head, travel_time_s, length_m)``: both directions of every
        two-way edge, the one direction of a one-way edge; per (tail, head) the fastest."""
        two_way = (
            np.ones(len(self.edge_u), dtype=bool) if self.oneway is None else ~self.oneway
        )
        tail = np.concatenate([self.edge_u, self.edge_v[two_way]])
        head = np.concatenate([self.edge_v, self.edge_u[two_way]])
        time_s = np.concatenate([self.travel_time_s, self.travel_time_s[two_way]])
        length = np.concatenate([self.length_m, self.length_m[two_way]])
        if self.directed:
            order = np.lexsort((time_s, head, tail))
            tail, head, time_s, length = tail[order], head[order], time_s[order], length[order]
            first = np.ones(len(tail), dtype=bool)
            first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
            tail, head, time_s, length = tail[first], head[first], time_s[first], length[first]
        return tail, head, time_s, length

    def matrix(self, weight: str) -> sparse.csr_matrix:
        """Sparse adjacency (row = from) with ``weight`` (``"travel_time_s"`` or
        ``"length_m"``); symmetric unless some edge is one-way."""
        tail, head, time_s, length = self.arcs()
        data = time_s if weight == "travel_time_s" else length
        if weight not in ("travel_time_s", "length_m"):
            raise ValueError(f"unknown weight {weight!r}")
        n = self.n_nodes
        return sparse.csr_matrix((data, (tail, head)), shape=(n, n))

    def components(self) -> np.ndarray:
        """Connected-component label of every node (weakly connected with one-way edges)."""
        _, labels = csgraph.connected_components(
            self.matrix("length_m"), directed=self.directed, connection="weak"
        )
        return np.asarray(labels)

    def reachable_both_ways(self, node: int) -> np.ndarray:
        """Per node: can it be reached from ``node`` *and* can ``node`` be reached from it."""
        graph = self.matrix("length_m")
        out = np.isfinite(
            csgraph.dijkstra(graph, directed=True, indices=[int(node)], unweighted=True)[0]
        )
        back = np.isfinite(
            csgraph.dijkstra(graph.T.tocsr(), directed=True, indices=[int(node)],
                             unweighted=True)[0]
        )
        return np.asarray(out & back)


@dataclass(frozen=True)
class SnappedPoints:
    """Where a set of points joins the road network.

    Attributes
    ----------
    node
        Graph node of the foot point on the road.
    offroad_m
        Straight-line distance from the point to the road, metres.
    xy
        The original point coordinates.
    """

    node: np.ndarray
    offroad_m: np.ndarray
    xy: np.ndarray


@dataclass(frozen=True)
class TravelMatrices:
    """Travel between two sets of points along fastest paths.

    Attributes
    ----------
    time_min
        ``(n_from, n_to)`` minutes, ``inf`` where unreachable.
    distance_km
        ``(n_from, n_to)`` kilometres along the same paths.
    """

    time_min: np.ndarray
    distance_km: np.ndarray


def _segments(
    lines: Sequence[shapely.Geometry], speeds_kph: np.ndarray, oneway: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Consecutive vertex pairs of every line: (start xy, end xy, speed, one-way)."""
    coords, line_index = shapely.get_coordinates(np.asarray(lines), return_index=True)
    same_line = line_index[1:] == line_index[:-1]
    start = coords[:-1][same_line]
    end = coords[1:][same_line]
    speed = np.asarray(speeds_kph, dtype=float)[line_index[:-1][same_line]]
    one = np.asarray(oneway, dtype=bool)[line_index[:-1][same_line]]
    keep = np.any(start != end, axis=1)
    return start[keep], end[keep], speed[keep], one[keep]


def node_ids(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Merge coordinates equal to 1 cm; return (unique node xy, index per input row)."""
    keys = np.round(xy * _KEY_SCALE).astype(np.int64)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    return xy[first], inverse.ravel()


def build_road_network(
    lines: Sequence[shapely.Geometry],
    speeds_kph: np.ndarray,
    *,
    points: Mapping[str, np.ndarray],
    oneway: np.ndarray | None = None,
) -> tuple[RoadNetwork, dict[str, SnappedPoints]]:
    """Build the road graph and snap points of interest onto its edges.

    Parameters
    ----------
    lines
        Road LineStrings in a projected CRS (metres).
    speeds_kph
        Speed of each line.
    points
        Named ``(n, 2)`` coordinate arrays to snap (e.g. ``villages``, ``sites``, ``depots``).
    oneway
        Per line: ``True`` if it may only be travelled in the order of its vertices.
        Default: every line two-way.

    Returns
    -------
    RoadNetwork
        The graph, with an extra node at each snapped foot point.
    dict of str to SnappedPoints
        Snap result for each named point set.

    Raises
    ------
    ValueError
        If there are no usable road segments.
    """
    one_line = np.zeros(len(lines), dtype=bool) if oneway is None else np.asarray(oneway, bool)
    start, end, speed, one = _segments(lines, speeds_kph, one_line)
    if len(start) == 0:
        raise ValueError("the road layer has no usable line segments")
    segs = shapely.linestrings(np.stack([start, end], axis=1))
    tree = shapely.STRtree(segs)

    names = list(points)
    all_xy = (
        np.concatenate([np.asarray(points[n], dtype=float).reshape(-1, 2) for n in names])
        if names
        else np.empty((0, 2))
    )
    seg_of_point = np.empty(len(all_xy), dtype=np.int64)
    if len(all_xy):
        pts = shapely.points(all_xy)
        pairs, _ = tree.query_nearest(pts, return_distance=True, all_matches=False)
        seg_of_point[pairs[0]] = pairs[1]
    # Foot of the perpendicular, as a fraction t along the segment.
    d = end[seg_of_point] - start[seg_of_point]
    seg_len_sq = np.einsum("ij,ij->i", d, d)
    t = np.einsum("ij,ij->i", all_xy - start[seg_of_point], d) / np.where(
        seg_len_sq > 0, seg_len_sq, 1.0
    )
    t = np.clip(t, 0.0, 1.0)
    foot = start[seg_of_point] + t[:, None] * d
    offroad_m = np.hypot(*(all_xy - foot).T)

    # Split segments at feet: each segment becomes a chain start → feet (by t) → end.
    order = np.lexsort((t, seg_of_point))
    split_segs = np.unique(seg_of_point)
    untouched = np.ones(len(start), dtype=bool)
    untouched[split_segs] = False
    # Untouched segments as they are.
    pair_start = [start[untouched]]
    pair_end = [end[untouched]]
    pair_speed = [speed[untouched]]
    pair_one = [one[untouched]]
    if len(order):
        sorted_seg = seg_of_point[order]
        bounds = np.flatnonzero(np.diff(sorted_seg)) + 1
        for group in np.split(order, bounds):
            s = seg_of_point[group[0]]
            chain = np.vstack([start[s], foot[group], end[s]])
            pair_start.append(chain[:-1])
            pair_end.append(chain[1:])
            pair_speed.append(np.full(len(chain) - 1, speed[s]))
            pair_one.append(np.full(len(chain) - 1, one[s]))
    p_start = np.concatenate(pair_start)
    p_end = np.concatenate(pair_end)
    p_speed = np.concatenate(pair_speed)
    p_one = np.concatenate(pair_one)

    node_xy, inverse = node_ids(np.vstack([p_start, p_end, foot]))
    n_pairs = len(p_start)
    u = inverse[:n_pairs]
    v = inverse[n_pairs : 2 * n_pairs]
    foot_node = inverse[2 * n_pairs :]
    network = make_network(
        node_xy, u, v, p_speed, np.zeros(len(u), dtype=bool), oneway=p_one if p_one.any() else None
    )

    snapped: dict[str, SnappedPoints] = {}
    offset = 0
    for name in names:
        n = len(np.asarray(points[name]).reshape(-1, 2))
        sl = slice(offset, offset + n)
        snapped[name] = SnappedPoints(
            node=foot_node[sl], offroad_m=offroad_m[sl], xy=all_xy[sl]
        )
        offset += n
    return network, snapped


def make_network(
    node_xy: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    speed_kph: np.ndarray,
    connector: np.ndarray,
    *,
    oneway: np.ndarray | None = None,
    length_m: np.ndarray | None = None,
) -> RoadNetwork:
    length = np.hypot(*(node_xy[u] - node_xy[v]).T) if length_m is None else length_m
    one = np.zeros(len(u), dtype=bool) if oneway is None else np.asarray(oneway, dtype=bool)
    keep = (u != v) & (length > 0)
    u, v, length, speed_kph, connector, one = (
        u[keep], v[keep], length[keep], speed_kph[keep], connector[keep], one[keep]
    )
    time_s = length / (speed_kph / 3.6)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    # Direction class: 0 two-way, 1 one-way lo → hi, 2 one-way hi → lo.
    way = np.where(one, np.where(u < v, 1, 2), 0)
    # Parallel edges: keep the fastest per pair and direction class.
    order = np.lexsort((time_s, way, hi, lo))
    lo_s, hi_s, way_s = lo[order], hi[order], way[order]
    first = np.ones(len(lo_s), dtype=bool)
    first[1:] = (lo_s[1:] != lo_s[:-1]) | (hi_s[1:] != hi_s[:-1]) | (way_s[1:] != way_s[:-1])
    idx = order[first]
    directed = one[idx]
    return RoadNetwork(
        node_xy=node_xy,
        edge_u=np.where(directed, u[idx], lo[idx]),
        edge_v=np.where(directed, v[idx], hi[idx]),
        length_m=length[idx],
        travel_time_s=time_s[idx],
        speed_kph=speed_kph[idx],
        connector=connector[idx],
        oneway=directed if directed.any() else None,
    )


def connect_components(
    network: RoadNetwork, *, main_node: int, speed_kph: float
) -> tuple[RoadNetwork, int]:
    """Join every road component to the one holding ``main_node``.

    Each other component gets one straight connector edge from its node closest to the
    growing main component, travelled at ``speed_kph`` (a track walked or driven by tractor).

    Returns
    -------
    RoadNetwork
        The connected network.
    int
        Number of connectors added.
    """
    labels = network.components()
    main = labels[main_node]
    in_main = labels == main
    others = [c for c in np.unique(labels) if c != main]
    if not others:
        return network, 0
    # Join the components nearest to the main one first, so a chain of small pieces is
    # connected through each other rather than each by a long link.
    xy = network.node_xy
    new_u: list[int] = []
    new_v: list[int] = []
    pending = set(int(c) for c in others)
    while pending:
        tree = cKDTree(xy[in_main])
        main_idx = np.flatnonzero(in_main)
        best: tuple[float, int, int, int] | None = None
        for comp in pending:
            members = np.flatnonzero(labels == comp)
            dist, nearest = tree.query(xy[members])
            k = int(np.argmin(dist))
            cand = (float(dist[k]), comp, int(members[k]), int(main_idx[nearest[k]]))
            if best is None or cand < best:
                best = cand
        assert best is not None
        _, comp, a, b = best
        new_u.append(a)
        new_v.append(b)
        in_main |= labels == comp
        pending.discard(comp)
    u = np.concatenate([network.edge_u, np.array(new_u)])
    v = np.concatenate([network.edge_v, np.array(new_v)])
    speed = np.concatenate([network.speed_kph, np.full(len(new_u), float(speed_kph))])
    conn = np.concatenate([network.connector, np.ones(len(new_u), dtype=bool)])
    one = None
    if network.oneway is not None:
        one = np.concatenate([network.oneway, np.zeros(len(new_u), dtype=bool)])
    length = np.concatenate(
        [network.length_m, np.hypot(*(xy[np.array(new_u)] - xy[np.array(new_v)]).T)]
    )
    return (
        make_network(network.node_xy, u, v, speed, conn, oneway=one, length_m=length),
        len(new_u),
    )


def _edge_lookup(network: RoadNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Sorted arc keys ``tail * N + head`` and the length of each (the fastest) arc."""
    n = network.n_nodes
    tail, head, _, length = network.arcs()
    keys = tail.astype(np.int64) * n + head
    order = np.argsort(keys)
    return keys[order], length[order]


def _path_lengths(network: RoadNetwork, pred: np.ndarray) -> np.ndarray:
    """Length (m) of the tree path from each row's source to every node, by pointer doubling."""
    keys, vals = _edge_lookup(network)
    return tree_lengths(pred, keys, vals, network.n_nodes)


def shortest_paths(
    network: RoadNetwork, sources: np.ndarray, *, speed_factor: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fastest paths from each source node to every node.

    Parameters
    ----------
    network
        The road graph.
    sources
        Source node ids.
    speed_factor
        Multiplies every edge speed (a slow tricycle is < 1).

    Returns
    -------
    time_s, length_m, predecessors
        ``(len(sources), N)`` arrays; ``inf`` time where unreachable; predecessor
        ``-9999`` at the source and unreachable nodes.
    """
    sources = np.asarray(sources, dtype=np.int64)
    if len(sources) == 0:
        n = network.n_nodes
        return np.empty((0, n)), np.empty((0, n)), np.empty((0, n), dtype=np.int32)
    graph = network.matrix("travel_time_s") / float(speed_factor)
    time_s, pred = csgraph.dijkstra(
        graph, directed=network.directed, indices=sources, return_predecessors=True
    )
    length_m = _path_lengths(network, pred)
    length_m[~np.isfinite(time_s)] = np.inf
    return time_s, length_m, pred


def contract(network: RoadNetwork, *, keep: np.ndarray) -> ContractedGraph:
    """The two-way road graph with its degree-2 chains contracted (``keep``: nodes that
    must stay, e.g. the search sources); see :mod:`rural_logistics.network.chains`."""
    if network.directed:
        raise ValueError("chain contraction needs a graph without one-way edges")
    return contract_chains(
        network.edge_u, network.edge_v, network.travel_time_s, network.length_m,
        n_nodes=network.n_nodes, keep=keep,
    )


def many_source_travel(
    network: RoadNetwork,
    sources: np.ndarray,
    targets: np.ndarray,
    *,
    with_length: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fastest road time (s) and its length (m) from every source node to every target
    node, on the chain-contracted graph (:func:`contract`); equal to
    :func:`shortest_paths` read at the targets (two-way graphs only).

    Returns
    -------
    time_s, length_m
        ``(len(sources), len(targets))``, ``inf`` where unreachable; ``length_m`` is all
        ``nan`` when ``with_length`` is false.
    """
    graph = contract(network, keep=np.asarray(sources, dtype=np.int64))
    time_s, length_m = contracted_travel(
        graph, sources, targets, with_length=with_length, progress=progress
    )
    return time_s, np.full(time_s.shape, np.nan) if length_m is None else length_m


def travel_matrices(
    network: RoadNetwork,
    origins: SnappedPoints,
    destinations: SnappedPoints,
    *,
    offroad_speed_kph: float,
    same: np.ndarray | None = None,
    include_offroad: bool = True,
) -> TravelMatrices:
    """Travel time and distance from every origin to every destination.

    Parameters
    ----------
    network
        The road graph the points were snapped onto.
    origins, destinations
        Snapped points.
    offroad_speed_kph
        Speed on the straight access legs between points and roads.
    same
        Optional boolean ``(n_from, n_to)`` marking pairs that are the same place
        (e.g. a site located at a village); their travel is zero.
    include_offroad
        Add the off-road legs at both ends (``True`` for people walking or riding to a
        station; ``False`` for vehicles, which stop at the roadside).

    Returns
    -------
    TravelMatrices
    """
    unique_src, src_index = np.unique(origins.node, return_inverse=True)
    if network.directed or network.n_nodes < CONTRACT_MIN_NODES:
        time_s, length_m, _ = shortest_paths(network, unique_src)
        road_time_s = time_s[src_index][:, destinations.node]
        road_m = length_m[src_index][:, destinations.node]
    else:
        road_time_s, road_m = many_source_travel(network, unique_src, destinations.node)
        road_time_s, road_m = road_time_s[src_index], road_m[src_index]
    if include_offroad:
        leg_m = origins.offroad_m[:, None] + destinations.offroad_m[None, :]
        total_m = road_m + leg_m
        total_s = road_time_s + leg_m / (offroad_speed_kph / 3.6)
    else:
        total_m, total_s = road_m, road_time_s
    if same is not None:
        total_m = np.where(same, 0.0, total_m)
        total_s = np.where(same, 0.0, total_s)
    return TravelMatrices(time_min=total_s / 60.0, distance_km=total_m / 1000.0)


def path_nodes(pred_row: np.ndarray, target: int) -> list[int]:
    """Nodes of the tree path ending at ``target`` (source first)."""
    nodes = [int(target)]
    while pred_row[nodes[-1]] != _NO_PRED and pred_row[nodes[-1]] >= 0:
        nodes.append(int(pred_row[nodes[-1]]))
    return nodes[::-1]


def to_networkx(network: RoadNetwork) -> nx.Graph:
    """Export to a networkx graph (a ``DiGraph`` when some edge is one-way).

    Nodes carry ``x``, ``y``; edges carry ``length_m``, ``speed_kph``, ``travel_time_s``
    and ``connector``. In a ``DiGraph`` every two-way edge is two arcs.
    """
    graph: nx.Graph = nx.DiGraph() if network.directed else nx.Graph()
    one = network.oneway if network.oneway is not None else np.zeros(len(network.edge_u), bool)
    for i, (x, y) in enumerate(network.node_xy):
        graph.add_node(i, x=float(x), y=float(y))
    for u, v, length, speed, time_s, conn, is_one in zip(
        network.edge_u,
        network.edge_v,
        network.length_m,
        network.speed_kph,
        network.travel_time_s,
        network.connector,
        one,
        strict=True,
    ):
        ends = [(int(u), int(v))] if is_one or not network.directed else [
            (int(u), int(v)), (int(v), int(u))]
        for a, b in ends:
            old = graph.get_edge_data(a, b)
            if old is not None and old["travel_time_s"] <= time_s:
                continue
            graph.add_edge(
                a,
                b,
                length_m=float(length),
                speed_kph=float(speed),
                travel_time_s=float(time_s),
                connector=bool(conn),
            )
    return graph


def path_lines(network: RoadNetwork, paths: Sequence[Sequence[int]]) -> list[shapely.LineString]:
    """Road geometry of node sequences: each a line along the fastest road path between
    consecutive nodes (a vehicle's day: depot, stops, depot, …).

    One shortest-path search per distinct node serves every path. A path that never
    leaves its first node is a line of two equal points.

    Parameters
    ----------
    network
        The road graph.
    paths
        Graph node sequences.

    Returns
    -------
    list of shapely.LineString
        One per path, in the graph's CRS.
    """
    sources = sorted({int(n) for path in paths for n in path[:-1]})
    _, _, pred = shortest_paths(network, np.array(sources, dtype=np.int64))
    row_of = {node: k for k, node in enumerate(sources)}
    xy = network.node_xy
    lines = []
    for path in paths:
        coords: list[np.ndarray] = [xy[[int(path[0])]]] if len(path) else []
        for a, b in itertools.pairwise(path):
            leg = path_nodes(pred[row_of[int(a)]], int(b))
            coords.append(xy[leg[1:]])
        line = np.vstack(coords)
        if len(line) < 2:
            line = np.vstack([line, line])
        lines.append(shapely.LineString(line))
    return lines


def path_line(network: RoadNetwork, nodes: Sequence[int]) -> shapely.LineString:
    """Road geometry of one node sequence (see :func:`path_lines`)."""
    return path_lines(network, [nodes])[0]



__all__ = [
    "RoadNetwork",
    "SnappedPoints",
    "TravelMatrices",
    "build_road_network",
    "connect_components",
    "contract",
    "many_source_travel",
    "path_line",
    "path_lines",
    "path_nodes",
    "shortest_paths",
    "to_networkx",
    "travel_matrices",
]
