"""Shortest-path engines behind one small interface: RoutingKit CCH (pyroutingkit) and a scipy Dijkstra oracle.

Weights are ``uint32`` per arc, at least 1 (see ``planner`` for the units of each objective). A
:class:`Router` holds one metric: ``customize(weights)`` then ``query(s, t)``.

CCH (Customizable Contraction Hierarchies, Dibbelt, Strasser & Wagner 2016) splits preprocessing in two:
the metric-independent *topology* (nested-dissection order + chordal supergraph; seconds to ~45 s at 500k
nodes) is built once per network and cached on disk; the *customization* for a new weight vector takes
milliseconds to ~0.3 s. :meth:`CCHRouter.customize` customizes a fresh metric object and then swaps one
reference, so queries running in other threads keep using the old metric until the new one is complete
(pyroutingkit releases the GIL while customizing, so queries are not blocked).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pyroutingkit
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from ansim.routing.network import Network
from ansim.settings import get_settings

#: Largest cost RoutingKit treats as finite (2**31 - 1). Arc weights are clipped to stay far below it.
INF_WEIGHT = int(pyroutingkit.INF_WEIGHT)
#: Cap of one arc weight (5.5 h in ms, 23 days in ds): ~100 capped arcs still fit below ``INF_WEIGHT``.
MAX_ARC_WEIGHT = 20_000_000


@dataclass(frozen=True)
class PathResult:
    """A shortest path: integer cost in the metric's units, node ids and arc ids (input arc indices)."""

    cost: int
    nodes: NDArray[np.int64]
    arcs: NDArray[np.int64]


class Router(Protocol):
    """One customizable metric over one network."""

    def customize(self, weights: NDArray[np.uint32]) -> None:
        """Install new arc weights (``uint32``, one per arc, ≥ 1)."""
        ...

    def query(self, source: int, target: int) -> PathResult | None:
        """Shortest path from ``source`` to ``target``, or ``None`` when unreachable."""
        ...


def as_weights(values: NDArray[np.floating] | NDArray[np.integer]) -> NDArray[np.uint32]:
    """Round to ``uint32`` arc weights in ``[1, MAX_ARC_WEIGHT]`` (zero-weight arcs make ties unstable)."""
    return np.clip(np.rint(values), 1, MAX_ARC_WEIGHT).astype(np.uint32)


# ---------------------------------------------------------------------------------------------------------
# CCH


def cch_topology(network: Network, *, cache_dir: Path | None = None) -> pyroutingkit.CCHTopology:
    """The metric-independent CCH topology of a network, loaded from disk or built once and saved.

    The cache key is :attr:`Network.digest` (arcs and node positions), under
    ``settings.var_dir / "routing" / "cch-<digest>"``.
    """
    root = get_settings().var_dir / "routing" if cache_dir is None else cache_dir
    target = root / f"cch-{network.digest}"
    topo = pyroutingkit.CCHTopology()
    if (target / ".complete").is_file():
        topo.load(str(target))
        return topo
    topo.build(
        network.tail.astype(np.uint32),
        network.head.astype(np.uint32),
        network.lat.astype(np.float32),
        network.lon.astype(np.float32),
        network.n_nodes,
    )
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".cch-tmp-"))
    try:
        topo.save(str(tmp))
        (tmp / ".complete").write_text(network.digest)
        # Another process may have won the race; its copy is as good.
        with contextlib.suppress(OSError):
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return topo


