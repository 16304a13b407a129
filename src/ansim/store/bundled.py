"""The bundled Seoul dataset (``data/``) and loading it into an empty store (``ansim db init``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine

from ansim.settings import get_settings
from ansim.store.formats import load_file
from ansim.store.ingest import IngestResult

# Order matters: regions before the population that updates them.
BUNDLED: tuple[tuple[str, str], ...] = (
    ("boundaries", "boundaries/skorea-provinces-2018-simple.geojson.gz"),
    ("boundaries", "boundaries/seoul-municipalities-2018.geojson.gz"),
    ("boundaries", "boundaries/seoul-submunicipalities-2018.geojson.gz"),
    ("population", "population/seoul_pop2020_gu_dong.csv"),
    ("seoul-cases", "cases/seoul_gu_covid19_confirmed_20200205_20210630.csv.gz"),
    ("ds4c-time-province", "ds4c/TimeProvince.csv.gz"),
    ("kdca-sido", "cases/kdca_Covid19SidoInfState.csv.gz"),
    ("ds4c-floating", "ds4c/SeoulFloating.csv.gz"),
    ("seoul-living", "crowd/seoul_spop_gu_daily_20180405_20200531.csv.gz"),
    ("ds4c-patient-route", "ds4c/PatientRoute.csv.gz"),
    ("ds4c-case", "ds4c/Case.csv.gz"),
    ("stations", "stations/seoul_station_master.csv"),
    ("ds4c-weather", "ds4c/Weather.csv.gz"),
    ("ds4c-policy", "ds4c/Policy.csv.gz"),
    ("alerts", "alerts/mois_seoul_gu_disaster_messages_20200126_20210131.csv.gz"),
    ("alerts", "alerts/SOSmsg_split_nationwide_early2020.csv.gz"),
)
"""(format, path under ``data/``) of every bundled file the store loads."""


def bundled_files(data_dir: Path | None = None) -> list[tuple[str, Path]]:
    """The bundled files with absolute paths."""
    root = data_dir or get_settings().data_dir
    return [(source, root / rel) for source, rel in BUNDLED]


def load_bundled(
    engine: Engine,
    *,
    data_dir: Path | None = None,
    on_file: Callable[[IngestResult], None] | None = None,
) -> list[IngestResult]:
    """Load every bundled file not yet loaded (by checksum); each file is its own transaction."""
    results = []
    for source, path in bundled_files(data_dir):
        result = load_file(engine, source, path)
        if on_file is not None:
            on_file(result)
        results.append(result)
    return results
