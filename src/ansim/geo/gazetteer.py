"""Seoul gazetteer: subway stations, dong and gu polygons, name lookup and point-in-polygon.

Everything is read once from the bundled files (``data/stations``, ``data/boundaries``) and kept
in an immutable :class:`Gazetteer`; every function after loading is pure. Names are normalised so
that the spellings found in free text match the official ones: ``강남역`` ↔ station ``강남``,
``신촌역(2호선)`` ↔ ``신촌``, ``상계6.7동`` ↔ ``상계6·7동``, ``제1동``/``1동``; a legal dong that
covers several administrative dongs (``화곡동`` → 화곡1동 … 화곡본동) returns all of them.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from ansim.geo.regions import region
from ansim.records import Place
from ansim.settings import get_settings

# Metres per degree near Seoul (37.5°N): enough for areas and radii of dong-sized polygons.
_M_PER_DEG_LAT = 110_940.0
_M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(37.55))


@dataclass(frozen=True, slots=True)
class Area:
    """A dong or gu polygon with its centroid and an equal-area radius."""

    level: str  # "dong" or "gu"
    name: str
    gu_code: str  # 5-digit administrative code of the gu
    kostat_code: str
    geometry: BaseGeometry = field(repr=False)
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class Gazetteer:
    """Loaded gazetteer tables and spatial indexes (treat as read-only)."""

    dongs: tuple[Area, ...]
    gus: tuple[Area, ...]
    stations: tuple[Place, ...]
    dong_tree: STRtree = field(repr=False)
    gu_tree: STRtree = field(repr=False)
    dongs_by_key: dict[str, tuple[int, ...]] = field(repr=False)
    stations_by_key: dict[str, int] = field(repr=False)


def equal_area_radius_m(geometry: BaseGeometry) -> float:
    """Radius (m) of the circle with the polygon's area: the uncertainty of a point-in-area."""
    projected = shapely.transform(
        geometry, lambda xy: xy * np.array([_M_PER_DEG_LON, _M_PER_DEG_LAT])
    )
    return math.sqrt(projected.area / math.pi)


