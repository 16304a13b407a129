"""Shared fixtures: the bundled data, and stores built from it.

``loaded_engine`` is a session-wide SQLite store with the whole bundled Seoul dataset, built once
per test process; treat it as read-only. ``store_copy`` gives a test its own writable copy of it.

PostgreSQL: with ``ANSIM_TEST_PG_URL`` set (``.ci/run`` starts a server with ``.ci/postgres-start``),
``pg_server`` makes throwaway databases on it: the bundled data is loaded once per test run into a
template database (one xdist worker builds it under an advisory lock, the others wait), and every
store a test asks for is a ``CREATE DATABASE … TEMPLATE`` copy of it (a file copy, ~0.05 s), dropped
afterwards. ``tests/store/conftest.py`` runs the store tests on both backends with it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ansim.store.bundled import load_bundled
from ansim.store.db import make_engine, upgrade

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"

PG_URL = os.environ.get("ANSIM_TEST_PG_URL", "")
PG_SKIP_REASON = (
    "ANSIM_TEST_PG_URL is not set: no PostgreSQL server for this run "
    "(.ci/run starts one; locally: ANSIM_TEST_PG_URL=$(.ci/postgres-start) make test)"
)
# Shared by every xdist worker of one run (so they share the template), unique per run.
RUN_ID = (os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex)[:10].lower()
PG_PREFIX = "ansim_t"
_TEMPLATE_LOCK = 0x616E73696D  # advisory lock key ("ansim"): one worker builds the templates


class PgDatabases:
    """Throwaway databases on the PostgreSQL server of ``ANSIM_TEST_PG_URL`` (see the module doc)."""

    def __init__(self, url: str, worker: str) -> None:
        self.url = sa.engine.make_url(url)
        self.admin = sa.create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
        self.prefix = f"{PG_PREFIX}{RUN_ID}"
        self.worker = worker
        self.counter = itertools.count()
        with self.admin.connect() as conn:
            version = int(conn.exec_driver_sql("SHOW server_version_num").scalar_one())
        # FILE_COPY (the only strategy before 15) copies files instead of WAL-logging every page.
        self.strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, *, template: str | None = None) -> str:
        """A new database (empty, or a copy of ``template``); returns its name."""
        name = f"{self.prefix}_{self.worker}_{next(self.counter)}"
        clause = f" TEMPLATE {template}{self.strategy}" if template else ""
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}{clause}")
        return name

    def drop(self, name: str) -> None:
        # FORCE: a killed client or a server under test may still hold a session on it.
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def template(self, kind: str) -> str:
        """The template database of this run: ``"empty"`` (migrated) or ``"loaded"`` (bundled data)."""
        name = f"{self.prefix}_tpl_{kind}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({_TEMPLATE_LOCK})")
            try:
                exists = conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                ).scalar()
                if not exists:
                    self._drop_stale(conn)
                    self._build(conn, name, kind)
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_TEMPLATE_LOCK})")
        return name

    def _build(self, conn: sa.Connection, name: str, kind: str) -> None:
        # Built under another name and renamed when complete: a template that exists is whole.
        building = f"{name}_building"
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {building} WITH (FORCE)")
        conn.exec_driver_sql(f"CREATE DATABASE {building}")
        engine = make_engine(self.url_of(building))
        try:
            upgrade(engine)
            if kind == "loaded":
                load_bundled(engine)
        finally:
            engine.dispose()
        conn.exec_driver_sql(f"ALTER DATABASE {building} RENAME TO {name}")

    def _drop_stale(self, conn: sa.Connection) -> None:
        """Databases left by earlier runs on a long-lived local server."""
        stale = conn.execute(
            sa.text(
                "SELECT datname FROM pg_database WHERE datname LIKE :like AND datname NOT LIKE :ours"
            ),
            {"like": f"{PG_PREFIX}%", "ours": f"{self.prefix}%"},
        ).scalars()
        for name in list(stale):
            with contextlib.suppress(sa.exc.DBAPIError):  # in use by another run: leave it
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")

    def dispose(self) -> None:
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgDatabases]:
    """Throwaway databases on the test PostgreSQL server; skips when ``ANSIM_TEST_PG_URL`` is unset."""
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    databases = PgDatabases(PG_URL, os.environ.get("PYTEST_XDIST_WORKER", "main"))
    yield databases
    databases.dispose()


@pytest.fixture
def pg_loaded_copy(pg_server: PgDatabases) -> Iterator[tuple[Engine, str]]:
    """A private PostgreSQL copy of the loaded store: (engine, URL), dropped afterwards."""
    name = pg_server.create(template=pg_server.template("loaded"))
    url = pg_server.url_of(name)
    engine = make_engine(url)
    yield engine, url
    engine.dispose()
    pg_server.drop(name)


@pytest.fixture
def data_dir() -> Path:
    """The bundled Seoul dataset."""
    return DATA


@pytest.fixture
def test_data_dir() -> Path:
    """Small files made for tests."""
    return TEST_DATA


@pytest.fixture(scope="session")
def loaded_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a SQLite file holding the migrated schema and every bundled file (built once)."""
    path = tmp_path_factory.mktemp("store") / "loaded.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    load_bundled(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def loaded_engine(loaded_db_path: Path) -> Iterator[Engine]:
    """Session-scoped engine on the bundled dataset. Read-only by convention: use ``store_copy`` to write."""
    engine = make_engine(f"sqlite:///{loaded_db_path}")
    yield engine
    engine.dispose()


def copy_store(source: Path, target: Path) -> Path:
    """Copy a SQLite store consistently (online backup API, WAL included)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return target


@pytest.fixture
def store_copy(loaded_db_path: Path, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """A private writable copy of the loaded store: (engine, SQLAlchemy URL for subprocesses)."""
    path = copy_store(loaded_db_path, tmp_path / "copy.db")
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    yield engine, url
    engine.dispose()


@pytest.fixture
def empty_store(tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """A migrated, empty store in a temporary directory: (engine, URL)."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    upgrade(engine)
    yield engine, url
    engine.dispose()
