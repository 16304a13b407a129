"""Times and dates as Korean data spells them. A naive time means Seoul local time (+09:00)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")
KST = timezone(timedelta(hours=9), "KST")

_KOREAN = re.compile(
    r"^\s*(?P<y>\d{4})\s*년\s*(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})\s*일"
    r"(?:\s*(?P<H>\d{1,2})\s*시)?(?:\s*(?P<M>\d{1,2})\s*분)?\s*$"
)
# 2020-03-10, 2020.03.10, 2020/03/10, 2020.03.10., 2020.03.10.00 (the trailing .HH of Seoul tables)
_YMD_SEP = re.compile(
    r"^\s*(?P<y>\d{4})[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})\.?(?:\.?(?P<H>\d{2}))?\s*$"
)
# 20.02.05.10: two-digit year, month, day, hour (early rows of the Seoul per-gu table)
_YY_MD_H = re.compile(r"^\s*(?P<y>\d{2})\.(?P<m>\d{2})\.(?P<d>\d{2})\.(?P<H>\d{2})\s*$")
_COMPACT = re.compile(r"^\s*(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})\s*$")


def parse_date(text: str) -> date:
    """Parse a calendar date in any spelling seen in Korean public data.

    Accepts ISO ``2020-03-10``, ``2020.03.10``, ``2020/03/10``, ``20200310``,
    ``2020.03.10.00``, ``20.02.05.10`` and ``2020년 3월 1일 [16시]``; an ISO datetime
    gives its Seoul-local date.

    Raises
    ------
    ValueError
        When the text is not a real date (for example ``2020-13-01``).
    """
    s = text.strip()
    try:
        for pattern in (_YMD_SEP, _COMPACT, _KOREAN):
            m = pattern.match(s)
            if m:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
        m = _YY_MD_H.match(s)
        if m:
            return date(2000 + int(m["y"]), int(m["m"]), int(m["d"]))
        iso = s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s
        return as_seoul(datetime.fromisoformat(iso)).date()
    except ValueError:
        msg = f"not a date: {text!r}"
        raise ValueError(msg) from None


def parse_datetime(text: str) -> datetime:
    """Parse a time; a naive value is taken as Seoul local time. Returns an aware datetime.

    Accepts ISO 8601 (``2020-03-10T18:00+09:00``, ``2020-03-10 18:00``, ``…Z``),
    ``2020/03/08 21:24:10``, ``2020년 3월 1일 16시`` and a bare date (midnight).
    """
    s = text.strip()
    if not s:
        msg = "empty time"
        raise ValueError(msg)
    m = _KOREAN.match(s)
    if m:
        naive = datetime(int(m["y"]), int(m["m"]), int(m["d"]), int(m["H"] or 0), int(m["M"] or 0))
        return naive.replace(tzinfo=SEOUL)
    iso = s.replace("/", "-")
    if iso.endswith(("Z", "z")):
        iso = iso[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        try:
            parsed = datetime.combine(parse_date(s), time())
        except ValueError:
            msg = f"not a time: {text!r}"
            raise ValueError(msg) from None
    return as_seoul(parsed)


def as_seoul(value: datetime) -> datetime:
    """Attach Seoul time to a naive datetime, or convert an aware one to Seoul time."""
    if value.tzinfo is None:
        return value.replace(tzinfo=SEOUL)
    return value.astimezone(SEOUL)


def to_utc(value: datetime) -> datetime:
    """An aware UTC datetime (what the store keeps)."""
    return as_seoul(value).astimezone(UTC)


def isoformat_seoul(value: datetime) -> str:
    """ISO 8601 in Seoul time with its offset, to the minute or second (``2020-03-10T18:00:00+09:00``)."""
    return as_seoul(value).isoformat(timespec="seconds")


def now_seoul() -> datetime:
    """The current time in Seoul."""
    return datetime.now(SEOUL)
