"""Read the store into the shared records and DataFrame contracts (see ``ansim.records``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ansim.records import CASE_COLUMNS, CROWD_COLUMNS, ExposureEvent, Place
from ansim.store import schema
from ansim.timeutil import SEOUL

if TYPE_CHECKING:
    import pandas as pd


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table, data tables first then ``ingestion_batches``."""
    tables = [*schema.DATA_TABLES, schema.ingestion_batches]
    with engine.connect() as conn:
        return {
            t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
            for t in tables
        }


def case_counts(
    engine: Engine,
    *,
    region_codes: Iterable[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """Daily cases as ``CASE_COLUMNS``, dates in ``[start, end]`` (both inclusive), ordered by date."""
    import pandas as pd

    t = schema.case_counts
    query = sa.select(t.c.region_code, t.c.date, t.c.new_cases, t.c.source)
    if region_codes is not None:
        query = query.where(t.c.region_code.in_(list(region_codes)))
    if start is not None:
        query = query.where(t.c.date >= start)
    if end is not None:
        query = query.where(t.c.date <= end)
    if source is not None:
        query = query.where(t.c.source == source)
    query = query.order_by(t.c.date, t.c.region_code, t.c.source)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(rows, columns=list(CASE_COLUMNS))
    frame["new_cases"] = frame["new_cases"].astype("int64")
    return frame


def exposure_events(
    engine: Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    source: str | None = None,
    batch_ids: Sequence[int] | None = None,
) -> list[ExposureEvent]:
    """Events whose window ``[start, end)`` overlaps ``[since, until)``, times in Seoul, by start.

    ``batch_ids`` limits them to what those ingestion batches wrote (incremental engine updates).
    """
    t = schema.exposure_events
    query = sa.select(t)
    if batch_ids is not None:
        query = query.where(t.c.batch_id.in_(list(batch_ids)))
    if since is not None:
        query = query.where(t.c.end_utc > since)
    if until is not None:
        query = query.where(t.c.start_utc < until)
    if source is not None:
        query = query.where(t.c.source == source)
    query = query.order_by(t.c.start_utc, t.c.id)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        ExposureEvent(
            source=r["source"],
            source_record_id=r["source_record_id"],
            lat=r["lat"],
            lon=r["lon"],
            start=r["start_utc"].astimezone(SEOUL),
            end=r["end_utc"].astimezone(SEOUL),
            radius_m=r["radius_m"],
            place_name=r["place_name"],
            address=r["address"],
            region_code=r["region_code"],
            precision=r["precision"],
            place_type=r["place_type"],
            cases=r["cases"],
        )
        for r in rows
    ]


def crowd_observations(
    engine: Engine,
    *,
    source: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    areas: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Crowd observations as ``CROWD_COLUMNS`` with ``period_start`` in ``[start, end)`` (Seoul time)."""
    import pandas as pd

    t = schema.crowd_observations
    # the raw driver value of period_start (no per-row TypeDecorator): SQLite gives ISO text,
    # PostgreSQL naive UTC datetimes; both are parsed column-wise below (~50k rows in tens of ms)
    query = sa.select(
        t.c.area, sa.type_coerce(t.c.period_start, sa.String), t.c.period_s, t.c.count, t.c.source
    )
    if source is not None:
        query = query.where(t.c.source == source)
    if start is not None:
        query = query.where(t.c.period_start >= start)
    if end is not None:
        query = query.where(t.c.period_start < end)
    if areas is not None:
        query = query.where(t.c.area.in_(list(areas)))
    query = query.order_by(t.c.period_start, t.c.area, t.c.source)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    area, period_start, period_s, count, source_col = (
        list(zip(*rows, strict=True)) if rows else [()] * len(CROWD_COLUMNS)
    )
    return pd.DataFrame(
        {
            "area": pd.Series(area, dtype="str"),
            "period_start": pd.to_datetime(
                pd.Series(period_start, dtype=object), utc=True, format="ISO8601"
            ).dt.tz_convert(SEOUL),
            "period_s": np.asarray(period_s, dtype=np.int64),
            "count": np.asarray(count, dtype=float),
            "source": pd.Series(source_col, dtype="str"),
        }
    )


def store_version(engine: Engine, *, tables: Iterable[str] | None = None) -> dict[str, int]:
    """A cheap fingerprint of the store's data: the last committed batch and rows per data table.

    Every write goes through an ingestion batch (``ansim.store.ingest``), so a new batch id means
    new or changed rows; the counts catch rows removed outside a batch. ``tables`` limits the counts
    to some data tables (default: all of ``schema.DATA_TABLES``). On PostgreSQL it also holds the
    database's oid. Derived caches (the risk engine's state, ``ansim.risk.state``) key on it.
    """
    b = schema.ingestion_batches
    chosen = [t for t in schema.DATA_TABLES if tables is None or t.name in set(tables)]
    with engine.connect() as conn:
        last, batches = conn.execute(
            sa.select(sa.func.max(b.c.id), sa.func.count()).select_from(b)
        ).one()
        out = {"last_batch_id": int(last or 0), "batches": int(batches)}
        if conn.dialect.name == "postgresql":
            # a database dropped and re-created under the same URL gets a new oid: a cached state
            # keyed on the URL and these numbers must not outlive the data it was built from
            out["database_oid"] = int(
                conn.execute(
                    sa.text("SELECT oid FROM pg_database WHERE datname = current_database()")
                ).scalar_one()
            )
        for t in chosen:
            out[t.name] = int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
    return out


def places(engine: Engine, *, kind: str | None = None) -> list[Place]:
    """Gazetteer places (optionally of one ``kind``), ordered by kind and Korean name."""
    t = schema.places
    query = sa.select(t)
    if kind is not None:
        query = query.where(t.c.kind == kind)
    query = query.order_by(t.c.kind, t.c.name_ko, t.c.source_id)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [
        Place(
            kind=r["kind"],
            source_id=r["source_id"],
            name_ko=r["name_ko"],
            lat=r["lat"],
            lon=r["lon"],
            name_en=r["name_en"],
            region_code=r["region_code"],
            aliases=tuple(json.loads(r["aliases"] or "[]")),
        )
        for r in rows
    ]


def regions(
    engine: Engine, *, level: str | None = None, with_geometry: bool = False
) -> pd.DataFrame:
    """Regions: ``code``, ``name_ko``, ``name_en``, ``level``, ``parent``, ``population`` (+ ``geometry``
    as GeoJSON text when asked)."""
    import pandas as pd

    t = schema.regions
    columns: list[Any] = [t.c.code, t.c.name_ko, t.c.name_en, t.c.level, t.c.parent, t.c.population]
    if with_geometry:
        columns.append(t.c.geometry)
    query = sa.select(*columns)
    if level is not None:
        query = query.where(t.c.level == level)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(t.c.code)).all()
    return pd.DataFrame(rows, columns=[c.name for c in columns])


def weather_daily(
    engine: Engine,
    *,
    region_codes: Iterable[str] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Daily weather rows (see ``schema.weather_daily``), dates in ``[start, end]``."""
    import pandas as pd

    t = schema.weather_daily
    query = sa.select(*[c for c in t.columns if c.name not in ("id", "batch_id")])
    if region_codes is not None:
        query = query.where(t.c.region_code.in_(list(region_codes)))
    if start is not None:
        query = query.where(t.c.date >= start)
    if end is not None:
        query = query.where(t.c.date <= end)
    with engine.connect() as conn:
        result = conn.execute(query.order_by(t.c.date, t.c.region_code))
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def policies(engine: Engine) -> pd.DataFrame:
    """The policy timeline, by start date."""
    import pandas as pd

    t = schema.policies
    query = sa.select(*[c for c in t.columns if c.name not in ("id", "batch_id")])
    with engine.connect() as conn:
        result = conn.execute(query.order_by(t.c.start_date, t.c.policy_id))
        return pd.DataFrame(result.all(), columns=list(result.keys()))


def ingestion_batches(engine: Engine) -> list[dict[str, Any]]:
    """Every committed batch, oldest first."""
    t = schema.ingestion_batches
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(t).order_by(t.c.id)).mappings()]
