"""Shared fixtures: the bundled data, and stores built from it.

``loaded_engine`` is a session-wide SQLite store with the whole bundled Seoul dataset, built once
per test process; treat it as read-only. ``store_copy`` gives a test its own writable copy of it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from ansim.store.bundled import load_bundled
from ansim.store.db import make_engine, upgrade

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"


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
