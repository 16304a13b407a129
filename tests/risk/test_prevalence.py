"""Prevalence: cleaning of case series, 7-day figures, and the µCoV of a random person."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from ansim.errors import InputError
from ansim.geo.regions import seoul_districts
from ansim.risk.prevalence import (
    DAY_0,
    cases_increase_pct,
    clean_daily_cases,
    delay_factor,
    person_risk_ucov,
    prob_any_infectious,
    regional_prevalence,
    seven_day_average,
    trailing_sum,
    underreporting_factor,
    weekly_incidence_per_100k,
)
from ansim.sources.seoul import read_gu_daily_cases

REPORTED = 0.003  # microCOVID's base: (2999 + 1) / 1,000,000


def _risk(**kwargs):
    args = {
        "population": 1_000_000,
        "cases_past_week": 2999,
        "positivity_pct": 0,
        "on": DAY_0 + timedelta(days=30),
    }
    args.update(kwargs)
    return person_risk_ucov(**args)


@pytest.mark.parametrize(
    ("positivity", "factor"),
    [
        (0, 2),
        (4, 0.04**0.5 * 25 + 2),
        (6, 0.06**0.5 * 25 + 2),
        (16, 0.16**0.5 * 25 + 2),
        (100, 27),
        (None, 27),
        (150, 27),
    ],
)
def test_underreporting_by_positivity(positivity, factor):
    assert _risk(positivity_pct=positivity).ucov == pytest.approx(
        REPORTED * factor * 1e6, rel=1e-12
    )


@pytest.mark.parametrize("day", [0, 25, 50, 300])
def test_underreporting_fades_with_time(day):
    risk = _risk(positivity_pct=25, on=DAY_0 + timedelta(days=day))
    assert risk.ucov == pytest.approx(REPORTED * (0.5 * 1000 / (day + 10) + 2) * 1e6, rel=1e-12)


@pytest.mark.parametrize(
    ("increase", "mult"), [(0, 1), (-20, 1), (10, 1.1), (50, 1.5), (100, 2), (200, 2)]
)
def test_delay_factor(increase, mult):
    assert _risk(cases_increase_pct=increase).ucov == pytest.approx(6000 * mult, rel=1e-12)
    assert delay_factor(increase) == pytest.approx(mult)


def test_bounds_of_the_microcovid_method():
    risk = _risk(positivity_pct=9)
    assert risk.method == "microcovid"
    assert risk.lower == pytest.approx(REPORTED * 2 * 1e6)
    assert risk.upper == pytest.approx(REPORTED * 27 * 1e6)
    assert risk.lower <= risk.ucov <= risk.upper


def test_ascertainment_alternative():
    # Georgia Tech worked example: 7,000 cases in 14 days, 9.67 M people, 50 attendees, AB 4 → 9.8 %
    week = 3500  # the same daily rate as 7,000 in 14 days
    risk = person_risk_ucov(
        population=9.67e6, cases_past_week=week, on=date(2020, 8, 1), ascertainment=4
    )
    assert risk.method == "ascertainment"
    assert float(prob_any_infectious(risk.ucov, 50)) == pytest.approx(0.098, abs=0.001)
    assert risk.lower < risk.ucov < risk.upper
    for ab, expected in [(3, 0.075), (5, 0.121), (10, 0.228)]:
        r = person_risk_ucov(
            population=9.67e6, cases_past_week=week, on=date(2020, 8, 1), ascertainment=ab
        )
        assert float(prob_any_infectious(r.ucov, 50)) == pytest.approx(expected, abs=0.001)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"population": 0}, "population"),
        ({"cases_past_week": -1}, "cases_past_week"),
        ({"positivity_pct": -3}, "positivity_pct"),
        ({"ascertainment": 0.5}, "ascertainment"),
    ],
)
def test_bad_inputs_name_the_field(kwargs, field):
    with pytest.raises(InputError) as info:
        _risk(**kwargs)
    assert info.value.field == field


def test_underreporting_factor_floor():
    assert underreporting_factor(date(2021, 7, 1), 0) == 2.0
    assert underreporting_factor(date(2022, 3, 1), 40) > underreporting_factor(
        date(2022, 3, 1), 2.5
    )


def test_trailing_sums_and_averages():
    x = np.arange(1, 11, dtype=float)
    s = trailing_sum(x, 7)
    assert np.isnan(s[:6]).all()
    assert s[6:].tolist() == [28, 35, 42, 49]
    assert seven_day_average(x)[6] == pytest.approx(4.0)
    grid = np.vstack([x, 2 * x])
    inc = weekly_incidence_per_100k(grid, [1e5, 2e5])
    assert inc[0, 6] == pytest.approx(28)
    assert inc[1, 6] == pytest.approx(28)


def test_cases_increase_pct():
    assert cases_increase_pct([1] * 7 + [2] * 7) == pytest.approx(100)
    assert cases_increase_pct([2] * 7 + [1] * 7) == 0
    assert cases_increase_pct([0] * 7 + [5] * 7) == 0  # week before 0: no defined growth
    assert cases_increase_pct([1, 2, 3]) == 0


def test_clean_series_gaps_duplicates_negatives():
    dates = ["2020-03-03", "2020-03-01", "2020-03-01", "2020-03-05", "2020-03-06"]
    counts = [4, 1, 2, 10, -3]
    clean = clean_daily_cases(dates, counts)
    assert [str(d) for d in clean.dates] == [
        "2020-03-01",
        "2020-03-02",
        "2020-03-03",
        "2020-03-04",
        "2020-03-05",
        "2020-03-06",
    ]
    # duplicate day: last row kept (2); gap days 0; the −3 taken from 2020-03-05
    assert clean.new_cases.tolist() == [2, 0, 4, 0, 7, 0]
    assert len(clean.notes) == 3
    assert any("duplicate" in n for n in clean.notes)
    assert any("missing" in n for n in clean.notes)
    assert any("negative" in n for n in clean.notes)
    summed = clean_daily_cases(dates, counts, duplicates="sum")
    assert summed.new_cases[0] == 3
    assert clean_daily_cases(["2020-03-01", "2020-03-02"], [1, 2]).notes == ()


def test_correction_larger_than_history_is_reported():
    clean = clean_daily_cases(["2020-03-01", "2020-03-02"], [1, -5])
    assert clean.new_cases.tolist() == [0, 0]
    assert "could not be subtracted" in clean.notes[0]


def test_bad_date_names_the_row():
    with pytest.raises(InputError) as info:
        clean_daily_cases(["2020-03-01", "soon"], [1, 2])
    assert info.value.row == 2


def test_regional_prevalence_on_bundled_seoul_data(data_dir):
    cases = read_gu_daily_cases(
        data_dir / "cases" / "seoul_gu_covid19_confirmed_20200205_20210630.csv.gz"
    )
    populations = {r.code: float(r.population or 0) for r in seoul_districts()}
    frame, notes = regional_prevalence(cases, populations)
    assert set(frame["region_code"]) == set(populations)
    assert all(n == () for n in notes.values())
    # Guro-gu (11530) around the call-centre cluster (reported from 2020-03-08)
    guro = frame[frame["region_code"] == "11530"].set_index("date")
    before = guro.loc[date(2020, 3, 1), "cases_past_week"]
    after = guro.loc[date(2020, 3, 15), "cases_past_week"]
    assert after > 5 * max(before, 1)
    assert guro.loc[date(2020, 3, 15), "incidence_per_100k"] == pytest.approx(
        after / populations["11530"] * 1e5
    )
    # the sum of all gu in the week to 2020-12-25 (third wave) is in the hundreds per day
    week = frame[frame["date"] == date(2020, 12, 25)]["cases_past_week"].sum() / 7
    assert 200 < week < 600


@pytest.mark.parametrize("ascertainment", [None, 4.0])
@pytest.mark.parametrize("positivity", [2.0, None, 37.0])
def test_array_form_equals_the_scalar_to_the_last_bit(ascertainment, positivity):
    from ansim.risk.prevalence import person_risk_ucov, person_risk_ucov_array

    rng = np.random.default_rng(7)
    week = rng.integers(0, 800, (60, 5)).astype(float)
    pop = rng.uniform(1e5, 7e5, 5)
    growth = rng.uniform(0, 150, (60, 5)) * (rng.random((60, 5)) < 0.5)
    day0 = date(2020, 2, 3)
    days = np.datetime64(day0.isoformat(), "D") + np.arange(60) * 7
    arr = person_risk_ucov_array(
        population=pop[None, :],
        cases_past_week=week,
        on=days[:, None],
        positivity_pct=positivity,
        cases_increase_pct=growth,
        ascertainment=ascertainment,
    )
    for i in range(60):
        for j in range(5):
            r = person_risk_ucov(
                population=pop[j],
                cases_past_week=week[i, j],
                positivity_pct=positivity,
                cases_increase_pct=growth[i, j],
                on=day0 + timedelta(days=7 * i),
                ascertainment=ascertainment,
            )
            assert (arr.ucov[i, j], arr.lower[i, j], arr.upper[i, j]) == (r.ucov, r.lower, r.upper)


def test_array_form_rejects_what_the_scalar_rejects():
    from ansim.risk.prevalence import person_risk_ucov_array

    day = np.array(["2020-03-01"], dtype="datetime64[D]")
    with pytest.raises(InputError) as exc:
        person_risk_ucov_array(population=[0.0], cases_past_week=[1.0], on=day)
    assert exc.value.field == "population"
    with pytest.raises(InputError) as exc:
        person_risk_ucov_array(population=[1e5], cases_past_week=[-1.0], on=day)
    assert exc.value.field == "cases_past_week"
    with pytest.raises(InputError) as exc:
        person_risk_ucov_array(
            population=[1e5], cases_past_week=[1.0], on=np.array(["2020-01-01"], "datetime64[D]")
        )
    assert exc.value.field == "date"
