"""Places of plans resolved with the bundled gazetteer (stations, gu, dong), or a stated reason."""

from __future__ import annotations

import pytest

from ansim.plans.model import PlaceSpec
from ansim.plans.places import resolve


@pytest.mark.parametrize(
    ("text", "precision", "near"),
    [
        ("이태원역", "place", (37.5345, 126.9943)),
        ("신도림역 1번 출구", "place", (37.5088, 126.8912)),
        ("서울 용산구 이태원동", "dong", (37.5387, 126.9925)),
        ("구로구 신도림동", "dong", (37.5100, 126.8821)),
        ("Yongsan-gu", "gu", (37.5313, 126.9799)),
        ("강남", "place", (37.4973, 127.0280)),
    ],
)
def test_resolves_named_places(text: str, precision: str, near: tuple[float, float]) -> None:
    place, reason = resolve(PlaceSpec(text=text))
    assert reason == ""
    assert place is not None
    assert place.precision == precision
    assert abs(place.lat - near[0]) < 0.002
    assert abs(place.lon - near[1]) < 0.002


def test_point_is_used_as_given() -> None:
    place, _ = resolve(PlaceSpec(text="somewhere", lat=37.5, lon=127.0))
    assert (place.lat, place.lon, place.precision, place.label) == (
        37.5,
        127.0,
        "point",
        "somewhere",
    )


@pytest.mark.parametrize("text", ["Paris", "스타벅스", "모임 장소 미정"])
def test_unknown_place_has_a_reason(text: str) -> None:
    place, reason = resolve(PlaceSpec(text=text))
    assert place is None
    assert "not found" in reason
    assert text in reason
