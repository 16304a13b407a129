"""Synthetic location pings that look like a Seoul telco feed, reproducible by seed.

Model (documented in ``docs/scale.md``):

- Where people are, by gu and hour of day, follows the bundled SK Telecom floating population
  (``data/ds4c/SeoulFloating.csv.gz``, summed over age and sex, averaged over its 60 days).
- Each device has a home anchor (gu drawn from the 03:00 distribution) and a work anchor (gu
  drawn from the 14:00 distribution). An anchor is near a subway station of its gu (Gaussian,
  σ = 250 m) with probability 0.6, else uniform in the gu polygon.
- In each hour a device is at home, at work, or out (at a fresh point in a gu drawn from the
  residual distribution), with a daily schedule scaled so that the expected share of devices in
  each gu at hour h equals the floating-population share exactly (see :func:`hourly_mixture`).
- A device pings as a Poisson process (20 an hour on average, i.e. every 3 minutes with jitter),
  each ping with 20 m of GPS noise. Pings are emitted hour by hour, sorted by time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from ansim.errors import InputError
from ansim.geo.gazetteer import load_gazetteer
from ansim.settings import get_settings
from ansim.sources.ds4c import read_seoul_floating
from ansim.timeutil import SEOUL, as_seoul

PING_SCHEMA = pa.schema(
    [
        ("device_id", pa.dictionary(pa.int32(), pa.string())),
        ("timestamp", pa.timestamp("ms", tz="Asia/Seoul")),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
    ]
)

PINGS_PER_HOUR = 20.0
GPS_NOISE_M = 20.0
STATION_SIGMA_M = 250.0
P_NEAR_STATION = 0.6
ROW_GROUP_ROWS = 1_000_000
DEFAULT_START = datetime(2020, 2, 3, tzinfo=SEOUL)  # a Monday inside the floating-population data

_M_PER_DEG_LAT = 110_940.0
_M_PER_DEG_LON = 88_200.0  # at 37.55°N

# Share of devices at home and at work by hour of day, before scaling (the rest are out).
_AT_HOME = np.array(
    [0.95] * 7
    + [0.6, 0.3]
    + [0.15] * 3
    + [0.2, 0.2]
    + [0.15] * 4
    + [0.35, 0.5, 0.7, 0.7, 0.85, 0.9]
)
_AT_WORK = np.array(
    [0.0] * 7 + [0.2, 0.5] + [0.75] * 3 + [0.55, 0.55] + [0.75] * 4 + [0.4, 0.2, 0.1, 0.1, 0.0, 0.0]
)


@dataclass(frozen=True)
class SeoulModel:
    """What the generator draws from: gu polygons, stations per gu, hourly gu shares."""

    gu_codes: tuple[str, ...]
    polygons: tuple[shapely.Geometry, ...]
    stations: tuple[np.ndarray, ...]  # per gu: (n, 2) array of (lat, lon)
    hourly_share: np.ndarray  # (24, n_gu), rows sum to 1


def floating_shares(path: Path, gu_codes: tuple[str, ...]) -> np.ndarray:
    """Share of the floating population in each gu by Seoul hour of day, shape (24, n_gu)."""
    crowd = read_seoul_floating(path)
    hour = crowd["period_start"].dt.tz_convert(SEOUL).dt.hour
    mean = crowd.assign(hour=hour).pivot_table(
        index="hour", columns="area", values="count", aggfunc="mean"
    )
    table = mean.reindex(index=range(24), columns=list(gu_codes)).to_numpy(dtype=np.float64)
    if np.isnan(table).any():
        raise InputError("floating population lacks some gu or hour", source=str(path))
    return table / table.sum(axis=1, keepdims=True)


@lru_cache(maxsize=2)
def seoul_model(data_dir: Path | None = None) -> SeoulModel:
    """Load the bundled boundaries, stations and floating population (cached)."""
    d = data_dir or get_settings().data_dir
    gaz = load_gazetteer(d)
    gus = sorted(gaz.gus, key=lambda g: g.gu_code)
    codes = tuple(g.gu_code for g in gus)
    stations = []
    for g in gus:
        pts = [(p.lat, p.lon) for p in gaz.stations if p.region_code == g.gu_code]
        if not pts:  # no station in this gu: use its centroid as the one cluster centre
            pts = [(g.lat, g.lon)]
        stations.append(np.array(pts, dtype=np.float64))
    share = floating_shares(d / "ds4c" / "SeoulFloating.csv.gz", codes)
    return SeoulModel(codes, tuple(g.geometry for g in gus), tuple(stations), share)


def hourly_mixture(
    share: np.ndarray, home: np.ndarray, work: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probabilities of home, work and out per hour, and the gu distribution of the out state.

    With ``p_home[h]·home + p_work[h]·work + p_out[h]·out[h] == share[h]`` for every hour, the
    expected gu distribution of devices equals the floating-population share.

    Returns
    -------
    p_home, p_work (24,), out (24, n_gu) rows summing to 1 (or 0 where ``p_out`` is 0).
    """
    anchored = _AT_HOME[:, None] * home[None, :] + _AT_WORK[:, None] * work[None, :]
    # Scale the schedule down where it would put more people in a gu than the target share.
    scale = np.minimum(1.0, np.min(share / np.maximum(anchored, 1e-12), axis=1))
    p_home, p_work = _AT_HOME * scale, _AT_WORK * scale
    residual = np.clip(share - scale[:, None] * anchored, 0.0, None)
    mass = residual.sum(axis=1, keepdims=True)
    out = np.divide(residual, mass, out=np.zeros_like(residual), where=mass > 1e-12)
    return p_home, p_work, out


