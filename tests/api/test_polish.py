"""Compression (not for SSE), the configured demo "now", and calendar bodies on ``/v1/itinerary``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from ansim.risk.engine import RiskEngine
from ansim.settings import Settings
from ansim.timeutil import SEOUL
from tests.api.conftest import AT, LAT, LON, Api, build_api

ICS = Path(__file__).resolve().parents[1] / "data" / "spring2020_week.ics"
DEMO_NOW = "2020-05-01T14:20"  # naive = Seoul


@pytest.fixture
def demo_api(
    store_copy: tuple[Engine, str], session_risk: RiskEngine, api_var_dir: Path
) -> Iterator[Api]:
    yield from build_api(store_copy, session_risk, api_var_dir, demo_now=DEMO_NOW)


def test_json_answers_are_gzipped_above_one_kib(api: Api) -> None:
    gz = {"Accept-Encoding": "gzip"}
    cells = api.client.get(
        "/v1/risk/cells", params={"bbox": "126.975,37.560,126.990,37.570", "at": AT}, headers=gz
    )
    assert cells.status_code == 200, cells.text
    assert cells.headers["content-encoding"] == "gzip"
    assert int(cells.headers["content-length"]) < len(cells.content) / 3  # decoded by httpx
    assert cells.json()["type"] == "FeatureCollection"
    small = api.client.get("/v1/ping", headers=gz)
    assert "content-encoding" not in small.headers  # under 1 KiB: sent as it is
    plain = api.client.get(
        "/v1/risk/cells",
        params={"bbox": "126.975,37.560,126.990,37.570", "at": AT},
        headers={"Accept-Encoding": "identity"},
    )
    assert "content-encoding" not in plain.headers
    assert plain.json() == cells.json()


async def _first_sse_message(app: Any, path: str) -> tuple[dict[str, Any], bytes]:
    """(response start, first body chunk) of a streaming GET, then a client disconnect."""
    messages: list[dict[str, Any]] = []
    got_body = asyncio.Event()
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await got_body.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            got_body.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"accept-encoding", b"gzip")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await asyncio.wait_for(app(scope, receive, send), timeout=20)
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = next(m["body"] for m in messages if m["type"] == "http.response.body" and m["body"])
    return start, body


def test_server_sent_events_stay_uncompressed(api: Api) -> None:
    portal = api.client.portal
    assert portal is not None
    start, body = portal.call(_first_sse_message, api.client.app, "/v1/events")
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    assert headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in headers
    assert body.startswith(b"event: ready")


def test_demo_now_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANSIM_DEMO_NOW", "2020-03-10 18:30")
    assert Settings().demo_now == datetime(2020, 3, 10, 18, 30, tzinfo=SEOUL)
    monkeypatch.setenv("ANSIM_DEMO_NOW", "")
    assert Settings().demo_now is None
    monkeypatch.delenv("ANSIM_DEMO_NOW")
    assert Settings().demo_now is None  # the real clock


def test_demo_now_is_the_default_time_of_risk_and_the_page(demo_api: Api) -> None:
    risk = demo_api.client.get("/v1/risk", params={"lat": LAT, "lon": LON})
    assert risk.status_code == 200, risk.text
    assert risk.json()["at"] == "2020-05-01T14:00:00+09:00"  # the start of the demo hour
    explicit = demo_api.client.get("/v1/risk", params={"lat": LAT, "lon": LON, "at": AT})
    assert explicit.json() == risk.json()
    config = demo_api.client.get("/web/config.json").json()
    assert config["now_basis"] == "configured"
    assert config["now"] == "2020-05-01T14:20:00+09:00"


def test_itinerary_takes_a_calendar(api: Api) -> None:
    text = ICS.read_bytes()
    answer = api.client.post(
        "/v1/itinerary", content=text, headers={"Content-Type": "text/calendar; charset=utf-8"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert len(body["plans"]) == 21
    assert body["weeks"]
    assert body["budget"]
    assert len(body["window"]) == 2
    assert all(p["level"] for p in body["plans"] if p.get("ucov") is not None)
    # the same plans are skipped when they ended before ?now=
    later = api.client.post(
        "/v1/itinerary",
        content=text,
        params={"now": "2030-01-01T00:00"},
        headers={"Content-Type": "text/calendar"},
    )
    assert later.status_code == 200, later.text
    assert later.json()["plans"] != body["plans"]
    bad = api.client.post(
        "/v1/itinerary", content=b"hello", headers={"Content-Type": "text/calendar"}
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["errors"][0]["field"] == "body"
    other = api.client.post("/v1/itinerary", content=b"x", headers={"Content-Type": "text/plain"})
    assert other.status_code == 415
    # JSON bodies keep their validation errors, named by field
    wrong = api.client.post("/v1/itinerary", json={"plans": "not a list"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "body.plans"
    assert api.client.post("/web/plan-check", content=text).status_code in (404, 405)
