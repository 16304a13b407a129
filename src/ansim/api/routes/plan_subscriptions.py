"""Plan subscriptions: ``POST /v1/itinerary/subscriptions``, then ``GET``, ``DELETE`` and the
warnings as server-sent events, with the subscription's token.

``POST /v1/itinerary`` keeps nothing. Only here, because the person asks for it, are plans kept:
encrypted (``ansim.plans.vault``), re-checked on every risk update, deleted with ``DELETE``. The
token goes where an area subscription's does (``Authorization: Bearer anss_…``,
``X-Subscription-Token`` or ``?token=``); query strings are never logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ansim.api import plan_subscriptions as plan_subs
from ansim.api import subscriptions as subs_mod
from ansim.api.deps import RateLimited, RiskDep, StateDep
from ansim.api.problems import Problem
from ansim.api.routes.subscriptions import TokenHeader, TokenQuery, _token, event_stream
from ansim.api.routes.subscriptions import _authorise as authorise
from ansim.api.state import PlatformState
from ansim.plans import subscriptions as core
from ansim.timeutil import isoformat_seoul

router = APIRouter(prefix="/v1/itinerary", tags=["itinerary"])

PlanSubId = Annotated[str, Path(max_length=64, pattern=plan_subs.ID_PATTERN)]
Level = Literal["very_low", "low", "moderate", "high", "very_high", "dangerous"]


class PlanSubscriptionIn(BaseModel):
    """Plans to keep and re-check: JSON plans and usual routes (as ``POST /v1/itinerary``), or an
    iCalendar text in ``ics``; the level from which to warn; a webhook (optional: the warnings
    can always be read by server-sent events)."""

    model_config = ConfigDict(extra="forbid")

    plans: list[dict[str, Any]] = Field(default_factory=list, max_length=500)
    routes: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    ics: str | None = Field(
        default=None, max_length=1_000_000, description="An iCalendar (RFC 5545) text."
    )
    threshold: Level = "high"
    webhook_url: str | None = Field(default=None, max_length=2_000, pattern=r"^https?://")


class PlanSubscriptionCreated(BaseModel):
    id: str
    token: str = Field(description="Secret: needed to read, to stream and to delete. Shown once.")
    webhook_secret: str | None = Field(
        description="HMAC-SHA256 key of the X-Ansim-Signature header. Shown once."
    )
    threshold: Level
    plans: int = Field(description="Occurrences kept (recurring events expanded).")
    warnings: int = Field(description="Plans already at or above the threshold (warned at once).")
    events_url: str
    created_at: datetime


class PlanSubscriptionOut(BaseModel):
    """The subscription and the current check of its plans (the ``POST /v1/itinerary`` answer)."""

    id: str
    threshold: Level
    webhook_url: str | None
    created_at: datetime
    now: str = Field(description="Plans that ended before this are 'already over'.")
    events_url: str
    plans: list[dict[str, Any]]
    weeks: list[dict[str, Any]]
    budget: dict[str, Any]


def _events_url(sub_id: str) -> str:
    return f"/v1/itinerary/subscriptions/{sub_id}/events"


async def _authorise(state: PlatformState, sub_id: str, token: str | None) -> None:
    await authorise(state, sub_id, token, kind=plan_subs.KIND, what="plan subscription")


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=PlanSubscriptionCreated,
    summary="Keep plans and warn before them when the risk rises",
)
async def create(
    body: PlanSubscriptionIn, state: StateDep, risk: RiskDep, _: RateLimited
) -> PlanSubscriptionCreated:
    """Store the plans (encrypted) and re-check them whenever the risk updates; a plan still ahead
    whose level reaches ``threshold`` (or rises above it) is pushed as a warning (SSE, webhook).
    Plans already at or above the threshold are warned about at once. ``DELETE`` erases them."""
    document, plans = await run_in_threadpool(
        core.make_document, plans=body.plans, routes=body.routes, ics=body.ics
    )
    watch = plan_subs.watch_of(state)
    created = await run_in_threadpool(
        plan_subs.create,
        state.db,
        watch.cipher,
        document=document,
        threshold=body.threshold,
        webhook_url=body.webhook_url,
    )
    held = plan_subs.HeldPlans(
        id=created["id"],
        threshold=body.threshold,
        plans=plans,
        webhook_url=body.webhook_url,
        webhook_secret=created["webhook_secret"],
    )
    now = plan_subs.plans_now(state.settings)
    batch_id = state.last_batch_id
    first = await run_in_threadpool(watch.first_warning, held, risk, batch_id=batch_id, now=now)
    if first is not None:
        await state.store_plan_warning(first, batch_id)
    return PlanSubscriptionCreated(
        id=created["id"],
        token=created["token"],
        webhook_secret=created["webhook_secret"],
        threshold=body.threshold,
        plans=len(plans),
        warnings=len(first[2]["plans"]) if first is not None else 0,
        events_url=_events_url(created["id"]),
        created_at=created["created_at"],
    )


@router.get(
    "/subscriptions/{sub_id}",
    response_model=PlanSubscriptionOut,
    summary="The current check of subscribed plans (owner only)",
)
async def read(
    sub_id: PlanSubId,
    request: Request,
    state: StateDep,
    risk: RiskDep,
    _: RateLimited,
    x_token: TokenHeader = None,
    q_token: TokenQuery = None,
) -> PlanSubscriptionOut:
    """The stored plans checked now against the live risk (as ``POST /v1/itinerary`` answers)."""
    from ansim.plans.check import check_plans

    await _authorise(state, sub_id, _token(request, x_token, q_token))
    watch = plan_subs.watch_of(state)
    found = await run_in_threadpool(plan_subs.read, state.db, watch.cipher, sub_id)
    if found is None:
        raise Problem(404, "no such plan subscription")
    held, created_at = found
    now = plan_subs.plans_now(state.settings)
    check = await run_in_threadpool(check_plans, held.plans, risk, now=now)
    return PlanSubscriptionOut(
        id=held.id,
        threshold=held.threshold,  # type: ignore[arg-type]
        webhook_url=held.webhook_url,
        created_at=created_at,
        now=isoformat_seoul(now),
        events_url=_events_url(held.id),
        **check,
    )


@router.delete(
    "/subscriptions/{sub_id}",
    status_code=204,
    summary="Delete subscribed plans and everything stored for them",
    response_class=Response,
)
async def delete(
    sub_id: PlanSubId,
    request: Request,
    state: StateDep,
    _: RateLimited,
    x_token: TokenHeader = None,
    q_token: TokenQuery = None,
) -> Response:
    """Erase the plans, the webhook and every warning stored for them."""
    await _authorise(state, sub_id, _token(request, x_token, q_token))
    await run_in_threadpool(subs_mod.delete_subscription, state.db, sub_id)
    plan_subs.watch_of(state).held.pop(sub_id, None)
    return Response(status_code=204)


@router.get(
    "/subscriptions/{sub_id}/events",
    summary="Plan warnings as server-sent events",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "An event stream: `event: warning`, `id: <event id>`, "
            "`data: <JSON warning>`.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def events(
    sub_id: PlanSubId,
    request: Request,
    state: StateDep,
    _: RateLimited,
    x_token: TokenHeader = None,
    q_token: TokenQuery = None,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=20, pattern=r"^\d*$")
    ] = None,
) -> EventSourceResponse:
    """Stored warnings after ``Last-Event-ID`` (all on a first connection), then new ones as
    risk updates raise a plan to the threshold. Ends with ``event: deleted`` on ``DELETE``."""
    await _authorise(state, sub_id, _token(request, x_token, q_token))
    cipher = plan_subs.watch_of(state).cipher

    def opened(payload: dict[str, Any]) -> dict[str, Any]:
        return core.unseal(payload, cipher)

    return event_stream(
        state,
        request,
        sub_id,
        after=int(last_event_id) if last_event_id else 0,
        held=lambda: False,  # ask the store when idle: a DELETE on any worker ends the stream
        transform=opened,
        event_name="warning",
    )
