"""Route planning: fastest, balanced and safest routes with their time and exposure, and avoided areas.

Exposure of an arc (µCoV) = Σ over the H3 cells it crosses of (time spent in the cell, hours) × (cell µCoV per
hour at the time the person is there). The time in a cell is the arc's travel time times the cell's share of
the arc's length. *When* the person is there is the departure time plus the arc's offset, approximated for
the optimisation by the fastest-path travel time from the origin to the arc's tail; the risk field is
sampled every :data:`RISK_STEP_S` seconds and each arc uses the nearest sample. When the field does not change
over the trip window (drift below :data:`STATIC_TOLERANCE` of its peak) the offsets are not needed and are not
computed. The figures reported
for an answer are evaluated along that route's own timeline (cumulative time along the route).

Objectives (each an integer arc metric, see :func:`metric_weights`):

``fastest``   time, in milliseconds (decisecond when avoiding a level, to leave room for the penalty).
``balanced``  time + λ × exposure in deciseconds, λ from :data:`BALANCE_LAMBDA_S_PER_UCOV`.
``safest``    exposure first: time + :data:`SAFEST_LAMBDA_S_PER_UCOV` × exposure, in deciseconds
              (1 µCoV is worth 10 hours, so time only breaks ties between equally exposed routes).

``avoid_level`` adds :data:`AVOID_PENALTY_UNITS` to every arc touching a cell at or above that level, in every
objective: such cells are crossed only when there is no other way, and the answer says so.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from ansim.errors import InputError
from ansim.routing.engine import (
    CCHRouter,
    DijkstraRouter,
    PathResult,
    Router,
    as_weights,
    cch_topology,
)
from ansim.routing.fields import LevelScale, RiskField, default_level_scale
from ansim.routing.network import Network
from ansim.timeutil import as_seoul, isoformat_seoul

Objective = Literal["fastest", "balanced", "safest"]
OBJECTIVES: tuple[Objective, ...] = ("fastest", "balanced", "safest")

#: λ (seconds of extra travel a person accepts to avoid 1 µCoV). With a 10,000 µCoV yearly budget,
#: 1 µCoV is 0.01 % of a year's allowance. ``low`` = 1 min per µCoV (only clear, cheap detours),
#: ``medium`` = 5 min (a 10-minute detour to skip a 2 µCoV hot spot), ``high`` = 20 min (vulnerable people,
#: who spend a 1,000 µCoV budget: 10× less risk tolerance than the default budget, ~ 10× more time per µCoV).
BALANCE_LAMBDA_S_PER_UCOV: dict[str, float] = {"low": 60.0, "medium": 300.0, "high": 1200.0}
SAFEST_LAMBDA_S_PER_UCOV = 36_000.0
FASTEST_UNITS_PER_S = (
    1000  # milliseconds: fine enough that the walking fastest route is the shortest
)
RISK_UNITS_PER_S = 10  # deciseconds: leaves room below 2**31 for λ × exposure
AVOID_PENALTY_UNITS = 1_000_000  # 27.8 h in deciseconds: more than any detour inside a city
RISK_STEP_S = 300.0  # risk field sampled every 5 minutes along the trip window
STATIC_TOLERANCE = 0.01  # drift below 1 % of the peak over the window counts as constant
MAX_RISK_SAMPLES = 25  # two hours of samples; later arcs use the last one
SNAP_MAX_M = 500.0  # farther than this from any street node is "outside the network"


@dataclass(frozen=True)
class MetricSpec:
    """One integer metric: ``units_per_s × (duration_s + λ × exposure_ucov)`` (+ avoid penalty)."""

    objective: Objective
    lambda_s_per_ucov: float
    units_per_s: int
    avoid_rank: int | None = None


def metric_spec(
    objective: Objective, *, balance: str = "medium", avoid_rank: int | None = None
) -> MetricSpec:
    """The metric of an objective, with λ for ``balanced`` from ``balance`` (``low``/``medium``/``high``)."""
    if objective == "fastest":
        units = FASTEST_UNITS_PER_S if avoid_rank is None else RISK_UNITS_PER_S
        return MetricSpec("fastest", 0.0, units, avoid_rank)
    if objective == "balanced":
        if balance not in BALANCE_LAMBDA_S_PER_UCOV:
            msg = f"unknown balance {balance!r}; use one of {', '.join(BALANCE_LAMBDA_S_PER_UCOV)}"
            raise InputError(msg, field="balance")
        return MetricSpec(
            "balanced", BALANCE_LAMBDA_S_PER_UCOV[balance], RISK_UNITS_PER_S, avoid_rank
        )
    if objective == "safest":
        return MetricSpec("safest", SAFEST_LAMBDA_S_PER_UCOV, RISK_UNITS_PER_S, avoid_rank)
    msg = f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}"
    raise InputError(msg, field="objective")


def metric_weights(
    network: Network,
    spec: MetricSpec,
    exposure_ucov: NDArray[np.float64] | None = None,
    arc_rank: NDArray[np.int64] | None = None,
) -> NDArray[np.uint32]:
    """Integer arc weights of a metric (pure)."""
    cost_s = network.duration_s.copy()
    if spec.lambda_s_per_ucov and exposure_ucov is not None:
        cost_s += spec.lambda_s_per_ucov * exposure_ucov
    units = cost_s * spec.units_per_s
    if spec.avoid_rank is not None and arc_rank is not None:
        units = units + AVOID_PENALTY_UNITS * (arc_rank >= spec.avoid_rank)
    return as_weights(units)


# ---------------------------------------------------------------------------------------------------------
# routers of one network


class Routers:
    """Customized routers of one network, one per distinct weight vector (small LRU), thread-safe.

    Parameters
    ----------
    network
        The network the routers serve.
    new_router
        Makes an uncustomized router (a CCH metric over the shared topology, or a Dijkstra oracle).
    max_metrics
        How many customized metrics to keep (each CCH metric is a few MB on a city graph).
    """

    def __init__(
        self, network: Network, new_router: Callable[[], Router], *, max_metrics: int = 12
    ) -> None:
        self.network = network
        self._new_router = new_router
        self._max = max_metrics
        self._cache: OrderedDict[str, Router] = OrderedDict()
        self._lock = threading.Lock()
        self._oracle: DijkstraRouter | None = None

    @classmethod
    def cch(
        cls, network: Network, *, cache_dir: Path | None = None, max_metrics: int = 12
    ) -> Routers:
        """CCH routers sharing one topology (built once per network, cached on disk)."""
        topology = cch_topology(network, cache_dir=cache_dir)
        return cls(network, lambda: CCHRouter(topology), max_metrics=max_metrics)

    @classmethod
    def dijkstra(cls, network: Network, *, max_metrics: int = 12) -> Routers:
        """Dijkstra (scipy) routers: the oracle, no preprocessing."""
        return cls(network, lambda: DijkstraRouter.for_network(network), max_metrics=max_metrics)

    def get(self, weights: NDArray[np.uint32]) -> Router:
        """A router customized with ``weights`` (reused when the same weights were seen recently)."""
        key = hashlib.blake2b(np.ascontiguousarray(weights).tobytes(), digest_size=16).hexdigest()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        router = self._new_router()
        router.customize(weights)
        with self._lock:
            self._cache[key] = router
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return router

    def eta_s(self, source: int, *, limit_s: float) -> NDArray[np.float64]:
        """Fastest travel time (s) from ``source`` to every node, ``inf`` beyond ``limit_s`` (bounded Dijkstra)."""
        with self._lock:
            if self._oracle is None:
                oracle = DijkstraRouter.for_network(self.network)
                oracle.customize(as_weights(self.network.duration_s * FASTEST_UNITS_PER_S))
                self._oracle = oracle
            oracle = self._oracle
        return (
            oracle.distances_from(source, limit=limit_s * FASTEST_UNITS_PER_S) / FASTEST_UNITS_PER_S
        )


# ---------------------------------------------------------------------------------------------------------
# snapping


@dataclass(frozen=True)
class _Snapper:
    tree: cKDTree
    lat0: float


_SNAPPERS: dict[str, _Snapper] = {}


def snap(
    network: Network, lat: float, lon: float, *, field: str, max_m: float = SNAP_MAX_M
) -> tuple[int, float]:
    """Nearest node of the network and its distance (m); :class:`InputError` beyond ``max_m``."""
    key = f"{network.digest}"
    snapper = _SNAPPERS.get(key)
    if snapper is None:
        lat0 = float(np.mean(network.lat))
        xy = _project(network.lat, network.lon, lat0)
        snapper = _Snapper(cKDTree(xy), lat0)
        _SNAPPERS[key] = snapper
    dist, idx = snapper.tree.query(_project(np.array([lat]), np.array([lon]), snapper.lat0)[0])
    if not math.isfinite(dist) or dist > max_m:
        msg = (
            f"point is {dist / 1000:.1f} km from the nearest street of network '{network.name}' "
            f"(limit {max_m:.0f} m; bbox lon/lat {', '.join(f'{v:.4f}' for v in network.bbox)})"
        )
        raise InputError(msg, field=field)
    return int(idx), float(dist)


def _project(
    lat: NDArray[np.float64], lon: NDArray[np.float64], lat0: float
) -> NDArray[np.float64]:
    r = 6_371_008.8
    return np.stack(
        [np.radians(lon) * r * math.cos(math.radians(lat0)), np.radians(lat) * r], axis=1
    )


# ---------------------------------------------------------------------------------------------------------
# answers


@dataclass(frozen=True)
class AvoidedArea:
    """A risky cell the fastest route crosses and this one does not."""

    cell: str
    level: str
    ucov_per_hour: float


@dataclass
class RouteAlternative:
    """One answer route. ``cost`` is the integer metric cost (units of :class:`MetricSpec`)."""

    objective: Objective
    objectives: list[Objective]
    duration_s: float
    length_m: float
    exposure_ucov: float
    max_level: str
    nodes: list[int]
    geometry: dict[str, Any]
    avoids: list[AvoidedArea]
    crosses_avoided_level: bool
    comparison: dict[str, str]
    cost: int
    path: PathResult = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (node ids are OSM ids)."""
        return {
            "objective": self.objective,
            "objectives": list(self.objectives),
            "duration_s": round(self.duration_s, 1),
            "length_m": round(self.length_m, 1),
            "exposure_ucov": round(self.exposure_ucov, 4),
            "max_level": self.max_level,
            "nodes": self.nodes,
            "geometry": self.geometry,
            "avoids": [a.__dict__ for a in self.avoids],
            "crosses_avoided_level": self.crosses_avoided_level,
            "comparison": self.comparison,
            "cost": self.cost,
        }


