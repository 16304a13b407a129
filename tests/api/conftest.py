"""API fixtures: the app on a private copy of the loaded store, with a copy of one risk engine.

The engine is built once per session from the loaded store (~10 s) and deep-copied for each test
(~0.5 s), so writes in one test never leak into another.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from ansim.api.app import create_app
from ansim.api.keys import create_key
from ansim.api.state import PlatformState
from ansim.risk.engine import RiskEngine
from ansim.settings import Settings
from ansim.store import queries
from ansim.store.db import upgrade

# A point in Jung-gu (Myeong-dong) and an hour inside the data period.
LAT, LON = 37.5636, 126.9830
AT = "2020-05-01T14:00:00+09:00"


@pytest.fixture(scope="session")
def api_var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Caches for this topic (cell table, gravity, networks), never the repository's ``var/``."""
    return tmp_path_factory.mktemp("api-var")


@pytest.fixture(scope="session")
def session_risk(loaded_engine: Engine, api_var_dir: Path) -> RiskEngine:
    return RiskEngine.from_store(loaded_engine, cache_dir=api_var_dir)


def make_settings(url: str, var_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "db_url": url,
        "var_dir": var_dir,
        "subscription_key": Fernet.generate_key().decode(),
        "rate_limit_per_ip": "100000/minute",
        "rate_limit_per_key": "100000/minute",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Api:
    client: TestClient
    db: Engine
    url: str
    state: PlatformState
    ingest_key: str
    read_key: str

    def counts(self) -> dict[str, int]:
        return queries.table_counts(self.db)

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.ingest_key}"}


def build_api(
    store_copy: tuple[Engine, str], session_risk: RiskEngine, var_dir: Path, **overrides: object
) -> Iterator[Api]:
    db, url = store_copy
    upgrade(db)
    settings = make_settings(url, var_dir, **overrides)
    app = create_app(
        settings=settings, engine=db, risk_engine=copy.deepcopy(session_risk), poll=False
    )
    _, ingest = create_key(db, scope="ingest", label="tests")
    _, read = create_key(db, scope="read", label="tests")
    with TestClient(app) as client:
        yield Api(client, db, url, app.state.platform, ingest, read)


@pytest.fixture
def api(
    store_copy: tuple[Engine, str], session_risk: RiskEngine, api_var_dir: Path
) -> Iterator[Api]:
    """The app on a writable store copy, its own engine copy, an ingest key and a read key."""
    yield from build_api(store_copy, session_risk, api_var_dir)
