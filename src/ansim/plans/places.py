"""Where a plan happens: coordinates as given, or a name/address resolved with the gazetteer.

Order: the plan's point (GEO, ``lat``/``lon``); a subway station named in the text (``이태원역``,
``강남역 2번 출구``); a gu named in the text (``용산구``, ``Yongsan-gu``), refined to a station or dong
inside it by the alert geocoder (:func:`ansim.alerts.geocode.geocode`); a dong named alone when all
dongs of that name lie in one gu. Nothing else is guessed: an unresolved place is reported, with the
reason, as "cannot check".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ansim.alerts.geocode import geocode
from ansim.geo.gazetteer import find_dongs, find_station, union_area
from ansim.geo.regions import find_region
from ansim.plans.model import PlaceSpec
from ansim.records import PRECISION_RADIUS_M


@dataclass(frozen=True, slots=True)
class ResolvedPlace:
    """A plan's place on the map, with how precisely it is known."""

    lat: float
    lon: float
    radius_m: float
    precision: str
    label: str

    def to_dict(self) -> dict[str, object]:
        """Public JSON shape."""
        return {
            "name": self.label,
            "lat": round(self.lat, 6),
            "lon": round(self.lon, 6),
            "radius_m": round(self.radius_m, 1),
            "precision": self.precision,
        }


_GU_WORD = re.compile(r"([가-힣]{1,4}구)(?![가-힣])|([A-Za-z]+-gu)\b", re.IGNORECASE)
_STATION_WORD = re.compile(r"([가-힣A-Za-z0-9]{2,12})역")
_DONG_WORD = re.compile(r"([가-힣]{1,8}\d*(?:[·.]\d+)*(?:가)?\d*동)(?![가-힣])")


def resolve(place: PlaceSpec) -> tuple[ResolvedPlace | None, str]:
    """``(place, "")`` when found, else ``(None, reason)``."""
    if place.has_point:
        assert place.lat is not None
        assert place.lon is not None
        return (
            ResolvedPlace(
                place.lat, place.lon, PRECISION_RADIUS_M["point"], "point", place.label()
            ),
            "",
        )
    return _resolve_text(place.text)


@lru_cache(maxsize=4096)
def _resolve_text(text: str) -> tuple[ResolvedPlace | None, str]:
    if not text.strip():
        return None, "no location"
    station = _station(text)
    if station is not None:
        return station, ""
    gu = _gu(text)
    if gu is not None:
        g = geocode(gu_code=gu, place_name=text, address=text)
        if g.lat is not None and g.lon is not None:
            return ResolvedPlace(g.lat, g.lon, g.radius_m, g.precision, text), ""
    for m in _DONG_WORD.finditer(text):
        areas = find_dongs(m.group(1))
        if areas and len({a.gu_code for a in areas}) == 1:
            lat, lon, radius_m = union_area(areas)
            return ResolvedPlace(lat, lon, radius_m, "dong", text), ""
    return None, f"place not found in Seoul: {text!r} (give a station, a dong and gu, or lat,lon)"


def _station(text: str) -> ResolvedPlace | None:
    # the station is a suffix of the word before 역 ("용산구이태원역" → "이태원"); a bare name
    # without spaces ("이태원", "강남") must match a station exactly
    words = [(m.group(1), True) for m in _STATION_WORD.finditer(text)]
    bare = text.strip()
    if bare and " " not in bare:
        words.append((bare, False))
    for word, suffixes in words:
        for k in range(max(len(word) - 1, 1) if suffixes else 1):
            found = find_station(word[k:])
            if found is not None and found.region_code is not None:
                return ResolvedPlace(
                    found.lat, found.lon, PRECISION_RADIUS_M["place"], "place", text
                )
    return None


def _gu(text: str) -> str | None:
    for m in _GU_WORD.finditer(text):
        found = find_region(m.group(1) or m.group(2))
        if found is not None and found.level == "gu":
            return found.code
    return None
