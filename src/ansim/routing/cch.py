"""Customizable Contraction Hierarchies in numba: topology, customization and elimination-tree queries.

CCH (Dibbelt, Strasser & Wagner 2016) splits preprocessing in two. The metric-independent *topology* is a
nested-dissection order (RoutingKit's inertial flow, through ``routingkit_cch.compute_order_inertial``) and
the chordal supergraph of the street graph under that order. The *customization* gives every edge of the
supergraph its upward and downward weight by the basic triangle sweep. A *query* walks the elimination tree
from the source and from the target up to the root and meets in the middle.

Node ids inside this module are *ranks* (position in the order); edges of the supergraph are stored upward,
as a CSR by lower rank with sorted heads. Every edge ``e = {x, y}``, ``x < y``, has two directions:
``0`` (upward, ``x → y``) and ``1`` (downward, ``y → x``). For each direction the customization keeps
its weight and how it is realised: an input arc (stored as ``-1 - arc``) or the two supergraph edges of
the lower triangle ``x, z, y`` it goes through. Path unpacking follows these records with a stack: it is
linear in the path length and never searches triangles again (RoutingKit does, on every unpacking).

On small graphs (:data:`LABEL_BUDGET`) a metric can also carry *ancestor labels*: every node's complete
upward search, stored over its elimination-tree ancestors. A query then only finds the lowest common
ancestor of its ends and takes a minimum over the common ancestors (about 20 on central Seoul).

The jitted kernels are compiled on first use and cached on disk by numba (``cache=True``). They release
the GIL (``nogil=True``), so a customization in one thread does not block queries in others.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numba
import numpy as np
import routingkit_cch
from numpy.typing import NDArray

#: "No path": far above any real cost, and ``2 × INF`` still fits ``int64``.
INF = np.int64(1) << np.int64(60)
#: Version of the on-disk topology format (part of the cache file name).
TOPOLOGY_VERSION = 1

# ---------------------------------------------------------------------------------------------------------
# jitted kernels (plain functions, compiled below; the typed wrappers further down are the interface)


def _chordal_supergraph(
    n: int, first: NDArray[np.int64], adj: NDArray[np.int32]
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]]:
    """Fill-in of the graph ``first/adj`` (upward neighbours by rank) under elimination in rank order.

    The upward neighbours of ``v`` in the supergraph are its own upward neighbours plus those of its
    children in the elimination tree (minus ``v``); the parent of ``v`` is its lowest upward neighbour.
    """
    parent = np.full(n, -1, np.int32)
    first_child = np.full(n, -1, np.int32)
    next_sibling = np.full(n, -1, np.int32)
    mark = np.full(n, -1, np.int32)
    up_first = np.zeros(n + 1, np.int64)
    cap = max(16, 4 * adj.shape[0])
    up_head = np.empty(cap, np.int32)
    buf = np.empty(n, np.int32)
    count = 0
    for v in range(n):
        k = 0
        for i in range(first[v], first[v + 1]):
            u = adj[i]
            if mark[u] != v:
                mark[u] = v
                buf[k] = u
                k += 1
        c = first_child[v]
        while c != -1:
            for i in range(up_first[c], up_first[c + 1]):
                u = up_head[i]
                if u != v and mark[u] != v:
                    mark[u] = v
                    buf[k] = u
                    k += 1
            c = next_sibling[c]
        if count + k > cap:
            cap = max(2 * cap, count + k)
            grown = np.empty(cap, np.int32)
            grown[:count] = up_head[:count]
            up_head = grown
        ups = np.sort(buf[:k])
        up_head[count : count + k] = ups
        count += k
        up_first[v + 1] = count
        if k > 0:
            p = ups[0]
            parent[v] = p
            next_sibling[v] = first_child[p]
            first_child[p] = v
    depth = np.zeros(n, np.int32)
    for v in range(n - 1, -1, -1):  # a parent has a higher rank than its children
        if parent[v] != -1:
            depth[v] = depth[parent[v]] + 1
    return up_first, up_head[:count].copy(), parent, depth


def _customize_basic(
    up_first: NDArray[np.int64],
    up_head: NDArray[np.int32],
    up_tail: NDArray[np.int32],
    down_first: NDArray[np.int64],
    down_edge: NDArray[np.int32],
    arc_edge: NDArray[np.int32],
    arc_up: NDArray[np.bool_],
    weights: NDArray[np.uint32],
    via: NDArray[np.int32],
) -> NDArray[np.int64]:
    """Basic customization: the weight of every supergraph edge and direction, and how it is realised.

    Returns ``basic`` (``(m, 2)``: both directions of an edge share a cache line) and fills ``via``:
    ``via[e, 0]``/``via[e, 2]`` is the input arc (as ``-1 - arc``) or the lower edge ``{z, x}`` realising
    edge ``e = {x, y}`` upward/downward, ``via[e, 1]``/``via[e, 3]`` the edge ``{z, y}``.
    """
    n = up_first.shape[0] - 1
    m = up_head.shape[0]
    basic = np.full((m, 2), INF, np.int64)
    via[:, 0] = -1
    via[:, 2] = -1
    for a in range(arc_edge.shape[0]):
        e = arc_edge[a]
        if e < 0:
            continue  # self-loop: never on a shortest path
        w = np.int64(weights[a])
        d = 0 if arc_up[a] else 1
        if w < basic[e, d]:
            basic[e, d] = w
            via[e, 2 * d] = -1 - a
    slot = np.empty(n, np.int64)
    # Basic: every lower triangle {z, x, y} (z < x < y) of edge {x, y}, by increasing middle node x, so
    # that the lower edges {z, x} and {z, y} are final when used.
    for x in range(n):
        for e in range(up_first[x], up_first[x + 1]):
            slot[up_head[e]] = e
        for k in range(down_first[x], down_first[x + 1]):
            ezx = down_edge[k]
            z = up_tail[ezx]
            x_to_z = basic[ezx, 1]
            z_to_x = basic[ezx, 0]
            # Upward neighbours of z above x are upward neighbours of x (chordality).
            for ezy in range(ezx + 1, up_first[z + 1]):
                exy = slot[up_head[ezy]]
                c = x_to_z + basic[ezy, 0]
                if c < basic[exy, 0]:
                    basic[exy, 0] = c
                    via[exy, 0] = ezx
                    via[exy, 1] = ezy
                c = basic[ezy, 1] + z_to_x
                if c < basic[exy, 1]:
                    basic[exy, 1] = c
                    via[exy, 2] = ezx
                    via[exy, 3] = ezy
    return basic


def _unpack(
    stack: NDArray[np.int64], sp: int, via: NDArray[np.int32], out: NDArray[np.int64]
) -> int:
    """Expand the supergraph steps on ``stack[:sp]`` (``2 e + direction``, top popped first) into input
    arcs written to ``out``; returns how many."""
    k = 0
    while sp > 0:
        sp -= 1
        code = stack[sp]
        e = code >> 1
        if code & 1 == 0:  # x → y = (x → z downward on {z, x}) then (z → y upward on {z, y})
            a = via[e, 0]
            if a < 0:
                out[k] = -1 - a
                k += 1
            else:
                stack[sp] = 2 * via[e, 1]
                stack[sp + 1] = 2 * a + 1
                sp += 2
        else:  # y → x = (y → z downward on {z, y}) then (z → x upward on {z, x})
            a = via[e, 2]
            if a < 0:
                out[k] = -1 - a
                k += 1
            else:
                stack[sp] = 2 * a
                stack[sp + 1] = 2 * via[e, 3] + 1
                sp += 2
    return k


def _nodes_of(
    arcs: NDArray[np.int64], k: int, arc_tail: NDArray[np.int32], arc_head: NDArray[np.int32]
) -> None:
    """Write the ``k + 1`` nodes of the path ``arcs[:k]`` (``k ≥ 1``) after it, at ``arcs[k:]``."""
    for i in range(k):
        arcs[k + i] = arc_tail[arcs[i]]
    arcs[2 * k] = arc_head[arcs[k - 1]]


def _ancestor_labels(
    parent: NDArray[np.int32],
    depth: NDArray[np.int32],
    up_first: NDArray[np.int64],
    up_head: NDArray[np.int32],
    weight: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Every node's full upward search, as labels over its elimination-tree ancestors.

    For the node of rank ``x`` with ancestors ``a_0 = x, a_1 = parent(x), …``, entry ``first[x] + i`` of
    ``label[0]`` is the upward distance ``x → a_i`` and of ``label[1]`` the distance ``a_i → x``;
    ``label[2]`` holds the last supergraph edge into ``a_i`` (``-1`` at ``i = 0``) and ``label[3]`` the
    first edge out of ``a_i`` towards ``x``. Computed top-down: an upward path leaves ``x`` by one edge
    ``x → u`` and then follows ``u``'s own labels (``a_i`` is ``u``'s ancestor ``i - (depth x - depth u)``),
    so the edge records of ``u`` carry over unless ``a_i = u``.
    Returns ``first`` (``n + 1``) and ``label`` (``4 × first[n]``) in one flat array: one argument less
    to pass per query.
    """
    n = parent.shape[0]
    total = 0
    for x in range(n):
        total += depth[x] + 1
    packed = np.full(n + 1 + 4 * total, INF, np.int64)
    first = packed[: n + 1]
    first[0] = 0
    for x in range(n):
        first[x + 1] = first[x] + depth[x] + 1
    label = packed[n + 1 :].reshape((4, total))
    for x in range(n - 1, -1, -1):
        o = first[x]
        dx = depth[x]
        label[0, o] = 0
        label[1, o] = 0
        label[2, o] = -1
        label[3, o] = -1
        for e in range(up_first[x], up_first[x + 1]):
            u = up_head[e]
            for d in range(2):
                w = weight[e, d]
                if w >= INF:
                    continue
                shift = dx - depth[u]
                ou = first[u] - shift
                # u itself: the edge is the last (first) step
                c = w
                if c < label[d, o + shift]:
                    label[d, o + shift] = c
                    label[2 + d, o + shift] = e
                for i in range(shift + 1, dx + 1):
                    lu = label[d, ou + i]
                    if lu < INF:
                        c = w + lu
                        if c < label[d, o + i]:
                            label[d, o + i] = c
                            label[2 + d, o + i] = label[2 + d, ou + i]
    return packed


