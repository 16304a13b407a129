"""Rt by Cori et al.: equal to the analytic gamma posterior, and right on epidemics of known growth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ansim.errors import InputError
from ansim.risk.rt import (
    DEFAULT_SI_MEAN_D,
    default_serial_interval,
    discretise_gamma_si,
    estimate_rt,
    parse_incidence_csv,
    parse_si_csv,
    validate_si,
)


def _analytic(incidence, w, window, a=1.0, b=5.0):
    """The posterior written out term by term, with plain loops."""
    n = len(incidence)
    lam = [sum(incidence[t - s] * w[s] for s in range(1, min(t, len(w) - 1) + 1)) for t in range(n)]
    out = []
    for end in range(window, n):
        s_i = sum(incidence[end - window + 1 : end + 1])
        s_l = sum(lam[end - window + 1 : end + 1])
        shape, scale = a + s_i, 1 / (1 / b + s_l)
        out.append((shape * scale, math.sqrt(shape) * scale, shape, scale))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("window", [7, 3, 14])
def test_equals_the_analytic_posterior(seed, window):
    rng = np.random.default_rng(seed)
    incidence = rng.poisson(rng.uniform(1, 80, 60)).astype(float)
    w = default_serial_interval()
    est = estimate_rt(incidence, w, window=window)
    expected = _analytic(list(incidence), list(w), window)
    assert est.mean.size == len(expected) == 60 - window
    for j, (mean, sd, shape, scale) in enumerate(expected):
        assert abs(est.mean[j] - mean) < 1e-9
        assert abs(est.sd[j] - sd) < 1e-9
        assert abs(est.q025[j] - stats.gamma.ppf(0.025, shape, scale=scale)) < 1e-9
        assert abs(est.q975[j] - stats.gamma.ppf(0.975, shape, scale=scale)) < 1e-9


def test_prior_mean_5_sd_5():
    # no cases at all: posterior = prior Gamma(1, 5) → mean 5, sd 5
    est = estimate_rt(np.zeros(20))
    assert est.mean == pytest.approx(np.full(13, 5.0))
    assert est.sd == pytest.approx(np.full(13, 5.0))


def test_first_window_starts_on_day_two_and_is_dated_by_its_end():
    days = np.arange("2020-03-01", "2020-03-21", dtype="datetime64[D]")
    est = estimate_rt(np.full(20, 10.0), dates=days)
    assert est.end_index[0] == 7
    assert est.records()[0]["date"] == "2020-03-08"
    assert est.records()[-1]["date"] == "2020-03-20"


@pytest.mark.parametrize("growth_per_day", [0.06, -0.04, 0.01])
def test_known_growth_rate(growth_per_day):
    """Exponential growth e^(rt): R = 1 / Σ_s w_s e^(−rs) (discrete Euler-Lotka)."""
    w = default_serial_interval()
    t = np.arange(120)
    incidence = 1e6 * np.exp(growth_per_day * t)  # large counts: the prior's weight vanishes
    est = estimate_rt(incidence, w)
    expected = 1 / np.sum(w * np.exp(-growth_per_day * np.arange(w.size)))
    # after the serial interval has filled in (60 days), deterministic counts give R almost exactly
    late = est.end_index >= 60
    assert est.mean[late] == pytest.approx(np.full(late.sum(), expected), rel=2e-3)


def test_poisson_epidemic_with_phases():
    """A stochastic epidemic grows, falls, then grows slowly: the estimates follow the phases."""
    rng = np.random.default_rng(7)
    rate = np.concatenate(
        [100 * np.exp(0.06 * np.arange(40)), 100 * np.exp(0.06 * 39 - 0.04 * np.arange(1, 31))]
    )
    incidence = rng.poisson(rate).astype(float)
    w = default_serial_interval()
    est = estimate_rt(incidence, w)
    grow = 1 / np.sum(w * np.exp(-0.06 * np.arange(w.size)))
    fall = 1 / np.sum(w * np.exp(0.04 * np.arange(w.size)))
    at = {int(e): m for e, m in zip(est.end_index, est.mean, strict=True)}
    assert at[35] == pytest.approx(grow, rel=0.05)
    assert at[65] == pytest.approx(fall, rel=0.05)


def test_discretised_si_keeps_the_mean_and_w0():
    w = discretise_gamma_si(DEFAULT_SI_MEAN_D, 2.9)
    assert w[0] == 0
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    assert float(np.sum(np.arange(w.size) * w)) == pytest.approx(4.7, abs=1e-6)
    # EpiEstim's discr_si written out for k = 1: F(1) − 2·0 … with shape a, scale b
    a, b = ((4.7 - 1) / 2.9) ** 2, 2.9**2 / 3.7
    w1 = stats.gamma.cdf(1, a, scale=b) + a * b * (-stats.gamma.cdf(1, a + 1, scale=b))
    untruncated = discretise_gamma_si(4.7, 2.9, max_lag=400)
    assert w[1] == pytest.approx(w1, rel=1e-6)
    assert untruncated[1] == pytest.approx(w1, rel=1e-6)


def test_bad_si_and_incidence():
    with pytest.raises(InputError, match="w0"):
        validate_si([0.1, 0.9])
    with pytest.raises(InputError, match="sum"):
        validate_si([0, 0.5, 0.2])
    with pytest.raises(InputError) as info:
        estimate_rt([1, 2, -1, 4, 5, 6, 7, 8, 9])
    assert info.value.row == 3
    with pytest.raises(InputError, match="at least 8 days"):
        estimate_rt([1, 2, 3])
    with pytest.raises(InputError, match="mean"):
        discretise_gamma_si(0.9, 1)


def test_parse_incidence_csv_rows():
    days, counts = parse_incidence_csv("date,cases\n2020-03-01,3\n2020-03-02,0\n2020.03.03,5\n")
    assert [d.isoformat() for d in days] == ["2020-03-01", "2020-03-02", "2020-03-03"]
    assert counts.tolist() == [3, 0, 5]
    bad = {
        "date,cases\n2020-03-01,3\n2020-03-02,-1\n": (2, "count"),
        "date,cases\n2020-03-01,3\nyesterday,1\n": (2, "date"),
        "date,cases\n2020-03-01,3\n2020-03-02,x\n": (2, "count"),
        "date,cases\n2020-03-01,3\n2020-03-01,1\n": (2, "date"),
        "date,cases\n2020-03-01,3\n2020-03-02,1\n2020-03-05,1\n": (3, "date"),
    }
    for text, (row, field) in bad.items():
        with pytest.raises(InputError) as info:
            parse_incidence_csv(text, source="inc.csv")
        assert (info.value.row, info.value.field, info.value.source) == (row, field, "inc.csv"), (
            text
        )


def test_parse_si_csv_rows():
    w = parse_si_csv("w\n0\n0.25\n0.5\n0.25\n")
    assert w.tolist() == [0, 0.25, 0.5, 0.25]
    with pytest.raises(InputError) as info:
        parse_si_csv("w\n0.1\n0.9\n")
    assert info.value.row == 1
    with pytest.raises(InputError) as info:
        parse_si_csv("w\n0\n0.5\nabc\n")
    assert info.value.row == 3
    with pytest.raises(InputError) as info:
        parse_si_csv("w\n0\n0.5\n-0.1\n")
    assert info.value.row == 3
    with pytest.raises(InputError, match="sum"):
        parse_si_csv("w\n0\n0.5\n0.1\n")
