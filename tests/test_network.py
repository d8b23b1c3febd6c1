"""Road graph, snapping and travel matrices on hand-checkable grids."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import shapely

from rural_logistics import network as net


def _grid(speed_h: float = 50.0, speed_v: float = 25.0) -> tuple[list, np.ndarray]:
    lines, speeds = [], []
    for y in (0.0, 1000.0, 2000.0):
        lines.append(shapely.LineString([(0, y), (1000, y), (2000, y)]))
        speeds.append(speed_h)
    for x in (0.0, 1000.0, 2000.0):
        lines.append(shapely.LineString([(x, 0), (x, 1000), (x, 2000)]))
        speeds.append(speed_v)
    return lines, np.array(speeds)


def test_lines_join_at_shared_vertices_into_one_grid() -> None:
    lines, speeds = _grid()
    graph, _ = net.build_road_network(lines, speeds, points={})
    assert graph.n_nodes == 9
    assert len(graph.edge_u) == 12
    assert graph.length_m.sum() == pytest.approx(12_000.0)
    assert len(np.unique(graph.components())) == 1


def test_point_snaps_onto_the_nearest_edge_not_the_nearest_vertex() -> None:
    lines, speeds = _grid()
    graph, snapped = net.build_road_network(
        lines, speeds, points={"p": np.array([[500.0, 300.0]])}
    )
    node = int(snapped["p"].node[0])
    assert graph.node_xy[node] == pytest.approx([500.0, 0.0])
    assert snapped["p"].offroad_m[0] == pytest.approx(300.0)
    assert graph.n_nodes == 10  # the edge was split at the foot point
    assert graph.length_m.sum() == pytest.approx(12_000.0)


def test_hand_computed_fastest_times_and_their_distances() -> None:
    # Horizontal 50 km/h (1.2 min/km), vertical 25 km/h (2.4 min/km), off-road 5 km/h.
    lines, speeds = _grid()
    pts = {
        "depot": np.array([[0.0, 0.0]]),
        "v": np.array([[0.0, 50.0], [2000.0, 50.0], [2000.0, 2050.0]]),
    }
    graph, snapped = net.build_road_network(lines, speeds, points=pts)
    tm = net.travel_matrices(graph, snapped["depot"], snapped["v"], offroad_speed_kph=5.0)
    assert tm.time_min[0] == pytest.approx([0.12, 2.52, 7.2 + 0.6])
    assert tm.distance_km[0] == pytest.approx([0.05, 2.05, 4.05])
    # Vehicles stop at the roadside: no off-road legs.
    road = net.travel_matrices(
        graph, snapped["depot"], snapped["v"], offroad_speed_kph=5.0, include_offroad=False
    )
    assert road.distance_km[0, 2] == pytest.approx(4.0)


def test_distance_is_along_the_fastest_path_not_the_shortest() -> None:
    # A direct slow road (1 km at 10 km/h = 6 min) and a fast detour (3 km at 60 = 3 min).
    lines = [
        shapely.LineString([(0, 0), (1000, 0)]),
        shapely.LineString([(0, 0), (0, 1000), (1000, 1000), (1000, 0)]),
    ]
    pts = {"a": np.array([[0.0, 0.0]]), "b": np.array([[1000.0, 0.0]])}
    graph, snapped = net.build_road_network(lines, np.array([10.0, 60.0]), points=pts)
    tm = net.travel_matrices(graph, snapped["a"], snapped["b"], offroad_speed_kph=5.0)
    assert tm.time_min[0, 0] == pytest.approx(3.0)
    assert tm.distance_km[0, 0] == pytest.approx(3.0)


def test_matrices_match_networkx_dijkstra_on_a_random_network() -> None:
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 10_000, size=(60, 2))
    lines, speeds = [], []
    # A random tree plus extra chords, as two-vertex and three-vertex lines.
    for k in range(1, 60):
        j = int(rng.integers(0, k))
        lines.append(shapely.LineString([xy[j], (xy[j] + xy[k]) / 2, xy[k]]))
        speeds.append(float(rng.choice([25.0, 40.0, 60.0])))
    for _ in range(30):
        a, b = rng.choice(60, size=2, replace=False)
        lines.append(shapely.LineString([xy[a], xy[b]]))
        speeds.append(float(rng.choice([25.0, 40.0, 60.0])))
    pts = {"src": rng.uniform(0, 10_000, size=(5, 2)), "dst": rng.uniform(0, 10_000, (8, 2))}
    graph, snapped = net.build_road_network(lines, np.array(speeds), points=pts)
    tm = net.travel_matrices(
        graph, snapped["src"], snapped["dst"], offroad_speed_kph=5.0, include_offroad=False
    )
    g = net.to_networkx(graph)
    for i, s in enumerate(snapped["src"].node):
        times, paths = nx.single_source_dijkstra(g, int(s), weight="travel_time_s")
        for j, t in enumerate(snapped["dst"].node):
            assert tm.time_min[i, j] == pytest.approx(times[int(t)] / 60.0)
            path = paths[int(t)]
            length = sum(g[a][b]["length_m"] for a, b in itertools.pairwise(path))
            assert tm.distance_km[i, j] == pytest.approx(length / 1000.0)
    # The graph is connected, so everything is reachable.
    assert np.isfinite(tm.time_min).all()


def test_same_place_pairs_are_zero() -> None:
    lines, speeds = _grid()
    pts = {"a": np.array([[500.0, 300.0]])}
    graph, snapped = net.build_road_network(lines, speeds, points=pts)
    tm = net.travel_matrices(
        graph, snapped["a"], snapped["a"], offroad_speed_kph=5.0, same=np.array([[True]])
    )
    assert tm.time_min[0, 0] == 0.0
    assert tm.distance_km[0, 0] == 0.0


def test_connect_components_joins_pieces_with_slow_links() -> None:
    lines = [
        shapely.LineString([(0, 0), (1000, 0)]),
        shapely.LineString([(1500, 0), (2500, 0)]),
        shapely.LineString([(5000, 0), (6000, 0)]),
    ]
    pts = {"d": np.array([[0.0, 0.0]]), "v": np.array([[6000.0, 0.0]])}
    graph, snapped = net.build_road_network(lines, np.array([60.0, 60.0, 60.0]), points=pts)
    assert len(np.unique(graph.components())) == 3
    joined, added = net.connect_components(
        graph, main_node=int(snapped["d"].node[0]), speed_kph=10.0
    )
    assert added == 2
    assert len(np.unique(joined.components())) == 1
    assert joined.connector.sum() == 2
    tm = net.travel_matrices(joined, snapped["d"], snapped["v"], offroad_speed_kph=5.0)
    # 3 km of road at 60 km/h + 0.5 km and 2.5 km of links at 10 km/h = 3 + 18 min.
    assert tm.time_min[0, 0] == pytest.approx(21.0)
    assert tm.distance_km[0, 0] == pytest.approx(6.0)


def test_path_nodes_follow_predecessors() -> None:
    lines, speeds = _grid()
    graph, snapped = net.build_road_network(lines, speeds, points={"d": np.array([[0.0, 0.0]])})
    _, _, pred = net.shortest_paths(graph, snapped["d"].node)
    target = int(np.argmin(np.hypot(*(graph.node_xy - [2000.0, 0.0]).T)))
    nodes = net.path_nodes(pred[0], target)
    assert graph.node_xy[nodes[0]] == pytest.approx([0.0, 0.0])
    assert graph.node_xy[nodes[-1]] == pytest.approx([2000.0, 0.0])
    assert len(nodes) == 3
