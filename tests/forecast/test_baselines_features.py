"""Baselines on tiny series, calendar features and glitch repair."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ansim.forecast import baselines
from ansim.forecast.features import (
    calendar_frame,
    panel_from_cases,
    panel_from_crowd,
    repair_panel,
)


def test_seasonal_naive_persistence_and_mean_on_a_tiny_series() -> None:
    v = np.arange(20, dtype=float)[:, None]  # one area, values 0..19
    origins, horizons = np.array([14]), np.array([1, 7, 8])
    # Season 7: target 15 -> 8; target 21 -> 14; target 22 -> 22-14 = 8 (two seasons back).
    assert baselines.seasonal_naive(v, origins, horizons, season=7).tolist() == [8.0, 14.0, 8.0]
    assert baselines.persistence(v, origins, horizons).tolist() == [14.0, 14.0, 14.0]
    assert baselines.trailing_mean(v, origins, horizons, window=7).tolist() == [11.0] * 3


def test_trailing_mean_skips_missing_values() -> None:
    v = np.array([[1.0], [np.nan], [3.0]])
    assert baselines.trailing_mean(v, np.array([2]), np.array([1]), window=3).tolist() == [2.0]


def test_korean_holidays_seollal_chuseok_and_substitute_days() -> None:
    days = pd.date_range("2020-01-22", "2020-01-29", tz="Asia/Seoul")
    cal = calendar_frame(days, 86400)
    by_day = dict(zip(days.strftime("%m-%d"), cal.itertuples(), strict=True))
    for d in ("01-24", "01-25", "01-26", "01-27"):  # Seollal 2020 with its substitute Monday
        assert by_day[d].is_holiday == 1
        assert by_day[d].is_big_holiday == 1
    assert by_day["01-28"].is_holiday == 0
    assert by_day["01-28"].days_from_holiday == 1
    assert by_day["01-22"].days_to_holiday == 2
    assert by_day["01-25"].offday_run == 4  # Fri-Mon block
    chuseok = calendar_frame(pd.date_range("2020-10-01", periods=1, tz="Asia/Seoul"), 86400)
    assert chuseok["is_big_holiday"].iloc[0] == 1
    hourly = calendar_frame(
        pd.date_range("2020-01-24 05:00", periods=2, freq="h", tz="Asia/Seoul"), 3600
    )
    assert hourly["hour"].tolist() == [5, 6]


def _crowd_frame(days: int = 35, areas: int = 4) -> pd.DataFrame:
    t = pd.date_range("2019-03-04", periods=days, freq="D", tz="Asia/Seoul")
    rows = []
    for a in range(areas):
        for i, ts in enumerate(t):
            rows.append(
                (
                    f"1111{a}",
                    ts,
                    86400,
                    1000.0 * (a + 1) * (1.2 if ts.weekday() < 5 else 1.0) + i,
                    "x",
                )
            )
    return pd.DataFrame(rows, columns=["area", "period_start", "period_s", "count", "source"])


def test_a_doubled_day_and_a_gap_are_repaired_and_reported() -> None:
    frame = _crowd_frame()
    doubled_day = pd.Timestamp(
        "2019-03-29", tz="Asia/Seoul"
    )  # a Friday, weeks of history before it
    sel = frame["period_start"] == doubled_day
    frame.loc[sel, "count"] *= 2
    gap_day = pd.Timestamp("2019-04-02", tz="Asia/Seoul")
    frame = frame[frame["period_start"] != gap_day]
    clean = panel_from_crowd(_crowd_frame())
    raw = panel_from_crowd(frame)
    assert any("gaps" in n for n in raw.notes)
    fixed, flags = repair_panel(raw)
    assert set(flags["reason"]) == {"high", "gap"}
    t = list(fixed.index).index(doubled_day)
    # Repaired to within 3% of the clean values (the reference is last weeks' same weekday).
    assert np.allclose(fixed.values[t], clean.values[t], rtol=0.03)
    assert not np.isnan(fixed.values).any()
    assert any("'high'" in n for n in fixed.notes)


def test_duplicated_case_rows_are_dropped_and_noted() -> None:
    frame = pd.DataFrame(
        {
            "region_code": ["11110", "11110", "11110"],
            "date": ["2020-03-01", "2020-03-01", "2020-03-02"],
            "new_cases": [2, 2, 5],
            "source": "x",
        }
    )
    panel = panel_from_cases(frame)
    assert panel.values[:, 0].tolist() == [2.0, 5.0]
    assert any("duplicated" in n for n in panel.notes)


@pytest.mark.parametrize("missing", ["region_code", "new_cases"])
def test_missing_column_names_the_field(missing: str) -> None:
    from ansim.errors import InputError

    frame = pd.DataFrame({"region_code": ["11110"], "date": ["2020-03-01"], "new_cases": [1]})
    with pytest.raises(InputError) as exc:
        panel_from_cases(frame.drop(columns=[missing]))
    assert exc.value.field == missing