def _uniform_in(
    rng: np.random.Generator, polygon: shapely.Geometry, n: int
) -> tuple[np.ndarray, np.ndarray]:
    minx, miny, maxx, maxy = polygon.bounds
    lat, lon = np.empty(0), np.empty(0)
    while len(lat) < n:
        x = rng.uniform(minx, maxx, 2 * (n - len(lat)) + 8)
        y = rng.uniform(miny, maxy, len(x))
        inside = shapely.contains_xy(polygon, x, y)
        lat, lon = np.concatenate([lat, y[inside]]), np.concatenate([lon, x[inside]])
    return lat[:n], lon[:n]


def _near_station_in(
    rng: np.random.Generator, polygon: shapely.Geometry, stations: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    lat, lon = np.empty(0), np.empty(0)
    while len(lat) < n:
        m = 2 * (n - len(lat)) + 8
        centre = stations[rng.integers(0, len(stations), m)]
        y = centre[:, 0] + rng.normal(0.0, STATION_SIGMA_M / _M_PER_DEG_LAT, m)
        x = centre[:, 1] + rng.normal(0.0, STATION_SIGMA_M / _M_PER_DEG_LON, m)
        inside = shapely.contains_xy(polygon, x, y)
        lat, lon = np.concatenate([lat, y[inside]]), np.concatenate([lon, x[inside]])
    return lat[:n], lon[:n]


def points_in_gus(
    rng: np.random.Generator, model: SeoulModel, gu_index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One point inside the polygon of each given gu, clustered around its subway stations."""
    lat = np.empty(len(gu_index))
    lon = np.empty(len(gu_index))
    near = rng.random(len(gu_index)) < P_NEAR_STATION
    for g in np.unique(gu_index):
        for flag in (True, False):
            idx = np.flatnonzero((gu_index == g) & (near == flag))
            if len(idx) == 0:
                continue
            poly = model.polygons[g]
            y, x = (
                _near_station_in(rng, poly, model.stations[g], len(idx))
                if flag
                else _uniform_in(rng, poly, len(idx))
            )
            lat[idx], lon[idx] = y, x
    return lat, lon


def _device_ids(rng: np.random.Generator, devices: int) -> pa.Array:
    raw = rng.integers(0, 2**63 - 1, devices, dtype=np.int64)
    return pa.array([f"{v:016x}" for v in raw.tolist()], type=pa.string())


def generate_pings(
    *,
    devices: int,
    hours: int,
    seed: int,
    start: datetime = DEFAULT_START,
    pings_per_hour: float = PINGS_PER_HOUR,
    model: SeoulModel | None = None,
) -> Iterator[pa.Table]:
    """Yield the pings of each hour as an Arrow table (``PING_SCHEMA``), sorted by time.

    The same arguments give the same pings. Memory holds one hour of pings at a time.
    """
    if devices < 1 or hours < 1:
        raise InputError("devices and hours must be positive", field="devices/hours")
    m = model or seoul_model()
    rng = np.random.default_rng(seed)
    n_gu = len(m.gu_codes)
    home_gu = rng.choice(n_gu, devices, p=m.hourly_share[3])
    work_gu = rng.choice(n_gu, devices, p=m.hourly_share[14])
    home_lat, home_lon = points_in_gus(rng, m, home_gu)
    work_lat, work_lon = points_in_gus(rng, m, work_gu)
    p_home, p_work, out_share = hourly_mixture(
        m.hourly_share, m.hourly_share[3], m.hourly_share[14]
    )
    ids = _device_ids(rng, devices)
    start_local = as_seoul(start).replace(minute=0, second=0, microsecond=0)
    for h in range(hours):
        hour_start = start_local + timedelta(hours=h)
        hod = hour_start.hour
        u = rng.random(devices)
        lat = np.where(u < p_home[hod], home_lat, work_lat)
        lon = np.where(u < p_home[hod], home_lon, work_lon)
        out = u >= p_home[hod] + p_work[hod]
        if out.any():
            out_gu = rng.choice(n_gu, int(out.sum()), p=out_share[hod])
            lat[out], lon[out] = points_in_gus(rng, m, out_gu)
        counts = rng.poisson(pings_per_hour, devices)
        device = np.repeat(np.arange(devices, dtype=np.int32), counts)
        offset_ms = rng.integers(0, 3_600_000, len(device))
        order = np.argsort(offset_ms, kind="stable")
        device, offset_ms = device[order], offset_ms[order]
        ping_lat = lat[device] + rng.normal(0.0, GPS_NOISE_M / _M_PER_DEG_LAT, len(device))
        ping_lon = lon[device] + rng.normal(0.0, GPS_NOISE_M / _M_PER_DEG_LON, len(device))
        epoch_ms = int(hour_start.timestamp() * 1000) + offset_ms
        yield pa.table(
            {
                "device_id": pa.DictionaryArray.from_arrays(pa.array(device), ids),
                "timestamp": pa.array(epoch_ms, type=pa.timestamp("ms", tz="Asia/Seoul")),
                "lat": ping_lat,
                "lon": ping_lon,
            },
            schema=PING_SCHEMA,
        )


def write_pings(
    path: Path | str,
    *,
    devices: int,
    hours: int,
    seed: int,
    start: datetime = DEFAULT_START,
    row_group_rows: int = ROW_GROUP_ROWS,
) -> int:
    """Generate pings into a Parquet file, one hour at a time in row groups; return the ping count."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    total = 0
    with pq.ParquetWriter(tmp, PING_SCHEMA, compression="zstd") as writer:
        for table in generate_pings(devices=devices, hours=hours, seed=seed, start=start):
            writer.write_table(table, row_group_size=row_group_rows)
            total += table.num_rows
    tmp.replace(out)
    return total
