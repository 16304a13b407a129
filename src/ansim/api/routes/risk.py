"""``GET /v1/risk`` (a point and an hour) and ``GET /v1/risk/cells`` (a box of H3 cells as GeoJSON)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import h3.api.numpy_int as h3n
import numpy as np
import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ansim.api.deps import RateLimited, RiskDep, StateDep, get_key, get_risk, rate_limit
from ansim.api.models import CellCollection, RiskAnswer
from ansim.api.problems import Problem
from ansim.api.state import PlatformState, hour_of
from ansim.geo.cells import haversine_m
from ansim.risk.visit import Activity, Distance, Mask, Setting, Variant, Voice
from ansim.timeutil import isoformat_seoul, now_seoul, parse_datetime

router = APIRouter(prefix="/v1", tags=["risk"])

JSON = "application/json"
GEOJSON = "application/geo+json"
MAX_BBOX_KM2 = {10: 25.0, 9: 150.0}
"""Largest box per resolution (≈ 2,400 cells at 10, ≈ 2,100 at 9); coarser resolutions: 1,000 km²."""
MAX_BBOX_KM2_COARSE = 1_000.0
MIN_RESOLUTION = 6


_ENUMS: dict[str, type[StrEnum]] = {
    "setting": Setting,
    "distance": Distance,
    "voice": Voice,
    "their_mask": Mask,
    "your_mask": Mask,
    "variant": Variant,
}
_NUMBERS = {
    "lat": (-90.0, 90.0, "Latitude (WGS84)."),
    "lon": (-180.0, 180.0, "Longitude (WGS84)."),
    "duration_min": (0.0, 1_440.0, "Minutes spent (default 60)."),
    "people": (0.0, 100_000.0, "Other people present (your count; default: the crowd layer's)."),
}


def _risk_parameters() -> list[dict[str, Any]]:
    """OpenAPI parameters of ``/v1/risk`` (parsed by hand: it is the hot path)."""
    params: list[dict[str, Any]] = []
    for name in ("lat", "lon"):
        lo, hi, text = _NUMBERS[name]
        params.append(
            {
                "name": name,
                "in": "query",
                "required": True,
                "description": text,
                "schema": {"type": "number", "minimum": lo, "maximum": hi},
            }
        )
    params.append(
        {
            "name": "at",
            "in": "query",
            "required": False,
            "description": "Time (ISO 8601; without offset = Seoul). Default: now (`ANSIM_DEMO_NOW` when set).",
            "schema": {"type": "string", "format": "date-time"},
        }
    )
    for name in ("setting", "distance", "voice", "their_mask", "your_mask"):
        params.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": [m.value for m in _ENUMS[name]]},
            }
        )
    for name in ("duration_min", "people"):
        lo, hi, text = _NUMBERS[name]
        params.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": text,
                "schema": {"type": "number", "minimum": lo, "maximum": hi},
            }
        )
    params.append(
        {
            "name": "variant",
            "in": "query",
            "required": False,
            "description": "Variant era (default: by date).",
            "schema": {"type": "string", "enum": [m.value for m in Variant]},
        }
    )
    return params


def _bad(name: str, reason: str) -> Problem:
    return Problem(
        422, f"query.{name}: {reason}", errors=[{"field": f"query.{name}", "reason": reason}]
    )


def _number(query: Any, name: str, *, required: bool = False) -> float | None:
    text = query.get(name)
    if text is None:
        if required:
            raise _bad(name, "required")
        return None
    try:
        value = float(text)
    except ValueError:
        raise _bad(name, "not a number") from None
    lo, hi, _ = _NUMBERS[name]
    if not (lo <= value <= hi):  # also refuses nan
        raise _bad(name, f"must be in [{lo:g}, {hi:g}]")
    return value


def _choice(query: Any, name: str) -> Any:
    text = query.get(name)
    if text is None:
        return None
    try:
        return _ENUMS[name](text)
    except ValueError:
        allowed = ", ".join(m.value for m in _ENUMS[name])
        raise _bad(name, f"one of {allowed}") from None


@router.get(
    "/risk",
    response_model=RiskAnswer,
    summary="Infection risk at a point during an hour",
    responses={200: {"content": {JSON: {}}}, 422: {"description": "Invalid input"}},
    openapi_extra={"parameters": _risk_parameters()},
)
async def risk(request: Request) -> Response:
    """µCoV of a visit to the H3 cell holding the point, with its level, drivers, region and advice.

    Without activity fields: the reference visit (one hour indoors, normal distance and voice, no
    masks, with the crowd the place has at that hour). Answers are computed per cell and hour
    (``at`` is the start of the hour) and cached until new data arrive. Rate-limited like every
    read. (Parameters are parsed by hand, without FastAPI's per-parameter machinery: this is the
    hot path, held to ≥ 0.7 × the throughput of ``/v1/ping``.)
    """
    await rate_limit(request, await get_key(request))
    state: PlatformState = request.app.state.platform
    engine = await get_risk(request)
    query = request.query_params
    lat = _number(query, "lat", required=True)
    lon = _number(query, "lon", required=True)
    assert lat is not None
    assert lon is not None
    at_text = query.get("at")
    if at_text is None:
        when = hour_of(state.settings.demo_now or now_seoul())
    else:
        try:
            when = hour_of(parse_datetime(at_text))
        except ValueError:
            raise _bad("at", "not an ISO 8601 time") from None
    given = (
        _choice(query, "setting"),
        _choice(query, "distance"),
        _choice(query, "voice"),
        _choice(query, "their_mask"),
        _choice(query, "your_mask"),
        _number(query, "duration_min"),
    )
    people = _number(query, "people")
    variant = _choice(query, "variant")
    row = engine.table.locate(lat, lon)
    key = (state.generation, row, when.timestamp(), given, people, variant)
    body = state.risk_cache.get(key)
    if body is None:
        activity = None
        if any(v is not None for v in given):
            setting, distance, voice, their_mask, your_mask, duration_min = given
            activity = Activity(
                setting=setting or Setting.INDOOR,
                distance=distance or Distance.NORMAL,
                voice=voice or Voice.NORMAL,
                their_mask=their_mask or Mask.NONE,
                your_mask=your_mask or Mask.NONE,
                duration_min=60.0 if duration_min is None else duration_min,
            )
        answer = await run_in_threadpool(
            engine.assess,
            lat,
            lon,
            when,
            activity,
            people=people,
            variant=variant.value if variant else None,
        )
        body = orjson.dumps(answer.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY)
        state.risk_cache.put(key, body)
    return Response(body, media_type=JSON)


def _bbox(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(np.isfinite(values)):
        raise Problem(
            422,
            "bbox is west,south,east,north in degrees",
            errors=[{"field": "query.bbox", "reason": "four numbers: west,south,east,north"}],
        )
    west, south, east, north = values
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise Problem(
            422,
            "bbox needs west < east and south < north, within [-180, 180] × [-90, 90]",
            errors=[{"field": "query.bbox", "reason": "west < east and south < north"}],
        )
    return west, south, east, north


def bbox_area_km2(west: float, south: float, east: float, north: float) -> float:
    """Area of a small lon/lat box (equirectangular, exact enough for a limit)."""
    mid = (south + north) / 2
    width = float(haversine_m(mid, west, mid, east)) / 1000
    height = float(haversine_m(south, west, north, west)) / 1000
    return width * height


def _cells_geojson(
    grid: dict[str, np.ndarray], bbox: tuple[float, ...], at: datetime, resolution: int
) -> bytes:
    features = []
    for cell, ucov, lo, hi, level in zip(
        grid["cell"].tolist(),
        grid["ucov"].tolist(),
        grid["lower"].tolist(),
        grid["upper"].tolist(),
        grid["level"].tolist(),
        strict=True,
    ):
        ring = [[round(lng, 7), round(lat, 7)] for lat, lng in h3n.cell_to_boundary(cell)]
        ring.append(ring[0])
        hexid = format(cell, "x")
        features.append(
            {
                "type": "Feature",
                "id": hexid,
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    "cell": hexid,
                    "level": level,
                    "ucov": ucov if np.isfinite(ucov) else None,
                    "ucov_lower": lo if np.isfinite(lo) else None,
                    "ucov_upper": hi if np.isfinite(hi) else None,
                },
            }
        )
    return orjson.dumps(
        {
            "type": "FeatureCollection",
            "bbox": list(bbox),
            "at": isoformat_seoul(at),
            "resolution": resolution,
            "features": features,
        }
    )


@router.get(
    "/risk/cells",
    response_model=CellCollection,
    summary="Risk per H3 cell in a box (GeoJSON)",
    responses={200: {"content": {GEOJSON: {}}}},
)
async def risk_cells(
    state: StateDep,
    engine: RiskDep,
    _: RateLimited,
    bbox: Annotated[
        str,
        Query(
            description="west,south,east,north in degrees (RFC 7946 order); at most 25 km² at "
            "resolution 10, 150 km² at 9, 1,000 km² coarser.",
            examples=["126.97,37.56,126.99,37.58"],
            max_length=200,
        ),
    ],
    at: Annotated[
        datetime | None,
        Query(description="Time (default now, or `ANSIM_DEMO_NOW` when set), per hour."),
    ] = None,
    resolution: Annotated[
        int | None, Query(ge=MIN_RESOLUTION, le=15, description="H3 resolution (default 10).")
    ] = None,
) -> Response:
    """Reference-visit µCoV and level of every Seoul cell whose centre is in the box."""
    box = _bbox(bbox)
    res = engine.table.resolution if resolution is None else resolution
    if res > engine.table.resolution:
        raise Problem(
            422,
            f"finest resolution is {engine.table.resolution}",
            errors=[{"field": "query.resolution", "reason": f"at most {engine.table.resolution}"}],
        )
    limit = MAX_BBOX_KM2.get(res, MAX_BBOX_KM2_COARSE)
    area = bbox_area_km2(*box)
    if area > limit:
        raise Problem(
            422,
            f"the box covers {area:,.0f} km²; at most {limit:,.0f} km² at resolution {res}",
            type_="bbox-too-large",
            errors=[{"field": "query.bbox", "reason": f"area above {limit:g} km²"}],
        )
    when = hour_of(at if at is not None else (state.settings.demo_now or now_seoul()))
    key = (state.generation, box, when.timestamp(), res)
    body = state.cells_cache.get(key)
    if body is None:
        west, south, east, north = box

        def compute() -> bytes:
            grid = engine.grid((south, west, north, east), when, res)
            return _cells_geojson(grid, box, when, res)

        body = await run_in_threadpool(compute)
        state.cells_cache.put(key, body)
    return Response(body, media_type=GEOJSON)
