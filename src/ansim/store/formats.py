"""Every file format ``ansim ingest SOURCE FILE`` knows: its reader and the table it fills."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from ansim.sources import boundaries, canonical, ds4c, kdca, seoul, stations
from ansim.store import ingest as ingest_mod
from ansim.store.ingest import IngestResult, Progress


@dataclass(frozen=True, slots=True)
class Format:
    """A named input format: reads a file (validating every row) and ingests what it read."""

    name: str
    description: str
    table: str
    read: Callable[[Path], Any]
    write: Callable[..., IngestResult]
    skipped: Callable[[Any], int] | None = None  # rows deliberately left out by the reader
    records: Callable[[Any], Any] | None = None  # from the read result to ingestible records


def _frame_writer(func: Callable[..., IngestResult], arg: str) -> Callable[..., IngestResult]:
    def write(engine: Engine, records: Any, **kw: Any) -> IngestResult:
        return func(engine, **{arg: records}, **kw)

    return write


def _no_progress(func: Callable[..., IngestResult], arg: str) -> Callable[..., IngestResult]:
    def write(
        engine: Engine, records: Any, *, on_progress: Progress | None = None, **kw: Any
    ) -> IngestResult:
        return func(engine, **{arg: records}, **kw)

    return write


_cases = _frame_writer(ingest_mod.ingest_cases, "frame")
_crowd = _frame_writer(ingest_mod.ingest_crowd, "frame")
_exposures = _frame_writer(ingest_mod.ingest_exposures, "events")
_places = _frame_writer(ingest_mod.ingest_places, "places")
_regions = _no_progress(ingest_mod.ingest_regions, "regions")
_population = _no_progress(ingest_mod.ingest_population, "frame")
_weather = _no_progress(ingest_mod.ingest_weather, "frame")
_policies = _no_progress(ingest_mod.ingest_policies, "frame")


@dataclass(frozen=True, slots=True)
class ParsedDump:
    """Disaster messages read and parsed: one row per message, and the exposure events made."""

    messages: list[dict[str, Any]]
    events: list[Any]

    def __len__(self) -> int:
        return len(self.messages)


def _read_alerts(path: Path) -> ParsedDump:
    # Imported here: the parser loads the gazetteer, which other formats don't need.
    from ansim.alerts.sources import read_messages
    from ansim.alerts.stats import message_rows

    events, rows = message_rows(read_messages(path), source="alerts")
    return ParsedDump(rows, events)


def _alerts(engine: Engine, records: ParsedDump, **kw: Any) -> IngestResult:
    return ingest_mod.ingest_alert_messages(
        engine, messages=records.messages, events=records.events, **kw
    )


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "seoul-cases",
            "Seoul daily cases per gu (wide, newest first)",
            "case_counts",
            seoul.read_gu_daily_cases,
            _cases,
        ),
        Format(
            "ds4c-time-province",
            "DS4C TimeProvince: cumulative cases per province",
            "case_counts",
            ds4c.read_time_province,
            _cases,
        ),
        Format(
            "kdca-sido",
            "KDCA Covid19SidoInfState: daily cases per province",
            "case_counts",
            kdca.read_sido_daily,
            _cases,
        ),
        Format(
            "ds4c-floating",
            "DS4C SeoulFloating: SKT people per gu and hour",
            "crowd_observations",
            ds4c.read_seoul_floating,
            _crowd,
        ),
        Format(
            "seoul-living",
            "Seoul KT living population per gu and day",
            "crowd_observations",
            seoul.read_living_population,
            _crowd,
        ),
        Format(
            "ds4c-patient-route",
            "DS4C PatientRoute: places patients visited",
            "exposure_events",
            ds4c.read_patient_route,
            _exposures,
        ),
        Format(
            "ds4c-case",
            "DS4C Case: clusters with coordinates",
            "exposure_events",
            ds4c.read_case_clusters,
            _exposures,
            skipped=lambda r: r.without_coordinates,
            records=lambda r: r.events,
        ),
        Format(
            "stations",
            "Seoul station master: subway stations",
            "places",
            stations.read_stations,
            _places,
        ),
        Format(
            "boundaries",
            "KOSTAT GeoJSON boundaries: province, gu, dong",
            "regions",
            boundaries.read_boundaries,
            _regions,
        ),
        Format(
            "population",
            "Seoul resident population per gu or dong",
            "regions",
            seoul.read_population,
            _population,
        ),
        Format(
            "ds4c-weather",
            "DS4C Weather: daily weather per province",
            "weather_daily",
            ds4c.read_weather,
            _weather,
        ),
        Format(
            "ds4c-policy",
            "DS4C Policy: policy timeline",
            "policies",
            ds4c.read_policy,
            _policies,
        ),
        Format(
            "alerts",
            "disaster messages (재난문자) dump: MOIS per-gu or data.go.kr nationwide",
            "alert_messages",
            _read_alerts,
            _alerts,
        ),
        Format(
            "canonical-cases",
            "canonical daily cases (CSV/JSON, docs/formats.md)",
            "case_counts",
            canonical.read_cases,
            _cases,
        ),
        Format(
            "canonical-exposures",
            "canonical exposure events (CSV/JSON)",
            "exposure_events",
            canonical.read_exposures,
            _exposures,
        ),
        Format(
            "canonical-crowd",
            "canonical crowd observations (CSV/JSON)",
            "crowd_observations",
            canonical.read_crowd,
            _crowd,
        ),
        Format(
            "canonical-places",
            "canonical gazetteer places (CSV/JSON)",
            "places",
            canonical.read_places,
            _places,
        ),
    )
}


def load_file(
    engine: Engine,
    source: str,
    path: Path | str,
    *,
    on_progress: Progress | None = None,
    on_read: Callable[[int], None] | None = None,
) -> IngestResult:
    """Read ``path`` as format ``source`` (validating every row first) and ingest it in one transaction.

    A file already committed under the same source and checksum is not even read.

    Raises
    ------
    KeyError
        Unknown ``source``.
    ansim.errors.InputError
        Any bad row; nothing is written.
    """
    fmt = FORMATS[source]
    p = Path(path)
    checksum = ingest_mod.file_checksum(p)
    previous = ingest_mod.loaded_batch(engine, source=source, checksum=checksum)
    if previous is not None:
        return IngestResult(
            source, p.name, checksum, fmt.table, 0, 0, 0, previous, already_loaded=True
        )
    result = fmt.read(p)
    records = fmt.records(result) if fmt.records else result
    skipped = fmt.skipped(result) if fmt.skipped else 0
    if on_read is not None:
        on_read(len(records))
    extra: dict[str, Any] = {"rows_skipped": skipped} if skipped else {}
    return fmt.write(
        engine,
        records,
        source=source,
        checksum=checksum,
        file_name=p.name,
        on_progress=on_progress,
        **extra,
    )
