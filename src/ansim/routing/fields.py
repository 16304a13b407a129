"""Risk inputs of the planner: the ``RiskField`` protocol, an array-backed field, hazards from GeoJSON, levels.

The live implementation of :class:`RiskField` is ``ansim.risk.engine.RiskEngine``; here is a plain array
field (cells with a µCoV-per-hour value and an optional validity window) used by the CLI's
``--hazard-geojson`` and by tests, and :data:`NO_RISK`.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from ansim.errors import InputError
from ansim.timeutil import parse_datetime, to_utc


@runtime_checkable
class RiskField(Protocol):
    """µCoV a person accumulates per hour spent in each H3 cell at a time."""

    def ucov_per_hour(self, cells: NDArray[np.uint64], at: datetime) -> NDArray[np.float64]:
        """One value per cell (0 where nothing is known)."""
        ...


LevelOf = Callable[[NDArray[np.float64]], Sequence[str]]

#: Fallback when ``ansim.risk.levels`` is missing: microCOVID bands for the 1 % yearly budget (10,000 µCoV),
#: lower edges of low … dangerous, upper-exclusive (the same bands as ``ansim.risk.levels``).
FALLBACK_LEVELS: tuple[str, ...] = ("very_low", "low", "moderate", "high", "very_high", "dangerous")
FALLBACK_LEVEL_EDGES_UCOV: tuple[float, ...] = (3.0, 25.0, 100.0, 300.0, 1000.0)


def _norm_level(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


@dataclass(frozen=True)
class LevelScale:
    """Ordered level keys and the function naming the level of µCoV amounts (vectorised).

    The planner names a cell's level from its µCoV per hour (the cost of one hour spent there).
    """

    names: tuple[str, ...]
    level_of: LevelOf

    def rank(self, names: Sequence[str]) -> NDArray[np.int64]:
        """Position of each name in :attr:`names` (0 = lowest)."""
        index = {_norm_level(n): i for i, n in enumerate(self.names)}
        return np.array([index[_norm_level(str(n))] for n in names], dtype=np.int64)

    def rank_of_name(self, name: str) -> int:
        """Position of one level name, tolerant of case, spaces and ``-``; raises :class:`InputError`."""
        wanted = _norm_level(name)
        for i, n in enumerate(self.names):
            if _norm_level(n) == wanted:
                return i
        msg = f"unknown risk level {name!r}; use one of: {', '.join(self.names)}"
        raise InputError(msg, field="avoid_level")


def _fallback_level_of(ucov: NDArray[np.float64]) -> list[str]:
    edges = np.asarray(FALLBACK_LEVEL_EDGES_UCOV)
    idx = np.searchsorted(edges, np.nan_to_num(np.asarray(ucov, dtype=float)), side="right")
    return [FALLBACK_LEVELS[i] for i in idx]


def default_level_scale(risk_field: object | None = None) -> LevelScale:
    """The level scale of ``ansim.risk.levels`` (microCOVID bands), else the same bands built in.

    A risk field with a ``level_of_ucov`` method (the ``RiskEngine`` contract, which knows the person's
    budget) names the levels.
    """
    names: tuple[str, ...] = FALLBACK_LEVELS
    level_of: LevelOf = _fallback_level_of
    try:
        from ansim.risk import levels as risk_levels

        names = tuple(b.key for b in risk_levels.BANDS)
        level_of = _vectorised(risk_levels.band_keys)
    except (ImportError, AttributeError):
        pass
    engine_fn = getattr(risk_field, "level_of_ucov", None)
    if callable(engine_fn):
        level_of = _vectorised(engine_fn)
    return LevelScale(names=names, level_of=level_of)


def _vectorised(fn: Callable[..., Any]) -> LevelOf:
    def level_of(ucov: NDArray[np.float64]) -> list[str]:
        values = np.nan_to_num(np.asarray(ucov, dtype=float))
        out = fn(values)
        if isinstance(out, str) or np.ndim(out) == 0:  # a scalar function: call per value
            out = [fn(float(x)) for x in values]
        return [str(getattr(v, "key", v)) for v in out]

    return level_of


@dataclass(frozen=True)
class ArrayRiskField:
    """Risk as arrays: entry ``i`` puts ``ucov_per_hour[i]`` on ``cells[i]`` during ``[start_utc, end_utc)``.

    Overlapping entries on one cell add up. Times are aware; ``None`` means unbounded.
    """

    cells: NDArray[np.uint64]
    ucov: NDArray[np.float64]
    start_utc: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    end_utc: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def from_cells(
        cls,
        cells: Sequence[int] | NDArray[np.uint64],
        ucov_per_hour: float | Sequence[float],
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> ArrayRiskField:
        """A field from cells sharing one window (and one value when a scalar is given)."""
        c = np.asarray(cells, dtype=np.uint64)
        u = np.broadcast_to(np.asarray(ucov_per_hour, dtype=np.float64), c.shape).copy()
        s = -np.inf if start is None else to_utc(start).timestamp()
        e = np.inf if end is None else to_utc(end).timestamp()
        return cls(c, u, np.full(c.shape, s), np.full(c.shape, e))

    def __post_init__(self) -> None:
        n = self.cells.shape[0]
        if self.start_utc.shape[0] != n:
            object.__setattr__(self, "start_utc", np.full(n, -np.inf))
        if self.end_utc.shape[0] != n:
            object.__setattr__(self, "end_utc", np.full(n, np.inf))

    def combine(self, other: ArrayRiskField) -> ArrayRiskField:
        """Both fields' entries (values add where they overlap)."""
        return ArrayRiskField(
            np.concatenate([self.cells, other.cells]),
            np.concatenate([self.ucov, other.ucov]),
            np.concatenate([self.start_utc, other.start_utc]),
            np.concatenate([self.end_utc, other.end_utc]),
        )

    def ucov_per_hour(self, cells: NDArray[np.uint64], at: datetime) -> NDArray[np.float64]:
        """Sum of the active entries on each asked cell."""
        t = to_utc(at).timestamp()
        active = (self.start_utc <= t) & (t < self.end_utc)
        src_cells = self.cells[active]
        src_vals = self.ucov[active]
        out = np.zeros(len(cells), dtype=np.float64)
        if src_cells.size == 0:
            return out
        uniq, inv = np.unique(src_cells, return_inverse=True)
        sums = np.bincount(inv, weights=src_vals)
        asked = np.asarray(cells, dtype=np.uint64)
        pos = np.clip(np.searchsorted(uniq, asked), 0, uniq.size - 1)
        hit = uniq[pos] == asked
        out[hit] = sums[pos[hit]]
        return out


