"""Subscription areas: a circle, a polygon or a route (a line with a buffer) as H3 cells.

Pure functions over GeoJSON geometries (RFC 7946: ``[lon, lat]`` positions). The cells are the
engine's resolution; only cells of the covered area (Seoul) are kept.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import h3
import h3.api.numpy_int as h3n
import numpy as np

from ansim.errors import InputError
from ansim.geo.cells import CellTable, disk_k_for_radius, haversine_m, polygon_cells

MAX_AREA_CELLS = 5_000
"""About 50 km² at resolution 10: a neighbourhood or a commute, not the whole city."""
MAX_RADIUS_M = 5_000.0
MAX_BUFFER_M = 1_000.0
DEFAULT_ROUTE_BUFFER_M = 100.0
ROUTE_STEP_M = 25.0
"""Points sampled along a route every 25 m, well below a resolution-10 cell (~65 m edge)."""


def _position(value: Any, *, field: str) -> tuple[float, float]:
    """(lat, lon) of a GeoJSON position ``[lon, lat]``."""
    if (
        not isinstance(value, list | tuple)
        or len(value) < 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
    ):
        raise InputError("a position is [lon, lat] in degrees", field=field)
    lon, lat = float(value[0]), float(value[1])
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError("lat must be in [-90, 90] and lon in [-180, 180]", field=field)
    return lat, lon


def _disk_rows(table: CellTable, lat: float, lon: float, radius_m: float) -> np.ndarray:
    """Table rows of the cells whose centre lies within ``radius_m`` of a point (and its own cell)."""
    centre = h3n.latlng_to_cell(lat, lon, table.resolution)
    k = disk_k_for_radius(radius_m, table.resolution)
    ring = np.asarray(h3n.grid_disk(int(centre), k), dtype=np.uint64)
    rows = table.index_of(ring)
    rows = rows[rows >= 0]
    if rows.size:
        near = haversine_m(lat, lon, table.lat[rows], table.lon[rows]) <= radius_m
        rows = rows[near]
    own = table.index_of(np.array([centre], dtype=np.uint64))
    return np.union1d(rows, own[own >= 0])


def area_rows(geometry: Any, table: CellTable, *, radius_m: float | None = None) -> np.ndarray:
    """Sorted table rows covered by a GeoJSON ``Point`` (circle of ``radius_m``), ``Polygon``
    or ``LineString`` (route buffered by ``radius_m``, default 100 m).

    Raises
    ------
    InputError
        For a malformed geometry, a missing or out-of-range radius, an area outside Seoul or one
        larger than :data:`MAX_AREA_CELLS` cells.
    """
    if not isinstance(geometry, dict) or "type" not in geometry:
        raise InputError("a GeoJSON geometry (Point, Polygon or LineString)", field="area")
    kind = geometry["type"]
    coords = geometry.get("coordinates")
    if kind == "Point":
        if radius_m is None:
            raise InputError("a circle needs radius_m (metres)", field="radius_m")
        if not (0 < radius_m <= MAX_RADIUS_M):
            raise InputError(f"must be in (0, {MAX_RADIUS_M:g}] metres", field="radius_m")
        lat, lon = _position(coords, field="area.coordinates")
        rows = _disk_rows(table, lat, lon, radius_m)
    elif kind == "LineString":
        buffer_m = DEFAULT_ROUTE_BUFFER_M if radius_m is None else radius_m
        if not (0 < buffer_m <= MAX_BUFFER_M):
            raise InputError(f"a route buffer must be in (0, {MAX_BUFFER_M:g}] m", field="radius_m")
        if not isinstance(coords, list) or len(coords) < 2:
            raise InputError("a route needs at least two positions", field="area.coordinates")
        points = [_position(p, field=f"area.coordinates.{i}") for i, p in enumerate(coords)]
        parts = []
        length_m = 0.0
        for (lat0, lon0), (lat1, lon1) in itertools.pairwise(points):
            seg = float(haversine_m(lat0, lon0, lat1, lon1))
            length_m += seg
            if length_m > 100_000:
                raise InputError("a route longer than 100 km", field="area.coordinates")
            n = max(1, math.ceil(seg / ROUTE_STEP_M))
            for f in np.linspace(0.0, 1.0, n + 1):
                parts.append(
                    _disk_rows(table, lat0 + f * (lat1 - lat0), lon0 + f * (lon1 - lon0), buffer_m)
                )
        rows = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
    elif kind == "Polygon":
        if not isinstance(coords, list) or not coords or not isinstance(coords[0], list):
            raise InputError("a polygon is a list of linear rings", field="area.coordinates")
        ring = coords[0]
        if len(ring) < 4:
            raise InputError("a linear ring needs at least 4 positions", field="area.coordinates")
        for r, rng in enumerate(coords):
            if not isinstance(rng, list):
                raise InputError("a linear ring is a list of positions", field="area.coordinates")
            for i, p in enumerate(rng):
                _position(p, field=f"area.coordinates.{r}.{i}")
        try:
            cells = polygon_cells({"type": "Polygon", "coordinates": coords}, table.resolution)
        except (ValueError, h3.H3BaseException) as exc:
            raise InputError(f"not a valid polygon: {exc}", field="area") from None
        rows = table.index_of(cells) if cells.size else np.zeros(0, np.int64)
        rows = np.unique(rows[rows >= 0])
        if rows.size == 0:  # a polygon smaller than a cell: the cell of its first vertex
            lat, lon = _position(ring[0], field="area.coordinates.0.0")
            rows = _disk_rows(table, lat, lon, 1.0)
    else:
        raise InputError(
            f"unsupported geometry {kind!r}; use Point, Polygon or LineString", field="area.type"
        )
    if rows.size == 0:
        raise InputError("the area lies outside Seoul, the area Ansim covers", field="area")
    if rows.size > MAX_AREA_CELLS:
        raise InputError(
            f"the area covers {rows.size} cells; at most {MAX_AREA_CELLS} (about 50 km²)",
            field="area",
        )
    return rows.astype(np.int64)


def bbox_of_rows(table: CellTable, rows: np.ndarray) -> tuple[float, float, float, float]:
    """(south, west, north, east) of the centres of ``rows``."""
    lat, lon = table.lat[rows], table.lon[rows]
    return float(lat.min()), float(lon.min()), float(lat.max()), float(lon.max())
