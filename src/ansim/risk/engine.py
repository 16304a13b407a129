"""The risk engine: every layer composed into µCoV per H3 cell and time, with explanations.

For a cell ``c`` (in gu ``g``) at time ``t`` and an activity with risk ``a`` (microCOVID activity risk,
``ansim.risk.visit``; the reference visit is one hour indoors, normal distance and voice, no masks):

- community  = person_risk[g, day] × co-present people(c, t) × a            (prevalence × crowd)
- exposure   = infectious presence(c, t) × footprint share(c) × 1e6 × a   (a case was here: hasCovid)
- mobility   = carried presence(c, t) × footprint share(c) × 1e6 × a      (people from a site came here)

and the total is their sum, turned into microCOVID's product form above 100,000 µCoV
(``1e6 · (1 − e^(−sum/1e6))``). Bounds are microCOVID's ÷3 / ×3. For future times the engine uses the
forecast models when it has them (``forecaster=``; ``ansim.risk.forecasts``): forecast cases per gu
(q50, the 10-90 % path for the bounds) and forecast crowds; without them the latest prevalence is
carried forward and the bounds widen by 25 % per day ahead. See docs/risk.md, "Spatial layers and engine".
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ansim.errors import InputError, OutOfCoverageError
from ansim.geo.cells import CellTable, cell_to_hex, seoul_cells
from ansim.records import ExposureEvent
from ansim.risk import crowd as crowd_mod
from ansim.risk import flows as flows_mod
from ansim.risk import forecasts as fc_mod
from ansim.risk.exposure import (
    ExposureField,
    KernelParams,
    date_cluster_events,
    epoch_s,
    time_factor,
)
from ansim.risk.levels import BANDS, band_index, band_of, distancing_level, rule_set_on
from ansim.risk.prevalence import person_risk_ucov_array
from ansim.risk.rt import estimate_rt
from ansim.risk.visit import (
    ERROR_FACTOR,
    MAX_POINTS,
    ONE_MILLION,
    REFERENCE_ACTIVITY,
    Activity,
    activity_risk,
    variant_on,
)
from ansim.risk.zones import ZoneSeries, zone_series
from ansim.timeutil import SEOUL, as_seoul, isoformat_seoul

if TYPE_CHECKING:
    import pandas as pd

KOREA_POSITIVITY_PCT = 2.0
"""Test positivity fed to microCOVID's under-reporting factor: Korea's national PCR positivity stayed
around 1-3 % through 2020-21 (KDCA). Set ``positivity_pct`` for other periods (omicron: ~30-40 %)."""
FORECAST_DAYS = 7
"""How far ahead the engine answers."""
WIDENING_PER_DAY = 0.25
"""Extra uncertainty per day ahead when the prevalence persists (no forecast)."""
COMPONENTS = ("community", "exposure_site", "mobility")


@dataclass(frozen=True)
class RegionSeries:
    """Per gu and day: cases, incidence, person risk (µCoV), Rt. Arrays are (days, gu)."""

    gu_codes: tuple[str, ...]
    names_ko: tuple[str, ...]
    names_en: tuple[str, ...]
    population: np.ndarray
    day0: date
    new_cases: np.ndarray
    cases_past_week: np.ndarray
    incidence_per_100k: np.ndarray
    person_risk: np.ndarray
    person_risk_lower: np.ndarray
    person_risk_upper: np.ndarray
    rt_mean: np.ndarray
    rt_q025: np.ndarray
    rt_q975: np.ndarray

    @property
    def last_day(self) -> date:
        """The last day with case data."""
        return self.day0 + timedelta(days=int(self.new_cases.shape[0]) - 1)

    def day_index(self, day: date) -> tuple[int, int]:
        """(row to use, days ahead of the data); raises outside the covered period."""
        i = (day - self.day0).days
        if i < 0:
            raise OutOfCoverageError(
                f"case data start on {self.day0.isoformat()}, {day.isoformat()} is earlier",
                field="at",
            )
        last = self.new_cases.shape[0] - 1
        if i <= last:
            return i, 0
        ahead = i - last
        if ahead > FORECAST_DAYS:
            raise OutOfCoverageError(
                f"case data end on {self.last_day.isoformat()}; Ansim answers up to "
                f"{FORECAST_DAYS} days later, not {day.isoformat()}",
                field="at",
            )
        return last, ahead


def region_series(
    cases: pd.DataFrame,
    gu_codes: tuple[str, ...],
    *,
    positivity_pct: float | None = KOREA_POSITIVITY_PCT,
    ascertainment: float | None = None,
) -> RegionSeries:
    """Daily per-gu prevalence arrays from ``CASE_COLUMNS`` rows (Seoul gu codes; others ignored).

    When several sources report a gu, the one with the most rows wins (the Seoul per-gu table).
    """
    import pandas as pd

    from ansim.geo.regions import region

    frame = cases[cases["region_code"].isin(gu_codes)]
    if frame.empty:
        raise InputError("no daily cases for any Seoul gu", field="cases")
    best = frame.groupby("source").size().idxmax()
    frame = frame[frame["source"] == best]
    days = pd.to_datetime(frame["date"]).dt.date
    day0, day1 = min(days), max(days)
    n = (day1 - day0).days + 1
    counts = np.zeros((n, len(gu_codes)))
    pos = {c: i for i, c in enumerate(gu_codes)}
    np.add.at(
        counts,
        (np.array([(d - day0).days for d in days]), frame["region_code"].map(pos).to_numpy()),
        frame["new_cases"].to_numpy(float),
    )
    regions = [region(c) for c in gu_codes]
    pop = np.array([float(r.population or 0) for r in regions])
    if np.any(pop <= 0):
        raise InputError("a Seoul gu has no population", field="population")
    c = np.cumsum(counts, axis=0)
    week = c.copy()
    week[7:] -= c[:-7]
    before = np.zeros_like(week)
    before[7:] = week[:-7]
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where((week > before) & (before > 0), (week / before - 1) * 100, 0.0)
    days_on = np.datetime64(day0.isoformat(), "D") + np.arange(n)
    # microCOVID's formula is defined from 2020-02-03; earlier days use that day's factor
    days_on = np.maximum(days_on, np.datetime64("2020-02-03", "D"))
    risk = person_risk_ucov_array(
        population=pop[None, :],
        cases_past_week=week,
        on=days_on[:, None],
        positivity_pct=positivity_pct,
        cases_increase_pct=growth,
        ascertainment=ascertainment,
    )
    pr, lo, hi = risk.ucov, risk.lower, risk.upper
    rt_m = np.full_like(week, np.nan)
    rt_l = np.full_like(week, np.nan)
    rt_h = np.full_like(week, np.nan)
    if n >= 8:
        for j in range(len(gu_codes)):
            est = estimate_rt(counts[:, j])
            rt_m[est.end_index, j] = est.mean
            rt_l[est.end_index, j] = est.q025
            rt_h[est.end_index, j] = est.q975
    return RegionSeries(
        gu_codes,
        tuple(r.name_ko for r in regions),
        tuple(r.name_en for r in regions),
        pop,
        day0,
        counts,
        week,
        week / pop * 1e5,
        pr,
        lo,
        hi,
        rt_m,
        rt_l,
        rt_h,
    )


@dataclass(frozen=True)
class Assessment:
    """A point answer; :meth:`to_dict` gives the public JSON shape."""

    cell: str
    at: datetime
    ucov: float
    lower: float
    upper: float
    components: dict[str, float]
    level: str
    level_ko: str
    drivers: list[dict[str, Any]]
    region: dict[str, Any]
    advice: list[dict[str, Any]]
    basis: dict[str, str] = field(default_factory=dict)

    @property
    def probability(self) -> float:
        """Chance of infection (µCoV / 1e6)."""
        return self.ucov / ONE_MILLION

    def to_dict(self) -> dict[str, Any]:
        """``{cell, at, ucov, probability, level, level_ko, drivers[], region{…}, advice[]}``."""
        return {
            "cell": self.cell,
            "at": isoformat_seoul(self.at),
            "ucov": {"value": self.ucov, "lower": self.lower, "upper": self.upper, "unit": "µCoV"},
            "probability": {
                "value": self.ucov / ONE_MILLION,
                "lower": self.lower / ONE_MILLION,
                "upper": self.upper / ONE_MILLION,
                "unit": "probability",
            },
            "level": self.level,
            "level_ko": self.level_ko,
            "drivers": self.drivers,
            "region": self.region,
            "advice": self.advice,
            "basis": self.basis,
        }


@dataclass
class _Layers:
    """Per-cell arrays of one evaluation (µCoV per component and the crowd behind them)."""

    community: np.ndarray
    exposure_site: np.ndarray
    mobility: np.ndarray
    people: np.ndarray
    copresent: np.ndarray
    community_lower: np.ndarray | None = None
    """Community µCoV along the forecasts' 10 % path (None: no forecast at this time)."""
    community_upper: np.ndarray | None = None


