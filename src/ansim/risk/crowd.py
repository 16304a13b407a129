"""Crowd: people present per H3 cell and hour, and how that compares with a normal week.

Method (docs/risk.md, "Spatial layers and engine"):

1. **Gu × hour.** The KT living population (gu × day, 총생활인구수 = mean people present over the
   day's hours) sets each gu's level; the SK Telecom floating population (gu × hour, 2020-01-01 →
   02-29) sets its shape over the day. On a day with SKT data the day's own shape is used; on other
   days the typical shape of the normal weeks (2–22 Jan 2020, before Seollal, holidays excluded) for
   a weekday or a weekend/holiday. After the last KT day the level persists as the median of the same
   weekday over the last four weeks (``basis = "persistence"``). The two operators count
   differently (SKT totals ≈ 8.2 M people, KT ≈ 11.5 M); only SKT's shape is used, so KT's level wins.
2. **Gu → cells.** Each gu's people are spread over its cells by weights that sum to 1 within every
   gu, so the gu total is preserved: a mix of *residents* (2020 resident population per dong, spread
   evenly over the dong's cells; 항동, missing from the 2018 boundaries, joins its gu's remainder) and
   *activity* (20 % even over the gu, 50 % subway stations – a Gaussian of σ = 150 m around each
   station – and 30 % places – σ = 100 m around each venue-type PatientRoute point, a proxy for shops,
   restaurants, churches…). The activity share is 70 % on weekday working hours (09-18), 50 % in the
   evening (19-22) and on weekend days, 15 % at night (23-06). The OSM road graphs are not used: they
   cover only central Seoul and Yongsan, and a covariate present in 2 of 25 gu would bias them.
3. **Normal.** The baseline for a day is the median of the same weekday over ±4 weeks around the same
   week of 2019 (pre-COVID; Korean holidays excluded); for an hour with SKT data, the median of the
   same day type and hour over the normal weeks of January 2020. ``ratio = now / normal``.
4. **Co-present people.** For a visit in a cell: people per m² × a footprint of 100 m² (a room or a
   shop floor: the people within a few metres that microCOVID counts), capped at the people in the cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ansim.errors import InputError, OutOfCoverageError
from ansim.geo.cells import CellTable, disk_k_for_radius, haversine_m, polygon_cells
from ansim.timeutil import as_seoul

if TYPE_CHECKING:
    import pandas as pd

REFERENCE_FOOTPRINT_M2 = 100.0
"""Floor area whose occupants count as co-present for a visit (a room or shop floor)."""
STATION_SIGMA_M = 150.0
PLACE_SIGMA_M = 100.0
ACTIVITY_MIX = {"even": 0.2, "stations": 0.5, "places": 0.3}
"""Shares of the activity weights (re-normalised when a gu has no station or no place)."""
NORMAL_WEEKS = (date(2020, 1, 2), date(2020, 1, 23))
"""[start, end) of the normal SKT weeks: after New Year, before Seollal (24-27 Jan 2020)."""
COVID_START = date(2020, 1, 20)
"""First Korean case: the baseline comes from before it."""
PLACE_TYPES_EXCLUDED = frozenset({"hospital", "etc", "airport", "", "public_transportation"})
"""PatientRoute types that are not venues (hospitals were visited because of the illness; stations
are counted from the station master)."""


def activity_share(hour: int, weekend: bool) -> float:
    """Share of a gu's people placed by activity (the rest by residence) at an hour of day."""
    if hour >= 23 or hour <= 6:
        return 0.15
    if 9 <= hour <= 18 and not weekend:
        return 0.70
    return 0.50


# --- gu → cell weights ------------------------------------------------------------------------


def normalise_per_gu(values: npt.ArrayLike, gu_index: npt.ArrayLike, n_gu: int) -> np.ndarray:
    """Divide by the gu totals so the values of each gu sum to 1 (a gu of zeros stays zero)."""
    v = np.asarray(values, dtype=float)
    g = np.asarray(gu_index)
    total = np.bincount(g, weights=v, minlength=n_gu)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = v / total[g]
    return np.where(total[g] > 0, out, 0.0)


