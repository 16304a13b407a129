"""Reading plans: iCalendar edge cases (time zones, all-day, RRULE+EXDATE, no location), JSON, routes."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from ansim.errors import InputError
from ansim.plans.ical import default_window, read_ics, read_plans, read_plans_json
from ansim.timeutil import SEOUL
from tests.plans.conftest import SAMPLE_ICS


@pytest.fixture(scope="module")
def sample():
    plans, window = read_plans(SAMPLE_ICS)
    return plans, window


def by_ref(plans, ref):
    return [p for p in plans if p.ref == ref]


def ics(*events: str, extra: str = "") -> str:
    body = "".join(f"BEGIN:VEVENT\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{extra}{body}END:VCALENDAR\r\n"


def test_floating_time_is_seoul_time(sample) -> None:
    (lunch,) = by_ref(sample[0], "team-lunch-w10@ansim.sample")
    assert lunch.start == datetime(2020, 3, 3, 12, 10, tzinfo=SEOUL)
    assert lunch.start.utcoffset() == timedelta(hours=9)


def test_utc_time_is_converted_to_seoul(sample) -> None:
    (dinner,) = by_ref(sample[0], "dinner-w10@ansim.sample")
    assert dinner.start.utcoffset() == timedelta(hours=9)
    assert (dinner.start.hour, dinner.end.hour) == (19, 21)  # 10:00Z-12:00Z


def test_tzid_time_is_kept(sample) -> None:
    (club,) = by_ref(sample[0], "itaewon-club-w18@ansim.sample")
    assert club.start == datetime(2020, 5, 2, 23, 0, tzinfo=SEOUL)
    assert club.end == datetime(2020, 5, 3, 2, 0, tzinfo=SEOUL)


def test_all_day_event_is_flagged_with_its_date(sample) -> None:
    (birthday,) = by_ref(sample[0], "birthday-w10@ansim.sample")
    assert birthday.all_day
    assert birthday.start.date() == date(2020, 3, 7)
    assert birthday.end - birthday.start == timedelta(days=1)


def test_rrule_with_exdate_gives_one_plan_per_remaining_occurrence(sample) -> None:
    plans = sample[0]
    office10 = [p.start.date() for p in by_ref(plans, "office-w10@ansim.sample")]
    assert office10 == [date(2020, 3, d) for d in (2, 3, 4, 5)]  # Friday 6 March excluded
    office18 = [p.start.date() for p in by_ref(plans, "office-w18@ansim.sample")]
    assert office18 == [
        date(2020, 4, 27),
        date(2020, 4, 28),
        date(2020, 4, 29),
    ]  # 30 Apr, 1 May off
    runs = [p.start.date() for p in by_ref(plans, "morning-run-w10@ansim.sample")]
    assert runs == [date(2020, 3, 2), date(2020, 3, 6)]  # COUNT=3 counts the excluded Wednesday
    assert all(p.start.hour == 9 for p in by_ref(plans, "office-w18@ansim.sample"))


def test_event_without_location_is_kept(sample) -> None:
    (call,) = by_ref(sample[0], "dentist-call-w10@ansim.sample")
    assert call.place is None
    assert call.title == "Call the dentist"


def test_geo_is_used_and_location_text_kept(sample) -> None:
    (lunch,) = by_ref(sample[0], "guro-lunch-w10@ansim.sample")
    assert (lunch.place.lat, lunch.place.lon) == (37.508163, 126.884387)
    assert "구로구" in lunch.place.text
    (movie,) = by_ref(sample[0], "cinema-w18@ansim.sample")
    assert movie.place.lat is None
    assert movie.place.text == "CGV 용산아이파크몰, 용산역"


def test_default_window_spans_the_calendar(sample) -> None:
    plans, (start, end) = sample
    assert start == datetime(2020, 3, 2, tzinfo=SEOUL)
    assert end == datetime(2020, 5, 3, 14, 30, tzinfo=SEOUL)
    assert len(plans) == 21
    assert plans == sorted(plans, key=lambda p: (p.start, p.title))


def test_explicit_window_limits_occurrences() -> None:
    window = (datetime(2020, 3, 3, tzinfo=SEOUL), datetime(2020, 3, 5, tzinfo=SEOUL))
    plans, used = read_plans(SAMPLE_ICS, window=window)
    assert used == window
    assert {p.start.date() for p in plans} == {date(2020, 3, 3), date(2020, 3, 4)}


def test_an_old_series_does_not_drag_the_window_back() -> None:
    spans = [
        (datetime(1990, 5, 1, tzinfo=SEOUL), datetime(1990, 5, 2, tzinfo=SEOUL), True),
        (datetime(2020, 5, 1, 12, tzinfo=SEOUL), datetime(2020, 5, 1, 13, tzinfo=SEOUL), False),
    ]
    start, end = default_window(spans)
    assert start == datetime(2020, 5, 1, tzinfo=SEOUL)
    assert end == start + timedelta(days=7)


def test_duration_and_cancelled_and_extensions() -> None:
    text = ics(
        "UID:a\r\nSUMMARY:Talk\r\nDTSTART:20200505T100000\r\nDURATION:PT90M\r\nLOCATION:시청역\r\n"
        "X-ANSIM-ACTIVITY:classroom\r\nX-ANSIM-FROM:37.55,126.97",
        "UID:b\r\nSUMMARY:Gone\r\nDTSTART:20200505T120000\r\nSTATUS:CANCELLED\r\nLOCATION:시청역",
    )
    plans, _ = read_ics(text)
    talk, gone = plans
    assert talk.end - talk.start == timedelta(minutes=90)
    assert talk.activity == "classroom"
    assert (talk.origin.lat, talk.origin.lon) == (37.55, 126.97)
    assert gone.skip_reason == "the event is cancelled"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ("UID:late@x\r\nDTSTART:20200505T100000\r\nDTEND:20200505T090000", "DTEND"),
        ("UID:geo@x\r\nDTSTART:20200505T100000\r\nGEO:95.0;126.9", "GEO"),
        ("UID:geo2@x\r\nDTSTART:20200505T100000\r\nGEO:abc", "GEO"),
        ("UID:nostart@x\r\nSUMMARY:x", "DTSTART"),
        ("UID:bad@x\r\nDTSTART:2020050X", "DTSTART"),
        ("UID:rr@x\r\nDTSTART:20200505T100000\r\nRRULE:FREQ=SOMETIMES", "RRULE"),
    ],
)
def test_bad_event_names_its_uid_and_field(event: str, field: str) -> None:
    with pytest.raises(InputError) as err:
        read_ics(ics(event), source="mine.ics")
    uid = event.split("\r\n")[0].removeprefix("UID:")
    assert err.value.field == field
    assert uid in str(err.value)
    assert "mine.ics" in str(err.value)


def test_not_a_calendar() -> None:
    with pytest.raises(InputError, match="not an iCalendar"):
        read_ics("hello", source="x.ics")


def test_json_plans_places_and_reservations() -> None:
    doc = [
        {
            "title": "Flight to Jeju",
            "type": "flight",
            "place": "김포공항역",
            "start": "2020-05-01 09:00",
            "end": "2020-05-01 10:10",
        },
        {
            "title": "Hotel",
            "type": "lodging",
            "place": {"name": "Hotel", "lat": 37.56, "lon": 126.98},
            "start": "2020-05-01T15:00+09:00",
            "end": "2020-05-03T11:00+09:00",
        },
        {
            "title": "Dinner",
            "place": "37.5,127.0",
            "start": "2020-05-02T10:00Z",
            "duration_min": 90,
            "activity": {"preset": "restaurant", "people": 4},
        },
        {"title": "Somewhere", "start": "2020-05-02 20:00"},
    ]
    plans, _ = read_plans_json(json.dumps(doc), source="p.json")
    flight, hotel, dinner, nowhere = plans
    assert flight.kind == "reservation"
    assert flight.activity == "flight"
    assert hotel.activity == "lodging"
    assert hotel.place.has_point
    assert dinner.start == datetime(2020, 5, 2, 19, 0, tzinfo=SEOUL)
    assert dinner.end - dinner.start == timedelta(minutes=90)
    assert (dinner.place.lat, dinner.place.lon) == (37.5, 127.0)
    assert nowhere.place is None
    assert [p.ref for p in plans] == ["[0]", "[1]", "[2]", "[3]"]


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ([{"title": "x", "start": "not a time"}], "[0].start"),
        ([{"title": "x", "start": "2020-05-01 10:00"}, {"title": "y"}], "[1].start"),
        ([{"title": "x", "start": "2020-05-01 10:00", "end": "2020-05-01 09:00"}], "[0].end"),
        ([{"title": "x", "start": "2020-05-01 10:00", "place": {"lat": 37.5}}], "[0].place"),
        (
            [{"title": "x", "start": "2020-05-01 10:00", "place": {"lat": 99, "lon": 127}}],
            "[0].place",
        ),
        ([{"title": "x", "start": "2020-05-01 10:00", "type": "spaceship"}], "[0].type"),
        ([{"title": "x", "start": "2020-05-01 10:00", "colour": "red"}], "[0]"),
        (
            {
                "routes": [
                    {"from": "시청역", "to": "강남역", "days": ["mon", "funday"], "depart": "08:00"}
                ]
            },
            "routes[0].days",
        ),
        (
            {"routes": [{"from": "시청역", "to": "강남역", "days": "weekdays", "depart": "25:00"}]},
            "routes[0].depart",
        ),
        ({"routes": [{"from": "시청역", "days": "weekdays", "depart": "08:00"}]}, "routes[0].to"),
    ],
)
def test_bad_json_names_the_index_and_field(doc, field: str) -> None:
    with pytest.raises(InputError) as err:
        read_plans_json(json.dumps(doc), source="plans.json")
    assert err.value.field == field
    assert err.value.source == "plans.json"


def test_usual_routes_expand_to_trips_on_their_days() -> None:
    doc = {
        "plans": [{"title": "Dinner", "place": "시청역", "start": "2020-04-27 19:00"}],
        "routes": [
            {
                "from": "37.5547,126.9707",
                "to": "37.4979,127.0276",
                "days": ["월", "wed", "Friday"],
                "depart": "08:10",
            },
            {
                "from": "홍대입구역",
                "to": "시청역",
                "days": "주말",
                "depart": "11:00",
                "mode": "bus",
                "duration_min": 25,
            },
        ],
    }
    window = (datetime(2020, 4, 27, tzinfo=SEOUL), datetime(2020, 5, 4, tzinfo=SEOUL))
    plans, _ = read_plans_json(json.dumps(doc), window=window)
    trips = [p for p in plans if p.kind == "trip"]
    commute = [p for p in trips if p.activity == "subway"]
    assert [p.start for p in commute] == [
        datetime(2020, 4, 27, 8, 10, tzinfo=SEOUL),
        datetime(2020, 4, 29, 8, 10, tzinfo=SEOUL),
        datetime(2020, 5, 1, 8, 10, tzinfo=SEOUL),
    ]
    # no duration given: the checker estimates it once both places are resolved
    assert all(p.end == p.start for p in commute)
    weekend = [p for p in trips if p.activity == "bus"]
    assert [p.start.date() for p in weekend] == [date(2020, 5, 2), date(2020, 5, 3)]
    assert all(p.end - p.start == timedelta(minutes=25) for p in weekend)
    assert all(p.origin is not None and p.place is not None for p in trips)


def test_read_plans_by_suffix_and_unreadable(tmp_path: Path) -> None:
    p = tmp_path / "plans.json"
    p.write_text(
        '[{"title": "x", "place": "시청역", "start": "2020-05-01 10:00"}]', encoding="utf-8"
    )
    plans, _ = read_plans(p)
    assert plans[0].title == "x"
    with pytest.raises(InputError, match="cannot read"):
        read_plans(tmp_path / "missing.ics")
    bad = tmp_path / "notes.txt"
    bad.write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="not an iCalendar"):
        read_plans(bad)
