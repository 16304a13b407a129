"""The FastAPI app factory. Routers live in ``ansim.api.routes``; dependencies in ``ansim.api.deps``."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from ansim import __version__
from ansim.settings import Settings, get_settings


def create_app(*, settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app on ``engine`` (default: one made from ``settings.db_url``).

    The engine is created once here and shared through ``app.state``; handlers get it via
    :data:`ansim.api.deps.EngineDep`. The app does not migrate or load data: ``ansim db init`` does.
    """
    from ansim.api.routes import health
    from ansim.store.db import make_engine

    settings = settings or get_settings()
    app = FastAPI(
        title="Ansim",
        version=__version__,
        description="Ansim (안심): real-time pandemic risk for Seoul.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.db_url)
    app.include_router(health.router)
    return app
