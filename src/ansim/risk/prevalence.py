"""Regional prevalence: daily cases → 7-day average, weekly incidence per 100k, and the µCoV chance
that a random person is infectious (microCOVID §1.3, or a fixed ascertainment factor after
Georgia Tech §2; risk-models.md).

Case series arrive with the usual defects of Korean public tables: missing days, duplicated report
rows, negative corrections. ``clean_daily_cases`` repairs them and says what it did in ``notes``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ansim.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

DAY_0 = date(2020, 2, 12)
"""microCOVID's day 0 of the under-reporting formula."""
MAX_DELAY_FACTOR = 2.0
"""Cap on the rising-cases delay factor."""
ONE_MILLION = 1e6
ASCERTAINMENT_RANGE = (3.0, 10.0)
"""Georgia Tech's published range of ascertainment factors (3 … 10 true infections per reported case);
bounds of the ascertainment method."""


@dataclass(frozen=True, slots=True)
class DailyCases:
    """A cleaned daily series of one region: consecutive dates, one non-negative count each."""

    dates: np.ndarray
    """``datetime64[D]``, consecutive days."""
    new_cases: np.ndarray
    """float counts >= 0 (floats so that redistributed corrections stay exact)."""
    notes: tuple[str, ...]
    """What was repaired, in words (empty when the input was clean)."""


def clean_daily_cases(
    dates: npt.ArrayLike,
    new_cases: npt.ArrayLike,
    *,
    duplicates: str = "last",
) -> DailyCases:
    """Sort, de-duplicate, fill gaps and absorb negative corrections of a daily case series.

    Parameters
    ----------
    dates, new_cases
        One date and one count per row, in any order.
    duplicates
        Several rows for one day: ``"last"`` keeps the last row (a later report corrects an earlier
        one, as in the KDCA feed) or ``"sum"`` adds them (rows are parts, for example sub-areas).

    Notes
    -----
    - Missing days become 0: the counts of a day without a report appear in a later day's report,
      so a 0 keeps the weekly totals right.
    - Missing counts (NaN) are treated like missing days.
    - A negative count (a correction of earlier over-counting) is set to 0 and the same number is
      removed from the preceding days, latest first, so the cumulative total is unchanged;
      what cannot be removed (a correction larger than everything before) is dropped.
    """
    import pandas as pd

    if duplicates not in ("last", "sum"):
        raise InputError(
            f"duplicates must be 'last' or 'sum', not {duplicates!r}", field="duplicates"
        )
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(pd.Series(np.asarray(dates)), errors="coerce"),
            "n": pd.to_numeric(pd.Series(np.asarray(new_cases)), errors="coerce"),
        }
    )
    if len(frame) == 0:
        raise InputError("no case rows", field="new_cases")
    bad = frame["date"].isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise InputError("not a date", row=row, field="date")
    notes: list[str] = []
    frame["date"] = frame["date"].dt.normalize()
    frame = frame.sort_values("date", kind="stable")
    n_dup = int(frame["date"].duplicated().sum())
    if n_dup:
        if duplicates == "last":
            frame = frame.groupby("date", sort=True).last()
            notes.append(f"{n_dup} duplicate day row(s): kept the last row of each day")
        else:
            frame = frame.groupby("date", sort=True).sum(min_count=1)
            notes.append(f"{n_dup} duplicate day row(s): summed per day")
    else:
        frame = frame.set_index("date")
    n_nan = int(frame["n"].isna().sum())
    full = pd.date_range(frame.index.min(), frame.index.max(), freq="D")
    n_gap = len(full) - len(frame)
    series = frame["n"].reindex(full)
    if n_gap:
        notes.append(f"{n_gap} missing day(s) filled with 0 (their cases come in later reports)")
    if n_nan:
        notes.append(f"{n_nan} day(s) without a count set to 0")
    values = series.fillna(0.0).to_numpy(dtype=float).copy()
    negative = np.flatnonzero(values < 0)
    if negative.size:
        dropped = 0.0
        for i in negative:  # few corrections per series: a plain loop is clearest
            debt = -values[i]
            values[i] = 0.0
            j = i - 1
            while debt > 0 and j >= 0:
                take = min(values[j], debt)
                values[j] -= take
                debt -= take
                j -= 1
            dropped += debt
        msg = f"{negative.size} negative correction(s) set to 0 and subtracted from the preceding days"
        if dropped:
            msg += f" ({dropped:g} case(s) could not be subtracted and were dropped)"
        notes.append(msg)
    day_index = full.to_numpy().astype("datetime64[D]")
    return DailyCases(day_index, values, tuple(notes))