def _query_labels(
    source: int,
    target: int,
    topo: NDArray[np.int32],
    labels: NDArray[np.int64],
    via: NDArray[np.int32],
    scratch: NDArray[np.int64],
) -> tuple[int, int]:
    """Query with ancestor labels: the best meeting node among the common ancestors, then unpacking.

    Same contract as :func:`_query` (answer at ``scratch[7 n + 8:]``), without touching the labels;
    ``labels`` comes from :func:`_ancestor_labels`.
    """
    n = topo[0]
    first = labels[: n + 1]
    label = labels[n + 1 :].reshape((4, first[n]))
    m = topo[1]
    n_arcs = topo[2]
    rank = topo[3 : 3 + n]
    parent = topo[3 + n : 3 + 2 * n]
    depth = topo[3 + 2 * n : 3 + 3 * n]
    up_tail = topo[3 + 3 * n : 3 + 3 * n + m]
    arc_tail = topo[3 + 3 * n + m : 3 + 3 * n + m + n_arcs]
    arc_head = topo[3 + 3 * n + m + n_arcs : 3 + 3 * n + m + 2 * n_arcs]
    stack = scratch[4 * n : 7 * n + 8]
    out = scratch[7 * n + 8 :]
    if source == target:
        out[0] = source
        return 0, 0
    rs = rank[source]
    rt = rank[target]
    # Lowest common ancestor: lift the deeper end to the other's depth, then both together (loops whose
    # branches the CPU predicts, unlike "lift the lower rank"). Different trees meet only at -1: no path.
    a = rs
    b = rt
    da = depth[a]
    db = depth[b]
    while da > db:
        a = parent[a]
        da -= 1
    while db > da:
        b = parent[b]
        db -= 1
    while a != b:
        a = parent[a]
        b = parent[b]
    if a == -1:
        return -1, 0
    fs = first[rs] + depth[rs] - depth[a]  # the common ancestor's entry in each label list
    ft = first[rt] + depth[rt] - depth[a]
    best = INF
    j_best = -1
    for j in range(depth[a] + 1):
        c = label[0, fs + j] + label[1, ft + j]
        if c < best:
            best = c
            j_best = j
    if best >= INF:
        return -1, 0
    # Top-level supergraph steps: from the meeting node down to the target via the first-step records
    # (stored in path order, so pushed last step first), then back to the source via the last-step ones.
    sp = 0
    v = a
    for _ in range(j_best):
        v = parent[v]
    meet = v
    while v != rt:
        sp += 1
        v = up_tail[label[3, first[rt] + depth[rt] - depth[v]]]
    v = meet
    i = sp
    while v != rt:
        e = label[3, first[rt] + depth[rt] - depth[v]]
        i -= 1
        stack[i] = 2 * e + 1
        v = up_tail[e]
    v = meet
    while v != rs:
        e = label[2, first[rs] + depth[rs] - depth[v]]
        stack[sp] = 2 * e
        sp += 1
        v = up_tail[e]
    k = _unpack(stack, sp, via, out)
    _nodes_of(out, k, arc_tail, arc_head)
    return int(best), k


