"""Series preparation and feature matrices for the crowd and case forecasters.

A *panel* is a regular grid of periods (hourly or daily, Seoul time) × areas. Building one from the
canonical long frames (``CROWD_COLUMNS`` / ``CASE_COLUMNS``) detects duplicated periods and gaps;
:func:`repair_panel` then detects and repairs glitches (whole periods or single cells with doubled,
halved or missing counts) with a rule that only looks *backwards*, so repairing a series and then
cutting it at an origin gives the same values as cutting first. Every action is reported as a note.

Features follow a direct multi-horizon design: one row per (origin, horizon, area), where every
feature is computed from periods ``<= origin`` and the horizon is itself a feature. The regression
target is the log change of the target period against a *base* (the day-type profile for hourly
crowds, the seasonal-naive value for daily crowds, the pooled weekday-adjusted estimate for cases;
see :mod:`ansim.forecast.profiles`), so a global model pooled across areas learns corrections to a
sensible baseline rather than absolute levels.
"""

from __future__ import annotations

import gzip
import json
import math
import warnings
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Literal

import holidays
import numpy as np
import pandas as pd

from ansim.errors import InputError
from ansim.forecast import profiles

Kind = Literal["crowd", "cases"]
SEOUL_TZ = "Asia/Seoul"
HOUR_S = 3600
DAY_S = 86400

# Thresholds of the glitch detector (ratio of a cell to its same-period median of recent weeks).
_HIGH_RATIO = 1.7  # a doubled cell is ~2.0; legitimate weekly swings of crowds stay within ±20 %
_LOW_RATIO = 0.55  # a halved or missing cell; Seollal days drop to ~0.85 (hours to ~0.7)
_MIN_VOLATILITY = 0.01  # log units: a 1% week-over-week change, the calmest crowd series
_FROZEN_RATIO = 0.1  # citywide hourly change / its usual size at that hour of the week
_CASES_MISSING_MIN_MEAN = (
    10.0  # a zero day for the whole panel is a missing report above this level
)


@dataclass(frozen=True)
class Panel:
    """A regular series grid: ``values[t, a]`` for period ``index[t]`` and area ``areas[a]``.

    ``values`` holds floats with NaN for missing cells; ``index`` holds period starts in Seoul time.
    """

    kind: Kind
    period_s: int
    index: pd.DatetimeIndex
    areas: tuple[str, ...]
    values: np.ndarray
    notes: tuple[str, ...] = ()

    @property
    def season(self) -> int:
        """Periods per week (168 hourly, 7 daily): the seasonal-naive lag."""
        return 7 * DAY_S // self.period_s

    @property
    def periods_per_day(self) -> int:
        return DAY_S // self.period_s

    def frame(self) -> pd.DataFrame:
        """The values as a DataFrame (periods × areas)."""
        return pd.DataFrame(self.values, index=self.index, columns=list(self.areas))

    def upto(self, origin: pd.Timestamp) -> Panel:
        """The panel cut after ``origin`` (inclusive): nothing later survives."""
        n = int(self.index.searchsorted(origin, side="right"))
        return replace(self, index=self.index[:n], values=self.values[:n].copy())

    def with_notes(self, *notes: str) -> Panel:
        return replace(self, notes=self.notes + tuple(notes))


@dataclass(frozen=True)
class Exog:
    """Exogenous daily covariates known at an origin: Seoul weather, policy steps, mobility."""

    weather: pd.DataFrame | None = None  # index: date (Timestamp, naive midnight); columns numeric
    policy: pd.DataFrame | None = None  # columns start (Timestamp), type, level
    mobility: pd.DataFrame | None = None  # index: date; columns: area codes; living population
    adjacency: dict[str, tuple[str, ...]] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Panel construction and repair


def panel_from_crowd(frame: pd.DataFrame, *, source: str = "crowd") -> Panel:
    """Build a crowd panel from ``CROWD_COLUMNS`` rows (one ``period_s`` only).

    Raises
    ------
    InputError
        When columns are missing, the frame is empty or mixes period lengths.
    """
    _require(frame, ("area", "period_start", "count"), source)
    period_s = _single_period(frame, source)
    starts = _to_seoul(frame["period_start"], source, "period_start")
    if period_s == DAY_S:
        starts = starts.dt.normalize()
    long = pd.DataFrame(
        {"area": frame["area"].astype(str), "t": starts, "v": frame["count"].astype(float)}
    )
    return _pivot(long, kind="crowd", period_s=period_s, source=source)


