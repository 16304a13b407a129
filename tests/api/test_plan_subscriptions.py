"""Plan subscriptions (issue 8) through the ASGI client and a real loopback server: plans kept only
encrypted, re-checked when an ingest changes the risk, warned by SSE and signed webhook, erased by
DELETE."""

from __future__ import annotations

import copy
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from sqlalchemy.engine import Engine

from ansim.api import subscriptions as subs_mod
from ansim.api.app import create_app
from ansim.api.keys import create_key
from ansim.errors import InputError
from ansim.plans import subscriptions as core
from ansim.plans.vault import fernet_from_secret
from ansim.risk.engine import RiskEngine
from ansim.store import schema
from ansim.store.db import upgrade
from tests.api.conftest import Api, build_api, make_settings
from tests.api.test_subscriptions import Receiver
from tests.servers import listen_sse

# The plan's place: next to Gangnam station; the demo clock is the day before the plan.
LAT, LON = 37.498137, 127.027519
NOW = "2020-05-09T12:00:00+09:00"
TITLE = "Birthday dinner with Jiwoo"
PLANS = [
    {
        "title": TITLE,
        "place": {"name": "Jiwoo's pick", "lat": LAT, "lon": LON},
        "start": "2020-05-10 19:00",
        "end": "2020-05-10 20:30",
        "activity": "restaurant",
    },
    {"title": "Lunch near City Hall", "place": "시청역", "start": "2020-05-10 12:00"},
    {"title": "Last week's coffee", "place": "을지로입구역", "start": "2020-05-02 10:00"},
]
# what must never reach the store or a log: the title, the place, the coordinates, the time (as
# given, and as a stored UTC time would read); the bundled store holds none of these strings
SECRETS = (
    TITLE,
    "Jiwoo",
    "37.498137",
    "127.027519",
    "2020-05-10 19:00",
    "2020-05-10T19:00",
    "2020-05-10 10:00",
)


@pytest.fixture
def plan_api(
    store_copy: tuple[Engine, str],
    session_risk: RiskEngine,
    api_var_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Api]:
    monkeypatch.setenv("ANSIM_DEMO_NOW", NOW)
    yield from build_api(store_copy, session_risk, api_var_dir)


def _exposure(record_id: str, *, lat: float = LAT + 0.0004, lon: float = LON) -> dict:
    return {
        "source": "plan-test",
        "source_record_id": record_id,
        "lat": lat,
        "lon": lon,
        "start": "2020-05-10T18:30+09:00",
        "end": "2020-05-10T21:00+09:00",
        "precision": "point",
        "place_name": "강남 포차",
        "place_type": "bar",
        "cases": 4,
    }