def _relax(
    up_first: NDArray[np.int32],
    up_head: NDArray[np.int32],
    weight: NDArray[np.int64],
    d: int,
    v: int,
    dv: int,
    label: NDArray[np.int64],
    pred: NDArray[np.int64],
) -> None:
    """Relax the supergraph edges of ``v`` in direction ``d`` from a label ``dv``."""
    for e in range(up_first[v], up_first[v + 1]):
        y = up_head[e]
        c = dv + weight[e, d]
        if c < label[y]:
            label[y] = c
            pred[y] = e


def _query(
    source: int,
    target: int,
    topo: NDArray[np.int32],
    weight: NDArray[np.int64],
    via: NDArray[np.int32],
    scratch: NDArray[np.int64],
) -> tuple[int, int]:
    """Elimination-tree query with path unpacking; returns ``(cost, k)``, cost ``-1`` when unreachable.

    ``topo`` is :attr:`CCHTopology.packed`, ``weight``/``via`` come from :func:`_customize_basic`. ``scratch``
    (``9 n + 9``): labels (all ``INF`` on entry and on return), predecessors, the unpacking stack, and
    the answer: ``k`` input arcs at ``scratch[7 n + 8:]`` followed by the ``k + 1`` nodes.
    """
    n = topo[0]
    m = topo[1]
    n_arcs = topo[2]
    rank = topo[3 : 3 + n]
    parent = topo[3 + n : 3 + 2 * n]
    up_tail = topo[3 + 3 * n : 3 + 3 * n + m]
    arc_tail = topo[3 + 3 * n + m : 3 + 3 * n + m + n_arcs]
    arc_head = topo[3 + 3 * n + m + n_arcs : 3 + 3 * n + m + 2 * n_arcs]
    up_first = topo[3 + 3 * n + m + 2 * n_arcs : 4 + 4 * n + m + 2 * n_arcs]
    up_head = topo[4 + 4 * n + m + 2 * n_arcs : 4 + 4 * n + 2 * m + 2 * n_arcs]
    fwd = scratch[0:n]
    bwd = scratch[n : 2 * n]
    pred_f = scratch[2 * n : 3 * n]
    pred_b = scratch[3 * n : 4 * n]
    stack = scratch[4 * n : 7 * n + 8]
    out = scratch[7 * n + 8 :]
    if source == target:
        out[0] = source
        return 0, 0
    rs = rank[source]
    rt = rank[target]
    # Both tree paths in increasing rank (every upward neighbour of a node is one of its ancestors, so
    # each search only touches its path). Once they meet, the rest is common: a node whose label already
    # reaches the best meeting cost cannot improve it, so its edges are skipped.
    fwd[rs] = 0
    bwd[rt] = 0
    best = INF
    meet = -1
    vs = rs
    vt = rt
    while vs != -1 or vt != -1:
        if vs == vt:
            df = fwd[vs]
            db = bwd[vs]
            c = df + db
            if c < best:
                best = c
                meet = vs
            if df < best:
                _relax(up_first, up_head, weight, 0, vs, df, fwd, pred_f)
            if db < best:
                _relax(up_first, up_head, weight, 1, vs, db, bwd, pred_b)
            vs = parent[vs]
            vt = vs
        elif vt == -1 or (vs != -1 and vs < vt):
            df = fwd[vs]
            if df < INF:
                _relax(up_first, up_head, weight, 0, vs, df, fwd, pred_f)
            vs = parent[vs]
        else:
            db = bwd[vt]
            if db < INF:
                _relax(up_first, up_head, weight, 1, vt, db, bwd, pred_b)
            vt = parent[vt]
    # Reset what this query touched: the two tree paths.
    for start in (rs, rt):
        v = start
        while v != -1:
            fwd[v] = INF
            bwd[v] = INF
            v = parent[v]
    if meet == -1:
        return -1, 0
    # Top-level supergraph steps, pushed so that the one leaving the source is popped first:
    # downward steps meet → target (last step at the bottom), then upward steps meet → source.
    sp = 0
    v = meet
    while v != rt:
        sp += 1
        v = up_tail[pred_b[v]]
    v = meet
    i = sp
    while v != rt:
        e = pred_b[v]
        i -= 1
        stack[i] = 2 * e + 1
        v = up_tail[e]
    v = meet
    while v != rs:
        e = pred_f[v]
        stack[sp] = 2 * e
        sp += 1
        v = up_tail[e]
    k = _unpack(stack, sp, via, out)
    _nodes_of(out, k, arc_tail, arc_head)
    return int(best), k


