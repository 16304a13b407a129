"""Writes: keys and scopes, canonical validation, atomicity, idempotency, live engine updates."""

from __future__ import annotations

import time

import pytest

from ansim.api.keys import revoke_key
from ansim.store import queries
from tests.api.conftest import AT, LAT, LON, Api

EXPOSURE = {
    "source": "api-test",
    "source_record_id": "myeongdong-1",
    "lat": LAT,
    "lon": LON,
    "start": "2020-05-01T13:00+09:00",
    "end": "2020-05-01T15:00+09:00",
    "precision": "point",
    "place_name": "테스트 카페",
    "place_type": "cafe",
    "cases": 2,
}


def _risk(api: Api) -> dict:
    response = api.client.get("/v1/risk", params={"lat": LAT, "lon": LON, "at": AT})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("path", ["/v1/exposures", "/v1/cases", "/v1/crowd", "/v1/alerts/messages"])
def test_writes_without_key_or_with_read_scope_are_refused_and_change_nothing(
    api: Api, path: str
) -> None:
    before = api.counts()
    no_key = api.client.post(path, json=[EXPOSURE])
    assert no_key.status_code == 401
    assert no_key.headers["content-type"] == "application/problem+json"
    assert no_key.headers["www-authenticate"].startswith("Bearer")
    wrong_scope = api.client.post(path, json=[EXPOSURE], headers=api.auth(api.read_key))
    assert wrong_scope.status_code == 403
    assert "ingest" in wrong_scope.json()["detail"]
    bad_key = api.client.post(path, json=[EXPOSURE], headers=api.auth("ansim_000000000000_nope"))
    assert bad_key.status_code == 401
    assert api.counts() == before


def test_revoked_key_is_refused(api: Api) -> None:
    key_id = api.ingest_key.split("_")[1]
    assert api.client.post("/v1/exposures", json=[EXPOSURE], headers=api.auth()).status_code == 201
    revoke_key(api.db, key_id)
    assert api.client.portal is not None
    api.client.portal.call(api.state.refresh)  # what the poll loop does every 0.5 s
    before = api.counts()
    again = {**EXPOSURE, "source_record_id": "after-revoke"}
    assert api.client.post("/v1/exposures", json=[again], headers=api.auth()).status_code == 401
    assert api.counts() == before


def test_exposure_write_is_visible_in_risk_reads_at_once(api: Api) -> None:
    before = _risk(api)
    started = time.perf_counter()
    response = api.client.post("/v1/exposures", json={"records": [EXPOSURE]}, headers=api.auth())
    after = _risk(api)
    elapsed_s = time.perf_counter() - started
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["rows_new"] == 1
    assert body["applied"]
    assert not body["already_loaded"]
    assert elapsed_s < 1.0
    assert after["ucov"]["value"] > before["ucov"]["value"] * 5
    assert "exposure_site" in [d["key"] for d in after["drivers"]]
    sites = api.client.get(
        "/v1/exposures", params={"at": "2020-05-02T00:00", "bbox": "126.97,37.55,126.99,37.57"}
    ).json()
    names = [f["properties"]["place_name"] for f in sites["features"]]
    assert "테스트 카페" in names


def test_replayed_batch_with_idempotency_key_changes_nothing(api: Api) -> None:
    headers = {**api.auth(), "Idempotency-Key": "batch-2020-05-01-a"}
    first = api.client.post("/v1/exposures", json=[EXPOSURE], headers=headers)
    assert first.status_code == 201
    counts = api.counts()
    batches = len(queries.ingestion_batches(api.db))
    generation = api.state.generation
    replay = api.client.post("/v1/exposures", json=[EXPOSURE], headers=headers)
    assert replay.status_code == 201
    assert replay.content == first.content
    assert replay.headers["idempotency-replayed"] == "true"
    assert api.counts() == counts
    assert len(queries.ingestion_batches(api.db)) == batches
    assert api.state.generation == generation
    other = api.client.post("/v1/exposures", json=[{**EXPOSURE, "cases": 9}], headers=headers)
    assert other.status_code == 422
    assert other.json()["type"].endswith("idempotency-key-reused")
    assert api.counts() == counts


def test_same_batch_without_key_is_already_loaded(api: Api) -> None:
    first = api.client.post("/v1/exposures", json=[EXPOSURE], headers=api.auth())
    counts = api.counts()
    second = api.client.post("/v1/exposures", json=[EXPOSURE], headers=api.auth())
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["already_loaded"]
    assert second.json()["rows_new"] == 0
    assert api.counts() == counts


