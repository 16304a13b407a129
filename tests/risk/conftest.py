"""Session fixtures of the risk tests: the real bundled inputs, read once, and a store made of them.

The store holds exactly what the engine reads (Seoul per-gu cases, the KDCA and DS4C province series,
the KT and SKT crowd, PatientRoute, Case and the visits of the bundled disaster messages), ingested
from the frames already read for ``from_records``: building it costs seconds, not the half minute of
the full ``ansim db init`` store.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ansim.records import ExposureEvent
from ansim.sources.ds4c import (
    read_cases,
    read_patient_route,
    read_seoul_floating,
    read_time_province,
)
from ansim.sources.kdca import read_sido_daily
from ansim.sources.seoul import read_gu_daily_cases, read_living_population
from ansim.store.db import make_engine, upgrade
from ansim.store.formats import FORMATS
from ansim.store.ingest import ingest
from tests.conftest import DATA


@pytest.fixture(scope="session")
def risk_inputs() -> tuple[pd.DataFrame, pd.DataFrame, list[ExposureEvent]]:
    """(cases, crowd, exposure events) of the bundled Seoul data, as the store holds them."""
    cases = pd.concat(
        [
            read_gu_daily_cases(
                DATA / "cases" / "seoul_gu_covid19_confirmed_20200205_20210630.csv.gz"
            ),
            read_sido_daily(DATA / "cases" / "kdca_Covid19SidoInfState.csv.gz"),
            read_time_province(DATA / "ds4c" / "TimeProvince.csv.gz"),
        ],
        ignore_index=True,
    )
    crowd = pd.concat(
        [
            read_living_population(DATA / "crowd" / "seoul_spop_gu_daily_20180405_20200531.csv.gz"),
            read_seoul_floating(DATA / "ds4c" / "SeoulFloating.csv.gz"),
        ],
        ignore_index=True,
    )
    events = read_patient_route(DATA / "ds4c" / "PatientRoute.csv.gz") + read_cases(
        DATA / "ds4c" / "Case.csv.gz"
    )
    # the visits named by the bundled disaster messages, as `ansim db init` loads them
    for dump in sorted((DATA / "alerts").glob("*.csv.gz")):
        events += FORMATS["alerts"].read(dump).events
    return cases, crowd, events


@pytest.fixture(scope="session")
def risk_store_path(tmp_path_factory: pytest.TempPathFactory, risk_inputs) -> Path:
    """A SQLite store with the engine's inputs (one batch per kind); read-only by convention."""
    cases, crowd, events = risk_inputs
    path = tmp_path_factory.mktemp("risk_store") / "risk.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    ingest(engine, source="cases", records=cases, checksum="risk-test-cases")
    ingest(engine, source="crowd", records=crowd, checksum="risk-test-crowd")
    ingest(engine, source="exposures", records=events, checksum="risk-test-exposures")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def risk_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One var directory (cell table, gravity model, engine state) for the risk tests."""
    return tmp_path_factory.mktemp("risk_var")
