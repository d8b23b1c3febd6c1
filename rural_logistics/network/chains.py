"""Many-source travel matrices on a large road graph: degree-2 chains contracted away.

A road export has a node at every shape point: most nodes of a 200,000-node county
network have exactly two neighbours and only carry geometry. :func:`contract_chains`
keeps the junctions, dead ends and the search sources, and replaces every chain of
degree-2 nodes between two kept nodes by one edge with the chain's total travel time and
length. Every chain-interior node remembers its two chain ends and its offsets (time and
length) along the chain from each, so the travel to a village or site snapped onto a
chain interior is recovered exactly::

    time(s, t) = min(time(s, a) + offset_a(t), time(s, b) + offset_b(t))

where ``a`` and ``b`` are the ends of ``t``'s chain. This holds because a source is never
a chain interior (sources are kept), so a path from ``s`` reaches ``t`` through ``a`` or
through ``b``. :func:`many_source_travel` then runs :func:`scipy.sparse.csgraph.dijkstra`
from the sources on the contracted graph, block by block (memory bounded), and reads the
length of each fastest path from the predecessor tree. Times and lengths equal those of
plain Dijkstra on the whole graph (to float rounding; ``benchmark matrix`` checks every
entry), unless two paths tie on time exactly and differ in length.

Graphs with one-way edges are searched on the whole graph (:func:`shortest_paths`),
without contraction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

#: Sources per Dijkstra block: bounds memory at about ``block × kept nodes × 40`` bytes.
SOURCE_BLOCK = 256


@dataclass(frozen=True)
class ContractedGraph:
    """A road graph with its degree-2 chains contracted (see the module docstring).

    Attributes
    ----------
    kept
        Original ids of the kept nodes (junctions, dead ends, given ``keep`` nodes).
    index
        Per original node: its position in ``kept``, ``-1`` for a chain interior.
    time_graph
        ``(K, K)`` sparse travel time (s) between kept nodes: original edges between two
        kept nodes, and one edge per chain (the fastest per pair).
    arc_keys, arc_length_m
        Sorted ``tail * K + head`` of every contracted arc and its length (m).
    end_a, end_b
        Per original node: the kept positions of its chain's two ends (``-1`` for kept
        nodes, and for the nodes of a ring of degree-2 nodes with no kept node).
    off_a_s, off_b_s, off_a_m, off_b_m
        Per original node: time (s) and length (m) along its chain from end ``a``
        and from end ``b`` (``inf`` where ``end_*`` is ``-1``).
    """

    kept: np.ndarray
    index: np.ndarray
    time_graph: sparse.csr_matrix
    arc_keys: np.ndarray
    arc_length_m: np.ndarray
    end_a: np.ndarray
    end_b: np.ndarray
    off_a_s: np.ndarray
    off_b_s: np.ndarray
    off_a_m: np.ndarray
    off_b_m: np.ndarray

    @property
    def n_kept(self) -> int:
        """Number of kept nodes."""
        return len(self.kept)


def contract_chains(
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    time_s: np.ndarray,
    length_m: np.ndarray,
    *,
    n_nodes: int,
    keep: np.ndarray,
) -> ContractedGraph:
    """Contract the degree-2 chains of an undirected graph.

    Parameters
    ----------
    edge_u, edge_v
        Endpoints of each undirected edge (no parallel edges, no loops).
    time_s, length_m
        Per edge, both > 0.
    n_nodes
        Number of nodes.
    keep
        Node ids that must stay nodes of the contracted graph (the search sources).

    Returns
    -------
    ContractedGraph
    """
    u = np.asarray(edge_u, dtype=np.int64)
    v = np.asarray(edge_v, dtype=np.int64)
    t = np.asarray(time_s, dtype=float)
    ln = np.asarray(length_m, dtype=float)
    n = int(n_nodes)
    degree = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    kept_mask = degree != 2
    kept_mask[np.asarray(keep, dtype=np.int64)] = True
    interior = ~kept_mask

    inner = interior[u] & interior[v]
    attach = interior[u] ^ interior[v]
    direct = ~(inner | attach)
    # Chains: connected components of the edges between two interior nodes.
    inner_graph = sparse.csr_matrix(
        (np.ones(int(inner.sum())), (u[inner], v[inner])), shape=(n, n)
    )
    _, label = csgraph.connected_components(inner_graph, directed=False)
    # Attachment edges (interior x — kept k), two per chain, paired by chain label.
    x = np.where(interior[u[attach]], u[attach], v[attach])
    k = np.where(interior[u[attach]], v[attach], u[attach])
    at, al = t[attach], ln[attach]
    order = np.lexsort((k, x, label[x]))
    x, k, at, al = x[order], k[order], at[order], al[order]
    chain = label[x]
    if len(chain) % 2 or np.any(chain[0::2] != chain[1::2]):
        raise AssertionError("a chain of degree-2 nodes without exactly two ends")
    xa, xb, ka, kb = x[0::2], x[1::2], k[0::2], k[1::2]
    ta, tb, la, lb = at[0::2], at[1::2], al[0::2], al[1::2]

    # Offsets along each chain from its ends: one search from a virtual node joined to
    # every chain's end-a interior node (and one for end b); a chain is a path, so the
    # time and the length searches follow the same (unique) path.
    def offsets(start: np.ndarray, first: np.ndarray, weight: np.ndarray) -> np.ndarray:
        src = n
        rows = np.concatenate([u[inner], v[inner], np.full(len(start), src)])
        cols = np.concatenate([v[inner], u[inner], start])
        data = np.concatenate([weight[inner], weight[inner], first])
        graph = sparse.csr_matrix((data, (rows, cols)), shape=(n + 1, n + 1))
        return np.asarray(csgraph.dijkstra(graph, directed=True, indices=src))[:n]

    off_a_s, off_b_s = offsets(xa, ta, t), offsets(xb, tb, t)
    off_a_m, off_b_m = offsets(xa, la, ln), offsets(xb, lb, ln)

    kept = np.flatnonzero(kept_mask)
    index = np.full(n, -1, dtype=np.int64)
    index[kept] = np.arange(len(kept))
    n_chains = int(label.max()) + 1 if n else 0
    chain_a = np.full(n_chains, -1, dtype=np.int64)
    chain_b = np.full(n_chains, -1, dtype=np.int64)
    chain_a[label[xa]] = index[ka]
    chain_b[label[xb]] = index[kb]
    end_a = np.where(interior, chain_a[label], -1)
    end_b = np.where(interior, chain_b[label], -1)
    ring = interior & (end_a < 0)  # a ring of degree-2 nodes: no way in or out
    for arr in (off_a_s, off_b_s, off_a_m, off_b_m):
        arr[~interior | ring] = np.inf

    # Contracted edges: the direct ones and one per chain (not a loop back to its end).
    chain_t = off_a_s[xb] + tb
    chain_l = off_a_m[xb] + lb
    loop = ka == kb
    cu = np.concatenate([index[u[direct]], index[ka[~loop]]])
    cv = np.concatenate([index[v[direct]], index[kb[~loop]]])
    ct = np.concatenate([t[direct], chain_t[~loop]])
    cl = np.concatenate([ln[direct], chain_l[~loop]])
    tail = np.concatenate([cu, cv])
    head = np.concatenate([cv, cu])
    arc_t = np.concatenate([ct, ct])
    arc_l = np.concatenate([cl, cl])
    order = np.lexsort((arc_t, head, tail))
    tail, head, arc_t, arc_l = tail[order], head[order], arc_t[order], arc_l[order]
    first = np.ones(len(tail), dtype=bool)
    first[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    tail, head, arc_t, arc_l = tail[first], head[first], arc_t[first], arc_l[first]
    n_kept = len(kept)
    keys = tail * n_kept + head  # sorted: lexsort by (tail, head)
    return ContractedGraph(
        kept=kept,
        index=index,
        time_graph=sparse.csr_matrix((arc_t, (tail, head)), shape=(n_kept, n_kept)),
        arc_keys=keys,
        arc_length_m=arc_l,
        end_a=end_a,
        end_b=end_b,
        off_a_s=off_a_s,
        off_b_s=off_b_s,
        off_a_m=off_a_m,
        off_b_m=off_b_m,
    )


def tree_lengths(
    pred: np.ndarray, arc_keys: np.ndarray, arc_length_m: np.ndarray, n_nodes: int
) -> np.ndarray:
    """Length of the tree path from each row's source to every node (pointer doubling).

    ``pred`` is scipy's predecessor matrix (``< 0`` at the source and unreachable nodes);
    ``arc_keys`` the sorted ``tail * n_nodes + head`` of every arc, ``arc_length_m`` its
    length. Unreachable nodes get 0 (the caller masks them with the times).
    """
    has_parent = pred >= 0
    rows, cols = np.nonzero(has_parent)
    acc = np.zeros(pred.shape)
    pos = np.searchsorted(arc_keys, pred[rows, cols].astype(np.int64) * n_nodes + cols)
    acc[rows, cols] = arc_length_m[pos]
    anc = np.where(has_parent, pred, -1).astype(np.int64)
    row_idx = np.arange(pred.shape[0])[:, None]
    while True:
        live = anc >= 0
        if not live.any():
            break
        safe = np.where(live, anc, 0)
        acc = acc + np.where(live, acc[row_idx, safe], 0.0)
        anc = np.where(live, anc[row_idx, safe], -1)
    return acc


def contracted_travel(
    graph: ContractedGraph,
    sources: np.ndarray,
    targets: np.ndarray,
    *,
    with_length: bool = True,
    block: int = SOURCE_BLOCK,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Fastest travel time (s) and its length (m) from every source to every target.

    Parameters
    ----------
    graph
        From :func:`contract_chains` with every source among ``keep``.
    sources, targets
        Original node ids.
    with_length
        Also the length of each fastest path (else ``None``).
    block
        Sources per Dijkstra call.
    progress
        Called with (sources done, sources) after each block.

    Returns
    -------
    time_s, length_m
        ``(len(sources), len(targets))``; ``inf`` where unreachable.
    """
    src = graph.index[np.asarray(sources, dtype=np.int64)]
    if np.any(src < 0):
        raise ValueError("every source must be a kept node of the contracted graph")
    tgt = np.asarray(targets, dtype=np.int64)
    t_kept = graph.index[tgt]
    on_kept = t_kept >= 0
    a, b = graph.end_a[tgt], graph.end_b[tgt]
    chain = ~on_kept & (a >= 0)
    col_a = np.where(on_kept, t_kept, np.where(chain, a, 0))
    col_b = np.where(chain, b, 0)
    off_a_s = np.where(on_kept, 0.0, graph.off_a_s[tgt])
    off_b_s = np.where(chain, graph.off_b_s[tgt], np.inf)
    off_a_m = np.where(on_kept, 0.0, graph.off_a_m[tgt])
    off_b_m = np.where(chain, graph.off_b_m[tgt], np.inf)
    time_s = np.empty((len(src), len(tgt)))
    length_m = np.empty((len(src), len(tgt))) if with_length else None
    for lo in range(0, len(src), block):
        rows = src[lo : lo + block]
        if with_length:
            dist, pred = csgraph.dijkstra(
                graph.time_graph, directed=True, indices=rows, return_predecessors=True
            )
        else:
            dist = csgraph.dijkstra(graph.time_graph, directed=True, indices=rows)
        via_a = dist[:, col_a] + off_a_s[None, :]
        via_b = dist[:, col_b] + off_b_s[None, :]
        use_b = via_b < via_a
        time_s[lo : lo + block] = np.where(use_b, via_b, via_a)
        if length_m is not None:
            lengths = tree_lengths(pred, graph.arc_keys, graph.arc_length_m, graph.n_kept)
            len_a = lengths[:, col_a] + off_a_m[None, :]
            len_b = np.where(use_b, lengths[:, col_b] + off_b_m[None, :], 0.0)
            length_m[lo : lo + block] = np.where(use_b, len_b, len_a)
        if progress is not None:
            progress(min(lo + block, len(src)), len(src))
    unreachable = ~np.isfinite(time_s)
    if length_m is not None:
        length_m[unreachable] = np.inf
    return time_s, length_m