def trailing_sum(values: npt.ArrayLike, window: int = 7) -> np.ndarray:
    """Sum of the last ``window`` days ending at each day, along the last axis; NaN while incomplete."""
    x = np.asarray(values, dtype=float)
    if window < 1:
        raise InputError("window must be >= 1 day", field="window")
    c = np.cumsum(x, axis=-1)
    out = np.full_like(x, np.nan)
    if x.shape[-1] >= window:
        out[..., window - 1 :] = c[..., window - 1 :]
        out[..., window:] -= c[..., : x.shape[-1] - window]
    return out


def seven_day_average(new_cases: npt.ArrayLike) -> np.ndarray:
    """Trailing 7-day mean of daily cases (NaN for the first six days), along the last axis."""
    return trailing_sum(new_cases, 7) / 7.0


def weekly_incidence_per_100k(new_cases: npt.ArrayLike, population: npt.ArrayLike) -> np.ndarray:
    """Cases in the last 7 days per 100,000 people (NaN for the first six days).

    ``population`` broadcasts against ``new_cases`` without its last axis (one value per region).
    """
    pop = np.asarray(population, dtype=float)
    if np.any(~np.isfinite(pop)) or np.any(pop <= 0):
        raise InputError("population must be > 0", field="population")
    per_region = pop[..., None] if pop.ndim else pop  # one population per row of a 2-D array
    return trailing_sum(new_cases, 7) / per_region * 1e5


def cases_increase_pct(new_cases: npt.ArrayLike) -> float:
    """microCOVID's week-on-week growth in percent from the last 14 daily counts.

    ``last_week / week_before − 1`` when ``last_week > week_before > 0``, else 0 (falling or
    unknown trends give no delay correction).
    """
    x = np.asarray(new_cases, dtype=float)
    if x.size < 14:
        return 0.0
    last, before = float(x[-7:].sum()), float(x[-14:-7].sum())
    if last > before > 0:
        return (last / before - 1.0) * 100.0
    return 0.0


def underreporting_factor(on: date, positivity_pct: float | None = None) -> float:
    """microCOVID's true-infections-per-case factor: 1000 / (day_i + 10) · √positivity + 2.

    ``day_i`` counts days since 2020-02-12; a missing positivity (or one above 100 %) is taken as
    100 % ("assume the worst"), as microCOVID does.
    """
    day_i = (on - DAY_0).days
    if positivity_pct is None or positivity_pct > 100:
        positivity_pct = 100.0
    if positivity_pct < 0 or not math.isfinite(positivity_pct):
        raise InputError(f"must be 0-100, got {positivity_pct!r}", field="positivity_pct")
    if day_i + 10 <= 0:
        raise InputError(f"the formula is defined from 2020-02-03 on, got {on}", field="date")
    return 1000.0 / (day_i + 10) * math.sqrt(positivity_pct / 100.0) + 2.0


def delay_factor(cases_increase_pct: float) -> float:
    """Reporting-delay correction for rising cases: 1 + growth, between 1 and 2."""
    return min(1.0 + max(0.0, cases_increase_pct / 100.0), MAX_DELAY_FACTOR)


@dataclass(frozen=True, slots=True)
class PersonRisk:
    """µCoV that a random person of the region is infectious now, with a plausible range."""

    ucov: float
    lower: float
    upper: float
    method: str
    """``microcovid`` (date- and positivity-dependent factor) or ``ascertainment`` (fixed factor)."""
    reported_prevalence: float
    """(cases past week + 1) / population."""
    factor: float
    """True infections per reported case used for ``ucov``."""
    delay_factor: float


