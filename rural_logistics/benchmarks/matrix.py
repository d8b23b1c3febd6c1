"""matrix: village × site travel matrices on a natural-village county, ours vs networkx vs scipy.

The county is generated (``generate --villages N --resolution natural``, seeded) unless
``--county`` names a folder with a ``county.yaml``; its roads, villages and candidate
sites are read and snapped exactly as ``solve`` does. The sources are the candidate
sites' road nodes, the targets the villages' road nodes; the weight is travel time (the
Dijkstra weight of every matrix in the project). Rows, in one run:

* ``ours`` — chain contraction (:func:`rural_logistics.network.contract`) and
  :func:`scipy.sparse.csgraph.dijkstra` on the contracted graph, contraction included;
* ``ours+km`` — the same with the length (km) of every fastest path, the full product
  ``solve`` uses;
* ``scipy`` — plain :func:`scipy.sparse.csgraph.dijkstra` on the uncontracted graph (in
  blocks of sources, to bound memory);
* ``networkx`` — :func:`networkx.single_source_dijkstra_path_length` per source, on
  ``--nx-sample`` seeded random sources (``0``: all), its seconds extrapolated linearly to
  every source (the row says from how many); building the networkx graph is not counted.

Every time in the ``scipy`` matrix is checked against ``ours`` (all pairs), the networkx
times on its sampled sources, and the ``ours+km`` lengths against the plain scipy
path lengths (:func:`rural_logistics.network.shortest_paths`) on the same sample.
``--data``, ``--instances`` and ``--time-limit`` are not used.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csgraph

from rural_logistics import network as net
from rural_logistics.benchmarks.common import BenchmarkTable
from rural_logistics.errors import InputDataError
from rural_logistics.network.chains import contracted_travel

COLUMNS = (
    "method", "sources", "targets", "nodes", "graph_nodes", "seconds", "timed_sources",
    "speedup_of_ours", "checked_pairs", "max_abs_diff", "equal",
)
#: Targets of issue 19 (3,000 × 3,000 on >= 200,000 nodes).
TARGET_VS_NETWORKX = 50.0
TARGET_VS_SCIPY = 2.0
#: Largest absolute difference counted as equal: seconds (times) and metres (lengths).
TOLERANCE = 1e-6
SCIPY_BLOCK = 256


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``benchmark matrix``."""
    parser.add_argument("--county", type=Path, metavar="DIR",
                        help="a natural-village county folder with county.yaml (default: "
                        "generate one into a temporary folder)")
    parser.add_argument("--villages", type=int, default=3000,
                        help="villages of the generated county (default 3000)")
    parser.add_argument("--seed", type=int, default=2026,
                        help="seed of the county and of the networkx sample (default 2026)")
    parser.add_argument("--nx-sample", type=int, default=100, metavar="N",
                        help="networkx runs on N random sources and is extrapolated to all "
                        "(default 100; 0 = every source)")


def _load_avg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _check(a: np.ndarray, b: np.ndarray) -> tuple[int, float, bool]:
    """Pairs compared, largest absolute difference, and whether all are equal (inf = inf)."""
    same_inf = np.isinf(a) == np.isinf(b)
    finite = np.isfinite(a) & np.isfinite(b)
    diff = float(np.max(np.abs(a[finite] - b[finite]), initial=0.0))
    return int(a.size), diff, bool(same_inf.all() and diff <= TOLERANCE)


def _network(county: Path) -> tuple[net.RoadNetwork, np.ndarray, np.ndarray]:
    from rural_logistics.region import read_inputs, snap_to_roads
    from rural_logistics.validation import load_checked_config

    config = load_checked_config(county / "county.yaml")
    data, _ = read_inputs(config)
    snapped = snap_to_roads(config, data)
    if snapped.network.directed:
        raise InputDataError(f"{county}: benchmark matrix needs two-way roads only")
    return snapped.network, snapped.sites.node[snapped.site_ok], snapped.villages.node


