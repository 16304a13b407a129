"""Distinct devices per H3 cell and period from location pings: the pure core both engines run.

A partition of pings ``(device_id, timestamp, lat, lon)`` (an Arrow table or a pandas DataFrame)
goes through :func:`partial_aggregate`, which returns the unique ``(cell, period, device)`` triples
of that partition, with the device already replaced by a keyed pseudonym. Distinct counting is made
exact across partitions by **bucketing on the pseudonym**: :func:`split_by_device_bucket` cuts the
triples into ``buckets`` pieces by ``device % buckets``, so one device lands in one bucket only.
Each bucket's pieces from all partitions are merged with :func:`merge_unique`, counted with
:func:`count_devices`, and the per-bucket counts simply add up (:func:`finalize`), then cells
seen by fewer than ``k`` devices are suppressed. Every engine (in-process streaming, Dask)
calls exactly these functions, in any grouping; the result does not depend on how rows
were split into partitions or on the order of merges.

Privacy: the raw device id never leaves :func:`partial_aggregate`. It is replaced by
``HMAC-SHA256(salt_day, id)`` truncated to 64 bits, where ``salt_day = HMAC-SHA256(secret, day)``
and ``day`` is the Seoul-local date of the ping: the salt rotates daily, so pseudonyms of two
days cannot be linked, and it lives only in memory while a partition is processed.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import repeat

import h3.api.numpy_int as h3int
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ansim.errors import InputError

PING_COLUMNS = ("device_id", "timestamp", "lat", "lon")
"""Input columns of a ping file."""

OUTPUT_COLUMNS = ("cell", "period_start", "devices")
"""Output columns: H3 cell hex, Seoul-local period start (aware), distinct devices."""

PERIODS_S = {"10min": 600, "1h": 3600}
"""Supported period lengths by name."""

# Asia/Seoul has been a fixed +09:00 without daylight saving since 1988-10-09; period and day
# boundaries are Seoul-local, which for a fixed offset is plain integer arithmetic on epoch seconds.
SEOUL_OFFSET_S = 9 * 3600
_DAY_S = 86_400
_EPOCH = date(1970, 1, 1)
# A UTC offset or Z after the time of day (a bare date such as 2020-02-03 has none).
_OFFSET_TEXT = re.compile(
    r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)\s*$"
)

TRIPLE_SCHEMA = pa.schema(
    [("cell", pa.uint64()), ("period_start_s", pa.int64()), ("device", pa.uint64())]
)
"""Partial aggregate: unique (H3 cell, period start in UTC epoch seconds, device pseudonym)."""

COUNT_SCHEMA = pa.schema(
    [("cell", pa.uint64()), ("period_start_s", pa.int64()), ("devices", pa.int64())]
)
"""Counts of one device bucket: distinct devices per (cell, period start)."""


@dataclass(frozen=True, slots=True)
class AggregationParams:
    """What to aggregate to.

    Parameters
    ----------
    resolution
        H3 resolution of the cells (9: about 0.1 km² per cell).
    period_s
        Period length in seconds, 600 or 3600; periods start on Seoul-local boundaries.
    k
        Minimum distinct devices for a (cell, period) to be published; smaller counts are suppressed.
    buckets
        Device buckets used to make distinct counts add up across partitions (any value gives the
        same result; more buckets means smaller merges).
    """

    resolution: int = 9
    period_s: int = 3600
    k: int = 10
    buckets: int = 8

    def __post_init__(self) -> None:
        if not 0 <= self.resolution <= 15:
            raise InputError("H3 resolution must be between 0 and 15", field="resolution")
        if self.period_s not in PERIODS_S.values():
            raise InputError("period must be 10min (600 s) or 1h (3600 s)", field="period")
        if self.k < 1:
            raise InputError("k must be at least 1", field="k")
        if self.buckets < 1:
            raise InputError("buckets must be at least 1", field="buckets")


def parse_period(text: str) -> int:
    """Period length in seconds from ``10min`` or ``1h`` (also ``600``/``3600``, ``60min``)."""
    key = text.strip().lower()
    aliases = {"10min": 600, "10m": 600, "600": 600, "1h": 3600, "60min": 3600, "3600": 3600}
    if key not in aliases:
        raise InputError(f"unknown period {text!r}: use 10min or 1h", field="period")
    return aliases[key]


def daily_salt(secret: bytes, day: date) -> bytes:
    """The salt of one Seoul-local day: ``HMAC-SHA256(secret, "ansim-ping-salt:" + ISO date)``."""
    return hmac.digest(secret, f"ansim-ping-salt:{day.isoformat()}".encode(), "sha256")


def device_pseudonyms(
    device_ids: pa.Array | pa.ChunkedArray, day_index: np.ndarray, *, secret: bytes
) -> np.ndarray:
    """Keyed 64-bit pseudonyms of device ids, with a salt rotating per Seoul-local day.

    Each distinct (id, day) pair of the partition is hashed once, so the cost follows the number
    of devices, not of pings.

    Parameters
    ----------
    device_ids
        Device ids (any type; compared by their text form).
    day_index
        Seoul-local day of each ping, as days since 1970-01-01.
    secret
        Secret key the daily salts derive from (never stored).

    Returns
    -------
    numpy.ndarray of uint64, one pseudonym per ping.
    """
    ids = device_ids.combine_chunks() if isinstance(device_ids, pa.ChunkedArray) else device_ids
    if not pa.types.is_dictionary(ids.type):
        if not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
            ids = pc.cast(ids, pa.string())
        ids = pc.dictionary_encode(ids)
    codes = np.asarray(ids.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    names = ids.dictionary.cast(pa.string()).to_pylist()
    key = day_index.astype(np.int64) * len(names) + codes
    unique_keys, inverse = np.unique(key, return_inverse=True)
    salts: dict[int, bytes] = {}
    hashed = np.empty(len(unique_keys), dtype=np.uint64)
    for i, k in enumerate(unique_keys.tolist()):
        day, code = divmod(k, len(names))
        salt = salts.get(day)
        if salt is None:
            salt = salts[day] = daily_salt(secret, _EPOCH + timedelta(days=day))
        digest = hmac.digest(salt, names[code].encode(), "sha256")
        hashed[i] = int.from_bytes(digest[:8], "big")
    return hashed[inverse.ravel()]


def _as_table(pings: pa.Table | pd.DataFrame) -> pa.Table:
    if isinstance(pings, pd.DataFrame):
        return pa.Table.from_pandas(pings, preserve_index=False)
    return pings


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _epoch_seconds(column: pa.ChunkedArray, *, source: str, first_row: int) -> np.ndarray:
    """UTC epoch seconds of a timestamp column: aware values as given, naive ones as Seoul time."""
    col = column.combine_chunks()
    if pa.types.is_timestamp(col.type):
        unit_per_s = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[col.type.unit]
        raw = np.asarray(pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False))
        seconds = np.floor_divide(raw, unit_per_s)
        # Arrow keeps aware values in UTC; a naive value is a Seoul wall-clock time.
        return seconds if col.type.tz is not None else seconds - SEOUL_OFFSET_S
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        text = pd.Series(col.to_pandas(), dtype="object")
        parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        bad = parsed.isna().to_numpy()
        if bad.any():
            i = _first_bad(bad)
            raise InputError(
                f"not an ISO 8601 time: {text.iloc[i]!r}",
                source=source,
                row=first_row + i,
                field="timestamp",
            )
        seconds = parsed.to_numpy(dtype="datetime64[s]").astype(np.int64)
        naive = ~text.str.contains(_OFFSET_TEXT, regex=True).to_numpy(dtype=bool)
        return np.where(naive, seconds - SEOUL_OFFSET_S, seconds)
    raise InputError(
        f"timestamp must be a time or ISO 8601 text, not {col.type}",
        source=source,
        row=first_row,
        field="timestamp",
    )


def _coordinate(
    column: pa.ChunkedArray, *, name: str, limit: float, source: str, first_row: int
) -> np.ndarray:
    values = pd.to_numeric(pd.Series(column.to_pandas()), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    bad = ~np.isfinite(values) | (np.abs(values) > limit)
    if bad.any():
        i = _first_bad(bad)
        shown = column[i].as_py()
        reason = (
            f"{name} {shown!r} outside [-{limit:g}, {limit:g}]"
            if np.isfinite(values[i])
            else f"{name} {shown!r} is not a number"
        )
        raise InputError(reason, source=source, row=first_row + i, field=name)
    return values


def partial_aggregate(
    pings: pa.Table | pd.DataFrame,
    *,
    secret: bytes,
    params: AggregationParams,
    source: str = "pings",
    first_row: int = 1,
) -> pa.Table:
    """Unique (cell, period, device pseudonym) triples of one partition of pings.

    Pure: the result depends only on the arguments. The raw device id is not part of the result.

    Parameters
    ----------
    pings
        Columns ``device_id``, ``timestamp`` (aware or naive = Asia/Seoul; Arrow timestamp or
        ISO 8601 text), ``lat``, ``lon`` (WGS84 degrees). Other columns are ignored.
    secret
        Key of the daily salts.
    params
        Resolution and period length.
    source, first_row
        File name and 1-based row number of the partition's first row, for error messages.

    Returns
    -------
    pyarrow.Table with :data:`TRIPLE_SCHEMA`.

    Raises
    ------
    InputError
        A missing column, a null or unparsable value, a latitude or longitude out of range,
        naming the file, row and field.
    """
    table = _as_table(pings)
    for name in PING_COLUMNS:
        if name not in table.column_names:
            raise InputError(
                f"missing column {name!r} (need {', '.join(PING_COLUMNS)})",
                source=source,
                field=name,
            )
    if table.num_rows == 0:
        return TRIPLE_SCHEMA.empty_table()
    for name in PING_COLUMNS:
        nulls = table.column(name).is_null()
        if pc.any(nulls).as_py():
            i = _first_bad(np.asarray(nulls.to_numpy(zero_copy_only=False)))
            raise InputError("missing value", source=source, row=first_row + i, field=name)
    lat = _coordinate(
        table.column("lat"), name="lat", limit=90.0, source=source, first_row=first_row
    )
    lon = _coordinate(
        table.column("lon"), name="lon", limit=180.0, source=source, first_row=first_row
    )
    utc_s = _epoch_seconds(table.column("timestamp"), source=source, first_row=first_row)
    local_s = utc_s + SEOUL_OFFSET_S
    period_start_s = local_s - np.mod(local_s, params.period_s) - SEOUL_OFFSET_S
    day_index = np.floor_divide(local_s, _DAY_S)
    device = device_pseudonyms(table.column("device_id"), day_index, secret=secret)
    cells = np.fromiter(
        map(h3int.latlng_to_cell, lat.tolist(), lon.tolist(), repeat(params.resolution)),
        dtype=np.uint64,
        count=len(lat),
    )
    triples = pa.table(
        {"cell": cells, "period_start_s": period_start_s, "device": device},
        schema=TRIPLE_SCHEMA,
    )
    return unique_triples(triples)


def unique_triples(triples: pa.Table) -> pa.Table:
    """Drop repeated (cell, period, device) rows."""
    if triples.num_rows == 0:
        return TRIPLE_SCHEMA.empty_table()
    keys = list(TRIPLE_SCHEMA.names)
    return triples.group_by(keys, use_threads=False).aggregate([]).select(keys)


def split_by_device_bucket(triples: pa.Table, buckets: int) -> list[pa.Table]:
    """Cut triples into ``buckets`` tables by ``device % buckets``; a device lands in one only."""
    device = triples.column("device").to_numpy()
    bucket = (device % np.uint64(buckets)).astype(np.int64)
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(buckets + 1))
    ordered = triples.take(pa.array(order))
    return [ordered.slice(bounds[b], bounds[b + 1] - bounds[b]) for b in range(buckets)]


def _concat(pieces: Sequence[pa.Table], schema: pa.Schema) -> pa.Table:
    """Concatenate tables into fresh, aligned buffers.

    Tables unpickled after a trip between Dask workers may have unaligned buffers, which
    Arrow's group-by warns about; copying through numpy gives aligned ones.
    """
    return pa.table(
        {
            name: np.concatenate([p.column(name).to_numpy() for p in pieces])
            for name in schema.names
        },
        schema=schema,
    )


def merge_unique(pieces: Sequence[pa.Table]) -> pa.Table:
    """Union of partial triples (of one bucket), without repeats."""
    nonempty = [p for p in pieces if p.num_rows]
    if not nonempty:
        return TRIPLE_SCHEMA.empty_table()
    return unique_triples(_concat(nonempty, TRIPLE_SCHEMA))


def count_devices(pieces: Sequence[pa.Table]) -> pa.Table:
    """Distinct devices per (cell, period) over all pieces of one device bucket."""
    merged = merge_unique(pieces)
    if merged.num_rows == 0:
        return COUNT_SCHEMA.empty_table()
    counted = merged.group_by(["cell", "period_start_s"], use_threads=False).aggregate(
        [("device", "count")]
    )
    return pa.table(
        {
            "cell": counted.column("cell"),
            "period_start_s": counted.column("period_start_s"),
            "devices": pc.cast(counted.column("device_count"), pa.int64()),
        },
        schema=COUNT_SCHEMA,
    )


def finalize(bucket_counts: Iterable[pa.Table], *, k: int) -> pd.DataFrame:
    """Add the per-bucket counts, suppress (cell, period) seen by fewer than ``k`` devices.

    Returns
    -------
    DataFrame[cell (H3 hex str), period_start (datetime64 Asia/Seoul), devices (int64)], sorted
    by period then cell.
    """
    tables = [t for t in bucket_counts if t.num_rows]
    if tables:
        summed = (
            _concat(tables, COUNT_SCHEMA)
            .group_by(["cell", "period_start_s"], use_threads=False)
            .aggregate([("devices", "sum")])
            .to_pandas()
        )
    else:
        summed = pd.DataFrame(
            {
                "cell": pd.Series([], dtype="uint64"),
                "period_start_s": pd.Series([], dtype="int64"),
                "devices_sum": pd.Series([], dtype="int64"),
            }
        )
    kept = summed[summed["devices_sum"] >= k].sort_values(["period_start_s", "cell"])
    out = pd.DataFrame(
        {
            "cell": [h3int.int_to_str(int(c)) for c in kept["cell"]],
            "period_start": pd.to_datetime(kept["period_start_s"].to_numpy(), unit="s", utc=True)
            .tz_convert("Asia/Seoul")
            .as_unit("s"),
            "devices": kept["devices_sum"].to_numpy(dtype=np.int64),
        }
    )
    return out.reset_index(drop=True)


def aggregate_partitions(
    partitions: Iterable[pa.Table | pd.DataFrame],
    *,
    secret: bytes,
    params: AggregationParams,
    source: str = "pings",
) -> pd.DataFrame:
    """The whole pipeline over partitions held in memory (for small inputs and tests)."""
    buckets: list[list[pa.Table]] = [[] for _ in range(params.buckets)]
    first_row = 1
    for part in partitions:
        triples = partial_aggregate(
            part, secret=secret, params=params, source=source, first_row=first_row
        )
        first_row += len(part)
        for b, piece in enumerate(split_by_device_bucket(triples, params.buckets)):
            buckets[b].append(piece)
    return finalize((count_devices(pieces) for pieces in buckets), k=params.k)
