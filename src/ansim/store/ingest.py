"""Write validated records to the store: one batch, one transaction, upserts by natural key.

Every ``ingest_*`` function takes records that a reader in :mod:`ansim.sources` has already
validated in full, and

- skips the whole file when a batch with the same source and SHA-256 checksum was committed
  before (so re-running a load writes nothing, not even a batch row);
- otherwise writes a batch row and every record in a single transaction, upserting on the
  table's natural key, so a re-load of overlapping data updates rows instead of adding them,
  and a crash or ``kill -9`` before COMMIT leaves the store exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ansim.records import ExposureEvent, Place
from ansim.settings import get_settings
from ansim.sources.boundaries import RegionRecord
from ansim.store import schema
from ansim.store.db import notify_batch

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""``on_progress(rows_written, rows_total)`` called after each chunk."""

CHUNK_ROWS = 5_000


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What a load did. ``already_loaded`` means the same file was committed before (nothing written)."""

    source: str
    file_name: str
    checksum: str
    table: str
    rows_accepted: int
    rows_new: int
    rows_skipped: int
    batch_id: int | None
    already_loaded: bool = False


def file_checksum(path: Path | str) -> str:
    """SHA-256 of the file's bytes as stored (compressed files hash their compressed bytes)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def loaded_batch(engine: Engine | Connection, *, source: str, checksum: str) -> int | None:
    """The id of a committed batch of ``source`` with this checksum, if any."""
    query = (
        sa.select(schema.ingestion_batches.c.id)
        .where(
            schema.ingestion_batches.c.source == source,
            schema.ingestion_batches.c.checksum_sha256 == checksum,
            schema.ingestion_batches.c.status == "loaded",
        )
        .limit(1)
    )
    if isinstance(engine, Connection):
        return engine.execute(query).scalar()
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def _upsert(
    conn: Connection, table: sa.Table, *, keys: Sequence[str], coalesce: bool = False
) -> Any:
    """``INSERT … ON CONFLICT (keys) DO UPDATE`` for SQLite and PostgreSQL (same SQL on both)."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    else:  # pragma: no cover - other databases are not supported
        msg = f"unsupported database {dialect!r} (use SQLite or PostgreSQL)"
        raise RuntimeError(msg)
    stmt = insert(table)
    updates = {
        c.name: (
            sa.func.coalesce(stmt.excluded[c.name], table.c[c.name])
            if coalesce
            else stmt.excluded[c.name]
        )
        for c in table.columns
        if c.name not in keys and not c.primary_key
    }
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)


def _portable(row: dict[str, Any], batch_id: int, **extra: Any) -> dict[str, Any]:
    """``row`` with its batch id, NUL characters dropped from text (PostgreSQL refuses them in
    text columns; a few disaster-message dumps carry them), so both backends store the same text."""
    out = {**row, **extra, "batch_id": batch_id}
    for name, value in out.items():
        if isinstance(value, str) and "\x00" in value:
            out[name] = value.replace("\x00", "")
    return out


def _count(conn: Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _write_batch(
    engine: Engine,
    *,
    table: sa.Table,
    keys: Sequence[str],
    rows: Sequence[dict[str, Any]],
    source: str,
    checksum: str,
    file_name: str,
    rows_skipped: int = 0,
    coalesce: bool = False,
    on_progress: Progress | None = None,
    write: Callable[[Connection, int], int] | None = None,
) -> IngestResult:
    """The one transactional write path (see the module docstring)."""
    batches = schema.ingestion_batches
    started = datetime.now(UTC)
    with engine.begin() as conn:
        previous = loaded_batch(conn, source=source, checksum=checksum)
        if previous is not None:
            log.info(
                "ingest skipped: already loaded", extra={"source": source, "batch_id": previous}
            )
            return IngestResult(
                source, file_name, checksum, table.name, len(rows), 0, rows_skipped, previous, True
            )
        inserted = conn.execute(
            sa.insert(batches).values(
                source=source,
                file_name=file_name,
                checksum_sha256=checksum,
                rows_accepted=len(rows),
                rows_new=0,
                rows_skipped=rows_skipped,
                status="loading",
                started_at=started,
                finished_at=started,
            )
        ).inserted_primary_key
        assert inserted is not None
        batch_id = int(inserted[0])
        before = _count(conn, table)
        if write is not None:
            rows_new = write(conn, batch_id)
        else:
            stmt = _upsert(conn, table, keys=keys, coalesce=coalesce)
            total = len(rows)
            for offset in range(0, total, CHUNK_ROWS):
                chunk = [_portable(row, batch_id) for row in rows[offset : offset + CHUNK_ROWS]]
                conn.execute(stmt, chunk)
                if on_progress is not None:
                    on_progress(min(offset + CHUNK_ROWS, total), total)
            rows_new = _count(conn, table) - before
        conn.execute(
            sa.update(batches)
            .where(batches.c.id == batch_id)
            .values(status="loaded", rows_new=rows_new, finished_at=datetime.now(UTC))
        )
        notify_batch(conn, batch_id)  # delivered to the other API instances on COMMIT
        pause = get_settings().ingest_pause_before_commit_s
        if pause > 0:
            # Tests kill -9 the process here, with every row written but not committed.
            log.warning(
                "pausing before commit (test setting)",
                extra={"seconds": pause, "batch_id": batch_id},
            )
            print(f"ansim: pausing {pause:g}s before commit of batch {batch_id}", flush=True)
            time.sleep(pause)
    log.info(
        "ingest committed",
        extra={
            "source": source,
            "file_name": file_name,
            "rows": len(rows),
            "rows_new": rows_new,
            "batch_id": batch_id,
        },
    )
    return IngestResult(
        source, file_name, checksum, table.name, len(rows), rows_new, rows_skipped, batch_id
    )


def ingest_cases(
    engine: Engine,
    *,
    source: str,
    frame: pd.DataFrame,
    checksum: str,
    file_name: str,
    on_progress: Progress | None = None,
) -> IngestResult:
    """Daily case counts (``CASE_COLUMNS``), keyed by region, date and the rows' own ``source``."""
    rows = [
        {"region_code": str(r), "date": d, "new_cases": int(n), "source": str(s)}
        for r, d, n, s in zip(
            frame["region_code"], frame["date"], frame["new_cases"], frame["source"], strict=True
        )
    ]
    return _write_batch(
        engine,
        table=schema.case_counts,
        keys=("region_code", "date", "source"),
        rows=rows,
        source=source,
        checksum=checksum,
        file_name=file_name,
        on_progress=on_progress,
    )


