"""Activity presets for plans: what a restaurant, a club or a subway ride means in microCOVID terms.

A plan rarely says how close, how loud or how crowded it will be; the preset fills that in from the
kind of place, inferred from the title and location (Korean and English keywords) when the plan
names no activity. Every value can be overridden per plan (``{"preset": "bar", "your_mask": "kf94"}``)
or for all plans with a preset table (:func:`load_presets`).

Sources and assumptions (see docs/plans.md, "Activity presets"):

- setting, distance, voice and masks use microCOVID's vocabulary (``ansim.risk.visit``); the people
  count is the number of *other people near you* (microCOVID's "people"), not the venue capacity;
- masks are what people typically wore in Seoul in 2020-21: surgical/KF80 in transit, offices,
  classrooms, churches, cinemas and shops (mask mandate of 13 Oct 2020; near-universal use before);
  none while eating, drinking, at clubs and at home-like lodging;
- the loud voice of gyms (heavy breathing), churches (singing) and noraebang follows the Korean
  clusters of 2020 (Cheonan Zumba classes, Sarang Jeil church, Gwanak noraebang);
- ``hours`` are the usual opening hours, used only to propose a less crowded hour that still makes sense;
- ``max_exposure_min`` caps the time counted for long reservations (a hotel stay is a check-in and
  lifts, not two days with strangers).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ansim.errors import InputError
from ansim.risk.visit import Activity, Distance, Interaction, Mask, Setting, Voice, parse_choice


@dataclass(frozen=True, slots=True)
class Preset:
    """One kind of plan: microCOVID inputs, a typical crowd and stay, and how to recognise it."""

    key: str
    name_en: str
    name_ko: str
    setting: Setting
    distance: Distance
    voice: Voice
    their_mask: Mask
    your_mask: Mask
    people: float
    """Other people near you (microCOVID's people count)."""
    duration_min: float
    """Typical stay, used when a plan has no end time."""
    hours: tuple[int, int] = (7, 23)
    """Usual opening hours [from, to) in hours of the day; ``to`` may pass 24 (a club until 05:00 is 21-29)."""
    max_exposure_min: float | None = None
    """Cap on the minutes counted for a long booking (lodging)."""
    all_day_hour: int | None = None
    """Hour at which an all-day booking of this kind is checked (lodging check-in); None: not checkable."""
    mask_ok: bool = True
    """Whether a mask can be worn the whole time (not while eating or drinking)."""
    movable: bool = True
    """Whether postponing to another day is sensible advice (not for a workday or a commute)."""
    interaction: Interaction = Interaction.ONE_TIME
    keywords_ko: tuple[str, ...] = ()
    keywords_en: tuple[str, ...] = ()
    note: str = ""

    def activity(self, *, duration_min: float | None = None) -> Activity:
        """The microCOVID activity of this preset (stay of ``duration_min``, else the typical one)."""
        return Activity(
            setting=self.setting,
            distance=self.distance,
            voice=self.voice,
            their_mask=self.their_mask,
            your_mask=self.your_mask,
            duration_min=self.duration_min if duration_min is None else duration_min,
            interaction=self.interaction,
        )

    def open_at(self, hour: int) -> bool:
        """Whether ``hour`` (0-23) is inside the usual opening hours."""
        start, end = self.hours
        return any(start <= h < end for h in (hour, hour + 24))

    def describe(self) -> tuple[str, str]:
        """One line in English and Korean: the assumptions behind the plan's risk."""
        en = (
            f"{self.name_en}: {self.setting.value}, {self.distance.value} distance, "
            f"{self.voice.value} voice, about {self.people:.0f} people near you, "
            f"your mask {self.your_mask.value}, theirs {self.their_mask.value}"
        )
        ko = (
            f"{self.name_ko}: {_SETTING_KO[self.setting]}, 주변 약 {self.people:.0f}명, "
            f"내 마스크 {self.your_mask.value}, 다른 사람 마스크 {self.their_mask.value}"
        )
        return en, ko


_SETTING_KO = {
    Setting.INDOOR: "실내",
    Setting.OUTDOOR: "실외",
    Setting.TRANSIT: "대중교통",
    Setting.FILTERED: "공기정화 실내",
    Setting.PLANE: "기내",
    Setting.CAR_WINDOWS_DOWN: "창문 연 차량",
    Setting.PARTIALLY_ENCLOSED: "반실내",
}

S, D, V, M = Setting, Distance, Voice, Mask

DEFAULT_PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "club",
            "Club",
            "클럽",
            S.INDOOR,
            D.CLOSE,
            V.LOUD,
            M.NONE,
            M.NONE,
            50,
            180,
            hours=(21, 29),
            mask_ok=False,
            keywords_ko=("클럽", "나이트", "감성주점", "헌팅포차", "라운지바"),
            keywords_en=("club", "clubbing", "nightclub", "night club", "rave", "party night"),
            note="dance floor: close, shouting over music, no masks (Itaewon, May 2020)",
        ),
        Preset(
            "noraebang",
            "Noraebang (karaoke)",
            "노래방",
            S.INDOOR,
            D.CLOSE,
            V.LOUD,
            M.NONE,
            M.NONE,
            5,
            90,
            hours=(13, 27),
            keywords_ko=("노래방", "코인노래", "노래연습장"),
            keywords_en=("noraebang", "karaoke"),
            note="small room, singing; a mask is possible but rarely worn",
        ),
        Preset(
            "bar",
            "Bar",
            "술집",
            S.INDOOR,
            D.NORMAL,
            V.LOUD,
            M.NONE,
            M.NONE,
            15,
            120,
            hours=(17, 27),
            mask_ok=False,
            keywords_ko=(
                "술집",
                "호프",
                "맥주",
                "포차",
                "이자카야",
                "회식",
                "술자리",
                "펍",
                "와인바",
            ),
            keywords_en=("bar", "pub", "drinks", "beer", "izakaya", "hof"),
            note="microCOVID's bar: loud talk, no masks while drinking",
        ),
        Preset(
            "restaurant",
            "Restaurant",
            "식당",
            S.INDOOR,
            D.NORMAL,
            V.NORMAL,
            M.NONE,
            M.NONE,
            10,
            60,
            hours=(11, 22),
            mask_ok=False,
            keywords_ko=(
                "식당",
                "점심",
                "저녁",
                "아침식사",
                "식사",
                "밥",
                "고기",
                "삼겹살",
                "맛집",
                "레스토랑",
                "뷔페",
                "브런치",
            ),
            keywords_en=(
                "restaurant",
                "lunch",
                "dinner",
                "breakfast",
                "brunch",
                "meal",
                "bbq",
                "buffet",
            ),
            note="indoor dining: masks off while eating, about ten people at nearby tables",
        ),
        Preset(
            "cafe",
            "Café",
            "카페",
            S.INDOOR,
            D.NORMAL,
            V.NORMAL,
            M.NONE,
            M.NONE,
            10,
            60,
            hours=(8, 22),
            mask_ok=False,
            keywords_ko=("카페", "커피", "스타벅스", "디저트"),
            keywords_en=("cafe", "café", "coffee", "starbucks", "tea"),
            note="seated café: masks off while drinking",
        ),
        Preset(
            "gym",
            "Gym",
            "헬스장",
            S.INDOOR,
            D.NORMAL,
            V.LOUD,
            M.BASIC,
            M.BASIC,
            15,
            60,
            hours=(6, 23),
            keywords_ko=(
                "헬스",
                "운동",
                "피트니스",
                "필라테스",
                "요가",
                "줌바",
                "크로스핏",
                "체육관",
            ),
            keywords_en=(
                "gym",
                "workout",
                "fitness",
                "pilates",
                "yoga",
                "zumba",
                "crossfit",
                "training",
            ),
            note="heavy breathing counts as loud (Cheonan Zumba cluster, Feb 2020); cloth masks",
        ),
        Preset(
            "church",
            "Church service",
            "예배",
            S.INDOOR,
            D.NORMAL,
            V.LOUD,
            M.SURGICAL,
            M.SURGICAL,
            20,
            90,
            hours=(6, 22),
            keywords_ko=("교회", "예배", "성당", "미사", "법회", "기도회", "성가대"),
            keywords_en=("church", "service", "worship", "mass", "temple", "prayer", "choir"),
            note="singing hymns counts as loud; KF80-class masks (2020 guidance)",
        ),
        Preset(
            "concert",
            "Concert or show",
            "공연",
            S.INDOOR,
            D.NORMAL,
            V.LOUD,
            M.SURGICAL,
            M.SURGICAL,
            20,
            150,
            hours=(12, 23),
            keywords_ko=("공연", "콘서트", "뮤지컬", "연극", "팬미팅", "오페라"),
            keywords_en=(
                "concert",
                "show",
                "musical",
                "theatre",
                "theater",
                "opera",
                "gig",
                "fan meeting",
            ),
            note="seated audience, cheering; masks required at Korean venues from 2020",
        ),
        Preset(
            "cinema",
            "Cinema",
            "영화관",
            S.INDOOR,
            D.NORMAL,
            V.SILENT,
            M.SURGICAL,
            M.SURGICAL,
            20,
            130,
            hours=(9, 26),
            keywords_ko=("영화", "cgv", "메가박스", "롯데시네마"),
            keywords_en=("cinema", "movie", "film", "imax"),
            note="silent audience; the seat-gap rules of 2020 are not assumed",
        ),
        Preset(
            "flight",
            "Flight",
            "비행기",
            S.PLANE,
            D.CLOSE,
            V.SILENT,
            M.SURGICAL,
            M.SURGICAL,
            6,
            90,
            hours=(6, 23),
            keywords_ko=("비행", "항공", "공항", "탑승"),
            keywords_en=("flight", "fly", "airport", "boarding", "plane"),
            note="microCOVID's plane ride: the six seats around yours, masks on",
        ),
        Preset(
            "subway",
            "Subway ride",
            "지하철",
            S.TRANSIT,
            D.CLOSE,
            V.SILENT,
            M.SURGICAL,
            M.SURGICAL,
            20,
            30,
            hours=(5, 25),
            keywords_ko=("지하철", "전철", "출근길", "퇴근길", "통근"),
            keywords_en=("subway", "metro", "train", "commute"),
            note="a full car at rush hour, standing close, masked and quiet",
        ),
        Preset(
            "bus",
            "Bus ride",
            "버스",
            S.TRANSIT,
            D.CLOSE,
            V.SILENT,
            M.SURGICAL,
            M.SURGICAL,
            15,
            30,
            hours=(5, 25),
            movable=False,
            keywords_ko=("버스",),
            keywords_en=("bus",),
            note="a city bus, masked and quiet",
        ),
        Preset(
            "lodging",
            "Lodging",
            "숙소",
            S.INDOOR,
            D.NORMAL,
            V.NORMAL,
            M.NONE,
            M.NONE,
            3,
            60,
            hours=(14, 24),
            max_exposure_min=60,
            all_day_hour=15,
            keywords_ko=(
                "호텔",
                "숙소",
                "모텔",
                "게스트하우스",
                "에어비앤비",
                "리조트",
                "펜션",
                "체크인",
            ),
            keywords_en=(
                "hotel",
                "lodging",
                "hostel",
                "airbnb",
                "guesthouse",
                "resort",
                "check-in",
                "check in",
            ),
            note="only the shared spaces count (check-in, lobby, lift): one hour with a few people",
        ),
        Preset(
            "market",
            "Market or shop",
            "시장·마트",
            S.INDOOR,
            D.NORMAL,
            V.NORMAL,
            M.SURGICAL,
            M.SURGICAL,
            10,
            45,
            hours=(9, 22),
            keywords_ko=(
                "시장",
                "마트",
                "장보기",
                "쇼핑",
                "백화점",
                "이마트",
                "홈플러스",
                "다이소",
            ),
            keywords_en=(
                "market",
                "shopping",
                "grocery",
                "groceries",
                "mall",
                "store",
                "supermarket",
            ),
            note="microCOVID's 60-minute shopping trip, masked",
        ),
        Preset(
            "park_walk",
            "Park walk",
            "공원 산책",
            S.OUTDOOR,
            D.NORMAL,
            V.NORMAL,
            M.NONE,
            M.NONE,
            5,
            60,
            hours=(6, 22),
            keywords_ko=("공원", "산책", "한강", "등산", "조깅", "러닝"),
            keywords_en=("park", "walk", "hike", "hiking", "jogging", "running", "picnic"),
            note="outdoors: microCOVID's ×0.05",
        ),
        Preset(
            "classroom",
            "Classroom",
            "교실",
            S.INDOOR,
            D.NORMAL,
            V.NORMAL,
            M.SURGICAL,
            M.SURGICAL,
            20,
            90,
            hours=(8, 22),
            movable=False,
            keywords_ko=("수업", "강의", "학원", "학교", "세미나", "스터디", "과외", "시험"),
            keywords_en=(
                "class",
                "lecture",
                "school",
                "seminar",
                "course",
                "study",
                "exam",
                "lesson",
            ),
            note="masked class of about twenty",
        ),
        Preset(
            "office",
            "Office",
            "사무실",
            S.INDOOR,
            D.NORMAL,
            V.NORMAL,
            M.SURGICAL,
            M.SURGICAL,
            10,
            480,
            hours=(7, 22),
            interaction=Interaction.WORKPLACE,
            movable=False,
            keywords_ko=("회사", "사무실", "출근", "근무", "회의", "미팅", "업무", "콜센터"),
            keywords_en=("office", "work", "meeting", "standup", "call center", "call centre"),
            note="open-plan office, masked colleagues (workplace interaction = per hour, like microCOVID)",
        ),
        Preset(
            "meeting_friends",
            "Meeting people",
            "모임",
            S.INDOOR,
            D.NORMAL,
            V.NORMAL,
            M.NONE,
            M.NONE,
            5,
            120,
            hours=(9, 24),
            mask_ok=False,
            keywords_ko=("모임", "약속", "만남", "파티", "생일", "동창회", "결혼식", "돌잔치"),
            keywords_en=("party", "birthday", "wedding", "meet", "friends", "gathering", "reunion"),
            note="the default: an indoor get-together without masks (microCOVID's reference visit)",
        ),
    )
}
"""The built-in presets, in the order keywords are tried (the first match wins)."""

