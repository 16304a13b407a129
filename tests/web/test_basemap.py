"""Basemap layers built from the bundled data, the demo time, and the page's static routes."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape
from shapely.prepared import prep
from sqlalchemy.engine import Engine

from ansim.api.routes.web import demo_now, newest_exposure_start
from ansim.geo.regions import seoul_districts
from ansim.routing.network import load_network
from ansim.store import queries
from ansim.timeutil import SEOUL
from ansim.web import basemap


def test_gu_layer_has_the_25_districts_with_administrative_codes(data_dir: Path) -> None:
    gu = basemap.boundaries_geojson(data_dir, level="gu")
    codes = {f["properties"]["code"] for f in gu["features"]}
    assert codes == {r.code for r in seoul_districts()}
    jongno = next(f for f in gu["features"] if f["properties"]["code"] == "11110")
    assert jongno["properties"]["name"] == "종로구"
    # simplified but still the same place: 종로구 covers 23.9 km²; the centroid stays inside
    geom = shape(jongno["geometry"])
    assert geom.is_valid
    assert geom.contains(shape({"type": "Point", "coordinates": [126.979, 37.5735]}))


def test_dong_layer_links_every_dong_to_a_gu(data_dir: Path) -> None:
    dong = basemap.boundaries_geojson(data_dir, level="dong")
    gu_codes = {r.code for r in seoul_districts()}
    assert len(dong["features"]) == 424
    assert {f["properties"]["gu"] for f in dong["features"]} == gu_codes


def test_stations_are_inside_seoul_and_found_by_name(data_dir: Path) -> None:
    stations = basemap.stations_geojson(data_dir)
    names = {f["properties"]["name"] for f in stations["features"]}
    assert {"시청", "종로3가", "서울역", "강남"} <= names
    assert "동탄" not in names  # a Gyeonggi station of the master file
    outline = prep(basemap.seoul_outline(data_dir).buffer(0.002))
    for f in stations["features"]:
        assert outline.contains(shape(f["geometry"]))
    jongno3 = [f for f in stations["features"] if f["properties"]["name"] == "종로3가"]
    assert len(jongno3) == 1
    assert len(jongno3[0]["properties"]["lines"]) == 3


def test_roads_cover_each_network_once_per_street() -> None:
    net = load_network("central", "walk")
    roads = basemap.roads_geojson([net])
    (feature,) = roads["features"]
    lines = feature["geometry"]["coordinates"]
    # walking arcs come in pairs (both directions): one line per street segment
    assert len(lines) == len(basemap.road_lines(net))
    pairs = {
        (min(u, v), max(u, v)) for u, v in zip(net.tail.tolist(), net.head.tolist(), strict=True)
    }
    assert len(pairs) <= len(lines) <= net.tail.shape[0] // 2 + 50
    west, south, east, north = net.bbox
    for line in lines[::50]:
        for lon, lat in line:
            assert west - 1e-4 <= lon <= east + 1e-4
            assert south - 1e-4 <= lat <= north + 1e-4


def test_demo_now_is_the_newest_exposure_hour_unless_configured(loaded_engine: Engine) -> None:
    events = queries.exposure_events(loaded_engine)
    newest = max(e.start for e in events).astimezone(SEOUL)
    assert newest_exposure_start(loaded_engine) == newest
    now, basis = demo_now(loaded_engine)
    assert basis == "data"
    assert now == newest.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert now.year in (2020, 2021)
    configured, basis = demo_now(loaded_engine, configured="2020-03-10 18:30")
    assert basis == "configured"
    assert configured == datetime(2020, 3, 10, 18, 30, tzinfo=SEOUL)


@pytest.fixture
def client(empty_store: tuple[Engine, str]) -> TestClient:
    from ansim.api.app import create_app
    from ansim.settings import Settings

    engine, url = empty_store
    app = create_app(settings=Settings(db_url=url), engine=engine, poll=False)
    return TestClient(app)


def test_page_assets_and_basemap_are_served_compressed(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="ko">' in page.text
    assert "/web/static/app.js" in page.text
    js = client.get("/web/static/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": "gzip"})
    assert js.status_code == 200
    assert js.headers["content-encoding"] == "gzip"
    assert "Leaflet 1.9.4" in js.text[:300]
    again = client.get(
        "/web/static/vendor/leaflet/leaflet.js", headers={"If-None-Match": js.headers["etag"]}
    )
    assert again.status_code == 304
    gu = client.get("/web/basemap/gu.geojson")
    assert gu.status_code == 200
    assert gu.headers["content-type"].startswith("application/geo+json")
    assert len(gu.json()["features"]) == 25
    assert client.get("/web/basemap/nope.geojson").status_code == 404


def test_static_files_cannot_leave_the_static_folder(client: TestClient) -> None:
    for path in (
        "/web/static/../../api/app.py",
        "/web/static/%2e%2e/%2e%2e/api/app.py",
        "/web/static/",
    ):
        assert client.get(path).status_code == 404


def test_config_names_six_levels_with_distinct_colours(client: TestClient) -> None:
    cfg = client.get("/web/config.json").json()
    assert [lv["key"] for lv in cfg["levels"]] == [
        "very_low",
        "low",
        "moderate",
        "high",
        "very_high",
        "dangerous",
    ]
    colours = [lv["color"] for lv in cfg["levels"]]
    assert len(set(colours)) == 6

    # sequential palette: lightness falls monotonically (readable in grey and colour-blind)
    def luma(hex_colour: str) -> float:
        r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lumas = [luma(c) for c in colours]
    assert lumas == sorted(lumas, reverse=True)
    assert cfg["now_basis"] == "clock"  # the empty store has no exposure to anchor the demo time