def ingest_crowd(
    engine: Engine,
    *,
    source: str,
    frame: pd.DataFrame,
    checksum: str,
    file_name: str,
    on_progress: Progress | None = None,
) -> IngestResult:
    """Crowd observations (``CROWD_COLUMNS``), keyed by source, area, period start and length."""
    starts = pd.to_datetime(frame["period_start"], utc=True).dt.to_pydatetime()
    rows = [
        {
            "area": str(a),
            "period_start": p,
            "period_s": int(s),
            "count": float(c),
            "source": str(src),
        }
        for a, p, s, c, src in zip(
            frame["area"], starts, frame["period_s"], frame["count"], frame["source"], strict=True
        )
    ]
    return _write_batch(
        engine,
        table=schema.crowd_observations,
        keys=("source", "area", "period_start", "period_s"),
        rows=rows,
        source=source,
        checksum=checksum,
        file_name=file_name,
        on_progress=on_progress,
    )


def _exposure_row(e: ExposureEvent) -> dict[str, Any]:
    return {
        "source": e.source,
        "source_record_id": e.source_record_id,
        "lat": e.lat,
        "lon": e.lon,
        "radius_m": e.radius_m,
        "start_utc": e.start,
        "end_utc": e.end,
        "place_name": e.place_name,
        "address": e.address,
        "region_code": e.region_code,
        "precision": e.precision,
        "place_type": e.place_type,
        "cases": e.cases,
    }


def ingest_exposures(
    engine: Engine,
    *,
    source: str,
    events: Iterable[ExposureEvent],
    checksum: str,
    file_name: str,
    rows_skipped: int = 0,
    on_progress: Progress | None = None,
) -> IngestResult:
    """Exposure events, keyed by the event's own ``source`` and ``source_record_id``.

    Reusable by any feed (disaster messages, partner APIs): pass validated events and a checksum
    of the input (a file's SHA-256, or of a canonical serialisation for a feed).
    """
    rows = [_exposure_row(e) for e in events]
    return _write_batch(
        engine,
        table=schema.exposure_events,
        keys=("source", "source_record_id"),
        rows=rows,
        source=source,
        checksum=checksum,
        file_name=file_name,
        rows_skipped=rows_skipped,
        on_progress=on_progress,
    )