def panel_from_cases(frame: pd.DataFrame, *, source: str = "cases") -> Panel:
    """Build a daily case panel from ``CASE_COLUMNS`` rows."""
    _require(frame, ("region_code", "date", "new_cases"), source)
    try:
        t = pd.to_datetime(frame["date"].astype(str)).dt.tz_localize(SEOUL_TZ)
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a date column ({exc})", source=source, field="date") from None
    long = pd.DataFrame(
        {
            "area": frame["region_code"].astype(str),
            "t": t,
            "v": pd.to_numeric(frame["new_cases"], errors="coerce").astype(float),
        }
    )
    return _pivot(long, kind="cases", period_s=DAY_S, source=source)


def _require(frame: pd.DataFrame, columns: tuple[str, ...], source: str) -> None:
    for col in columns:
        if col not in frame.columns:
            raise InputError("missing column", source=source, field=col)
    if frame.empty:
        raise InputError("no rows", source=source)


def _single_period(frame: pd.DataFrame, source: str) -> int:
    if "period_s" not in frame.columns:
        raise InputError("missing column", source=source, field="period_s")
    periods = sorted({int(p) for p in frame["period_s"].unique()})
    if len(periods) != 1 or periods[0] not in (HOUR_S, DAY_S):
        raise InputError(
            f"expected one period length (3600 or 86400 s), found {periods}",
            source=source,
            field="period_s",
        )
    return periods[0]


def _to_seoul(col: pd.Series, source: str, name: str) -> pd.Series:
    try:
        t = pd.to_datetime(col)
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a time column ({exc})", source=source, field=name) from None
    if t.dt.tz is None:
        return t.dt.tz_localize(SEOUL_TZ)
    return t.dt.tz_convert(SEOUL_TZ)


def _pivot(long: pd.DataFrame, *, kind: Kind, period_s: int, source: str) -> Panel:
    notes: list[str] = []
    dup = long.duplicated(["t", "area"], keep="last")
    if dup.any():
        same = long[long.duplicated(["t", "area", "v"], keep=False)]
        notes.append(
            f"{source}: {int(dup.sum())} duplicated (period, area) rows; kept the last "
            f"({len(same) // 2} of them identical repeats)"
        )
        long = long[~dup]
    wide = long.pivot(index="t", columns="area", values="v").sort_index()
    freq = pd.Timedelta(seconds=period_s)
    full = pd.date_range(wide.index[0], wide.index[-1], freq=freq)
    missing_periods = len(full) - len(wide.index)
    if missing_periods:
        notes.append(
            f"{source}: {missing_periods} missing periods in the grid (gaps) of {len(full)}"
        )
    wide = wide.reindex(full)
    partial = int(np.isnan(wide.to_numpy()).sum()) - missing_periods * wide.shape[1]
    if partial > 0:
        notes.append(f"{source}: {partial} missing (period, area) cells outside whole-period gaps")
    return Panel(
        kind=kind,
        period_s=period_s,
        index=pd.DatetimeIndex(wide.index),
        areas=tuple(str(a) for a in wide.columns),
        values=wide.to_numpy(dtype=float),
        notes=tuple(notes),
    )


def repair_panel(panel: Panel) -> tuple[Panel, pd.DataFrame]:
    """Detect and repair glitches, looking only backwards from each period.

    Crowds: a cell is compared with the median of the same period in the previous four weeks; a
    ratio above 1.7 (doubled), below 0.55 (halved or missing; not on public holidays) or a gap
    is replaced by that reference times the period's common change (the median ratio of the
    unflagged cells), so a real citywide shift survives while one bad cell or day does not.
    Cases are bursty, so spikes are kept (features use robust medians); a whole day of zeros
    when the trailing mean is high, and gaps, become missing (NaN) and are skipped by features.

    Returns
    -------
    (panel, flags)
        The repaired panel (with notes) and one row per flagged cell: time, area, value, reason.
    """
    if panel.kind == "cases":
        return _repair_cases(panel)
    return _repair_crowd(panel)


