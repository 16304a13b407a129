"""Shortest-path engines behind one small interface: our CCH (:mod:`ansim.routing.cch`) and a scipy oracle.

Weights are ``uint32`` per arc, at least 1 (see ``planner`` for the units of each objective). A
:class:`Router` holds one metric: ``customize(weights)`` then ``query(s, t)``.

CCH (Customizable Contraction Hierarchies, Dibbelt, Strasser & Wagner 2016) splits preprocessing in two:
the metric-independent *topology* (nested-dissection order + chordal supergraph) is built once per network
and cached on disk; the *customization* for a new weight vector takes milliseconds on a city graph.
:meth:`CCHRouter.customize` customizes a fresh metric and then swaps one reference, so queries running in
other threads keep using the old metric until the new one is complete (the numba kernels release the GIL,
so queries are not blocked).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from ansim.routing import cch
from ansim.routing.cch import CCHTopology
from ansim.routing.network import Network
from ansim.settings import get_settings

#: Cap of one arc weight (5.5 h in ms, 23 days in ds). Path costs are summed in int64, so the cap only
#: keeps one absurd arc from dwarfing every other term of a metric.
MAX_ARC_WEIGHT = 20_000_000


class PathResult:
    """A shortest path: integer cost in the metric's units, node ids and arc ids (input arc indices).

    Built once per query, so it is kept lean: one array holds the ``k`` arcs followed by the ``k + 1``
    nodes (a CCH query copies its answer once), and ``nodes``/``arcs`` are views of it, made when read.
    """

    __slots__ = ("_answer", "_k", "cost")

    cost: int
    _answer: NDArray[np.int64]
    _k: int

    def __init__(self, cost: int, nodes: NDArray[np.int64], arcs: NDArray[np.int64]) -> None:
        self.cost = cost
        self._k = int(arcs.shape[0])
        self._answer = np.concatenate([np.asarray(arcs, np.int64), np.asarray(nodes, np.int64)])

    @property
    def nodes(self) -> NDArray[np.int64]:
        """The ``k + 1`` node ids from source to target."""
        return self._answer[self._k :]

    @property
    def arcs(self) -> NDArray[np.int64]:
        """The ``k`` input arc ids in path order."""
        return self._answer[: self._k]

    def __repr__(self) -> str:
        return f"PathResult(cost={self.cost}, nodes={self.nodes!r}, arcs={self.arcs!r})"


#: ``object.__new__``: a result from a query's answer array is not copied again.
_new_path = object.__new__


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


def cch_topology(network: Network, *, cache_dir: Path | None = None) -> CCHTopology:
    """The metric-independent CCH topology of a network, loaded from disk or built once and saved.

    The cache key is :attr:`Network.digest` (arcs and node positions), under
    ``settings.var_dir / "routing" / "cch-<digest>-v<N>.npz"``.
    """
    root = get_settings().var_dir / "routing" if cache_dir is None else cache_dir
    target = root / f"cch-{network.digest}-v{cch.TOPOLOGY_VERSION}.npz"
    topology = cch.load_topology(target)
    if topology is not None and topology.arc_edge.shape[0] == network.n_arcs:
        return topology
    topology = cch.build_topology(network.tail, network.head, network.lat, network.lon)
    cch.save_topology(topology, target)
    return topology


#: A metric that has answered this many queries gets ancestor labels, built in the background (see
#: :mod:`ansim.routing.cch`): on central Seoul they cost 8 ms once and save about 4 µs per query, so a
#: metric customized for one plan (a time-windowed risk field) never pays for them.
LABELS_AFTER_QUERIES = 256


class CCHRouter:
    """A CCH metric over a shared topology; re-customization swaps the metric atomically.

    Parameters
    ----------
    topology
        From :func:`cch_topology`; many routers (one per objective) share one topology.
    labels_after
        Queries after which a metric gets ancestor labels, in a background thread (``0``: while
        customizing; ``None``: never). Only small graphs get them (:data:`cch.LABEL_BUDGET`).
    """

    def __init__(
        self, topology: CCHTopology, *, labels_after: int | None = LABELS_AFTER_QUERIES
    ) -> None:
        self._topology = topology
        self._packed = topology.packed
        self._n = topology.n_nodes
        self._out = cch.answer_offset(self._n)
        # Per thread, shared with the other metrics of the topology.
        self._scratch = topology.scratch
        self._labels_after = labels_after
        self._wants_labels = labels_after is not None and topology.label_entries <= cch.LABEL_BUDGET
        self._metric: cch.CCHMetric | None = None
        self._bound: tuple[Any, NDArray[np.int64], NDArray[np.int32]] | None = None
        self._queries = 0
        self._counting = False  # whether queries still count towards labels for the current metric
        self._lock = threading.Lock()  # serialises customizations, never queries
        self._executor: ThreadPoolExecutor | None = None

    @property
    def is_ready(self) -> bool:
        """Whether a metric has been customized."""
        return self._bound is not None

    @property
    def metric(self) -> cch.CCHMetric | None:
        """The current metric (``None`` before the first customization)."""
        return self._metric

    @property
    def has_labels(self) -> bool:
        """Whether the current metric answers from ancestor labels."""
        return self._metric is not None and self._metric.labels is not None

    def customize(self, weights: NDArray[np.uint32]) -> None:
        """Customize a new metric with ``weights`` and swap it in (queries meanwhile use the old one)."""
        with self._lock:
            fresh = cch.customize(
                self._topology,
                weights,
                label_budget=cch.LABEL_BUDGET if self._labels_after == 0 else 0,
            )
            self._install(fresh)

    def _install(self, metric: cch.CCHMetric) -> None:
        self._metric = metric
        self._bound = metric.bound  # one reference assignment: atomic for concurrent readers
        self._queries = 0
        self._counting = self._wants_labels and metric.labels is None

    def _add_labels(self, metric: cch.CCHMetric) -> None:
        labelled = cch.with_labels(self._topology, metric)
        if labelled is metric:
            return  # unpacked paths too long to store: the metric keeps the tree search
        with self._lock:
            if self._metric is metric:  # not replaced meanwhile
                self._install(labelled)

    def _submit(self, task: Callable[[], None]) -> Future[None]:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cch-customize")
        return self._executor.submit(task)

    def customize_in_background(self, weights: NDArray[np.uint32]) -> Future[None]:
        """Customize in a background thread; the returned future completes after the swap."""
        w = np.array(weights, dtype=np.uint32, copy=True)
        return self._submit(lambda: self.customize(w))

    def wait_for_labels(self) -> None:
        """Build the current metric's labels now if it is to get them (benchmarks, tests)."""
        metric = self._metric
        if metric is not None and self._wants_labels:
            self._add_labels(metric)

    def query(self, source: int, target: int) -> PathResult | None:
        """Point-to-point query with path unpacking."""
        # Read once: a concurrent swap cannot split a query across two metrics.
        bound = self._bound
        if bound is None:
            msg = "CCHRouter.query before customize"
            raise RuntimeError(msg)
        s, t, n = int(source), int(target), self._n
        if not (0 <= s < n and 0 <= t < n):  # the kernel does not check bounds
            msg = f"node ids must be in [0, {n}): got {source}, {target}"
            raise IndexError(msg)
        if self._counting:
            self._queries += 1  # approximate under threads: it only decides when labels pay off
            if self._queries == self._labels_after:
                self._counting = False
                metric = self._metric
                if metric is not None and metric.labels is None:
                    self._submit(lambda: self._add_labels(metric))
        kernel, data, via = bound
        buffer = self._scratch.buffer
        cost, k = kernel(s, t, self._packed, data, via, buffer)
        if cost < 0:
            return None
        # One copy for both answers (the buffer is reused by this thread's next query); the result is
        # filled in place, without __init__ (a call and a concatenate: a tenth of a city query).
        path = _new_path(PathResult)
        path.cost = cost
        path._answer = buffer[self._out : self._out + 2 * k + 1].copy()
        path._k = k
        return path

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
