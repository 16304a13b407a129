"""Ingestion on the real bundled data: counts, idempotency, encodings, atomicity."""

from __future__ import annotations

import gzip
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ansim.errors import InputError
from ansim.store import queries, schema
from ansim.store.bundled import BUNDLED
from ansim.store.formats import FORMATS, load_file
from ansim.store.ingest import ingest, ingest_exposures
from ansim.timeutil import SEOUL

DATA = Path(__file__).resolve().parents[2] / "data"

BUNDLED_COUNTS = {
    "regions": 17 + 25 + 424,
    "case_counts": 12_800 + 2_771 + 6_647,
    # patient routes + clusters + visits parsed from the Seoul disaster messages
    "exposure_events": 7_330 + 65 + 500,
    "crowd_observations": 27_600 + 19_250,
    "places": 909,
    "weather_daily": 26_271,
    "policies": 61,
    "alert_messages": 6_473 + 4_338,
    "ingestion_batches": len(BUNDLED),
}


def test_every_bundled_file_is_loaded_with_expected_counts(loaded_engine) -> None:
    assert queries.table_counts(loaded_engine) == BUNDLED_COUNTS
    batches = queries.ingestion_batches(loaded_engine)
    assert {b["source"] for b in batches} == {s for s, _ in BUNDLED}
    assert all(b["status"] == "loaded" and len(b["checksum_sha256"]) == 64 for b in batches)
    case_batch = next(b for b in batches if b["source"] == "ds4c-case")
    assert case_batch["rows_skipped"] == 109  # clusters without coordinates are counted


def test_every_format_is_bundled_or_canonical() -> None:
    bundled = {s for s, _ in BUNDLED}
    assert {n for n in FORMATS if not n.startswith("canonical-")} == bundled


def test_migrations_match_the_schema(loaded_engine) -> None:
    with loaded_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    assert diff == []


def test_reingesting_every_bundled_file_changes_nothing(store_copy) -> None:
    engine, _ = store_copy
    before = queries.table_counts(engine)
    for source, rel in BUNDLED:
        result = load_file(engine, source, DATA / rel)
        assert result.already_loaded, source
    assert queries.table_counts(engine) == before


def test_overlapping_file_upserts_without_new_rows(store_copy, tmp_path: Path) -> None:
    engine, _ = store_copy
    lines = gzip.decompress((DATA / "ds4c/PatientRoute.csv.gz").read_bytes()).decode().splitlines()
    part = tmp_path / "route_part.csv"
    part.write_text("\n".join(lines[:2001]) + "\n", encoding="utf-8")  # header + first 2,000 rows
    before = queries.table_counts(engine)
    result = load_file(engine, "ds4c-patient-route", part)
    assert not result.already_loaded
    assert result.rows_accepted > 1_500
    assert result.rows_new == 0
    after = queries.table_counts(engine)
    assert after["exposure_events"] == before["exposure_events"]
    assert after["ingestion_batches"] == before["ingestion_batches"] + 1


def test_cp949_copy_loads_exactly_like_utf8(empty_store, tmp_path: Path) -> None:
    engine, _ = empty_store
    original = DATA / "cases/seoul_gu_covid19_confirmed_20200205_20210630.csv.gz"
    text = gzip.decompress(original.read_bytes()).decode("utf-8")
    cp949 = tmp_path / "seoul_cases_cp949.csv"
    cp949.write_bytes(text.encode("cp949"))
    load_file(engine, "seoul-cases", original)
    utf8_frame = queries.case_counts(engine)
    result = load_file(engine, "seoul-cases", cp949)
    assert not result.already_loaded  # a different file (checksum) …
    assert result.rows_new == 0  # … with exactly the same rows
    assert queries.case_counts(engine).equals(utf8_frame)
    assert len(utf8_frame) == 12_800