def run(args: argparse.Namespace, *, on_row: Callable[[dict[str, Any]], None]) -> BenchmarkTable:
    """Time the three methods on one county (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="rl-matrix-") as tmp:
        county = args.county
        if county is None:
            from rural_logistics.generate.natural import generate_natural_county

            county = Path(tmp) / "county"
            generate_natural_county(county, seed=args.seed, n_villages=args.villages)
        elif not (county / "county.yaml").is_file():
            raise InputDataError(f"{county}: no county.yaml (write one with rural-logistics "
                                 "generate --villages N --resolution natural)")
        network, site_nodes, village_nodes = _network(Path(county))
    sources = np.unique(site_nodes)
    targets = village_nodes
    n_src, n_tgt = len(sources), len(targets)
    base: dict[str, Any] = {"sources": n_src, "targets": n_tgt, "nodes": network.n_nodes}
    rows: list[dict[str, Any]] = []
    load_before = _load_avg()

    def add(row: dict[str, Any]) -> None:
        rows.append(row)
        on_row(row)

    # ours, time only, then with lengths
    start = time.perf_counter()
    graph = net.contract(network, keep=sources)
    ours_time, _ = contracted_travel(graph, sources, targets, with_length=False)
    ours_s = time.perf_counter() - start
    add({**base, "method": "ours", "graph_nodes": graph.n_kept, "seconds": round(ours_s, 2),
         "timed_sources": n_src})
    start = time.perf_counter()
    km_time, km_length = net.many_source_travel(network, sources, targets)
    km_s = time.perf_counter() - start
    pairs, diff, equal = _check(km_time, ours_time)
    add({**base, "method": "ours+km", "graph_nodes": graph.n_kept,
         "seconds": round(km_s, 2), "timed_sources": n_src, "checked_pairs": pairs,
         "max_abs_diff": diff, "equal": equal})

    # plain scipy on the whole graph
    time_graph = network.matrix("travel_time_s")
    start = time.perf_counter()
    scipy_time = np.empty((n_src, n_tgt))
    for lo in range(0, n_src, SCIPY_BLOCK):
        dist = csgraph.dijkstra(time_graph, directed=True, indices=sources[lo:lo + SCIPY_BLOCK])
        scipy_time[lo:lo + SCIPY_BLOCK] = dist[:, targets]
    scipy_s = time.perf_counter() - start
    pairs, diff, equal = _check(scipy_time, ours_time)
    add({**base, "method": "scipy", "graph_nodes": network.n_nodes,
         "seconds": round(scipy_s, 2), "timed_sources": n_src,
         "speedup_of_ours": round(scipy_s / ours_s, 2), "checked_pairs": pairs,
         "max_abs_diff": diff, "equal": equal})

    # networkx on a seeded sample of sources, extrapolated
    rng = np.random.default_rng(args.seed)
    sample_n = n_src if args.nx_sample <= 0 else min(args.nx_sample, n_src)
    sample = np.sort(rng.choice(n_src, size=sample_n, replace=False))
    g = net.to_networkx(network)
    nx_time = np.empty((sample_n, n_tgt))
    start = time.perf_counter()
    for k, row in enumerate(sample):
        lengths = nx.single_source_dijkstra_path_length(g, int(sources[row]),
                                                         weight="travel_time_s")
        nx_time[k] = [lengths.get(int(t), np.inf) for t in targets]
    nx_sample_s = time.perf_counter() - start
    nx_s = nx_sample_s * n_src / sample_n
    pairs, diff, equal = _check(nx_time, ours_time[sample])
    add({**base, "method": "networkx" if sample_n == n_src
         else f"networkx (extrapolated from {sample_n} sources)",
         "graph_nodes": network.n_nodes, "seconds": round(nx_s, 1),
         "timed_sources": sample_n, "speedup_of_ours": round(nx_s / ours_s, 1),
         "checked_pairs": pairs, "max_abs_diff": diff, "equal": equal})

    # lengths along the fastest paths: ours+km against plain scipy on the same sample
    plain_time, plain_length, _ = net.shortest_paths(network, sources[sample[:64]])
    _, diff_t, eq_t = _check(plain_time[:, targets], km_time[sample[:64]])
    pairs_l, diff_l, eq_l = _check(plain_length[:, targets], km_length[sample[:64]])
    load_after = _load_avg()
    met_scipy = "met" if scipy_s / ours_s >= TARGET_VS_SCIPY else "NOT met"
    met_nx = "met" if nx_s / ours_s >= TARGET_VS_NETWORKX else "NOT met"
    how_nx = (f"extrapolated from {sample_n} of {n_src} sources, {nx_sample_s:.1f} s measured"
              if sample_n < n_src else "all sources")
    summary = [
        f"county: {n_tgt:,} villages, {n_src:,} candidate-site road nodes (sources), "
        f"{network.n_nodes:,} graph nodes, {len(network.edge_u):,} edges; contracted "
        f"graph {graph.n_kept:,} nodes; load average {load_before} before, {load_after} after",
        f"ours {ours_s:.2f} s vs scipy {scipy_s:.2f} s: {scipy_s / ours_s:.2f}× "
        f"(target ≥ {TARGET_VS_SCIPY:g}×: {met_scipy})",
        f"ours {ours_s:.2f} s vs networkx {nx_s:.1f} s ({how_nx}): {nx_s / ours_s:.1f}× "
        f"(target ≥ {TARGET_VS_NETWORKX:g}×: {met_nx})",
        f"ours+km (time and the km of each fastest path, what solve uses) {km_s:.2f} s: "
        f"{scipy_s / km_s:.2f}× scipy time-only, {nx_s / km_s:.1f}× networkx time-only",
        f"km along the fastest paths checked against plain scipy on {min(64, sample_n)} "
        f"sources: {pairs_l:,} pairs, max diff {diff_l:.2e} m, "
        f"{'equal' if eq_l and eq_t else 'NOT equal'} (times max diff {diff_t:.2e} s)",
        "all distances equal" if all(r.get("equal", True) for r in rows) and eq_l and eq_t
        else "DISTANCES DIFFER",
    ]
    return BenchmarkTable(name="matrix", columns=COLUMNS, rows=rows, summary=summary)