DEFAULT_PRESET_KEY = "meeting_friends"
"""The preset of a plan whose title and place match no keyword."""

_ACTIVITY_FIELDS = ("setting", "distance", "voice", "their_mask", "your_mask", "interaction")
_NUMBER_FIELDS = ("people", "duration_min", "max_exposure_min", "all_day_hour")
_ENUMS: dict[str, Any] = {
    "setting": Setting,
    "distance": Distance,
    "voice": Voice,
    "their_mask": Mask,
    "your_mask": Mask,
    "interaction": Interaction,
}


def _word_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    words = [w for w in words if w]
    if not words:
        return None
    # English keywords as whole words ("bar" must not match "barber"); Korean ones as substrings,
    # since Korean attaches particles to words ("클럽에서", "점심약속").
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![a-z])(?:{alternatives})(?![a-z])", re.IGNORECASE)


@dataclass(frozen=True)
class PresetTable:
    """Presets by key, with the keyword matchers built once."""

    presets: Mapping[str, Preset]
    default_key: str = DEFAULT_PRESET_KEY
    _matchers: tuple[tuple[str, re.Pattern[str] | None, tuple[str, ...]], ...] = field(
        default=(), repr=False
    )

    @classmethod
    def of(
        cls, presets: Mapping[str, Preset], default_key: str = DEFAULT_PRESET_KEY
    ) -> PresetTable:
        """A table over ``presets`` (keyword order = mapping order)."""
        if default_key not in presets:
            raise InputError(f"unknown default preset {default_key!r}", field="preset")
        matchers = tuple(
            (p.key, _word_pattern(p.keywords_en), tuple(k.lower() for k in p.keywords_ko))
            for p in presets.values()
        )
        return cls(dict(presets), default_key, matchers)

    def get(self, key: str, *, field_name: str = "activity") -> Preset:
        """The preset ``key`` (``park walk`` = ``park_walk``); unknown keys raise ``InputError``."""
        k = key.strip().lower().replace(" ", "_").replace("-", "_")
        k = _ALIASES.get(k, k)
        if k not in self.presets:
            raise InputError(
                f"unknown activity preset {key!r}; one of {', '.join(self.presets)}",
                field=field_name,
            )
        return self.presets[k]

    def infer(self, *texts: str) -> tuple[Preset, str | None]:
        """The first preset whose keyword occurs in the texts (title, location, categories).

        Returns the preset and the keyword that matched (None: the default preset).
        """
        text = " ".join(t for t in texts if t)
        lowered = text.lower()
        for key, english, korean in self._matchers:
            for word in korean:
                if word in lowered:
                    return self.presets[key], word
            if english is not None:
                m = english.search(text)
                if m:
                    return self.presets[key], m.group(0).lower()
        return self.presets[self.default_key], None


