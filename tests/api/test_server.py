"""End to end against a real ``ansim serve`` (uvicorn, 2 workers) on loopback with a temporary store.

The server is started once for the module (each worker loads the engine, ~10-30 s on shared
cores), called over HTTP, and stopped. The SSE subscriber and the ingest may land on different
workers: the alert still arrives within 2 s.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ansim.api.keys import create_key
from ansim.store.db import make_engine
from tests.conftest import copy_store
from tests.servers import listen_sse, serve_env, start_serve, stop_serve

pytestmark = pytest.mark.slow

# Distinctive coordinates a person asks about (inside the bundled central street network).
HOME = (37.56612345, 126.97712345)
WORK = (37.57054321, 126.99154321)
CAFE = (37.55987654, 126.98456789)


@dataclass
class Server:
    base: str
    key: str
    db_path: Path
    log_path: Path
    proc: subprocess.Popen[bytes]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=30)


@pytest.fixture(scope="module")
def server(
    loaded_db_path: Path,
    session_risk: object,
    api_var_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("server")
    db_path = copy_store(loaded_db_path, tmp / "server.db")
    var_dir = tmp / "var"
    shutil.copytree(
        api_var_dir, var_dir
    )  # the cell table and gravity model (session_risk built them)
    db = make_engine(f"sqlite:///{db_path}")
    _, key = create_key(db, scope="ingest", label="server test")
    db.dispose()
    env = serve_env(f"sqlite:///{db_path}", var_dir)
    log_path = tmp / "server.log"
    # 12 ready answers in a row on fresh connections: both workers have loaded the engine.
    base, proc = start_serve(env, log_path, workers=2, ready_streak=12)
    try:
        yield Server(base, key, db_path, log_path, proc)
    finally:
        stop_serve(proc)


def test_health_ready_metrics_and_docs(server: Server) -> None:
    with server.client() as c:
        assert c.get("/healthz").json()["status"] == "ok"
        assert c.get("/readyz").json()["status"] == "ready"
        assert c.get("/docs").status_code == 200
        assert c.get("/openapi.json").json()["openapi"].startswith("3.1")
        metrics = c.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert "ansim_http_requests_total" in metrics.text
        assert "ansim_risk_engine_ready" in metrics.text


def test_sse_subscriber_gets_the_alert_within_two_seconds(server: Server) -> None:
    lat, lon = 37.4980, 127.0276
    with server.client() as c:
        sub = c.post(
            "/v1/subscriptions",
            json={
                "area": {"type": "Point", "coordinates": [lon, lat]},
                "radius_m": 400,
                "threshold": "high",
            },
        ).json()
    events, stop = listen_sse(
        server.base + sub["events_url"], headers={"Authorization": f"Bearer {sub['token']}"}
    )
    assert events.get(timeout=10)[1] == "ready"
    # the subscription reaches the other worker within one poll interval
    time.sleep(1.0)
    record = {
        "source": "server-test",
        "source_record_id": "akbari-live",
        "lat": lat + 0.0005,
        "lon": lon,
        "start": "2020-05-10T19:00+09:00",
        "end": "2020-05-10T20:00+09:00",
        "precision": "point",
        "place_name": "악바리",
        "cases": 3,
    }
    with server.client() as c:
        sent = time.monotonic()
        response = c.post("/v1/exposures", json=[record], headers={"X-API-Key": server.key})
        assert response.status_code == 201, response.text
    received, kind, data = events.get(timeout=10)
    stop.set()
    assert kind == "alert"
    alert = json.loads(data)
    assert alert["subscription_id"] == sub["id"]
    assert alert["level"] in ("high", "very_high", "dangerous")
    assert received - sent < 2.0, f"alert after {received - sent:.2f} s"
    with server.client() as c:
        gone = c.delete(
            f"/v1/subscriptions/{sub['id']}", headers={"X-Subscription-Token": sub["token"]}
        )
        assert gone.status_code == 204


def test_writes_need_a_key_and_replays_change_nothing(server: Server) -> None:
    rows = [{"region_code": "11110", "date": "2020-06-01", "new_cases": 3, "source": "server-test"}]
    with server.client() as c:
        assert c.post("/v1/cases", json=rows).status_code == 401
        headers = {"Authorization": f"Bearer {server.key}", "Idempotency-Key": "k-1"}
        first = c.post("/v1/cases", json=rows, headers=headers)
        again = c.post("/v1/cases", json=rows, headers=headers)
        health = c.get("/healthz").json()["counts"]
        third = c.post("/v1/cases", json=rows, headers=headers)
        assert first.status_code == 201
        assert again.content == first.content == third.content
        assert again.headers["idempotency-replayed"] == "true"
        assert c.get("/healthz").json()["counts"] == health


def _coordinate_texts() -> list[str]:
    out = []
    for lat, lon in (HOME, WORK, CAFE):
        for value in (lat, lon):
            out += [repr(value), f"{value:.6f}", f"{value:.5f}", f"{value:.4f}"]
    return out


def _store_bytes(server: Server) -> bytes:
    return b"".join(p.read_bytes() for p in server.db_path.parent.glob(server.db_path.name + "*"))


def test_privacy_no_requested_coordinates_in_logs_or_store(server: Server) -> None:
    # short spellings (37.5661) can match bundled places: only new occurrences count
    already = {t for t in _coordinate_texts() if t.encode() in _store_bytes(server)}
    with server.client() as c:
        for lat, lon in (HOME, WORK, CAFE):
            r = c.get("/v1/risk", params={"lat": lat, "lon": lon, "at": "2020-05-01T12:00"})
            assert r.status_code == 200
        route = c.post(
            "/v1/routes",
            json={
                "from": {"lat": HOME[0], "lon": HOME[1]},
                "to": {"lat": WORK[0], "lon": WORK[1]},
                "at": "2020-05-01T08:30",
            },
        )
        assert route.status_code == 200, route.text
        assert route.json()["alternatives"]
        plans = c.post(
            "/v1/itinerary",
            json={
                "plans": [
                    {
                        "title": "lunch",
                        "place": {"lat": CAFE[0], "lon": CAFE[1]},
                        "start": "2020-05-01T12:00",
                        "duration_min": 60,
                    },
                    {
                        "title": "meeting",
                        "place": f"{WORK[0]},{WORK[1]}",
                        "start": "2020-05-01T15:00",
                        "duration_min": 90,
                    },
                ]
            },
        )
        assert plans.status_code == 200, plans.text
        assert len(plans.json()["plans"]) == 2
        bad = c.get("/v1/risk", params={"lat": HOME[0], "lon": "x"})
        assert bad.status_code == 422
    time.sleep(0.5)  # let the log lines flush
    log = server.log_path.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in log.splitlines() if line.strip()]
    access = [entry for entry in lines if entry.get("logger") == "ansim.access"]
    assert {"/v1/risk", "/v1/routes", "/v1/itinerary"} <= {a["route"] for a in access}
    for text in _coordinate_texts():
        assert text not in log, f"{text} found in the server log"
    assert "lat=" not in log
    assert "lon=" not in log
    stored = _store_bytes(server)
    for text in _coordinate_texts():
        assert text in already or text.encode() not in stored, f"{text} found in the store"
    for lat, lon in (HOME, WORK, CAFE):
        assert repr(lat).encode() not in stored
        assert repr(lon).encode() not in stored
    for lat, lon in (HOME, WORK, CAFE):
        for value in (lat, lon):
            assert struct.pack("<d", value) not in stored
            assert struct.pack(">d", value) not in stored
