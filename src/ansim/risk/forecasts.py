"""Forecast cases and crowds for the risk engine's future times, as arrays aligned with the gu.

``ansim.forecast.forecaster.Forecaster`` predicts the 10/50/90 % quantiles of daily new cases per gu
(``cases_gu``), people present per gu and day (KT, ``crowd_daily``) and per gu and hour (SK Telecom,
``crowd_hourly``) for the periods after its stored history. The engine needs them as arrays, per gu in
its own order, with the prevalence (µCoV) that the forecast cases imply, and it keeps them in its
state cache; so they are computed once, here, when the engine is built:

- :func:`tables_from_forecaster` turns a loaded ``Forecaster`` into :class:`ForecastTables`
  (the only function here that calls the forecasting package);
- :func:`case_forecast` is the pure part: the 7-day case sums and person risk of each forecast day,
  from the observed series followed by the forecast quantiles;
- :func:`models_fingerprint` hashes the models' metadata (``model.json``) with the standard library,
  so the state-cache key can name the models without loading LightGBM.

Sums of quantiles: the 7-day sum along the 10 % (90 %) path adds the daily 10 % (90 %) quantiles, as
if the days' errors moved together. That interval is wider than the true one of the sum (errors of
different days partly cancel): a cautious range, stated in docs/risk.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ansim.timeutil import as_seoul

if TYPE_CHECKING:
    from ansim.forecast.forecaster import Forecaster

FAMILIES = ("cases_gu", "crowd_daily", "crowd_hourly")
"""The model families the engine uses (per-province cases are not)."""


@dataclass(frozen=True)
class ForecastSeries:
    """One family's quantiles per gu: arrays (periods, gu); row ``k`` is period ``origin + (k + 1)``."""

    family: str
    origin: datetime
    """The last observed period of the model's history (Seoul); forecasts start after it."""
    period_s: int
    q10: np.ndarray
    q50: np.ndarray
    q90: np.ndarray
    trained_to: str
    """The model's training data end (``model.json`` ``data_end``)."""

    def slot(self, at: datetime) -> int | None:
        """Row of the period holding ``at``, or None when no forecast covers it."""
        k = int((as_seoul(at) - self.origin).total_seconds() // self.period_s)
        return k - 1 if 1 <= k <= self.q50.shape[0] else None


@dataclass(frozen=True)
class CaseForecast:
    """Forecast new cases per gu and the prevalence they imply, for each forecast day."""

    series: ForecastSeries
    cases_past_week: np.ndarray
    """(3, days, gu): 7-day sums along the q10, q50 and q90 paths (observed days, then forecast)."""
    person_risk: np.ndarray
    """(3, days, gu): µCoV that a random resident is infectious, at each path's 7-day sum."""
    person_risk_lower: np.ndarray
    """(days, gu): the prevalence model's own lower bound at the q10 path."""
    person_risk_upper: np.ndarray
    """(days, gu): its upper bound at the q90 path."""


@dataclass(frozen=True)
class ForecastTables:
    """What the engine keeps of the forecast models (all arrays; stored in the state cache)."""

    fingerprint: str
    cases: CaseForecast | None
    crowd_daily: ForecastSeries | None
    crowd_hourly: ForecastSeries | None


def case_forecast(
    series: ForecastSeries,
    *,
    new_cases: np.ndarray,
    population: np.ndarray,
    positivity_pct: float | None,
    ascertainment: float | None,
) -> CaseForecast:
    """Prevalence per forecast day from the observed daily cases (days, gu) ending on the origin.

    Same steps as ``engine.region_series`` (trailing 7-day sum, microCOVID's week-on-week growth,
    ``prevalence.person_risk_ucov_array``), on the observed days followed by each quantile path.
    """
    from ansim.risk.prevalence import person_risk_ucov_array

    h = series.q50.shape[0]
    tail = np.asarray(new_cases, dtype=float)[-14:]
    weeks, befores = [], []
    for path in (series.q10, series.q50, series.q90):
        ext = np.concatenate([tail, np.clip(path, 0.0, None)], axis=0)
        c = np.cumsum(np.concatenate([np.zeros((1, ext.shape[1])), ext], axis=0), axis=0)
        end = np.arange(tail.shape[0] + 1, ext.shape[0] + 1)  # rows of the forecast days, + 1
        weeks.append(c[end] - c[np.maximum(end - 7, 0)])
        befores.append(c[np.maximum(end - 7, 0)] - c[np.maximum(end - 14, 0)])
    week = np.stack(weeks)
    before = np.stack(befores)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where((week > before) & (before > 0), (week / before - 1) * 100, 0.0)
    first = series.origin.date() + timedelta(days=1)
    days_on = np.datetime64(first.isoformat(), "D") + np.arange(h)
    risk = person_risk_ucov_array(
        population=np.asarray(population, dtype=float)[None, None, :],
        cases_past_week=week,
        on=days_on[None, :, None],
        positivity_pct=positivity_pct,
        cases_increase_pct=growth,
        ascertainment=ascertainment,
    )
    ucov = np.broadcast_to(risk.ucov, week.shape)
    lower = np.broadcast_to(risk.lower, week.shape)
    upper = np.broadcast_to(risk.upper, week.shape)
    return CaseForecast(
        series=series,
        cases_past_week=week,
        person_risk=np.ascontiguousarray(ucov),
        person_risk_lower=np.ascontiguousarray(lower[0]),
        person_risk_upper=np.ascontiguousarray(upper[2]),
    )


def _series(fc: Forecaster, family: str, gu_codes: tuple[str, ...]) -> ForecastSeries | None:
    """A family's forecasts as (periods, gu) arrays in ``gu_codes`` order; None without the model."""
    if family not in fc.families:
        return None
    import pandas as pd

    frame = fc.frame(family)
    times = pd.DatetimeIndex(sorted(frame["target_time"].unique()))
    out = {}
    for q in ("q10", "q50", "q90"):
        wide = frame.pivot(index="target_time", columns="area", values=q).reindex(
            index=times, columns=list(gu_codes)
        )
        out[q] = np.ascontiguousarray(wide.to_numpy(dtype=float))
    if not np.all(np.isfinite(out["q50"])):
        return None  # a gu without forecasts: the model was trained on other areas
    origin = as_seoul(fc.origin(family))
    period_s = round((times[0].to_pydatetime() - origin).total_seconds())
    meta = fc.metadata(family)
    return ForecastSeries(
        family=family,
        origin=origin,
        period_s=period_s,
        q10=out["q10"],
        q50=out["q50"],
        q90=out["q90"],
        trained_to=str(meta.get("data_end", origin.isoformat())),
    )


def tables_from_forecaster(
    fc: Forecaster,
    *,
    gu_codes: tuple[str, ...],
    new_cases: np.ndarray,
    cases_last_day: date,
    population: np.ndarray,
    positivity_pct: float | None,
    ascertainment: float | None,
) -> tuple[ForecastTables, list[str]]:
    """The engine's forecast tables and notes (why a family is left out)."""
    notes: list[str] = []
    cases = None
    series = _series(fc, "cases_gu", gu_codes)
    if series is None:
        notes.append("no per-gu case forecast model: future prevalence is carried forward")
    elif series.origin.date() != cases_last_day:
        notes.append(
            f"the case forecast starts after {series.origin.date()}, the case data end on "
            f"{cases_last_day}: future prevalence is carried forward (retrain: ansim train)"
        )
    else:
        cases = case_forecast(
            series,
            new_cases=new_cases,
            population=population,
            positivity_pct=positivity_pct,
            ascertainment=ascertainment,
        )
    tables = ForecastTables(
        fingerprint=forecaster_fingerprint(fc),
        cases=cases,
        crowd_daily=_series(fc, "crowd_daily", gu_codes),
        crowd_hourly=_series(fc, "crowd_hourly", gu_codes),
    )
    return tables, notes


def _digest(metadata: dict[str, Any]) -> str:
    text = json.dumps(metadata, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def forecaster_fingerprint(fc: Forecaster) -> str:
    """Hash of the used families' metadata (data range, features, metrics, version, training run)."""
    return _digest({f: fc.metadata(f) for f in FAMILIES if f in fc.families})


def models_fingerprint(directory: Path | str) -> str | None:
    """The same hash read from ``<directory>/<family>/model.json`` (standard library only).

    None when the directory holds none of the families (the engine then has no forecasts).
    """
    found: dict[str, Any] = {}
    for family in FAMILIES:
        path = Path(directory) / family / "model.json"
        try:
            found[family] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return _digest(found) if found else None


def fingerprint_of(forecaster: Any) -> str | None:
    """Fingerprint of what ``RiskEngine``'s ``forecaster=`` holds: a directory, a Forecaster or None."""
    if forecaster is None:
        return None
    if isinstance(forecaster, str | Path):
        return models_fingerprint(forecaster)
    return forecaster_fingerprint(forecaster)