#: The documented no-risk field: zero everywhere, so every objective is the fastest route.
NO_RISK = ArrayRiskField(np.zeros(0, dtype=np.uint64), np.zeros(0))


def hazard_cells_around(
    lat: float, lon: float, *, radius_m: float, resolution: int
) -> NDArray[np.uint64]:
    """H3 cells whose centre lies within ``radius_m`` of a point (at least the point's own cell)."""
    from h3.api import basic_int as h3i

    center = h3i.latlng_to_cell(lat, lon, resolution)
    edge_m = h3i.average_hexagon_edge_length(resolution, unit="m")
    k = max(1, int(np.ceil(radius_m / (edge_m * 1.5))) + 1)
    disk = np.array(h3i.grid_disk(center, k), dtype=np.uint64)
    pts = np.array([h3i.cell_to_latlng(int(c)) for c in disk])
    dlat = np.radians(pts[:, 0] - lat)
    dlon = np.radians(pts[:, 1] - lon) * np.cos(np.radians(lat))
    dist = 6_371_008.8 * np.hypot(dlat, dlon)
    return np.unique(np.concatenate([disk[dist <= radius_m], np.array([center], dtype=np.uint64)]))


def hazard_from_geojson(path: Path, *, resolution: int) -> ArrayRiskField:
    """Read hazards from GeoJSON: Point (with ``radius_m``, default 100) or Polygon features.

    Properties: ``ucov_per_hour`` (required, ≥ 0), optional ``radius_m``, ``start`` and ``end`` (times; naive =
    Seoul). Raises :class:`InputError` naming the feature and property.
    """
    import shapely
    from h3.api import basic_int as h3i

    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8-sig") as fh:
            doc = json.load(fh)
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read GeoJSON: {exc}", source=path.name, field="hazard_geojson"
        ) from exc
    features = doc.get("features", [doc] if doc.get("type") == "Feature" else None)
    if not isinstance(features, list):
        raise InputError(
            "not a GeoJSON FeatureCollection", source=path.name, field="hazard_geojson"
        )
    out = ArrayRiskField(np.zeros(0, dtype=np.uint64), np.zeros(0))
    for i, feat in enumerate(features, start=1):
        props = feat.get("properties") or {}
        try:
            value = float(props["ucov_per_hour"])
        except (KeyError, TypeError, ValueError):
            raise InputError(
                "needs a number ucov_per_hour", source=path.name, row=i, field="ucov_per_hour"
            ) from None
        if not np.isfinite(value) or value < 0:
            raise InputError(
                "ucov_per_hour must be ≥ 0", source=path.name, row=i, field="ucov_per_hour"
            )
        try:
            start = parse_datetime(str(props["start"])) if props.get("start") else None
            end = parse_datetime(str(props["end"])) if props.get("end") else None
        except ValueError as exc:
            raise InputError(str(exc), source=path.name, row=i, field="start/end") from None
        try:
            geom = shapely.geometry.shape(feat["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InputError(
                "missing or bad geometry", source=path.name, row=i, field="geometry"
            ) from None
        if geom.geom_type == "Point":
            radius = float(props.get("radius_m", 100.0))
            cells = hazard_cells_around(geom.y, geom.x, radius_m=radius, resolution=resolution)
        elif geom.geom_type in {"Polygon", "MultiPolygon"}:
            shape = h3i.geo_to_h3shape(shapely.geometry.mapping(geom))
            cells = np.array(h3i.h3shape_to_cells(shape, resolution), dtype=np.uint64)
            if cells.size == 0:
                rp = geom.representative_point()
                cells = np.array([h3i.latlng_to_cell(rp.y, rp.x, resolution)], dtype=np.uint64)
        else:
            raise InputError(
                f"unsupported geometry {geom.geom_type}; use Point or Polygon",
                source=path.name,
                row=i,
                field="geometry",
            )
        out = out.combine(ArrayRiskField.from_cells(cells, value, start=start, end=end))
    return out