_ALIASES = {
    "karaoke": "noraebang",
    "church_service": "church",
    "service": "church",
    "show": "concert",
    "movie": "cinema",
    "subway_ride": "subway",
    "metro": "subway",
    "bus_ride": "bus",
    "plane": "flight",
    "hotel": "lodging",
    "shop": "market",
    "shopping": "market",
    "park": "park_walk",
    "walk": "park_walk",
    "class": "classroom",
    "work": "office",
    "meeting": "meeting_friends",
    "other": "meeting_friends",
}

DEFAULT_TABLE = PresetTable.of(DEFAULT_PRESETS)


def with_overrides(preset: Preset, overrides: Mapping[str, Any], *, field_prefix: str) -> Preset:
    """``preset`` with some fields replaced (validated: enums by name, numbers >= 0)."""
    changes: dict[str, Any] = {}
    known = {f.name for f in fields(Preset)}
    for name, value in overrides.items():
        where = f"{field_prefix}.{name}" if field_prefix else name
        if name in _ENUMS:
            changes[name] = parse_choice(_ENUMS[name], value, where)
        elif name in _NUMBER_FIELDS:
            if value is None and name in ("max_exposure_min", "all_day_hour"):
                changes[name] = None
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise InputError(f"not a number: {value!r}", field=where) from None
            if not number >= 0 or number == float("inf"):
                raise InputError(f"must be a finite number >= 0, got {value!r}", field=where)
            changes[name] = int(number) if name == "all_day_hour" else number
        elif name == "hours":
            if (
                not isinstance(value, (list, tuple))
                or len(value) != 2
                or not all(isinstance(h, int) for h in value)
                or not 0 <= value[0] < value[1] <= 48
            ):
                raise InputError(f"must be [from_hour, to_hour], got {value!r}", field=where)
            changes[name] = (int(value[0]), int(value[1]))
        elif name in ("mask_ok", "movable"):
            changes[name] = bool(value)
        elif name in ("name_en", "name_ko", "note"):
            changes[name] = str(value)
        elif name in ("keywords_ko", "keywords_en"):
            if isinstance(value, str) or not isinstance(value, (list, tuple)):
                raise InputError("must be a list of words", field=where)
            changes[name] = tuple(str(v) for v in value)
        elif name in ("preset", "key"):
            continue
        elif name in known:
            raise InputError("cannot be overridden", field=where)
        else:
            raise InputError(
                f"unknown activity field; use a preset name or {', '.join(_ACTIVITY_FIELDS + _NUMBER_FIELDS)}",
                field=where,
            )
    return replace(preset, **changes)


