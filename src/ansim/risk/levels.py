"""Levels: microCOVID risk bands on a yearly budget, and the Korean social-distancing levels.

Bands (risk-models.md §1.6): thresholds 3 / 25 / 100 / 300 / 1,000 µCoV for the 1 %-a-year budget
(10,000 µCoV), scaled with the budget, upper-exclusive (exactly 3 µCoV is "low"). microCOVID's
seventh band, "extreme" (≥ 100,000), is folded into "dangerous": the issue asks for six names, and
above 1,000 µCoV the advice is the same (avoid it). ``is_extreme`` still tells the two apart.

Korean distancing (§4): the five-level system by zone (2020-11-07 … 2021-06-30) and the four-level
per-100k system (from 2021-07-01). Before 2020-11-07 there was no official system with these
numeric triggers; we apply the five-level thresholds as an indicator, flagged ``official=False``.
After distancing ended (2022-04-18) the four-level thresholds are likewise an indicator only.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from ansim.errors import InputError

# --- microCOVID bands --------------------------------------------------------------------------------

REFERENCE_BUDGET_UCOV = 10_000.0
BAND_THRESHOLDS_UCOV = (3.0, 25.0, 100.0, 300.0, 1_000.0)
"""Lower edges of low … dangerous for the 10,000 µCoV/yr budget."""
EXTREME_UCOV = 100_000.0


@dataclass(frozen=True, slots=True)
class Band:
    """One risk band: stable key, index 0-5, English and Korean names."""

    index: int
    key: str
    name_en: str
    name_ko: str


BANDS: tuple[Band, ...] = (
    Band(0, "very_low", "very low", "매우 낮음"),
    Band(1, "low", "low", "낮음"),
    Band(2, "moderate", "moderate", "보통"),
    Band(3, "high", "high", "높음"),
    Band(4, "very_high", "very high", "매우 높음"),
    Band(5, "dangerous", "dangerous", "위험"),
)


def _budget_scale(budget_ucov: float) -> float:
    if not math.isfinite(budget_ucov) or budget_ucov <= 0:
        raise InputError(f"must be > 0, got {budget_ucov!r}", field="budget_ucov")
    return budget_ucov / REFERENCE_BUDGET_UCOV


def band_thresholds(budget_ucov: float = REFERENCE_BUDGET_UCOV) -> np.ndarray:
    """Lower edges (µCoV) of bands 1-5 for a yearly budget (microCOVID scales them linearly)."""
    return np.asarray(BAND_THRESHOLDS_UCOV) * _budget_scale(budget_ucov)


def band_index(ucov: npt.ArrayLike, *, budget_ucov: float = REFERENCE_BUDGET_UCOV) -> np.ndarray:
    """Band index 0-5 of each value (vectorised, upper-exclusive thresholds).

    Raises
    ------
    InputError
        For NaN or negative µCoV.
    """
    x = np.asarray(ucov, dtype=float)
    if np.any(np.isnan(x)) or np.any(x < 0):
        raise InputError("µCoV must be a number >= 0", field="ucov")
    return np.searchsorted(band_thresholds(budget_ucov), x, side="right").astype(np.int8)


def band_of(ucov: float, *, budget_ucov: float = REFERENCE_BUDGET_UCOV) -> Band:
    """The band of one µCoV value (upper-exclusive thresholds)."""
    value = float(ucov)
    if math.isnan(value) or value < 0:
        raise InputError("µCoV must be a number >= 0", field="ucov")
    scale = _budget_scale(budget_ucov)
    # plain-Python path (bisect, not numpy: far faster for one value), same edges as band_index
    edges = [t * scale for t in BAND_THRESHOLDS_UCOV]
    return BANDS[bisect.bisect_right(edges, value)]


def band_keys(ucov: npt.ArrayLike, *, budget_ucov: float = REFERENCE_BUDGET_UCOV) -> np.ndarray:
    """Band keys (``very_low`` … ``dangerous``) of an array, as an object array of the same shape."""
    names = np.array([b.key for b in BANDS], dtype=object)
    return names[band_index(ucov, budget_ucov=budget_ucov)]


def is_extreme(ucov: float, *, budget_ucov: float = REFERENCE_BUDGET_UCOV) -> bool:
    """microCOVID's "extreme" (≥ 100,000 µCoV at the 1 % budget), inside our "dangerous" band."""
    return ucov >= EXTREME_UCOV * _budget_scale(budget_ucov)