def _subscribe(api: Api, **body: object) -> dict:
    response = api.client.post("/v1/itinerary/subscriptions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _db_bytes(api: Api) -> bytes:
    with api.db.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    path = Path(api.db.url.database or "")
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _assert_nothing_in_clear(api: Api, logs: str) -> None:
    raw = _db_bytes(api)
    for secret in SECRETS:
        assert secret.encode() not in raw, secret
        assert secret not in logs, secret


def test_subscribe_keeps_plans_only_encrypted_and_reads_them_with_the_token(
    plan_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    api = plan_api
    caplog.set_level(logging.DEBUG)
    sub = _subscribe(api, plans=PLANS, threshold="high")
    assert sub["id"].startswith("plans_")
    assert sub["token"].startswith("anss_")
    assert sub["plans"] == 3
    assert sub["warnings"] == 0  # nothing is high yet
    assert sub["events_url"] == f"/v1/itinerary/subscriptions/{sub['id']}/events"
    with api.db.connect() as conn:
        row = conn.execute(sa.select(schema.subscriptions)).one()
    assert row.kind == "plans"
    assert row.area_encrypted == ""
    # the stored blob opens with the deployment's key, and only with it
    cipher = fernet_from_secret(api.state.settings.subscription_key)
    document = core.decrypt_document(row.plans_encrypted, cipher)
    assert document["body"]["plans"][0]["title"] == TITLE
    other = fernet_from_secret("another deployment's passphrase")
    with pytest.raises(InputError, match="cannot decrypt"):
        core.decrypt_document(row.plans_encrypted, other)
    _assert_nothing_in_clear(api, caplog.text)
    # the area machinery does not pick plan subscriptions up
    assert sub["id"] not in subs_mod.subscription_ids(api.db)

    path = f"/v1/itinerary/subscriptions/{sub['id']}"
    assert api.client.get(path).status_code == 401
    assert api.client.get(path, headers={"X-Subscription-Token": "anss_nope"}).status_code == 403
    assert api.client.get(f"/v1/subscriptions/{sub['id']}").status_code == 422  # not an area id
    mine = api.client.get(path, headers={"Authorization": f"Bearer {sub['token']}"})
    assert mine.status_code == 200, mine.text
    answer = mine.json()
    assert answer["now"].startswith("2020-05-09T12:00")
    by_title = {p["title"]: p for p in answer["plans"]}
    assert by_title[TITLE]["status"] == "checked"
    assert by_title[TITLE]["level"] in ("very_low", "low", "moderate")
    assert by_title["Last week's coffee"]["reason"] == "already over"
    assert answer["weeks"]
    _assert_nothing_in_clear(api, caplog.text)


def test_bad_plans_are_refused_and_nothing_is_stored(plan_api: Api) -> None:
    api = plan_api
    bad = api.client.post(
        "/v1/itinerary/subscriptions", json={"plans": [{"title": "x", "place": "시청역"}]}
    )
    assert bad.status_code == 422
    assert "start" in bad.text
    empty = api.client.post("/v1/itinerary/subscriptions", json={"plans": []})
    assert empty.status_code == 422
    both = api.client.post(
        "/v1/itinerary/subscriptions", json={"plans": PLANS, "ics": "BEGIN:VCALENDAR"}
    )
    assert both.status_code == 422
    with api.db.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(schema.subscriptions)).scalar() == 0
        )


