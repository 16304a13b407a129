"""Errors as RFC 9457 problem details (``application/problem+json``), never a traceback.

Every error body has ``type``, ``title``, ``status`` and ``detail``; input errors add ``errors``,
one entry per offending field: ``{field, reason[, row][, source]}``, where ``field`` is a dotted
path (``query.lat``, ``body.records.3.start``) for request validation and the column or option
name for domain input errors.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ansim.errors import InputError, OutOfCoverageError

log = logging.getLogger("ansim.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://ansim.example/problems/"

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
    503: "Not ready",
}


class Problem(Exception):  # noqa: N818 - RFC 9457 names it a problem
    """Raise from a handler to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type_: str | None = None,
        title: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.detail = detail
        self.type_ = type_ or _default_type(status)
        self.title = title or TITLES.get(status, "Error")
        self.errors = errors
        self.headers = headers or {}
        super().__init__(detail)


def _default_type(status: int) -> str:
    return {
        401: "unauthorized",
        403: "forbidden",
        404: "not-found",
        409: "conflict",
        413: "too-large",
        415: "unsupported-media-type",
        422: "invalid-input",
        429: "rate-limited",
        503: "not-ready",
    }.get(status, "about:blank")


def problem_response(
    status: int,
    detail: str,
    *,
    type_: str | None = None,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
) -> Response:
    """A ``application/problem+json`` response."""
    kind = type_ or _default_type(status)
    body: dict[str, Any] = {
        "type": kind if kind == "about:blank" else TYPE_BASE + kind,
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return Response(
        orjson.dumps(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def input_error_entry(exc: InputError) -> dict[str, Any]:
    """One ``errors`` entry of a domain ``InputError``."""
    entry: dict[str, Any] = {"field": exc.field or "", "reason": exc.reason}
    if exc.row is not None:
        entry["row"] = exc.row
    if exc.source:
        entry["source"] = exc.source
    return entry


def _validation_entries(exc: RequestValidationError) -> list[dict[str, Any]]:
    entries = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        entries.append({"field": ".".join(loc), "reason": str(err.get("msg", "invalid"))})
    return entries


def install(app: FastAPI) -> None:
    """Register the problem handlers on ``app``."""

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return problem_response(
            exc.status,
            exc.detail,
            type_=exc.type_,
            title=exc.title,
            errors=exc.errors,
            headers=exc.headers,
            instance=request.url.path,
        )

    async def on_input_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, InputError)
        out_of_coverage = isinstance(exc, OutOfCoverageError)
        return problem_response(
            422,
            exc.describe(),
            type_="out-of-coverage" if out_of_coverage else "invalid-input",
            title="Outside the area or period covered" if out_of_coverage else "Invalid input",
            errors=[input_error_entry(exc)],
            instance=request.url.path,
        )

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        entries = _validation_entries(exc)
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in entries[:5])
        return problem_response(
            422, detail or "invalid request", errors=entries, instance=request.url.path
        )

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        return problem_response(
            exc.status_code,
            str(exc.detail),
            headers=headers or None,
            instance=request.url.path,
        )

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # Only the type and route: messages may quote request values (coordinates), never logged.
        route = getattr(request.scope.get("route"), "path", "?")
        log.error("unhandled error", extra={"error": type(exc).__name__, "route": route})
        return problem_response(
            500, "the server could not answer; the error has been logged", type_="internal-error"
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(InputError, on_input_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {
                    "field": {"type": "string"},
                    "reason": {"type": "string"},
                    "row": {"type": "integer"},
                    "source": {"type": "string"},
                },
            },
        },
    },
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses (problem+json)."""
    return {
        s: {
            "description": TITLES.get(s, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }
