"""The numba CCH engine itself: exact on random small graphs (both query modes), cache, threads."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from ansim.routing import cch
from ansim.routing.engine import CCHRouter, DijkstraRouter, as_weights, cch_topology
from ansim.routing.network import Network


def _all_pairs(
    tail: NDArray[np.int64], head: NDArray[np.int64], w: NDArray[np.uint32], n: int
) -> NDArray[np.float64]:
    """All-pairs costs by scipy over the cheapest of parallel arcs, without self-loops."""
    best: dict[tuple[int, int], int] = {}
    for a, b, c in zip(tail.tolist(), head.tolist(), w.tolist(), strict=True):
        if a != b and ((a, b) not in best or c < best[(a, b)]):
            best[(a, b)] = c
    rows = [a for a, _ in best]
    cols = [b for _, b in best]
    graph = csr_matrix((list(best.values()), (rows, cols)), shape=(n, n), dtype=np.float64)
    return np.asarray(dijkstra(graph, directed=True))


class SmallGraph(NamedTuple):
    n: int
    tail: NDArray[np.int64]
    head: NDArray[np.int64]
    weights: NDArray[np.uint32]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    order: NDArray[np.int64] | None


@st.composite
def small_graphs(draw: st.DrawFn) -> SmallGraph:
    """Up to 24 nodes in up to 3 parts; two-way and one-way streets, parallel arcs, self-loops."""
    n = draw(st.integers(min_value=1, max_value=24))
    parts = draw(st.integers(min_value=1, max_value=3))
    part = np.asarray(draw(st.lists(st.integers(0, parts - 1), min_size=n, max_size=n)))
    n_streets = draw(st.integers(min_value=0, max_value=3 * n))
    tail: list[int] = []
    head: list[int] = []
    for _ in range(n_streets):
        a = draw(st.integers(0, n - 1))
        same = np.flatnonzero(part == part[a])
        b = int(same[draw(st.integers(0, same.size - 1))])  # never across parts: they stay apart
        kind = draw(st.sampled_from(["two-way", "one-way", "parallel"]))
        tail.append(a)
        head.append(b)
        if kind == "two-way":
            tail.append(b)
            head.append(a)
        elif kind == "parallel":
            tail.append(a)
            head.append(b)
    m = len(tail)
    # Seconds times units, as the planner does: many round to the minimum weight 1 (ties everywhere).
    raw = draw(
        st.lists(
            st.one_of(st.floats(0.0, 2.0), st.floats(0.0, 5e7)),
            min_size=m,
            max_size=m,
        )
    )
    coords = draw(st.lists(st.floats(-1.0, 1.0), min_size=2 * n, max_size=2 * n))
    order = draw(st.one_of(st.none(), st.permutations(list(range(n)))))
    return SmallGraph(
        n=n,
        tail=np.asarray(tail, dtype=np.int64),
        head=np.asarray(head, dtype=np.int64),
        weights=as_weights(np.asarray(raw, dtype=np.float64)),
        lat=37.5 + 0.01 * np.asarray(coords[:n]),
        lon=127.0 + 0.01 * np.asarray(coords[n:]),
        order=None if order is None else np.asarray(order, dtype=np.int64),
    )


def _check_path(
    got: tuple[int, NDArray[np.int64], NDArray[np.int64]],
    s: int,
    t: int,
    tail: NDArray[np.int64],
    head: NDArray[np.int64],
    w: NDArray[np.uint32],
) -> None:
    cost, nodes, arcs = got
    assert int(w[arcs].astype(np.int64).sum()) == cost
    assert nodes[0] == s
    assert nodes[-1] == t
    assert nodes.size == arcs.size + 1
    assert np.array_equal(tail[arcs], nodes[:-1])
    assert np.array_equal(head[arcs], nodes[1:])


@settings(max_examples=150, deadline=None)
@given(
    g=small_graphs(),
    label_budget=st.sampled_from([0, cch.LABEL_BUDGET]),
    threads=st.sampled_from([None, 2]),
)
def test_costs_and_paths_equal_dijkstra_on_random_graphs(
    g: SmallGraph, label_budget: int, threads: int | None
) -> None:
    n, tail, head, w = g.n, g.tail, g.head, g.weights
    topo = cch.build_topology(tail, head, g.lat, g.lon, order=g.order)
    metric = cch.customize(topo, w, label_budget=label_budget, threads=threads)
    # int32 exactly when the weights allow it (random weights up to 2e7 cover both)
    small = int(w.astype(np.int64).sum()) < cch.INF32
    assert metric.weight.dtype == (np.int32 if small else np.int64)
    assert (metric.labels is not None) == (label_budget > 0)
    ref = _all_pairs(tail, head, w, n)
    for s in range(n):
        for t in range(n):
            got = cch.query(topo, metric, s, t)
            if not np.isfinite(ref[s, t]):
                assert got is None
                continue
            assert got is not None
            assert got[0] == int(ref[s, t])
            _check_path(got, s, t, tail, head, w)


def test_same_node_and_bounds() -> None:
    tail = np.array([0, 1], np.int64)
    head = np.array([1, 0], np.int64)
    topo = cch.build_topology(tail, head, np.array([37.5, 37.6]), np.array([127.0, 127.1]))
    router = CCHRouter(topo)
    router.customize(np.array([5, 7], np.uint32))
    same = router.query(1, 1)
    assert same is not None
    assert same.cost == 0
    assert same.nodes.tolist() == [1]
    assert same.arcs.size == 0
    there = router.query(0, 1)
    assert there is not None
    assert (there.cost, there.nodes.tolist(), there.arcs.tolist()) == (5, [0, 1], [0])
    with pytest.raises(IndexError):
        router.query(0, 2)
    with pytest.raises(IndexError):
        router.query(-1, 0)
    with pytest.raises(ValueError, match="weights"):
        router.customize(np.array([1], np.uint32))


def test_topology_is_cached_on_disk(central_drive: Network, tmp_path: Path) -> None:
    built = cch_topology(central_drive, cache_dir=tmp_path)
    files = list(tmp_path.glob(f"cch-{central_drive.digest}-v*.npz"))
    assert len(files) == 1
    loaded = cch_topology(central_drive, cache_dir=tmp_path)
    assert loaded is not built
    for name in cch.CCHTopology.__dataclass_fields__:
        assert np.array_equal(getattr(loaded, name), getattr(built, name)), name
    # A damaged file is rebuilt, not trusted.
    files[0].write_bytes(b"not a topology")
    again = cch_topology(central_drive, cache_dir=tmp_path)
    assert np.array_equal(again.up_head, built.up_head)


def test_tree_search_and_labels_agree_on_central_seoul(
    central_drive: Network, routing_cache: Path
) -> None:
    net = central_drive
    topo = cch_topology(net, cache_dir=routing_cache)
    assert topo.label_entries <= cch.LABEL_BUDGET  # the product answers city queries from labels
    w = as_weights(net.duration_s * 1000)
    labelled = cch.customize(topo, w)
    searched = cch.customize(topo, w, label_budget=0)
    assert labelled.labels is not None
    assert searched.labels is None
    assert labelled.labels.dtype == searched.weight.dtype == np.int32  # half the bytes per query
    oracle = DijkstraRouter.for_network(net)
    oracle.customize(w)
    rng = np.random.default_rng(5)
    tail, head = net.tail.astype(np.int64), net.head.astype(np.int64)
    for s, t in rng.integers(net.n_nodes, size=(30, 2)).tolist():
        ref = oracle.query(s, t)
        assert ref is not None
        for metric in (labelled, searched):
            got = cch.query(topo, metric, s, t)
            assert got is not None
            assert got[0] == ref.cost
            _check_path(got, s, t, tail, head, w)


@pytest.mark.parametrize("threads", [2, 3])
def test_parallel_sweep_equals_one_thread(
    central_walk: Network, routing_cache: Path, threads: int
) -> None:
    net = central_walk
    topo = cch_topology(net, cache_dir=routing_cache)
    parts, top = cch.plan_sweep(topo, threads=threads)
    assert len(parts) == threads
    assert all(part.size > 0 for part in parts)
    # Every node once, each list by rank, and a node's ancestors lie in its own part or in the top
    # (which is closed upwards): the parts never read what another part writes.
    everything = np.concatenate([*parts, top])
    assert np.array_equal(np.sort(everything), np.arange(topo.n_nodes))
    assert all(np.all(np.diff(nodes) > 0) for nodes in (*parts, top))
    owner = np.full(topo.n_nodes, -1)
    for i, part in enumerate(parts):
        owner[part] = i
    child = np.flatnonzero(topo.parent >= 0)
    above = owner[topo.parent[child]]
    assert np.all((above == owner[child]) | (above == -1))
    w = as_weights(net.duration_s * 1000)
    one = cch.customize(topo, w, label_budget=0, threads=1)
    many = cch.customize(topo, w, label_budget=0, threads=threads)
    assert np.array_equal(one.weight, many.weight)
    assert np.array_equal(one.via, many.via)  # the same records, not only the same costs


@pytest.mark.parametrize("labels_after", [None, 0])
def test_concurrent_queries_use_their_own_buffers(
    central_walk: Network, routing_cache: Path, labels_after: int | None
) -> None:
    # Fixed query mode: labels and tree search may pick different paths of equal cost.
    net = central_walk
    router = CCHRouter(cch_topology(net, cache_dir=routing_cache), labels_after=labels_after)
    w = as_weights(net.length_m * 7)
    router.customize(w)
    rng = np.random.default_rng(11)
    pairs = rng.integers(net.n_nodes, size=(200, 2)).tolist()
    expected = []
    for s, t in pairs:
        res = router.query(s, t)
        assert res is not None
        expected.append((res.cost, res.arcs.tolist()))
    wrong: list[int] = []

    def ask(offset: int) -> None:
        for _ in range(5):
            for i in range(len(pairs)):
                j = (i + offset) % len(pairs)
                res = router.query(*pairs[j])
                if res is None or (res.cost, res.arcs.tolist()) != expected[j]:
                    wrong.append(j)

    threads = [threading.Thread(target=ask, args=(k * 37,)) for k in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert wrong == []


@pytest.mark.parametrize("label_budget", [0, cch.LABEL_BUDGET])
def test_costs_beyond_int32(label_budget: int) -> None:
    # A 300-arc one-way chain of capped arcs costs 6e9 units: shortcuts no longer fit 32 bits.
    n = 301
    tail = np.arange(n - 1, dtype=np.int64)
    head = tail + 1
    w = as_weights(np.full(n - 1, 1e12))
    topo = cch.build_topology(tail, head, 37.5 + 1e-4 * np.arange(n), np.full(n, 127.0))
    metric = cch.customize(topo, w, label_budget=label_budget)
    assert metric.weight.dtype == np.int64
    got = cch.query(topo, metric, 0, n - 1)
    assert got is not None
    assert got[0] == int(w.astype(np.int64).sum()) > 2**32
    assert got[2].tolist() == list(range(n - 1))
    assert cch.query(topo, metric, n - 1, 0) is None


def test_router_adds_labels_once_a_metric_is_busy(
    central_walk: Network, routing_cache: Path
) -> None:
    net = central_walk
    router = CCHRouter(cch_topology(net, cache_dir=routing_cache), labels_after=5)
    w = as_weights(net.length_m * 1000)
    router.customize(w)
    assert not router.has_labels
    pairs = np.random.default_rng(3).integers(net.n_nodes, size=(12, 2)).tolist()
    before = [router.query(s, t) for s, t in pairs]
    router.close()  # waits for the background labels, submitted at the 5th query
    assert router.has_labels
    after = [router.query(s, t) for s, t in pairs]
    for old, new in zip(before, after, strict=True):
        assert old is not None
        assert new is not None
        assert old.cost == new.cost
        assert int(w[new.arcs].astype(np.int64).sum()) == new.cost
    # A new customization starts without labels again; never=None keeps the tree search.
    router.customize(as_weights(net.length_m * 7))
    assert not router.has_labels
    plain = CCHRouter(cch_topology(net, cache_dir=routing_cache), labels_after=None)
    plain.customize(w)
    for s, t in pairs:
        plain.query(s, t)
    plain.wait_for_labels()
    assert not plain.has_labels
