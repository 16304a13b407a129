"""The engine's state cache: same answers, invalidated by new data, damage-tolerant, fast path."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from ansim.records import ExposureEvent
from ansim.risk import state as state_mod
from ansim.risk.engine import RiskEngine
from ansim.store.db import make_engine
from ansim.store.ingest import ingest
from ansim.store.queries import store_version
from ansim.timeutil import SEOUL
from tests.conftest import copy_store

pytestmark = pytest.mark.slow

AT = datetime(2020, 3, 5, 15, tzinfo=SEOUL)


@pytest.fixture(scope="module")
def cached(risk_store_path: Path, risk_var: Path) -> tuple[RiskEngine, RiskEngine]:
    """(built, loaded): the engine from the store, then the same from the cache it wrote."""
    db = make_engine(f"sqlite:///{risk_store_path}")
    first = RiskEngine.from_store(db, cache_dir=risk_var)
    second = RiskEngine.from_store(db, cache_dir=risk_var)
    db.dispose()
    return first, second


def test_loaded_state_gives_the_same_answers(cached) -> None:
    built, loaded = cached
    assert loaded is not built
    for at in (AT, datetime(2020, 12, 8, 12, tzinfo=SEOUL)):
        a, b = built.field(at), loaded.field(at)
        assert all(np.array_equal(a[k], b[k]) for k in a)
        assert (
            built.assess(37.5665, 126.978, at).to_dict()
            == loaded.assess(37.5665, 126.978, at).to_dict()
        )
    assert loaded.exposures.events == built.exposures.events
    assert loaded.notes == built.notes
    assert loaded.zones is not None


def test_fast_path_reads_the_same_state(cached, risk_store_path: Path, risk_var: Path) -> None:
    url = f"sqlite:///{risk_store_path}"
    found = state_mod.sqlite_version(url)
    assert found is not None
    db = make_engine(url)
    assert found[1] == store_version(db, tables=state_mod.STATE_TABLES)
    db.dispose()
    fast = RiskEngine.from_state_cache(url, cache_dir=risk_var)
    assert fast is not None
    assert np.array_equal(fast.field(AT)["ucov"], cached[0].field(AT)["ucov"])
    assert state_mod.sqlite_version("postgresql+psycopg://u@h/db") is None
    # a fresh process on the fast path imports neither pandas nor SQLAlchemy nor scipy
    code = (
        "import sys; from ansim.risk.engine import RiskEngine; "
        f"e = RiskEngine.from_state_cache({url!r}, cache_dir=__import__('pathlib').Path({str(risk_var)!r})); "
        "assert e is not None; "
        "print(sorted(m for m in ('pandas', 'sqlalchemy', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_new_batch_invalidates_the_state(cached, risk_store_path: Path, risk_var, tmp_path):
    path = copy_store(risk_store_path, tmp_path / "copy.db")
    url = f"sqlite:///{path}"
    db = make_engine(url)
    before = RiskEngine.from_store(db, cache_dir=risk_var)  # the copy has its own key (its path)
    assert RiskEngine.from_state_cache(url, cache_dir=risk_var) is not None
    new = ExposureEvent(
        "test",
        "state-1",
        37.5663,
        126.9920,
        start=AT - timedelta(minutes=30),
        end=AT + timedelta(minutes=30),
    )
    ingest(db, source="test", records=[new], checksum="state-test")
    assert RiskEngine.from_state_cache(url, cache_dir=risk_var) is None
    after = RiskEngine.from_store(db, cache_dir=risk_var)
    db.dispose()
    assert after.exposures.size == before.exposures.size + 1
    row = after.table.locate(37.5663, 126.9920)
    assert after.field(AT)["exposure_site"][row] > before.field(AT)["exposure_site"][row]


def test_damaged_state_is_rebuilt(risk_store_path: Path, tmp_path: Path, risk_var: Path) -> None:
    bad = tmp_path / "risk_state" / "engine_x.npz"
    bad.parent.mkdir()
    bad.write_bytes(b"not a zip")
    assert state_mod.load_engine(bad) is None
    assert state_mod.load_engine(tmp_path / "missing.npz") is None
