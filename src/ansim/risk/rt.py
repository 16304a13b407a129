"""Time-varying reproduction number by the method of Cori et al. (2013), as in EpiEstim.

For a window of τ days ending on day t, with total infectiousness Λ_s = Σ_{k≥1} I_{s−k} w_k
(w the discretised serial interval, w_0 = 0) and a Gamma(shape a, scale b) prior:

    R | I ~ Gamma(shape = a + Σ I_s,  scale = 1 / (1/b + Σ Λ_s)),   s over the window.

Prior mean 5 and sd 5 give a = 1, b = 5. Windows slide by one day and start on day 2 (index 1),
as EpiEstim's defaults do. Default serial interval: ``DEFAULT_SI_MEAN_D``/``DEFAULT_SI_SD_D``.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from ansim.errors import InputError
from ansim.timeutil import parse_date

DEFAULT_SI_MEAN_D = 4.7
"""Serial interval mean (days): Nishiura, Linton & Akhmetzhanov 2020, Int J Infect Dis 93:284-286
(28 infector-infectee pairs, mean 4.7 d, sd 2.9 d), the value most Rt studies of early 2020 used."""
DEFAULT_SI_SD_D = 2.9
"""Serial interval standard deviation (days)."""
SI_TAIL_MASS = 1e-9
"""The discretised SI is cut where less than this mass remains, then renormalised to sum to 1."""


def discretise_gamma_si(mean_d: float, sd_d: float, *, max_lag: int | None = None) -> np.ndarray:
    """EpiEstim's ``discr_si``: a gamma serial interval (shifted by one day) on lags 0, 1, 2, …

    w_k = k·F(k) + (k−2)·F(k−2) − 2(k−1)·F(k−1) + a·b·[2·G(k−1) − G(k−2) − G(k)], clipped at 0,
    where F is the Gamma(a, b) and G the Gamma(a + 1, b) CDF, a = ((µ−1)/σ)², b = σ²/(µ−1).
    w_0 is 0 by construction. Truncated where the remaining mass is below ``SI_TAIL_MASS`` (or at
    ``max_lag``) and renormalised.
    """
    if not (math.isfinite(mean_d) and mean_d > 1):
        raise InputError(f"serial interval mean must be > 1 day, got {mean_d!r}", field="si_mean")
    if not (math.isfinite(sd_d) and sd_d > 0):
        raise InputError(f"serial interval sd must be > 0, got {sd_d!r}", field="si_sd")
    from scipy import stats  # lazy: scipy.stats costs ~1 s to import, most commands never need it

    a = ((mean_d - 1) / sd_d) ** 2
    b = sd_d**2 / (mean_d - 1)
    if max_lag is None:
        # far enough that the tail beyond is negligible (the SI is shifted by one day)
        max_lag = math.ceil(float(stats.gamma.ppf(1 - SI_TAIL_MASS, a, scale=b))) + 2
    k = np.arange(max_lag + 1, dtype=float)

    def cdf(x: np.ndarray, shape: float) -> np.ndarray:
        return np.where(x > 0, stats.gamma.cdf(np.maximum(x, 0), shape, scale=b), 0.0)

    w = (
        k * cdf(k, a)
        + (k - 2) * cdf(k - 2, a)
        - 2 * (k - 1) * cdf(k - 1, a)
        + a * b * (2 * cdf(k - 1, a + 1) - cdf(k - 2, a + 1) - cdf(k, a + 1))
    )
    w = np.maximum(w, 0.0)
    w[0] = 0.0
    return w / w.sum()


def default_serial_interval() -> np.ndarray:
    """The documented default: discretised gamma with mean 4.7 d and sd 2.9 d."""
    return discretise_gamma_si(DEFAULT_SI_MEAN_D, DEFAULT_SI_SD_D)


def validate_si(si: npt.ArrayLike, *, source: str = "serial interval") -> np.ndarray:
    """Check a serial interval: w_0 = 0, no negative value, sums to 1 within 1e-3 (then renormalised)."""
    w = np.asarray(si, dtype=float)
    if w.ndim != 1 or w.size < 2:
        raise InputError("needs probabilities for lags 0, 1, … (at least two)", source=source)
    if not np.all(np.isfinite(w)):
        raise InputError(
            "not a number", source=source, row=int(np.flatnonzero(~np.isfinite(w))[0]) + 1
        )
    if w[0] != 0:
        raise InputError("w0 (lag 0) must be 0", source=source, row=1)
    if np.any(w < 0):
        raise InputError(
            "negative probability", source=source, row=int(np.flatnonzero(w < 0)[0]) + 1
        )
    total = float(w.sum())
    if abs(total - 1.0) > 1e-3:
        raise InputError(f"probabilities sum to {total:.6g}, not 1", source=source)
    return w / total


def total_infectiousness(incidence: npt.ArrayLike, si: npt.ArrayLike) -> np.ndarray:
    """Λ_t = Σ_{k≥1} I_{t−k} w_k for every day t (w_0 = 0, so today's cases do not count)."""
    i = np.asarray(incidence, dtype=float)
    w = np.asarray(si, dtype=float)
    return np.convolve(i, w)[: i.size]


@dataclass(frozen=True, slots=True)
class RtEstimate:
    """Posterior of R per window: arrays indexed by window, dated by the window's last day."""

    end_index: np.ndarray
    """Index (0-based) of each window's last day in the incidence series."""
    mean: np.ndarray
    sd: np.ndarray
    q025: np.ndarray
    q975: np.ndarray
    shape: np.ndarray
    scale: np.ndarray
    dates: np.ndarray | None = None
    """``datetime64[D]`` of each window's last day, when dates were given."""

    def records(self) -> list[dict[str, object]]:
        """One dict per window: ``{date, mean, sd, q025, q975}`` (date ISO, or the day index)."""
        out: list[dict[str, object]] = []
        for j in range(self.end_index.size):
            when: object = str(self.dates[j]) if self.dates is not None else int(self.end_index[j])
            out.append(
                {
                    "date": when,
                    "mean": float(self.mean[j]),
                    "sd": float(self.sd[j]),
                    "q025": float(self.q025[j]),
                    "q975": float(self.q975[j]),
                }
            )
        return out


def estimate_rt(
    incidence: npt.ArrayLike,
    si: npt.ArrayLike | None = None,
    *,
    window: int = 7,
    prior_mean: float = 5.0,
    prior_sd: float = 5.0,
    dates: npt.ArrayLike | None = None,
) -> RtEstimate:
    """Cori et al. / EpiEstim R over sliding windows of ``window`` days.

    Parameters
    ----------
    incidence
        Daily new cases (local cases; one value per consecutive day), >= 0.
    si
        Discretised serial interval for lags 0, 1, 2, … with w_0 = 0; default
        ``default_serial_interval()``.
    window
        Days per window (EpiEstim default 7). Windows end on days ``window``, ``window + 1``, …
        (0-based), so the first starts on day 1, as EpiEstim's ``t_start = 2`` does.
    prior_mean, prior_sd
        Gamma prior of R (mean 5, sd 5 → shape 1, scale 5).
    dates
        Optional dates of the incidence days, copied to the result.
    """
    i = np.asarray(incidence, dtype=float)
    if i.ndim != 1:
        raise InputError("incidence must be one series", field="incidence")
    if not np.all(np.isfinite(i)) or np.any(i < 0):
        bad = int(np.flatnonzero(~np.isfinite(i) | (i < 0))[0])
        raise InputError("counts must be finite and >= 0", row=bad + 1, field="incidence")
    if window < 1:
        raise InputError(f"window must be >= 1 day, got {window}", field="window")
    if i.size < window + 1:
        raise InputError(
            f"need at least {window + 1} days for a {window}-day window, got {i.size}",
            field="incidence",
        )
    if prior_mean <= 0 or prior_sd <= 0:
        raise InputError("prior mean and sd must be > 0", field="prior")
    w = default_serial_interval() if si is None else validate_si(si)
    a_prior = (prior_mean / prior_sd) ** 2
    b_prior = prior_sd**2 / prior_mean
    lam = total_infectiousness(i, w)
    ci = np.concatenate(([0.0], np.cumsum(i)))
    cl = np.concatenate(([0.0], np.cumsum(lam)))
    end = np.arange(window, i.size)  # last day of each window (start = end − window + 1 >= 1)
    sum_i = ci[end + 1] - ci[end + 1 - window]
    sum_l = cl[end + 1] - cl[end + 1 - window]
    shape = a_prior + sum_i
    scale = 1.0 / (1.0 / b_prior + sum_l)
    mean = shape * scale
    sd = np.sqrt(shape) * scale
    from scipy import stats  # lazy (see discretise_gamma_si)

    q025 = stats.gamma.ppf(0.025, shape, scale=scale)
    q975 = stats.gamma.ppf(0.975, shape, scale=scale)
    day_arr = None
    if dates is not None:
        all_days = np.asarray(dates).astype("datetime64[D]")
        if all_days.size != i.size:
            raise InputError("one date per incidence day", field="dates")
        day_arr = all_days[end]
    return RtEstimate(end, mean, sd, q025, q975, shape, scale, day_arr)


def parse_incidence_csv(text: str, *, source: str = "incidence") -> tuple[list[date], np.ndarray]:
    """Read an incidence CSV: a header row, then ``date,count`` rows for consecutive days.

    Raises
    ------
    InputError
        Naming the 1-based data row: unparseable date, missing/negative/non-numeric count,
        a repeated day or a gap between days.
    """
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        raise InputError("empty file", source=source)
    days: list[date] = []
    counts: list[float] = []
    for n, row in enumerate(rows[1:], start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise InputError("needs a date and a count", source=source, row=n)
        try:
            day = parse_date(row[0])
        except ValueError:
            raise InputError(
                f"not a date: {row[0]!r}", source=source, row=n, field="date"
            ) from None
        try:
            count = float(row[1])
        except ValueError:
            raise InputError(
                f"not a number: {row[1]!r}", source=source, row=n, field="count"
            ) from None
        if not math.isfinite(count) or count < 0:
            raise InputError(
                f"count must be >= 0, got {row[1].strip()}", source=source, row=n, field="count"
            )
        if days:
            step = (day - days[-1]).days
            if step != 1:
                what = "repeated or earlier day" if step <= 0 else f"gap of {step - 1} day(s)"
                raise InputError(
                    f"{what} after {days[-1]}: days must be consecutive",
                    source=source,
                    row=n,
                    field="date",
                )
        days.append(day)
        counts.append(count)
    if not days:
        raise InputError("no data rows", source=source)
    return days, np.asarray(counts, dtype=float)


def parse_si_csv(text: str, *, source: str = "serial interval") -> np.ndarray:
    """Read a serial-interval CSV: a header row, then one probability per row for lags 0, 1, 2, …

    Raises
    ------
    InputError
        Naming the row for a non-numeric or negative value or w_0 ≠ 0; the file for a sum far from 1.
    """
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    values: list[float] = []
    for n, row in enumerate(rows[1:], start=1):
        if not row or not row[0].strip():
            continue
        try:
            v = float(row[0])
        except ValueError:
            raise InputError(f"not a number: {row[0]!r}", source=source, row=n) from None
        if not math.isfinite(v) or v < 0:
            raise InputError(
                f"probability must be >= 0, got {row[0].strip()}", source=source, row=n
            )
        if n == 1 and v != 0:
            raise InputError("w0 (lag 0) must be 0", source=source, row=n)
        values.append(v)
    return validate_si(np.asarray(values, dtype=float), source=source)
