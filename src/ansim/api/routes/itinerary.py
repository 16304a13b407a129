"""``POST /v1/itinerary``: check a list of plans (place, time, activity) against the live risk."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ansim.api.deps import RateLimited, RiskDep
from ansim.timeutil import as_seoul

router = APIRouter(prefix="/v1", tags=["itinerary"])


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


@router.post("/itinerary", response_model=ItineraryAnswer, summary="Check plans against the risk")
async def itinerary(body: ItineraryRequest, risk: RiskDep, _: RateLimited) -> ItineraryAnswer:
    """Each plan's µCoV, level and drivers, safer times, activities and routes, and the weekly total
    against the budget. Nothing of the plans is stored or logged."""
    from ansim.plans.check import check_plans
    from ansim.plans.ical import plans_from_document

    def run() -> dict[str, Any]:
        plans, _window = plans_from_document(
            {"plans": body.plans, "routes": body.routes}, source="body"
        )
        return check_plans(plans, risk, now=as_seoul(body.now) if body.now else None)

    return ItineraryAnswer.model_validate(await run_in_threadpool(run))
