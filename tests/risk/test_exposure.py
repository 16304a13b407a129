"""Exposure-site kernel: space, time, retention, incremental updates."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from ansim.errors import InputError
from ansim.geo.cells import seoul_cells
from ansim.records import ExposureEvent
from ansim.risk.exposure import (
    AIR_HALF_LIFE_H,
    CLUSTER_WINDOWS,
    ExposureField,
    KernelParams,
    date_cluster_events,
    epoch_s,
    kernel_peak,
    time_factor,
)
from ansim.timeutil import SEOUL

T0 = datetime(2020, 3, 10, 18, 0, tzinfo=SEOUL)


def event(
    lat: float,
    lon: float,
    *,
    hours: float = 1.0,
    radius_m: float = 100.0,
    rid: str = "x",
    start: datetime = T0,
) -> ExposureEvent:
    return ExposureEvent(
        source="test",
        source_record_id=rid,
        lat=lat,
        lon=lon,
        start=start,
        end=start + timedelta(hours=hours),
        radius_m=radius_m,
    )


@pytest.fixture(scope="module")
def table():
    return seoul_cells(10)


def test_kernel_widening_keeps_the_mass(table) -> None:
    masses = []
    for r in (0.0, 100.0, 300.0):
        f = ExposureField.build([event(37.5663, 126.9920, radius_m=r)], table)
        masses.append(float(np.sum(f.entry_weight * table.area_m2[f.entry_row])))
        assert f.entry_weight.max() <= kernel_peak(r) + 1e-12
    # ∫ peak·exp(-d²/2σ²) dA = 2π σ0² for every r_u (σ0 = 50 m); the cell grid integrates it to ~10 %
    for m in masses:
        assert m == pytest.approx(2 * math.pi * 50.0**2, rel=0.15)
    assert kernel_peak(100.0) == pytest.approx(0.5)


def test_time_factor_window_decay_and_retention() -> None:
    s, e = epoch_s(T0), epoch_s(T0 + timedelta(hours=1))
    p = KernelParams()
    f = lambda t: float(time_factor([s], [e], epoch_s(t), params=p)[0])  # noqa: E731
    assert f(T0 - timedelta(minutes=1)) == 0.0
    assert f(T0 + timedelta(minutes=30)) == 1.0
    half = T0 + timedelta(hours=1 + AIR_HALF_LIFE_H)
    expected = 0.95 * 0.5 + 0.05 * 2 ** (-AIR_HALF_LIFE_H / 6.8)
    assert f(half) == pytest.approx(expected, rel=1e-9)
    assert f(T0 + timedelta(hours=1, days=13, minutes=59 * 24)) > 0  # still listed
    assert f(T0 + timedelta(hours=1, days=14)) == 0.0  # deleted after 14 days
    # the mean over an interval equals the numerical mean of the instantaneous factor
    a, b = T0 + timedelta(minutes=30), T0 + timedelta(hours=3)
    grid = np.linspace(epoch_s(a), epoch_s(b), 20001)
    inst = np.array([time_factor([s], [e], t, params=p)[0] for t in grid])
    mean = float(time_factor([s], [e], epoch_s(a), epoch_s(b), params=p)[0])
    assert mean == pytest.approx(float(np.trapezoid(inst, grid) / (grid[-1] - grid[0])), rel=1e-3)


def test_presence_peaks_at_the_site_and_vanishes_later(table) -> None:
    f = ExposureField.build([event(37.5663, 126.9920)], table)
    row = table.locate(37.5663, 126.9920)
    during = f.presence(len(table), epoch_s(T0 + timedelta(minutes=10)))
    assert int(np.argmax(during)) == row
    assert during[row] == pytest.approx(0.5, rel=0.1)  # peak 0.5 × present the whole hour
    # two days on only the surface share is left: 0.05 × 2^(-47 h / 6.8 h) of the peak
    assert f.presence(len(table), epoch_s(T0 + timedelta(days=2))).max() < 1e-3 * during[row]


def test_day_window_spreads_presence(table) -> None:
    day = ExposureField.build([event(37.5663, 126.9920, hours=24)], table)
    hour = ExposureField.build([event(37.5663, 126.9920, hours=1)], table)
    t = epoch_s(T0 + timedelta(minutes=10))
    assert day.presence(len(table), t).max() == pytest.approx(
        hour.presence(len(table), t).max() / 24
    )


def test_incremental_equals_full_and_expire(table) -> None:
    rng = np.random.default_rng(3)
    evs = [
        event(37.50 + 0.1 * a, 126.90 + 0.15 * b, rid=str(i), start=T0 + timedelta(hours=int(h)))
        for i, (a, b, h) in enumerate(
            zip(rng.random(40), rng.random(40), rng.integers(0, 400, 40), strict=True)
        )
    ]
    full = ExposureField.build(evs, table)
    inc = ExposureField.build(evs[:25], table).with_events(evs[25:], table)
    for name in ("entry_event", "entry_row", "entry_weight", "cases", "start_s"):
        assert np.array_equal(getattr(full, name), getattr(inc, name))
    t = epoch_s(T0 + timedelta(hours=200))
    assert np.array_equal(full.presence(len(table), t), inc.presence(len(table), t))
    now = T0 + timedelta(days=15)
    expired = full.expire(now)
    alive = [e for e in evs if e.end + timedelta(days=14) > now]
    assert expired.size == len(alive) < len(evs)
    rebuilt = ExposureField.build(alive, table)
    t2 = epoch_s(now)
    assert np.allclose(expired.presence(len(table), t2), rebuilt.presence(len(table), t2))


def test_bad_vague_and_outside_events(table) -> None:
    with pytest.raises(InputError) as exc:
        ExposureField.build([replace(event(37.56, 126.99), end=T0)], table)
    assert exc.value.field == "end"
    f = ExposureField.build(
        [event(35.18, 129.08, rid="busan"), event(37.56, 126.99, radius_m=3000, rid="gu")], table
    )
    assert f.size == 0
    assert set(f.skipped) == {"test:busan", "test:gu"}


def test_cluster_windows() -> None:
    cluster = ExposureEvent(
        source="ds4c-case",
        source_record_id="1000001",
        lat=37.538621,
        lon=126.992652,
        start=T0,
        end=T0 + timedelta(days=100),
        place_name="Itaewon Clubs",
        cases=139,
        precision="place",
    )
    other = replace(cluster, place_name="Unknown Church", source_record_id="2")
    dated, dropped = date_cluster_events([cluster, other, event(37.5, 127.0)])
    assert dropped == ["Unknown Church"]
    assert len(dated) == 2
    start, end, _ = CLUSTER_WINDOWS["Itaewon Clubs"]
    assert dated[0].start.date() == start
    assert dated[0].end.date() == end
    assert 1 <= dated[0].cases < 139