def point_density(
    table: CellTable, lat: npt.ArrayLike, lon: npt.ArrayLike, sigma_m: float
) -> np.ndarray:
    """Sum over points of a unit Gaussian (σ, cut at 3σ) at each cell centre."""
    import h3.api.numpy_int as h3n

    out = np.zeros(len(table))
    k = disk_k_for_radius(3 * sigma_m, table.resolution)
    for a, b in zip(np.asarray(lat, float).tolist(), np.asarray(lon, float).tolist(), strict=True):
        ring = np.asarray(h3n.grid_disk(h3n.latlng_to_cell(a, b, table.resolution), k), np.uint64)
        rows = table.index_of(ring)
        rows = rows[rows >= 0]
        if rows.size:
            d = haversine_m(a, b, table.lat[rows], table.lon[rows])
            out[rows] += np.where(d <= 3 * sigma_m, np.exp(-0.5 * (d / sigma_m) ** 2), 0.0)
    return out


@dataclass(frozen=True)
class CellWeights:
    """Per-cell shares of the gu's people: by residence and by activity (each sums to 1 per gu)."""

    residents: np.ndarray
    activity: np.ndarray

    def at(self, hour: int, weekend: bool) -> np.ndarray:
        """Weights at an hour of day (sum to 1 per gu)."""
        m = activity_share(hour, weekend)
        return (1.0 - m) * self.residents + m * self.activity


def cell_weights(
    table: CellTable,
    *,
    residents_per_cell: npt.ArrayLike,
    station_lat: npt.ArrayLike,
    station_lon: npt.ArrayLike,
    place_lat: npt.ArrayLike,
    place_lon: npt.ArrayLike,
) -> CellWeights:
    """Residence and activity weights of every cell (pure; see the module docstring)."""
    n_gu = len(table.gu_codes)
    g = table.gu_index
    res = np.asarray(residents_per_cell, dtype=float)
    if res.shape != (len(table),) or np.any(res < 0) or not np.all(np.isfinite(res)):
        raise InputError("one finite count >= 0 per cell", field="residents_per_cell")
    # a gu with no resident data falls back to an even spread
    res_w = normalise_per_gu(res, g, n_gu)
    even = normalise_per_gu(np.ones(len(table)), g, n_gu)
    empty = np.bincount(g, weights=res, minlength=n_gu)[g] <= 0
    res_w = np.where(empty, even, res_w)
    parts = {
        "even": even,
        "stations": normalise_per_gu(
            point_density(table, station_lat, station_lon, STATION_SIGMA_M), g, n_gu
        ),
        "places": normalise_per_gu(
            point_density(table, place_lat, place_lon, PLACE_SIGMA_M), g, n_gu
        ),
    }
    act = np.zeros(len(table))
    share_sum = np.zeros(len(table))
    for name, w in parts.items():
        has = np.bincount(g, weights=w, minlength=n_gu)[g] > 0
        act += ACTIVITY_MIX[name] * w
        share_sum += np.where(has, ACTIVITY_MIX[name], 0.0)
    act = act / share_sum  # a gu without stations gives their share to the others
    return CellWeights(res_w, act)