def person_risk_ucov(
    *,
    population: float,
    cases_past_week: float,
    positivity_pct: float | None = None,
    cases_increase_pct: float = 0.0,
    on: date,
    ascertainment: float | None = None,
) -> PersonRisk:
    """µCoV that a random person is infectious, from last week's reported cases.

    Parameters
    ----------
    population, cases_past_week
        Residents and reported cases in the last 7 days.
    positivity_pct, cases_increase_pct, on
        microCOVID's inputs: test positivity (None → 100 %), week-on-week growth in percent,
        the date of the data.
    ascertainment
        When given (for example ``settings.ascertainment_factor``): a fixed number of true
        infections per reported case (Georgia Tech uses 3-10), instead of microCOVID's factor;
        ``cases_past_week × 10/7`` then stands for Georgia Tech's 10 days of circulating cases.

    Returns
    -------
    PersonRisk
        microCOVID method: ``ucov`` = reported × factor × delay × 1e6; ``lower`` uses the late-pandemic
        floor factor 2 (positivity ignored), ``upper`` a positivity of 100 %.
        Ascertainment method: ``lower``/``upper`` use 3 and 10 (Georgia Tech's range), widened to
        include the chosen factor.
    """
    if not math.isfinite(population) or population <= 0:
        raise InputError(f"must be > 0, got {population!r}", field="population")
    if not math.isfinite(cases_past_week) or cases_past_week < 0:
        raise InputError(f"must be >= 0, got {cases_past_week!r}", field="cases_past_week")
    if not math.isfinite(cases_increase_pct):
        raise InputError("must be a number", field="cases_increase_pct")
    if ascertainment is not None:
        if not math.isfinite(ascertainment) or ascertainment < 1:
            raise InputError(
                f"must be >= 1 true infection per reported case, got {ascertainment!r}",
                field="ascertainment",
            )
        # circulating infectious people ≈ cases of the last 10 days (Georgia Tech), from the weekly rate
        circulating = cases_past_week * 10.0 / 7.0 / population
        lo_f, hi_f = (
            min(ASCERTAINMENT_RANGE[0], ascertainment),
            max(ASCERTAINMENT_RANGE[1], ascertainment),
        )
        return PersonRisk(
            ucov=min(circulating * ascertainment, 1.0) * ONE_MILLION,
            lower=min(circulating * lo_f, 1.0) * ONE_MILLION,
            upper=min(circulating * hi_f, 1.0) * ONE_MILLION,
            method="ascertainment",
            reported_prevalence=(cases_past_week + 1) / population,
            factor=ascertainment,
            delay_factor=1.0,
        )
    reported = (cases_past_week + 1) / population  # +1: additive smoothing for tiny counts
    factor = underreporting_factor(on, positivity_pct)
    delay = delay_factor(cases_increase_pct)
    ucov = reported * factor * delay * ONE_MILLION
    return PersonRisk(
        ucov=min(ucov, ONE_MILLION),
        lower=min(reported * 2.0 * delay * ONE_MILLION, ONE_MILLION),
        upper=min(reported * underreporting_factor(on, 100.0) * delay * ONE_MILLION, ONE_MILLION),
        method="microcovid",
        reported_prevalence=reported,
        factor=factor,
        delay_factor=delay,
    )


@dataclass(frozen=True, slots=True)
class PersonRiskArrays:
    """:class:`PersonRisk` over arrays (one value per region and/or day), µCoV."""

    ucov: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    factor: np.ndarray
    """True infections per reported case used for ``ucov``."""
    delay_factor: np.ndarray


def person_risk_ucov_array(
    *,
    population: npt.ArrayLike,
    cases_past_week: npt.ArrayLike,
    on: npt.ArrayLike,
    positivity_pct: float | None = None,
    cases_increase_pct: npt.ArrayLike = 0.0,
    ascertainment: float | None = None,
) -> PersonRiskArrays:
    """:func:`person_risk_ucov` over broadcastable arrays (same formulas, same floating-point steps).

    ``on`` holds dates (``datetime64[D]`` or ``datetime.date`` objects) broadcasting against the
    counts, for example a column ``(days, 1)`` against a ``(days, regions)`` table. The scalar function
    stays the reference; ``tests/risk/test_prevalence.py`` checks that both agree to the last bit.
    """
    pop = np.asarray(population, dtype=float)
    week = np.asarray(cases_past_week, dtype=float)
    growth = np.asarray(cases_increase_pct, dtype=float)
    if np.any(~np.isfinite(pop)) or np.any(pop <= 0):
        raise InputError("must be > 0", field="population")
    if np.any(~np.isfinite(week)) or np.any(week < 0):
        raise InputError("must be >= 0", field="cases_past_week")
    if np.any(~np.isfinite(growth)):
        raise InputError("must be a number", field="cases_increase_pct")
    if ascertainment is not None:
        if not math.isfinite(ascertainment) or ascertainment < 1:
            raise InputError(
                f"must be >= 1 true infection per reported case, got {ascertainment!r}",
                field="ascertainment",
            )
        circulating = week * 10.0 / 7.0 / pop
        lo_f = min(ASCERTAINMENT_RANGE[0], ascertainment)
        hi_f = max(ASCERTAINMENT_RANGE[1], ascertainment)
        ucov = np.minimum(circulating * ascertainment, 1.0) * ONE_MILLION
        return PersonRiskArrays(
            ucov=ucov,
            lower=np.minimum(circulating * lo_f, 1.0) * ONE_MILLION,
            upper=np.minimum(circulating * hi_f, 1.0) * ONE_MILLION,
            factor=np.full(ucov.shape, float(ascertainment)),
            delay_factor=np.ones(ucov.shape),
        )
    day_i = (np.asarray(on, dtype="datetime64[D]") - np.datetime64(DAY_0.isoformat(), "D")).astype(
        np.int64
    )
    if np.any(day_i + 10 <= 0):
        raise InputError("the formula is defined from 2020-02-03 on", field="date")
    if positivity_pct is None or positivity_pct > 100:
        positivity_pct = 100.0
    if positivity_pct < 0 or not math.isfinite(positivity_pct):
        raise InputError(f"must be 0-100, got {positivity_pct!r}", field="positivity_pct")
    base = 1000.0 / (day_i + 10).astype(float)
    factor = base * math.sqrt(positivity_pct / 100.0) + 2.0
    worst = base * math.sqrt(1.0) + 2.0  # positivity 100 %: the upper bound
    reported = (week + 1) / pop  # +1: additive smoothing for tiny counts
    delay = np.minimum(1.0 + np.maximum(0.0, growth / 100.0), MAX_DELAY_FACTOR)
    ucov = reported * factor * delay * ONE_MILLION
    return PersonRiskArrays(
        ucov=np.minimum(ucov, ONE_MILLION),
        lower=np.minimum(reported * 2.0 * delay * ONE_MILLION, ONE_MILLION),
        upper=np.minimum(reported * worst * delay * ONE_MILLION, ONE_MILLION),
        factor=np.broadcast_to(factor, ucov.shape).copy(),
        delay_factor=np.broadcast_to(delay, ucov.shape).copy(),
    )


