"""The store tests run on both backends: SQLite, and PostgreSQL when ``ANSIM_TEST_PG_URL`` is set.

``loaded_engine``, ``store_copy``, ``empty_store`` and ``fresh_store_url`` here override the SQLite
fixtures of ``tests/conftest.py`` for this folder only and depend on ``store_backend``, a
session-scoped parameter: each test that uses them runs as ``[sqlite]`` and ``[postgres]`` (marked
``postgres``; skipped with the reason when no server is configured). Every PostgreSQL store is a
database of its own (a template copy, see ``PgDatabases``), dropped after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from ansim.store.db import make_engine, upgrade
from tests.conftest import PG_SKIP_REASON, PG_URL, PgDatabases, copy_store


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def store_backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgres"``: the backend of this folder's store fixtures."""
    if request.param == "postgres" and not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    return str(request.param)


@pytest.fixture(scope="session")
def loaded_engine(store_backend: str, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The bundled dataset on ``store_backend`` (read-only by convention)."""
    if store_backend == "sqlite":
        engine = make_engine(f"sqlite:///{request.getfixturevalue('loaded_db_path')}")
        yield engine
        engine.dispose()
        return
    # a copy: the template itself must stay free of sessions to be copied
    for engine, _ in _pg_database(request.getfixturevalue("pg_server"), "loaded"):
        yield engine


@pytest.fixture
def store_copy(
    store_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Engine, str]]:
    """A private writable copy of the loaded store on ``store_backend``: (engine, URL)."""
    if store_backend == "sqlite":
        path = copy_store(request.getfixturevalue("loaded_db_path"), tmp_path / "copy.db")
        yield from _engine_at(f"sqlite:///{path}")
        return
    yield from _pg_database(request.getfixturevalue("pg_server"), "loaded")


@pytest.fixture
def empty_store(
    store_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Engine, str]]:
    """A migrated, empty store on ``store_backend``: (engine, URL)."""
    if store_backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
        engine = make_engine(url)
        upgrade(engine)
        yield engine, url
        engine.dispose()
        return
    yield from _pg_database(request.getfixturevalue("pg_server"), "empty")


@pytest.fixture
def fresh_store_url(
    store_backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """The URL of a store that does not exist yet (SQLite) or is an empty database (PostgreSQL)."""
    if store_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    pg: PgDatabases = request.getfixturevalue("pg_server")
    name = pg.create()
    yield pg.url_of(name)
    pg.drop(name)


def _engine_at(url: str) -> Iterator[tuple[Engine, str]]:
    engine = make_engine(url)
    yield engine, url
    engine.dispose()


def _pg_database(pg: PgDatabases, template: str | None) -> Iterator[tuple[Engine, str]]:
    name = pg.create(template=pg.template(template) if template else None)
    try:
        yield from _engine_at(pg.url_of(name))
    finally:
        pg.drop(name)
