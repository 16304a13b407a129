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

The sweep over a node only writes that node's upward edges and reads its descendants' edges, so on large
graphs whole elimination-tree subtrees are swept by several threads at once (:func:`plan_sweep`). A metric
is kept in ``int32`` when its weights allow it (half the bytes to stream and to read), else ``int64``.

On small graphs (:data:`LABEL_BUDGET`) a metric can also carry *ancestor labels*: every node's complete
upward search, stored over its elimination-tree ancestors, and every edge unpacked into input arcs. A
query then scans the common ancestors of its ends (about 20 on central Seoul) for the best meeting node
and copies a few runs of arcs.

The jitted kernels are compiled on first use and cached on disk by numba (``cache=True``). They release
the GIL (``nogil=True``), so a customization in one thread does not block queries in others.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
#: "No path" for a metric in ``int32`` (when all its arc weights sum below it): ``2 × INF32`` fits ``int32``.
INF32 = np.int32((1 << 30) - 1)
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


def _inf_of(a: NDArray[np.integer]) -> np.signedinteger[Any]:
    """The "no path" value of an array's weight type: :data:`INF` for ``int64``, :data:`INF32` for
    ``int32`` (the branch is resolved at compile time)."""
    return INF if a.itemsize == 8 else INF32


def _customize_init(
    lo: int,
    hi: int,
    edge_arc_first: NDArray[np.int64],
    edge_arc: NDArray[np.int32],
    weights: NDArray[np.uint32],
    basic: NDArray[np.int64],
    via: NDArray[np.int32],
) -> None:
    """Input weights of the supergraph edges ``lo:hi``: the cheapest arc of each direction (as
    ``-1 - arc`` in ``via[e, 0]``/``via[e, 2]``), else ``INF``. ``edge_arc`` holds ``2 arc + direction``
    grouped by edge; ``basic`` (``(m, 2)``: both directions of an edge share a cache line) may be
    ``int32`` or ``int64``. Disjoint ranges can be filled in parallel."""
    inf = _inf_of(basic)
    for e in range(lo, hi):
        basic[e, 0] = inf
        basic[e, 1] = inf
        via[e, 0] = -1  # every field defined: equal metrics have equal records
        via[e, 1] = 0
        via[e, 2] = -1
        via[e, 3] = 0
        for i in range(edge_arc_first[e], edge_arc_first[e + 1]):
            a = edge_arc[i] >> 1  # increasing: the first of equally cheap parallel arcs wins
            d = edge_arc[i] & 1
            w = weights[a]
            if w < basic[e, d]:
                basic[e, d] = w
                via[e, 2 * d] = -1 - a


def _customize_nodes(
    nodes: NDArray[np.int32],
    up_first: NDArray[np.int64],
    up_head: NDArray[np.int32],
    up_tail: NDArray[np.int32],
    down_first: NDArray[np.int64],
    down_edge: NDArray[np.int32],
    basic: NDArray[np.int64],
    via: NDArray[np.int32],
    slot: NDArray[np.int32],
) -> None:
    """Customize the upward edges of ``nodes`` (in increasing rank), in place.

    For each node ``x``, its upward edges ``{x, y}`` first take their input arcs (``edge_arc`` holds
    ``2 arc + direction`` by edge; the cheapest is kept, as ``-1 - arc`` in ``via[e, 0]``/``via[e, 2]``), then the minimum over their lower triangles
    ``{z, x, y}`` (``z < x``) of ``x → z → y`` and ``y → z → x``, recording the edges ``{z, x}``/``{z, y}``
    in ``via[e, 0:2]`` (upward) and ``via[e, 2:4]`` (downward).

    A node reads only edges of lower nodes ``z`` (descendants of ``x`` in the elimination tree) and
    writes only its own: lists whose nodes are not ancestors of one another can be customized in
    parallel, each with its own ``slot`` (``n``).
    """
    for x in nodes:
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


