"""Subscriptions through the ASGI client: areas, tokens, encrypted storage, alerts, signed webhooks."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from ansim.api import subscriptions as subs_mod
from ansim.store import schema
from tests.api.conftest import Api

GANGNAM = (37.4980, 127.0276)


class Receiver:
    """A webhook receiver on loopback that fails the first ``fail`` calls with 500."""

    def __init__(self, fail: int) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.fail = fail
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.calls.append((dict(self.headers), body))
                self.send_response(500 if len(outer.calls) <= outer.fail else 204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(fail=2)
    yield r
    r.close()


def _subscribe(api: Api, **body: object) -> dict:
    response = api.client.post("/v1/subscriptions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _exposure(record_id: str, lat: float, lon: float) -> dict:
    return {
        "source": "api-test",
        "source_record_id": record_id,
        "lat": lat,
        "lon": lon,
        "start": "2020-05-10T19:00+09:00",
        "end": "2020-05-10T20:00+09:00",
        "precision": "point",
        "place_name": "악바리",
        "place_type": "bar",
        "cases": 3,
    }


def test_circle_polygon_and_route_become_cells(api: Api) -> None:
    lat, lon = GANGNAM
    circle = _subscribe(api, area={"type": "Point", "coordinates": [lon, lat]}, radius_m=300)
    square = [
        [lon - 0.003, lat - 0.003],
        [lon + 0.003, lat - 0.003],
        [lon + 0.003, lat + 0.003],
        [lon - 0.003, lat + 0.003],
        [lon - 0.003, lat - 0.003],
    ]
    polygon = _subscribe(api, area={"type": "Polygon", "coordinates": [square]})
    route = _subscribe(
        api,
        area={"type": "LineString", "coordinates": [[lon, lat], [lon + 0.01, lat + 0.01]]},
        radius_m=50,
    )
    # a 300 m circle holds ~26 resolution-10 cells (~10,400 m² each), a 0.6 km × 0.67 km square ~38
    assert 15 <= circle["cells"] <= 40
    assert 25 <= polygon["cells"] <= 50
    assert 15 <= route["cells"] <= 60
    assert circle["token"].startswith("anss_")
    assert circle["webhook_secret"] is None
    outside = api.client.post(
        "/v1/subscriptions",
        json={"area": {"type": "Point", "coordinates": [129.0, 35.1]}, "radius_m": 100},
    )
    assert outside.status_code == 422
    assert outside.json()["errors"][0]["field"] == "area"
    no_radius = api.client.post(
        "/v1/subscriptions", json={"area": {"type": "Point", "coordinates": [lon, lat]}}
    )
    assert no_radius.status_code == 422
    assert no_radius.json()["errors"][0]["field"] == "radius_m"


def test_area_is_stored_encrypted_and_read_only_with_the_token(api: Api) -> None:
    lat, lon = GANGNAM
    sub = _subscribe(
        api, area={"type": "Point", "coordinates": [lon, lat]}, radius_m=200, threshold="moderate"
    )
    with api.db.connect() as conn:
        row = conn.execute(sa.select(schema.subscriptions)).one()
    stored = " ".join(str(v) for v in row)
    assert "127.0276" not in stored
    assert "37.498" not in stored
    assert sub["token"] not in stored
    path = f"/v1/subscriptions/{sub['id']}"
    assert api.client.get(path).status_code == 401
    assert api.client.get(path, headers={"X-Subscription-Token": "anss_wrong"}).status_code == 403
    mine = api.client.get(path, headers={"Authorization": f"Bearer {sub['token']}"})
    assert mine.status_code == 200
    assert mine.json()["area"] == {"type": "Point", "coordinates": [lon, lat]}
    assert mine.json()["threshold"] == "moderate"


def test_new_exposure_in_the_area_raises_an_alert_and_a_signed_webhook(
    api: Api, receiver: Receiver
) -> None:
    lat, lon = GANGNAM
    sub = _subscribe(
        api,
        area={"type": "Point", "coordinates": [lon, lat]},
        radius_m=400,
        threshold="high",
        webhook_url=receiver.url,
    )
    far = _subscribe(
        api,
        area={"type": "Point", "coordinates": [126.9780, 37.5665]},
        radius_m=400,
        threshold="high",
    )
    response = api.client.post(
        "/v1/exposures", json=[_exposure("akbari-1", lat + 0.0005, lon)], headers=api.auth()
    )
    assert response.status_code == 201
    alerts = subs_mod.events_after(api.db, sub["id"], 0)
    assert len(alerts) == 1
    alert = alerts[0][1]
    assert alert["threshold"] == "high"
    assert alert["level"] in ("high", "very_high", "dangerous")
    assert alert["ucov"]["value"] > alert["previous_ucov"]["value"]
    assert alert["causes"] == ["exposure_site"]
    assert alert["sites"][0]["place_name"] == "악바리"
    assert alert["at"].startswith("2020-05-10T19:30")
    assert subs_mod.events_after(api.db, far["id"], 0) == []
    # webhook: two 500s, then delivered on the third attempt after 0.5 s and 1 s of backoff
    deadline = time.monotonic() + 10
    while len(receiver.calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(receiver.calls) == 3
    headers, body = receiver.calls[-1]
    assert subs_mod.verify_signature(sub["webhook_secret"], body, headers["X-Ansim-Signature"])
    assert not subs_mod.verify_signature("another-secret", body, headers["X-Ansim-Signature"])
    deadline = time.monotonic() + 5
    status = None
    while time.monotonic() < deadline:
        with api.db.connect() as conn:
            status = conn.execute(
                sa.select(
                    schema.subscription_events.c.webhook_status,
                    schema.subscription_events.c.webhook_attempts,
                )
            ).one()
        if status[0] == "delivered":
            break
        time.sleep(0.1)
    assert status is not None
    assert tuple(status) == ("delivered", 3)


def test_delete_removes_the_subscription_and_its_alerts(api: Api) -> None:
    lat, lon = GANGNAM
    sub = _subscribe(
        api, area={"type": "Point", "coordinates": [lon, lat]}, radius_m=300, threshold="low"
    )
    api.client.post("/v1/exposures", json=[_exposure("akbari-2", lat, lon)], headers=api.auth())
    assert len(subs_mod.events_after(api.db, sub["id"], 0)) == 1
    path = f"/v1/subscriptions/{sub['id']}"
    assert api.client.delete(path).status_code == 401
    assert (
        api.client.delete(path, headers={"X-Subscription-Token": sub["token"]}).status_code == 204
    )
    with api.db.connect() as conn:
        for table in (schema.subscriptions, schema.subscription_events):
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0
    assert api.client.get(path, headers={"X-Subscription-Token": sub["token"]}).status_code == 404
    assert sub["id"] not in api.state.subs
