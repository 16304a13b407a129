"""Every time-window format seen in the messages, and the year taken from the send time."""

from __future__ import annotations

from datetime import datetime

import pytest

from ansim.alerts.timewindows import find_when_phrases, phrase_windows
from ansim.timeutil import SEOUL

NOV = datetime(2020, 11, 20, 12, 0, tzinfo=SEOUL)
JAN = datetime(2021, 1, 4, 18, 18, tzinfo=SEOUL)


def windows(text: str, sent_at: datetime = NOV) -> list[tuple[str, str]]:
    out = []
    context = None
    for p in find_when_phrases(text):
        ws = phrase_windows(p, sent_at=sent_at, context_date=context)
        if ws:
            context = ws[-1].start_date
        out.extend((w.start_text(), w.end_text()) for w in ws)
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.14(토) 12:00~13:30 식당", [("2020-03-14T12:00", "2020-03-14T13:30")]),
        ("3월 14일 식당 방문자", [("2020-03-14", "2020-03-14")]),
        ("11.12(목)~11.16(월) 순창식당", [("2020-11-12", "2020-11-16")]),
        ("8/9~8/16 성내3동 교회", [("2020-08-09", "2020-08-16")]),
        ("10.18~26 럭키사우나", [("2020-10-18", "2020-10-26")]),
        ("10.28~11.3 11:30~13:00 방문자", [("2020-10-28T11:30", "2020-11-03T13:00")]),
        ("11.13(금) 14:00~ 식당", [("2020-11-13T14:00", "2020-11-13")]),
        ("8.8.(토) 당일 11시30분 이후 사우나", [("2020-08-08T11:30", "2020-08-08")]),
        ("11.18.(수) 이후 방문하신분", [("2020-11-18", "2020-11-20")]),
        ("5.3일 21:00~05:00 클럽", [("2020-05-03T21:00", "2020-05-04T05:00")]),
        ("11.12~13 17시~24시 총각수산", [("2020-11-12T17:00", "2020-11-13T23:59")]),
        ("1.14.16:00~1.15.12:00 건강랜드", [("2020-01-14T16:00", "2020-01-15T12:00")]),
        (
            "10.28/31, 11.1/6 양재탕",
            [
                ("2020-10-28", "2020-10-28"),
                ("2020-10-31", "2020-10-31"),
                ("2020-11-01", "2020-11-01"),
                ("2020-11-06", "2020-11-06"),
            ],
        ),
        (
            "5월10일, 20일 주점",
            [("2020-05-10", "2020-05-10"), ("2020-05-20", "2020-05-20")],
        ),
        (
            "6.24.(수)13:20~15:14, 6.29.(월)14:00~15:56 방문자",
            [("2020-06-24T13:20", "2020-06-24T15:14"), ("2020-06-29T14:00", "2020-06-29T15:56")],
        ),
        ("8.25~8.26, 8:40~17:00, 우리은행", [("2020-08-25T08:40", "2020-08-26T17:00")]),
        ("12.19(토)~22(화) 17~21시 굴사냥", [("2019-12-19T17:00", "2019-12-22T21:00")]),
        ("2020.8.9.(일) 13:50~15:30, 바코", [("2020-08-09T13:50", "2020-08-09T15:30")]),
        ("9.20(일) 낮12시~밤11시 식당", [("2020-09-20T12:00", "2020-09-20T23:00")]),
        (
            "2.18.10:50김밥나라 16:40그랜드애비뉴",
            [("2020-02-18T10:50", "2020-02-18T11:50"), ("2020-02-18T16:40", "2020-02-18T17:40")],
        ),
    ],
)
def test_formats(text: str, expected: list[tuple[str, str]]) -> None:
    sent = NOV if not text.startswith("12.19") else datetime(2020, 1, 2, tzinfo=SEOUL)
    assert windows(text, sent) == expected


def test_year_rollover_january_message_about_december() -> None:
    assert windows("12.26(토)~31(목) 의원", JAN) == [("2020-12-26", "2020-12-31")]
    assert windows("12.30.~1.2. 식당", JAN) == [("2020-12-30", "2021-01-02")]
    assert windows("12.21~1.4 에클라트", JAN) == [("2020-12-21", "2021-01-04")]
    assert windows("12.31일~1.8일, 15~21시 사이 등갈비", datetime(2021, 1, 10, tzinfo=SEOUL)) == [
        ("2020-12-31T15:00", "2021-01-08T21:00")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "거리두기 2.5단계",
        "면목3.8동",
        "남부순환로356길15",
        "☎ 2091-4483",
        "총 204명(누적)",
        "24시간 운영",
    ],
)
def test_not_dates(text: str) -> None:
    assert windows(text) == []
