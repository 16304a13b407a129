"""Dates and time windows as 재난문자 write them, resolved to calendar dates with the send time.

A message names visit times in many ways: ``3.14(일) 12:00~13:30``, ``3월 14일``, ``12.30.~1.2.``,
``14:00~``, ``12.19(토)~22(화) 17~21시``, ``10.28/31, 11.1/6``, ``5월 11, 12, 14, 15일 낮12시~밤11시``,
``11.18.(수) 이후``. :func:`find_when_phrases` finds the maximal runs of date/time tokens and
:func:`phrase_windows` turns one into :class:`Window` values. The year comes from the send time: a
date more than a month after it belongs to the previous year (a January message about 12.30).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

POINT_DURATION = timedelta(hours=1)
"""Length assumed for a visit given by one time of day (``15:30 김밥나라``)."""

_FUTURE_SLACK = timedelta(days=31)

_PERIOD = r"(?:(?P<ap>오전|오후|낮|밤|새벽|저녁|아침)\s*)?"
_WEEKDAY = r"\(\s*[월화수목금토일](?:요일)?\s*\)"

# Order matters: the scanner tries them in turn at every position.
_TOKENS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "YMD",
        re.compile(
            r"(?P<y>20\d\d)\s*[./년]\s*(?P<m>\d{1,2})\s*[./월]\s*(?P<d>\d{1,2})(?!\d)\s*일?\.?"
        ),
    ),
    ("MD", re.compile(r"(?P<m>\d{1,2})\s*월\s*(?P<d>\d{1,2})(?![\d:])(?:\s*일)?")),
    (
        "HRANGE",
        re.compile(
            _PERIOD
            + r"(?P<h1>\d{1,2})\s*[~∼\-]\s*"
            + _PERIOD.replace("ap", "ap2")
            + r"(?P<h2>\d{1,2})\s*(?:시(?!간|청|민|설|장|내|외|작|행)|(?=:\d\d))"
        ),
    ),
    ("HM", re.compile(_PERIOD + r"(?P<h>\d{1,2})\s*:\s*(?P<mi>\d{2})")),
    (
        "H",
        re.compile(
            _PERIOD
            + r"(?P<h>\d{1,2})\s*시(?!간|청|민|설|장|내|외|작|행|도|군)(?:\s*(?P<mi>\d{1,2})\s*분|(?P<half>\s*반))?"
        ),
    ),
    (
        "MD",
        re.compile(
            r"(?P<m>\d{1,2})\s*[./]\s*(?P<d>\d{1,2})(?![\d:]|\s*(?:동|가|단계|%|배|m|명|번|차|층|호))\.?(?:\s*일(?!부|반|대))?"
        ),
    ),
    ("WD", re.compile(_WEEKDAY)),
    ("R", re.compile(r"\s*(?:[~∼〜]|부터\s*(?=\d))\s*")),
    ("O", re.compile(r"\s*(?:이후|부터|~)")),
    ("S", re.compile(r"\s*(?:,|/|및|、|ㆍ)\s*")),
    ("F", re.compile(r"\s*(?:까지|당일|사이|동안|경|에|중|시간대|\(|\)|\.|-)\s*")),
)
_DAY = re.compile(r"(?P<d>\d{1,2})(?![\d:]|\s*(?:시|:|월|번|명|층|호|동|길|로))\s*일?\.?")
# Characters that can start a token (digits, spaces, connectives, fillers, time-of-day words).
_PLAIN = re.compile(r"[^0-9\s~∼〜,/및、ㆍ()까당사동경에중시.\-이부오낮밤새저아]+")
_RANGE_DASH = re.compile(r"\s*-\s*(?=\d)")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # D (date: y may be 0), DAY, T (time), R (range), O (open end), S (list), WD, F
    start: int
    end: int
    y: int = 0
    m: int = 0
    d: int = 0
    h: int = 0
    mi: int = 0


@dataclass(frozen=True, slots=True)
class Window:
    """A visit window in Seoul local time; a missing time means the whole day."""

    start_date: date
    end_date: date
    start_time: time | None = None
    end_time: time | None = None

    def start_text(self) -> str:
        """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``."""
        return _fmt(self.start_date, self.start_time)

    def end_text(self) -> str:
        """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``."""
        return _fmt(self.end_date, self.end_time)


def _fmt(d: date, t: time | None) -> str:
    return d.isoformat() if t is None else f"{d.isoformat()}T{t.hour:02d}:{t.minute:02d}"


def _hour(h: int, period: str | None) -> int:
    if period in ("오후", "저녁", "밤") and h < 12:
        return h + 12
    if period == "낮" and h < 7:  # 낮1시 = 13:00
        return h + 12
    return h


def tokenize(text: str, *, start: int = 0, end: int | None = None) -> list[Token]:
    """Scan ``text[start:end]`` for date/time tokens; anything else becomes an ``X`` token."""
    stop = len(text) if end is None else end
    out: list[Token] = []
    i = start
    while i < stop:
        skip = _PLAIN.match(text, i, stop)
        if skip and skip.end() > i:
            # a run of characters that start no token: one X token, found in one regex step
            if out and out[-1].kind == "X":
                out[-1] = Token("X", out[-1].start, skip.end())
            else:
                out.append(Token("X", i, skip.end()))
            i = skip.end()
            continue
        tok = _token_at(text, i, stop, out)
        if tok is None:
            if not out or out[-1].kind != "X":
                out.append(Token("X", i, i + 1))
            else:
                out[-1] = Token("X", out[-1].start, i + 1)
            i += 1
            continue
        out.extend(tok)
        i = tok[-1].end
    return out


def _date_context(out: list[Token]) -> bool:
    """Whether the last meaningful token allows a bare day number (after ``~`` or a list comma)."""
    for t in reversed(out):
        if t.kind in ("WD", "F"):
            continue
        if t.kind in ("R", "S"):
            for u in reversed(out[: out.index(t)]):
                if u.kind in ("WD", "F"):
                    continue
                return u.kind in ("D", "DAY")
            return False
        return False
    return False


def _token_at(text: str, i: int, stop: int, out: list[Token]) -> list[Token] | None:
    ch = text[i]
    prev = text[i - 1] if i > 0 else " "
    if ch == ")" and re.match(r"\)\s*,", text[i:stop]):
        return [Token("X", i, i + 1)]  # "(11:30~16:30), 8.13": a closing list item ends the phrase
    glued = bool(out) and out[-1].end == i and out[-1].kind != "X"
    if ch.isspace():
        j = i
        while j < stop and text[j].isspace():
            j += 1
        return [Token("F", i, j)]
    if _digit(ch) and (_digit(prev) or prev in ".:") and not glued:
        # the middle of a number (an address, a count): not a token start
        return None
    # "장군봉2길", "화곡6동": digits glued to a word are part of a name, unless a date or time
    if (
        _digit(ch)
        and re.match(r"[A-Za-z가-힣]", prev)
        and not _after_date_or_time(out, i)
        and not re.match(r"\d{1,2}\s*[:시]|\d{1,2}[./]\d", text[i:stop])
    ):
        return None
    for kind, pattern in _TOKENS:
        m = pattern.match(text, i, stop)
        if not m or m.end() == i:
            continue
        g = m.groupdict()
        if kind in ("YMD", "MD"):
            mo, d = int(g["m"]), int(g["d"])
            if not (1 <= mo <= 12 and 1 <= d <= 31):
                continue
            return [Token("D", i, m.end(), y=int(g.get("y") or 0), m=mo, d=d)]
        if kind == "HRANGE":
            h1, h2 = int(g["h1"]), int(g["h2"])
            if h1 > 24 or h2 > 24:
                continue
            if text[m.end() : m.end() + 1] == ":":
                # "09~18:30": the end is a full time, scan it next
                return [
                    Token("T", i, i + len(g["h1"]), h=_hour(h1, g["ap"])),
                    Token("R", i, m.start("h2")),
                ]
            mid = m.start("h2")
            return [
                Token("T", i, mid - 1, h=_hour(h1, g["ap"])),
                Token("R", mid - 1, mid),
                _time_token(_hour(h2, g["ap2"] or g["ap"]), 0, mid, m.end()),
            ]
        if kind in ("HM", "H"):
            h = int(g["h"])
            mi = int(g.get("mi") or 0) + (30 if g.get("half") else 0)
            if h > 24 or mi > 59:
                continue
            return [_time_token(_hour(h, g["ap"]), mi, i, m.end())]
        if kind == "R" and not out:
            continue
        if kind in ("R", "O", "S", "F", "WD"):
            if kind == "S" and not out:
                continue
            return [Token(kind, i, m.end())]
    if _digit(ch) and _date_context(out):
        m = _DAY.match(text, i, stop)
        if m and 1 <= int(m["d"]) <= 31:
            return [Token("DAY", i, m.end(), d=int(m["d"]))]
    if ch == "-" and out and out[-1].kind in ("T", "D") and _RANGE_DASH.match(text, i, stop):
        return [Token("R", i, i + 1)]
    return None


def _digit(ch: str) -> bool:
    return "0" <= ch <= "9"  # not str.isdigit: "②" is a digit to Python


def _after_date_or_time(out: list[Token], i: int) -> bool:
    return bool(out) and out[-1].kind in ("D", "T", "DAY") and out[-1].end >= i - 1


def _time_token(h: int, mi: int, start: int, end: int) -> Token:
    if h == 24:
        h, mi = 23, 59
    return Token("T", start, end, h=h, mi=mi)


@dataclass(frozen=True, slots=True)
class WhenPhrase:
    """A maximal run of date/time tokens in a message, with its character span."""

    start: int
    end: int
    tokens: tuple[Token, ...]

    @property
    def has_date(self) -> bool:
        return any(t.kind == "D" for t in self.tokens)


def find_when_phrases(text: str) -> list[WhenPhrase]:
    """Maximal runs of date/time tokens (with their connectives) in ``text``."""
    toks = tokenize(text)
    phrases: list[WhenPhrase] = []
    run: list[Token] = []

    def flush() -> None:
        core = [t for t in run if t.kind in ("D", "T", "DAY")]
        if core:
            # trim connectives at the edges (keep a trailing open marker: "14:00~", "이후")
            first = run.index(core[0])
            last = len(run) - 1
            while (
                last > first
                and run[last].kind in ("S", "F", "WD", "R")
                and not (
                    run[last].kind == "R"
                    and text[run[last].start : run[last].end].strip() in ("~", "∼")
                )
            ):
                last -= 1
            kept = run[first : last + 1]
            phrases.append(WhenPhrase(kept[0].start, kept[-1].end, tuple(kept)))
        run.clear()

    for t in toks:
        if t.kind == "X":
            flush()
        else:
            run.append(t)
    flush()
    return phrases


def _resolve_year(m: int, d: int, sent: date, y: int = 0) -> date | None:
    try:
        if y:
            return date(y, m, d)
        cand = date(sent.year, m, d)
        if cand - sent > _FUTURE_SLACK:
            cand = date(sent.year - 1, m, d)
        return cand
    except ValueError:
        return None


def _segments(tokens: tuple[Token, ...]) -> list[list[Token]]:
    segs: list[list[Token]] = [[]]
    for t in tokens:
        if t.kind == "S":
            segs.append([])
        elif t.kind in ("D", "T", "DAY", "R", "O"):
            segs[-1].append(t)
    return [s for s in segs if s]


def phrase_windows(
    phrase: WhenPhrase, *, sent_at: datetime, context_date: date | None = None
) -> list[Window]:
    """The visit windows a when-phrase denotes.

    Parameters
    ----------
    phrase
        From :func:`find_when_phrases`.
    sent_at
        Send time (Seoul): gives the year, and the end of an open window (``11.18 이후``).
    context_date
        The last date named earlier in the message, for a phrase of times only (``16:40 그랜드애비뉴``).
    """
    sent = sent_at.date()
    segs = _segments(phrase.tokens)
    parsed: list[tuple[list[date], list[Token], bool, str]] = []
    last_date = context_date
    for seg in segs:
        dates: list[date] = []
        times: list[Token] = []
        pattern = ""
        for t in seg:
            if t.kind == "D":
                dd = _resolve_year(t.m, t.d, sent, t.y)
                if dd is None:
                    continue
                if dates and dd < dates[0]:
                    dd = _resolve_year(t.m, t.d, sent, dates[0].year + 1) or dd
                dates.append(dd)
                pattern += "D"
            elif t.kind == "DAY":
                base = dates[0] if dates else last_date
                if base is None:
                    continue
                dd = _day_after(base, t.d) if pattern.endswith("R") or dates else None
                if dd is None:
                    dd = _safe_date(base.year, base.month, t.d)
                if dd is None:
                    continue
                dates.append(dd)
                pattern += "D"
            elif t.kind == "T":
                times.append(t)
                pattern += "T"
            elif t.kind in ("R", "O"):
                pattern += "R" if t.kind == "R" else "O"
        if dates:
            last_date = dates[-1]
        parsed.append((dates, times, pattern.endswith(("R", "O")), pattern))
    # a trailing segment of times only ("8.25~8.26, 8:40~17:00") applies to the date-only segments
    shared_times: list[Token] = []
    if parsed and not parsed[-1][0] and parsed[-1][1] and len(parsed) > 1:
        shared_times = parsed[-1][1]
        parsed = parsed[:-1]
    elif len(parsed) > 1 and parsed[-1][0] and parsed[-1][1]:
        shared_times = parsed[-1][1]
    windows: list[Window] = []
    for dates, times, open_end, pattern in parsed:
        ts = times or ([] if pattern.count("D") == 0 else shared_times)
        if not dates:
            if last_date is None and context_date is None:
                continue
            dates = [context_date or last_date]  # type: ignore[list-item]
        w = _window(dates, ts, open_end and not (len(dates) > 1), sent, pattern)
        if w is not None:
            windows.append(w)
    return windows


def _safe_date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _day_after(base: date, day: int) -> date | None:
    """The first date on or after ``base`` with this day of month (``12.19~22`` → 12.22, ``1.30~2`` → 2.2)."""
    same = _safe_date(base.year, base.month, day)
    if same is not None and same >= base:
        return same
    nm = base.replace(day=1) + timedelta(days=32)
    return _safe_date(nm.year, nm.month, day)


def _t(tok: Token) -> time:
    return time(tok.h, tok.mi)


def _window(
    dates: list[date], times: list[Token], open_end: bool, sent: date, pattern: str
) -> Window | None:
    d1 = dates[0]
    d2 = dates[-1] if len(dates) > 1 else d1
    if d2 < d1:
        d2 = d1
    if not times:
        if open_end and len(dates) == 1:
            return Window(d1, max(sent, d1))
        return Window(d1, d2)
    t1 = _t(times[0])
    if len(times) == 1:
        if "TR" in pattern or "TO" in pattern or open_end:
            # "14:00~", "11시30분 이후": from then to the end of that day (or of the range)
            return Window(d1, d2, t1, None)
        if len(dates) > 1:
            return Window(d1, d2, t1, None)
        end = datetime.combine(d1, t1) + POINT_DURATION
        if end.date() != d1:
            return Window(d1, d1, t1, time(23, 59))
        return Window(d1, d1, t1, end.time())
    t2 = _t(times[-1])
    if len(dates) == 1 and t2 <= t1:
        d2 = d1 + timedelta(days=1)  # overnight: "21:00~05:00"
    return Window(d1, d2, t1, t2)
