"""Stations sharing a name: namesakes far apart stay apart; a bare name means Seoul's station."""

from __future__ import annotations

import pytest

from ansim.errors import InputError
from ansim.geo.cells import haversine_m
from ansim.geo.gazetteer import find_station, load_gazetteer, station_candidates


def test_yangpyeong_means_the_seoul_station_and_lists_both() -> None:
    found = find_station("양평역")
    assert found is not None
    assert found.region_code == "11560"  # 영등포구, line 5
    assert (found.lat, found.lon) == (37.525569, 126.886129)  # not an average of the two
    candidates = station_candidates("양평")
    assert [c.lines for c in candidates] == [("5호선",), ("중앙선",)]
    assert candidates[0].in_seoul
    assert not candidates[1].in_seoul
    a, b = (c.place for c in candidates)
    apart = float(haversine_m(a.lat, a.lon, b.lat, b.lon))
    assert apart > 50_000


def test_ambiguous_names_are_refused_with_the_candidates() -> None:
    assert find_station("운정") is None  # two stations 3.6 km apart, neither in Seoul
    with pytest.raises(InputError) as exc:
        find_station("운정", strict=True)
    assert exc.value.field == "station"
    assert "경의중앙선" in str(exc.value)
    assert "수도권 광역급행철도" in str(exc.value)


def test_transfer_stations_stay_one_place() -> None:
    gangnam = station_candidates("강남역")
    assert len(gangnam) == 1
    assert set(gangnam[0].lines) == {"2호선", "신분당선"}
    assert len(station_candidates("서울역")) == 1  # platforms spread over 510 m
    assert find_station("없는역") is None
    g = load_gazetteer()
    assert len(g.station_lines) == len(g.stations)


def test_routing_resolves_the_seoul_namesake() -> None:
    from ansim.routing.places import _from_gazetteer

    point = _from_gazetteer("양평역")
    assert point is not None
    assert point.label == "양평역"
    assert (point.lat, point.lon) == (37.525569, 126.886129)
