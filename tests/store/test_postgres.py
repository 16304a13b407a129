"""What only PostgreSQL does: batch announcements (NOTIFY) and the store's version with its oid.

The rest of the store suite runs on PostgreSQL through the parametrized fixtures (conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import psycopg
import pytest
import sqlalchemy as sa

from ansim.api.sync import listen_url
from ansim.records import ExposureEvent
from ansim.risk import state as state_mod
from ansim.store.db import BATCH_CHANNEL, make_engine, notify_batch
from ansim.store.ingest import ingest
from ansim.store.queries import store_version
from ansim.timeutil import SEOUL
from tests.conftest import PgDatabases

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_empty(pg_server: PgDatabases) -> Iterator[tuple[sa.Engine, str]]:
    name = pg_server.create(template=pg_server.template("empty"))
    url = pg_server.url_of(name)
    engine = make_engine(url)
    yield engine, url
    engine.dispose()
    pg_server.drop(name)


def _event(record_id: str) -> ExposureEvent:
    return ExposureEvent(
        source="test",
        source_record_id=record_id,
        lat=37.5,
        lon=127.0,
        start=datetime(2020, 3, 1, 12, tzinfo=SEOUL),
        end=datetime(2020, 3, 1, 13, tzinfo=SEOUL),
    )


def test_batches_are_announced_on_commit_only(pg_empty: tuple[sa.Engine, str]) -> None:
    engine, _ = pg_empty
    conninfo = listen_url(engine.url)
    assert conninfo is not None
    with psycopg.connect(conninfo, autocommit=True) as listener:
        listener.execute(f"LISTEN {BATCH_CHANNEL}")
        with engine.connect() as conn:
            tx = conn.begin()
            notify_batch(conn, 999)
            tx.rollback()  # a rolled-back batch is never announced
        first = ingest(engine, source="test", records=[_event("a")], checksum="a" * 64)
        again = ingest(engine, source="test", records=[_event("a")], checksum="a" * 64)
        second = ingest(engine, source="test", records=[_event("b")], checksum="b" * 64)
        assert again.already_loaded  # writes nothing, announces nothing
        heard = list(listener.notifies(timeout=2.0, stop_after=2))
        assert [(n.channel, n.payload) for n in heard] == [
            (BATCH_CHANNEL, str(first.batch_id)),
            (BATCH_CHANNEL, str(second.batch_id)),
        ]
        assert list(listener.notifies(timeout=0.3)) == []


def test_sqlite_fast_path_declines_and_version_names_the_database(
    pg_server: PgDatabases, pg_empty: tuple[sa.Engine, str]
) -> None:
    engine, url = pg_empty
    # the standard-library SQLite reader of the risk state cache leaves PostgreSQL URLs alone
    assert state_mod.sqlite_version(url) is None
    ingest(engine, source="test", records=[_event("a")], checksum="a" * 64)
    version = store_version(engine, tables=state_mod.STATE_TABLES)
    assert version["last_batch_id"] == version["batches"] == 1
    assert version["exposure_events"] == 1
    assert version["database_oid"] > 0
    # the same name, re-created with the same rows: another database, so another version
    name = engine.url.database
    assert name is not None
    engine.dispose()
    with pg_server.admin.connect() as conn:
        conn.exec_driver_sql(f"ALTER DATABASE {name} RENAME TO {name}_old")
        conn.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE {name}_old")
        conn.exec_driver_sql(f"DROP DATABASE {name}_old")
    recreated = store_version(engine, tables=state_mod.STATE_TABLES)
    assert recreated["database_oid"] != version["database_oid"]
    assert {k: v for k, v in recreated.items() if k != "database_oid"} == {
        k: v for k, v in version.items() if k != "database_oid"
    }