class CCHRouter:
    """A CCH metric over a shared topology; re-customization swaps the metric atomically.

    Parameters
    ----------
    topology
        From :func:`cch_topology`; many routers (one per objective) share one topology.
    threads
        Customization threads (0 = sequential; two threads bring nothing on a 2-core machine).
    """

    def __init__(self, topology: pyroutingkit.CCHTopology, *, threads: int = 0) -> None:
        self._topology = topology
        self._threads = threads
        self._metric: pyroutingkit.CCHMetric | None = None
        self._lock = threading.Lock()  # serialises customizations, never queries
        self._executor: ThreadPoolExecutor | None = None

    @property
    def is_ready(self) -> bool:
        """Whether a metric has been customized."""
        return self._metric is not None

    def customize(self, weights: NDArray[np.uint32]) -> None:
        """Customize a new metric with ``weights`` and swap it in (queries meanwhile use the old one)."""
        w = np.ascontiguousarray(weights, dtype=np.uint32)
        with self._lock:
            fresh = pyroutingkit.CCHMetric(self._topology)
            fresh.customize(w, self._threads)
            self._metric = fresh  # one reference assignment: atomic for concurrent readers

    def customize_in_background(self, weights: NDArray[np.uint32]) -> Future[None]:
        """Customize in a background thread; the returned future completes after the swap."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cch-customize")
        return self._executor.submit(self.customize, np.array(weights, dtype=np.uint32, copy=True))

    def query(self, source: int, target: int) -> PathResult | None:
        """Point-to-point query with path unpacking."""
        metric = (
            self._metric
        )  # read once: a concurrent swap cannot split a query across two metrics
        if metric is None:
            msg = "CCHRouter.query before customize"
            raise RuntimeError(msg)
        dist, nodes, arcs = metric.query(int(source), int(target))
        if dist >= INF_WEIGHT:
            return None
        return PathResult(
            cost=int(dist),
            nodes=np.asarray(nodes, dtype=np.int64),
            arcs=np.asarray(arcs, dtype=np.int64),
        )

    def close(self) -> None:
        """Stop the background customization thread, if any."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


# ---------------------------------------------------------------------------------------------------------
# Dijkstra oracle


class DijkstraRouter:
    """Plain Dijkstra with ``scipy.sparse.csgraph`` (full one-to-all search per query): the test oracle.

    Parallel arcs are collapsed to the cheapest (scipy would otherwise add their weights).
    """

    def __init__(self, tail: NDArray[np.integer], head: NDArray[np.integer], n_nodes: int) -> None:
        self._tail = np.asarray(tail, dtype=np.int64)
        self._head = np.asarray(head, dtype=np.int64)
        self._n = int(n_nodes)
        self._state: tuple[csr_matrix, NDArray[np.int64], NDArray[np.int64]] | None = None

    @classmethod
    def for_network(cls, network: Network) -> DijkstraRouter:
        """An oracle over a network's arcs."""
        return cls(network.tail, network.head, network.n_nodes)

    def customize(self, weights: NDArray[np.uint32]) -> None:
        """Build the sparse matrix of the cheapest arc per node pair."""
        w = np.asarray(weights, dtype=np.int64)
        key = self._tail * self._n + self._head
        order = np.lexsort((w, key))
        first = np.ones(order.size, bool)
        first[1:] = key[order][1:] != key[order][:-1]
        best = order[first]  # cheapest arc of each (tail, head), sorted by key
        graph = csr_matrix(
            (w[best].astype(np.float64), (self._tail[best], self._head[best])),
            shape=(self._n, self._n),
        )
        self._state = (graph, key[best], best)

    def distances_from(self, source: int, *, limit: float = np.inf) -> NDArray[np.float64]:
        """Costs from ``source`` to every node (``inf`` when unreachable or beyond ``limit``)."""
        if self._state is None:
            msg = "DijkstraRouter used before customize"
            raise RuntimeError(msg)
        return np.asarray(dijkstra(self._state[0], indices=int(source), limit=limit))

    def query(self, source: int, target: int) -> PathResult | None:
        """Shortest path via predecessors."""
        if self._state is None:
            msg = "DijkstraRouter.query before customize"
            raise RuntimeError(msg)
        graph, keys, best = self._state
        dist, pred = dijkstra(graph, indices=int(source), return_predecessors=True)
        if not np.isfinite(dist[target]):
            return None
        nodes = [int(target)]
        while nodes[-1] != source:
            nodes.append(int(pred[nodes[-1]]))
        node_arr = np.asarray(nodes[::-1], dtype=np.int64)
        pair = node_arr[:-1] * self._n + node_arr[1:]
        arcs = best[np.searchsorted(keys, pair)]
        return PathResult(cost=round(dist[target]), nodes=node_arr, arcs=arcs.astype(np.int64))