@dataclass
class RoutePlan:
    """The answer: alternatives (deduplicated, fastest first), a comparison sentence, notes."""

    network: str
    profile: str
    departure: datetime
    origin_snap_m: float
    destination_snap_m: float
    alternatives: list[RouteAlternative]
    summary: dict[str, str]
    notes: list[dict[str, str]]
    balance: str
    avoid_level: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "network": self.network,
            "profile": self.profile,
            "departure": isoformat_seoul(self.departure),
            "origin_snap_m": round(self.origin_snap_m, 1),
            "destination_snap_m": round(self.destination_snap_m, 1),
            "balance": self.balance,
            "balance_lambda_s_per_ucov": BALANCE_LAMBDA_S_PER_UCOV[self.balance],
            "avoid_level": self.avoid_level,
            "alternatives": [a.to_dict() for a in self.alternatives],
            "summary": self.summary,
            "notes": self.notes,
        }


# ---------------------------------------------------------------------------------------------------------
# exposure


@dataclass(frozen=True)
class _RiskSamples:
    """Risk of every network cell at departure + k × RISK_STEP_S; ranks are level positions."""

    ucov: NDArray[np.float64]  # (K, n_cells)
    rank: NDArray[np.int64]  # (K, n_cells)
    level_names: tuple[str, ...]
    static: bool