def _triangle_counts(
    up_first: NDArray[np.int64],
    up_tail: NDArray[np.int32],
    down_first: NDArray[np.int64],
    down_edge: NDArray[np.int32],
) -> NDArray[np.int64]:
    """Work of each node's sweep: its lower triangles plus its lower edges plus one."""
    n = up_first.shape[0] - 1
    work = np.ones(n, np.int64)
    for x in range(n):
        for k in range(down_first[x], down_first[x + 1]):
            ezx = down_edge[k]
            work[x] += up_first[up_tail[ezx] + 1] - ezx
    return work


def _split_subtrees(
    parent: NDArray[np.int32], work: NDArray[np.int64], parts: int
) -> NDArray[np.int32]:
    """Owner of each rank for a parallel sweep: one of ``parts`` lists of whole subtrees, or ``-1`` (the
    "top", swept afterwards by one thread).

    Greedy: starting from the roots, split the heaviest subtree (its root joins the top) and deal the
    subtrees to the parts heaviest first, each to the lightest part; keep the split with the smallest
    ``top + heaviest part``.
    """
    n = parent.shape[0]
    sub = work.copy()
    for v in range(n):  # a parent has a higher rank than its children
        if parent[v] != -1:
            sub[parent[v]] += sub[v]
    first_child = np.full(n, -1, np.int32)
    next_sibling = np.full(n, -1, np.int32)
    for v in range(n):
        p = parent[v]
        if p != -1:
            next_sibling[v] = first_child[p]
            first_child[p] = v
    cand = np.empty(n, np.int32)
    k = 0
    for v in range(n):
        if parent[v] == -1:
            cand[k] = v
            k += 1
    in_top = np.zeros(n, np.bool_)
    top_work = 0
    best = np.int64(1) << np.int64(62)
    best_steps = 0
    bins = np.zeros(parts, np.int64)
    # Pass 1: find the best number of splits; pass 2: redo that many and record the deal.
    for pass_ in range(2):
        steps = 0
        while True:
            order = np.argsort(-sub[cand[:k]])
            bins[:] = 0
            for i in order:
                j = np.argmin(bins)
                bins[j] += sub[cand[i]]
            cost = top_work + bins.max()
            if pass_ == 0 and cost < best:
                best = cost
                best_steps = steps
            if (pass_ == 1 and steps == best_steps) or k == 0 or steps >= 2048:
                break
            heavy = cand[order[0]]
            in_top[heavy] = True
            top_work += work[heavy]
            cand[order[0]] = cand[k - 1]
            k -= 1
            c = first_child[heavy]
            while c != -1:
                cand[k] = c
                k += 1
                c = next_sibling[c]
            steps += 1
        if pass_ == 0:  # restart from the roots
            k = 0
            for v in range(n):
                in_top[v] = False
                if parent[v] == -1:
                    cand[k] = v
                    k += 1
            top_work = 0
    owner = np.full(n, -1, np.int32)
    order = np.argsort(-sub[cand[:k]])
    bins[:] = 0
    for i in order:
        j = np.argmin(bins)
        bins[j] += sub[cand[i]]
        owner[cand[i]] = j
    for v in range(n - 1, -1, -1):  # top-down: a subtree's nodes inherit its root's part
        p = parent[v]
        if owner[v] == -1 and not in_top[v] and p != -1:
            owner[v] = owner[p]
    return owner


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
    row ``anc`` is ``a_i``, of row ``up`` the upward distance ``x → a_i`` and of row ``down`` the distance
    ``a_i → x``; row ``last`` holds the last supergraph edge into ``a_i`` (``-1`` at ``i = 0``) and row
    ``next`` the first edge out of ``a_i`` towards ``x``. Computed top-down: an upward path leaves ``x`` by
    one edge ``x → u`` and then follows ``u``'s own labels (``a_i`` is ``u``'s ancestor
    ``i - (depth x - depth u)``), so the edge records of ``u`` carry over unless ``a_i = u``.
    Returns ``first`` (``n + 1``) and the rows ``anc, up, down, last, next`` (``first[n]`` each) in one
    flat array of the weights' dtype (``int32`` halves what a query reads): one argument per query.
    """
    n = parent.shape[0]
    inf = _inf_of(weight)
    total = 0
    for x in range(n):
        total += depth[x] + 1
    packed = np.full(n + 1 + 5 * total, inf, weight.dtype)
    first = packed[: n + 1]
    first[0] = 0
    for x in range(n):
        first[x + 1] = first[x] + depth[x] + 1
    label = packed[n + 1 :].reshape((5, total))
    anc = label[0]
    for x in range(n - 1, -1, -1):
        o = first[x]
        dx = depth[x]
        anc[o] = x
        if dx > 0:
            anc[o + 1 : o + dx + 1] = anc[first[parent[x]] : first[parent[x]] + dx]
        label[1, o] = 0
        label[2, o] = 0
        label[3, o] = -1
        label[4, o] = -1
        for e in range(up_first[x], up_first[x + 1]):
            u = up_head[e]
            for d in range(2):
                w = weight[e, d]
                if w >= inf:
                    continue
                shift = dx - depth[u]
                ou = first[u] - shift
                # u itself: the edge is the last (first) step
                if w < label[1 + d, o + shift]:
                    label[1 + d, o + shift] = w
                    label[3 + d, o + shift] = e
                for i in range(shift + 1, dx + 1):
                    lu = label[1 + d, ou + i]
                    if lu < inf:
                        c = w + lu
                        if c < label[1 + d, o + i]:
                            label[1 + d, o + i] = c
                            label[3 + d, o + i] = label[3 + d, ou + i]
    return packed


def _expansions(weight: NDArray[np.int64], via: NDArray[np.int32]) -> NDArray[np.int64]:
    """Every supergraph edge and direction unpacked once into input arcs, for label queries.

    Returns ``start`` (``2 m + 1``) followed by the arcs, in ``int64``: the arcs of edge ``e`` in direction ``d`` are
    entries ``start[2 e + d]:start[2 e + d + 1]`` of the arcs, in path order (none if it has no path).
    Edges are filled by increasing id (= lower end): the two edges of a lower triangle come first.
    A query then copies a few runs instead of following ``via`` one random access per arc (about 5 ×
    the size of ``via`` on central Seoul).
    """
    m = weight.shape[0]
    inf = _inf_of(weight)
    start = np.zeros(2 * m + 1, np.int64)
    for e in range(m):
        for d in range(2):
            c = 2 * e + d
            a = via[e, 2 * d]
            if weight[e, d] >= inf:
                n_arcs = 0
            elif a < 0:
                n_arcs = 1
            elif d == 0:  # x → y = x → z (down on {z, x}) + z → y (up on {z, y})
                n_arcs = (start[2 * a + 2] - start[2 * a + 1]) + (
                    start[2 * via[e, 1] + 1] - start[2 * via[e, 1]]
                )
            else:  # y → x = y → z (down on {z, y}) + z → x (up on {z, x})
                n_arcs = (start[2 * via[e, 3] + 2] - start[2 * via[e, 3] + 1]) + (
                    start[2 * a + 1] - start[2 * a]
                )
            start[c + 1] = start[c] + n_arcs
    packed = np.empty(2 * m + 1 + start[2 * m], np.int64)
    packed[: 2 * m + 1] = start
    arcs = packed[2 * m + 1 :]
    for e in range(m):
        for d in range(2):
            c = 2 * e + d
            o = start[c]
            if start[c + 1] == o:
                continue
            a = via[e, 2 * d]
            if a < 0:
                arcs[o] = -1 - a
                continue
            if d == 0:
                first_code, second_code = 2 * a + 1, 2 * via[e, 1]
            else:
                first_code, second_code = 2 * via[e, 3] + 1, 2 * a
            for p in range(start[first_code], start[first_code + 1]):
                arcs[o] = arcs[p]
                o += 1
            for p in range(start[second_code], start[second_code + 1]):
                arcs[o] = arcs[p]
                o += 1
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
    ``labels`` is :func:`_ancestor_labels` followed by :func:`_expansions` (``via`` is not read). The common ancestors of both ends are the common
    prefix (from the root) of their ``anc`` rows, so one sequential scan of four short runs finds the
    lowest common ancestor and the best meeting node together: no walk up ``parent`` pointers, whose
    every step is a dependent cache miss once other work has evicted the labels.
    """
    n = topo[0]
    m = topo[1]
    n_arcs = topo[2]
    rank = topo[3 : 3 + n]
    up_tail = topo[3 + 3 * n : 3 + 3 * n + m]
    arc_tail = topo[3 + 3 * n + m : 3 + 3 * n + m + n_arcs]
    arc_head = topo[3 + 3 * n + m + n_arcs : 3 + 3 * n + m + 2 * n_arcs]
    inf = _inf_of(labels)
    first = labels[: n + 1]
    total = first[n]
    anc = labels[n + 1 : n + 1 + total]
    up = labels[n + 1 + total : n + 1 + 2 * total]
    down = labels[n + 1 + 2 * total : n + 1 + 3 * total]
    last = labels[n + 1 + 3 * total : n + 1 + 4 * total]
    nxt = labels[n + 1 + 4 * total : n + 1 + 5 * total]
    start = labels[n + 1 + 5 * total : n + 2 + 5 * total + 2 * m]
    expanded = labels[n + 2 + 5 * total + 2 * m :]
    stack = scratch[4 * n : 7 * n + 8]
    out = scratch[7 * n + 8 :]
    if source == target:
        out[0] = source
        return 0, 0
    rs = rank[source]
    rt = rank[target]
    top_s = first[rs + 1] - 1  # the root's entry in each label list (entries run from the node up)
    top_t = first[rt + 1] - 1
    common = min(top_s - first[rs], top_t - first[rt]) + 1
    best = inf
    j_best = -1
    for j in range(common):
        if anc[top_s - j] != anc[top_t - j]:
            break  # different trees meet nowhere: no path
        c = up[top_s - j] + down[top_t - j]
        if c < best:
            best = c
            j_best = j
    if j_best < 0:
        return -1, 0
    # Top-level supergraph steps in path order: source up to the meeting node via the last-step records
    # (met from the top, so written backwards), then down to the target via the first-step ones. The
    # entry of ancestor v in x's list is first[x + 1] - 1 - depth(v), depth(v) = first[v + 1] - first[v] - 1.
    meet = anc[top_s - j_best]
    sp = 0
    v = meet
    while v != rs:
        sp += 1
        v = up_tail[last[top_s - (first[v + 1] - first[v] - 1)]]
    v = meet
    i = sp
    while v != rs:
        e = last[top_s - (first[v + 1] - first[v] - 1)]
        i -= 1
        stack[i] = 2 * e
        v = up_tail[e]
    v = meet
    while v != rt:
        e = nxt[top_t - (first[v + 1] - first[v] - 1)]
        stack[sp] = 2 * e + 1
        sp += 1
        v = up_tail[e]
    # Each step's arcs are one run of the precomputed expansions.
    k = 0
    for i in range(sp):
        c = stack[i]
        for p in range(start[c], start[c + 1]):
            out[k] = expanded[p]
            k += 1
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

    ``topo`` is :attr:`CCHTopology.packed`, ``weight``/``via`` come from :func:`customize`. ``scratch``
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
    # Weights may be int32 (INF32 for "none"): a label built over a missing edge is ≥ inf, never < inf.
    inf = _inf_of(weight)
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
    best = inf
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
            if df < inf:
                _relax(up_first, up_head, weight, 0, vs, df, fwd, pred_f)
            vs = parent[vs]
        else:
            db = bwd[vt]
            if db < inf:
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
_inf_of = _jit(_inf_of)
_customize_init_jit: Any = _jit(_customize_init)
_customize_nodes_jit: Any = _jit(_customize_nodes)
_triangle_counts_jit: Any = _jit(_triangle_counts)
_split_subtrees_jit: Any = _jit(_split_subtrees)
_relax = _jit(_relax)  # these helpers are inlined into the queries by LLVM
_unpack = _jit(_unpack)
_nodes_of = _jit(_nodes_of)
_ancestor_labels_jit: Any = _jit(_ancestor_labels)
_expansions_jit: Any = _jit(_expansions)
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
    def arcs_by_edge(self) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
        """Input arcs grouped by supergraph edge, as a CSR ``(first, 2 arc + direction)`` (``0`` upward),
        arcs of an edge in increasing order; self-loops left out."""
        order = np.argsort(self.arc_edge, kind="stable")
        order = order[self.arc_edge[order] >= 0]
        first = np.searchsorted(self.arc_edge[order], np.arange(self.n_edges + 1)).astype(np.int64)
        code = 2 * order.astype(np.int64) + (~self.arc_up[order]).astype(np.int64)
        return first, code.astype(np.int32)

    @cached_property
    def sweep_plan(self) -> tuple[tuple[NDArray[np.int32], ...], NDArray[np.int32]]:
        """:func:`plan_sweep` for :data:`CUSTOMIZE_THREADS` (none on small graphs), computed once."""
        return plan_sweep(self, threads=CUSTOMIZE_THREADS, min_work=PARALLEL_MIN_WORK)

    @cached_property
    def label_entries(self) -> int:
        """Number of (node, ancestor) pairs: the size of one direction's ancestor labels."""
        return int(self.depth.astype(np.int64).sum()) + self.n_nodes