def frozen_periods(values: np.ndarray, *, season: int, holiday: np.ndarray) -> np.ndarray:
    """Hours in which the whole feed stood still: the citywide median hour-to-hour change is under
    10% of its usual size at that hour of the week (median of up to four earlier weeks, holidays
    excluded), or under 20% right after such an hour. The SKT feed has such stretches (2020-02-08
    00:00–13:00, 2020-02-14 18:00–20:00): every gu drifts by < 0.1% an hour, values the provider
    filled in, not counts. Looks only backwards; never judged on holidays.
    """
    n_t = values.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.log(values)
    change = np.full(n_t, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        change[1:] = np.nanmedian(np.abs(np.diff(z, axis=0)), axis=1)
    frozen = np.zeros(n_t, dtype=bool)
    for t in range(1, n_t):
        refs = [t - k * season for k in range(1, 5) if t - k * season >= 1]
        refs = [r for r in refs if not holiday[r]]
        if len(refs) < 2 or holiday[t] or not np.isfinite(change[t]):
            continue
        usual = float(np.nanmedian(change[refs]))
        if usual <= 0 or not np.isfinite(usual):
            continue
        ratio = change[t] / usual
        frozen[t] = ratio < _FROZEN_RATIO or (frozen[t - 1] and ratio < 2 * _FROZEN_RATIO)
    return frozen


def _repair_crowd(panel: Panel) -> tuple[Panel, pd.DataFrame]:
    v = panel.values.copy()
    s = panel.season
    hol = calendar_frame(panel.index, panel.period_s)["is_holiday"].to_numpy() > 0
    frozen = (
        frozen_periods(v, season=s, holiday=hol)
        if panel.period_s < DAY_S
        else np.zeros(v.shape[0], dtype=bool)
    )
    rows: list[tuple[pd.Timestamp, str, float, str]] = []
    latest = 1.0  # the latest citywide change against the references, carried into frozen hours
    for t in range(v.shape[0]):
        # Reference: the same period in up to four earlier weeks, skipping holidays (a New Year's
        # Day reference would make the next ordinary Wednesday look doubled).
        refs = [t - k * s for k in range(1, 5) if t - k * s >= 0 and not hol[t - k * s]]
        if not refs:
            continue
        ref = np.nanmedian(v[refs], axis=0) if len(refs) > 1 else v[refs[0]]
        if np.all(np.isnan(ref)):
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = v[t] / ref
        bad_gap = np.isnan(v[t]) & ~np.isnan(ref)
        # Ratios need two references and are not judged on holidays (Seollal is real, not a glitch).
        judge = len(refs) >= 2 and not hol[t]
        bad_high = (ratio > _HIGH_RATIO) & judge
        bad_low = (ratio < _LOW_RATIO) & judge
        bad_frozen = np.full(v.shape[1], bool(frozen[t])) & ~np.isnan(ref)
        bad = bad_gap | bad_high | bad_low | bad_frozen
        good = ~bad & np.isfinite(ratio)
        common = float(np.median(ratio[good])) if good.sum() >= 3 else 1.0
        if good.sum() >= 3:
            latest = common
        elif frozen[t]:
            common = latest
        if not bad.any():
            continue
        for a in np.flatnonzero(bad):
            reason = (
                "gap"
                if bad_gap[a]
                else ("frozen" if bad_frozen[a] else ("high" if bad_high[a] else "low"))
            )
            rows.append((panel.index[t], panel.areas[a], float(v[t, a]), reason))
            v[t, a] = ref[a] * common
    flags = pd.DataFrame(rows, columns=["time", "area", "value", "reason"])
    notes = _flag_notes(panel, flags, "repaired to the same period of recent weeks")
    return replace(panel, values=v).with_notes(*notes), flags


def _repair_cases(panel: Panel) -> tuple[Panel, pd.DataFrame]:
    v = panel.values.copy()
    rows: list[tuple[pd.Timestamp, str, float, str]] = []
    totals = np.nansum(v, axis=1)
    n = v.shape[0]
    for t in range(n):
        gap = np.isnan(v[t])
        for a in np.flatnonzero(gap):
            rows.append((panel.index[t], panel.areas[a], math.nan, "gap"))
        if t < 7 or gap.all():
            continue
        trailing = totals[t - 7 : t]
        if totals[t] == 0 and np.mean(trailing) >= _CASES_MISSING_MIN_MEAN:
            rows.extend((panel.index[t], a, 0.0, "zero-day") for a in panel.areas)
            v[t] = np.nan
            totals[t] = np.nan  # the next days' trailing mean must not count the missing day
    flags = pd.DataFrame(rows, columns=["time", "area", "value", "reason"])
    notes = _flag_notes(panel, flags, "left missing and skipped by the features")
    return replace(panel, values=v).with_notes(*notes), flags


def _flag_notes(panel: Panel, flags: pd.DataFrame, action: str) -> list[str]:
    if flags.empty:
        return [f"{panel.kind}: no glitches detected in {panel.values.size} cells"]
    notes = []
    for reason, group in flags.groupby("reason"):
        periods = group["time"].nunique()
        notes.append(
            f"{panel.kind}: {len(group)} cells flagged '{reason}' in {periods} periods "
            f"(first {group['time'].min():%Y-%m-%d %H:%M}); {action}"
        )
    return notes


# --------------------------------------------------------------------------------------------
# Calendar


@lru_cache(maxsize=1)
def _korean_holidays() -> dict[pd.Timestamp, str]:
    kr = holidays.country_holidays("KR", years=range(2015, 2031), language="en_US")
    return {pd.Timestamp(d): str(name) for d, name in kr.items()}


def korean_holidays() -> dict[pd.Timestamp, str]:
    """Korean public holidays 2015-2030 (incl. Seollal, Chuseok and substitute days): date → name."""
    return dict(_korean_holidays())


def calendar_frame(times: pd.DatetimeIndex, period_s: int) -> pd.DataFrame:
    """Calendar features of period starts (Seoul time).

    Columns: ``hour`` (hourly only, else 0), ``weekday`` (0 = Monday), ``is_holiday``,
    ``is_big_holiday`` (Seollal or Chuseok days, incl. their substitute days), ``is_offday``
    (weekend or holiday), ``days_to_holiday`` / ``days_from_holiday`` (to the next / since the last
    public holiday, clipped at 7) and ``offday_run`` (length of the block of off days containing the
    day, 0 on working days; a 4-day Seollal block differs from a plain Sunday).
    """
    local = times.tz_convert(SEOUL_TZ) if times.tz is not None else times
    days = pd.DatetimeIndex(local.tz_localize(None).normalize())
    hol = _korean_holidays()
    span = pd.date_range(days.min() - pd.Timedelta(days=10), days.max() + pd.Timedelta(days=10))
    is_hol = np.array([d in hol for d in span])
    big = np.array(
        [d in hol and ("Korean New Year" in hol[d] or "Chuseok" in hol[d]) for d in span]
    )
    off = is_hol | (span.day_of_week >= 5)
    to_next = _distance(is_hol, forward=True)
    from_last = _distance(is_hol, forward=False)
    run = _run_lengths(off)
    pos = span.get_indexer(days)
    return pd.DataFrame(
        {
            "hour": local.hour if period_s < DAY_S else np.zeros(len(local), dtype=int),
            "weekday": days.day_of_week,
            "is_holiday": is_hol[pos].astype(int),
            "is_big_holiday": big[pos].astype(int),
            "is_offday": off[pos].astype(int),
            "days_to_holiday": np.minimum(to_next[pos], 7),
            "days_from_holiday": np.minimum(from_last[pos], 7),
            "offday_run": np.minimum(run[pos], 9),
        },
        index=times,
    )


def _distance(flags: np.ndarray, *, forward: bool) -> np.ndarray:
    """Days to the next (forward) or since the last flagged day; 0 on a flagged day, 99 if none."""
    out = np.full(len(flags), 99, dtype=int)
    last = None
    order = range(len(flags) - 1, -1, -1) if forward else range(len(flags))
    for i in order:
        if flags[i]:
            last = i
        if last is not None:
            out[i] = abs(last - i)
    return out


def _run_lengths(flags: np.ndarray) -> np.ndarray:
    out = np.zeros(len(flags), dtype=int)
    i = 0
    while i < len(flags):
        if flags[i]:
            j = i
            while j < len(flags) and flags[j]:
                j += 1
            out[i:j] = j - i
            i = j
        else:
            i += 1
    return out


# --------------------------------------------------------------------------------------------
# Neighbours and exogenous covariates


def gu_adjacency(boundaries_path: Path) -> dict[str, tuple[str, ...]]:
    """Neighbouring Seoul gu (administrative codes) from the 2018 KOSTAT boundary file.

    Two gu are neighbours when their polygons touch or overlap (a 20 m buffer absorbs the gaps
    of the simplified outlines).
    """
    from shapely.geometry import shape

    from ansim.geo.regions import find_region

    with gzip.open(boundaries_path, "rt", encoding="utf-8") as f:
        features = json.load(f)["features"]
    shapes = {}
    for feat in features:
        reg = find_region(f"kostat:{feat['properties']['code']}") or find_region(
            feat["properties"]["name"]
        )
        if reg is not None:
            shapes[reg.code] = shape(feat["geometry"]).buffer(0.0002)
    out: dict[str, tuple[str, ...]] = {}
    for code, geom in shapes.items():
        out[code] = tuple(sorted(o for o, g in shapes.items() if o != code and geom.intersects(g)))
    return out


def seoul_weather(weather: pd.DataFrame) -> pd.DataFrame:
    """Daily Seoul weather from :func:`ansim.sources.ds4c.read_weather`, indexed by naive date."""
    w = weather
    if "region_code" in w.columns:
        w = w[w["region_code"].astype(str) == "11"]
    w = w.assign(date=pd.to_datetime(w["date"].astype(str))).drop_duplicates("date", keep="last")
    cols = [
        c for c in ("avg_temp_c", "precipitation_mm", "avg_relative_humidity_pct") if c in w.columns
    ]
    return w.set_index("date")[cols].astype(float).sort_index()


def policy_steps(policy: pd.DataFrame) -> pd.DataFrame:
    """Policy start dates as steps: start (naive date), type and the alert level (1-4, else 0)."""
    p = policy.dropna(subset=["start_date"])
    level = (
        p.get("detail", pd.Series("", index=p.index))
        .astype(str)
        .str.extract(r"Level\s*(\d)")[0]
        .astype(float)
        .fillna(0.0)
    )
    is_alert = p.get("type", pd.Series("", index=p.index)).astype(str).str.lower() == "alert"
    return pd.DataFrame(
        {
            "start": pd.to_datetime(p["start_date"].astype(str)),
            "type": p.get("type", pd.Series("", index=p.index)).astype(str),
            "level": np.where(is_alert, level, 0.0),
        }
    ).sort_values("start")


def exog_daily(exog: Exog, days: pd.DatetimeIndex, areas: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Covariates per day as known on that day (weather of the day, policies started by then).

    Returns arrays of shape (days,) or (days, areas) for mobility; NaN where unknown.
    """
    naive = pd.DatetimeIndex(days.tz_localize(None) if days.tz is not None else days).normalize()
    out: dict[str, np.ndarray] = {}
    if exog.weather is not None and not exog.weather.empty:
        w = exog.weather.reindex(naive)
        for col in w.columns:
            out[f"wx_{col}"] = w[col].to_numpy(dtype=float)
    if exog.policy is not None and not exog.policy.empty:
        starts = exog.policy["start"].to_numpy(dtype="datetime64[ns]")
        n_started = np.searchsorted(np.sort(starts), naive.to_numpy(), side="right")
        out["policy_count"] = n_started.astype(float)
        last = np.full(len(naive), np.nan)
        alert = np.zeros(len(naive))
        pol = exog.policy.sort_values("start")
        for i, d in enumerate(naive):
            active = pol[pol["start"] <= d]
            if len(active):
                last[i] = min((d - active["start"].iloc[-1]).days, 60)
                levels = active.loc[active["level"] > 0, "level"]
                alert[i] = float(levels.iloc[-1]) if len(levels) else 0.0
        out["policy_days_since"] = last
        out["policy_alert_level"] = alert
    if exog.mobility is not None and not exog.mobility.empty:
        mob = exog.mobility.reindex(columns=list(areas))
        # Change of the trailing 7-day living population against the same gu's 2019 mean: a
        # mobility index that is defined only while the KT feed runs (NaN afterwards).
        base = mob.loc[(mob.index >= "2019-01-01") & (mob.index < "2020-01-01")].mean()
        roll = mob.rolling(7, min_periods=3).mean()
        idx = np.log(roll / base).reindex(naive)
        out["mobility_log_change"] = idx.to_numpy(dtype=float)
    return out


# --------------------------------------------------------------------------------------------
# Design matrix


@dataclass(frozen=True)
class SeriesSpec:
    """What a model forecasts: a kind of series at one period length, up to ``max_horizon`` periods."""

    name: str
    kind: Kind
    period_s: int
    max_horizon: int

    @property
    def horizons(self) -> np.ndarray:
        return np.arange(1, self.max_horizon + 1)


SPECS: dict[str, SeriesSpec] = {
    "crowd_hourly": SeriesSpec("crowd_hourly", "crowd", HOUR_S, 48),
    "crowd_daily": SeriesSpec("crowd_daily", "crowd", DAY_S, 14),
    "cases_gu": SeriesSpec("cases_gu", "cases", DAY_S, 14),
    "cases_province": SeriesSpec("cases_province", "cases", DAY_S, 14),
}


@dataclass(frozen=True)
class Design:
    """Rows (origin, horizon, area) with features, the log base and the log target (NaN if unseen)."""

    X: pd.DataFrame
    base: np.ndarray
    target: np.ndarray
    origin: np.ndarray
    horizon: np.ndarray
    area: np.ndarray
    scale: np.ndarray  # recent volatility at the origin (log units): the conformal interval unit

    @property
    def target_index(self) -> np.ndarray:
        return self.origin + self.horizon


def min_history(panel: Panel) -> int:
    """Periods of history an origin needs before its main features exist (a season and a day).

    Features reaching further back (two seasons) are NaN for the earliest origins; the short SKT
    series (46 days) cannot spare more.
    """
    return panel.season + panel.periods_per_day


def _take(m: np.ndarray, idx: np.ndarray, a: np.ndarray) -> np.ndarray:
    ok = (idx >= 0) & (idx < m.shape[0])
    out = np.full(idx.shape, np.nan)
    out[ok] = m[idx[ok], a[ok]]
    return out


def _take1(v: np.ndarray, idx: np.ndarray) -> np.ndarray:
    ok = (idx >= 0) & (idx < v.shape[0])
    out = np.full(idx.shape, np.nan)
    out[ok] = v[idx[ok]]
    return out


def _roll(m: np.ndarray, w: int, how: str = "mean") -> np.ndarray:
    """Trailing window statistic ending at each period (inclusive), ignoring NaN."""
    r = pd.DataFrame(m).rolling(w, min_periods=1)
    out = getattr(r, how)()
    return np.asarray(out.to_numpy(dtype=float))


def _shift(m: np.ndarray, k: int) -> np.ndarray:
    out = np.full(m.shape, np.nan)
    if k < m.shape[0]:
        out[k:] = m[: m.shape[0] - k]
    return out


def _neighbour_mean(
    m: np.ndarray, areas: tuple[str, ...], adj: dict[str, tuple[str, ...]]
) -> np.ndarray:
    pos = {a: i for i, a in enumerate(areas)}
    out = np.full(m.shape, np.nan)
    for i, a in enumerate(areas):
        nb = [pos[n] for n in adj.get(a, ()) if n in pos]
        if nb:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows stay NaN
                out[:, i] = np.nanmean(m[:, nb], axis=1) if len(nb) > 1 else m[:, nb[0]]
    return out


def design(
    panel: Panel,
    exog: Exog,
    *,
    origins: np.ndarray,
    horizons: np.ndarray,
) -> Design:
    """Feature rows for every (origin, horizon, area); features use periods ``<= origin`` only.

    ``origins`` are row indexes into ``panel.index``. The target is looked up only when the
    target period lies inside the panel (training, backtests); for forecasts it is NaN.
    """
    y = panel.values
    n_t, n_a = y.shape
    s, d = panel.season, panel.periods_per_day
    hourly = panel.period_s < DAY_S
    with np.errstate(invalid="ignore"):
        z = np.log1p(np.maximum(y, 0.0))
    o_r, h_r, a_r = (
        g.ravel() for g in np.meshgrid(origins, horizons, np.arange(n_a), indexing="ij")
    )
    t_r = o_r + h_r
    k = np.ceil(h_r / s).astype(int)
    ref1 = t_r - k * s
    ref2 = ref1 - s

    # Calendar over the panel and the forecast span beyond it.
    n_cal = n_t + int(horizons.max()) + 1
    times = pd.date_range(panel.index[0], periods=n_cal, freq=pd.Timedelta(seconds=panel.period_s))
    cal = calendar_frame(times, panel.period_s)
    f: dict[str, np.ndarray] = {"h": h_r.astype(float)}
    if panel.kind == "cases":
        # Case areas differ in kind (a gu's nightlife, a province's size): let the model know which.
        # Crowd series are smoother and an area id only memorised the few training weeks.
        f["area"] = a_r.astype(float)
    for col in ("hour", "weekday", "is_holiday", "is_big_holiday", "is_offday",
                "days_to_holiday", "days_from_holiday", "offday_run"):  # fmt: skip
        f[f"t_{col}"] = _take1(cal[col].to_numpy(dtype=float), t_r)
    for col in ("is_holiday", "is_big_holiday", "is_offday", "offday_run"):
        f[f"ref_{col}"] = _take1(cal[col].to_numpy(dtype=float), ref1)
        f[f"o_{col}"] = _take1(cal[col].to_numpy(dtype=float), o_r)
    if hourly:
        f["o_hour"] = _take1(cal["hour"].to_numpy(dtype=float), o_r)

    total = np.nansum(np.where(np.isnan(y), 0.0, y), axis=1)
    if panel.kind == "crowd":
        w_short, w_long = (d, s) if hourly else (7, 28)
        m_short = _roll(z, w_short)
        m_long = _roll(z, w_long)
        snaive = _take(z, ref1, a_r)
        fallback = np.isnan(snaive)
        snaive[fallback] = _take(m_short, o_r, a_r)[fallback]
        base = snaive
        if hourly:
            # The day-type profile pools five days where seasonal naive copies one hour.
            first = panel.index[0].tz_convert(SEOUL_TZ)
            first_hour = int(first.hour)
            n_days = (first_hour + n_t + int(horizons.max())) // 24 + 2
            types = profiles.day_types(
                first.tz_localize(None).normalize(), n_days, set(_korean_holidays())
            )
            est = profiles.hourly_profile_estimate(
                y, first_hour=first_hour, types=types, origins=o_r, targets=t_r, areas=a_r
            )
            base = np.where(np.isfinite(est) & (est > 0), np.log1p(est), snaive)
            f["snaive_minus_base"] = snaive - base
        f["base"] = base
        f["last_minus_base"] = _take(z, o_r, a_r) - base
        f["last_change_week"] = _take(z, o_r, a_r) - _take(z, o_r - s, a_r)
        change = m_short - _shift(m_short, s)
        f["short_change_week"] = _take(change, o_r, a_r)
        # The week before the reference is used only when neither week is a holiday: otherwise a
        # Seollal week two weeks back reads as a trend (it hurt the backtest when unguarded).
        ref2_ok = (_take1(cal["is_holiday"].to_numpy(dtype=float), ref2) == 0) & (
            f["ref_is_holiday"] == 0
        )
        f["ref2_minus_base"] = np.where(ref2_ok, _take(z, ref2, a_r) - base, np.nan)
        f["long_change_week"] = _take(m_long - _shift(m_long, s), o_r, a_r)
        if hourly:
            same_hour = t_r - d * np.ceil(h_r / d).astype(int)
            f["recent_same_hour_minus_base"] = _take(z, same_hour, a_r) - base
            f["yesterday_same_hour_change"] = _take(z, same_hour, a_r) - _take(
                z, same_hour - s, a_r
            )
        f["neighbour_change_week"] = _take(
            _neighbour_mean(change, panel.areas, exog.adjacency), o_r, a_r
        )
        city = np.log1p(_roll(total[:, None], w_short)[:, 0])
        f["city_change_week"] = _take1(city - _shift(city[:, None], s)[:, 0], o_r)
    else:
        mean7 = _roll(y, 7)
        pooled, weekday_factor = profiles.pooled_case_estimate(
            y, origins=o_r, targets=t_r, areas=a_r
        )
        mean7_log = np.log1p(_take(mean7, o_r, a_r))
        base = np.where(np.isfinite(pooled), np.log1p(pooled), mean7_log)
        f["base"] = base
        f["mean7_minus_base"] = mean7_log - base
        f["weekday_factor"] = np.log(weekday_factor)
        f["median7_minus_base"] = np.log1p(_take(_roll(y, 7, "median"), o_r, a_r)) - base
        f["max7_minus_base"] = np.log1p(_take(_roll(y, 7, "max"), o_r, a_r)) - base
        f["last_minus_base"] = _take(z, o_r, a_r) - base
        f["mean28_minus_base"] = np.log1p(_take(_roll(y, 28), o_r, a_r)) - base
        f["trend7"] = base - np.log1p(_take(_shift(mean7, 7), o_r, a_r))
        f["zero_share7"] = _take(_roll((y == 0).astype(float), 7), o_r, a_r)
        f["same_weekday_minus_base"] = _take(z, ref1, a_r) - base
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            same_wd = np.nanmean(np.stack([_take(z, ref1 - j * s, a_r) for j in range(4)]), axis=0)
        f["same_weekday4_minus_base"] = same_wd - base
        city7 = _roll(total[:, None], 7)[:, 0]
        f["city_log_mean7"] = np.log1p(_take1(city7, o_r))
        f["city_trend7"] = f["city_log_mean7"] - np.log1p(
            _take1(_shift(city7[:, None], 7)[:, 0], o_r)
        )
        nb = _neighbour_mean(np.log1p(mean7), panel.areas, exog.adjacency)
        f["neighbour_minus_base"] = _take(nb, o_r, a_r) - base
        f["neighbour_trend7"] = _take(nb - _shift(nb, 7), o_r, a_r)

    # Day of each origin counted from the panel's first midnight (a panel may start mid-day).
    offset = int(
        (panel.index[0] - panel.index[0].normalize()) / pd.Timedelta(seconds=panel.period_s)
    )
    day_idx = (o_r + offset) // d
    days = pd.date_range(panel.index[0].normalize(), periods=int(day_idx.max()) + 1, freq="D")
    for name, arr in exog_daily(exog, days, panel.areas).items():
        if arr.ndim == 2:
            f[name] = _take(arr, day_idx, a_r)
        else:
            f[name] = _take1(arr, day_idx)

    target = _take(z, t_r, a_r) - base
    return Design(
        X=pd.DataFrame(f),
        base=base,
        target=target,
        origin=o_r,
        horizon=h_r,
        area=a_r,
        scale=recent_volatility(z, season=s, window=d if hourly else 7)[o_r, a_r],
    )


def recent_volatility(z: np.ndarray, *, season: int, window: int) -> np.ndarray:
    """Mean absolute week-over-week log change over the last ``window`` periods, per period and area.

    The unit of the conformal intervals (locally weighted split conformal, Lei et al. 2018): calm
    weeks get narrow intervals and turbulent ones wide, instead of one width learned on whatever
    weeks the calibration slice held. Floored at ``_MIN_VOLATILITY``; NaN (too little history)
    becomes the median of the rest.
    """
    change = np.abs(z - _shift(z, season))
    vol = _roll(change, window)
    finite = np.isfinite(vol)
    fill = float(np.median(vol[finite])) if finite.any() else 1.0
    return np.maximum(np.where(finite, vol, fill), _MIN_VOLATILITY)