def ingest_places(
    engine: Engine,
    *,
    source: str,
    places: Iterable[Place],
    checksum: str,
    file_name: str,
    on_progress: Progress | None = None,
) -> IngestResult:
    """Gazetteer places, keyed by kind and source id."""
    rows = [
        {
            "kind": p.kind,
            "source_id": p.source_id,
            "name_ko": p.name_ko,
            "name_en": p.name_en,
            "lat": p.lat,
            "lon": p.lon,
            "region_code": p.region_code,
            "aliases": json.dumps(list(p.aliases), ensure_ascii=False),
        }
        for p in places
    ]
    return _write_batch(
        engine,
        table=schema.places,
        keys=("kind", "source_id"),
        rows=rows,
        source=source,
        checksum=checksum,
        file_name=file_name,
        on_progress=on_progress,
    )


def ingest_regions(
    engine: Engine,
    *,
    source: str,
    regions: Iterable[RegionRecord],
    checksum: str,
    file_name: str,
) -> IngestResult:
    """Regions keyed by code; a value the new record lacks (``None``) keeps the stored one."""
    rows = [
        {
            "code": r.code,
            "name_ko": r.name_ko,
            "name_en": r.name_en,
            "level": r.level,
            "parent": r.parent,
            "population": r.population,
            "geometry": r.geometry,
        }
        for r in regions
    ]
    return _write_batch(
        engine,
        table=schema.regions,
        keys=("code",),
        rows=rows,
        source=source,
        checksum=checksum,
        file_name=file_name,
        coalesce=True,
    )


def ingest_population(
    engine: Engine,
    *,
    source: str,
    frame: pd.DataFrame,
    checksum: str,
    file_name: str,
) -> IngestResult:
    """Set ``regions.population`` from (``gu_code``, ``dong_name``, ``population``) rows.

    A gu row (empty ``dong_name``) matches by code, a dong row by parent gu and Korean name.
    Rows matching no stored region (dong renamed since the 2018 boundaries) are counted as skipped.
    """
    regions = schema.regions
    items = list(zip(frame["gu_code"], frame["dong_name"], frame["population"], strict=True))

    unmatched: list[int] = [0]

    def write(conn: Connection, batch_id: int) -> int:
        for gu, dong, population in items:
            where = (
                regions.c.code == gu
                if not dong
                else sa.and_(
                    regions.c.parent == gu, regions.c.name_ko == dong, regions.c.level == "dong"
                )
            )
            result = conn.execute(
                sa.update(regions)
                .where(where)
                .values(population=int(population), batch_id=batch_id)
            )
            unmatched[0] += 0 if result.rowcount else 1
        conn.execute(
            sa.update(schema.ingestion_batches)
            .where(schema.ingestion_batches.c.id == batch_id)
            .values(rows_skipped=unmatched[0], rows_accepted=len(items) - unmatched[0])
        )
        return 0

    result = _write_batch(
        engine,
        table=regions,
        keys=("code",),
        rows=[{} for _ in items],
        source=source,
        checksum=checksum,
        file_name=file_name,
        write=write,
    )
    return IngestResult(
        result.source,
        result.file_name,
        result.checksum,
        result.table,
        len(items) - unmatched[0],
        0,
        unmatched[0],
        result.batch_id,
        result.already_loaded,
    )


def ingest_weather(
    engine: Engine, *, source: str, frame: pd.DataFrame, checksum: str, file_name: str
) -> IngestResult:
    """Daily weather per region (columns of :func:`ansim.sources.ds4c.read_weather`)."""
    measures = [c for c in frame.columns if c not in ("region_code", "date")]
    rows = [
        {
            "region_code": rec["region_code"],
            "date": rec["date"],
            "source": source,
            **{m: (None if pd.isna(rec[m]) else float(rec[m])) for m in measures},
        }
        for rec in frame.to_dict("records")
    ]
    return _write_batch(
        engine,
        table=schema.weather_daily,
        keys=("region_code", "date", "source"),
        rows=rows,
        source=source,
        checksum=checksum,
        file_name=file_name,
    )