def plan_sweep(
    topology: CCHTopology, *, threads: int, min_work: int = 0
) -> tuple[tuple[NDArray[np.int32], ...], NDArray[np.int32]]:
    """How a customization sweeps the nodes: ``(parts, top)``.

    The ``threads`` parts (lists of whole elimination-tree subtrees, by rank) are swept at once, then
    ``top`` (their common ancestors) by one thread. No parts for one thread, or when the sweep has less
    than ``min_work`` (lower triangles and edges): one thread sweeps all nodes.
    """
    t = topology
    if threads < 2:
        return (), np.arange(t.n_nodes, dtype=np.int32)
    work = _triangle_counts_jit(t.up_first, t.up_tail, t.down_first, t.down_edge)
    if int(work.sum()) < min_work:
        return (), np.arange(t.n_nodes, dtype=np.int32)
    owner = _split_subtrees_jit(t.parent, work, threads)
    parts = tuple(np.flatnonzero(owner == i).astype(np.int32) for i in range(threads))
    return parts, np.flatnonzero(owner == -1).astype(np.int32)


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


#: Largest number of (node, ancestor) pairs for which a metric also stores ancestor labels (5 × 4 bytes
#: each in ``int32``, 5 × 8 in ``int64``): central Seoul has about 170,000; a 500,000-node graph has hundreds of millions and uses the
#: elimination-tree search instead.
LABEL_BUDGET = 1_000_000


