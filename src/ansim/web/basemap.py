"""Basemap layers of the web map, drawn from the bundled data (no tile server, no CDN).

Pure builders: each returns a GeoJSON ``FeatureCollection`` (a dict) from the bundled files or a
routing :class:`~ansim.routing.network.Network`. Coordinates are simplified (Douglas-Peucker in
degrees) and rounded to 5 decimals (about 1 m), which is all a screen needs and keeps the page light.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from shapely.geometry import LineString, MultiLineString, Point, mapping, shape
from shapely.ops import unary_union
from shapely.prepared import prep

if TYPE_CHECKING:
    from ansim.routing.network import Network

GU_FILE = "boundaries/seoul-municipalities-2018.geojson.gz"
DONG_FILE = "boundaries/seoul-submunicipalities-2018.geojson.gz"
STATION_FILE = "stations/seoul_station_master.csv"

GU_TOLERANCE_DEG = 0.0003
"""≈ 30 m: invisible at the zoom where a whole gu fits the screen."""
DONG_TOLERANCE_DEG = 0.00015
ROAD_TOLERANCE_DEG = 0.00004
DECIMALS = 5


def _round_coords(value: Any, decimals: int = DECIMALS) -> Any:
    """Round nested coordinate lists (GeoJSON ``coordinates``)."""
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], (int, float)):
            return [round(float(v), decimals) for v in value]
        return [_round_coords(v, decimals) for v in value]
    return value


def _read_geojson(path: Path) -> dict[str, Any]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def _gu_code(kostat_code: str) -> str:
    """5-digit administrative code of a gu from its KOSTAT code (11010 종로구 → 11110)."""
    from ansim.geo.regions import find_region

    found = find_region(f"kostat:{kostat_code}")
    return found.code if found is not None else kostat_code


def boundaries_geojson(
    data_dir: Path, *, level: str = "gu", tolerance_deg: float | None = None
) -> dict[str, Any]:
    """Seoul's 25 gu (``level="gu"``) or 424 dong (``"dong"``) as simplified polygons.

    Properties: ``code`` (gu: 5-digit administrative code; dong: KOSTAT code), ``name`` (Korean),
    ``name_en``, and for dong ``gu`` (the administrative code of its gu).
    """
    if level not in ("gu", "dong"):
        raise ValueError(f"level is gu or dong, not {level!r}")
    raw = _read_geojson(data_dir / (GU_FILE if level == "gu" else DONG_FILE))
    tol = (
        tolerance_deg
        if tolerance_deg is not None
        else (GU_TOLERANCE_DEG if level == "gu" else DONG_TOLERANCE_DEG)
    )
    gu_of: dict[str, str] = {}
    features = []
    for feat in raw["features"]:
        props = feat["properties"]
        geom = shape(feat["geometry"]).simplify(tol, preserve_topology=True)
        code = str(props["code"])
        out = {"name": props.get("name"), "name_en": props.get("name_eng")}
        if level == "gu":
            out["code"] = _gu_code(code)
        else:
            kostat_gu = code[:5]
            if kostat_gu not in gu_of:
                gu_of[kostat_gu] = _gu_code(kostat_gu)
            out["code"] = code
            out["gu"] = gu_of[kostat_gu]
        features.append(
            {
                "type": "Feature",
                "properties": out,
                "geometry": {
                    "type": geom.geom_type,
                    "coordinates": _round_coords(mapping(geom)["coordinates"]),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def seoul_outline(data_dir: Path) -> Any:
    """Union of the 25 gu polygons (a shapely geometry), for clipping points to Seoul."""
    raw = _read_geojson(data_dir / GU_FILE)
    return unary_union([shape(f["geometry"]) for f in raw["features"]])


def stations_geojson(data_dir: Path, *, outline: Any | None = None) -> dict[str, Any]:
    """Subway stations inside Seoul, one point per name (lines merged), from the station master.

    A name served by several lines appears once, at the mean of its platforms' positions, unless
    they are farther apart than 1 km (two distinct stations that share a name stay separate).
    """
    area = prep(outline if outline is not None else seoul_outline(data_dir))
    groups: dict[str, list[tuple[float, float, str]]] = {}
    with open(data_dir / STATION_FILE, encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            try:
                lat, lon = float(row["위도"]), float(row["경도"])
            except (KeyError, ValueError):
                continue
            if not area.contains(Point(lon, lat)):
                continue
            groups.setdefault(row["역사명"].strip(), []).append((lat, lon, row["호선"].strip()))
    features = []
    for name in sorted(groups):
        rows = groups[name]
        lats = np.array([r[0] for r in rows])
        lons = np.array([r[1] for r in rows])
        spread_deg = max(float(np.ptp(lats)), float(np.ptp(lons)))
        clusters = [rows] if spread_deg < 0.01 else [[r] for r in rows]
        for cluster in clusters:
            lines = sorted({r[2] for r in cluster})
            features.append(
                {
                    "type": "Feature",
                    "properties": {"name": name, "lines": lines},
                    "geometry": {
                        "type": "Point",
                        "coordinates": [
                            round(float(np.mean([r[1] for r in cluster])), DECIMALS),
                            round(float(np.mean([r[0] for r in cluster])), DECIMALS),
                        ],
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def road_lines(network: Network) -> list[list[tuple[float, float]]]:
    """One (lon, lat) polyline per street segment (the two directions of a street counted once;
    parallel streets between the same two nodes are told apart by their length)."""
    seen: set[tuple[int, int, int]] = set()
    lines = []
    ptr = network.geom_ptr
    for a in range(int(network.tail.shape[0])):
        u, v = int(network.tail[a]), int(network.head[a])
        key = (min(u, v), max(u, v), round(float(network.length_m[a])))
        if key in seen:
            continue
        seen.add(key)
        lo, hi = int(ptr[a]), int(ptr[a + 1])
        pts = list(
            zip(network.geom_lon[lo:hi].tolist(), network.geom_lat[lo:hi].tolist(), strict=True)
        )
        if len(pts) >= 2:
            lines.append(pts)
    return lines


def roads_geojson(
    networks: Iterable[Network], *, tolerance_deg: float = ROAD_TOLERANCE_DEG
) -> dict[str, Any]:
    """The streets of the bundled routing networks, one simplified MultiLineString per network."""
    features = []
    for net in networks:
        lines = [LineString(pts).simplify(tolerance_deg) for pts in road_lines(net)]
        multi = MultiLineString([ln for ln in lines if not ln.is_empty])
        west, south, east, north = net.bbox
        features.append(
            {
                "type": "Feature",
                "properties": {"network": net.name, "segments": len(multi.geoms)},
                "bbox": [
                    round(west, DECIMALS),
                    round(south, DECIMALS),
                    round(east, DECIMALS),
                    round(north, DECIMALS),
                ],
                "geometry": {
                    "type": "MultiLineString",
                    "coordinates": _round_coords(mapping(multi)["coordinates"]),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
