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
    """Name → the station a bare name means (Seoul's when namesakes differ; unambiguous names only)."""
    station_candidates_by_key: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)
    """Name → every station of that name (namesakes far apart are separate places)."""
    station_lines: tuple[tuple[str, ...], ...] = field(default=(), repr=False)
    """Lines (호선) serving each entry of ``stations``."""


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
    stations, lines = _stations(d, gu_tree, gus)
    candidates: dict[str, list[int]] = {}
    for i, p in enumerate(stations):
        candidates.setdefault(normalise_station(p.name_ko), []).append(i)
    station_keys = {
        k: chosen
        for k, idx in candidates.items()
        if (chosen := _preferred(idx, stations)) is not None
    }
    return Gazetteer(
        dongs=dongs,
        gus=gus,
        stations=stations,
        dong_tree=dong_tree,
        gu_tree=gu_tree,
        dongs_by_key={k: tuple(dict.fromkeys(v)) for k, v in keys.items()},
        stations_by_key=station_keys,
        station_candidates_by_key={k: tuple(v) for k, v in candidates.items()},
        station_lines=lines,
    )


NAMESAKE_DISTANCE_M = 1000.0
"""Entries of one name farther apart than this are different stations (양평 on line 5 in Seoul and
양평 on the Jungang line in Gyeonggi are 54 km apart); closer ones are one transfer station
(서울역's platforms spread over 510 m, 신촌's two stations 720 m apart are taken as one place)."""


def _preferred(indices: list[int], stations: tuple[Place, ...]) -> int | None:
    """The station a bare name means: the only one, or the only one in Seoul; None if ambiguous."""
    if len(indices) == 1:
        return indices[0]
    in_seoul = [i for i in indices if stations[i].region_code]
    return in_seoul[0] if len(in_seoul) == 1 else None


def _clusters(pts: list[tuple[float, float, str, str]]) -> list[list[int]]:
    """Single-linkage groups of points closer than ``NAMESAKE_DISTANCE_M``."""
    from ansim.geo.cells import haversine_m

    groups: list[list[int]] = []
    for i, (la, lo, _, _) in enumerate(pts):
        near = [
            g
            for g in groups
            if any(
                float(haversine_m(la, lo, pts[j][0], pts[j][1])) <= NAMESAKE_DISTANCE_M for j in g
            )
        ]
        merged = [i] + [j for g in near for j in g]
        groups = [g for g in groups if g not in near] + [sorted(merged)]
    return sorted(groups)


def _stations(
    d: Path, gu_tree: STRtree, gus: tuple[Area, ...]
) -> tuple[tuple[Place, ...], tuple[tuple[str, ...], ...]]:
    """One place per station (transfer stations averaged over their lines; namesakes farther apart
    than ``NAMESAKE_DISTANCE_M`` kept apart), with the lines serving each."""
    coords: dict[str, list[tuple[float, float, str, str]]] = {}
    with (d / "stations" / "seoul_station_master.csv").open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            key = normalise_station(row["역사명"])
            coords.setdefault(key, []).append(
                (float(row["위도"]), float(row["경도"]), row["역사_ID"], row["호선"])
            )
    places = []
    lines = []
    for key, all_pts in sorted(coords.items()):
        for group in _clusters(all_pts):
            pts = [all_pts[j] for j in group]
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
            lines.append(tuple(dict.fromkeys(p[3] for p in pts)))
    return tuple(places), tuple(lines)


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


@dataclass(frozen=True)
class StationCandidate:
    """One station of a name, with the lines serving it and whether it lies in Seoul."""

    place: Place
    lines: tuple[str, ...]

    @property
    def in_seoul(self) -> bool:
        """Inside one of Seoul's 25 gu."""
        return self.place.region_code is not None

    def label(self) -> str:
        """``양평역 (5호선, 11560)``: name, lines and gu code (or "outside Seoul")."""
        where = self.place.region_code or "outside Seoul"
        name = self.place.name_ko
        return f"{name if name.endswith('역') else name + '역'} ({', '.join(self.lines)}; {where})"


def station_candidates(name: str, *, data_dir: Path | None = None) -> list[StationCandidate]:
    """Every station called ``name`` (Seoul's first), one per place: namesakes are not averaged."""
    g = load_gazetteer(data_dir)
    idx = g.station_candidates_by_key.get(normalise_station(name), ())
    found = [StationCandidate(g.stations[i], g.station_lines[i]) for i in idx]
    return sorted(found, key=lambda c: (not c.in_seoul, c.place.source_id))


def find_station(name: str, *, data_dir: Path | None = None, strict: bool = False) -> Place | None:
    """A subway station by name as written (``강남역``, ``사당역 4번 출구`` not included: pass the name).

    A name shared by stations far apart (``양평``: line 5 in Seoul, the Jungang line in Gyeonggi)
    means Seoul's station when exactly one of them is in Seoul. Otherwise the name is ambiguous:
    None, or with ``strict`` an ``InputError`` listing the candidates by line.
    """
    g = load_gazetteer(data_dir)
    key = normalise_station(name)
    i = g.stations_by_key.get(key)
    if i is not None:
        return g.stations[i]
    if strict and key in g.station_candidates_by_key:
        from ansim.errors import InputError

        options = "; ".join(c.label() for c in station_candidates(name, data_dir=data_dir))
        raise InputError(f"{name!r} names several stations: {options}", field="station")
    return None


def union_area(areas: list[Area]) -> tuple[float, float, float]:
    """Centroid (lat, lon) and equal-area radius (m) of several areas taken together."""
    if len(areas) == 1:
        return areas[0].lat, areas[0].lon, areas[0].radius_m
    geom = shapely.union_all([a.geometry for a in areas])
    c = geom.centroid
    return float(c.y), float(c.x), equal_area_radius_m(geom)
