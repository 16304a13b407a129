"""The synthetic ping generator: reproducible by seed, faithful to the floating population."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pyarrow as pa
import pytest
import shapely

from ansim.scale.generate import (
    PING_SCHEMA,
    _uniform_in,
    generate_pings,
    hourly_mixture,
    seoul_model,
)
from ansim.timeutil import SEOUL


def _concat(tables: list[pa.Table]) -> pa.Table:
    return pa.concat_tables(tables)


def test_same_seed_same_pings_other_seed_other_pings() -> None:
    first = _concat(list(generate_pings(devices=200, hours=2, seed=11)))
    again = _concat(list(generate_pings(devices=200, hours=2, seed=11)))
    other = _concat(list(generate_pings(devices=200, hours=2, seed=12)))
    assert first.schema == PING_SCHEMA
    assert first.equals(again)
    assert not first.select(["lat"]).equals(other.select(["lat"]))
    # About 20 pings per device and hour, in time order, within the hours asked for.
    assert 7_000 < first.num_rows < 9_000
    ts = first.column("timestamp").cast(pa.int64()).to_numpy()
    assert (np.diff(ts[: first.num_rows // 2]) >= 0).all()
    start = datetime(2020, 2, 3, tzinfo=SEOUL).timestamp() * 1000
    assert ts.min() >= start
    assert ts.max() < start + 2 * 3_600_000


def test_mixture_reproduces_the_hourly_shares_exactly() -> None:
    model = seoul_model()
    share = model.hourly_share
    p_home, p_work, out = hourly_mixture(share, share[3], share[14])
    p_out = 1 - p_home - p_work
    rebuilt = p_home[:, None] * share[3] + p_work[:, None] * share[14] + p_out[:, None] * out
    np.testing.assert_allclose(rebuilt, share, atol=1e-12)
    assert (p_out >= 0).all()
    # The anchors carry most people at night and in office hours.
    assert p_home[3] > 0.5
    assert p_work[10] > 0.3


@pytest.mark.parametrize("hour", [4, 11, 19])
def test_pings_follow_floating_population_gu_shares(hour: int) -> None:
    model = seoul_model()
    start = datetime(2020, 2, 4, hour, tzinfo=SEOUL)
    table = _concat(list(generate_pings(devices=4000, hours=1, seed=hour, start=start)))
    lat = table.column("lat").to_numpy()
    lon = table.column("lon").to_numpy()
    counts = np.array([shapely.contains_xy(poly, lon, lat).sum() for poly in model.polygons])
    # Every ping lies in Seoul (GPS noise may push a few over a gu border).
    assert counts.sum() > 0.995 * len(lat)
    observed = counts / counts.sum()
    expected = model.hourly_share[hour]
    total_variation = 0.5 * np.abs(observed - expected).sum()
    assert total_variation < 0.06, (total_variation, hour)
    # Clustering: far more pings lie within 300 m of a subway station than a uniform spread
    # over the same gu would put there.
    stations = np.concatenate(model.stations)
    rng = np.random.default_rng(0)
    uniform = [
        _uniform_in(rng, poly, int(n)) for poly, n in zip(model.polygons, counts, strict=True) if n
    ]
    u_lat = np.concatenate([u[0] for u in uniform])
    u_lon = np.concatenate([u[1] for u in uniform])
    near = _share_near(lat[:20_000], lon[:20_000], stations)
    assert near > 1.5 * _share_near(u_lat[:20_000], u_lon[:20_000], stations)


def _share_near(
    lat: np.ndarray, lon: np.ndarray, stations: np.ndarray, radius_m: float = 300
) -> float:
    dy = (lat[:, None] - stations[None, :, 0]) * 110_940.0
    dx = (lon[:, None] - stations[None, :, 1]) * 88_200.0
    return float(((dx**2 + dy**2).min(axis=1) < radius_m**2).mean())
