"""Plans fixtures: a risk engine built from the loaded store (``loaded_engine``, tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansim.risk.engine import RiskEngine
from tests.conftest import TEST_DATA

SAMPLE_ICS = TEST_DATA / "spring2020_week.ics"


@pytest.fixture(scope="session")
def plans_var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Caches (cell table, gravity model, street networks) for this topic, never ``var/``."""
    return tmp_path_factory.mktemp("plans-var")


@pytest.fixture(scope="session")
def risk_engine(loaded_engine, plans_var_dir: Path) -> RiskEngine:
    """The real engine on the bundled data, from the store (as ``ansim check-plans`` builds it)."""
    return RiskEngine.from_store(loaded_engine, cache_dir=plans_var_dir)