_jit = numba.njit(cache=True, nogil=True)
_chordal_supergraph_jit: Any = _jit(_chordal_supergraph)
_customize_basic_jit: Any = _jit(_customize_basic)
_relax = _jit(_relax)  # these helpers are inlined into the queries by LLVM
_unpack = _jit(_unpack)
_nodes_of = _jit(_nodes_of)
_ancestor_labels_jit: Any = _jit(_ancestor_labels)
_query_jit: Any = _jit(_query)
_query_labels_jit: Any = _jit(_query_labels)


# ---------------------------------------------------------------------------------------------------------
# topology


@dataclass(frozen=True, eq=False)
class CCHTopology:
    """The metric-independent part of a CCH: order, chordal supergraph, elimination tree, arc mapping.

    Attributes
    ----------
    rank
        Per node: its position in the nested-dissection order (``n``).
    parent, depth
        Elimination-tree parent of each rank (``-1`` at a root; one root per connected part) and the
        number of its ancestors.
    up_first, up_head, up_tail
        Supergraph edges as an upward CSR by rank: edges of rank ``x`` are ``up_first[x]:up_first[x + 1]``,
        their higher ends ``up_head`` sorted ascending, ``up_tail`` the lower end of each edge.
    down_first, down_edge
        For each rank ``x``, the edges ``{z, x}`` with ``z < x`` (ids into ``up_head``), ``z`` ascending.
    arc_tail, arc_head
        The input arcs (node ids).
    arc_edge, arc_up
        Supergraph edge of each input arc (``-1`` for a self-loop) and whether the arc runs upward.
    """

    rank: NDArray[np.int32]
    parent: NDArray[np.int32]
    depth: NDArray[np.int32]
    up_first: NDArray[np.int64]
    up_head: NDArray[np.int32]
    up_tail: NDArray[np.int32]
    down_first: NDArray[np.int64]
    down_edge: NDArray[np.int32]
    arc_tail: NDArray[np.int32]
    arc_head: NDArray[np.int32]
    arc_edge: NDArray[np.int32]
    arc_up: NDArray[np.bool_]

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.rank.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of supergraph edges (each with an upward and a downward weight)."""
        return int(self.up_head.shape[0])

    @cached_property
    def packed(self) -> NDArray[np.int32]:
        """What a query reads, in one array (one argument to pass instead of nine): ``n, m, arcs``, rank,
        parent, depth, up_tail, arc_tail, arc_head, up_first, up_head."""
        header = np.array([self.n_nodes, self.n_edges, self.arc_tail.shape[0]], np.int32)
        parts = (
            header,
            self.rank,
            self.parent,
            self.depth,
            self.up_tail,
            self.arc_tail,
            self.arc_head,
            self.up_first,
            self.up_head,
        )
        # int32: half the bytes a query pulls through the cache (ids stay far below 2**31).
        return np.concatenate([np.asarray(p, dtype=np.int32) for p in parts])

    @cached_property
    def scratch(self) -> ThreadScratch:
        """Query buffers, one set per thread, shared by every metric of this topology."""
        return ThreadScratch(self.n_nodes)

    @property
    def tree_height(self) -> int:
        """Longest elimination-tree path from a node to its root (nodes); bounds a query's work."""
        return int(self.depth.max(initial=-1)) + 1

    @cached_property
    def label_entries(self) -> int:
        """Number of (node, ancestor) pairs: the size of one direction's ancestor labels."""
        return int(self.depth.astype(np.int64).sum()) + self.n_nodes


