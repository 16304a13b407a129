"""Visit risk against microCOVID's published unit tests (calculate.test.ts, snapshot 8ecaf11)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from ansim.errors import InputError
from ansim.risk.prevalence import DAY_0, person_risk_ucov
from ansim.risk.visit import (
    Activity,
    Distance,
    Interaction,
    Mask,
    RiskProfile,
    Setting,
    TheirVaccination,
    Variant,
    activity_risk,
    combine_ucov,
    combine_ucov_array,
    living_alone_multiplier,
    person_risk_each_ucov,
    variant_on,
    ventilation_multiplier,
    visit_risk,
    wells_riley_probability,
    your_vaccine_multiplier,
)

# microCOVID's baseTestData: 1,000,000 people, 2999 cases, positivity 0, day 30 → 6000 µCoV,
# with their-vaccine data upr = 2, 40 % vaccinated, v = 0.8.
BASE_DATE = DAY_0 + timedelta(days=30)
BASE_VACCINATION = TheirVaccination(40, 0.8, unvaccinated_prevalence_ratio=2)
AVERAGE_UCOV = person_risk_ucov(
    population=1_000_000, cases_past_week=2999, positivity_pct=0, on=BASE_DATE
).ucov

# scenario: (profile, interaction, people, setting, distance, minutes, their mask, your mask, voice, expected)
SCENARIOS = {
    "outdoorMasked2": (
        "average",
        "one-time",
        2,
        "outdoor",
        "normal",
        60,
        "basic",
        "basic",
        "normal",
        19,
    ),
    "indoorUnmasked2": (
        "average",
        "one-time",
        2,
        "indoor",
        "normal",
        60,
        "none",
        "none",
        "normal",
        1680,
    ),
    "1person_15minCarRide": (
        "average",
        "one-time",
        1,
        "indoor",
        "normal",
        15,
        "none",
        "none",
        "normal",
        210,
    ),
    "oneNightStand": (
        "average",
        "one-time",
        1,
        "indoor",
        "intimate",
        600,
        "none",
        "none",
        "normal",
        3600,
    ),
    "liveInPartner_noContacts": (
        "living-alone",
        "partner",
        1,
        "indoor",
        "intimate",
        600,
        "none",
        "none",
        "normal",
        42,
    ),
    "60minShopping": ("average", "one-time", 5, "indoor", "2m", 60, "basic", "basic", "silent", 93),
    "60minShoppingFew": (
        "average",
        "one-time",
        3,
        "indoor",
        "2m",
        60,
        "basic",
        "basic",
        "silent",
        56,
    ),
    "60minShoppingCrowded": (
        "average",
        "one-time",
        10,
        "indoor",
        "2m",
        60,
        "basic",
        "basic",
        "silent",
        187,
    ),
    "planeRide": ("average", "one-time", 41, "plane", "2m", 360, "basic", "basic", "silent", 765),
    "planeRideMiddleSeatEmpty": (
        "average",
        "one-time",
        20,
        "plane",
        "2m",
        360,
        "basic",
        "basic",
        "silent",
        373,
    ),
    "restaurantOutdoors": (
        "average",
        "one-time",
        15,
        "outdoor",
        "2m",
        90,
        "none",
        "none",
        "normal",
        472.5,
    ),
    "restaurantIndoors": (
        "average",
        "one-time",
        15,
        "indoor",
        "2m",
        90,
        "none",
        "none",
        "normal",
        9450,
    ),
    "bar": ("average", "one-time", 15, "indoor", "2m", 120, "none", "none", "loud", 54000),
    "largeOutdoorParty": (
        "average",
        "one-time",
        80,
        "outdoor",
        "normal",
        180,
        "basic",
        "basic",
        "normal",
        2240,
    ),
    "smallIndoorParty25": (
        "average",
        "one-time",
        25,
        "indoor",
        "normal",
        180,
        "none",
        "none",
        "normal",
        63000,
    ),
    "outdoorMaskedWithCovidPositive": (
        "has-covid",
        "one-time",
        1,
        "outdoor",
        "normal",
        60,
        "basic",
        "basic",
        "normal",
        1555.6,
    ),
    "indoorUnmaskedWithCovidPositive": (
        "has-covid",
        "one-time",
        1,
        "indoor",
        "normal",
        60,
        "none",
        "none",
        "normal",
        140000,
    ),
    "votingInPerson": ("average", "one-time", 2, "indoor", "2m", 10, "basic", "basic", "silent", 6),
}


def _calc(
    profile: str = "average",
    interaction: str = "one-time",
    people: float = 1,
    setting: str = "indoor",
    distance: str = "normal",
    minutes: float = 60,
    their: str = "none",
    yours: str = "none",
    voice: str = "normal",
    their_vaccine: str = "unknown",
    average_ucov: float = AVERAGE_UCOV,
    your_vaccine_mult: float = 1.0,
):
    activity = Activity(
        setting=setting,
        distance=distance,
        voice=voice,
        their_mask=their,
        your_mask=yours,
        duration_min=minutes,
        interaction=interaction,
    )
    each = person_risk_each_ucov(
        average_person_ucov=average_ucov,
        profile=profile,
        interaction=interaction,
        their_vaccine=their_vaccine,
        vaccination=BASE_VACCINATION,
    )
    return visit_risk(
        activity,
        person_risk_ucov=each,
        people=people,
        variant=Variant.DELTA,
        your_vaccine_mult=your_vaccine_mult,
    )


def test_base_person_risk_is_6000():
    assert pytest.approx(6000, rel=1e-12) == AVERAGE_UCOV


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_microcovid_published_values(name):
    *inputs, expected = SCENARIOS[name]
    result = _calc(*inputs)
    # upstream asserts toBeCloseTo(expected, 0): |x − expected| < 0.5
    assert abs(result.ucov - expected) < 0.5, (name, result.ucov)


def test_by_hand_formula_outdoor_masked():
    result = _calc(*SCENARIOS["outdoorMasked2"][:-1])
    assert result.ucov == pytest.approx(0.006 * 2 / 20 * 0.14 * (1 / 3) * (2 / 3) * 1e6, rel=1e-12)
    assert result.lower == pytest.approx(result.ucov / 3)
    assert result.upper == pytest.approx(result.ucov * 3)


def test_exact_values_where_microcovid_is_exact():
    assert _calc(*SCENARIOS["indoorUnmasked2"][:-1]).ucov == pytest.approx(1680, rel=1e-12)
    assert _calc(*SCENARIOS["bar"][:-1]).ucov == pytest.approx(54000, rel=1e-12)
    assert _calc(*SCENARIOS["indoorUnmaskedWithCovidPositive"][:-1]).ucov == pytest.approx(
        140000, rel=1e-12
    )


def test_living_alone_is_self_consistent():
    # ten silent, 2 m distant, basic-masked average people, you in a surgical mask, one hour
    result = _calc("average", "one-time", 10, "indoor", "2m", 60, "basic", "surgical", "silent")
    assert result.ucov == pytest.approx(AVERAGE_UCOV * living_alone_multiplier(Variant.DELTA))


def test_large_risks_use_the_product_form():
    one = _calc("has-covid", "repeated", 1, "indoor", "2m", 60)
    assert one.ucov == pytest.approx(0.4e6)
    assert one.lower == pytest.approx(133333.33, abs=0.5)
    assert one.upper == pytest.approx(1e6)
    two = _calc("has-covid", "repeated", 2, "indoor", "2m", 60)
    assert two.ucov == pytest.approx(0.64e6)
    assert two.lower == pytest.approx(248888.8, abs=0.5)
    assert two.upper == pytest.approx(1e6)


@pytest.mark.parametrize(
    ("profile", "points"), [("deci-percent", 20.0), ("one-percent", 200.0), ("has-covid", 1e6)]
)
def test_fixed_profiles_ignore_prevalence(profile, points):
    expected = points * 0.4
    assert _calc(profile, "repeated").ucov == pytest.approx(expected)
    assert _calc(profile, "repeated", average_ucov=AVERAGE_UCOV * 10).ucov == pytest.approx(
        expected
    )


def test_workplace_equals_one_time():
    assert _calc(interaction="workplace", distance="2m").ucov == _calc(distance="2m").ucov


def test_partner_ignores_modifiers_and_vaccine_status():
    unvaccinated = _calc(
        "living-alone", "partner", their_vaccine="unvaccinated", distance="intimate", minutes=600
    )
    bonuses = _calc(
        "living-alone",
        "partner",
        1,
        "outdoor",
        "3m",
        1,
        "filtered",
        "filtered",
        "silent",
        "unvaccinated",
    )
    assert unvaccinated.ucov == bonuses.ucov
    assert unvaccinated.ucov == pytest.approx(0.006 * 0.6 * 1e6 * living_alone_multiplier())
    unknown = _calc("living-alone", "partner", distance="intimate", minutes=600)
    vaccinated = _calc(
        "living-alone", "partner", their_vaccine="vaccinated", distance="intimate", minutes=600
    )
    assert unknown.ucov == pytest.approx(0.5 * unvaccinated.ucov)
    assert vaccinated.ucov == pytest.approx(0.8 * unvaccinated.ucov)


def test_their_vaccine_for_average_people():
    default = _calc(distance="2m").ucov
    assert _calc(distance="2m", their_vaccine="unvaccinated").ucov == pytest.approx(2 * default)
    assert _calc(distance="2m", their_vaccine="vaccinated").ucov == pytest.approx(2 * 0.8 * default)


def test_housemate_is_40_percent_and_ignores_modifiers():
    housemate = _calc(interaction="repeated", minutes=120)
    bonuses = _calc("average", "repeated", 1, "outdoor", "3m", 1, "filtered", "filtered", "silent")
    assert housemate.ucov == pytest.approx(0.006 * 0.4 * 1e6)
    assert bonuses.ucov == pytest.approx(housemate.ucov)


def test_intimate_distance():
    base = {"distance": "intimate", "minutes": 20}
    twenty = _calc(**base).ucov
    assert _calc(distance="intimate", minutes=1).ucov == twenty
    assert _calc(distance="intimate", minutes=30).ucov == pytest.approx(1.5 * twenty)
    assert _calc(distance="intimate", minutes=600).ucov == pytest.approx(
        _calc(interaction="partner", distance="intimate").ucov
    )
    assert (
        _calc(distance="intimate", minutes=600, setting="outdoor").ucov
        == _calc(distance="intimate", minutes=600).ucov
    )
    assert _calc(**base, their="filtered", yours="n95").ucov == twenty
    assert _calc(**base, voice="loud").ucov == twenty
    assert _calc(**base, voice="silent").ucov == twenty


@pytest.mark.parametrize(
    ("minutes", "setting", "expected"),
    [(120, "indoor", 3360), (1, "indoor", 3360 / 120), (120, "outdoor", 3360)],
)
def test_close_distance(minutes, setting, expected):
    assert _calc(distance="close", minutes=minutes, setting=setting).ucov == pytest.approx(expected)


@pytest.mark.parametrize(
    ("vaccine", "doses", "mult"),
    [
        ("pfizer", 0, 1),
        ("pfizer", 1, 1),
        ("pfizer", 2, 0.8),
        ("pfizer", 3, 0.25),
        ("moderna", 2, 0.8),
        ("moderna", 3, 0.25),
        ("astraZeneca", 2, 1),
        ("astraZeneca", 3, 0.3),
        ("johnson", 0, 1),
        ("johnson", 1, 0.95),
    ],
)
def test_your_vaccine(vaccine, doses, mult):
    car = SCENARIOS["1person_15minCarRide"][:-1]
    base = _calc(*car).ucov
    factor = your_vaccine_multiplier(vaccine, doses)
    assert _calc(*car, your_vaccine_mult=factor).ucov / base == pytest.approx(mult)


def test_vaccine_applies_after_the_cap():
    car = list(SCENARIOS["1person_15minCarRide"][:-1])
    car[5] = 100_000
    capped = _calc(*car).ucov
    assert _calc(
        *car, your_vaccine_mult=your_vaccine_multiplier("pfizer", 2)
    ).ucov == pytest.approx(0.8 * capped)


def test_kf_mapping():
    kf94 = _calc(distance="2m", their="kf94", yours="kf94").ucov
    n95 = _calc(distance="2m", their="n95", yours="n95").ucov
    assert kf94 == n95
    assert _calc(their="kf80", yours="kf80").ucov == _calc(their="surgical", yours="surgical").ucov
    assert kf94 < _calc(distance="2m", their="kf80", yours="kf80").ucov


def test_variant_constants_and_dates():
    activity = Activity()
    assert activity_risk(activity, variant=Variant.WILD) == pytest.approx(0.06)
    assert activity_risk(activity, variant=Variant.ALPHA) == pytest.approx(0.09)
    assert activity_risk(activity, variant=Variant.DELTA) == pytest.approx(0.14)
    assert activity_risk(activity, variant=Variant.OMICRON) == pytest.approx(0.14)
    assert variant_on(date(2020, 3, 10)) is Variant.WILD
    assert variant_on(date(2020, 12, 31)) is Variant.WILD
    assert variant_on(date(2021, 1, 1)) is Variant.ALPHA
    assert variant_on(date(2021, 6, 30)) is Variant.ALPHA
    assert variant_on(date(2021, 7, 1)) is Variant.DELTA
    assert variant_on(date(2022, 1, 16)) is Variant.OMICRON
    by_date = visit_risk(activity, person_risk_ucov=100, people=10, on=date(2020, 3, 10))
    assert by_date.variant is Variant.WILD
    assert by_date.ucov == pytest.approx(100 * 10 * 0.06)


def test_expected_people_from_the_crowd_layer():
    result = visit_risk(Activity(), person_risk_ucov=100, expected_people=12.5)
    assert result.ucov == pytest.approx(100 * 12.5 * 0.14)
    with pytest.raises(InputError, match="people"):
        visit_risk(Activity(), person_risk_ucov=100)


def test_vectorised_matches_scalar():
    rng = np.random.default_rng(3)
    pr = rng.uniform(0, 5e5, 2000)
    n = rng.uniform(0, 50, 2000)
    ar = rng.uniform(0, 0.6, 2000)
    exp_, low, up = combine_ucov_array(pr, n, ar)
    for j in range(0, 2000, 37):
        e, lo, u = combine_ucov(pr[j], n[j], ar[j])
        assert exp_[j] == pytest.approx(e, rel=1e-9)
        assert low[j] == pytest.approx(lo, rel=1e-9)
        assert up[j] == pytest.approx(u, rel=1e-9)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("setting", {"setting": "underwater"}),
        ("distance", {"distance": "6ft"}),
        ("voice", {"voice": "whisper"}),
        ("their_mask", {"their_mask": "kf99"}),
        ("your_mask", {"your_mask": "gas"}),
        ("interaction", {"interaction": "weekly"}),
        ("duration_min", {"duration_min": -5}),
        ("duration_min", {"duration_min": float("nan")}),
    ],
)
def test_unknown_activity_values_name_the_field(field, kwargs):
    with pytest.raises(InputError) as info:
        Activity(**kwargs)
    assert info.value.field == field


def test_unknown_profile_names_the_field():
    with pytest.raises(InputError) as info:
        person_risk_each_ucov(average_person_ucov=10, profile="tourist")
    assert info.value.field == "profile"


def test_enums_accept_members_and_strings():
    a = Activity(
        setting=Setting.TRANSIT, distance="2M", your_mask="KF94", interaction=Interaction.ONE_TIME
    )
    assert a.setting is Setting.TRANSIT
    assert a.distance is Distance.TWO_M
    assert a.your_mask is Mask.KF94
    assert RiskProfile("has-covid") is RiskProfile.HAS_COVID


def test_wells_riley_and_ventilation_multiplier():
    # more air changes, lower risk; the reference room gives 1
    p_closed = wells_riley_probability(ach=0.3, volume_m3=100, duration_h=1)
    p_open = wells_riley_probability(ach=6, volume_m3=100, duration_h=1)
    assert 0 < p_open < p_closed < 1
    assert ventilation_multiplier(ach=1.0, volume_m3=100, duration_min=60) == pytest.approx(1.0)
    # a HEPA-filtered room (5 extra ACH) tends to (1 + 0.92) / (6 + 0.92) = 0.28 for long stays,
    # close to microCOVID's "filtered" 0.25
    # (with a weak emitter, so that neither room saturates)
    hepa = ventilation_multiplier(
        ach=1.0, volume_m3=100, duration_min=600, extra_removal_per_h=5, quanta_per_h=1
    )
    assert hepa == pytest.approx(1.92 / 6.92, abs=0.02)
    # a strong emitter saturates both rooms and the ratio moves toward 1
    strong = ventilation_multiplier(
        ach=1.0, volume_m3=100, duration_min=600, extra_removal_per_h=5, quanta_per_h=100
    )
    assert hepa < strong < 1
    assert ventilation_multiplier(ach=1.0, volume_m3=25, duration_min=60) > 3.5
    with pytest.raises(InputError) as info:
        wells_riley_probability(ach=1, volume_m3=0, duration_h=1)
    assert info.value.field == "volume_m3"
    ventilated = visit_risk(Activity(), person_risk_ucov=100, people=1, ventilation_mult=0.5)
    assert ventilated.ucov == pytest.approx(100 * 0.14 * 0.5)
