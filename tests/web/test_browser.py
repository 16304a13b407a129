"""End-to-end: the web map in headless Chromium against a real ``ansim serve`` on a store copy.

One server for the module (its risk engine takes ~10 s to load); the tests run in order on it:
hexagons on load, a route between two stations, a live exposure over SSE, an .ics plan check.
Screenshots go to ``tests/artifacts/web/`` and are checked for real map content.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from matplotlib.image import imread

from tests.conftest import copy_store
from tests.servers import start_serve, stop_serve

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "web"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SAMPLE_ICS = Path(__file__).resolve().parents[1] / "data" / "spring2020_week.ics"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def server(
    loaded_db_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """``ansim serve`` on a private copy of the bundled store, with an ingest key."""
    from ansim.api.keys import create_key
    from ansim.store.db import make_engine

    path = copy_store(loaded_db_path, tmp_path_factory.mktemp("web") / "copy.db")
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    _key, secret = create_key(engine, scope="ingest", label="web e2e")
    engine.dispose()
    env = {**os.environ, "ANSIM_DB_URL": url, "ANSIM_LOG_LEVEL": "warning"}
    env.pop("ANSIM_DEMO_NOW", None)
    base, proc = start_serve(env, path.with_suffix(".log"), timeout_s=90)
    try:
        yield {"base": base, "key": secret}
    finally:
        stop_serve(proc)


@pytest.fixture(scope="module")
def page(server: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=LAUNCH_ARGS,
            viewport={"width": 1280, "height": 800},
            locale="ko-KR",
        )
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.goto(server["base"] + "/")
        pg.wait_for_selector("body[data-ready='true']", timeout=30_000)
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        context.close()


def palette_pixels(png: Path, colours: list[str], *, alpha: float, tolerance: float = 18.0) -> int:
    """Pixels within ``tolerance`` of a colour blended at ``alpha`` over the page's land colour."""
    img = imread(png)[..., :3] * 255.0
    land = np.array([0xFB, 0xFA, 0xF6], dtype=float)
    targets = np.array(
        [[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colours], dtype=float
    ) * alpha + land * (1 - alpha)
    dist = np.linalg.norm(img[:, :, None, :] - targets[None, None, :, :], axis=-1)
    return int((dist.min(axis=-1) < tolerance).sum())


def level_colours(page: Any) -> list[str]:
    return [lv["color"] for lv in page.evaluate("window.ansim.state.levels")]


def test_page_loads_with_risk_hexagons(page: Any) -> None:
    state = page.evaluate(
        "({n: window.ansim.state.cellsDrawn, res: window.ansim.state.cellsResolution})"
    )
    assert state["n"] > 500
    assert state["res"] == 8
    assert page.locator("#legend li").count() == 6
    assert page.get_attribute("html", "lang") == "ko"
    shot = ARTIFACTS / "01_overview.png"
    page.screenshot(path=str(shot))
    img = imread(shot)[..., :3]
    assert img.std() * 255 > 20  # not blank
    coloured = palette_pixels(shot, level_colours(page), alpha=0.62)
    assert coloured > 0.05 * img.shape[0] * img.shape[1], coloured
    assert not page.errors


def test_route_between_two_stations_is_drawn(page: Any) -> None:
    page.fill("#route-from", "시청")
    page.fill("#route-to", "종로3가")
    page.click("#route-go")
    page.wait_for_function("window.ansim.state.routeDrawn > 0", timeout=30_000)
    page.wait_for_timeout(600)  # fitBounds animation and the cells of the new view
    alts = page.locator("#route-result .alt")
    assert alts.count() >= 1
    text = page.inner_text("#route-result")
    assert "분" in text
    assert "µCoV" in text
    assert page.inner_text("#route-summary").strip()
    shot = ARTIFACTS / "02_route.png"
    page.screenshot(path=str(shot))
    drawn = palette_pixels(shot, ["#0072b2", "#009e73", "#1d1d1f"], alpha=1.0, tolerance=30)
    assert drawn > 300, drawn


def test_ingested_exposure_appears_live(page: Any, server: dict[str, Any]) -> None:
    page.wait_for_selector("#live[data-state='on']", timeout=15_000)
    now = datetime.fromisoformat(page.evaluate("window.ansim.state.config.now"))
    place = "웹지도 실시간 시험 카페"
    record = {
        "source": "web-e2e",
        "source_record_id": "live-1",
        "lat": 37.5704,
        "lon": 126.9920,
        "start": (now + timedelta(hours=1)).isoformat(),
        "end": (now + timedelta(hours=2)).isoformat(),
        "precision": "point",
        "place_name": place,
        "place_type": "cafe",
        "cases": 1,
    }
    before = page.evaluate("window.ansim.state.liveUpdates")
    answer = httpx.post(
        server["base"] + "/v1/exposures",
        json=[record],
        headers={"Authorization": f"Bearer {server['key']}"},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    page.wait_for_function(f"window.ansim.state.liveUpdates > {before}", timeout=15_000)
    live = page.evaluate("window.ansim.state.lastLive")
    assert [f["properties"]["place_name"] for f in live["exposures"]["features"]] == [place]
    # "now" followed the new data (the event starts after the old demo time) and the site is on the map
    page.wait_for_function(
        "window.ansim.exposureNames().includes(" + repr(place) + ")", timeout=15_000
    )
    assert page.evaluate("window.ansim.state.nowMs") > now.timestamp() * 1000
    assert place in page.inner_text("#toast")
    page.screenshot(path=str(ARTIFACTS / "03_live.png"))


def test_ics_upload_shows_each_plan_with_level_and_advice(page: Any) -> None:
    page.set_input_files("#ics", str(SAMPLE_ICS))
    page.wait_for_function("window.ansim.state.plansShown > 0", timeout=30_000)
    plans = page.locator("#plan-result .plan")
    assert plans.count() == page.evaluate("window.ansim.state.plansShown") >= 5
    levels = page.evaluate(
        "[...document.querySelectorAll('#plan-result .plan')].map(e => e.dataset.level)"
    )
    known = {"very_low", "low", "moderate", "high", "very_high", "dangerous"}
    assert sum(lv in known for lv in levels) >= 5
    assert page.locator("#plan-result .plan li").count() >= 1  # advice
    page.click("#lang")
    assert page.get_attribute("html", "lang") == "en"
    assert "plans" in page.inner_text("#plan-result")
    page.locator("#h-plans").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "04_plans_en.png"))