def build_topology(
    tail: NDArray[np.integer],
    head: NDArray[np.integer],
    lat: NDArray[np.floating],
    lon: NDArray[np.floating],
    *,
    order: NDArray[np.integer] | None = None,
) -> CCHTopology:
    """Build a topology: inertial-flow nested dissection (unless ``order`` is given), then the fill-in.

    ``order[i]`` is the node of rank ``i`` (contracted ``i``-th; separators come last).
    """
    n = int(lat.shape[0])
    arc_tail = np.ascontiguousarray(tail, dtype=np.int32)
    arc_head = np.ascontiguousarray(head, dtype=np.int32)
    if order is None:
        order = np.asarray(
            routingkit_cch.compute_order_inertial(
                n,
                arc_tail.tolist(),
                arc_head.tolist(),
                np.asarray(lat, dtype=np.float32).tolist(),
                np.asarray(lon, dtype=np.float32).tolist(),
            ),
            dtype=np.int64,
        )
    rank = np.empty(n, np.int32)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(n, dtype=np.int32)
    rt, rh = rank[arc_tail].astype(np.int64), rank[arc_head].astype(np.int64)
    lo, hi = np.minimum(rt, rh), np.maximum(rt, rh)
    proper = lo != hi
    key = np.unique(lo[proper] * n + hi[proper])
    first = np.searchsorted(key // n, np.arange(n + 1)).astype(np.int64)
    adj = (key % n).astype(np.int32)
    up_first, up_head, parent, depth = _chordal_supergraph_jit(n, first, adj)
    up_tail = np.repeat(np.arange(n, dtype=np.int32), np.diff(up_first))
    down_edge = np.argsort(up_head, kind="stable").astype(np.int32)  # by head, then by tail
    down_first = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(up_head, minlength=n), out=down_first[1:])
    edge_key = up_tail.astype(np.int64) * n + up_head
    arc_edge = np.where(proper, np.searchsorted(edge_key, lo * n + hi), -1).astype(np.int32)
    return CCHTopology(
        rank=rank,
        parent=parent,
        depth=depth,
        up_first=up_first,
        up_head=up_head,
        up_tail=up_tail,
        down_first=down_first,
        down_edge=down_edge,
        arc_tail=arc_tail,
        arc_head=arc_head,
        arc_edge=arc_edge,
        arc_up=rt < rh,
    )


