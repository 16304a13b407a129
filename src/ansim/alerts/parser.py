"""Read one 재난문자: its kind, its issuer, and every (place, time window) an exposure message names.

Method (see docs/alerts.md): find the date/time phrases (:mod:`.timewindows`); the venue of a
phrase is the text right after it up to a visitor marker (``방문자``, ``이용자`` …), or, when that
is empty (``스포애니명일역점(명일1동)6.7(일)12:30~18:00이용자``), the clause right before it. A venue
text is split into venues (``,``, ``/``, ``→``, ``>``), each into a name, an address as written
(parentheses, leading gu/dong/road address) and a district; every venue × window is a visit.
The kind comes from keyword rules whose priority is: exposure_site (a visit or a named venue
with a visitor call) > case_count > policy/testing_info (by keyword weight) > other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from ansim.alerts.geocode import Geocode, geocode
from ansim.alerts.sources import issuer_of
from ansim.alerts.timewindows import POINT_DURATION, Window, find_when_phrases, phrase_windows
from ansim.geo.gazetteer import find_dongs
from ansim.geo.regions import seoul_districts
from ansim.records import ExposureEvent
from ansim.timeutil import SEOUL

KINDS = ("exposure_site", "case_count", "testing_info", "policy", "other")

_URL = re.compile(r"(?:https?://)?(?:[A-Za-z0-9_\-]+\.)+[A-Za-z]{2,}(?![A-Za-z0-9])(?:/[^\s)]*)?")
_PHONE = re.compile(
    r"[☎☏]?\s*\(?0\d{1,2}\)?\s*[-)]?\s*\d{3,4}-\d{4}(?:[~,]\s*\d{1,4})*|[☎☏]\s*\d{3,4}-\d{4}(?:[~,]\s*\d{1,4})*"
)
_MARKER = re.compile(
    r"(?:방문자(?!제)|이용자(?!제)|방문객|이용객|방문하신|이용하신|방문하고|방문한|이용한|방문\s*주민|이용\s*주민|교인|"
    r"방문\s*및|예배\s*및|동시간대?|동\s*시간대|[을를에]\s*방문|[을를]\s*이용|방문(?=[\s,.)]|$)|이용(?=[\s(]))"
)
_CUT = re.compile(
    r"확진|바랍니다|바라|바람|검사받|습니다|상세|증상|관계없이|상관없이|\s등\s|\.\s|$"
)
_STRONG_MARKER = re.compile(
    r"방문자(?!제)|이용자(?!제)|방문객|이용객|방문하신|이용하신|방문\s*주민|이용\s*주민|동\s*시간대?"
)
_ROUTE = re.compile(r"동선|이동경로|경로|[→⇒>]")
_CONTINUATION = re.compile(r"^\)?\s*(?:께서는|께서|는|은|중)")
_LEAD_FILLER = re.compile(r"^\s*(?:까지|동안|사이|부터)\s*")
_SEP = re.compile(r"\s*(?:,|/|→|⇒|->|>|→)\s*")
_ROAD = re.compile(r"[가-힣A-Za-z0-9]*(?:로|길)\s*\d+(?:-\d+)?(?:길\s*\d+(?:-\d+)?)?")
_LOT = re.compile(r"[가-힣]+\d*(?:[·.]\d+)*(?:가)?\d*동\s*\d+(?:-\d+)?")
_DONG_WORD = re.compile(r"[가-힣]+\d*(?:[·.]\d+)*(?:가)?\d*동")
_GU_WORD = re.compile(r"(?:서울(?:특별)?시?\s*)?([가-힣]{1,4}구)(?![가-힣])")
_REJECT = re.compile(
    r"자택|귀가|거주|숙소|기숙사|도보|자차|택시|버스|(?:^|\s)이동|확진|발생|역학|홈페이지|블로그|바랍|마스크|외출|"
    r"안내|알림|기준|현재|동선|공개|조치|출근|퇴근|기침|발현|증상|입원|격리|소독|방역|참고|참조|예정|"
    r"\d+번|번째|확인|사실|완료|이태원|^오늘|^오전|^오후|^야간|다음날|까지|부로|발령|연장|신청|지원금|폐쇄|자제|코로나|정정|"
    r"외부활동|일대|인근|업소|클럽\s*등|해외|입국|명단|접촉|관련|지역|검체|채취|결과|[0-9]+명|^\S*[시군도]$|^\S*구$|^\S*동$|^[\d\s~.:-]*$"
)
_GENERIC = re.compile(
    r"^(?:여탕|남탕|남성|여성|의류점|커피점|음식점|식당|카페|편의점|PC방|노래방|클럽|직장|회사|집|친구집|교회|병원|약국|마트)$"
)
_TRAIL = re.compile(
    r"(?:에서.*|\s*(?:방문|식사|진료|예배|근무|구입|이용|검사|방문하였음|물건구입후귀가|내원|입장|탑승|주점)+)$"
)
_NOTE = re.compile(
    r"소독|완료|층$|^지하|제외|^\d+호|여탕|남탕|검사|마스크|착용|포함|배달|방역|업소|클럽|PC방$|중식당|예정|소재$"
)


@dataclass(frozen=True, slots=True)
class Visit:
    """One (place, window) pair of an exposure message, geocoded."""

    place_name: str
    address: str
    district: str
    window: Window
    geo: Geocode
    gu_code: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "place_name": self.place_name,
            "address": self.address,
            "district": self.district,
            "start": self.window.start_text(),
            "end": self.window.end_text(),
            "lat": None if self.geo.lat is None else round(self.geo.lat, 6),
            "lon": None if self.geo.lon is None else round(self.geo.lon, 6),
            "radius_m": round(self.geo.radius_m, 1),
            "precision": self.geo.precision,
        }


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """The reading of one message; ``reason`` says why an exposure message gave no usable visit."""

    kind: str
    issuer: str
    visits: tuple[Visit, ...] = field(default_factory=tuple)
    reason: str = ""

    def as_json(self) -> dict[str, Any]:
        """The public contract: ``{kind, issuer, visits: [...]}``."""
        return {
            "kind": self.kind,
            "issuer": self.issuer,
            "visits": [v.as_json() for v in self.visits],
        }


@lru_cache(maxsize=1)
def _gu_names() -> dict[str, str]:
    return {r.name_ko: r.code for r in seoul_districts()}


def home_district(issuer: str, region: str = "") -> tuple[str, str | None]:
    """(district name, Seoul gu code or None) of the sender: ``강남구청`` → (강남구, 11680)."""
    gus = _gu_names()
    for text in (issuer, region):
        for name, code in gus.items():
            if text.startswith(name) or f"서울특별시 {name}" in text:
                return name, code
    if region:
        first = region.split(",")[0].split()
        parts = [p for p in first if p != "전체"]
        if parts:
            return parts[-1], None
    name = re.sub(r"(청|재난안전대책본부|재난안전본부)$", "", issuer.strip())
    return name, None


def _clean(text: str) -> str:
    s = " ".join(text.split())
    s = _URL.sub(lambda m: " " * len(m.group()), s)
    return _PHONE.sub(lambda m: " " * len(m.group()), s)


def parse_message(
    text: str, *, sent_at: datetime, issuer: str | None = None, region: str = ""
) -> ParsedMessage:
    """Parse one message sent at ``sent_at`` (aware, Seoul) by ``issuer`` to ``region``.

    ``issuer`` defaults to the leading ``[○○구청]`` of the text; ``region`` (the receiving
    area, e.g. ``경상북도 포항시``) names the district of a sender that is not a Seoul gu office.
    """
    who = issuer_of(text) or (issuer or "").strip()
    body = _clean(text)
    if body.startswith("["):
        end = body.find("]")
        body = " " * (end + 1) + body[end + 1 :] if end > 0 else body
    district, gu_code = home_district(who, region)
    visits = _visits(body, sent_at=sent_at, district=district, gu_code=gu_code)
    kind = classify(body, has_visits=bool(visits))
    if kind != "exposure_site":
        return ParsedMessage(kind, who, ())
    reason = "" if visits else "exposure message without a dated venue"
    return ParsedMessage(kind, who, tuple(visits), reason)


_COVID = re.compile(
    r"보건소|증상|코로나|확진|감염|검사|마스크|거리두기|방역|선별|자가격리|역학|동선|신종|1339|집합|발열|우한|중국|의심|예방수칙|접촉"
)
_CASE = re.compile(
    r"확진\S{0,3}\s*(?:\d+\s*명|발생|없|판정)|\d+\s*(?:~\s*\d+\s*)?번\S{0,3}\s*(?:확진|환자)|확진자?\s*\d+\s*명|"
    r"(?:확진|환자).{0,40}발생|동선|이동경로|역학조사|확진환자|추가\s*확진|타\s*(?:구|지역|자치구)\s*확진|확진자\s*관내|확진자.{0,12}(?:다녀|방문)"
)
_TESTING = re.compile(
    r"검사|선별진료소|진료소|보건소|1339|익명|무료|워크스루|드라이브스루|자가격리|격리해제"
)
_POLICY = re.compile(
    r"거리두기|집합|금지|제한|폐쇄|운영\s*중단|중단|마스크|수칙|자제|행정명령|지원금|연장|통제|명부|손씻기|"
    r"휴관|휴원|영업|재난지원|예방|준수|일방통행|착용|의무"
)
_VENUE_CALL = re.compile(
    r"[가-힣A-Za-z0-9)]\s*(?:\([^)]*\))?\s*(?:을|를)?\s*(?:방문자|이용자|방문하신|이용하신|방문객|동\s*시간대)"
)


def classify(body: str, *, has_visits: bool) -> str:
    """The message kind by rule priority (see the labelling guide)."""
    if has_visits:
        return "exposure_site"
    if not _COVID.search(body):
        return "other"
    if _VENUE_CALL.search(body) and re.search(
        r"동\s*시간대|확진자\s*관내\s*동선|역학조사.*이용자", body
    ):
        return "exposure_site"
    if _CASE.search(body):
        return "case_count"
    testing = len(_TESTING.findall(body))
    policy = len(_POLICY.findall(body))
    if testing == 0 and policy == 0:
        return "other" if not re.search(r"코로나|감염", body) else "policy"
    return "policy" if policy > testing else "testing_info"


def _visits(body: str, *, sent_at: datetime, district: str, gu_code: str | None) -> list[Visit]:
    if not (_STRONG_MARKER.search(body) or _ROUTE.search(body) or _MARKER.search(body)):
        return []
    phrases = find_when_phrases(body)
    sm = _STRONG_MARKER.search(body)
    first_marker = sm.start() if sm else len(body)
    visits: list[Visit] = []
    context: date | None = None
    prev_end = 0
    prev_used_after = False
    last_venues: list[tuple[str, str, str, str | None]] = []
    last_added: list[int] = []
    for idx, p in enumerate(phrases):
        nxt = phrases[idx + 1].start if idx + 1 < len(phrases) else len(body)
        after = body[p.end : nxt]
        near_marker = bool(_MARKER.match(after.lstrip(" )(까지동안사이에은는")))
        if p.start > first_marker and not near_marker and not p.has_date:
            prev_end = p.end
            continue
        windows = phrase_windows(p, sent_at=sent_at, context_date=context)
        for t in p.tokens:
            if t.kind == "D" and windows:
                context = windows[-1].end_date
        if p.has_date and windows:
            context = windows[-1].start_date if len(windows) == 1 else windows[-1].end_date
        if not windows:
            prev_end = p.end
            continue
        before = body[prev_end : p.start]
        after = _LEAD_FILLER.sub("", after)
        marker_paren = re.search(r"(?:" + _MARKER.pattern + r")\s*\($", before.rstrip())
        venues = [] if (_CONTINUATION.match(after) or marker_paren) else _venues_after(after)
        used_after = bool(venues)
        if (
            not venues
            and not p.has_date
            and prev_used_after
            and last_added
            and not before.strip(" ,(/")
        ):
            # "2월25일 거창군보건소 선별진료소(15:30)": the time refines the previous visit
            old = [visits[i] for i in last_added]
            del visits[last_added[0] :]
            last_added = []
            for v in old[: max(1, len(old) // max(1, len(windows)))]:
                for w in windows:
                    last_added.append(len(visits))
                    visits.append(Visit(v.place_name, v.address, v.district, w, v.geo, v.gu_code))
            prev_end = p.end
            prev_used_after = False
            continue
        if not venues and not prev_used_after:
            venues = _venues_before(before)
            if not venues and last_venues and not _MARKER.sub("", before).strip(" ,및(/"):
                venues = last_venues  # "노래방, 10월19일 … 방문자 및 10월20일 … 방문자"
        prev_end = p.end
        prev_used_after = used_after
        if venues:
            last_venues = venues
        last_added = []
        for name, address, v_district, v_gu in venues:
            v_district = v_district or district
            v_gu = v_gu if v_district != district else gu_code
            geo = geocode(gu_code=v_gu, place_name=name, address=address)
            for w in windows:
                last_added.append(len(visits))
                visits.append(Visit(name, address, v_district, w, geo, v_gu))
    return visits


def _venues_after(text: str) -> list[tuple[str, str, str, str | None]]:
    m = _MARKER.search(text)
    cut = m.start() if m else len(text)
    head = text[:cut]
    c = _CUT.search(head + "\n")
    if c and c.start() < len(head):
        found = _split_venues(head[: c.start()])
        if found or not c.group().startswith("확진"):
            return found
        # "5.3.~5.5. 용산구 확진자 신촌동 다모토리5(클럽)방문": the venue follows the case
        rest = re.sub(r"^확진\S*\s+", "", head[c.start() :])
        return _split_venues(rest) if m and not rest.startswith(("(", "확진")) else []
    return _split_venues(head)


def _venues_before(text: str) -> list[tuple[str, str, str, str | None]]:
    s = re.sub(r"[(\s,/]+$", "", text)
    s = _MARKER.sub(lambda m: "\x00" if m.end() >= len(s) - 1 else m.group(), s)
    s = s.replace("\x00", "")
    # the last clause: after the last sentence break or top-level comma
    depth = 0
    start = 0
    for i, ch in enumerate(s):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and (ch == "," or (ch == "." and i + 1 < len(s) and s[i + 1] == " ")):
            start = i + 1
    s = s[start:]
    if s.count("(") > s.count(")"):
        s += ")"
    return _split_venues(s)


def _top_level_split(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    buf = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if (
            depth == 0
            and ch == ")"
            and i + 1 < len(text)
            and re.match(r"[가-힣A-Za-z]", text[i + 1])
            and not _ROAD.fullmatch(re.sub(r"\(.*", "", buf).strip())
        ):
            # "홍두깨손칼국수(…)우진이네고기반찬(…)": a new name right after an address
            parts.append(buf + ch)
            buf = ""
            i += 1
            continue
        if depth == 0:
            m = _SEP.match(text, i)
            if m and m.end() > i:
                parts.append(buf)
                buf = ""
                i = m.end()
                continue
        buf += ch
        i += 1
    parts.append(buf)
    return parts


def _split_venues(text: str) -> list[tuple[str, str, str, str | None]]:
    out = []
    for part in _top_level_split(text):
        v = _venue(part)
        if v is not None:
            out.append(v)
    return out


def _venue(part: str) -> tuple[str, str, str, str | None] | None:
    s = part.strip(" .,:;-·'\"‘’“”「」『』<>[]")
    s = re.sub(
        r"^(?:에서|에|부터|까지|사이|동안|중|관내|소재|아래|해당|타구\s*확진자\s*다녀간|확진자\s*다녀간|다녀간)\s+",
        "",
        s,
    )
    s = re.sub(r"^(?:에서|에)(?=[가-힣])", "", s)
    s = re.sub(r"(?<=[가-힣A-Za-z0-9)])\s*(?:을|를)$", "", s)
    if not s:
        return None
    address: list[str] = []
    # parentheses: addresses or notes
    for m in re.finditer(r"\(([^()]*)\)", s):
        for piece in re.split(r"\s*,\s*", m.group(1)):
            if _is_address(piece):
                address.append(piece.strip())
    name = re.sub(r"\([^()]*\)", " ", s)
    name = re.sub(r"[()]", " ", name)
    gu_name = None
    gm = _GU_WORD.search(name + " " + " ".join(address))
    gus = _gu_names()
    if gm and gm.group(1) in gus:
        gu_name = gm.group(1)
    # leading address words ("강북구 한천로140길 30 대선식품", "역삼동 디알스타타워", "방학1동황실사우나")
    lead: list[str] = []
    while True:
        name = name.strip()
        lead_m = re.match(
            r"(?:서울(?:특별)?시?\s+)?(?:"
            + "|".join(gus)
            + r")(?=\s)|"
            + _ROAD.pattern
            + r"(?=\s)|"
            + _LOT.pattern
            + r"(?=\s|$)",
            name,
        )
        if lead_m and lead_m.end() < len(name):
            lead.append(lead_m.group().strip())
            name = name[lead_m.end() :]
            continue
        dong_m = _DONG_WORD.match(name)
        if dong_m and dong_m.end() < len(name) and find_dongs(dong_m.group()):
            lead.append(dong_m.group())
            name = name[dong_m.end() :].lstrip(" 소재")
            continue
        break
    # trailing address words ("승광빌딩(테헤란로77길 17)" already handled; "창1동가왕노래방" above)
    name = _TRAIL.sub("", name.strip())
    name = re.sub(
        r"\s+(?:남탕|여탕|남성|여성|[\d·]+층|\d+호(?:·\d+호)*|사무실|내)$", "", name
    ).strip(" .,")
    name = re.sub(
        r"^(?:관내|소재|아래|타구\s*확진자\s*다녀간|확진자\s*다녀간|다녀간|해당)\s*", "", name
    )
    if not name or len(name) < 2 or _REJECT.search(name) or _GENERIC.match(name):
        return None
    addr = ", ".join(lead + address)
    district = gu_name or ""
    return name, addr, district, (gus.get(gu_name) if gu_name else None)


def _is_address(piece: str) -> bool:
    p = piece.strip()
    if not p or (_NOTE.search(p) and not (_ROAD.search(p) or _LOT.search(p))):
        return False
    return bool(
        _ROAD.search(p)
        or _LOT.search(p)
        or _DONG_WORD.fullmatch(p)
        or re.search(r"역|구\s|동\s", p)
    )


def _visit_interval(window: Window) -> tuple[datetime, datetime]:
    """``[start, end)`` in Seoul time; a date without a time covers the whole day."""
    start = datetime.combine(window.start_date, window.start_time or time(0), SEOUL)
    if window.end_time is None:
        end = datetime.combine(window.end_date + timedelta(days=1), time(0), SEOUL)
    else:
        end = datetime.combine(window.end_date, window.end_time, SEOUL)
    if end <= start:
        end = start + POINT_DURATION
    return start, end


def to_exposure_events(
    parsed: ParsedMessage, source: str, source_record_id: str
) -> list[ExposureEvent]:
    """The geocoded visits of a parsed message as exposure events (visits outside Seoul are left out).

    Each event's ``source_record_id`` is ``<source_record_id>#<visit index>`` so a re-ingest is
    idempotent; a date-only window becomes the whole day(s) in Seoul time.
    """
    events = []
    for i, v in enumerate(parsed.visits):
        if v.geo.lat is None or v.geo.lon is None:
            continue
        start, end = _visit_interval(v.window)
        events.append(
            ExposureEvent(
                source=source,
                source_record_id=f"{source_record_id}#{i}",
                lat=v.geo.lat,
                lon=v.geo.lon,
                start=start,
                end=end,
                radius_m=v.geo.radius_m,
                place_name=v.place_name,
                address=v.address,
                region_code=v.gu_code,
                precision=v.geo.precision,  # type: ignore[arg-type]
                place_type="alert_venue",
            )
        )
    return events
