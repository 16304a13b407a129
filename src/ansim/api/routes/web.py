"""The web map: the page at ``/``, its static assets, basemap GeoJSON and the public live stream.

(The page checks a dropped calendar with ``POST /v1/itinerary`` and ``Content-Type: text/calendar``.)

- ``GET /``: the page (``ansim/web/static/index.html``); ``GET /web/static/{path}``: assets.
- ``GET /web/config.json``: the demo "now", levels and palette, networks' extents.
- ``GET /web/basemap/{gu,dong,roads,stations}.geojson``: built from the bundled data at the first
  request, then kept in memory (gzip-compressed when the client accepts it).
- ``GET /v1/events``: public server-sent events, one ``update`` per batch of new data, carrying the
  new exposure sites (public fields only) so a map shows them without a reload.

The bundled data end in 2020-21, so the page's "now" is a demo time: ``Settings.demo_now``
(``ANSIM_DEMO_NOW``, ISO 8601, naive = Seoul) or else the start of the hour of the newest exposure event in the store. It follows
new data: a newer exposure event moves it forward (never past the real clock).
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Header, Request
from fastapi import Path as PathParam
from sqlalchemy.engine import Engine
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ansim.api.deps import RateLimited, StateDep
from ansim.api.problems import Problem
from ansim.api.state import PlatformState
from ansim.risk.levels import BANDS
from ansim.store import schema
from ansim.timeutil import SEOUL, as_seoul, isoformat_seoul, now_seoul, parse_datetime

router = APIRouter(tags=["web"])

STATIC_DIR = Path(__file__).resolve().parents[2] / "web" / "static"
GEOJSON = "application/geo+json"
EVENTS_POLL_S = 0.5
MAX_FEATURES_PER_UPDATE = 500
BASEMAP_LAYERS = ("gu", "dong", "roads", "stations")
PALETTE = ("#fcffa4", "#f8c932", "#f1731d", "#c73e4c", "#7d1d6d", "#2b0b57")
"""Inferno-like, light to dark, one colour per level: monotonic lightness, so the order reads in
grey and for every common colour-vision deficiency (viridis family, Smith & van der Walt 2015)."""
MEDIA = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".ico": "image/x-icon",
}
COMPRESSIBLE = {".html", ".js", ".mjs", ".css", ".svg", ".json"}


@dataclass(frozen=True)
class Body:
    """A response body, its gzip form and its ETag."""

    raw: bytes
    gz: bytes
    etag: str

    @classmethod
    def of(cls, raw: bytes) -> Body:
        return cls(
            raw,
            gzip.compress(raw, 6, mtime=0),
            '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"',
        )


_STATIC_CACHE: dict[tuple[str, float], Body] = {}
_BASEMAP_CACHE: dict[tuple[str, str], Body] = {}


def _send(request: Request, body: Body, media_type: str, cache: str) -> Response:
    """The body, gzip-compressed when accepted, with ETag revalidation (304)."""
    headers = {"Cache-Control": cache, "ETag": body.etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == body.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(body.gz, media_type=media_type, headers=headers)
    return Response(body.raw, media_type=media_type, headers=headers)


def _static_body(relative: str) -> tuple[Body, str]:
    """A file under the static folder (no path leaves it), cached by modification time."""
    root = STATIC_DIR.resolve()
    path = (root / relative).resolve()
    if root not in path.parents or not path.is_file():
        raise Problem(404, f"no such file: {relative!r}")
    key = (str(path), path.stat().st_mtime)
    body = _STATIC_CACHE.get(key)
    if body is None:
        raw = path.read_bytes()
        body = Body(
            raw,
            gzip.compress(raw, 6, mtime=0),
            '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"',
        )
        if path.suffix not in COMPRESSIBLE:
            body = Body(raw, raw, body.etag)
        _STATIC_CACHE[key] = body
    return body, MEDIA.get(path.suffix, "application/octet-stream")


@router.get("/", include_in_schema=False)
async def index(request: Request) -> Response:
    """The web map (Korean by default; ``?lang=en`` for English)."""
    body, media = _static_body("index.html")
    return _send(request, body, media, "no-cache")


@router.get("/web/static/{path:path}", include_in_schema=False)
async def static(request: Request, path: str) -> Response:
    body, media = _static_body(path)
    compressible = any(path.endswith(s) for s in COMPRESSIBLE)
    if not compressible:
        headers = {"Cache-Control": "public, max-age=3600", "ETag": body.etag}
        return Response(body.raw, media_type=media, headers=headers)
    return _send(request, body, media, "public, max-age=3600")


# --- demo time ------------------------------------------------------------------------------------


def newest_exposure_start(db: Engine) -> datetime | None:
    """Start of the newest exposure event in the store (Seoul time), or None."""
    t = schema.exposure_events
    with db.connect() as conn:
        value = conn.execute(sa.select(sa.func.max(t.c.start_utc))).scalar()
    if value is None:
        return None
    if isinstance(value, str):  # SQLite may hand back text for an aggregate
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return as_seoul(value)


def demo_now(db: Engine, *, configured: str | datetime | None = None) -> tuple[datetime, str]:
    """The page's "now" and where it comes from (``configured``, ``data`` or ``clock``).

    ``configured`` (``Settings.demo_now``, env ``ANSIM_DEMO_NOW``) wins; else the end of the hour of the newest exposure event's
    start (so it is on the map), since the
    bundled data stop in 2021 and the real clock would show an empty map; never later than the clock.
    """
    clock = now_seoul()
    if configured:
        if isinstance(configured, datetime):
            return as_seoul(configured), "configured"
        return as_seoul(parse_datetime(configured)), "configured"
    newest = newest_exposure_start(db)
    if newest is None or newest > clock:
        return clock.replace(minute=0, second=0, microsecond=0), "clock"
    # the end of the hour that holds the newest start, so that site is on the map at "now"
    return newest.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1), "data"


def _configured_now(state: PlatformState) -> datetime | None:
    return state.settings.demo_now


@router.get("/web/config.json", include_in_schema=False)
async def config(state: StateDep) -> Response:
    """What the page needs before its first request: demo now, levels, palette, extents."""
    now, basis = await run_in_threadpool(demo_now, state.db, configured=_configured_now(state))
    body = {
        "now": isoformat_seoul(now),
        "now_basis": basis,
        "forecast_hours": 48,
        "h3_resolution": state.settings.h3_resolution,
        "levels": [
            {"key": b.key, "name_ko": b.name_ko, "name_en": b.name_en, "color": PALETTE[i]}
            for i, b in enumerate(BANDS)
        ],
        "budget_ucov": state.settings.yearly_budget_ucov,
        "seoul_bbox": [126.764, 37.413, 127.184, 37.715],
        "ready": state.ready,
    }
    return Response(
        orjson.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


# --- basemap --------------------------------------------------------------------------------------


def build_basemap(layer: str, data_dir: Path) -> bytes:
    """GeoJSON bytes of one basemap layer."""
    from ansim.web import basemap

    if layer in ("gu", "dong"):
        data = basemap.boundaries_geojson(data_dir, level=layer)
    elif layer == "stations":
        data = basemap.stations_geojson(data_dir)
    else:
        from ansim.routing.network import load_network

        data = basemap.roads_geojson(
            [load_network("central", "walk"), load_network("yongsan", "walk")]
        )
    return orjson.dumps(data)


@router.get("/web/basemap/{layer}.geojson", include_in_schema=False)
async def basemap_layer(
    request: Request, state: StateDep, layer: Annotated[str, PathParam(max_length=20)]
) -> Response:
    """Seoul gu and dong boundaries, the bundled street networks, subway stations (GeoJSON)."""
    if layer not in BASEMAP_LAYERS:
        raise Problem(404, f"no basemap layer {layer!r}; layers: {', '.join(BASEMAP_LAYERS)}")
    key = (layer, str(state.settings.data_dir))
    body = _BASEMAP_CACHE.get(key)
    if body is None:
        raw = await run_in_threadpool(build_basemap, layer, state.settings.data_dir)
        body = await run_in_threadpool(Body.of, raw)
        _BASEMAP_CACHE[key] = body
    return _send(request, body, GEOJSON, "public, max-age=86400")


# --- live updates ---------------------------------------------------------------------------------


def exposure_features(db: Engine, *, after_batch: int, upto_batch: int) -> list[dict[str, Any]]:
    """Exposure sites written by batches ``after_batch < id <= upto_batch`` (public fields only)."""
    t = schema.exposure_events
    with db.connect() as conn:
        rows = (
            conn.execute(
                sa.select(
                    t.c.lat,
                    t.c.lon,
                    t.c.start_utc,
                    t.c.end_utc,
                    t.c.radius_m,
                    t.c.place_name,
                    t.c.address,
                    t.c.place_type,
                    t.c.region_code,
                    t.c.precision,
                    t.c.cases,
                    t.c.source,
                )
                .where(t.c.batch_id > after_batch, t.c.batch_id <= upto_batch)
                .order_by(t.c.start_utc.desc())
                .limit(MAX_FEATURES_PER_UPDATE)
            )
            .mappings()
            .all()
        )
    from datetime import UTC

    def seoul(value: datetime) -> str:
        return isoformat_seoul(
            (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(SEOUL)
        )

    return [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(r["lon"], 6), round(r["lat"], 6)]},
            "properties": {
                "place_name": r["place_name"],
                "address": r["address"],
                "place_type": r["place_type"],
                "region_code": r["region_code"],
                "start": seoul(r["start_utc"]),
                "end": seoul(r["end_utc"]),
                "radius_m": r["radius_m"],
                "precision": r["precision"],
                "cases": r["cases"],
                "source": r["source"],
            },
        }
        for r in rows
    ]


@router.get(
    "/v1/events",
    tags=["live"],
    summary="Live updates for maps (server-sent events)",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "`event: ready` once, then `event: update`, `id: <batch id>`, `data: "
            "{batch_id, generation, now, exposures: FeatureCollection}` after each batch of new "
            "data is applied to the live risk engine.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def events(
    request: Request,
    state: StateDep,
    _: RateLimited,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=20, pattern=r"^\d*$")
    ] = None,
) -> EventSourceResponse:
    """Public stream (no key): each batch of new data applied to the live engine becomes one
    ``update`` carrying its new exposure sites (as ``/v1/exposures``), the engine generation and
    the page's "now". The risk layers are fresh by the time the event is sent: refetch them."""
    configured = _configured_now(state)

    async def stream() -> AsyncIterator[dict[str, Any]]:
        while state.risk is None:  # batches are counted from the loaded engine on
            if await request.is_disconnected():
                return
            await asyncio.sleep(EVENTS_POLL_S)
        after = int(last_event_id) if last_event_id else state.last_batch_id
        now, _basis = await run_in_threadpool(demo_now, state.db, configured=configured)
        ready = {"batch_id": after, "generation": state.generation, "now": isoformat_seoul(now)}
        yield {"event": "ready", "data": orjson.dumps(ready).decode()}
        while True:
            if await request.is_disconnected():
                return
            upto = state.last_batch_id
            if upto > after:
                features = await run_in_threadpool(
                    exposure_features, state.db, after_batch=after, upto_batch=upto
                )
                now, _basis = await run_in_threadpool(demo_now, state.db, configured=configured)
                after = upto
                data = {
                    "batch_id": upto,
                    "generation": state.generation,
                    "now": isoformat_seoul(now),
                    "exposures": {"type": "FeatureCollection", "features": features},
                }
                yield {"id": str(upto), "event": "update", "data": orjson.dumps(data).decode()}
            await asyncio.sleep(EVENTS_POLL_S)

    return EventSourceResponse(stream(), ping=15, headers={"Cache-Control": "no-store"})
