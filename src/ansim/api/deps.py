"""FastAPI dependencies as ``Annotated`` aliases: ``def route(engine: EngineDep, settings: SettingsDep)``.

- ``StateDep``: the worker's :class:`ansim.api.state.PlatformState`.
- ``RiskDep``: the live :class:`RiskEngine` (503 problem until it is loaded).
- ``KeyDep``: the API key presented (``Authorization: Bearer ansim_…`` or ``X-API-Key``), or None;
  a key that does not verify, or is revoked, is a 401.
- ``RateLimited``: counts the request against the key's limit, else the client address's (429 with
  ``Retry-After``).
- ``IngestKey``: a key with scope ``ingest`` (or ``admin``): 401 without one, 403 with a weaker one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from ansim.api.keys import PREFIX, ApiKey
from ansim.api.problems import Problem
from ansim.api.state import PlatformState
from ansim.risk.engine import RiskEngine
from ansim.settings import Settings


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> Engine:
    """The store engine shared by the app (created once in :func:`ansim.api.app.create_app`)."""
    engine: Engine = request.app.state.engine
    return engine


async def get_state(request: Request) -> PlatformState:
    state: PlatformState = request.app.state.platform
    return state


async def get_risk(request: Request) -> RiskEngine:
    state: PlatformState = request.app.state.platform
    risk = state.risk
    if risk is None:
        raise Problem(
            503,
            "the risk engine is loading; retry in a few seconds",
            headers={"Retry-After": "5"},
        )
    return risk


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("x-api-key")
    if header:
        return header.strip()
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip().startswith(PREFIX):
        return value.strip()
    return None


async def get_key(request: Request) -> ApiKey | None:
    presented = _presented_key(request)
    if presented is None:
        return None
    state: PlatformState = request.app.state.platform
    known, key = state.cached_key(presented)
    if not known:
        key = await run_in_threadpool(state.verify, presented)
    if key is None or key.revoked_at is not None or key.id in state.revoked:
        raise Problem(
            401,
            "the API key is not valid (unknown, mistyped or revoked)",
            headers={"WWW-Authenticate": 'Bearer realm="ansim"'},
        )
    request.state.key_id = key.id
    return key


KeyDep = Annotated[ApiKey | None, Depends(get_key)]


async def rate_limit(request: Request, key: KeyDep) -> None:
    state: PlatformState = request.app.state.platform
    client = request.client.host if request.client else "unknown"
    retry_after = state.hit(key_id=key.id if key else None, client=client)
    if retry_after is not None:
        raise Problem(
            429,
            f"rate limit of this {'key' if key else 'address'} reached; retry in {retry_after:g} s",
            headers={"Retry-After": f"{retry_after:g}"},
        )


async def ingest_key(request: Request, key: KeyDep) -> ApiKey:
    if key is None:
        raise Problem(
            401,
            "writes need an API key with scope 'ingest' (Authorization: Bearer ansim_…)",
            headers={"WWW-Authenticate": 'Bearer realm="ansim"'},
        )
    if not key.allows("ingest"):
        raise Problem(403, f"this key has scope {key.scope!r}; writes need 'ingest'")
    return key


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
StateDep = Annotated[PlatformState, Depends(get_state)]
RiskDep = Annotated[RiskEngine, Depends(get_risk)]
RateLimited = Annotated[None, Depends(rate_limit)]
IngestKey = Annotated[ApiKey, Depends(ingest_key)]
