"""H3 cells: ``uint64`` inside, hex strings at the edges, and the Seoul cell table.

The Seoul cell set is the polyfill of the 25 gu polygons (H3 assigns a cell to a polygon by its
centre, so every cell belongs to exactly one gu). It is built once per resolution and cached as an
``.npz`` under ``settings.var_dir`` (building takes ~0.3 s at resolution 10; loading ~5 ms).

Distances are great-circle (haversine) between cell centres, in metres.
"""

from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass
from pathlib import Path

import h3
import h3.api.numpy_int as h3n
import numpy as np
import numpy.typing as npt

from ansim.errors import InputError, OutOfCoverageError

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), the one H3 uses."""
CACHE_VERSION = 1
"""Bump when the cached table layout changes."""


def latlng_to_cells(lat: npt.ArrayLike, lon: npt.ArrayLike, resolution: int) -> np.ndarray:
    """H3 cells (``uint64``) of WGS84 points; a loop over h3's C call (~1 µs per point)."""
    la = np.atleast_1d(np.asarray(lat, dtype=float))
    lo = np.atleast_1d(np.asarray(lon, dtype=float))
    if la.shape != lo.shape:
        raise InputError("lat and lon must have the same length", field="lon")
    out = np.empty(la.shape, dtype=np.uint64)
    for i, (a, b) in enumerate(zip(la.tolist(), lo.tolist(), strict=True)):
        out[i] = h3n.latlng_to_cell(a, b, resolution)
    return out


def cell_to_hex(cell: int | np.integer) -> str:
    """The hex string of an H3 cell (``8a30e1ca…``)."""
    return h3.int_to_str(int(cell))


def cells_to_hex(cells: npt.ArrayLike) -> list[str]:
    """Hex strings of many cells."""
    return [h3.int_to_str(int(c)) for c in np.asarray(cells, dtype=np.uint64).tolist()]


def hex_to_cell(text: str, *, field: str = "cell") -> int:
    """Parse an H3 hex string; an invalid one raises ``InputError`` naming ``field``."""
    try:
        value = h3.str_to_int(text.strip())
    except (ValueError, TypeError, h3.H3BaseException):
        raise InputError(f"not an H3 cell: {text!r}", field=field) from None
    if not h3n.is_valid_cell(value):
        raise InputError(f"not an H3 cell: {text!r}", field=field)
    return int(value)


def cell_centres(cells: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) in degrees of each cell's centre."""
    arr = np.asarray(cells, dtype=np.uint64).ravel()
    lat = np.empty(arr.size)
    lon = np.empty(arr.size)
    for i, c in enumerate(arr.tolist()):
        lat[i], lon[i] = h3n.cell_to_latlng(c)
    return lat, lon


