"""Province case series → the zonal inputs of the five-level distancing system (Nov 2020 – Jun 2021).

The five-level system was judged per zone (``zone_2020`` of ``data/regions/provinces.csv``): Seoul's
gu were at the level of the *capital region*, Seoul + Incheon + Gyeonggi (codes 11, 28, 41), whose
trigger is a weekly average of 100 daily cases for 1.5 and 200 for 2; levels 2 (nationwide > 300),
2.5 (nationwide ≥ 400) and 3 (≥ 800) also look at the whole country, and level 2 at two or more zones
having been at 1.5 for a week (``levels.five_level``).

Sources, per day: the KDCA per-province feed (``kdca-sido``, 2020-03-01 → 2021-03-29) where it has the
day, otherwise DS4C ``TimeProvince`` (``ds4c-time-province``, 2020-01-20 → 2020-06-30). A day is
used only when every province has a row from the chosen source (a partial day would understate the
zone). Both count *all* confirmed cases; the system's triggers count local cases only, and imported
cases (a few to ~20 a day nationwide in late 2020) are not split out in either feed as stored, so the
averages here run slightly high. Outside the covered days ``ZoneSeries.at`` returns None and the engine
falls back to Seoul's own cases (and says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from ansim.risk.levels import FIVE_LEVEL_ZONE_TRIGGER, ZONES

PROVINCE_SOURCES = ("kdca-sido", "ds4c-time-province")
"""Province case sources, most trusted first."""


@dataclass(frozen=True)
class ZoneSeries:
    """Per day (rows from ``day0``) and zone (columns in ``ZONES`` order): daily cases, with the
    nationwide total; ``covered`` marks the days every province reported."""

    day0: date
    daily: np.ndarray
    """(days, zones) confirmed cases per day."""
    national: np.ndarray
    """(days,) confirmed cases per day, all provinces."""
    covered: np.ndarray
    """(days,) bool: every province has a count that day."""
    sources: tuple[str, ...]
    """(days,) the source used each day ('' when not covered)."""

    def _weekly_avg(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(zone weekly averages, national weekly average, complete-week flags), per day."""
        c = np.cumsum(self.daily, axis=0)
        week = c.copy()
        week[7:] -= c[:-7]
        n = np.cumsum(self.national)
        nat = n.copy()
        nat[7:] -= n[:-7]
        cov = np.cumsum(self.covered.astype(int))
        full = cov.copy()
        full[7:] -= cov[:-7]
        complete = full == 7
        return week / 7.0, nat / 7.0, complete

    def at(self, day: date, zone: str = "capital") -> ZoneDay | None:
        """The zone's and the nation's weekly averages on ``day`` (None without 7 covered days)."""
        i = (day - self.day0).days
        if not 0 <= i < self.daily.shape[0]:
            return None
        zone_avg, nat_avg, complete = self._weekly_avg()
        if not complete[i]:
            return None
        j = ZONES.index(zone)
        # zones at or above their 1.5 trigger on each of the last 7 days ("for a week")
        trig = np.array([FIVE_LEVEL_ZONE_TRIGGER[z] for z in ZONES])
        at_1_5 = (zone_avg >= trig[None, :]) & complete[:, None]
        for_a_week = int(np.all(at_1_5[i - 6 : i + 1], axis=0).sum()) if i >= 6 else 0
        return ZoneDay(
            zone=zone,
            day=day,
            weekly_avg_cases=float(zone_avg[i, j]),
            national_weekly_avg_cases=float(nat_avg[i]),
            zones_at_1_5_for_a_week=for_a_week,
            source=self.sources[i],
        )


@dataclass(frozen=True)
class ZoneDay:
    """The five-level inputs of one zone on one day."""

    zone: str
    day: date
    weekly_avg_cases: float
    national_weekly_avg_cases: float
    zones_at_1_5_for_a_week: int
    source: str


def zone_series(
    region_codes: np.ndarray,
    days: np.ndarray,
    new_cases: np.ndarray,
    sources: np.ndarray,
    *,
    province_zone: dict[str, str],
) -> ZoneSeries | None:
    """Build the zone series from province rows (``CASE_COLUMNS`` as arrays; other rows ignored).

    ``province_zone`` maps each 2-digit province code to its zone (``Region.zone_2020``). Returns None
    when no province rows are given.
    """
    codes = np.asarray(region_codes, dtype=object)
    is_prov = np.isin(codes, list(province_zone)) & np.isin(
        np.asarray(sources, dtype=object), PROVINCE_SOURCES
    )
    if not is_prov.any():
        return None
    d = np.asarray(days, dtype="datetime64[D]")[is_prov]
    codes = codes[is_prov]
    src = np.asarray(sources, dtype=object)[is_prov]
    n = np.asarray(new_cases, dtype=float)[is_prov]
    d0 = d.min()
    n_days = int((d.max() - d0).astype(int)) + 1
    di = (d - d0).astype(int)
    provinces = sorted(province_zone)
    pi = np.searchsorted(provinces, codes.astype(str))
    zone_of = np.array([ZONES.index(province_zone[p]) for p in provinces])
    daily = np.zeros((n_days, len(ZONES)))
    national = np.zeros(n_days)
    covered = np.zeros(n_days, dtype=bool)
    used = np.full(n_days, "", dtype=object)
    for s in reversed(PROVINCE_SOURCES):  # the more trusted source overwrites the other
        m = src == s
        if not m.any():
            continue
        table = np.full((n_days, len(provinces)), np.nan)
        table[di[m], pi[m]] = n[m]
        full = np.all(np.isfinite(table), axis=1)
        z = np.zeros((n_days, len(ZONES)))
        for k in range(len(ZONES)):
            z[:, k] = np.nansum(table[:, zone_of == k], axis=1)
        daily[full] = z[full]
        national[full] = np.nansum(table[full], axis=1)
        covered |= full
        used[full] = s
    day0 = date.fromisoformat(str(d0))
    return ZoneSeries(day0, daily, national, covered, tuple(str(u) for u in used))