# --- Korean distancing ---------------------------------------------------------------------------------

ZONES = ("capital", "chungcheong", "honam", "gyeongbuk", "gyeongnam", "gangwon", "jeju")
"""The seven zones of the five-level system (``zone_2020`` in data/regions/provinces.csv)."""

FIVE_LEVEL_START = date(2020, 11, 7)
FOUR_LEVEL_START = date(2021, 7, 1)
DISTANCING_END = date(2022, 4, 18)

# Five-level regional trigger for 1.5 (weekly average daily local cases in the zone); level 2 at twice it.
FIVE_LEVEL_ZONE_TRIGGER: dict[str, float] = {
    "capital": 100.0,
    "chungcheong": 30.0,
    "honam": 30.0,
    "gyeongbuk": 30.0,
    "gyeongnam": 30.0,
    "gangwon": 10.0,
    "jeju": 10.0,
}
FIVE_LEVEL_NATIONAL_2 = 300.0
"""Level 2 when the nationwide weekly average is above ("초과") 300."""
FIVE_LEVEL_NATIONAL_2_5 = 400.0
"""Level 2.5 from a nationwide 400-500: we use the lower edge."""
FIVE_LEVEL_NATIONAL_3 = 800.0
"""Level 3 from a nationwide 800-1,000: we use the lower edge."""

FOUR_LEVEL_PER_100K = (1.0, 2.0, 4.0)
"""Lower edges (weekly average daily local cases per 100,000) of levels 2, 3, 4."""
FOUR_LEVEL_4_MIN_DAYS = 3
"""Level 4 needs ≥ 4 per 100k on 3 or more days."""


@dataclass(frozen=True, slots=True)
class DistancingRule:
    """One level of one system: its number, names and main restrictions in Korean and English."""

    system: str
    level: float
    name_ko: str
    name_en: str
    trigger_en: str
    restrictions_ko: tuple[str, ...]
    restrictions_en: tuple[str, ...]

    @property
    def label(self) -> str:
        """``1.5``, ``2``, … as printed by the government."""
        return f"{self.level:g}"