def _sample_risk(
    network: Network, risk_field: RiskField, at: datetime, horizon_s: float, scale: LevelScale
) -> _RiskSamples:
    k = int(min(MAX_RISK_SAMPLES, math.ceil(horizon_s / RISK_STEP_S) + 1))
    rows = [
        np.asarray(
            risk_field.ucov_per_hour(network.cells, at + timedelta(seconds=i * RISK_STEP_S)),
            dtype=float,
        )
        for i in range(k)
    ]
    ucov = np.nan_to_num(np.clip(np.vstack(rows), 0.0, None))
    # A field that drifts by less than STATIC_TOLERANCE of its peak over the window is taken as constant:
    # the ETA approximation is coarser than that, and a constant field lets queries share metrics.
    peak = float(ucov.max()) if ucov.size else 0.0
    drift = float(np.abs(ucov - ucov[:1]).max()) if ucov.size else 0.0
    static = drift <= STATIC_TOLERANCE * peak
    if static:
        ucov = ucov[:1]
    # Level names only for distinct values (the level function may be a per-value Python call).
    uniq, inv = np.unique(ucov, return_inverse=True)
    ranks = scale.rank(scale.level_of(uniq))[inv.reshape(ucov.shape)]
    return _RiskSamples(ucov=ucov, rank=ranks, level_names=scale.names, static=static)


