"""The baselines every model must beat: seasonal naive, persistence and the trailing 7-day mean.

Each takes the history ``values[t, a]`` (periods × areas, NaN = missing), origin row indexes and
horizons (in periods) and returns the forecast for every (origin, horizon, area) row in the same
order as :func:`ansim.forecast.features.design` (origin-major, then horizon, then area).
"""

from __future__ import annotations

import numpy as np


def _rows(values: np.ndarray, origins: np.ndarray, horizons: np.ndarray) -> tuple[np.ndarray, ...]:
    n_a = values.shape[1]
    o, h, a = (g.ravel() for g in np.meshgrid(origins, horizons, np.arange(n_a), indexing="ij"))
    return o, h, a


def _take(values: np.ndarray, idx: np.ndarray, a: np.ndarray) -> np.ndarray:
    ok = (idx >= 0) & (idx < values.shape[0])
    out = np.full(idx.shape, np.nan)
    out[ok] = values[idx[ok], a[ok]]
    return out


def seasonal_naive(
    values: np.ndarray, origins: np.ndarray, horizons: np.ndarray, *, season: int
) -> np.ndarray:
    """The same period one season earlier (last week's same hour or day), stepping back whole
    seasons until the reference is observed by the origin (horizons longer than a season)."""
    o, h, a = _rows(values, origins, horizons)
    t = o + h
    ref = t - np.ceil(h / season).astype(int) * season
    return _take(values, ref, a)


def persistence(values: np.ndarray, origins: np.ndarray, horizons: np.ndarray) -> np.ndarray:
    """The last observed value at the origin, for every horizon."""
    o, _, a = _rows(values, origins, horizons)
    return _take(values, o, a)


def trailing_mean(
    values: np.ndarray, origins: np.ndarray, horizons: np.ndarray, *, window: int
) -> np.ndarray:
    """Mean of the ``window`` periods ending at the origin (missing periods skipped)."""
    o, _, a = _rows(values, origins, horizons)
    csum = np.vstack([np.zeros((1, values.shape[1])), np.nancumsum(values, axis=0)])
    ccount = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(~np.isnan(values), axis=0)])
    lo = np.maximum(o + 1 - window, 0)
    s = csum[o + 1, a] - csum[lo, a]
    c = ccount[o + 1, a] - ccount[lo, a]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.maximum(c, 1), np.nan)


def seven_day_mean(
    values: np.ndarray, origins: np.ndarray, horizons: np.ndarray, *, periods_per_day: int
) -> np.ndarray:
    """The trailing 7-day mean (168 hours for hourly series)."""
    return trailing_mean(values, origins, horizons, window=7 * periods_per_day)