def save_topology(topology: CCHTopology, path: Path) -> None:
    """Write a topology as ``.npz``, atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cch-tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(
                fh,
                version=np.int64(TOPOLOGY_VERSION),
                **{name: getattr(topology, name) for name in CCHTopology.__dataclass_fields__},
            )
        os.replace(tmp, path)  # another process may have written the same file: either copy is good
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def load_topology(path: Path) -> CCHTopology | None:
    """Read a topology written by :func:`save_topology` (``None`` if missing or of another version)."""
    try:
        with np.load(path) as data:
            if int(data["version"]) != TOPOLOGY_VERSION:
                return None
            return CCHTopology(**{name: data[name] for name in CCHTopology.__dataclass_fields__})
    except (FileNotFoundError, KeyError, ValueError, OSError):
        return None


# ---------------------------------------------------------------------------------------------------------
# metric and query


#: Largest number of (node, ancestor) pairs for which a metric also stores ancestor labels (4 × 8 bytes
#: each): central Seoul has about 170,000; a 500,000-node graph has hundreds of millions and uses the
#: elimination-tree search instead.
LABEL_BUDGET = 1_000_000


@dataclass(frozen=True, eq=False)
class CCHMetric:
    """A customized metric: both weights of every supergraph edge, how each is realised, and (on small
    graphs) every node's upward search as labels over its elimination-tree ancestors."""

    weight: NDArray[np.int64]
    via: NDArray[np.int32]
    labels: NDArray[np.int64] | None = None

    @property
    def bound(self) -> tuple[Any, NDArray[np.int64], NDArray[np.int32]]:
        """``(kernel, data, via)`` for ``kernel(source, target, topology.packed, data, via, scratch)``."""
        if self.labels is not None:
            return _query_labels_jit, self.labels, self.via
        return _query_jit, self.weight, self.via