@pytest.mark.parametrize(
    ("edit", "row", "field"),
    [
        (lambda cols: cols.__setitem__(6, "95.0"), 3, "latitude"),
        (lambda cols: cols.__setitem__(2, "2020-13-01"), 3, "date"),
        (lambda cols: cols.pop(), 3, "longitude"),
    ],
    ids=["latitude-95", "month-13", "missing-column"],
)
def test_one_bad_row_writes_nothing(store_copy, tmp_path: Path, edit, row: int, field: str) -> None:
    engine, _ = store_copy
    lines = gzip.decompress((DATA / "ds4c/PatientRoute.csv.gz").read_bytes()).decode().splitlines()
    cols = lines[row].split(",")
    edit(cols)
    lines[row] = ",".join(cols)
    bad = tmp_path / "bad_route.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = queries.table_counts(engine)
    with pytest.raises(InputError) as info:
        load_file(engine, "ds4c-patient-route", bad)
    assert info.value.row == row
    assert info.value.field == field
    assert info.value.source == "bad_route.csv"
    assert queries.table_counts(engine) == before


def test_failed_transaction_leaves_no_batch(empty_store) -> None:
    engine, _ = empty_store
    event = queries_event()
    # The second event breaks the latitude CHECK constraint inside the transaction.
    broken = [event, type(event)(**{**_fields(event), "source_record_id": "b", "lat": 123.0})]
    with pytest.raises(sa.exc.IntegrityError):
        ingest_exposures(engine, source="test", events=broken, checksum="x" * 64, file_name="t")
    assert queries.table_counts(engine)["exposure_events"] == 0
    assert queries.table_counts(engine)["ingestion_batches"] == 0


def queries_event():
    from ansim.records import ExposureEvent

    return ExposureEvent(
        source="test",
        source_record_id="a",
        lat=37.5,
        lon=127.0,
        start=datetime(2020, 3, 1, 12, tzinfo=SEOUL),
        end=datetime(2020, 3, 1, 13, tzinfo=SEOUL),
    )


def _fields(event) -> dict:
    return {name: getattr(event, name) for name in event.__slots__}


def test_generic_ingest_round_trips_exposures(empty_store) -> None:
    engine, _ = empty_store
    event = queries_event()
    result = ingest(engine, source="test", records=[event], checksum="c" * 64)
    assert result.rows_new == 1
    assert queries.exposure_events(engine) == [event]
    again = ingest(engine, source="test", records=[event], checksum="c" * 64)
    assert again.already_loaded
    assert queries.table_counts(engine)["ingestion_batches"] == 1


def test_queries_filter_the_bundled_data(loaded_engine) -> None:
    cases = queries.case_counts(
        loaded_engine, region_codes=["11110"], start=date(2021, 6, 30), end=date(2021, 6, 30)
    )
    assert cases.to_dict("records") == [
        {"region_code": "11110", "date": date(2021, 6, 30), "new_cases": 1, "source": "seoul-cases"}
    ]
    march = queries.exposure_events(
        loaded_engine,
        since=datetime(2020, 3, 1, tzinfo=SEOUL),
        until=datetime(2020, 3, 2, tzinfo=SEOUL),
        source="ds4c-patient-route",
    )
    assert march
    assert all(e.start.date() == date(2020, 3, 1) for e in march)
    crowd = queries.crowd_observations(
        loaded_engine,
        source="ds4c-floating",
        start=datetime(2020, 1, 1, tzinfo=SEOUL),
        end=datetime(2020, 1, 1, 1, tzinfo=SEOUL),
    )
    assert len(crowd) == 25
    assert (crowd["period_start"] == datetime(2020, 1, 1, tzinfo=SEOUL)).all()
    assert str(crowd["period_start"].dt.tz) == "Asia/Seoul"
    stations = queries.places(loaded_engine, kind="station")
    assert len(stations) == 909
    assert any(p.name_ko == "서울역" for p in stations)
    gu = queries.regions(loaded_engine, level="gu")
    assert len(gu) == 25
    assert gu["population"].notna().all()
    dong = queries.regions(loaded_engine, level="dong")
    assert dong["population"].notna().sum() >= 400  # 2020 names matched to 2018 boundaries


def test_catalog_describes_every_format() -> None:
    from ansim.store.catalog import CATALOG

    assert {n: (f.description, f.table) for n, f in FORMATS.items()} == CATALOG