def _arc_exposure(
    network: Network, risk: _RiskSamples, arc_sample: NDArray[np.int64] | None
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Exposure (µCoV) and highest level rank of every arc, each arc at its sample index."""
    entry_sample = (
        np.zeros(network.cell_arc.size, np.int64)
        if arc_sample is None
        else arc_sample[network.cell_arc]
    )
    u = risk.ucov[entry_sample, network.cell_idx]
    hours = network.duration_s[network.cell_arc] / 3600.0
    exposure = np.bincount(
        network.cell_arc, weights=hours * network.cell_share * u, minlength=network.n_arcs
    )
    arc_rank = np.zeros(network.n_arcs, np.int64)
    np.maximum.at(arc_rank, network.cell_arc, risk.rank[entry_sample, network.cell_idx])
    return exposure.astype(np.float64), arc_rank


def _route_figures(
    network: Network, risk: _RiskSamples, arcs: NDArray[np.int64]
) -> tuple[float, float, float, int, dict[int, tuple[float, int]]]:
    """Duration, length, exposure, max level rank and {cell index: (µCoV/h, rank)} along a route's timeline."""
    if arcs.size == 0:
        return 0.0, 0.0, 0.0, 0, {}
    dur = network.duration_s[arcs]
    start_s = np.concatenate([[0.0], np.cumsum(dur)[:-1]])
    sample = np.minimum(np.rint(start_s / RISK_STEP_S).astype(np.int64), risk.ucov.shape[0] - 1)
    lo = np.searchsorted(network.cell_arc, arcs, side="left")
    hi = np.searchsorted(network.cell_arc, arcs, side="right")
    counts = hi - lo
    entries = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])
    e_pos = np.repeat(np.arange(arcs.size), counts)
    e_sample = sample[e_pos]
    e_cell = network.cell_idx[entries]
    u = risk.ucov[e_sample, e_cell]
    r = risk.rank[e_sample, e_cell]
    exposure = float(np.sum(dur[e_pos] / 3600.0 * network.cell_share[entries] * u))
    cells: dict[int, tuple[float, int]] = {}
    for c, val, rk in zip(e_cell.tolist(), u.tolist(), r.tolist(), strict=True):
        if c not in cells or val > cells[c][0]:
            cells[c] = (val, rk)
    return float(dur.sum()), float(network.length_m[arcs].sum()), exposure, int(r.max()), cells


def _minutes_phrase(delta_s: float) -> tuple[str, str]:
    if abs(delta_s) < 60:
        sec = round(abs(delta_s))
        return f"{sec}초", f"{sec} s"
    mins = round(abs(delta_s) / 60)
    return f"{mins}분", f"{mins} min"


