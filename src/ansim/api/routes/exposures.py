"""``GET /v1/exposures``: public exposure sites within retention, as GeoJSON, with no personal detail."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import orjson
from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ansim.api.deps import RateLimited, StateDep
from ansim.api.models import ExposureCollection
from ansim.api.routes.risk import GEOJSON, _bbox
from ansim.timeutil import as_seoul, isoformat_seoul, now_seoul

router = APIRouter(prefix="/v1", tags=["exposures"])


@router.get(
    "/exposures",
    response_model=ExposureCollection,
    summary="Public exposure sites within retention (GeoJSON)",
    responses={200: {"content": {GEOJSON: {}}}},
)
async def exposures(
    state: StateDep,
    _: RateLimited,
    bbox: Annotated[
        str | None,
        Query(
            description="west,south,east,north in degrees (default: everywhere).", max_length=200
        ),
    ] = None,
    since: Annotated[
        datetime | None,
        Query(description="Sites whose visit ended after this time (default: retention start)."),
    ] = None,
    at: Annotated[
        datetime | None,
        Query(description="Reference time (default now); retention counts back from it."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5_000)] = 1_000,
) -> Response:
    """Places and times a confirmed case visited, that ended at most ``retention_days`` (14, the
    Korean disclosure guideline) before ``at``: name, address, type, window, uncertainty radius and
    the number of cases linked. Record ids, patient numbers and any other personal detail are left
    out; newest first."""
    from ansim.store import queries

    when = as_seoul(at if at is not None else now_seoul())
    retention = state.settings.exposure_retention_days
    start = when - timedelta(days=retention)
    if since is not None and as_seoul(since) > start:
        start = as_seoul(since)
    box = _bbox(bbox) if bbox is not None else None

    def load() -> bytes:
        events = queries.exposure_events(state.db, since=start, until=when)
        if box is not None:
            west, south, east, north = box
            events = [e for e in events if west <= e.lon <= east and south <= e.lat <= north]
        events.sort(key=lambda e: e.start, reverse=True)
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(e.lon, 6), round(e.lat, 6)]},
                "properties": {
                    "place_name": e.place_name,
                    "address": e.address,
                    "place_type": e.place_type,
                    "region_code": e.region_code,
                    "start": isoformat_seoul(e.start),
                    "end": isoformat_seoul(e.end),
                    "radius_m": e.radius_m,
                    "precision": e.precision,
                    "cases": e.cases,
                    "source": e.source,
                },
            }
            for e in events[:limit]
        ]
        return orjson.dumps(
            {
                "type": "FeatureCollection",
                "features": features,
                "retention_days": retention,
                "since": isoformat_seoul(start),
                "at": isoformat_seoul(when),
            }
        )

    return Response(await run_in_threadpool(load), media_type=GEOJSON)