def ingest_policies(
    engine: Engine, *, source: str, frame: pd.DataFrame, checksum: str, file_name: str
) -> IngestResult:
    """Policy timeline rows (columns of :func:`ansim.sources.ds4c.read_policy`)."""
    rows = [
        {
            "source": source,
            "policy_id": int(rec["policy_id"]),
            "country": rec["country"],
            "type": rec["type"],
            "gov_policy": rec["gov_policy"],
            "detail": rec["detail"],
            "start_date": rec["start_date"],
            "end_date": rec["end_date"],
        }
        for rec in frame.to_dict("records")
    ]
    return _write_batch(
        engine,
        table=schema.policies,
        keys=("source", "policy_id"),
        rows=rows,
        source=source,
        checksum=checksum,
        file_name=file_name,
    )


def ingest(
    engine: Engine,
    *,
    source: str,
    records: pd.DataFrame | Sequence[ExposureEvent] | Sequence[Place] | Sequence[RegionRecord],
    checksum: str,
    file_name: str = "",
    on_progress: Progress | None = None,
) -> IngestResult:
    """Ingest any record type in one transaction, choosing the table from the records' shape.

    A DataFrame with ``CASE_COLUMNS`` goes to ``case_counts``, with ``CROWD_COLUMNS`` to
    ``crowd_observations``; a list of :class:`ExposureEvent`, :class:`Place` or
    :class:`RegionRecord` to its table.
    """
    from ansim.records import CASE_COLUMNS, CROWD_COLUMNS

    common: dict[str, Any] = {
        "source": source,
        "checksum": checksum,
        "file_name": file_name or source,
    }
    if isinstance(records, pd.DataFrame):
        if set(CASE_COLUMNS) <= set(records.columns):
            return ingest_cases(engine, frame=records, on_progress=on_progress, **common)
        if set(CROWD_COLUMNS) <= set(records.columns):
            return ingest_crowd(engine, frame=records, on_progress=on_progress, **common)
        msg = f"a DataFrame with columns {CASE_COLUMNS} or {CROWD_COLUMNS} is needed"
        raise TypeError(msg)
    items = list(records)
    if all(isinstance(r, ExposureEvent) for r in items):
        return ingest_exposures(engine, events=items, on_progress=on_progress, **common)
    if all(isinstance(r, Place) for r in items):
        return ingest_places(engine, places=items, on_progress=on_progress, **common)
    if all(isinstance(r, RegionRecord) for r in items):
        return ingest_regions(engine, regions=items, **common)
    msg = "records must all be ExposureEvent, Place or RegionRecord"
    raise TypeError(msg)


def ingest_alert_messages(
    engine: Engine,
    *,
    source: str,
    messages: Sequence[dict[str, Any]],
    events: Sequence[ExposureEvent],
    checksum: str,
    file_name: str,
    on_progress: Progress | None = None,
) -> IngestResult:
    """Disaster messages and the exposure events parsed from them, in one transaction.

    ``messages`` are the rows of :func:`ansim.alerts.stats.message_rows` (one per message, with
    its kind, status and reason); ``events`` carry ids ``<message id>#<visit>``, so a replay
    upserts the same rows.
    """
    exposure_rows = [_exposure_row(e) for e in events]

    def write(conn: Connection, batch_id: int) -> int:
        before = _count(conn, schema.alert_messages)
        if exposure_rows:
            stmt = _upsert(conn, schema.exposure_events, keys=("source", "source_record_id"))
            conn.execute(stmt, [_portable(row, batch_id) for row in exposure_rows])
        stmt = _upsert(conn, schema.alert_messages, keys=("id",))
        total = len(messages)
        for offset in range(0, total, CHUNK_ROWS):
            chunk = [
                _portable(row, batch_id, source=source)
                for row in messages[offset : offset + CHUNK_ROWS]
            ]
            conn.execute(stmt, chunk)
            if on_progress is not None:
                on_progress(min(offset + CHUNK_ROWS, total), total)
        return _count(conn, schema.alert_messages) - before

    return _write_batch(
        engine,
        table=schema.alert_messages,
        keys=("id",),
        rows=messages,
        source=source,
        checksum=checksum,
        file_name=file_name,
        write=write,
    )
