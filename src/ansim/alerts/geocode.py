"""Offline geocoding of a venue to the finest level its text allows (station > dong > gu).

A subway station named in the text (``까치산역 4번 출구 앞``, ``강남역 악바리주점``) gives the
station's point (precision ``place``); a dong (``화곡8동``, lot number ``길동 381-14``, a legal dong
covering several administrative ones) gives the centroid of its polygon(s) with the equal-area
radius; otherwise the district's polygon (``gu``). Places outside Seoul stay ``unknown``: Ansim
has no polygons there, and the risk engine covers Seoul only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ansim.geo.gazetteer import find_dongs, find_gu, find_station, union_area
from ansim.records import PRECISION_RADIUS_M

_STATION = re.compile(r"([가-힣A-Za-z0-9]{2,10}?)역(?![학삼촌곡])")
_DONG = re.compile(r"([가-힣]{1,6}\d*(?:[·.,]\d+)*(?:가)?\d*동)(?=\s*\d|[\s,()]|$|[가-힣A-Za-z])")


@dataclass(frozen=True, slots=True)
class Geocode:
    """Where a venue is, as finely as known."""

    lat: float | None
    lon: float | None
    radius_m: float
    precision: str


UNKNOWN = Geocode(None, None, PRECISION_RADIUS_M["unknown"], "unknown")


def geocode(*, gu_code: str | None, place_name: str, address: str) -> Geocode:
    """Locate a venue within its Seoul district (``gu_code``; ``None`` outside Seoul)."""
    if gu_code is None:
        return UNKNOWN
    text = f"{address} {place_name}"
    station = _station(text, gu_code)
    if station is not None:
        return station
    dong = _dong(text, gu_code)
    if dong is not None:
        return dong
    gu = find_gu(gu_code)
    if gu is None:
        return UNKNOWN
    return Geocode(gu.lat, gu.lon, gu.radius_m, "gu")


def _station(text: str, gu_code: str) -> Geocode | None:
    for m in _STATION.finditer(text):
        word = m.group(1)
        # the station name is a suffix of the word before 역 ("헤어콕연신내점" has none; "까치산역" does)
        for k in range(len(word) - 1):
            place = find_station(word[k:])
            if place is not None and place.region_code is not None:
                return Geocode(place.lat, place.lon, PRECISION_RADIUS_M["place"], "place")
    return None


def _dong(text: str, gu_code: str) -> Geocode | None:
    for m in _DONG.finditer(text):
        word = m.group(1)
        for k in range(len(word) - 1):
            areas = find_dongs(word[k:], gu_code=gu_code)
            if areas:
                lat, lon, radius_m = union_area(areas)
                return Geocode(lat, lon, radius_m, "dong")
    return None