def load_presets(path: Path | str, *, base: PresetTable = DEFAULT_TABLE) -> PresetTable:
    """Presets from a JSON file ``{"bar": {"people": 25}, "sauna": {"preset": "gym", …}}`` over ``base``.

    An existing key is changed field by field; a new key starts from the preset it names with
    ``"preset"`` (default: the default preset) and is tried first when inferring from keywords.
    """
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read presets: {exc}", source=str(p)) from None
    if not isinstance(raw, dict):
        raise InputError("must be a JSON object of presets by name", source=str(p))
    presets = dict(base.presets)
    added: dict[str, Preset] = {}
    for key, overrides in raw.items():
        if not isinstance(overrides, dict):
            raise InputError("must be an object of fields", source=str(p), field=key)
        k = str(key).strip().lower().replace(" ", "_")
        if k in presets:
            presets[k] = with_overrides(presets[k], overrides, field_prefix=k)
        else:
            try:
                start = base.get(
                    str(overrides.get("preset", base.default_key)), field_name=f"{k}.preset"
                )
            except InputError as exc:
                raise InputError(exc.reason, source=str(p), field=exc.field) from None
            added[k] = with_overrides(replace(start, key=k), overrides, field_prefix=k)
    return PresetTable.of({**added, **presets}, base.default_key)
