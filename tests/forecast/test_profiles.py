"""The pooled estimates the boosters start from: causal, and right on series built to know the answer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ansim.forecast import profiles
from ansim.forecast.features import korean_holidays


def _hourly(days: int, *, n_a: int = 3, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hour_shape = 1.0 + np.sin(np.linspace(0, 2 * np.pi, 24, endpoint=False)) * 0.5
    level = np.array([100.0, 250.0, 40.0])[:n_a]
    v = np.tile(hour_shape[:, None] * level[None, :], (days, 1))
    return v * rng.lognormal(0.0, 0.02, v.shape)


def test_day_types_know_seollal_and_weekends() -> None:
    hol = set(korean_holidays())
    types = profiles.day_types(pd.Timestamp("2020-01-20"), 10, hol)
    # Mon 20 … Thu 23 working; Fri 24 – Mon 27 Seollal block; Tue 28, Wed 29 working
    assert list(types) == [0, 0, 0, 0, 2, 2, 2, 2, 0, 0]
    assert profiles.day_types(pd.Timestamp("2020-02-08"), 2, hol).tolist() == [1, 2]


def test_hourly_profile_recovers_a_stable_pattern() -> None:
    v = _hourly(21)
    n_t, n_a = v.shape
    types = np.zeros(23, dtype=int)  # treat every day alike: the weekly level is then the day's
    o = np.full(n_a, n_t - 25)
    t = o + 5
    a = np.arange(n_a)
    est = profiles.hourly_profile_estimate(
        v, first_hour=0, types=types, origins=o, targets=t, areas=a
    )
    assert np.allclose(est, v[t, a], rtol=0.08)


def test_hourly_profile_uses_nothing_after_the_origin() -> None:
    v = _hourly(21)
    n_a = v.shape[1]
    hol = set(korean_holidays())
    types = profiles.day_types(pd.Timestamp("2020-03-02"), 24, hol)
    origins = np.repeat(np.arange(200, 300), n_a)
    targets = origins + 7
    areas = np.tile(np.arange(n_a), 100)
    before = profiles.hourly_profile_estimate(
        v, first_hour=5, types=types, origins=origins, targets=targets, areas=areas
    )
    for o in (220, 260, 299):
        corrupt = v.copy()
        corrupt[o + 1 :] = 1e9
        after = profiles.hourly_profile_estimate(
            corrupt, first_hour=5, types=types, origins=origins, targets=targets, areas=areas
        )
        upto = origins <= o
        assert np.allclose(after[upto], before[upto], equal_nan=True)
        assert np.isfinite(before[upto]).all()


def test_weekday_factor_finds_the_monday_dip_causally() -> None:
    days = 120
    weekday = np.arange(days) % 7
    totals = np.where(weekday == 0, 50.0, 100.0)  # day 0, 7, … report half
    origins = np.array([100, 100])
    targets = np.array([105, 103])  # weekday 0 (a dip day) and weekday 5
    f = profiles.weekday_factor(totals, origins=origins, targets=targets)
    week_mean = (6 * 100 + 50) / 7
    assert np.allclose(f, [50 / week_mean, 100 / week_mean])
    corrupt = totals.copy()
    corrupt[101:] = 1e6
    assert np.allclose(profiles.weekday_factor(corrupt, origins=origins, targets=targets), f)


def test_pooled_case_estimate_splits_the_city_level_by_recent_shares() -> None:
    days = 60
    y = np.zeros((days, 2))
    y[:, 0] = 30.0
    y[:, 1] = 10.0
    o = np.array([50, 50])
    est, factor = profiles.pooled_case_estimate(y, origins=o, targets=o + 7, areas=np.array([0, 1]))
    assert np.allclose(factor, 1.0)
    assert np.allclose(est, [30.0, 10.0])


def test_the_frozen_skt_feed_is_flagged_and_seollal_is_not() -> None:
    """On the real SKT file: the hours every gu stood still are found; Seollal's quiet is real."""
    from ansim.forecast.features import repair_panel
    from ansim.forecast.history import BUNDLED, load_history
    from ansim.settings import get_settings

    raw = load_history(get_settings().data_dir / BUNDLED["crowd_hourly"]).panel
    repaired, flags = repair_panel(raw)
    frozen = flags[flags["reason"] == "frozen"]
    hours = sorted({t.strftime("%m-%d %H") for t in frozen["time"]})
    assert hours == ["02-08 00"] + [f"02-08 {h:02d}" for h in range(8, 14)] + [
        "02-14 18",
        "02-14 19",
        "02-14 20",
    ]
    assert frozen.groupby("time")["area"].nunique().eq(25).all()  # whole feed, every gu
    assert not any(
        t.strftime("%m-%d") in {"01-24", "01-25", "01-26", "01-27"} for t in flags["time"]
    )
    # the repair follows the day's normal course: Gangnam's Saturday midday rise comes back
    gangnam = raw.areas.index("11680")
    at = raw.index.get_loc(pd.Timestamp("2020-02-08 12:00", tz="Asia/Seoul"))
    before = raw.index.get_loc(pd.Timestamp("2020-02-08 06:00", tz="Asia/Seoul"))
    assert raw.values[at, gangnam] < raw.values[before, gangnam]  # frozen: still drifting down
    assert repaired.values[at, gangnam] > 1.1 * repaired.values[before, gangnam]
    assert any("frozen" in n for n in repaired.notes)