def residents_per_cell(table: CellTable, *, data_dir: Path) -> np.ndarray:
    """2020 residents per cell: each dong's population evenly over its cells (edge: reads files)."""
    from shapely.geometry import mapping

    from ansim.geo.gazetteer import load_gazetteer, normalise_dong
    from ansim.sources.seoul import read_population

    pop = read_population(data_dir / "population" / "seoul_pop2020_gu_dong.csv")
    gu_total = {r.gu_code: float(r.population) for r in pop.itertuples() if r.dong_name == ""}
    dong_pop = {
        (r.gu_code, normalise_dong(r.dong_name)): float(r.population)
        for r in pop.itertuples()
        if r.dong_name
    }
    out = np.zeros(len(table))
    matched = dict.fromkeys(table.gu_codes, 0.0)
    for area in load_gazetteer(data_dir).dongs:
        n = dong_pop.get((area.gu_code, normalise_dong(area.name)))
        if n is None:
            continue
        rows = table.index_of(polygon_cells(mapping(area.geometry), table.resolution))
        rows = rows[rows >= 0]
        if rows.size == 0:  # a dong smaller than a cell: its people go to the cell at its centre
            rows = table.index_of(
                np.array([_cell(area.lat, area.lon, table.resolution)], dtype=np.uint64)
            )
            rows = rows[rows >= 0]
        if rows.size:
            out[rows] += n / rows.size
            matched[area.gu_code] += n
    # residents of dongs missing from the boundaries (항동): evenly over their gu
    for gi, code in enumerate(table.gu_codes):
        rest = gu_total.get(code, 0.0) - matched[code]
        if rest > 0:
            rows = np.flatnonzero(table.gu_index == gi)
            out[rows] += rest / rows.size
    return out


def _cell(lat: float, lon: float, resolution: int) -> int:
    import h3.api.numpy_int as h3n

    return int(h3n.latlng_to_cell(lat, lon, resolution))


@lru_cache(maxsize=4)
def _static_weights_cached(
    resolution: int,
    data_dir: Path,
    cache_dir: Path | None,
    places_key: tuple[tuple[float, float], ...],
) -> CellWeights:
    from ansim.geo.cells import seoul_cells
    from ansim.geo.gazetteer import load_gazetteer

    table = seoul_cells(resolution, data_dir=data_dir, cache_dir=cache_dir)
    cache = (cache_dir / f"crowd_residents_r{resolution}.npy") if cache_dir else None
    if cache is not None and cache.exists():
        residents = np.load(cache)
    else:
        residents = residents_per_cell(table, data_dir=data_dir)
        if cache is not None:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                np.save(cache, residents)
            except OSError:
                pass
    stations = [s for s in load_gazetteer(data_dir).stations if s.region_code]
    plat = np.array([p[0] for p in places_key])
    plon = np.array([p[1] for p in places_key])
    return cell_weights(
        table,
        residents_per_cell=residents,
        station_lat=[s.lat for s in stations],
        station_lon=[s.lon for s in stations],
        place_lat=plat,
        place_lon=plon,
    )


def static_weights(
    table: CellTable,
    *,
    places: list[tuple[float, float]],
    data_dir: Path,
    cache_dir: Path | None = None,
) -> CellWeights:
    """Cell weights of the bundled Seoul data (residents and stations) and the given venue points."""
    key = tuple(sorted({(round(a, 6), round(b, 6)) for a, b in places}))
    return _static_weights_cached(table.resolution, data_dir, cache_dir, key)


def venue_points(events: list) -> list[tuple[float, float]]:
    """Venue-like points among exposure events (PatientRoute places that are not hospitals etc.)."""
    return [
        (e.lat, e.lon)
        for e in events
        if e.precision == "point" and e.place_type not in PLACE_TYPES_EXCLUDED
    ]


# --- gu × hour series ---------------------------------------------------------------------------


def _is_weekend(days: np.ndarray, holidays: frozenset[date]) -> np.ndarray:
    import pandas as pd

    py = pd.to_datetime(days)
    return (
        np.array([d.weekday() >= 5 or d.date() in holidays for d in py], dtype=bool)
        if len(py)
        else np.zeros(0, dtype=bool)
    )


@lru_cache(maxsize=1)
def korean_holidays() -> frozenset[date]:
    """Korean public holidays 2015-2030 (Seollal, Chuseok and substitute days included)."""
    import holidays

    return frozenset(holidays.country_holidays("KR", years=range(2015, 2031)).keys())


