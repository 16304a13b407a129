"""Public reads through the ASGI client, on the real bundled data."""

from __future__ import annotations

import json
import logging

import pytest

from ansim.api.logs import ACCESS_LOGGER, JsonFormatter
from ansim.risk.visit import Activity, visit_risk
from ansim.timeutil import parse_datetime
from tests.api.conftest import AT, LAT, LON, Api, build_api


def test_risk_matches_the_engine_and_is_cached_per_hour(api: Api) -> None:
    response = api.client.get("/v1/risk", params={"lat": LAT, "lon": LON, "at": "2020-05-01T14:37"})
    assert response.status_code == 200
    body = response.json()
    assert api.state.risk is not None
    direct = api.state.risk.assess(LAT, LON, parse_datetime(AT)).to_dict()
    assert body["at"] == AT
    assert body["ucov"] == pytest.approx(direct["ucov"])
    assert body["level"] == direct["level"]
    assert body["cell"] == direct["cell"]
    assert body["region"]["code"] == "11140"
    again = api.client.get("/v1/risk", params={"lat": LAT, "lon": LON, "at": "2020-05-01T14:05"})
    assert again.content == response.content
    masked = api.client.get(
        "/v1/risk",
        params={"lat": LAT, "lon": LON, "at": AT, "their_mask": "kf94", "your_mask": "kf94"},
    ).json()
    assert masked["ucov"]["value"] < body["ucov"]["value"] / 5
    assert masked["basis"]["activity"] == "given"


