"""Origins and destinations: ``"lat,lon"`` or a subway station name, matched tolerantly.

Station names come from ``data/stations/seoul_station_master.csv`` (역사명, 위도, 경도). Matching ignores
spaces, a trailing ``역`` and parenthesised sub-names (``성신여대입구(돈암)`` also answers to ``돈암``).
Positions come from ``ansim.geo.gazetteer`` (stations, gu and dong names; a gu or dong means its centroid);
the station file is read here too, to refuse names shared by distant stations (the two 양평 stations are
9 km apart) instead of averaging them, and to suggest close names for unknown ones.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ansim.errors import InputError
from ansim.settings import get_settings

_LATLON = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,\s]\s*(-?\d+(?:\.\d+)?)\s*$")
#: Stations of one name farther apart than this are different places (for example the two 양평 stations).
SAME_STATION_M = 1_000.0


@dataclass(frozen=True)
class PlacePoint:
    """A resolved place: position and the label to show."""

    lat: float
    lon: float
    label: str


def _key(name: str) -> str:
    return re.sub(r"\s+", "", name).removesuffix("역")


@lru_cache(maxsize=4)
def _station_index(path: Path) -> dict[str, list[tuple[str, str, float, float]]]:
    index: dict[str, list[tuple[str, str, float, float]]] = defaultdict(list)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            name = row["역사명"].strip()
            try:
                lat, lon = float(row["위도"]), float(row["경도"])
            except (TypeError, ValueError):
                continue
            entry = (name, row.get("호선", "").strip(), lat, lon)
            main = re.sub(r"\(.*?\)", "", name)
            aliases = {_key(main), _key(name)} | {_key(a) for a in re.findall(r"\((.*?)\)", name)}
            for alias in aliases:
                if alias:
                    index[alias].append(entry)
    return dict(index)


def resolve_place(text: str, *, field: str, stations_csv: Path | None = None) -> PlacePoint:
    """Resolve ``"37.5665,126.9780"``, a station (``강남``, ``강남역``, ``서울역``), a gu or a dong name.

    Raises
    ------
    InputError
        Naming ``field``: empty text, bad coordinates, unknown name (with close candidates) or a name shared
        by distant stations (with the candidates and their lines).
    """
    raw = (text or "").strip()
    if not raw:
        raise InputError("empty place; give 'lat,lon' or a station name", field=field)
    m = _LATLON.match(raw)
    if m:
        lat, lon = float(m[1]), float(m[2])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InputError(f"not a WGS84 'lat,lon': {raw!r}", field=field)
        return PlacePoint(lat, lon, f"{lat:.5f},{lon:.5f}")
    path = stations_csv or get_settings().data_dir / "stations" / "seoul_station_master.csv"
    index = _station_index(path)
    key = _key(re.sub(r"\(.*?\)", "", raw)) or _key(raw)
    entries = index.get(key)
    if entries:
        lats = np.array([e[2] for e in entries])
        lons = np.array([e[3] for e in entries])
        spread_m = 111_000 * max(np.ptp(lats), np.ptp(lons) * np.cos(np.radians(lats.mean())))
        if spread_m > SAME_STATION_M:  # two stations share the name: never average them
            cands = sorted({f"{e[0]} ({e[1]})" for e in entries})
            raise InputError(
                f"ambiguous place {raw!r}: {'; '.join(cands)}; give 'lat,lon'", field=field
            )
    found = _from_gazetteer(raw)
    if found is not None:
        return found
    if not entries:
        close = difflib.get_close_matches(key, list(index), n=5, cutoff=0.6)
        hint = f"; did you mean: {', '.join(close)}" if close else ""
        msg = f"unknown place {raw!r} (not 'lat,lon', a station, a gu or a dong){hint}"
        raise InputError(msg, field=field)
    return PlacePoint(float(lats.mean()), float(lons.mean()), f"{entries[0][0]}역")


def _from_gazetteer(name: str) -> PlacePoint | None:
    """A station, gu or dong of the shared gazetteer (``ansim.geo.gazetteer``), or ``None``."""
    try:
        from ansim.geo import gazetteer
    except ImportError:
        return None
    station = gazetteer.find_station(name)
    if station is not None:
        label = station.name_ko if station.name_ko.endswith("역") else f"{station.name_ko}역"
        return PlacePoint(station.lat, station.lon, label)
    gu = gazetteer.find_gu(name)
    if gu is not None:
        return PlacePoint(gu.lat, gu.lon, gu.name)
    dongs = gazetteer.find_dongs(name)
    if dongs:
        lat, lon, _radius = gazetteer.union_area(dongs)
        return PlacePoint(lat, lon, name.strip())
    return None