@dataclass(frozen=True)
class GuCrowd:
    """People present per gu at one hour, with the normal level and where the numbers come from."""

    people: np.ndarray
    normal: np.ndarray
    basis: str
    """``"kt-daily+skt-hour"`` (a day with SKT hours), ``"kt-daily+profile"``, or ``"persistence"``;
    the risk engine's forecasts add ``"forecast:kt-daily"``, ``"forecast:kt-daily+skt-hourly"`` and
    ``"kt-daily+skt-forecast"``."""
    lower: np.ndarray | None = None
    """People along the forecasts' 10 % quantiles (None: observed or persistence)."""
    upper: np.ndarray | None = None
    """People along the 90 % quantiles."""

    @property
    def ratio(self) -> np.ndarray:
        """People now / normal (1 = a normal week; NaN where no normal is known)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.normal > 0, self.people / self.normal, np.nan)


@dataclass(frozen=True)
class CrowdModel:
    """Gu × hour crowd built from the KT daily and SKT hourly frames (``CROWD_COLUMNS``)."""

    gu_codes: tuple[str, ...]
    day0: date
    daily: np.ndarray
    """(days, gu): KT people present, day index from ``day0``; NaN where missing."""
    daily_normal: np.ndarray
    """(days, gu): the 2019 same-weekday median."""
    hour0: datetime | None
    hourly_shape: np.ndarray
    """(hours, gu): SKT count / that day's SKT mean, hour index from ``hour0``."""
    hourly_ratio: np.ndarray
    """(hours, gu): SKT count / normal SKT of the same day type and hour."""
    profile: np.ndarray
    """(2, 24, gu): typical shape for weekday [0] and weekend/holiday [1]."""
    holidays: frozenset[date]

    @property
    def last_day(self) -> date:
        """The last day with a KT count."""
        return self.day0 + timedelta(days=int(self.daily.shape[0]) - 1)

    @classmethod
    def build(cls, crowd: pd.DataFrame, gu_codes: tuple[str, ...]) -> CrowdModel:
        """From ``CROWD_COLUMNS`` rows: ``period_s`` 86400 (KT) and 3600 (SKT) for the 25 gu."""
        import pandas as pd

        missing = {"area", "period_start", "period_s", "count"} - set(crowd.columns)
        if missing:
            raise InputError(f"missing column(s) {sorted(missing)}", field="crowd")
        pos = {c: i for i, c in enumerate(gu_codes)}
        frame = crowd[crowd["area"].isin(pos)]
        holidays = korean_holidays()
        daily_rows = frame[frame["period_s"] == 86_400]
        if daily_rows.empty:
            raise InputError("no daily (86400 s) crowd rows for Seoul gu", field="crowd")
        d_days = pd.to_datetime(daily_rows["period_start"]).dt.tz_convert("Asia/Seoul").dt.date
        day0 = min(d_days)
        n_days = (max(d_days) - day0).days + 1
        daily = np.full((n_days, len(gu_codes)), np.nan)
        di = np.array([(d - day0).days for d in d_days])
        gi = daily_rows["area"].map(pos).to_numpy()
        daily[di, gi] = daily_rows["count"].to_numpy(float)
        days = np.array([day0 + timedelta(days=i) for i in range(n_days)])
        daily_normal = _daily_normal(daily, days, holidays)

        hourly_rows = frame[frame["period_s"] == 3600]
        profile = np.ones((2, 24, len(gu_codes)))
        if hourly_rows.empty:
            return cls(
                gu_codes,
                day0,
                daily,
                daily_normal,
                None,
                np.zeros((0, len(gu_codes))),
                np.zeros((0, len(gu_codes))),
                profile,
                holidays,
            )
        h_t = pd.to_datetime(hourly_rows["period_start"]).dt.tz_convert("Asia/Seoul")
        hour0 = h_t.min().to_pydatetime()
        n_h = int((h_t.max() - h_t.min()).total_seconds() // 3600) + 1
        n_h = (n_h + 23) // 24 * 24  # whole days
        hourly = np.full((n_h, len(gu_codes)), np.nan)
        hi = ((h_t - h_t.min()).dt.total_seconds() // 3600).astype(int).to_numpy()
        hourly[hi, hourly_rows["area"].map(pos).to_numpy()] = hourly_rows["count"].to_numpy(float)
        by_day = hourly.reshape(-1, 24, len(gu_codes))
        with np.errstate(invalid="ignore", divide="ignore"):
            shape = by_day / np.nanmean(by_day, axis=1, keepdims=True)
        h_days = np.array([hour0.date() + timedelta(days=i) for i in range(by_day.shape[0])])
        weekend = _is_weekend(h_days, holidays)
        normal_days = (
            (h_days >= NORMAL_WEEKS[0])
            & (h_days < NORMAL_WEEKS[1])
            & ~np.isin(h_days, np.array(sorted(holidays), dtype=object))
        )
        normal_hour = np.full((2, 24, len(gu_codes)), np.nan)
        for k in (0, 1):
            sel = normal_days & (weekend == bool(k))
            if sel.any():
                profile[k] = np.nanmedian(shape[sel], axis=0)
                normal_hour[k] = np.nanmedian(by_day[sel], axis=0)
        profile = np.where(np.isfinite(profile), profile, 1.0)
        profile /= profile.mean(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = by_day / normal_hour[weekend.astype(int)]
        return cls(
            gu_codes,
            day0,
            daily,
            daily_normal,
            hour0,
            shape.reshape(-1, len(gu_codes)),
            ratio.reshape(-1, len(gu_codes)),
            profile,
            holidays,
        )

    def gu_at(self, at: datetime) -> GuCrowd:
        """People per gu at the hour containing ``at``; before the data raises ``OutOfCoverageError``."""
        t = as_seoul(at)
        day = t.date()
        if day < self.day0:
            raise OutOfCoverageError(
                f"crowd data start on {self.day0.isoformat()}, {day.isoformat()} is earlier",
                field="at",
            )
        weekend = day.weekday() >= 5 or day in self.holidays
        i = (day - self.day0).days
        basis = "kt-daily+profile"
        if i < self.daily.shape[0] and np.all(np.isfinite(self.daily[i])):
            level = self.daily[i]
            normal_day = self.daily_normal[i]
        else:
            level = self._persist(day)
            normal_day = self._normal_for(day)
            basis = "persistence"
        shape = self.profile[int(weekend), t.hour]
        ratio_h = None
        if self.hour0 is not None and basis != "persistence":
            hi = int(
                (t.replace(minute=0, second=0, microsecond=0) - self.hour0).total_seconds() // 3600
            )
            if 0 <= hi < self.hourly_shape.shape[0] and np.all(np.isfinite(self.hourly_shape[hi])):
                shape = self.hourly_shape[hi]
                ratio_h = self.hourly_ratio[hi]
                basis = "kt-daily+skt-hour"
        people = level * shape
        if ratio_h is not None and np.all(np.isfinite(ratio_h)):
            normal = people / ratio_h
        else:
            normal = normal_day * self.profile[int(weekend), t.hour]
        return GuCrowd(people, normal, basis)

    def gu_day_hours(self, day: date) -> np.ndarray:
        """People per gu at each hour of a day, shape (24, gu) (one level lookup for the day)."""
        weekend = day.weekday() >= 5 or day in self.holidays
        i = (day - self.day0).days
        if i < 0:
            raise OutOfCoverageError(
                f"crowd data start on {self.day0.isoformat()}, {day.isoformat()} is earlier",
                field="at",
            )
        observed = i < self.daily.shape[0] and bool(np.all(np.isfinite(self.daily[i])))
        level = self.daily[i] if observed else self._persist(day)
        shape = self.profile[int(weekend)]
        if observed and self.hour0 is not None:
            h0 = (day - self.hour0.date()).days * 24
            if h0 >= 0 and h0 + 24 <= self.hourly_shape.shape[0]:
                day_shape = self.hourly_shape[h0 : h0 + 24]
                if np.all(np.isfinite(day_shape)):
                    shape = day_shape
        return level[None, :] * shape

    def _persist(self, day: date) -> np.ndarray:
        """Median of the same weekday over the last four weeks with data."""
        last = self.daily.shape[0] - 1
        offset = (day.weekday() - (self.day0 + timedelta(days=last)).weekday()) % 7
        idx = [last - 7 * k - ((7 - offset) % 7) for k in range(4)]
        idx = [j for j in idx if 0 <= j <= last]
        return np.nanmedian(self.daily[idx], axis=0)

    def _normal_for(self, day: date) -> np.ndarray:
        days = np.array([day])
        return _daily_normal_for(self.daily, self.day0, days, self.holidays)[0]


def _baseline_anchor(day: date) -> date:
    """The same weekday 52 weeks earlier, repeated until before COVID."""
    d = day
    while d >= COVID_START:
        d -= timedelta(days=364)
    return d


def _daily_normal_for(
    daily: np.ndarray, day0: date, days: np.ndarray, holidays: frozenset[date]
) -> np.ndarray:
    out = np.full((len(days), daily.shape[1]), np.nan)
    cache: dict[date, np.ndarray] = {}
    for i, day in enumerate(days):
        anchor = _baseline_anchor(day)
        if anchor not in cache:
            idx = []
            for k in range(-4, 5):
                d = anchor + timedelta(days=7 * k)
                j = (d - day0).days
                if d < COVID_START and d not in holidays and 0 <= j < daily.shape[0]:
                    idx.append(j)
            cache[anchor] = (
                np.nanmedian(daily[idx], axis=0) if idx else np.full(daily.shape[1], np.nan)
            )
        out[i] = cache[anchor]
    return out


def _daily_normal(daily: np.ndarray, days: np.ndarray, holidays: frozenset[date]) -> np.ndarray:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices before the data begin
        return _daily_normal_for(daily, days[0], days, holidays)


def people_in_cells(gu_people: np.ndarray, weights: np.ndarray, gu_index: np.ndarray) -> np.ndarray:
    """People present per cell: the gu's people × the cell's share."""
    return np.asarray(gu_people, dtype=float)[gu_index] * weights


def expected_copresent(
    people: npt.ArrayLike, area_m2: npt.ArrayLike, footprint_m2: float = REFERENCE_FOOTPRINT_M2
) -> np.ndarray:
    """Expected co-present people for a visit: density × footprint, at most the people there."""
    p = np.asarray(people, dtype=float)
    a = np.asarray(area_m2, dtype=float)
    return np.minimum(p, p / a * footprint_m2)


def copresent_fraction(
    area_m2: npt.ArrayLike, footprint_m2: float = REFERENCE_FOOTPRINT_M2
) -> np.ndarray:
    """Share of a cell's people one shares the footprint with (footprint / cell area, ≤ 1)."""
    return np.minimum(1.0, footprint_m2 / np.asarray(area_m2, dtype=float))


def hour_key(at: datetime, holidays: frozenset[date] | None = None) -> tuple[int, bool]:
    """(hour of day, weekend-or-holiday) in Seoul time.

    ``holidays`` defaults to :func:`korean_holidays`; the engine passes its crowd model's copy (the
    same set) so a process that loaded a cached state never imports the ``holidays`` package.
    """
    t = as_seoul(at)
    days_off = korean_holidays() if holidays is None else holidays
    return t.hour, (t.weekday() >= 5 or t.date() in days_off)


__all__ = [
    "REFERENCE_FOOTPRINT_M2",
    "CellWeights",
    "CrowdModel",
    "GuCrowd",
    "activity_share",
    "cell_weights",
    "copresent_fraction",
    "expected_copresent",
    "hour_key",
    "normalise_per_gu",
    "people_in_cells",
    "static_weights",
    "venue_points",
]
