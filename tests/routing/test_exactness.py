"""Exactness: every CCH answer equals scipy Dijkstra's optimum for the same integer metric."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from ansim.routing.engine import CCHRouter, DijkstraRouter, as_weights, cch_topology
from ansim.routing.fields import ArrayRiskField, default_level_scale
from ansim.routing.network import Network
from ansim.routing.planner import (
    FASTEST_UNITS_PER_S,
    Routers,
    _arc_exposure,
    _sample_risk,
    metric_spec,
    metric_weights,
)

from .conftest import DEPART


def _metrics(net: Network, hazard: ArrayRiskField) -> dict[str, np.ndarray]:
    risk = _sample_risk(net, hazard, DEPART, 3600.0, default_level_scale(hazard))
    exposure, rank = _arc_exposure(net, risk, None)
    assert exposure.max() > 0  # the hazard lies on the network
    out = {}
    for name, spec in {
        "fastest": metric_spec("fastest"),
        "balanced": metric_spec("balanced", balance="medium"),
        "safest": metric_spec("safest"),
        "avoid": metric_spec("fastest", avoid_rank=3),
    }.items():
        out[name] = metric_weights(net, spec, exposure, rank)
    return out


def _check_pairs(net: Network, routers: Routers, weights: np.ndarray, pairs: np.ndarray) -> None:
    oracle = DijkstraRouter.for_network(net)
    oracle.customize(weights)
    router = routers.get(weights)
    for s, t in pairs:
        got = router.query(int(s), int(t))
        ref = oracle.query(int(s), int(t))
        assert got is not None
        assert ref is not None
        assert got.cost == ref.cost
        # the unpacked path is a real path of the network and adds up to its cost
        assert int(weights[got.arcs].astype(np.int64).sum()) == got.cost
        if got.arcs.size:
            assert net.tail[got.arcs[0]] == s
            assert net.head[got.arcs[-1]] == t
            assert np.array_equal(net.head[got.arcs[:-1]], net.tail[got.arcs[1:]])


@pytest.mark.parametrize("profile", ["walk", "drive"])
def test_cch_equals_dijkstra_on_seeded_pairs(
    profile: str,
    central_walk: Network,
    central_drive: Network,
    walk_routers: Routers,
    drive_routers: Routers,
    hazard: ArrayRiskField,
) -> None:
    net, routers = (
        (central_walk, walk_routers) if profile == "walk" else (central_drive, drive_routers)
    )
    rng = np.random.default_rng(20200310)
    pairs = rng.integers(net.n_nodes, size=(40, 2))
    for weights in _metrics(net, hazard).values():
        _check_pairs(net, routers, weights, pairs)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    s=st.integers(min_value=0, max_value=3383),
    t=st.integers(min_value=0, max_value=3383),
    scale=st.sampled_from([1, 7, 1000]),
)
def test_cch_equals_dijkstra_property(
    s: int, t: int, scale: int, central_walk: Network, walk_routers: Routers
) -> None:
    weights = as_weights(central_walk.length_m * scale)
    _check_pairs(central_walk, walk_routers, weights, np.array([[s, t]]))


def test_walking_fastest_length_is_undirected_shortest_length(
    central_walk: Network, walk_routers: Routers
) -> None:
    net = central_walk
    n = net.n_nodes
    # The undirected street graph by length (cheapest parallel edge), independent of our profile code.
    a = np.minimum(net.tail, net.head).astype(np.int64)
    b = np.maximum(net.tail, net.head).astype(np.int64)
    order = np.lexsort((net.length_m, b, a))
    first = np.ones(order.size, bool)
    first[1:] = (a[order][1:] != a[order][:-1]) | (b[order][1:] != b[order][:-1])
    best = order[first]
    graph = csr_matrix((net.length_m[best], (a[best], b[best])), shape=(n, n))
    router = walk_routers.get(metric_weights(net, metric_spec("fastest")))
    rng = np.random.default_rng(7)
    sources = rng.integers(n, size=8)
    dist = dijkstra(graph, directed=False, indices=sources)
    # Walking time is length / 4.8 km/h, rounded per arc to 1 ms (0.00067 m): the bound of the difference.
    quantum_m = 0.5 / FASTEST_UNITS_PER_S * (4.8 / 3.6)
    for row, s in enumerate(sources):
        for t in rng.integers(n, size=6):
            got = router.query(int(s), int(t))
            assert got is not None
            length = float(net.length_m[got.arcs].sum())
            assert length == pytest.approx(dist[row, t], abs=2 * quantum_m * max(1, got.arcs.size))


def test_customization_swaps_without_blocking(central_walk: Network, routing_cache: Path) -> None:
    net = central_walk
    w_old = metric_weights(net, metric_spec("fastest"))
    w_new = as_weights(net.length_m * 3 + 1000)
    router = CCHRouter(cch_topology(net, cache_dir=routing_cache))
    router.customize(w_old)
    old = router.query(0, 1000)
    oracle = DijkstraRouter.for_network(net)
    oracle.customize(w_new)
    new = oracle.query(0, 1000)
    assert old is not None
    assert new is not None
    assert old.cost != new.cost
    seen: set[int] = set()
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            got = router.query(0, 1000)
            if got is not None:
                seen.add(got.cost)

    reader = threading.Thread(target=ask)
    reader.start()
    for _ in range(5):
        router.customize_in_background(w_new).result()
        router.customize_in_background(w_old).result()
    router.customize_in_background(w_new).result()
    stop.set()
    reader.join()
    router.close()
    assert seen
    assert seen <= {old.cost, new.cost}
    final = router.query(0, 1000)
    assert final is not None
    assert final.cost == new.cost
