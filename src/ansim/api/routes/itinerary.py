"""``POST /v1/itinerary``: check a list of plans (place, time, activity) against the live risk.

The body is JSON (``plans`` and optional usual ``routes``, as ``ansim plan check``) or an iCalendar
file (``Content-Type: text/calendar``, as the web map sends a dropped ``.ics``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from ansim.api.deps import RateLimited, RiskDep
from ansim.api.problems import Problem
from ansim.timeutil import as_seoul, isoformat_seoul, parse_datetime

router = APIRouter(prefix="/v1", tags=["itinerary"])

MAX_ICS_BYTES = 1024 * 1024
"""Largest calendar accepted (a year of a busy person's events is well under 100 KB)."""
CALENDAR_TYPES = {"text/calendar"}


class ItineraryRequest(BaseModel):
    """Plans as in ``ansim plan check`` JSON (docs/plans.md): ``plans`` and optional usual ``routes``."""

    model_config = ConfigDict(extra="forbid")

    plans: list[dict[str, Any]] = Field(default_factory=list, max_length=500)
    routes: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    now: datetime | None = Field(
        default=None, description="Plans ended before this are skipped (default: check all)."
    )


class ItineraryAnswer(BaseModel):
    plans: list[dict[str, Any]]
    weeks: list[dict[str, Any]]
    budget: dict[str, Any]
    window: list[datetime] | None = Field(
        default=None,
        description="For a calendar body: the period whose occurrences were checked (start, end).",
    )


_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": ItineraryRequest.model_json_schema()},
            "text/calendar": {
                "schema": {"type": "string"},
                "example": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//example//EN\r\n"
                "BEGIN:VEVENT\r\nUID:1@example\r\nDTSTART;TZID=Asia/Seoul:20200501T120000\r\n"
                "DURATION:PT1H\r\nSUMMARY:점심\r\nLOCATION:시청역\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            },
        },
    },
    "parameters": [
        {
            "name": "now",
            "in": "query",
            "required": False,
            "description": "For a calendar body: plans ended before this are skipped (JSON: the "
            "body's `now`).",
            "schema": {"type": "string", "format": "date-time"},
        }
    ],
}


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


@router.post(
    "/itinerary",
    response_model=ItineraryAnswer,
    summary="Check plans against the risk",
    openapi_extra=_BODY_DOC,
)
async def itinerary(request: Request, risk: RiskDep, _: RateLimited) -> Response:
    """Each plan's µCoV, level and drivers, safer times, activities and routes, and the weekly total
    against the budget. The body is JSON plans or an iCalendar file (``text/calendar``: one plan per
    event occurrence in the default window, which the answer gives as ``window``). Nothing of the
    plans is stored or logged."""
    from ansim.plans.check import check_plans
    from ansim.plans.ical import plans_from_document, read_ics

    ctype = _media_type(request)
    data = await request.body()
    if ctype in CALENDAR_TYPES:
        if len(data) > MAX_ICS_BYTES:
            raise Problem(413, f"calendar larger than {MAX_ICS_BYTES:,} bytes")
        if not data.lstrip()[:15].upper().startswith(b"BEGIN:VCALENDAR"):
            raise Problem(
                422,
                "not an iCalendar file (it must start with BEGIN:VCALENDAR)",
                errors=[{"field": "body", "reason": "iCalendar (.ics) text"}],
            )
        now_text = request.query_params.get("now")
        try:
            now = parse_datetime(now_text) if now_text else None
        except ValueError:
            raise Problem(
                422,
                "now: not an ISO 8601 time",
                errors=[{"field": "query.now", "reason": "not an ISO 8601 time"}],
            ) from None

        def run_ics() -> dict[str, Any]:
            plans, window = read_ics(data, source="calendar")
            answer = check_plans(plans, risk, now=now)
            answer["window"] = [isoformat_seoul(window[0]), isoformat_seoul(window[1])]
            return answer

        answer = await run_in_threadpool(run_ics)
    elif ctype == "application/json" or ctype.endswith("+json") or not ctype:
        try:
            body = ItineraryRequest.model_validate_json(data or b"null")
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            ) from None

        def run_json() -> dict[str, Any]:
            plans, _window = plans_from_document(
                {"plans": body.plans, "routes": body.routes}, source="body"
            )
            return check_plans(plans, risk, now=as_seoul(body.now) if body.now else None)

        answer = await run_in_threadpool(run_json)
    else:
        raise Problem(
            415,
            "send application/json (plans) or text/calendar (an .ics file)",
            errors=[{"field": "header.content-type", "reason": f"unsupported: {ctype!r}"}],
        )
    return Response(
        orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY, default=str),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