def haversine_m(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> np.ndarray:
    """Great-circle distance in metres, broadcasting over numpy arrays."""
    p1 = np.radians(np.asarray(lat1, dtype=float))
    p2 = np.radians(np.asarray(lat2, dtype=float))
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def cell_distance_m(a: npt.ArrayLike, b: npt.ArrayLike) -> np.ndarray:
    """Distance in metres between the centres of cells ``a`` and ``b`` (broadcast)."""
    la, loa = cell_centres(a)
    lb, lob = cell_centres(b)
    return haversine_m(la, loa, lb, lob)


def disk(cell: int, k: int) -> np.ndarray:
    """All cells within ``k`` grid steps of ``cell`` (``uint64``; includes the cell itself)."""
    return np.asarray(h3n.grid_disk(int(cell), int(k)), dtype=np.uint64)


def disk_k_for_radius(radius_m: float, resolution: int) -> int:
    """Smallest ``k`` whose grid disk covers a circle of ``radius_m`` around any cell centre.

    Neighbouring centres are √3 · edge apart, and the k-ring is a hexagon whose inscribed circle has
    radius k · √3 · edge · √3/2 = 1.5 · k · edge. H3 edges vary by about ±20 % over the globe, so
    we use 0.8 × the average edge to stay on the safe side.
    """
    step_m = 1.5 * 0.8 * h3.average_hexagon_edge_length(resolution, "m")
    return max(0, math.ceil(radius_m / step_m))


@dataclass(frozen=True)
class CellTable:
    """The cells of an area at one resolution, sorted by cell id, with their centre, gu and area."""

    resolution: int
    cells: np.ndarray
    """``uint64`` cell ids, sorted ascending (lookups are ``searchsorted``)."""
    lat: np.ndarray
    lon: np.ndarray
    area_m2: np.ndarray
    gu_index: np.ndarray
    """``int16`` index into ``gu_codes`` for each cell."""
    gu_codes: tuple[str, ...]
    """5-digit administrative codes, in the order of ``seoul_districts()``."""

    def __len__(self) -> int:
        return int(self.cells.size)

    def index_of(self, cells: npt.ArrayLike) -> np.ndarray:
        """Row of each cell in the table (``int64``), −1 for cells not in it."""
        arr = np.atleast_1d(np.asarray(cells, dtype=np.uint64))
        pos = np.searchsorted(self.cells, arr)
        pos_c = np.minimum(pos, self.cells.size - 1)
        found = self.cells[pos_c] == arr
        return np.where(found, pos_c, -1).astype(np.int64)

    def locate(self, lat: float, lon: float, *, field: str = "lat/lon") -> int:
        """Row of the cell containing a point; outside the area raises ``OutOfCoverageError``."""
        if not (math.isfinite(lat) and math.isfinite(lon)) or not (-90 <= lat <= 90):
            raise InputError(f"not a coordinate: {lat!r}, {lon!r}", field=field)
        cell = h3n.latlng_to_cell(float(lat), float(lon), self.resolution)
        row = int(self.index_of(np.array([cell], dtype=np.uint64))[0])
        if row < 0:
            raise OutOfCoverageError(
                f"({lat:.4f}, {lon:.4f}) is outside Seoul, the area Ansim covers", field=field
            )
        return row

    def gu_of(self, rows: npt.ArrayLike) -> np.ndarray:
        """Administrative gu codes of table rows."""
        return np.asarray(self.gu_codes, dtype=object)[self.gu_index[np.asarray(rows)]]

    def in_bbox(self, south: float, west: float, north: float, east: float) -> np.ndarray:
        """Rows whose centre lies in the box (degrees)."""
        return np.flatnonzero(
            (self.lat >= south) & (self.lat <= north) & (self.lon >= west) & (self.lon <= east)
        )


def polygon_cells(geometry: dict, resolution: int) -> np.ndarray:
    """Cells whose centre lies in a GeoJSON (Multi)Polygon geometry, ``uint64``."""
    return np.asarray(
        [h3.str_to_int(c) for c in h3.geo_to_cells(geometry, resolution)], dtype=np.uint64
    )


def _read_features(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return list(json.load(f)["features"])


def build_seoul_cells(resolution: int, *, data_dir: Path) -> CellTable:
    """Polyfill the 25 gu polygons of ``boundaries/seoul-municipalities-2018.geojson.gz``."""
    from ansim.geo.regions import region, seoul_districts

    codes = tuple(r.code for r in seoul_districts(data_dir=data_dir))
    position = {c: i for i, c in enumerate(codes)}
    parts: list[np.ndarray] = []
    gu_parts: list[np.ndarray] = []
    for feature in _read_features(data_dir / "boundaries" / "seoul-municipalities-2018.geojson.gz"):
        code = region(f"kostat:{feature['properties']['code']}", data_dir=data_dir).code
        cells = polygon_cells(feature["geometry"], resolution)
        parts.append(cells)
        gu_parts.append(np.full(cells.size, position[code], dtype=np.int16))
    cells = np.concatenate(parts)
    gu = np.concatenate(gu_parts)
    order = np.argsort(cells, kind="stable")
    cells, gu = cells[order], gu[order]
    keep = np.ones(cells.size, dtype=bool)
    keep[1:] = cells[1:] != cells[:-1]  # a centre on a shared border: the first gu wins
    cells, gu = cells[keep], gu[keep]
    lat, lon = cell_centres(cells)
    area = np.fromiter((h3n.cell_area(int(c), "m^2") for c in cells.tolist()), float, cells.size)
    return CellTable(resolution, cells, lat, lon, area, gu, codes)


_MEMORY: dict[tuple[int, str], CellTable] = {}


def seoul_cells(
    resolution: int | None = None, *, data_dir: Path | None = None, cache_dir: Path | None = None
) -> CellTable:
    """The Seoul cell table (memory cache, then ``<var_dir>/cells_seoul_r{res}.npz``, then build)."""
    from ansim.settings import get_settings

    settings = get_settings()
    res = int(resolution if resolution is not None else settings.h3_resolution)
    if not 0 <= res <= 15:
        raise InputError(f"H3 resolution must be 0-15, got {res}", field="resolution")
    d = data_dir or settings.data_dir
    key = (res, str(d))
    if key in _MEMORY:
        return _MEMORY[key]
    cache = (cache_dir or settings.var_dir) / f"cells_seoul_r{res}_v{CACHE_VERSION}.npz"
    table: CellTable | None = None
    if cache.exists():
        try:
            with np.load(cache, allow_pickle=False) as z:
                table = CellTable(
                    res,
                    z["cells"],
                    z["lat"],
                    z["lon"],
                    z["area_m2"],
                    z["gu_index"],
                    tuple(str(c) for c in z["gu_codes"]),
                )
        except (OSError, KeyError, ValueError):
            table = None  # a damaged cache is rebuilt
    if table is None:
        table = build_seoul_cells(res, data_dir=d)
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp.npz")
            np.savez(
                tmp,
                cells=table.cells,
                lat=table.lat,
                lon=table.lon,
                area_m2=table.area_m2,
                gu_index=table.gu_index,
                gu_codes=np.asarray(table.gu_codes),
            )
            tmp.replace(cache)
        except OSError:
            pass  # a read-only var dir only costs the rebuild next time
    _MEMORY[key] = table
    return table
