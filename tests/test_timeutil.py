from datetime import date, datetime, timedelta

import pytest

from ansim.timeutil import SEOUL, as_seoul, parse_date, parse_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-03-10", date(2020, 3, 10)),
        ("2020.03.10", date(2020, 3, 10)),
        ("2020/3/1", date(2020, 3, 1)),
        ("20200310", date(2020, 3, 10)),
        ("2020.05.12.00", date(2020, 5, 12)),
        ("20.02.05.10", date(2020, 2, 5)),
        ("2020년 3월 1일 16시", date(2020, 3, 1)),
        ("2021년 03월 29일 00시", date(2021, 3, 29)),
        ("2020-03-10T23:30:00+00:00", date(2020, 3, 11)),
    ],
)
def test_parse_date_spellings(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2020-13-01", "2020-02-30", "yesterday", ""])
def test_parse_date_rejects_impossible_dates(text: str) -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_date(text)


def test_naive_time_is_seoul_time() -> None:
    t = parse_datetime("2020-03-10T18:00")
    assert t.utcoffset() == timedelta(hours=9)
    assert t.hour == 18


def test_offset_time_converted_to_seoul() -> None:
    t = parse_datetime("2020-03-10T09:00Z")
    assert t == datetime(2020, 3, 10, 18, 0, tzinfo=SEOUL)
    assert parse_datetime("2020/03/08 21:24:10").second == 10


def test_as_seoul_keeps_instant() -> None:
    t = parse_datetime("2020-03-10T00:00+00:00")
    assert as_seoul(t).hour == 9
