"""The FastAPI app factory. Routers live in ``ansim.api.routes``; dependencies in ``ansim.api.deps``;
shared state (the live risk engine, caches, limits, subscriptions) in ``ansim.api.state``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from sqlalchemy.engine import Engine

from ansim import __version__
from ansim.settings import Settings, get_settings

if TYPE_CHECKING:
    from ansim.risk.engine import RiskEngine

DESCRIPTION = """Ansim (안심): real-time pandemic risk for Seoul, open to app developers, researchers
and companies. Reads are public (rate-limited per address, or per key with an API key); writes
need an API key with scope `ingest`. Errors are RFC 9457 problem details; spatial answers are
GeoJSON (RFC 7946, `[lon, lat]`); times are ISO 8601 with offset (Seoul, +09:00, when none is
given). See docs/api.md."""

WRITE_PATHS = ("/v1/exposures", "/v1/cases", "/v1/crowd", "/v1/alerts/messages")


def create_app(
    *,
    settings: Settings | None = None,
    engine: Engine | None = None,
    risk_engine: RiskEngine | None = None,
    poll: bool = True,
) -> FastAPI:
    """Build the app on ``engine`` (default: one made from ``settings.db_url``).

    The store engine is created once here and shared through ``app.state``; the risk engine is
    loaded from the store at startup (``risk_engine`` hands over one already built, e.g. in
    tests). The app does not migrate or load data: ``ansim db init`` does. ``poll`` turns off the
    background refresh loop (a worker then refreshes only after its own writes).
    """
    from ansim.api import problems
    from ansim.api.middleware import AccessMiddleware
    from ansim.api.routes import (
        exposures,
        health,
        ingest,
        itinerary,
        plan_subscriptions,
        regions,
        risk,
        routes,
        subscriptions,
        visit,
        web,
    )
    from ansim.api.state import PlatformState
    from ansim.store.db import make_engine

    settings = settings or get_settings()
    db = engine or make_engine(settings.db_url)
    platform = PlatformState(settings, db, risk=risk_engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await platform.start(poll=poll)
        try:
            yield
        finally:
            await platform.stop()

    app = FastAPI(
        title="Ansim",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = db
    app.state.platform = platform
    problems.install(app)
    for module in (
        health,
        risk,
        regions,
        visit,
        exposures,
        ingest,
        subscriptions,
        routes,
        itinerary,
        plan_subscriptions,
    ):
        app.include_router(module.router)
    app.include_router(web.router)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "X-API-Key",
            "Idempotency-Key",
            "Content-Type",
            "Last-Event-ID",
            "X-Subscription-Token",
        ],
        expose_headers=["Retry-After", "Idempotency-Replayed", "Location"],
    )
    # JSON and GeoJSON answers (cells: ~5× smaller); Starlette leaves text/event-stream and bodies
    # that already carry a Content-Encoding (the web assets) alone
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(AccessMiddleware, metrics=platform.metrics)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = _finish_openapi(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _finish_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Problem details for every error, the API key scheme on writes, the alert body schemas."""
    from pydantic import TypeAdapter

    from ansim.api.models import AlertBatchIn
    from ansim.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA

    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    alert_schema = TypeAdapter(AlertBatchIn).json_schema(
        ref_template="#/components/schemas/{model}"
    )
    for name, sub in alert_schema.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    schemas.setdefault("AlertBatchIn", alert_schema)
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = {
        "ApiKey": {
            "type": "http",
            "scheme": "bearer",
            "description": "ansim_… key (ansim keys create)",
        },
        "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    problem = {
        "description": "Problem details (RFC 9457)",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            responses = op.setdefault("responses", {})
            for status in list(responses):
                if status.startswith(("4", "5")):
                    responses[status] = {
                        **problem,
                        "description": responses[status].get("description", problem["description"]),
                    }
            responses["default"] = problem
            if path in WRITE_PATHS and method == "post":
                op["security"] = [{"ApiKey": []}, {"ApiKeyHeader": []}]
    return schema