def customize(
    topology: CCHTopology, weights: NDArray[np.uint32], *, label_budget: int = LABEL_BUDGET
) -> CCHMetric:
    """A new metric for ``weights`` (one ``uint32`` per input arc); releases the GIL while it runs.

    Ancestor labels are added when the topology has at most ``label_budget`` (node, ancestor) pairs:
    a query then scans only the common ancestors of its ends instead of searching both tree paths.
    """
    w = np.ascontiguousarray(weights, dtype=np.uint32)
    if w.shape != topology.arc_edge.shape:
        msg = f"{w.shape[0]} weights for {topology.arc_edge.shape[0]} arcs"
        raise ValueError(msg)
    t = topology
    via = np.empty((t.n_edges, 4), np.int32)
    weight: NDArray[np.int64] = _customize_basic_jit(
        t.up_first, t.up_head, t.up_tail, t.down_first, t.down_edge, t.arc_edge, t.arc_up, w, via
    )
    return with_labels(t, CCHMetric(weight=weight, via=via), label_budget=label_budget)


def with_labels(
    topology: CCHTopology, metric: CCHMetric, *, label_budget: int = LABEL_BUDGET
) -> CCHMetric:
    """``metric`` with ancestor labels, if the topology has at most ``label_budget`` (node, ancestor) pairs
    (else ``metric`` itself). Costs several basic customizations (9 ms on central Seoul against 1 ms)."""
    if metric.labels is not None or topology.label_entries > label_budget:
        return metric
    t = topology
    labels = _ancestor_labels_jit(t.parent, t.depth, t.up_first, t.up_head, metric.weight)
    return CCHMetric(weight=metric.weight, via=metric.via, labels=labels)


def new_scratch(n_nodes: int) -> NDArray[np.int64]:
    """Query buffers for a topology of ``n_nodes``: labels (``INF``), predecessors, stack and answer."""
    return np.full(9 * n_nodes + 9, INF, np.int64)


class ThreadScratch(threading.local):
    """Query buffers per thread (a thread runs one query at a time; threads never share labels)."""

    def __init__(self, n_nodes: int) -> None:
        self.buffer = new_scratch(n_nodes)


def answer_offset(n_nodes: int) -> int:
    """Where a query kernel writes its answer in the scratch: ``k`` arcs, then ``k + 1`` nodes."""
    return 7 * n_nodes + 8


def run_query(
    topology_packed: NDArray[np.int32],
    metric: CCHMetric,
    source: int,
    target: int,
    scratch: NDArray[np.int64],
) -> tuple[int, int]:
    """One query into ``scratch``: ``(cost, k)``, cost ``-1`` when unreachable, the answer (``k`` arcs,
    then ``k + 1`` nodes) at :func:`answer_offset`. No bounds checks: callers validate the node ids."""
    kernel, data, via = metric.bound
    cost, k = kernel(source, target, topology_packed, data, via, scratch)
    return int(cost), int(k)


def query(
    topology: CCHTopology, metric: CCHMetric, source: int, target: int
) -> tuple[int, NDArray[np.int64], NDArray[np.int64]] | None:
    """Shortest path ``(cost, nodes, arcs)`` from ``source`` to ``target``, ``None`` when unreachable.

    A convenience for one-off queries (it allocates its buffers); routers keep theirs per thread.
    """
    n = topology.n_nodes
    if not (0 <= source < n and 0 <= target < n):
        msg = f"node ids must be in [0, {n}): got {source}, {target}"
        raise IndexError(msg)
    scratch = new_scratch(n)
    cost, k = run_query(topology.packed, metric, int(source), int(target), scratch)
    if cost < 0:
        return None
    found = scratch[answer_offset(n) : answer_offset(n) + 2 * k + 1]
    return int(cost), found[k:].copy(), found[:k].copy()


def warm_up() -> None:
    """Compile (or load from numba's disk cache) every kernel on a three-node graph, so the first route
    request of a server does not wait for the compiler (≈ 12 s cold, ≈ 1 s from the cache)."""
    tail = np.array([0, 1, 1, 2])
    head = np.array([1, 0, 2, 1])
    topology = build_topology(tail, head, np.array([37.5, 37.6, 37.7]), np.full(3, 127.0))
    for budget in (0, LABEL_BUDGET):
        metric = customize(topology, np.ones(4, np.uint32), label_budget=budget)
        query(topology, metric, 0, 2)
