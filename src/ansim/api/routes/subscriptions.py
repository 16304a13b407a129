"""Push alerts: ``POST /v1/subscriptions``, its events by SSE, ``GET`` and ``DELETE`` with its token.

The subscription token (``anss_…``) goes in ``Authorization: Bearer``, ``X-Subscription-Token``,
or ``?token=`` (for browsers' ``EventSource``, which cannot set headers). Query strings are never
logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Path, Query, Request
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ansim.api import subscriptions as subs_mod
from ansim.api.areas import area_rows
from ansim.api.deps import RateLimited, RiskDep, StateDep
from ansim.api.models import SubscriptionCreated, SubscriptionIn, SubscriptionOut
from ansim.api.problems import Problem
from ansim.api.state import PlatformState

router = APIRouter(prefix="/v1", tags=["subscriptions"])

SSE_POLL_S = 0.25
SubId = Annotated[str, Path(max_length=64, pattern=r"^sub_[0-9a-f]{16}$")]


def _token(request: Request, header_token: str | None, query_token: str | None) -> str | None:
    if header_token:
        return header_token
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip().startswith(subs_mod.TOKEN_PREFIX):
        return value.strip()
    return query_token


async def _authorise(
    state: PlatformState,
    sub_id: str,
    token: str | None,
    *,
    kind: str | None = None,
    what: str = "subscription",
) -> None:
    """404 for an unknown subscription (of ``kind``), 401 without its token, 403 with a wrong one."""
    ok = await run_in_threadpool(
        functools.partial(subs_mod.check_token, state.db, sub_id, token, kind=kind)
    )
    if ok is None:
        raise Problem(404, f"no such {what}")
    if not ok:
        raise Problem(
            401 if not token else 403,
            "the subscription's own token is needed" if not token else "wrong subscription token",
            headers={"WWW-Authenticate": 'Bearer realm="ansim-subscription"'}
            if not token
            else None,
        )


TokenHeader = Annotated[
    str | None,
    Header(alias="X-Subscription-Token", max_length=200, description="Subscription token."),
]
TokenQuery = Annotated[
    str | None,
    Query(alias="token", max_length=200, description="Subscription token (EventSource)."),
]


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=SubscriptionCreated,
    summary="Subscribe to alerts for an area",
)
async def create(
    body: SubscriptionIn, request: Request, state: StateDep, engine: RiskDep, _: RateLimited
) -> SubscriptionCreated:
    """Alert me when new data raise the risk inside this area to ``threshold`` or above.

    The area is stored encrypted and only for this subscription; ``DELETE`` erases it. The answer
    holds the subscription's token and webhook secret: they are shown once.
    """
    rows = area_rows(body.area, engine.table, radius_m=body.radius_m)
    cells = engine.table.cells[rows]
    created = await run_in_threadpool(
        subs_mod.create_subscription,
        state.db,
        state.fernet,
        geometry=body.area,
        radius_m=body.radius_m,
        cells=cells,
        threshold=body.threshold,
        webhook_url=body.webhook_url,
    )
    await state.refresh()  # this worker holds it at once; the others within a poll interval
    return SubscriptionCreated(
        id=created["id"],
        token=created["token"],
        webhook_secret=created["webhook_secret"],
        threshold=body.threshold,
        cells=int(rows.size),
        events_url=f"/v1/subscriptions/{created['id']}/events",
        created_at=created["created_at"],
    )


@router.get(
    "/subscriptions/{sub_id}", response_model=SubscriptionOut, summary="A subscription (owner only)"
)
async def read(
    sub_id: SubId,
    request: Request,
    state: StateDep,
    _: RateLimited,
    x_token: TokenHeader = None,
    q_token: TokenQuery = None,
) -> SubscriptionOut:
    """The area, threshold and webhook of a subscription, for its token holder."""
    await _authorise(state, sub_id, _token(request, x_token, q_token))
    found = await run_in_threadpool(subs_mod.read_subscription, state.db, state.fernet, sub_id)
    if found is None:
        raise Problem(404, "no such subscription")
    return SubscriptionOut.model_validate(found)


@router.delete(
    "/subscriptions/{sub_id}",
    status_code=204,
    summary="Delete a subscription and everything stored for it",
    response_class=Response,
)
async def delete(
    sub_id: SubId,
    request: Request,
    state: StateDep,
    _: RateLimited,
    x_token: TokenHeader = None,
    q_token: TokenQuery = None,
) -> Response:
    """Erase the subscription, its area and every alert stored for it."""
    await _authorise(state, sub_id, _token(request, x_token, q_token))
    await run_in_threadpool(subs_mod.delete_subscription, state.db, sub_id)
    await state.refresh()
    return Response(status_code=204)


@router.get(
    "/subscriptions/{sub_id}/events",
    summary="Alerts as server-sent events",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "An event stream: `event: alert`, `id: <event id>`, `data: <JSON alert>`.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def events(
    sub_id: SubId,
    request: Request,
    state: StateDep,
    _: RateLimited,
    x_token: TokenHeader = None,
    q_token: TokenQuery = None,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=20, pattern=r"^\d*$")
    ] = None,
) -> EventSourceResponse:
    """Stored alerts after ``Last-Event-ID`` (all of them on a first connection), then new ones
    as they come (within 2 s of the ingest that raised the risk). Ends when the subscription is
    deleted."""
    await _authorise(state, sub_id, _token(request, x_token, q_token))
    return event_stream(state, request, sub_id, after=int(last_event_id) if last_event_id else 0)


def event_stream(
    state: PlatformState,
    request: Request,
    sub_id: str,
    *,
    after: int,
    held: Callable[[], bool] | None = None,
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    event_name: str = "alert",
) -> EventSourceResponse:
    """The SSE response of a subscription's stored events after ``after`` (shared by area and plan
    subscriptions). ``held``: whether this worker holds the subscription (when not, an idle round
    asks the store whether it still exists); ``transform``: applied to each payload on the way out
    (plan warnings are stored sealed)."""

    def is_held() -> bool:
        return held() if held is not None else sub_id in state.subs

    async def stream() -> AsyncIterator[dict[str, Any]]:
        nonlocal after
        wake = state.waiter(sub_id)
        try:
            yield {"event": "ready", "data": orjson.dumps({"subscription_id": sub_id}).decode()}
            while True:
                found = await run_in_threadpool(subs_mod.events_after, state.db, sub_id, after)
                for event_id, payload in found:
                    after = event_id
                    if transform is not None:
                        payload = await run_in_threadpool(transform, payload)
                    yield {
                        "id": str(event_id),
                        "event": event_name,
                        "data": orjson.dumps(payload).decode(),
                    }
                if not found and not is_held():
                    alive = await run_in_threadpool(subs_mod.check_token, state.db, sub_id, "x")
                    if alive is None:
                        yield {"event": "deleted", "data": "{}"}
                        return
                if await request.is_disconnected():
                    return
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=SSE_POLL_S)
        finally:
            state.drop_waiter(sub_id, wake)

    return EventSourceResponse(stream(), ping=15, headers={"Cache-Control": "no-store"})
