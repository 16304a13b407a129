"""Two engines that run the same aggregation (``ansim.scale.aggregate``) over ping files.

- ``local``: in-process, streaming one partition (a few Parquet row groups, or a CSV block) at a
  time; memory holds one partition plus the unique (cell, period, device) triples seen so far,
  never the pings.
- ``dask``: dask.distributed, either an existing cluster (``Client("tcp://host:8786")``; the files
  must be readable by the workers at the same path) or a ``LocalCluster`` of worker processes
  on loopback. Each partition is a task; the triples of each device bucket are merged in a tree.

Both call :func:`partition_buckets` on the same partition plan, then the same merge, count and
finalize functions, so they return identical tables.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import getitem
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from ansim.errors import InputError
from ansim.scale.aggregate import (
    PING_COLUMNS,
    AggregationParams,
    count_devices,
    finalize,
    merge_unique,
    partial_aggregate,
    split_by_device_bucket,
)

log = logging.getLogger(__name__)

Engine = Literal["local", "dask"]

DEFAULT_PARTITION_ROWS = 1_000_000
"""Target pings per partition: large enough to amortise task overhead, small enough for memory."""

_CSV_BLOCK_BYTES = 32 << 20
_MERGE_FAN_IN = 8


class PingSettings(BaseSettings):
    """The secret of the daily device salts (``ANSIM_PING_SECRET``).

    When empty, each run draws a fresh random secret held only in memory: counts are unchanged,
    and pseudonyms of two runs cannot be linked either.
    """

    model_config = SettingsConfigDict(env_prefix="ANSIM_", env_file=".env", extra="ignore")
    ping_secret: SecretStr = Field(default=SecretStr(""))


def ping_secret() -> bytes:
    """The configured salt secret, or a fresh random one for this run."""
    configured = PingSettings().ping_secret.get_secret_value()
    return configured.encode() if configured else secrets.token_bytes(32)


@dataclass(frozen=True, slots=True)
class Partition:
    """A slice of one input file: Parquet row groups, or a whole CSV file read in blocks."""

    path: str
    row_groups: tuple[int, ...] | None
    first_row: int


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    raise InputError(
        "unsupported file type: use .parquet or .csv[.gz]", source=str(path), field="FILES"
    )


def plan_partitions(
    paths: Sequence[str | Path], *, partition_rows: int = DEFAULT_PARTITION_ROWS
) -> list[Partition]:
    """Cut the input files into partitions of about ``partition_rows`` pings (by row group)."""
    plan: list[Partition] = []
    for raw in paths:
        path = Path(raw).resolve()
        if not path.is_file():
            raise InputError("no such file", source=str(raw), field="FILES")
        if _kind(path) == "csv":
            plan.append(Partition(str(path), None, 1))
            continue
        try:
            meta = pq.ParquetFile(path).metadata
        except (OSError, pa.ArrowInvalid) as exc:
            raise InputError(f"not a Parquet file ({exc})", source=str(raw)) from None
        group: list[int] = []
        rows = 0
        first_row = 1
        for i in range(meta.num_row_groups):
            group.append(i)
            rows += meta.row_group(i).num_rows
            if rows >= partition_rows:
                plan.append(Partition(str(path), tuple(group), first_row))
                first_row += rows
                group, rows = [], 0
        if group or not plan or plan[-1].path != str(path):
            plan.append(Partition(str(path), tuple(group), first_row))
    return plan


def read_partition(part: Partition) -> Iterator[tuple[pa.Table, int]]:
    """The pings of a partition as Arrow tables with the 1-based row number of their first row."""
    if part.row_groups is not None:
        file = pq.ParquetFile(part.path)
        missing = [c for c in PING_COLUMNS if c not in file.schema_arrow.names]
        if missing:
            raise InputError(
                f"missing column {missing[0]!r} (need {', '.join(PING_COLUMNS)})",
                source=part.path,
                field=missing[0],
            )
        first_row = part.first_row
        for rg in part.row_groups:
            table = file.read_row_group(rg, columns=list(PING_COLUMNS))
            yield table, first_row
            first_row += table.num_rows
        return
    stream = pa.input_stream(part.path, compression="detect")
    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK_BYTES),
            # Read every field as text so that our own checks name the bad row and field.
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(PING_COLUMNS, pa.string())
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputError(f"unreadable CSV ({exc})", source=part.path) from None
    first_row = 1
    with reader:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as exc:
                raise InputError(f"unreadable CSV ({exc})", source=part.path) from None
            yield pa.Table.from_batches([batch]), first_row
            first_row += batch.num_rows


def partition_buckets(
    part: Partition, *, secret: bytes, params: AggregationParams
) -> list[pa.Table]:
    """Read one partition and return its unique triples cut into device buckets (one task)."""
    pieces = [
        partial_aggregate(table, secret=secret, params=params, source=part.path, first_row=first)
        for table, first in read_partition(part)
    ]
    return split_by_device_bucket(merge_unique(pieces), params.buckets)


def run_local(
    paths: Sequence[str | Path],
    *,
    params: AggregationParams,
    secret: bytes,
    partition_rows: int = DEFAULT_PARTITION_ROWS,
    compact_rows: int = 250_000,
) -> pd.DataFrame:
    """Aggregate in this process, one partition at a time.

    Memory holds one partition and, per device bucket, the unique triples so far: a bucket is
    compacted (merged without repeats) whenever its rows pending since the last compaction
    exceed both ``compact_rows`` and the compacted size, so it never holds more than about twice
    its unique triples, at an amortised cost of a few merges per row.
    """
    plan = plan_partitions(paths, partition_rows=partition_rows)
    pending: list[list[pa.Table]] = [[] for _ in range(params.buckets)]
    compacted_rows = [0] * params.buckets
    pending_rows = [0] * params.buckets
    for i, part in enumerate(plan, 1):
        for b, piece in enumerate(partition_buckets(part, secret=secret, params=params)):
            pending[b].append(piece)
            pending_rows[b] += piece.num_rows
            if pending_rows[b] > max(compact_rows, compacted_rows[b]):
                merged = merge_unique(pending[b])
                pending[b], compacted_rows[b], pending_rows[b] = [merged], merged.num_rows, 0
        log.debug("partition %d/%d done", i, len(plan))
    return finalize((count_devices(pieces) for pieces in pending), k=params.k)


@contextmanager
def dask_client(scheduler: str | None = None, *, n_workers: int = 2) -> Iterator[Any]:
    """A dask.distributed client: to ``scheduler`` if given, else to a LocalCluster on loopback."""
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.WARNING,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run_dask(
    paths: Sequence[str | Path],
    *,
    params: AggregationParams,
    secret: bytes,
    scheduler: str | None = None,
    client: Any | None = None,
    n_workers: int = 2,
    partition_rows: int = DEFAULT_PARTITION_ROWS,
) -> pd.DataFrame:
    """Aggregate on dask.distributed: one task per partition, then a merge tree per device bucket.

    Parameters
    ----------
    client
        An existing ``distributed.Client`` to use; otherwise one is made from ``scheduler`` (or a
        ``LocalCluster`` of ``n_workers`` processes on 127.0.0.1) and closed at the end.
    """
    plan = plan_partitions(paths, partition_rows=partition_rows)
    if client is None:
        with dask_client(scheduler, n_workers=n_workers) as own:
            return _run_on(own, plan, params=params, secret=secret)
    return _run_on(client, plan, params=params, secret=secret)


def _run_on(
    client: Any, plan: list[Partition], *, params: AggregationParams, secret: bytes
) -> pd.DataFrame:
    parts = client.map(partition_buckets, plan, secret=secret, params=params, pure=False)
    counts = []
    for b in range(params.buckets):
        pieces = [client.submit(getitem, f, b, pure=False) for f in parts]
        # A tree of merges keeps each task's input small whatever the number of partitions.
        while len(pieces) > _MERGE_FAN_IN:
            pieces = [
                client.submit(merge_unique, pieces[i : i + _MERGE_FAN_IN], pure=False)
                for i in range(0, len(pieces), _MERGE_FAN_IN)
            ]
        counts.append(client.submit(count_devices, pieces, pure=False))
    del parts
    return finalize(client.gather(counts), k=params.k)


def run(
    paths: Sequence[str | Path],
    *,
    engine: Engine,
    params: AggregationParams,
    secret: bytes,
    scheduler: str | None = None,
    partition_rows: int = DEFAULT_PARTITION_ROWS,
) -> pd.DataFrame:
    """Aggregate ``paths`` with the chosen engine."""
    if engine == "local":
        if scheduler:
            raise InputError("--scheduler needs --engine dask", field="scheduler")
        return run_local(paths, params=params, secret=secret, partition_rows=partition_rows)
    if engine == "dask":
        return run_dask(
            paths, params=params, secret=secret, scheduler=scheduler, partition_rows=partition_rows
        )
    raise InputError(f"unknown engine {engine!r}: use local or dask", field="engine")