def _read_geojson(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return list(json.load(f)["features"])


def _area(level: str, feature: dict, gu_code: str) -> Area:
    geom = shape(feature["geometry"])
    c = geom.centroid
    return Area(
        level=level,
        name=feature["properties"]["name"],
        gu_code=gu_code,
        kostat_code=feature["properties"]["code"],
        geometry=geom,
        lat=float(c.y),
        lon=float(c.x),
        radius_m=equal_area_radius_m(geom),
    )


_DONG_SEP = re.compile(r"[.,ㆍ·・\s]")


def normalise_dong(name: str) -> str:
    """Canonical key of a dong name: ``제1동`` → ``1동``, ``3.8`` / ``3,8`` → ``3·8``, no spaces."""
    s = name.strip().replace(" ", "")
    s = re.sub(r"제(\d)", r"\1", s)
    return _DONG_SEP.sub("·", s).replace("··", "·")


def _legal_dong(name: str) -> str | None:
    """The legal dong an administrative dong belongs to (``화곡8동`` → ``화곡동``), if numbered."""
    m = re.match(r"^(.+?)(?:본|\d+(?:·\d+)*(?:가)?)동$", name)
    if m and len(m.group(1)) >= 1:
        return m.group(1) + "동"
    return None


def normalise_station(name: str) -> str:
    """Canonical key of a station name: no spaces, no ``(…)`` note, no trailing ``역``."""
    s = re.sub(r"\(.*?\)", "", name).replace(" ", "").strip()
    if s.endswith("역") and len(s) > 2 and s != "서울역":
        s = s[:-1]
    return s


def load_gazetteer(data_dir: Path | None = None) -> Gazetteer:
    """Read the bundled stations and boundaries once (cached per data directory)."""
    return _load(Path(data_dir or get_settings().data_dir).resolve())


@lru_cache(maxsize=4)
def _load(d: Path) -> Gazetteer:
    gus = tuple(
        _area("gu", f, region(f"kostat:{f['properties']['code']}", data_dir=d).code)
        for f in _read_geojson(d / "boundaries" / "seoul-municipalities-2018.geojson.gz")
    )
    gu_by_kostat = {g.kostat_code: g.gu_code for g in gus}
    dongs = tuple(
        _area("dong", f, gu_by_kostat[f["properties"]["code"][:5]])
        for f in _read_geojson(d / "boundaries" / "seoul-submunicipalities-2018.geojson.gz")
    )
    keys: dict[str, list[int]] = {}
    for i, a in enumerate(dongs):
        key = normalise_dong(a.name)
        keys.setdefault(key, []).append(i)
        legal = _legal_dong(key)
        if legal and legal != key:
            keys.setdefault(legal, []).append(i)
        # "상계6·7동" is also written "상계6동" or "상계7동"
        for part in re.findall(r"\d+", key) if "·" in key else ():
            keys.setdefault(re.sub(r"\d+(?:·\d+)+", part, key), []).append(i)
    dong_tree = STRtree([a.geometry for a in dongs])
    gu_tree = STRtree([a.geometry for a in gus])
    stations = _stations(d, gu_tree, gus)
    station_keys = {normalise_station(p.name_ko): i for i, p in enumerate(stations)}
    return Gazetteer(
        dongs=dongs,
        gus=gus,
        stations=stations,
        dong_tree=dong_tree,
        gu_tree=gu_tree,
        dongs_by_key={k: tuple(dict.fromkeys(v)) for k, v in keys.items()},
        stations_by_key=station_keys,
    )


def _stations(d: Path, gu_tree: STRtree, gus: tuple[Area, ...]) -> tuple[Place, ...]:
    """One place per station name (transfer stations averaged over their lines)."""
    coords: dict[str, list[tuple[float, float, str]]] = {}
    with (d / "stations" / "seoul_station_master.csv").open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            key = normalise_station(row["역사명"])
            coords.setdefault(key, []).append(
                (float(row["위도"]), float(row["경도"]), row["역사_ID"])
            )
    places = []
    for key, pts in sorted(coords.items()):
        lat = sum(p[0] for p in pts) / len(pts)
        lon = sum(p[1] for p in pts) / len(pts)
        hit = gu_tree.query(shapely.Point(lon, lat), predicate="intersects")
        places.append(
            Place(
                kind="station",
                source_id=pts[0][2],
                name_ko=key,
                lat=lat,
                lon=lon,
                region_code=gus[int(hit[0])].gu_code if len(hit) else None,
                aliases=(key + "역",),
            )
        )
    return tuple(places)


def locate(lat: float, lon: float, *, data_dir: Path | None = None) -> tuple[str, str] | None:
    """The (gu administrative code, dong name) containing a WGS84 point, or ``None`` outside Seoul."""
    g = load_gazetteer(data_dir)
    hit = g.dong_tree.query(shapely.Point(lon, lat), predicate="intersects")
    if not len(hit):
        return None
    dong = g.dongs[int(min(hit))]
    return dong.gu_code, dong.name


def find_dongs(
    name: str, *, gu_code: str | None = None, data_dir: Path | None = None
) -> list[Area]:
    """Administrative dongs a name denotes (several for a legal dong), optionally within one gu."""
    g = load_gazetteer(data_dir)
    found = [g.dongs[i] for i in g.dongs_by_key.get(normalise_dong(name), ())]
    if gu_code is not None:
        found = [a for a in found if a.gu_code == gu_code]
    return found


def find_gu(name_or_code: str, *, data_dir: Path | None = None) -> Area | None:
    """The gu polygon for a name (``강남구``) or administrative code (``11680``)."""
    g = load_gazetteer(data_dir)
    for a in g.gus:
        if name_or_code in (a.name, a.gu_code):
            return a
    return None


def find_station(name: str, *, data_dir: Path | None = None) -> Place | None:
    """A subway station by name as written (``강남역``, ``사당역 4번 출구`` not included: pass the name)."""
    g = load_gazetteer(data_dir)
    i = g.stations_by_key.get(normalise_station(name))
    return g.stations[i] if i is not None else None


def union_area(areas: list[Area]) -> tuple[float, float, float]:
    """Centroid (lat, lon) and equal-area radius (m) of several areas taken together."""
    if len(areas) == 1:
        return areas[0].lat, areas[0].lon, areas[0].radius_m
    geom = shapely.union_all([a.geometry for a in areas])
    c = geom.centroid
    return float(c.y), float(c.x), equal_area_radius_m(geom)