@pytest.mark.parametrize(
    ("params", "field", "kind"),
    [
        ({"lat": 35.1, "lon": 129.04, "at": AT}, "lat/lon", "out-of-coverage"),
        ({"lat": LAT, "lon": LON, "at": "2030-01-01T00:00"}, "at", "out-of-coverage"),
        ({"lat": "north", "lon": LON}, "query.lat", "invalid-input"),
        ({"lat": LAT, "lon": LON, "setting": "moon"}, "query.setting", "invalid-input"),
        ({"lon": LON}, "query.lat", "invalid-input"),
    ],
)
def test_risk_errors_are_problems_with_the_field(
    api: Api, params: dict, field: str, kind: str
) -> None:
    response = api.client.get("/v1/risk", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith(kind)
    assert problem["status"] == 422
    assert problem["errors"][0]["field"] == field
    assert "Traceback" not in response.text


def test_cells_are_a_geojson_feature_collection(api: Api) -> None:
    response = api.client.get(
        "/v1/risk/cells", params={"bbox": "126.975,37.560,126.990,37.570", "at": AT}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    fc = response.json()
    assert fc["type"] == "FeatureCollection"
    assert fc["resolution"] == 10
    assert 100 < len(fc["features"]) < 300
    levels = {"very_low", "low", "moderate", "high", "very_high", "dangerous"}
    for f in fc["features"]:
        ring = f["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1]
        assert len(ring) == 7
        assert 126.9 < ring[0][0] < 127.1
        assert 37.5 < ring[0][1] < 37.6
        assert f["properties"]["level"] in levels
        assert f["properties"]["ucov"] >= 0
    coarse = api.client.get(
        "/v1/risk/cells", params={"bbox": "126.95,37.55,127.00,37.58", "at": AT, "resolution": 8}
    ).json()
    assert 0 < len(coarse["features"]) < 60
    too_big = api.client.get("/v1/risk/cells", params={"bbox": "126.8,37.45,127.2,37.7"})
    assert too_big.status_code == 422
    assert too_big.json()["type"].endswith("bbox-too-large")
    bad = api.client.get("/v1/risk/cells", params={"bbox": "127,37.6,126.9,37.5"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.bbox"


def test_regions(api: Api) -> None:
    gus = api.client.get("/v1/regions").json()
    assert len(gus) == 25
    assert {g["code"] for g in gus} >= {"11110", "11680"}
    one = api.client.get("/v1/regions/강남구", params={"at": "2020-03-10"}).json()
    assert one["code"] == "11680"
    assert one["date"] == "2020-03-10"
    assert one["rt"]["value"] is None or one["rt"]["value"] > 0
    assert one["distancing_level"]["rules_ko"]
    assert api.client.get("/v1/regions/부산진구").status_code == 404


def test_visit_risk_is_microcovid(api: Api) -> None:
    body = {
        "people": 10,
        "person_risk_ucov": 500,
        "setting": "indoor",
        "your_mask": "kf94",
        "variant": "delta",
    }
    answer = api.client.post("/v1/visit-risk", json=body).json()
    expected = visit_risk(
        Activity.parse(your_mask="kf94"), person_risk_ucov=500, people=10, variant="delta"
    )
    assert answer["ucov"] == pytest.approx(expected.ucov)
    assert answer["person_risk_source"] == "given"
    both = api.client.post("/v1/visit-risk", json={**body, "region": "11680"})
    assert both.status_code == 422
    unknown = api.client.post("/v1/visit-risk", json={**body, "colour": "red"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "body.colour"


def test_exposures_are_public_sites_without_personal_detail(api: Api) -> None:
    fc = api.client.get(
        "/v1/exposures", params={"at": "2020-03-10T00:00", "bbox": "126.8,37.4,127.2,37.7"}
    ).json()
    assert fc["type"] == "FeatureCollection"
    assert fc["retention_days"] == 14
    assert len(fc["features"]) > 10
    for f in fc["features"]:
        props = f["properties"]
        assert set(props) == {
            "place_name",
            "address",
            "place_type",
            "region_code",
            "start",
            "end",
            "radius_m",
            "precision",
            "cases",
            "source",
        }
        assert props["end"] > "2020-02-25"  # within 14 days before the reference time
    assert "source_record_id" not in json.dumps(fc)
    assert "patient_id" not in json.dumps(fc)
    later = api.client.get(
        "/v1/exposures", params={"at": "2020-03-10T00:00", "since": "2020-03-08T00:00"}
    ).json()
    assert len(later["features"]) < len(fc["features"])


def test_health_ready_metrics_ping_openapi_cors(api: Api) -> None:
    c = api.client
    assert c.get("/readyz").json()["status"] == "ready"
    assert c.get("/v1/ping").json() == {"ok": True}
    c.get("/v1/risk", params={"lat": LAT, "lon": LON, "at": AT})
    text = c.get("/metrics").text
    assert 'route="/v1/risk",status="200"' in text
    assert "ansim_http_request_duration_seconds_bucket" in text
    spec = c.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert "Problem" in spec["components"]["schemas"]
    for path in (
        "/v1/risk",
        "/v1/risk/cells",
        "/v1/regions/{code}",
        "/v1/subscriptions",
        "/v1/routes",
    ):
        assert path in spec["paths"]
    assert spec["paths"]["/v1/exposures"]["post"]["security"]
    assert c.get("/docs").status_code == 200
    preflight = c.options(
        "/v1/risk",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers["access-control-allow-origin"] in ("*", "https://app.example")


def test_rate_limits_answer_429_with_retry_after(store_copy, session_risk, api_var_dir) -> None:
    for api in build_api(
        store_copy,
        session_risk,
        api_var_dir,
        rate_limit_per_ip="3/minute",
        rate_limit_per_key="5/minute",
    ):
        answers = [api.client.get("/v1/ping").status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        limited = api.client.get("/v1/ping")
        assert limited.headers["content-type"] == "application/problem+json"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        keyed = [
            api.client.get("/v1/ping", headers=api.auth(api.read_key)).status_code for _ in range(6)
        ]
        assert keyed == [200] * 5 + [429]


def test_access_log_lines_are_json_without_coordinates(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        api.client.get("/v1/risk", params={"lat": 37.5432109, "lon": 127.0123456, "at": AT})
        api.client.post("/v1/visit-risk", json={"people": 3, "person_risk_ucov": 10})
        api.client.get("/v1/risk/37.5432109")
    records = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(records) == 3
    lines = [JsonFormatter().format(r) for r in records]
    entries = [json.loads(line) for line in lines]
    assert [e["route"] for e in entries] == ["/v1/risk", "/v1/visit-risk", "<unmatched>"]
    assert entries[0]["status"] == 200
    assert entries[0]["duration_ms"] > 0
    joined = "\n".join(lines)
    assert "37.543" not in joined
    assert "127.012" not in joined
    assert "lat=" not in joined