def test_a_bad_row_rejects_the_whole_batch_with_its_row_and_field(api: Api) -> None:
    good = {**EXPOSURE, "source_record_id": "ok-1"}
    bad = {**EXPOSURE, "source_record_id": "bad-1", "end": "2020-05-01T12:00+09:00"}
    before = api.counts()
    response = api.client.post("/v1/exposures", json=[good, bad], headers=api.auth())
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"] == [
        {"field": "end", "reason": "end is not after start", "row": 2, "source": "request body"}
    ]
    assert api.counts() == before


def test_csv_upload_and_multipart_share_the_validation(api: Api) -> None:
    csv = (
        "source,source_record_id,lat,lon,start,end,place_name\n"
        f"api-test,csv-1,{LAT},{LON},2020-05-01T10:00,2020-05-01T11:00,CSV 식당\n"
    )
    response = api.client.post(
        "/v1/exposures", content=csv.encode(), headers={**api.auth(), "Content-Type": "text/csv"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["rows_new"] == 1
    broken = csv.replace(f"{LAT}", "97.5")
    upload = api.client.post(
        "/v1/exposures",
        files={"file": ("sites.csv", broken.replace("csv-1", "csv-2").encode(), "text/csv")},
        headers=api.auth(),
    )
    assert upload.status_code == 422
    assert upload.json()["errors"][0]["field"] == "lat"
    assert upload.json()["errors"][0]["row"] == 1
    unsupported = api.client.post(
        "/v1/exposures",
        content=b"<xml/>",
        headers={**api.auth(), "Content-Type": "application/xml"},
    )
    assert unsupported.status_code == 415


def test_case_write_updates_the_region_series(api: Api) -> None:
    before = api.client.get("/v1/regions/11140", params={"at": "2020-05-01"}).json()
    rows = [
        {
            "region_code": "11140",
            "date": f"2020-04-{d:02d}",
            "new_cases": 40,
            "source": "seoul-cases",
        }
        for d in range(25, 31)
    ]
    response = api.client.post("/v1/cases", json=rows, headers=api.auth())
    assert response.status_code == 201, response.text
    after = api.client.get("/v1/regions/11140", params={"at": "2020-05-01"}).json()
    assert after["new_cases_7d"]["value"] >= before["new_cases_7d"]["value"] + 6 * 40 - 10
    assert after["incidence_per_100k"]["value"] > before["incidence_per_100k"]["value"]


def test_crowd_write_is_accepted_and_applied(api: Api) -> None:
    rows = [
        {
            "area": "11140",
            "period_start": "2020-05-01T14:00",
            "period_s": 3600,
            "count": 900000,
            "source": "api-probe",
        }
    ]
    generation = api.state.generation
    response = api.client.post("/v1/crowd", json=rows, headers=api.auth())
    assert response.status_code == 201, response.text
    assert response.json()["table"] == "crowd_observations"
    assert api.state.generation == generation + 1


def test_disaster_message_becomes_exposure_events(api: Api) -> None:
    text = (
        "[서초구청] 5월10일, 20일 강남역 악바리주점 방문자는 증상유무 상관없이 코로나19 검사 "
        "꼭 받으시기 바랍니다."
    )
    near_gangnam = {"lat": 37.4980, "lon": 127.0276, "at": "2020-05-20T12:00"}
    before = api.client.get("/v1/risk", params=near_gangnam).json()
    response = api.client.post(
        "/v1/alerts/messages",
        json={"text": text, "sent_at": "2020-05-22T15:14", "id": "seocho-0522"},
        headers=api.auth(),
    )
    assert response.status_code == 201, response.text
    message = response.json()["messages"][0]
    assert message["kind"] == "exposure_site"
    assert message["status"] == "events"
    assert message["events"] == 2
    assert [v["start"][:10] for v in message["visits"]] == ["2020-05-10", "2020-05-20"]
    assert message["visits"][0]["place_name"].startswith("강남역")
    after = api.client.get("/v1/risk", params=near_gangnam).json()
    assert after["ucov"]["value"] > before["ucov"]["value"]
    plain = api.client.post(
        "/v1/alerts/messages",
        content=text.encode(),
        params={"sent_at": "2020-05-22T15:14"},
        headers={**api.auth(), "Content-Type": "text/plain"},
    )
    assert plain.status_code == 201
    assert plain.json()["messages"][0]["events"] == 2
    missing = api.client.post("/v1/alerts/messages", json={"text": text}, headers=api.auth())
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"].endswith("sent_at")