def prob_any_infectious(person_risk_ucov: npt.ArrayLike, people: npt.ArrayLike) -> np.ndarray:
    """Chance that at least one of ``people`` is infectious, 1 − (1 − p)^n (Georgia Tech §2)."""
    p = np.clip(np.asarray(person_risk_ucov, dtype=float) / ONE_MILLION, 0.0, 1.0)
    n = np.asarray(people, dtype=float)
    with np.errstate(divide="ignore"):
        return -np.expm1(n * np.log1p(-p))


def regional_prevalence(
    cases: pd.DataFrame,
    populations: Mapping[str, float],
    *,
    duplicates: str = "last",
) -> tuple[pd.DataFrame, dict[str, tuple[str, ...]]]:
    """Per region and day: cleaned cases, 7-day average and sum, incidence per 100k, growth.

    Parameters
    ----------
    cases
        ``DataFrame[CASE_COLUMNS]`` (region_code, date, new_cases, source); several sources or
        regions may be mixed.
    populations
        Residents per region code; regions without a population raise ``InputError``.

    Returns
    -------
    (frame, notes)
        ``frame`` has columns region_code, date (datetime.date), new_cases (cleaned),
        avg7, cases_past_week, incidence_per_100k, cases_increase_pct; ``notes`` maps each
        region to what ``clean_daily_cases`` repaired.
    """
    import pandas as pd

    missing = {"region_code", "date", "new_cases"} - set(cases.columns)
    if missing:
        raise InputError(f"missing column(s) {sorted(missing)}", field="cases")
    parts: list[pd.DataFrame] = []
    notes: dict[str, tuple[str, ...]] = {}
    for code, group in cases.groupby("region_code", sort=True):
        code = str(code)
        pop = populations.get(code)
        if pop is None:
            raise InputError(f"no population for region {code}", field="populations")
        clean = clean_daily_cases(group["date"], group["new_cases"], duplicates=duplicates)
        notes[code] = clean.notes
        week = trailing_sum(clean.new_cases, 7)
        # growth needs two complete weeks; computed on the cleaned series
        before = np.full_like(week, np.nan)
        before[7:] = week[:-7]
        with np.errstate(divide="ignore", invalid="ignore"):
            growth = np.where((week > before) & (before > 0), (week / before - 1.0) * 100.0, 0.0)
        parts.append(
            pd.DataFrame(
                {
                    "region_code": code,
                    "date": pd.to_datetime(clean.dates).date,
                    "new_cases": clean.new_cases,
                    "avg7": week / 7.0,
                    "cases_past_week": week,
                    "incidence_per_100k": week / float(pop) * 1e5,
                    "cases_increase_pct": growth,
                }
            )
        )
    if not parts:
        raise InputError("no case rows", field="cases")
    return pd.concat(parts, ignore_index=True), notes
