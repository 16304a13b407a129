"""Two real ``ansim serve`` instances on one store stay in step (issue 10).

Instance A takes the writes, instance B the reads: each exposure posted to A must change B's risk
answer, and reach an SSE subscriber on B, within 1 s. On PostgreSQL B hears of the batch by
``LISTEN/NOTIFY``; on SQLite it polls ``ingestion_batches`` (every 0.5 s). Both run here; the
PostgreSQL pair needs ``ANSIM_TEST_PG_URL`` (skipped without it). Also unit tests of the
``BatchCursor`` that keeps out-of-order commits from being skipped, on a real PostgreSQL server.
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from ansim.api.state import _new_batches
from ansim.api.sync import HOLE_TIMEOUT_S, BatchCursor
from ansim.store import schema
from ansim.store.db import make_engine
from tests.conftest import PgDatabases, copy_store
from tests.servers import listen_sse, serve_env, start_serve, stop_serve

WRITES = 20
AT = "2020-05-10T19:00:00+09:00"  # the hour of every exposure posted (inside the data period)


@dataclass
class Pair:
    backend: str
    a: str
    b: str
    key: str
    procs: list[subprocess.Popen[bytes]]


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def pair(
    request: pytest.FixtureRequest, api_var_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    """Instances A and B (one worker each) on one private copy of the loaded store."""
    pg: PgDatabases | None = None
    name = ""
    if request.param == "postgres":
        pg = request.getfixturevalue("pg_server")  # skips here, before any work, without a server
    request.getfixturevalue("session_risk")  # builds the cell table and gravity in api_var_dir
    tmp = tmp_path_factory.mktemp(f"instances-{request.param}")
    if pg is None:
        url = f"sqlite:///{copy_store(request.getfixturevalue('loaded_db_path'), tmp / 's.db')}"
    else:
        name = pg.create(template=pg.template("loaded"))
        url = pg.url_of(name)
    var_dir = tmp / "var"
    shutil.copytree(api_var_dir, var_dir)  # the cell table and gravity model, built once
    env = serve_env(url, var_dir)
    created = subprocess.run(
        [sys.executable, "-m", "ansim.cli", "keys", "create", "--scope", "ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    key = next(w for w in created.stdout.split() if w.startswith("ansim_"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        # A builds the engine and saves its state; B, started next, reads that state (seconds).
        a, proc_a = start_serve(env, tmp / "a.log")
        procs.append(proc_a)
        b, proc_b = start_serve(env, tmp / "b.log")
        procs.append(proc_b)
        yield Pair(request.param, a, b, key, procs)
    finally:
        stop_serve(*procs)
        if pg is not None:
            pg.drop(name)


def _site(i: int) -> tuple[float, float]:
    """Distinct points ~1.3 km apart across central Seoul (one H3 cell each, far from each other)."""
    row, col = divmod(i, 5)
    return 37.520 + 0.012 * row, 126.940 + 0.015 * col


def _record(i: int, lat: float, lon: float, tag: str) -> dict[str, object]:
    return {
        "source": "instances-test",
        "source_record_id": f"{tag}-{i}",
        "lat": lat,
        "lon": lon,
        "start": AT,
        "end": "2020-05-10T20:00:00+09:00",
        "precision": "point",
        "place_name": f"동기화 {tag} {i}",
        "cases": 3,
    }


def _ucov(client: httpx.Client, lat: float, lon: float) -> float:
    response = client.get("/v1/risk", params={"lat": lat, "lon": lon, "at": AT})
    assert response.status_code == 200, response.text
    return float(response.json()["ucov"]["value"])


def test_a_write_changes_risk_reads_on_b_within_one_second(pair: Pair) -> None:
    sent_to_seen: list[float] = []
    answered_to_seen: list[float] = []
    # writes at random moments, so that polling (SQLite) is sampled at every phase of its interval
    pauses_s = [random.Random(10).uniform(0.0, 0.5) for _ in range(WRITES)]
    with (
        httpx.Client(base_url=pair.a, timeout=30) as a,
        httpx.Client(base_url=pair.b, timeout=30) as b,
    ):
        for i in range(WRITES):
            lat, lon = _site(i)
            before = _ucov(b, lat, lon)
            assert _ucov(a, lat, lon) == before  # in step before the write
            time.sleep(pauses_s[i])
            sent = time.monotonic()
            response = a.post(
                "/v1/exposures",
                json=[_record(i, lat, lon, pair.backend)],
                headers={"Authorization": f"Bearer {pair.key}"},
            )
            answered = time.monotonic()
            assert response.status_code == 201, response.text
            assert response.json()["applied"] is True
            while (seen := _ucov(b, lat, lon)) == before and time.monotonic() - sent < 5:
                time.sleep(0.01)
            now = time.monotonic()
            assert seen > before
            assert seen == _ucov(a, lat, lon)  # B answers exactly what A answers
            sent_to_seen.append(now - sent)
            answered_to_seen.append(max(0.0, now - answered))
    figures = {
        "backend": pair.backend,
        "writes": WRITES,
        "post_to_b_median_s": round(statistics.median(sent_to_seen), 3),
        "post_to_b_max_s": round(max(sent_to_seen), 3),
        "a_answer_to_b_median_s": round(statistics.median(answered_to_seen), 3),
        "a_answer_to_b_max_s": round(max(answered_to_seen), 3),
    }
    print("instances:", json.dumps(figures))
    assert max(answered_to_seen) < 1.0, figures


def test_sse_subscriber_on_b_gets_the_alert_of_a_write_on_a(pair: Pair) -> None:
    lat, lon = 37.4980, 127.0276
    with httpx.Client(base_url=pair.b, timeout=30) as b:
        sub = b.post(
            "/v1/subscriptions",
            json={
                "area": {"type": "Point", "coordinates": [lon, lat]},
                "radius_m": 400,
                "threshold": "high",
            },
        ).json()
    events, stop = listen_sse(
        pair.b + sub["events_url"], headers={"Authorization": f"Bearer {sub['token']}"}
    )
    assert events.get(timeout=10)[1] == "ready"
    record = _record(0, lat + 0.0005, lon, f"{pair.backend}-alert")
    with httpx.Client(base_url=pair.a, timeout=30) as a:
        response = a.post(
            "/v1/exposures", json=[record], headers={"Authorization": f"Bearer {pair.key}"}
        )
        answered = time.monotonic()
        assert response.status_code == 201, response.text
    received, kind, data = events.get(timeout=10)
    stop.set()
    assert kind == "alert"
    alert = json.loads(data)
    assert alert["subscription_id"] == sub["id"]
    assert alert["batch_id"] == response.json()["batch_id"]
    assert alert["level"] in ("high", "very_high", "dangerous")
    assert received - answered < 1.0, f"alert on B {received - answered:.2f} s after A answered"


# --- out-of-order commits ---------------------------------------------------------------------


def test_cursor_waits_for_a_batch_committed_late_and_gives_up_on_a_rolled_back_one() -> None:
    cursor = BatchCursor(10)
    assert cursor.new([11, 13]) == [11, 13]  # 12 is in flight (or rolled back)
    cursor.mark([11, 13], now_s=0.0)
    assert (cursor.floor, cursor.last) == (11, 13)
    assert cursor.new([12, 13]) == [12]  # 12 commits late: applied, not skipped
    cursor.mark([12], now_s=1.0)
    assert (cursor.floor, cursor.applied) == (13, set())
    cursor.mark([15], now_s=2.0)  # 14 never comes
    cursor.mark([], now_s=2.0 + HOLE_TIMEOUT_S - 1)
    assert cursor.floor == 13
    cursor.mark([], now_s=2.0 + HOLE_TIMEOUT_S)
    assert (cursor.floor, cursor.applied, cursor.holes_since) == (15, set(), {})


@pytest.mark.postgres
def test_a_batch_committed_after_a_newer_one_is_still_applied(pg_server: PgDatabases) -> None:
    name = pg_server.create(template=pg_server.template("empty"))
    db = make_engine(pg_server.url_of(name))
    now = datetime.now(UTC)

    def batch(conn: sa.Connection) -> int:
        row = {
            "source": "t",
            "file_name": "t",
            "checksum_sha256": "t",
            "rows_accepted": 0,
            "rows_new": 0,
        }
        inserted = conn.execute(
            sa.insert(schema.ingestion_batches).values(
                **row, status="loaded", started_at=now, finished_at=now
            )
        ).inserted_primary_key
        assert inserted is not None
        return int(inserted[0])

    try:
        cursor = BatchCursor(0)
        with db.connect() as slow:
            slow_tx = slow.begin()
            first = batch(slow)  # takes the lower id, commits last
            with db.begin() as fast:
                second = batch(fast)
            assert first < second
            seen = cursor.new(_new_batches(db, cursor.floor))
            assert seen == [second]
            cursor.mark(seen, now_s=0.0)
            slow_tx.commit()
        late = cursor.new(_new_batches(db, cursor.floor))
        assert late == [first]
        cursor.mark(late, now_s=1.0)
        assert (cursor.floor, cursor.last) == (second, second)
    finally:
        db.dispose()
        pg_server.drop(name)
