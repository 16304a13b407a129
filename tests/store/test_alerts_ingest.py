"""Disaster-message dumps in the store: every message kept with its status, events idempotent."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from ansim.store import queries, schema
from ansim.store.formats import load_file

DATA = Path(__file__).resolve().parents[2] / "data"
SEOUL_DUMP = DATA / "alerts" / "mois_seoul_gu_disaster_messages_20200126_20210131.csv.gz"


def test_every_message_is_kept_with_a_status(loaded_engine) -> None:
    with loaded_engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                schema.alert_messages.c.status,
                schema.alert_messages.c.kind,
                sa.func.count(),
                sa.func.sum(schema.alert_messages.c.events),
            ).group_by(schema.alert_messages.c.status, schema.alert_messages.c.kind)
        ).all()
        alert_events = conn.execute(
            sa.select(sa.func.count())
            .select_from(schema.exposure_events)
            .where(schema.exposure_events.c.source == "alerts")
        ).scalar_one()
    by_status: dict[str, int] = {}
    for status, kind, n, _ in rows:
        by_status[status] = by_status.get(status, 0) + n
        # Only exposure-site messages make events; the others are kept "for the record".
        assert (status == "not_exposure") == (kind != "exposure_site")
    assert sum(by_status.values()) == 6_473 + 4_338
    assert set(by_status) == {"events", "no_event", "not_exposure"}
    assert sum(int(e or 0) for *_, e in rows) == alert_events > 400


def test_unparsed_exposure_messages_carry_a_reason(loaded_engine) -> None:
    with loaded_engine.connect() as conn:
        reasons = conn.execute(
            sa.select(schema.alert_messages.c.reason).where(
                schema.alert_messages.c.status == "no_event"
            )
        ).scalars()
        assert all(r.strip() for r in reasons)


def test_replaying_a_dump_in_another_encoding_changes_no_count(store_copy, tmp_path) -> None:
    import gzip

    engine, _ = store_copy
    before = queries.table_counts(engine)
    # A CP949 copy has another checksum, so it is parsed and upserted again: natural keys hold.
    cp949 = tmp_path / "seoul_cp949.csv"
    cp949.write_bytes(gzip.decompress(SEOUL_DUMP.read_bytes()).decode("utf-8").encode("cp949"))
    result = load_file(engine, "alerts", cp949)
    assert not result.already_loaded
    assert result.rows_new == 0
    after = queries.table_counts(engine)
    assert after["ingestion_batches"] == before["ingestion_batches"] + 1
    assert {k: v for k, v in after.items() if k != "ingestion_batches"} == {
        k: v for k, v in before.items() if k != "ingestion_batches"
    }