def compare(fast: RouteAlternative, other: RouteAlternative) -> dict[str, str]:
    """One sentence comparing a route with the fastest, in Korean and English."""
    if other is fast:
        return {"ko": "가장 빠른 길", "en": "fastest route"}
    d = other.duration_s - fast.duration_s
    ko_t, en_t = _minutes_phrase(d)
    if fast.exposure_ucov > 0:
        pct = round(100 * (1 - other.exposure_ucov / fast.exposure_ucov))
        ko_e = f"노출 {abs(pct)}% {'감소' if pct >= 0 else '증가'}"
        en_e = f"{'−' if pct >= 0 else '+'}{abs(pct)}% exposure"
    else:
        ko_e, en_e = "노출 차이 없음", "same exposure"
    if abs(d) < 1:
        return {"ko": f"같은 시간에 {ko_e}", "en": f"same time, {en_e}"}
    if d > 0:
        return {"ko": f"{ko_t} 더 걸리지만 {ko_e}", "en": f"+{en_t}, {en_e}"}
    return {"ko": f"{ko_t} 덜 걸리고 {ko_e}", "en": f"−{en_t}, {en_e}"}


# ---------------------------------------------------------------------------------------------------------
# the planner


def plan_routes(
    network: Network,
    routers: Routers,
    risk_field: RiskField,
    origin: tuple[float, float],
    destination: tuple[float, float],
    at: datetime,
    *,
    objectives: Sequence[Objective] = OBJECTIVES,
    balance: str = "medium",
    avoid_level: str | None = None,
    level_scale: LevelScale | None = None,
    snap_max_m: float = SNAP_MAX_M,
) -> RoutePlan:
    """Plan up to three routes from ``origin`` to ``destination`` (``(lat, lon)``) departing at ``at``.

    Parameters
    ----------
    network, routers
        The street network of one profile and its routers (``Routers.cch(network)``).
    risk_field
        Anything with ``ucov_per_hour(cells, at)``: the live ``RiskEngine``, an ``ArrayRiskField`` or ``NO_RISK``.
    objectives
        Which of ``fastest``, ``balanced``, ``safest`` to compute; ``fastest`` is always computed as the reference.
    balance
        λ level of ``balanced``: ``low``, ``medium`` or ``high`` (:data:`BALANCE_LAMBDA_S_PER_UCOV`).
    avoid_level
        Avoid cells at or above this level unless there is no other way.
    level_scale
        Level names and naming function; default :func:`default_level_scale` of the risk field.
    """
    depart = as_seoul(at)
    scale = level_scale or default_level_scale(risk_field)
    avoid_rank = scale.rank_of_name(avoid_level) if avoid_level else None
    wanted = [
        metric_spec(o, balance=balance, avoid_rank=avoid_rank) for o in objectives
    ]  # validates names
    s, s_m = snap(network, *origin, field="from", max_m=snap_max_m)
    t, t_m = snap(network, *destination, field="to", max_m=snap_max_m)

    fast_w = metric_weights(network, metric_spec("fastest"))
    fast_path = _query(routers, fast_w, s, t)
    fast_s = float(network.duration_s[fast_path.arcs].sum())
    horizon_s = 2.0 * fast_s + RISK_STEP_S  # safer detours can take longer than the fastest route
    risk = _sample_risk(network, risk_field, depart, horizon_s, scale)
    arc_sample = None
    if not risk.static:
        eta = routers.eta_s(s, limit_s=horizon_s)
        eta_tail = np.where(np.isfinite(eta), eta, horizon_s)[network.tail]
        arc_sample = np.minimum(
            np.rint(eta_tail / RISK_STEP_S).astype(np.int64), risk.ucov.shape[0] - 1
        )
    exposure, arc_rank = _arc_exposure(network, risk, arc_sample)
    riskless = not exposure.any() and avoid_rank is None

    paths: list[tuple[Objective, PathResult]] = []
    for spec in [metric_spec("fastest", avoid_rank=avoid_rank), *wanted]:
        if spec.objective == "fastest" and any(o == "fastest" for o, _ in paths):
            continue
        if riskless:
            # No exposure anywhere: every objective is time; the fastest answer is the answer.
            paths.append((spec.objective, fast_path))
            continue
        w = metric_weights(network, spec, exposure, arc_rank)
        paths.append((spec.objective, _query(routers, w, s, t)))

    alternatives: list[RouteAlternative] = []
    by_nodes: dict[tuple[int, ...], RouteAlternative] = {}
    fast_cells: dict[int, tuple[float, int]] = {}
    for objective, path in paths:
        key = tuple(path.nodes.tolist())
        if key in by_nodes:
            if objective not in by_nodes[key].objectives:
                by_nodes[key].objectives.append(objective)
            continue
        dur, length, expo, max_rank, cells = _route_figures(network, risk, path.arcs)
        if objective == "fastest":
            fast_cells = cells
        avoids = [
            AvoidedArea(
                cell=f"{int(network.cells[c]):x}",
                level=scale.names[rk],
                ucov_per_hour=round(val, 4),
            )
            for c, (val, rk) in sorted(fast_cells.items(), key=lambda kv: -kv[1][0])
            if val > 0 and c not in cells
        ][:20]
        alt = RouteAlternative(
            objective=objective,
            objectives=[objective],
            duration_s=dur,
            length_m=length,
            exposure_ucov=expo,
            max_level=scale.names[max_rank],
            nodes=[int(x) for x in network.node_osmid[path.nodes]],
            geometry={"type": "LineString", "coordinates": _geometry(network, path)},
            avoids=avoids if objective != "fastest" else [],
            crosses_avoided_level=bool(
                avoid_rank is not None
                and path.arcs.size
                and (arc_rank[path.arcs] >= avoid_rank).any()
            ),
            comparison={},
            cost=path.cost,
            path=path,
        )
        by_nodes[key] = alt
        alternatives.append(alt)
    fastest = alternatives[0]
    for alt in alternatives:
        alt.comparison = compare(fastest, alt)
    least = min(alternatives, key=lambda a: (a.exposure_ucov, a.duration_s))
    if least is fastest:
        if fastest.exposure_ucov > 0:
            summary = {
                "ko": "가장 빠른 길이 노출도 가장 적습니다",
                "en": "The fastest route is also the least exposed.",
            }
        elif exposure.any():
            summary = {
                "ko": "가장 빠른 길에 알려진 위험이 없습니다",
                "en": "No known risk along the fastest route.",
            }
        else:
            summary = {
                "ko": "주변에 알려진 위험이 없습니다",
                "en": "No known risk around; all routes agree.",
            }
    else:
        summary = dict(least.comparison)
    notes: list[dict[str, str]] = []
    if avoid_rank is not None and avoid_level is not None:
        level = scale.names[avoid_rank]
        detour_s = fastest.duration_s - float(network.duration_s[fast_path.arcs].sum())
        if detour_s >= 1:
            ko_t, en_t = _minutes_phrase(detour_s)
            notes.append(
                {
                    "objective": "fastest",
                    "ko": f"'{level}' 이상 지역을 피하느라 {ko_t} 더 걸립니다",
                    "en": f"Avoiding cells at level '{level}' or above adds {en_t} to the fastest route.",
                }
            )
        for alt in alternatives:
            if alt.crosses_avoided_level:
                notes.append(
                    {
                        "objective": alt.objective,
                        "ko": f"'{level}' 이상 지역을 피할 수 있는 길이 없어 이 경로는 그 지역을 지납니다",
                        "en": f"No way around cells at level '{level}' or above: the {alt.objective} route crosses them.",
                    }
                )
    return RoutePlan(
        network=network.name,
        profile=network.profile,
        departure=depart,
        origin_snap_m=s_m,
        destination_snap_m=t_m,
        alternatives=alternatives,
        summary=summary,
        notes=notes,
        balance=balance,
        avoid_level=scale.names[avoid_rank] if avoid_rank is not None else None,
    )


def _query(routers: Routers, weights: NDArray[np.uint32], s: int, t: int) -> PathResult:
    if s == t:
        return PathResult(
            cost=0, nodes=np.array([s], dtype=np.int64), arcs=np.zeros(0, dtype=np.int64)
        )
    path = routers.get(weights).query(s, t)
    if path is None:  # cannot happen on a strongly connected network; say so plainly if it does
        raise InputError("no route between these points on this network", field="to")
    return path


def _geometry(network: Network, path: PathResult) -> list[list[float]]:
    if path.arcs.size == 0:
        n = int(path.nodes[0])
        pt = [float(network.lon[n]), float(network.lat[n])]
        return [pt, pt]
    return network.path_coordinates(path.arcs)