FIVE_LEVEL_RULES: dict[float, DistancingRule] = {
    1.0: DistancingRule(
        "five_level",
        1.0,
        "1단계 (생활방역)",
        "Level 1 (daily-life distancing)",
        "zone below 100 (capital) / 30 / 10 (Gangwon, Jeju) daily local cases, weekly average",
        (
            "지정 시설 마스크 착용 의무 (2020-11-13부터 과태료)",
            "중점·일반관리시설 출입명부 작성",
        ),
        (
            "masks mandatory at designated facilities (fines from 2020-11-13)",
            "entry logs at priority and regular managed facilities",
        ),
    ),
    1.5: DistancingRule(
        "five_level",
        1.5,
        "1.5단계 (지역 유행 개시)",
        "Level 1.5 (regional outbreak begins)",
        "zone at or above 100 (capital) / 30 / 10 (Gangwon, Jeju)",
        (
            "중점관리시설 4㎡당 1명 인원 제한 (결혼식장·장례식장·노래연습장·실내체육시설 등)",
            "영화관·PC방 좌석 띄우기, 50㎡ 이상 식당 테이블 간격 유지",
            "종교활동 좌석 30% 이내",
            "집회·공연 100명 미만",
        ),
        (
            "1 person per 4 m² at priority facilities (weddings, funerals, karaoke, indoor sports)",
            "seat gaps in cinemas and PC rooms; restaurants over 50 m² space their tables",
            "religious services at 30% of seats",
            "rallies and concerts under 100 people",
        ),
    ),
    2.0: DistancingRule(
        "five_level",
        2.0,
        "2단계 (지역 유행 급속 전파, 전국적 유행 개시)",
        "Level 2 (rapid regional spread, nationwide outbreak begins)",
        "zone at twice the 1.5 trigger, or 1.5 for a week in 2+ zones, or nationwide above 300",
        (
            "100명 이상 모임·행사 금지",
            "유흥시설 5종 집합금지",
            "식당 21시 이후 포장·배달만, 카페 포장·배달만",
            "노래연습장·실내체육시설 등 21시 이후 운영 중단",
        ),
        (
            "gatherings and events of 100 or more banned",
            "five kinds of nightlife venues closed",
            "restaurants take-out/delivery only after 21:00; cafés take-out/delivery only",
            "karaoke, gyms and similar closed after 21:00",
        ),
    ),
    2.5: DistancingRule(
        "five_level",
        2.5,
        "2.5단계 (전국적 유행 본격화)",
        "Level 2.5 (nationwide outbreak)",
        "nationwide 400-500 or more daily local cases, or doubling",
        (
            "50명 이상 모임·행사 금지",
            "대부분 다중이용시설 21시 이후 운영 중단, 노래연습장·실내체육시설 집합금지",
            "스포츠 경기 무관중",
            "종교활동 비대면 원칙 (20명 이내)",
        ),
        (
            "gatherings and events of 50 or more banned",
            "most multi-use facilities closed after 21:00; karaoke and gyms closed",
            "sports without spectators",
            "religious services non-face-to-face (up to 20 people)",
        ),
    ),
    3.0: DistancingRule(
        "five_level",
        3.0,
        "3단계 (전국적 대유행)",
        "Level 3 (nationwide pandemic)",
        "nationwide 800-1,000 or more daily local cases, or doubling",
        (
            "10명 이상 모임·행사 금지",
            "필수 외출 외 집에 머물기",
            "필수시설 외 다중이용시설 운영 중단",
        ),
        (
            "gatherings and events of 10 or more banned",
            "stay at home except for essentials",
            "non-essential multi-use facilities closed",
        ),
    ),
}

