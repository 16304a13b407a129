"""Levels: microCOVID bands and both Korean distancing systems, at and around every threshold."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from ansim.errors import InputError
from ansim.risk.levels import (
    BANDS,
    FIVE_LEVEL_RULES,
    FOUR_LEVEL_RULES,
    band_index,
    band_keys,
    band_of,
    band_thresholds,
    distancing_level,
    five_level,
    four_level,
    four_level_array,
    is_extreme,
    rule_set_on,
)

EPS = 1e-9


@pytest.mark.parametrize(
    ("threshold", "below", "at"),
    [
        (3, "very_low", "low"),
        (25, "low", "moderate"),
        (100, "moderate", "high"),
        (300, "high", "very_high"),
        (1000, "very_high", "dangerous"),
    ],
)
def test_bands_at_and_around_thresholds(threshold, below, at):
    assert band_of(threshold - EPS).key == below
    assert band_of(threshold).key == at  # upper-exclusive: the threshold belongs to the band above
    assert band_of(threshold + EPS).key == at


def test_band_ends_and_names():
    assert band_of(0).key == "very_low"
    assert band_of(99_999).key == "dangerous"
    assert not is_extreme(99_999)
    assert band_of(100_000).key == "dangerous"
    assert is_extreme(100_000)
    assert band_of(1e6).key == "dangerous"
    assert [b.name_ko for b in BANDS] == ["매우 낮음", "낮음", "보통", "높음", "매우 높음", "위험"]


def test_budget_scales_thresholds():
    assert band_thresholds(1000) == pytest.approx([0.3, 2.5, 10, 30, 100])
    assert band_of(10, budget_ucov=1000).key == "high"
    assert band_of(10, budget_ucov=100_000).key == "very_low"
    assert band_of(29.999, budget_ucov=100_000).key == "very_low"
    assert band_of(30, budget_ucov=100_000).key == "low"


def test_vectorised_classifier():
    x = np.array([0, 2.999, 3, 24.9, 25, 99, 100, 299, 300, 999, 1000, 5e5])
    assert band_index(x).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert band_keys(x.reshape(3, 4)).shape == (3, 4)
    assert band_keys(x)[4] == "moderate"
    for bad in ([1, np.nan], [-1.0]):
        with pytest.raises(InputError) as info:
            band_index(np.array(bad))
        assert info.value.field == "ucov"


# --- five-level system -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "trigger"),
    [("capital", 100), ("honam", 30), ("gyeongnam", 30), ("gangwon", 10), ("jeju", 10)],
)
def test_five_level_zone_triggers(zone, trigger):
    assert five_level(zone=zone, weekly_avg_local_cases=trigger - EPS) == 1.0
    assert five_level(zone=zone, weekly_avg_local_cases=trigger) == 1.5
    assert five_level(zone=zone, weekly_avg_local_cases=2 * trigger - EPS) == 1.5
    assert five_level(zone=zone, weekly_avg_local_cases=2 * trigger) == 2.0


def test_five_level_national_triggers():
    kw = {"zone": "capital", "weekly_avg_local_cases": 50}
    assert five_level(**kw, national_weekly_avg_local_cases=300) == 1.0  # "above 300"
    assert five_level(**kw, national_weekly_avg_local_cases=300 + EPS) == 2.0
    assert five_level(**kw, national_weekly_avg_local_cases=400 - EPS) == 2.0
    assert five_level(**kw, national_weekly_avg_local_cases=400) == 2.5
    assert five_level(**kw, national_weekly_avg_local_cases=800 - EPS) == 2.5
    assert five_level(**kw, national_weekly_avg_local_cases=800) == 3.0
    # 1.5 sustained in two or more zones
    assert five_level(zone="honam", weekly_avg_local_cases=31, zones_at_1_5_for_a_week=2) == 2.0
    assert five_level(zone="honam", weekly_avg_local_cases=29, zones_at_1_5_for_a_week=2) == 1.0


def test_five_level_bad_inputs():
    with pytest.raises(InputError) as info:
        five_level(zone="seoul", weekly_avg_local_cases=1)
    assert info.value.field == "zone"
    with pytest.raises(InputError) as info:
        five_level(zone="capital", weekly_avg_local_cases=-1)
    assert info.value.field == "weekly_avg_local_cases"


# --- four-level system -----------------------------------------------------------------------------

SEOUL = 9_668_465


@pytest.mark.parametrize(("per_100k", "below", "at"), [(1, 1, 2), (2, 2, 3), (4, 3, 4)])
def test_four_level_thresholds(per_100k, below, at):
    cases = per_100k * SEOUL / 1e5
    assert four_level(weekly_avg_local_cases=cases * (1 - 1e-9), population=SEOUL) == below
    assert four_level(weekly_avg_local_cases=cases, population=SEOUL) == at
    assert four_level(weekly_avg_local_cases=cases * (1 + 1e-9), population=SEOUL) == at


def test_four_level_seoul_table():
    # SMG's published (rounded) Seoul cut-offs: < 97, >= 97, >= 195, >= 389 daily cases
    assert four_level(weekly_avg_local_cases=96, population=SEOUL) == 1
    assert four_level(weekly_avg_local_cases=97, population=SEOUL) == 2
    assert four_level(weekly_avg_local_cases=195, population=SEOUL) == 3
    assert four_level(weekly_avg_local_cases=389, population=SEOUL) == 4
    assert four_level(weekly_avg_local_cases=500, population=SEOUL, days_at_level_4=2) == 3
    assert four_level(weekly_avg_local_cases=500, population=SEOUL, days_at_level_4=3) == 4


def test_four_level_array_matches_scalar():
    cases = np.array([0, 96, 97, 195, 389, 1000])
    assert four_level_array(cases, SEOUL).tolist() == [
        four_level(weekly_avg_local_cases=c, population=SEOUL) for c in cases
    ]
    with pytest.raises(InputError):
        four_level(weekly_avg_local_cases=10, population=0)


# --- rule set by date --------------------------------------------------------------------------------


def test_rule_set_switches_by_date():
    assert rule_set_on(date(2020, 11, 6))[:2] == ("five_level", False)
    assert rule_set_on(date(2020, 11, 7))[:2] == ("five_level", True)
    assert rule_set_on(date(2021, 6, 30))[:2] == ("five_level", True)
    assert rule_set_on(date(2021, 7, 1))[:2] == ("four_level", True)
    assert rule_set_on(date(2022, 4, 17))[:2] == ("four_level", True)
    assert rule_set_on(date(2022, 4, 18))[:2] == ("four_level", False)


def test_distancing_level_uses_the_rule_set_in_force():
    # 150 daily cases in Seoul: five-level 1.5 in the capital zone on 2021-06-30, four-level 2 the next day
    june = distancing_level(
        on=date(2021, 6, 30), weekly_avg_local_cases=150, population=SEOUL, zone="capital"
    )
    july = distancing_level(
        on=date(2021, 7, 1), weekly_avg_local_cases=150, population=SEOUL, zone="capital"
    )
    assert (june.system, june.level, june.official) == ("five_level", 1.5, True)
    assert (july.system, july.level, july.official) == ("four_level", 2.0, True)
    assert july.rule.restrictions_ko[0] == "사적모임 8명까지"
    early = distancing_level(on=date(2020, 3, 10), weekly_avg_local_cases=20, zone="capital")
    assert early.official is False
    assert "indicator" in early.note
    # the zone's cases drive the five-level system
    zonal = distancing_level(
        on=date(2020, 12, 1),
        weekly_avg_local_cases=150,
        zone="capital",
        zone_weekly_avg_local_cases=250,
    )
    assert zonal.level == 2.0
    with pytest.raises(InputError) as info:
        distancing_level(on=date(2020, 12, 1), weekly_avg_local_cases=1)
    assert info.value.field == "zone"
    with pytest.raises(InputError) as info:
        distancing_level(on=date(2021, 8, 1), weekly_avg_local_cases=1)
    assert info.value.field == "population"


def test_every_level_has_restrictions_in_both_languages():
    for rules in (FIVE_LEVEL_RULES, FOUR_LEVEL_RULES):
        for rule in rules.values():
            assert rule.name_ko
            assert rule.name_en
            assert len(rule.restrictions_ko) == len(rule.restrictions_en) >= 2
    assert sorted(FIVE_LEVEL_RULES) == [1.0, 1.5, 2.0, 2.5, 3.0]
    assert sorted(FOUR_LEVEL_RULES) == [1.0, 2.0, 3.0, 4.0]
    assert FIVE_LEVEL_RULES[1.5].label == "1.5"
    assert FOUR_LEVEL_RULES[4.0].label == "4"