def test_an_exposure_at_the_plan_raises_a_sealed_warning_delivered_in_full(
    plan_api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    api = plan_api
    caplog.set_level(logging.DEBUG)
    receiver = Receiver(fail=1)
    try:
        sub = _subscribe(api, plans=PLANS, threshold="high", webhook_url=receiver.url)
        far = _subscribe(api, plans=PLANS[1:], threshold="high")
        response = api.client.post("/v1/exposures", json=[_exposure("pocha-1")], headers=api.auth())
        assert response.status_code == 201, response.text
        stored = subs_mod.events_after(api.db, sub["id"], 0)
        assert len(stored) == 1
        event_id, sealed = stored[0]
        # in the store: ids, levels and a Fernet token, nothing of the plan
        assert set(sealed) == {*core.CLEAR_KEYS, "plans_warned", "created_at", "sealed", "event_id"}
        assert sealed["plans_warned"] == 1
        assert subs_mod.events_after(api.db, far["id"], 0) == []
        # what the subscriber gets (SSE transform / webhook body)
        cipher = fernet_from_secret(api.state.settings.subscription_key)
        warning = core.unseal(sealed, cipher)
        assert warning["type"] == "plan_warning"
        assert warning["reason"] == "risk_update"
        assert warning["event_id"] == event_id
        [plan] = warning["plans"]
        assert plan["title"] == TITLE
        assert plan["index"] == 2  # occurrences are sorted by start: coffee, lunch, dinner
        assert plan["level"] in ("high", "very_high", "dangerous")
        assert plan["previous_level"] in ("very_low", "low", "moderate")
        assert plan["ucov"]["value"] > plan["previous_ucov"]
        assert plan["hours_before"] == pytest.approx(31.0)
        assert any("강남 포차" in d["reason_en"] for d in plan["drivers"])
        assert plan["alternatives"], "a warning comes with what to do instead"
        # the webhook: one 500, then the full warning, signed
        deadline = time.monotonic() + 5
        while len(receiver.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(receiver.calls) == 2
        headers, body = receiver.calls[-1]
        assert subs_mod.verify_signature(sub["webhook_secret"], body, headers["X-Ansim-Signature"])
        delivered = json.loads(body)
        assert delivered["plans"][0]["title"] == TITLE
        assert delivered["event_id"] == event_id
        # the same update again (a second batch near the plan) does not warn twice: no rise
        api.client.post(
            "/v1/exposures", json=[_exposure("pocha-2", lat=LAT + 0.02)], headers=api.auth()
        )
        assert len(subs_mod.events_after(api.db, sub["id"], 0)) == 1
        _assert_nothing_in_clear(api, caplog.text)
    finally:
        receiver.close()


def test_delete_erases_the_plans_and_their_warnings(plan_api: Api) -> None:
    api = plan_api
    sub = _subscribe(api, plans=PLANS, threshold="moderate")
    api.client.post("/v1/exposures", json=[_exposure("pocha-3")], headers=api.auth())
    reasons = [payload["reason"] for _, payload in subs_mod.events_after(api.db, sub["id"], 0)]
    assert reasons[-1] == "risk_update"  # (a plan already moderate was warned on subscribing)
    path = f"/v1/itinerary/subscriptions/{sub['id']}"
    assert api.client.delete(path).status_code == 401
    assert (
        api.client.delete(path, headers={"X-Subscription-Token": sub["token"]}).status_code == 204
    )
    with api.db.connect() as conn:
        for table in (schema.subscriptions, schema.subscription_events):
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0
    assert api.client.get(path, headers={"X-Subscription-Token": sub["token"]}).status_code == 404
    assert sub["id"] not in api.state.plan_watch.held  # type: ignore[attr-defined]


def test_an_ics_subscription_already_at_the_threshold_is_warned_at_once(
    store_copy: tuple[Engine, str],
    session_risk: RiskEngine,
    api_var_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the sample calendar is spring 2020; with the clock on 1 May the Itaewon club night is ahead
    monkeypatch.setenv("ANSIM_DEMO_NOW", "2020-05-01T12:00:00+09:00")
    apis = build_api(store_copy, session_risk, api_var_dir)
    api = next(apis)
    try:
        ics = (Path(__file__).resolve().parents[1] / "data" / "spring2020_week.ics").read_text()
        sub = _subscribe(api, ics=ics, threshold="very_high")
        assert sub["plans"] == 21
        assert sub["warnings"] == 1
        [(_, sealed)] = subs_mod.events_after(api.db, sub["id"], 0)
        cipher = fernet_from_secret(api.state.settings.subscription_key)
        warning = core.unseal(sealed, cipher)
        assert warning["reason"] == "subscribed"
        [plan] = warning["plans"]
        assert plan["title"].startswith("Club night in Itaewon")
        assert plan["previous_level"] is None
        assert any("Itaewon Clubs" in d["reason_en"] for d in plan["drivers"])
        assert b"Club night" not in _db_bytes(api)  # the calendar is kept only encrypted
    finally:
        apis.close()


# --- a real server: the warning reaches an SSE client within 2 s of the ingest ----------------------


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread cannot install them
        pass


@pytest.mark.slow
def test_warning_reaches_the_sse_stream_within_two_seconds(
    store_copy: tuple[Engine, str],
    session_risk: RiskEngine,
    api_var_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANSIM_DEMO_NOW", NOW)
    db, url = store_copy
    upgrade(db)
    settings = make_settings(url, api_var_dir)
    app = create_app(settings=settings, engine=db, risk_engine=copy.deepcopy(session_risk))
    _, ingest = create_key(db, scope="ingest", label="tests")
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            sub = client.post("/v1/itinerary/subscriptions", json={"plans": PLANS}).json()
            events, stop = listen_sse(base + sub["events_url"], params={"token": sub["token"]})
            time.sleep(0.5)
            sent = time.monotonic()
            response = client.post(
                "/v1/exposures",
                json=[_exposure("pocha-5")],
                headers={"Authorization": f"Bearer {ingest}"},
            )
            assert response.status_code == 201
            deadline = time.monotonic() + 5
            kind = ""
            while kind != "warning":
                received, kind, data = events.get(timeout=max(0.0, deadline - time.monotonic()))
            stop.set()
            warning = json.loads(data)
            assert warning["plans"][0]["title"] == TITLE
            assert received - sent < 2.0
    finally:
        server.should_exit = True
        thread.join(timeout=5)