FOUR_LEVEL_RULES: dict[float, DistancingRule] = {
    1.0: DistancingRule(
        "four_level",
        1.0,
        "1단계 (지속적 억제상태 유지)",
        "Level 1 (sustained suppression)",
        "below 1 daily local case per 100,000 (weekly average)",
        (
            "사적모임 제한 없음 (방역수칙 준수)",
            "500명 이상 행사 지자체 신고, 집회 500명 미만",
            "다중이용시설 운영시간 제한 없음 (1m 거리두기)",
        ),
        (
            "no limit on private gatherings (rules apply)",
            "events of 500+ reported to the local government; rallies under 500",
            "no opening-hour limits for facilities (1 m spacing)",
        ),
    ),
    2.0: DistancingRule(
        "four_level",
        2.0,
        "2단계 (지역 유행/인원 제한)",
        "Level 2 (regional outbreak)",
        "1 or more per 100,000",
        (
            "사적모임 8명까지",
            "행사·집회 100명 미만",
            "식당·카페, 유흥시설, 노래연습장 등 24시까지",
        ),
        (
            "private gatherings up to 8 people",
            "events and rallies under 100",
            "restaurants, cafés, nightlife and karaoke until 24:00",
        ),
    ),
    3.0: DistancingRule(
        "four_level",
        3.0,
        "3단계 (권역 유행/모임 금지)",
        "Level 3 (zone-wide outbreak)",
        "2 or more per 100,000",
        (
            "사적모임 4명까지",
            "행사·집회 50명 미만",
            "식당·카페 매장 내 취식, 노래연습장·목욕장·실내체육시설 등 22시까지",
        ),
        (
            "private gatherings up to 4 people",
            "events and rallies under 50",
            "dine-in at restaurants and cafés, karaoke, bathhouses and gyms until 22:00",
        ),
    ),
    4.0: DistancingRule(
        "four_level",
        4.0,
        "4단계 (대유행/외출 금지)",
        "Level 4 (pandemic: stay home)",
        "4 or more per 100,000 for 3 days or more",
        (
            "사적모임 18시 이전 4명, 18시 이후 2명까지",
            "행사 금지, 1인 시위만 허용, 결혼식·장례식 49명까지 (초기 친족만)",
            "클럽·헌팅포차·감성주점 집합금지, 그 외 시설 22시까지",
            "학교 원격수업, 종교활동 비대면 (이후 19명까지), 스포츠 무관중",
        ),
        (
            "private gatherings: 4 people before 18:00, 2 after",
            "no events; one-person protests only; weddings and funerals up to 49 (kin only at first)",
            "clubs, hunting pubs and 감성주점 closed; other facilities until 22:00",
            "schools remote; religious services non-face-to-face (later up to 19); sports without spectators",
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class DistancingAssessment:
    """The level a region's numbers give, under the rule set in force on the date."""

    system: str
    """``five_level`` or ``four_level``."""
    level: float
    rule: DistancingRule
    official: bool
    """False when the system was not in force on that date and is applied as an indicator."""
    note: str


def rule_set_on(day: date) -> tuple[str, bool, str]:
    """(system, official, note) for a date: which rule set was in force in Korea."""
    if day < FIVE_LEVEL_START:
        return (
            "five_level",
            False,
            "no official numeric level system in force before 2020-11-07; "
            "five-level thresholds applied as an indicator",
        )
    if day < FOUR_LEVEL_START:
        return "five_level", True, "five-level system (2020-11-07 to 2021-06-30)"
    if day < DISTANCING_END:
        return "four_level", True, "four-level system (from 2021-07-01)"
    return (
        "four_level",
        False,
        "distancing lifted on 2022-04-18; four-level thresholds applied as an indicator",
    )


def _check_number(value: float, field: str) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise InputError(f"must be a number >= 0, got {value!r}", field=field)
    return value


def five_level(
    *,
    zone: str,
    weekly_avg_local_cases: float,
    national_weekly_avg_local_cases: float | None = None,
    zones_at_1_5_for_a_week: int = 0,
) -> float:
    """Level (1, 1.5, 2, 2.5, 3) of the five-level system for one zone.

    Parameters
    ----------
    zone
        One of ``ZONES``.
    weekly_avg_local_cases
        Weekly average of daily local (domestic) cases in the zone.
    national_weekly_avg_local_cases
        The same for the whole country (levels 2-3 depend on it); None skips the national triggers.
    zones_at_1_5_for_a_week
        Number of zones that have been at 1.5 for a week (2 or more also gives level 2).

    Notes
    -----
    Thresholds are "at or above" except the nationwide level-2 trigger ("above 300"); the
    nationwide 2.5 and 3 triggers are ranges in the announcement (400-500, 800-1,000): we use the
    lower edges. Supplementary indicators (cases aged 60+, ICU beds, Rt) are not modelled.
    """
    if zone not in FIVE_LEVEL_ZONE_TRIGGER:
        raise InputError(f"unknown zone {zone!r}; one of {', '.join(ZONES)}", field="zone")
    local = _check_number(weekly_avg_local_cases, "weekly_avg_local_cases")
    trigger = FIVE_LEVEL_ZONE_TRIGGER[zone]
    national = (
        None
        if national_weekly_avg_local_cases is None
        else _check_number(national_weekly_avg_local_cases, "national_weekly_avg_local_cases")
    )
    if national is not None and national >= FIVE_LEVEL_NATIONAL_3:
        return 3.0
    if national is not None and national >= FIVE_LEVEL_NATIONAL_2_5:
        return 2.5
    if (
        local >= 2 * trigger
        or (national is not None and national > FIVE_LEVEL_NATIONAL_2)
        or (zones_at_1_5_for_a_week >= 2 and local >= trigger)
    ):
        return 2.0
    if local >= trigger:
        return 1.5
    return 1.0


def four_level(
    *,
    weekly_avg_local_cases: float,
    population: float,
    days_at_level_4: int | None = None,
) -> float:
    """Level (1-4) of the four-level system for a region from its weekly average per 100,000.

    ``days_at_level_4``: days the region has been at ≥ 4 per 100k; level 4 needs 3 or more
    (None: assume the condition holds, the value alone decides).
    """
    local = _check_number(weekly_avg_local_cases, "weekly_avg_local_cases")
    pop = float(population)
    if not math.isfinite(pop) or pop <= 0:
        raise InputError(f"must be > 0, got {population!r}", field="population")
    per_100k = local / pop * 1e5
    level = 1.0 + float(np.searchsorted(FOUR_LEVEL_PER_100K, per_100k, side="right"))
    if level == 4.0 and days_at_level_4 is not None and days_at_level_4 < FOUR_LEVEL_4_MIN_DAYS:
        level = 3.0
    return level


def four_level_array(
    weekly_avg_local_cases: npt.ArrayLike, population: npt.ArrayLike
) -> np.ndarray:
    """Vectorised four-level classification (level 4 without the 3-day condition)."""
    per_100k = (
        np.asarray(weekly_avg_local_cases, dtype=float) / np.asarray(population, dtype=float) * 1e5
    )
    if np.any(~np.isfinite(per_100k)) or np.any(per_100k < 0):
        raise InputError("cases must be >= 0 and population > 0", field="weekly_avg_local_cases")
    return 1.0 + np.searchsorted(FOUR_LEVEL_PER_100K, per_100k, side="right").astype(float)


def distancing_level(
    *,
    on: date,
    weekly_avg_local_cases: float,
    population: float | None = None,
    zone: str | None = None,
    zone_weekly_avg_local_cases: float | None = None,
    national_weekly_avg_local_cases: float | None = None,
    days_at_level_4: int | None = None,
    zones_at_1_5_for_a_week: int = 0,
) -> DistancingAssessment:
    """The distancing level of a region on a date, under the rule set then in force.

    The five-level system is zonal: it uses ``zone_weekly_avg_local_cases`` (the zone's cases; the
    region's own ``weekly_avg_local_cases`` when not given) and ``zone``. The four-level system is
    per region: it uses ``weekly_avg_local_cases`` and ``population``. ``national_weekly_avg_local_cases``
    and ``zones_at_1_5_for_a_week`` feed the five-level system's nationwide triggers.
    """
    system, official, note = rule_set_on(on)
    if system == "five_level":
        if zone is None:
            raise InputError("the five-level system needs the region's zone", field="zone")
        zone_cases = (
            weekly_avg_local_cases
            if zone_weekly_avg_local_cases is None
            else zone_weekly_avg_local_cases
        )
        level = five_level(
            zone=zone,
            weekly_avg_local_cases=zone_cases,
            national_weekly_avg_local_cases=national_weekly_avg_local_cases,
            zones_at_1_5_for_a_week=zones_at_1_5_for_a_week,
        )
        return DistancingAssessment(system, level, FIVE_LEVEL_RULES[level], official, note)
    if population is None:
        raise InputError("the four-level system needs the region's population", field="population")
    level = four_level(
        weekly_avg_local_cases=weekly_avg_local_cases,
        population=population,
        days_at_level_4=days_at_level_4,
    )
    return DistancingAssessment(system, level, FOUR_LEVEL_RULES[level], official, note)
