"""The real ``ansim`` command line in subprocesses: bad rows, kill -9 mid-ingest, db init, serve."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ansim.store import queries
from ansim.store.db import make_engine
from tests.servers import free_port

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
ANSIM = [sys.executable, "-m", "ansim.cli"]


def run_cli(args: list[str], url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ANSIM, *args],
        env={**os.environ, "ANSIM_DB_URL": url, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_bad_row_exits_2_naming_the_row_and_writes_nothing(store_copy, tmp_path: Path) -> None:
    engine, url = store_copy
    text = gzip.decompress((DATA / "ds4c/Case.csv.gz").read_bytes()).decode()
    lines = text.splitlines()
    lines[5] = lines[5].rsplit(",", 2)[0] + ",95.0,127.0"  # latitude 95 on data row 5
    bad = tmp_path / "Case_bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = queries.table_counts(engine)
    done = run_cli(["ingest", "ds4c-case", str(bad)], url)
    assert done.returncode == 2, done.stderr
    message = " ".join(done.stderr.split())
    assert "Case_bad.csv" in message
    assert "row 5" in message
    assert "latitude" in message
    assert "Traceback" not in done.stderr
    assert queries.table_counts(engine) == before


@pytest.mark.slow
def test_ingest_then_stats_json(empty_store) -> None:
    _, url = empty_store
    first = run_cli(["ingest", "ds4c-time-province", str(DATA / "ds4c/TimeProvince.csv.gz")], url)
    assert first.returncode == 0, first.stderr
    second = run_cli(["ingest", "ds4c-time-province", str(DATA / "ds4c/TimeProvince.csv.gz")], url)
    assert "already loaded" in second.stdout
    stats = run_cli(["db", "stats", "--json"], url)
    counts = json.loads(stats.stdout)
    assert counts["case_counts"] == 2_771
    assert counts["ingestion_batches"] == 1


def test_second_db_init_loads_nothing(store_copy) -> None:
    engine, url = store_copy
    before = queries.table_counts(engine)
    done = run_cli(["db", "init"], url)
    assert done.returncode == 0, done.stderr
    assert "already loaded, nothing to do" in done.stdout
    assert queries.table_counts(engine) == before


@pytest.mark.slow
def test_db_init_on_a_fresh_store_then_again(fresh_store_url: str) -> None:
    url = fresh_store_url
    first = run_cli(["db", "init"], url)
    assert first.returncode == 0, first.stderr
    assert "ds4c-floating" in first.stdout
    engine = make_engine(url)
    counts = queries.table_counts(engine)
    second = run_cli(["db", "init"], url)
    assert "nothing to do" in second.stdout
    assert queries.table_counts(engine) == counts
    assert counts["crowd_observations"] == 46_850
    engine.dispose()


@pytest.mark.slow
def test_kill_9_during_ingest_leaves_the_store_as_before(store_copy, tmp_path: Path) -> None:
    engine, url = store_copy
    # A copy of SeoulFloating with every count doubled: a new checksum, and 27,600 rows to update.
    text = gzip.decompress((DATA / "ds4c/SeoulFloating.csv.gz").read_bytes()).decode()
    lines = text.splitlines()
    doubled = [lines[0]] + [
        f"{r.rsplit(',', 1)[0]},{int(r.rsplit(',', 1)[1]) * 2}" for r in lines[1:]
    ]
    big = tmp_path / "floating_doubled.csv"
    big.write_text("\n".join(doubled) + "\n", encoding="utf-8")
    before = queries.table_counts(engine)
    total_before = queries.crowd_observations(engine, source="ds4c-floating")["count"].sum()
    proc = subprocess.Popen(
        [*ANSIM, "ingest", "ds4c-floating", str(big)],
        env={**os.environ, "ANSIM_DB_URL": url, "ANSIM_INGEST_PAUSE_BEFORE_COMMIT_S": "120"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed inside the open transaction, all rows written
        assert "pausing" in line, line + (proc.stderr.read() if proc.stderr else "")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert queries.table_counts(engine) == before
    after = queries.crowd_observations(engine, source="ds4c-floating")["count"].sum()
    assert after == total_before  # not one doubled count was committed
    assert not [b for b in queries.ingestion_batches(engine) if b["file_name"] == big.name]
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        else:
            # the server noticed the dead client and rolled its transaction back (no session
            # left holding locks on the store)
            assert _open_transactions_soon_zero(conn, engine.url.database)


def _open_transactions_soon_zero(conn, database: str | None, timeout_s: float = 10.0) -> bool:
    import sqlalchemy as sa

    deadline = time.monotonic() + timeout_s
    query = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()"
        " AND xact_start IS NOT NULL"
    )
    while time.monotonic() < deadline:
        if conn.execute(query, {"db": database}).scalar_one() == 0:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_serve_answers_healthz_with_store_counts(store_copy) -> None:
    engine, url = store_copy
    port = free_port()
    proc = subprocess.Popen(
        [*ANSIM, "serve", "--port", str(port)],
        env={**os.environ, "ANSIM_DB_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                body = response.json()
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert body is not None, "server did not answer within 60 s"
        assert body["status"] == "ok"
        assert body["counts"] == queries.table_counts(engine)
        assert httpx.get(f"http://127.0.0.1:{port}/docs", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