@dataclass(frozen=True, eq=False)
class CCHMetric:
    """A customized metric: both weights of every supergraph edge, how each is realised, and (on small
    graphs) every node's upward search as labels over its elimination-tree ancestors.

    ``weight`` (``(m, 2)``) and ``labels`` are ``int32`` when the arc weights allow it (see
    :func:`customize`), else ``int64``; ``INF32``/``INF`` stands for "no edge".
    """

    weight: NDArray[np.int64]
    via: NDArray[np.int32]
    labels: NDArray[np.int64] | None = None

    @property
    def bound(self) -> tuple[Any, NDArray[np.int64], NDArray[np.int32]]:
        """``(kernel, data, via)`` for ``kernel(source, target, topology.packed, data, via, scratch)``."""
        if self.labels is not None:
            return _query_labels_jit, self.labels, self.via
        return _query_jit, self.weight, self.via


def _threads() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


#: Threads sweeping a large graph's customization (the CPUs this process may use, at most 4).
CUSTOMIZE_THREADS = _threads()
#: Sweep work (lower triangles and edges) from which a customization uses several threads: a 500k-node
#: graph has about 60 million; central Seoul (under 1 million, about 1 ms) stays on one thread.
PARALLEL_MIN_WORK = 4_000_000

_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _sweep_pool() -> ThreadPoolExecutor:
    """Threads for the parallel parts of sweeps. Plain Python threads running a ``nogil`` kernel: no
    numba threading layer (tbb/omp may be missing, workqueue is not thread-safe), and concurrent
    customizations from several routers simply queue their parts."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=max(1, CUSTOMIZE_THREADS - 1), thread_name_prefix="cch-sweep"
            )
        return _pool


def _forget_pool() -> None:
    global _pool, _pool_lock
    _pool = None  # a forked child has none of its parent's threads: start new ones when needed
    _pool_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def _in_parallel(tasks: list[Callable[[], None]]) -> None:
    """Run ``tasks`` at once: the first in this thread, the others in :func:`_sweep_pool`."""
    futures = [_sweep_pool().submit(task) for task in tasks[1:]]
    try:
        if tasks:
            tasks[0]()
    finally:
        for future in futures:
            future.result()


def customize(
    topology: CCHTopology,
    weights: NDArray[np.uint32],
    *,
    label_budget: int = LABEL_BUDGET,
    threads: int | None = None,
) -> CCHMetric:
    """A new metric for ``weights`` (one ``uint32`` per input arc); releases the GIL while it runs.

    The metric is kept in ``int32`` when all arc weights sum below :data:`INF32` (every shortcut is a
    simple path, so no weight or sum of two can overflow), else in ``int64``. On large graphs the triangle
    sweep runs on several threads (:attr:`CCHTopology.sweep_plan`, or :func:`plan_sweep` for ``threads``
    given, on any graph); the result is the same either way.
    Ancestor labels are added when the topology has at most ``label_budget`` (node, ancestor) pairs:
    a query then scans only the common ancestors of its ends instead of searching both tree paths.
    """
    w = np.ascontiguousarray(weights, dtype=np.uint32)
    if w.shape != topology.arc_edge.shape:
        msg = f"{w.shape[0]} weights for {topology.arc_edge.shape[0]} arcs"
        raise ValueError(msg)
    t = topology
    dtype = np.int32 if int(w.sum(dtype=np.int64)) < INF32 else np.int64
    weight: NDArray[np.int64] = np.empty((t.n_edges, 2), dtype)  # filled by init, then the sweep
    via = np.empty((t.n_edges, 4), np.int32)
    parts, top = t.sweep_plan if threads is None else plan_sweep(t, threads=threads)
    edge_arc_first, edge_arc = t.arcs_by_edge

    def init(part: int, n_parts: int) -> None:
        lo, hi = t.n_edges * part // n_parts, t.n_edges * (part + 1) // n_parts
        _customize_init_jit(lo, hi, edge_arc_first, edge_arc, w, weight, via)

    def sweep(nodes: NDArray[np.int32]) -> None:
        slot = np.empty(t.n_nodes, np.int32)  # per thread
        _customize_nodes_jit(
            nodes, t.up_first, t.up_head, t.up_tail, t.down_first, t.down_edge, weight, via, slot
        )

    n_init = len(parts) or 1
    _in_parallel([functools.partial(init, i, n_init) for i in range(n_init)])
    _in_parallel([functools.partial(sweep, part) for part in parts])
    sweep(top)
    return with_labels(t, CCHMetric(weight=weight, via=via), label_budget=label_budget)


def with_labels(
    topology: CCHTopology, metric: CCHMetric, *, label_budget: int = LABEL_BUDGET
) -> CCHMetric:
    """``metric`` with ancestor labels, if the topology has at most ``label_budget`` (node, ancestor) pairs
    (else ``metric`` itself). Costs several basic customizations (9 ms on central Seoul against 1 ms).
    The labels also hold every edge's unpacked arcs (:func:`_expansions`)."""
    if metric.labels is not None or topology.label_entries > label_budget:
        return metric
    t = topology
    expansions: NDArray[np.int64] = _expansions_jit(metric.weight, metric.via)
    if expansions.shape[0] > 16 * label_budget + 2 * t.n_edges + 1 or (
        metric.weight.dtype == np.int32 and int(expansions[2 * t.n_edges]) >= INF32
    ):
        return metric  # paths too long to store them all: stay with the tree search
    ancestors = _ancestor_labels_jit(t.parent, t.depth, t.up_first, t.up_head, metric.weight)
    labels = np.concatenate([ancestors, expansions.astype(ancestors.dtype)])
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
