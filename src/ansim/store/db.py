"""Engines and migrations: SQLite in WAL mode by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ansim.settings import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
BUSY_TIMEOUT_MS = 30_000
BATCH_CHANNEL = "ansim_batches"
"""PostgreSQL ``NOTIFY`` channel: every committed batch is announced on it (see ``notify_batch``)."""


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine for ``url`` (default ``settings.db_url``).

    For SQLite the parent directory is created and every connection gets WAL journaling (readers
    never block the writer, and a killed writer leaves the last committed state), foreign keys and
    a busy timeout so a concurrent writer waits instead of failing.
    """
    url = url or get_settings().db_url
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def notify_batch(conn: Connection, batch_id: int) -> None:
    """Announce ``batch_id`` to the API instances listening (PostgreSQL; a no-op on SQLite).

    Call it inside the batch's transaction: the server delivers ``NOTIFY`` only on COMMIT, and
    never for a transaction rolled back, so listeners hear of committed batches only.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_notify(BATCH_CHANNEL, str(batch_id))))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commit).
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def alembic_config(engine: Engine) -> Any:
    """An Alembic ``Config`` pointing at the packaged migrations, bound to ``engine``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate the store to ``revision``; returns (revision before, revision after)."""
    from alembic import command

    before = current_revision(engine)
    command.upgrade(alembic_config(engine), revision)
    return before, current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    """The store's Alembic revision, ``None`` for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest migration shipped with this version."""
    from alembic.script import ScriptDirectory

    config = alembic_config(sa.create_engine("sqlite://"))
    return ScriptDirectory.from_config(config).get_current_head()