class RiskEngine:
    """All risk layers over the Seoul cells. Build with :meth:`from_records` or :meth:`from_store`."""

    def __init__(
        self,
        *,
        table: CellTable,
        regions: RegionSeries,
        crowd: crowd_mod.CrowdModel,
        weights: crowd_mod.CellWeights,
        gravity: flows_mod.GravityModel,
        exposures: ExposureField,
        budget_ucov: float = 10_000.0,
        footprint_m2: float = crowd_mod.REFERENCE_FOOTPRINT_M2,
        notes: tuple[str, ...] = (),
        zones: ZoneSeries | None = None,
        forecasts: fc_mod.ForecastTables | None = None,
    ) -> None:
        self.table = table
        self.regions = regions
        self.crowd = crowd
        self.weights = weights
        self.gravity = gravity
        self.exposures = exposures
        self.budget_ucov = budget_ucov
        self.footprint_m2 = footprint_m2
        self.notes = notes
        self.zones = zones
        """Province cases by distancing zone (the capital region for Seoul); None: Seoul alone."""
        self.forecasts = forecasts
        """Forecast cases and crowds (``ansim.risk.forecasts``); None: persistence after the data."""
        self._share = crowd_mod.copresent_fraction(table.area_m2, footprint_m2)
        self._row_index: tuple[np.ndarray, np.ndarray] | None = None
        self._flow_memo: tuple[float, np.ndarray] | None = None

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def from_records(
        cls,
        *,
        cases: pd.DataFrame,
        exposures: Iterable[ExposureEvent],
        crowd: pd.DataFrame,
        resolution: int | None = None,
        data_dir: Path | None = None,
        cache_dir: Path | None = None,
        kernel: KernelParams | None = None,
        positivity_pct: float | None = KOREA_POSITIVITY_PCT,
        ascertainment: float | None = None,
        budget_ucov: float | None = None,
        forecaster: Any = None,
    ) -> RiskEngine:
        """Build from DataFrames and records (``CASE_COLUMNS``, ``ExposureEvent``s, ``CROWD_COLUMNS``).

        Cluster events of DS4C ``Case`` get their dated windows (``exposure.CLUSTER_WINDOWS``); the
        undated ones are left out and named in :attr:`notes`. ``forecaster`` (a loaded
        ``ansim.forecast.forecaster.Forecaster`` or the directory ``ansim train`` wrote) gives future
        times forecast cases and crowds; a directory without models leaves the engine without
        forecasts (persistence, as with None) and says so in :attr:`notes`.
        """
        from ansim.settings import get_settings

        settings = get_settings()
        d = data_dir or settings.data_dir
        cache = cache_dir if cache_dir is not None else settings.var_dir
        table = seoul_cells(resolution, data_dir=d, cache_dir=cache)
        events, undated = date_cluster_events(list(exposures))
        params = kernel or KernelParams(
            base_radius_m=settings.exposure_radius_m,
            retention_days=float(settings.exposure_retention_days),
        )
        regions = region_series(
            cases,
            table.gu_codes,
            positivity_pct=positivity_pct,
            ascertainment=ascertainment
            if ascertainment is not None
            else settings.ascertainment_factor,
        )
        crowd_model = crowd_mod.CrowdModel.build(crowd, table.gu_codes)
        zones = capital_zone_series(cases, data_dir=d)
        weights = crowd_mod.static_weights(
            table, places=crowd_mod.venue_points(events), data_dir=d, cache_dir=cache
        )
        gravity = _cached_gravity(d, table.gu_codes, cache)
        field_ = ExposureField.build(events, table, params)
        notes = []
        if undated:
            notes.append(f"{len(undated)} cluster site(s) without known dates left out")
        if field_.skipped:
            notes.append(f"{len(field_.skipped)} exposure event(s) outside Seoul or too vague")
        tables = None
        if forecaster is not None:
            tables, fc_notes = _forecast_tables(
                forecaster,
                regions=regions,
                data_dir=d,
                positivity_pct=positivity_pct,
                ascertainment=ascertainment
                if ascertainment is not None
                else settings.ascertainment_factor,
            )
            notes.extend(fc_notes)
        return cls(
            table=table,
            regions=regions,
            crowd=crowd_model,
            weights=weights,
            gravity=gravity,
            exposures=field_,
            budget_ucov=budget_ucov or settings.yearly_budget_ucov,
            notes=tuple(notes),
            zones=zones,
            forecasts=tables,
        )

    @classmethod
    def from_store(cls, engine: Any, *, use_cache: bool = True, **kwargs: Any) -> RiskEngine:
        """Build from the store's queries (cases, exposure events, crowd observations).

        With ``use_cache`` (default) the derived state is read from ``<cache_dir or var_dir>/risk_state``
        when the store has not changed since it was written (``ansim.risk.state``: keyed by the
        store's last batch and row counts, the options and the code), and written after a build.
        ``kwargs`` are those of :meth:`from_records`; with ``forecaster=`` the key also holds the
        models' metadata (``forecasts.fingerprint_of``), so a retrained model rebuilds the state.
        """
        from ansim.risk import state as state_mod
        from ansim.store import queries

        path = version = None
        if use_cache:
            version = queries.store_version(engine, tables=state_mod.STATE_TABLES)
            identity = state_mod.store_identity(
                engine.url.render_as_string(hide_password=True),
                engine.url.database,
                engine.url.get_backend_name(),
            )
            path, table_options = _state_location(identity, version, kwargs)
            loaded = state_mod.load_engine(path)
            if loaded is not None:
                return loaded
        table_codes = seoul_cells(
            kwargs.get("resolution"),
            data_dir=kwargs.get("data_dir"),
            cache_dir=kwargs.get("cache_dir"),
        ).gu_codes
        province_codes = tuple(r.code for r in _provinces(kwargs.get("data_dir")))
        cases = queries.case_counts(engine, region_codes=table_codes + province_codes)
        crowd = queries.crowd_observations(engine, areas=table_codes)
        events = queries.exposure_events(engine)
        built = cls.from_records(cases=cases, exposures=events, crowd=crowd, **kwargs)
        # save only if no batch landed while we read (else the key would name older data)
        if (
            path is not None
            and queries.store_version(engine, tables=state_mod.STATE_TABLES) == version
        ):
            state_mod.save_engine(built, path, table_options=table_options)
        return built

    @classmethod
    def from_state_cache(cls, db_url: str, **kwargs: Any) -> RiskEngine | None:
        """The cached state of the SQLite store at ``db_url`` if it is current, else None.

        Reads the store's version with the standard library's ``sqlite3`` (no SQLAlchemy, no pandas):
        the fast path of a cold ``ansim risk``. Same key as :meth:`from_store`; on None, call that.
        """
        from ansim.risk import state as state_mod

        found = state_mod.sqlite_version(db_url)
        if found is None:
            return None
        identity, version = found
        path, _ = _state_location(identity, version, kwargs)
        return state_mod.load_engine(path)

    # --- updates ------------------------------------------------------------------------------

    def add_exposures(self, events: Iterable[ExposureEvent]) -> None:
        """Add new exposure events (incremental: only their neighbourhoods are computed)."""
        dated, _ = date_cluster_events(list(events))
        self.exposures = self.exposures.with_events(dated, self.table)
        self._row_index = None
        self._flow_memo = None

    def expire(self, now: datetime) -> int:
        """Delete sites past retention (14 days after the last contact); returns how many."""
        before = self.exposures.size
        self.exposures = self.exposures.expire(now)
        if self.exposures.size != before:
            self._row_index = None
            self._flow_memo = None
        return before - self.exposures.size

    # --- evaluation ---------------------------------------------------------------------------

    def _reference_risk(self, day: date) -> float:
        return activity_risk(REFERENCE_ACTIVITY, variant=variant_on(day))

    def _crowd_rows(
        self, at: datetime, rows: np.ndarray | None
    ) -> tuple[np.ndarray, crowd_mod.GuCrowd]:
        gu = self._gu_crowd(at)
        hour, weekend = crowd_mod.hour_key(at, self.crowd.holidays)
        m = crowd_mod.activity_share(hour, weekend)
        g = self.table.gu_index if rows is None else self.table.gu_index[rows]
        res = self.weights.residents if rows is None else self.weights.residents[rows]
        act = self.weights.activity if rows is None else self.weights.activity[rows]
        people = gu.people[g] * ((1.0 - m) * res + m * act)
        return people, gu

    # --- forecasts ----------------------------------------------------------------------------

    def _case_forecast_row(self, day: date) -> int | None:
        """Row of the case forecast for ``day``, when it continues exactly the engine's case data."""
        f = self.forecasts
        if f is None or f.cases is None:
            return None
        origin = f.cases.series.origin.date()
        # a forecast from an older origin would ignore newer data the engine has: persistence then
        if origin != self.regions.last_day:
            return None
        k = (day - origin).days
        return k - 1 if 1 <= k <= f.cases.person_risk.shape[1] else None

    def _case_fc(self) -> fc_mod.CaseForecast:
        f = self.forecasts
        assert f is not None
        assert f.cases is not None
        return f.cases

    def _gu_crowd(self, at: datetime) -> crowd_mod.GuCrowd:
        """People per gu at ``at``: observed, else forecast (KT daily level, SKT hourly shape), else persistence."""
        gu = self.crowd.gu_at(at)
        f = self.forecasts
        if f is None or gu.basis == "kt-daily+skt-hour":
            return gu
        t = as_seoul(at)
        weekend = t.weekday() >= 5 or t.date() in self.crowd.holidays
        profile = self.crowd.profile[int(weekend), t.hour]
        skt = self._skt_forecast_shape(t)
        if gu.basis == "persistence":
            daily = f.crowd_daily
            if daily is None or daily.origin.date() != self.crowd.last_day:
                return gu
            k = daily.slot(t)
            if k is None:
                return gu
            ones = np.ones_like(profile)
            shape, r10, r90, basis = profile, ones, ones, "forecast:kt-daily"
            if skt is not None:
                shape, r10, r90 = skt
                basis = "forecast:kt-daily+skt-hourly"
            return crowd_mod.GuCrowd(
                daily.q50[k] * shape,
                gu.normal,
                basis,
                lower=daily.q10[k] * shape * r10,
                upper=daily.q90[k] * shape * r90,
            )
        if skt is None:  # an observed KT day without SKT hours and no SKT forecast for it
            return gu
        shape_h, r10_h, r90_h = skt
        level = self.crowd.daily[(t.date() - self.crowd.day0).days]
        people = level * shape_h
        return crowd_mod.GuCrowd(
            people, gu.normal, "kt-daily+skt-forecast", lower=people * r10_h, upper=people * r90_h
        )

    def _skt_forecast_shape(self, t: datetime) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(shape of the hour over the day, q10/q50, q90/q50) per gu from the SKT hourly forecast.

        Only for a day the forecast covers whole (the shape is the hour's share of the day's mean)
        and only when the forecast starts right after the crowd model's last SKT hour.
        """
        f = self.forecasts
        if f is None or f.crowd_hourly is None or self.crowd.hour0 is None:
            return None
        hourly = f.crowd_hourly
        seen = np.flatnonzero(np.all(np.isfinite(self.crowd.hourly_shape), axis=1))
        if seen.size == 0:
            return None
        last_hour = as_seoul(self.crowd.hour0) + timedelta(hours=int(seen[-1]))
        if last_hour != hourly.origin:
            return None
        start = t.replace(hour=0, minute=0, second=0, microsecond=0)
        k0 = hourly.slot(start)
        if k0 is None or hourly.slot(start + timedelta(hours=23)) is None:
            return None
        day = hourly.q50[k0 : k0 + 24]
        mean = day.mean(axis=0)
        q50 = day[t.hour]
        with np.errstate(divide="ignore", invalid="ignore"):
            shape = np.where(mean > 0, q50 / mean, 1.0)
            r10 = np.where(q50 > 0, hourly.q10[k0 + t.hour] / q50, 1.0)
            r90 = np.where(q50 > 0, hourly.q90[k0 + t.hour] / q50, 1.0)
        return shape, r10, r90

    def _gu_day_hours(self, day: date) -> np.ndarray:
        """People per gu at each hour of ``day`` (24, gu), with the forecasts where they apply."""
        start = datetime.combine(day, datetime.min.time(), tzinfo=SEOUL)
        if self.forecasts is None or "forecast" not in self._gu_crowd(start).basis:
            return self.crowd.gu_day_hours(day)
        return np.stack([self._gu_crowd(start + timedelta(hours=h)).people for h in range(24)])

    def _flow_load(self, t_s: float) -> np.ndarray:
        """Carriers arriving per gu at ``t_s`` (memoised for the last time asked)."""
        if self._flow_memo is not None and self._flow_memo[0] == t_s:
            return self._flow_memo[1]
        f = self.exposures
        if f.size == 0:
            load = np.zeros(len(self.table.gu_codes))
        else:
            active = flows_mod.carry_factor(
                f.start_s, f.end_s, t_s, retention_days=f.params.retention_days
            )
            carriers_ = flows_mod.carriers(f.raw_cases, active)
            load = flows_mod.zone_load(f.gu_index, carriers_, self.gravity.shares)
        self._flow_memo = (t_s, load)
        return load

    def _layers(
        self,
        at: datetime,
        rows: np.ndarray | None = None,
        *,
        activity_risk_value: float | None = None,
        t1: datetime | None = None,
    ) -> tuple[_Layers, dict[str, Any]]:
        t = as_seoul(at)
        day_row, ahead = self.regions.day_index(t.date())
        a = self._reference_risk(t.date()) if activity_risk_value is None else activity_risk_value
        people, gu = self._crowd_rows(t, rows)
        r = np.arange(len(self.table)) if rows is None else rows
        share = self._share[r]
        copresent = np.minimum(people, people * share)
        g = self.table.gu_index[r]
        fk = self._case_forecast_row(t.date()) if ahead else None
        if fk is None:
            community = self.regions.person_risk[day_row][g] * copresent * a
        else:
            pr3 = self._case_fc().person_risk[:, fk, :]
            community = pr3[1][g] * copresent * a
        # ratios of the 10 % / 90 % paths to the central value: prevalence and crowd, per row
        prev_lo = prev_hi = crowd_lo = crowd_hi = None
        if fk is not None:
            prev_lo, prev_hi = (pr3[0] / pr3[1])[g], (pr3[2] / pr3[1])[g]
        if gu.lower is not None and gu.upper is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                crowd_lo = np.where(gu.people > 0, gu.lower / gu.people, 1.0)[g]
                crowd_hi = np.where(gu.people > 0, gu.upper / gu.people, 1.0)[g]
        t_s = epoch_s(t)
        t1_s = epoch_s(t1) if t1 is not None else None
        if rows is None:
            presence = self.exposures.presence(len(self.table), t_s, t1_s)
        else:
            presence = self._presence_rows(rows, t_s, t1_s)
        site = presence * share * ONE_MILLION * a
        load = self._flow_load(t_s)
        hour, weekend = crowd_mod.hour_key(t, self.crowd.holidays)
        m = crowd_mod.activity_share(hour, weekend)
        dest_w = (1.0 - m) * self.weights.residents[r] + m * self.weights.activity[r]
        carried = flows_mod.carried_presence(load, g, dest_w)
        mobility = carried * share * ONE_MILLION * a
        info = {
            "day_row": day_row,
            "ahead": ahead,
            "crowd": gu,
            "activity_risk": a,
            "case_forecast_row": fk,
            "prevalence_ratio": None if prev_lo is None else (prev_lo, prev_hi),
        }
        layers = _Layers(community, site, mobility, people, copresent)
        if prev_lo is not None or crowd_lo is not None:
            lo = (1.0 if prev_lo is None else prev_lo) * (1.0 if crowd_lo is None else crowd_lo)
            hi = (1.0 if prev_hi is None else prev_hi) * (1.0 if crowd_hi is None else crowd_hi)
            layers.community_lower = community * lo
            layers.community_upper = community * hi
        return layers, info

    @staticmethod
    def _persistence_widening(info: dict[str, Any]) -> float:
        """microCOVID's ÷3 / ×3, widened by 25 % per day ahead unless forecast cases are used."""
        if info.get("case_forecast_row") is not None:
            return ERROR_FACTOR
        return ERROR_FACTOR * (1 + WIDENING_PER_DAY * info["ahead"])

    def _bounds(
        self, layers: _Layers, total: np.ndarray, info: dict[str, Any]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper µCoV of the totals: the forecasts' 10-90 % paths, then ÷3 / ×3."""
        widen = self._persistence_widening(info)
        if layers.community_lower is None or layers.community_upper is None:
            return total / widen, total * widen
        rest = layers.exposure_site + layers.mobility
        lower = self._combine(layers.community_lower + rest) / widen
        upper = self._combine(layers.community_upper + rest) * widen
        return lower, upper

    def _presence_rows(self, rows: np.ndarray, t0_s: float, t1_s: float | None) -> np.ndarray:
        """Presence in a few rows through the row index (only the events touching them)."""
        return np.array([self._presence_one(int(row), t0_s, t1_s)[0] for row in rows.tolist()])

    def _presence_one(
        self, row: int, t0_s: float, t1_s: float | None
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """(presence, event indices, their contributions) in one cell row."""
        order, starts = self._index()
        sel = order[starts[row] : starts[row + 1]]
        if sel.size == 0:
            return 0.0, np.zeros(0, dtype=np.int64), np.zeros(0)
        f = self.exposures
        ev = f.entry_event[sel]
        factor = f.cases[ev] * time_factor(f.start_s[ev], f.end_s[ev], t0_s, t1_s, params=f.params)
        contrib = f.entry_weight[sel] * factor
        return float(contrib.sum()), ev.astype(np.int64), contrib

    def _index(self) -> tuple[np.ndarray, np.ndarray]:
        """Entries sorted by cell row, with CSR offsets (rebuilt lazily after updates)."""
        if self._row_index is None:
            f = self.exposures
            order = np.argsort(f.entry_row, kind="stable")
            starts = np.searchsorted(f.entry_row[order], np.arange(len(self.table) + 1))
            self._row_index = (order, starts)
        return self._row_index

    @staticmethod
    def _combine(total: np.ndarray) -> np.ndarray:
        """microCOVID's product form above 100,000 µCoV."""
        return np.where(total < MAX_POINTS, total, ONE_MILLION * -np.expm1(-total / ONE_MILLION))

    def ucov_per_hour(self, cells: npt.ArrayLike, at: datetime) -> np.ndarray:
        """µCoV a person accumulates per hour in each H3 cell at ``at`` (reference activity).

        Cells outside Seoul give NaN. This is the ``RiskField`` protocol routing uses.
        """
        rows = self.table.index_of(cells)
        ok = rows >= 0
        out = np.full(rows.size, np.nan)
        if ok.any():
            layers, _ = self._layers(at, rows[ok])
            out[ok] = self._combine(layers.community + layers.exposure_site + layers.mobility)
        return out

    def level_of_ucov(self, ucov: npt.ArrayLike) -> np.ndarray:
        """Band keys (``very_low`` … ``dangerous``) on the engine's budget."""
        x = np.nan_to_num(np.asarray(ucov, dtype=float), nan=0.0)
        names = np.array([b.key for b in BANDS], dtype=object)
        return names[band_index(x, budget_ucov=self.budget_ucov)]

    def field(self, at: datetime) -> dict[str, np.ndarray]:
        """Every Seoul cell at ``at``: ``ucov`` and each component (arrays aligned with the table)."""
        layers, _ = self._layers(at)
        total = self._combine(layers.community + layers.exposure_site + layers.mobility)
        return {
            "ucov": total,
            "community": layers.community,
            "exposure_site": layers.exposure_site,
            "mobility": layers.mobility,
            "people": layers.people,
        }

    def grid(
        self,
        bbox: tuple[float, float, float, float] | None,
        at: datetime,
        resolution: int | None = None,
    ) -> dict[str, np.ndarray]:
        """Cells in ``bbox`` = (south, west, north, east) (None: all of Seoul) with µCoV and level.

        ``resolution`` coarser than the engine's aggregates by the mean over child cells.
        Returns arrays ``cell`` (uint64), ``ucov``, ``lower``, ``upper``, ``level`` (band key).
        """
        rows = None if bbox is None else self.table.in_bbox(*bbox)
        if rows is not None and rows.size == 0:
            raise OutOfCoverageError("the box contains no Seoul cell", field="bbox")
        layers, info = self._layers(at, rows)
        total = self._combine(layers.community + layers.exposure_site + layers.mobility)
        cells = self.table.cells if rows is None else self.table.cells[rows]
        bounds = None
        if layers.community_lower is not None:
            bounds = self._bounds(layers, total, info)
        if resolution is not None and resolution != self.table.resolution:
            if resolution > self.table.resolution:
                raise InputError(
                    f"finest resolution is {self.table.resolution}", field="resolution"
                )
            import h3.api.numpy_int as h3n

            parents = np.fromiter(
                (h3n.cell_to_parent(int(c), resolution) for c in cells.tolist()),
                np.uint64,
                cells.size,
            )
            cells, inv = np.unique(parents, return_inverse=True)
            counts = np.bincount(inv)
            total = np.bincount(inv, total) / counts
            if bounds is not None:
                bounds = (
                    np.bincount(inv, bounds[0]) / counts,
                    np.bincount(inv, bounds[1]) / counts,
                )
        if bounds is None:
            widen = self._persistence_widening(info)
            bounds = (total / widen, total * widen)
        return {
            "cell": cells,
            "ucov": total,
            "lower": bounds[0],
            "upper": bounds[1],
            "level": self.level_of_ucov(total),
        }

    # --- point assessment ---------------------------------------------------------------------

    def assess(
        self,
        lat: float,
        lon: float,
        at: datetime,
        activity: Activity | None = None,
        *,
        people: float | None = None,
        variant: str | None = None,
    ) -> Assessment:
        """Risk of a visit at a point and time; without ``activity``, the reference visit.

        ``people`` (the person's own count of others present) replaces the crowd layer's estimate.
        """
        from ansim.risk import explain as explain_mod
        from ansim.risk.visit import Variant, parse_choice

        row = self.table.locate(lat, lon)
        t = as_seoul(at)
        act = activity or REFERENCE_ACTIVITY
        era = parse_choice(Variant, variant, "variant") if variant else variant_on(t.date())
        a = activity_risk(act, variant=era)
        duration_s = act.duration_min * 60.0
        t1 = t + timedelta(seconds=duration_s) if duration_s > 0 else None
        rows = np.array([row])
        layers, info = self._layers(t, rows, activity_risk_value=a, t1=t1)
        comp = {
            "community": float(layers.community[0]),
            "exposure_site": float(layers.exposure_site[0]),
            "mobility": float(layers.mobility[0]),
        }
        # the community component along the forecasts' 10 % / 90 % paths (ratios; 1 without)
        comm_lo = comm_hi = 1.0
        if layers.community_lower is not None and layers.community_upper is not None:
            c = float(layers.community[0])
            comm_lo = float(layers.community_lower[0]) / c if c > 0 else 1.0
            comm_hi = float(layers.community_upper[0]) / c if c > 0 else 1.0
        expected_people = float(layers.copresent[0])
        if people is not None:
            if not math.isfinite(people) or people < 0:
                raise InputError(f"must be a count >= 0, got {people!r}", field="people")
            scale = people / expected_people if expected_people > 0 else 0.0
            comp = {k: v * scale for k, v in comp.items()}
            # the person's own count replaces the crowd: only the prevalence range stays
            prev = info["prevalence_ratio"]
            comm_lo = comm_hi = 1.0
            if prev is not None:
                comm_lo, comm_hi = float(prev[0][0]), float(prev[1][0])
        total = float(self._combine(np.array([sum(comp.values())]))[0])
        widen = self._persistence_widening(info)
        ratio = dict.fromkeys(comp, (1.0, 1.0))
        ratio["community"] = (comm_lo, comm_hi)
        rest = comp["exposure_site"] + comp["mobility"]
        lower = float(self._combine(np.array([comp["community"] * comm_lo + rest]))[0]) / widen
        upper = float(self._combine(np.array([comp["community"] * comm_hi + rest]))[0]) * widen
        if comm_lo == 1.0 and comm_hi == 1.0:
            lower, upper = total / widen, total * widen
        band = band_of(total, budget_ucov=self.budget_ucov)
        gi = int(self.table.gu_index[row])
        region = self.region_info(self.table.gu_codes[gi], t.date())
        context = self._driver_context(
            row, t, region, expected_people if people is None else people
        )
        by_hour = self._people_by_hour(row, t)
        crowd_info = explain_mod.CrowdInfo(
            people_now=expected_people, by_hour=by_hour, hour_now=t.hour
        )
        explanation = explain_mod.explain(
            comp,
            activity=act,
            variant=era,
            crowd=crowd_info,
            context=context,
            budget_ucov=self.budget_ucov,
        )
        drivers: list[dict[str, Any]] = []
        for d in explanation.drivers:
            r_lo, r_hi = ratio.get(d.key, (1.0, 1.0))
            d_lo, d_hi = d.ucov * r_lo / widen, d.ucov * r_hi * widen
            drivers.append(
                {
                    "key": d.key,
                    "ucov": {"value": d.ucov, "lower": d_lo, "upper": d_hi, "unit": "µCoV"},
                    "share": {"value": d.share, "unit": "fraction"},
                    "reason_en": f"{d.reason_en} Adds about {d.ucov:,.1f} µCoV "
                    f"(range {d_lo:,.1f}-{d_hi:,.1f} µCoV) to this visit.",
                    "reason_ko": f"{d.reason_ko} 이 방문의 위험을 약 {d.ucov:,.1f} µCoV "
                    f"(범위 {d_lo:,.1f}-{d_hi:,.1f} µCoV) 높입니다.",
                }
            )
        gu_crowd: crowd_mod.GuCrowd = info["crowd"]
        if info["ahead"] == 0:
            prevalence_basis = "observed"
        elif info["case_forecast_row"] is not None:
            prevalence_basis = (
                f"forecast ({info['ahead']} day(s) ahead: per-gu case model, median with its "
                "10-90% range)"
            )
        else:
            prevalence_basis = f"persistence ({info['ahead']} day(s) ahead, uncertainty widened)"
        basis = {
            "prevalence": prevalence_basis,
            "crowd": gu_crowd.basis,
            "activity": "reference visit (1 h indoors, normal distance and voice, no masks)"
            if activity is None
            else "given",
            "variant": era.value,
        }
        forecast_driver = self._forecast_driver(info, region, gi, gu_crowd)
        if forecast_driver is not None:
            drivers.append(forecast_driver)
        advice = [
            {
                "key": adv.key,
                "ucov_after": {"value": adv.ucov_after, "unit": "µCoV"},
                "ucov_saved": {"value": adv.ucov_saved, "unit": "µCoV"},
                "text_en": adv.text_en,
                "text_ko": adv.text_ko,
            }
            for adv in explanation.advice
        ]
        return Assessment(
            cell=cell_to_hex(self.table.cells[row]),
            at=t,
            ucov=total,
            lower=lower,
            upper=upper,
            components=comp,
            level=band.key,
            level_ko=band.name_ko,
            drivers=drivers,
            region=region,
            advice=advice,
            basis=basis,
        )

    def _forecast_driver(
        self, info: dict[str, Any], region: dict[str, Any], gi: int, gu_crowd: crowd_mod.GuCrowd
    ) -> dict[str, Any] | None:
        """The ``forecast`` driver: what is forecast (cases, crowd) with its 10-90 % range, or why not."""
        ahead = int(info["ahead"])
        crowd_forecast = "forecast" in gu_crowd.basis
        if not ahead and not crowd_forecast:
            return None
        name_en, name_ko = self.regions.names_en[gi], self.regions.names_ko[gi]
        en: list[str] = []
        ko: list[str] = []
        data: dict[str, Any] = {}
        fk = info["case_forecast_row"]
        if ahead:
            last = self.regions.last_day.isoformat()
            en.append(f"{ahead} day(s) past the latest case data ({last}).")
            ko.append(f"최신 확진 자료({last})보다 {ahead}일 뒤입니다.")
        if fk is not None:
            cf = self._case_fc()
            day = [float(q[fk, gi]) for q in (cf.series.q10, cf.series.q50, cf.series.q90)]
            week = [float(w) for w in cf.cases_past_week[:, fk, gi]]
            trained = cf.series.trained_to[:10]
            en.append(
                f"Forecast new cases in {name_en}: {day[1]:.1f} a day (80% range "
                f"{day[0]:.1f}-{day[2]:.1f}), {week[1]:.0f} in the last 7 days "
                f"({week[0]:.0f}-{week[2]:.0f}); a LightGBM quantile model trained on data to {trained}."
            )
            ko.append(
                f"{name_ko} 신규 확진자 예측: 하루 {day[1]:.1f}명 (80% 범위 {day[0]:.1f}-{day[2]:.1f}명), "
                f"최근 7일 {week[1]:.0f}명 ({week[0]:.0f}-{week[2]:.0f}명). {trained}까지의 자료로 학습한 "
                "LightGBM 분위수 모델입니다."
            )
            data["cases_per_day"] = {
                "value": day[1],
                "lower": day[0],
                "upper": day[2],
                "unit": "new cases (median, 10-90% quantiles)",
            }
            data["cases_7d"] = {
                "value": week[1],
                "lower": week[0],
                "upper": week[2],
                "unit": "cases in the 7 days to this day (observed + forecast)",
            }
            data["cases_model_trained_to"] = trained
        elif ahead:
            if self.forecasts is None:
                why_en, why_ko = "no forecast model loaded", "예측 모델이 없어"
            else:
                why_en = "the case forecast model does not continue the latest data; retrain with `ansim train`"
                why_ko = "확진자 예측 모델이 최신 자료에 이어지지 않아(`ansim train`으로 다시 학습)"
            en.append(f"Today's prevalence is carried forward ({why_en}), so the range is wider.")
            ko.append(f"{why_ko} 현재 유행 수준을 그대로 적용해 범위가 더 넓습니다.")
        if crowd_forecast and gu_crowd.lower is not None and gu_crowd.upper is not None:
            p = [float(gu_crowd.lower[gi]), float(gu_crowd.people[gi]), float(gu_crowd.upper[gi])]
            hourly = "skt" in gu_crowd.basis
            src_en = "SK Telecom hourly model" if hourly else "KT daily model"
            src_ko = "SK텔레콤 시간별 모델" if hourly else "KT 일별 모델"
            en.append(
                f"Forecast people present in {name_en} this hour: {p[1]:,.0f} "
                f"(80% range {p[0]:,.0f}-{p[2]:,.0f}; {src_en})."
            )
            ko.append(
                f"{name_ko} 이 시간 체류 인구 예측: {p[1]:,.0f}명 (80% 범위 {p[0]:,.0f}-{p[2]:,.0f}명, {src_ko})."
            )
            data["people"] = {
                "value": p[1],
                "lower": p[0],
                "upper": p[2],
                "unit": "people present in the gu (median, 10-90% quantiles)",
            }
        out: dict[str, Any] = {
            "key": "forecast",
            "ucov": None,
            "share": None,
            "reason_en": " ".join(en),
            "reason_ko": " ".join(ko),
        }
        if data:
            out["forecast"] = data
        return out

    def _people_by_hour(self, row: int, t: datetime) -> dict[int, float]:
        """Expected co-present people at each hour of the same day (for the less-crowded-hour advice)."""
        hours = self._gu_day_hours(t.date())[:, int(self.table.gu_index[row])]
        weekend = crowd_mod.hour_key(t, self.crowd.holidays)[1]
        res, act = self.weights.residents[row], self.weights.activity[row]
        share = float(self._share[row])
        out: dict[int, float] = {}
        for h in range(24):
            m = crowd_mod.activity_share(h, weekend)
            people = float(hours[h]) * ((1.0 - m) * res + m * act)
            out[h] = min(people, people * share)
        return out

    def _driver_context(
        self, row: int, t: datetime, region: dict[str, Any], people: float
    ) -> dict[str, dict[str, object]]:
        """The facts each driver's reason quotes, with Korean names under ``<field>_ko``."""
        ctx: dict[str, dict[str, object]] = {
            "community": {
                "region": region["name_en"],
                "region_ko": region["name"],
                "incidence_per_100k": region["incidence_per_100k"]["value"],
                "people": people,
            }
        }
        total, ev, contrib = self._presence_one(row, epoch_s(t), None)
        if total > 0:
            e = self.exposures.events[int(ev[np.argmax(contrib)])]
            start, end = as_seoul(e.start), as_seoul(e.end)
            hours_ago = max(0.0, (t - start).total_seconds() / 3600)
            if end - start <= timedelta(hours=2):  # a timed visit: "5 hours ago"
                when, when_ko = f"{hours_ago:.0f} hours ago", f"{hours_ago:.0f}시간 전"
            else:  # a dated day or a cluster's weeks: "on D" / "between D1 and D2"
                when = flows_mod.describe_when(start, end)
                when_ko = flows_mod.describe_when(start, end, "ko")
            ctx["exposure_site"] = {
                **_site_names(e),
                "hours_ago": hours_ago,
                "when": when,
                "when_ko": when_ko,
                "radius_m": float(e.radius_m),
            }
        mobility = self._mobility_context(row, t)
        if mobility:
            ctx["mobility"] = mobility
        return ctx

    def _mobility_context(self, row: int, t: datetime) -> dict[str, object]:
        """The exposure site whose carriers most reach this cell's gu, told as a flow of people.

        "About 160 of the 800 people who were near Euljiro at … went on to Yeoksam": people near
        the site = the crowd in its kernel cells at the visit's start; share = the gravity model's
        ``P[origin gu, this gu]``.
        """
        t_s = epoch_s(t)
        if self._flow_load(t_s).sum() <= 0:
            return {}
        f = self.exposures
        gi = int(self.table.gu_index[row])
        active = flows_mod.carry_factor(
            f.start_s, f.end_s, t_s, retention_days=f.params.retention_days
        )
        ok = np.flatnonzero((active > 0) & (f.gu_index >= 0))
        if ok.size == 0:
            return {}
        reach = f.raw_cases[ok] * self.gravity.shares[f.gu_index[ok], gi]
        k = int(ok[int(np.argmax(reach))])
        origin = int(f.gu_index[k])
        share = float(self.gravity.shares[origin, gi])
        e = self.exposures.events[k]
        out: dict[str, object] = {
            "origin": self.regions.names_en[origin],
            "origin_ko": self.regions.names_ko[origin],
            "flow_share": share,
        }
        rows = f.entry_row[f.entry_event == k]
        start, end = as_seoul(e.start), as_seoul(e.end)
        # the crowd at the visit: its middle for a visit of a day or less (a dated PatientRoute day
        # has no hour), else the asked time within the window (a cluster open for weeks)
        if end - start <= timedelta(days=1):
            visit_t = start + (end - start) / 2
        else:
            visit_t = min(max(as_seoul(t), start), end - timedelta(hours=1))
        try:
            people_near, _ = self._crowd_rows(visit_t, rows)
        except OutOfCoverageError:  # the visit is before the crowd data: keep the short sentence
            return out
        around = float(people_near.sum())
        names = _site_names(e)
        dest_en, dest_ko = self.regions.names_en[gi], self.regions.names_ko[gi]
        if origin == gi:
            dest_en, dest_ko = f"other places in {dest_en}", f"{dest_ko}의 다른 곳"
        out["flow"] = flows_mod.describe_flow(
            people_around=around,
            share=share,
            origin=f"{names['site']} ({self.regions.names_en[origin]})",
            destination=dest_en,
            at=start,
            until=end,
        )
        out["flow_ko"] = flows_mod.describe_flow(
            people_around=around,
            share=share,
            origin=f"{names['site_ko']}({self.regions.names_ko[origin]})",
            destination=dest_ko,
            at=start,
            until=end,
            lang="ko",
        )
        return out

    # --- regions --------------------------------------------------------------------------------

    def _distancing(self, i: int, day: date) -> tuple[Any, dict[str, Any]]:
        """The distancing level for Seoul's gu on ``day`` (data row ``i``), with what it was judged on.

        Five-level system: the capital-region zone (Seoul + Incheon + Gyeonggi), with the nationwide
        average and the zones at 1.5 for a week, from the province series when it covers the week;
        otherwise Seoul's own cases stand for the zone. Four-level system: Seoul's weekly average per
        100,000 (Seoul was one region of that system).
        """
        seoul_avg = float(self.regions.cases_past_week[i].sum()) / 7
        seoul_pop = float(self.regions.population.sum())
        system = rule_set_on(day)[0]
        data_day = self.regions.day0 + timedelta(days=i)
        zone = (
            self.zones.at(data_day) if self.zones is not None and system == "five_level" else None
        )
        if zone is not None:
            dist = distancing_level(
                on=day,
                weekly_avg_local_cases=seoul_avg,
                population=seoul_pop,
                zone="capital",
                zone_weekly_avg_local_cases=zone.weekly_avg_cases,
                national_weekly_avg_local_cases=zone.national_weekly_avg_cases,
                zones_at_1_5_for_a_week=zone.zones_at_1_5_for_a_week,
            )
            return dist, {
                "area": "capital region (Seoul, Incheon, Gyeonggi)",
                "weekly_avg_cases": {
                    "value": zone.weekly_avg_cases,
                    "unit": "cases per day (7-day average, all confirmed)",
                },
                "national_weekly_avg_cases": {
                    "value": zone.national_weekly_avg_cases,
                    "unit": "cases per day (7-day average, all confirmed)",
                },
                "zones_at_1_5_for_a_week": zone.zones_at_1_5_for_a_week,
                "source": zone.source,
                "note": "judged on the capital-region zone (Seoul, Incheon, Gyeonggi) and the nationwide "
                "average of all confirmed cases (imported cases included: the stored feeds do not split them)",
            }
        dist = distancing_level(
            on=day,
            weekly_avg_local_cases=seoul_avg,
            population=seoul_pop,
            zone="capital",
        )
        if system == "five_level":
            note = "judged on Seoul's own cases: no province series covers this week (the capital-region zone would add Incheon and Gyeonggi)"
        else:
            note = "judged on Seoul's weekly average per 100,000 residents"
        return dist, {
            "area": "Seoul",
            "weekly_avg_cases": {"value": seoul_avg, "unit": "cases per day (7-day average)"},
            "population": seoul_pop,
            "source": "seoul gu series",
            "note": note,
        }

    def region_info(self, code: str, day: date) -> dict[str, Any]:
        """Incidence, Rt, person risk and distancing level of a gu on a day (public JSON shape)."""
        if code not in self.regions.gu_codes:
            raise InputError(f"not a Seoul gu: {code!r}", field="region")
        j = self.regions.gu_codes.index(code)
        i, ahead = self.regions.day_index(day)
        dist, basis = self._distancing(i, day)
        rt = (
            float(self.regions.rt_mean[i, j]),
            float(self.regions.rt_q025[i, j]),
            float(self.regions.rt_q975[i, j]),
        )
        inc = float(self.regions.incidence_per_100k[i, j])
        week = float(self.regions.cases_past_week[i, j])
        pr = (
            float(self.regions.person_risk[i, j]),
            float(self.regions.person_risk_lower[i, j]),
            float(self.regions.person_risk_upper[i, j]),
        )
        inc_lo = inc_hi = inc
        week_range: dict[str, float] = {}
        date_shown = self.regions.day0 + timedelta(days=i)
        fk = self._case_forecast_row(day) if ahead else None
        if fk is not None:
            cf = self._case_fc()
            w = cf.cases_past_week[:, fk, j]
            per = 1e5 / float(self.regions.population[j])
            inc_lo, inc, inc_hi = (float(x) * per for x in w)
            week = float(w[1])
            week_range = {"lower": float(w[0]), "upper": float(w[2])}
            pr = (
                float(cf.person_risk[1, fk, j]),
                float(cf.person_risk_lower[fk, j]),
                float(cf.person_risk_upper[fk, j]),
            )
            date_shown = day
        out = {
            "code": code,
            "name": self.regions.names_ko[j],
            "name_en": self.regions.names_en[j],
            "date": date_shown.isoformat(),
            "days_ahead": ahead,
            "incidence_per_100k": {
                "value": inc,
                "lower": inc_lo,
                "upper": inc_hi,
                "unit": "confirmed cases per 100,000 residents in the last 7 days",
            },
            "new_cases_7d": {"value": week, **week_range, "unit": "cases"},
            "person_risk": {
                "value": pr[0],
                "lower": pr[1],
                "upper": pr[2],
                "unit": "µCoV (chance a random resident is infectious, in millionths)",
            },
            "rt": {
                "value": None if math.isnan(rt[0]) else rt[0],
                "lower": None if math.isnan(rt[1]) else rt[1],
                "upper": None if math.isnan(rt[2]) else rt[2],
                "unit": "secondary cases per case (posterior mean, 95% interval)",
            },
            "distancing_level": {
                "system": dist.system,
                "level": dist.level,
                "official": dist.official,
                "note": f"{dist.note}; {basis.pop('note')}",
                "basis": basis,
                "name_ko": getattr(dist.rule, "name_ko", ""),
                "name_en": getattr(dist.rule, "name_en", ""),
                "rules_ko": list(getattr(dist.rule, "restrictions_ko", ())),
                "rules_en": list(getattr(dist.rule, "restrictions_en", ())),
            },
        }
        if fk is not None:
            series = self._case_fc().series
            out["forecast"] = {
                "basis": "forecast",
                "new_cases": {
                    "value": float(series.q50[fk, j]),
                    "lower": float(series.q10[fk, j]),
                    "upper": float(series.q90[fk, j]),
                    "unit": "new cases on the day (median, 10-90% quantiles)",
                },
                "model_trained_to": series.trained_to[:10],
                "note": "incidence and person risk from the observed days and the forecast; Rt and "
                f"the distancing level are those of the latest data day ({self.regions.last_day})",
            }
        return out


PLACE_TYPES_KO = {
    "restaurant": "식당",
    "cafe": "카페",
    "store": "상점",
    "church": "교회",
    "pc_cafe": "PC방",
    "school": "학교",
    "academy": "학원",
    "bar": "주점",
    "gym": "체육시설",
    "karaoke": "노래연습장",
    "bakery": "제과점",
    "bank": "은행",
    "pharmacy": "약국",
    "lodging": "숙박시설",
    "beauty_salon": "미용실",
    "university": "대학교",
    "post_office": "우체국",
    "gas_station": "주유소",
    "park": "공원",
    "real_estate_agency": "부동산",
    "hospital": "병원",
    "public_transportation": "대중교통",
    "alert_venue": "재난문자에 공개된 장소",
}
"""Korean names of the exposure-event place types (DS4C PatientRoute and the alert parser)."""
PLACE_TYPES_EN = {
    "public_transportation": "public transport stop",
    "alert_venue": "place named in a disaster message",
    "pc_cafe": "PC bang",
}
"""English names where the type key does not read as one."""


def _site_names(e: ExposureEvent) -> dict[str, str]:
    """How a reason names an exposure site, in English (``site``) and Korean (``site_ko``)."""
    if e.place_name:
        return {"site": e.place_name, "site_ko": e.place_name}
    kind = "" if e.place_type in ("", "etc", "cluster") else e.place_type
    if not kind:
        return {"site": "a place nearby", "site_ko": "근처 장소"}
    return {
        "site": f"a {PLACE_TYPES_EN.get(kind, kind.replace('_', ' '))} nearby",
        "site_ko": f"근처 {PLACE_TYPES_KO.get(kind, '장소')}",
    }


def _provinces(data_dir: Path | None = None) -> list[Any]:
    from ansim.geo.regions import all_regions

    return [r for r in all_regions(data_dir=data_dir) if r.level == "province"]


def capital_zone_series(cases: pd.DataFrame, *, data_dir: Path | None = None) -> ZoneSeries | None:
    """Province rows of ``cases`` (``CASE_COLUMNS``) as zone series; None without province rows."""
    import pandas as pd

    province_zone = {r.code: str(r.zone_2020) for r in _provinces(data_dir) if r.zone_2020}
    rows = cases[cases["region_code"].isin(province_zone)]
    if rows.empty:
        return None
    return zone_series(
        rows["region_code"].to_numpy(),
        pd.to_datetime(rows["date"]).to_numpy().astype("datetime64[D]"),
        rows["new_cases"].to_numpy(float),
        rows["source"].to_numpy(),
        province_zone=province_zone,
    )


def _state_location(
    identity: str, version: dict[str, int], kwargs: dict[str, Any]
) -> tuple[Path, dict[str, str]]:
    """(state file, table options) for a store and the :meth:`RiskEngine.from_records` options.

    The key covers everything besides the store's rows that changes what is built.
    """
    from ansim.risk import state as state_mod
    from ansim.settings import get_settings

    settings = get_settings()
    cache_dir = kwargs.get("cache_dir")
    cache = Path(cache_dir) if cache_dir is not None else settings.var_dir
    table = {"data_dir": str(kwargs.get("data_dir") or settings.data_dir), "cache_dir": str(cache)}
    kernel = kwargs.get("kernel")
    asc = kwargs.get("ascertainment")
    options = {
        **table,
        "resolution": int(kwargs.get("resolution") or settings.h3_resolution),
        "kernel": None if kernel is None else repr(kernel),
        "exposure_radius_m": settings.exposure_radius_m,
        "retention_days": settings.exposure_retention_days,
        "positivity_pct": kwargs.get("positivity_pct", KOREA_POSITIVITY_PCT),
        "ascertainment": asc if asc is not None else settings.ascertainment_factor,
        "budget_ucov": kwargs.get("budget_ucov") or settings.yearly_budget_ucov,
        "forecast_models": fc_mod.fingerprint_of(kwargs.get("forecaster")),
    }
    key = state_mod.state_key(version, url=identity, options=options)
    return state_mod.state_path(cache, key), table


def _forecast_tables(
    forecaster: Any,
    *,
    regions: RegionSeries,
    data_dir: Path,
    positivity_pct: float | None,
    ascertainment: float | None,
) -> tuple[fc_mod.ForecastTables | None, list[str]]:
    """Forecast tables from a ``Forecaster`` or a model directory (None when it holds no models)."""
    if isinstance(forecaster, str | Path):
        # no models: the same engine as without ``forecaster`` (same state-cache key, no note)
        if fc_mod.models_fingerprint(forecaster) is None:
            return None, []
        from ansim.forecast.forecaster import Forecaster

        forecaster = Forecaster.load(forecaster, data_dir=data_dir)
    return fc_mod.tables_from_forecaster(
        forecaster,
        gu_codes=regions.gu_codes,
        new_cases=regions.new_cases,
        cases_last_day=regions.last_day,
        population=regions.population,
        positivity_pct=positivity_pct,
        ascertainment=ascertainment,
    )


_GRAVITY: dict[tuple[str, tuple[str, ...]], flows_mod.GravityModel] = {}


def _cached_gravity(
    data_dir: Path, gu_codes: tuple[str, ...], cache_dir: Path | None = None
) -> flows_mod.GravityModel:
    """The calibrated gravity model: memory, then ``<var>/gravity_seoul.npz``, then fit."""
    key = (str(data_dir), gu_codes)
    if key in _GRAVITY:
        return _GRAVITY[key]
    source = data_dir / "crowd" / "seoul_spop_gu_daily_20180405_20200531.csv.gz"
    stamp = f"{source.stat().st_size}:{','.join(gu_codes)}"
    path = cache_dir / "gravity_seoul.npz" if cache_dir is not None else None
    model = None
    if path is not None and path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["stamp"]) == stamp:
                    model = flows_mod.GravityModel(
                        gu_codes, z["shares"], float(z["beta"]), float(z["rmse"])
                    )
        except (OSError, KeyError, ValueError):
            model = None
    if model is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            model = flows_mod.seoul_gravity(data_dir, gu_codes)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.savez(
                    path,
                    stamp=np.asarray(stamp),
                    shares=model.shares,
                    beta=model.beta_per_km,
                    rmse=model.fit_rmse_rel,
                )
            except OSError:
                pass
    _GRAVITY[key] = model
    return model


def rank_percentile(values: np.ndarray, row: int) -> float:
    """Share of cells with a strictly higher value than ``values[row]`` (0 = the top cell)."""
    return float(np.mean(values > values[row]))
