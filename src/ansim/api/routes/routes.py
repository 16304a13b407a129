"""``POST /v1/routes``: fastest, balanced and safest routes with their exposure (the routing planner).

POST, not GET: the two ends of a person's trip stay out of URLs (and so out of any proxy's logs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ansim.api.deps import RateLimited, RiskDep, StateDep
from ansim.api.models import Level
from ansim.api.state import PlatformState
from ansim.errors import InputError
from ansim.timeutil import now_seoul

router = APIRouter(prefix="/v1", tags=["routes"])

NETWORKS = ("central", "yongsan")


class PlaceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    name: str | None = Field(
        default=None,
        max_length=100,
        description="A station (강남역), a gu or a dong, instead of lat/lon.",
    )


class RouteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    origin: PlaceIn = Field(alias="from")
    destination: PlaceIn = Field(alias="to")
    at: datetime | None = Field(default=None, description="Departure (default now).")
    profile: Literal["walk", "drive"] = "walk"
    objectives: list[Literal["fastest", "balanced", "safest"]] = Field(
        default=["fastest", "balanced", "safest"], min_length=1, max_length=3
    )
    balance: Literal["low", "medium", "high"] = "medium"
    avoid_level: Level | None = None
    network: Literal["central", "yongsan"] | None = Field(
        default=None, description="Bundled street network (default: the first holding both ends)."
    )


class RouteAnswer(BaseModel):
    network: str
    profile: str
    departure: datetime
    origin_snap_m: float
    destination_snap_m: float
    balance: str
    balance_lambda_s_per_ucov: float
    avoid_level: str | None
    alternatives: list[dict[str, Any]]
    summary: dict[str, Any]
    notes: list[dict[str, Any]]


def _point(place: PlaceIn, field: str) -> tuple[float, float]:
    from ansim.routing.places import resolve_place

    if place.lat is not None and place.lon is not None:
        return place.lat, place.lon
    if place.name:
        found = resolve_place(place.name, field=field)
        return found.lat, found.lon
    raise InputError("give lat and lon, or a name", field=field)


def network_for(state: PlatformState, name: str, profile: str) -> tuple[Any, Any]:
    """A bundled network and its CCH routers, loaded once per worker."""
    from ansim.routing.network import load_network
    from ansim.routing.planner import Routers

    key = (name, profile)
    if key not in state.routing:
        net = load_network(name, profile)  # type: ignore[arg-type]
        state.routing[key] = (net, Routers.cch(net))
    loaded: tuple[Any, Any] = state.routing[key]
    return loaded


@router.post("/routes", response_model=RouteAnswer, summary="Safer routes between two places")
async def routes(body: RouteRequest, state: StateDep, risk: RiskDep, _: RateLimited) -> RouteAnswer:
    """Up to three routes (fastest, balanced, safest) with duration, length, µCoV exposure on the way
    (the live risk field), their peak level and the risky areas each one avoids. GeoJSON
    LineStrings; the request's places are not stored or logged."""
    from ansim.routing.planner import plan_routes

    def run() -> dict[str, Any]:
        origin = _point(body.origin, "from")
        destination = _point(body.destination, "to")
        names = [body.network] if body.network else list(NETWORKS)
        for name in names:
            net, routers = network_for(state, name, body.profile)
            west, south, east, north = net.bbox
            inside = all(
                south <= lat <= north and west <= lon <= east for lat, lon in (origin, destination)
            )
            if not inside and (body.network is None or name != body.network):
                continue
            plan = plan_routes(
                net,
                routers,
                risk,
                origin,
                destination,
                body.at or now_seoul(),
                objectives=tuple(body.objectives),
                balance=body.balance,
                avoid_level=body.avoid_level,
            )
            return plan.to_dict()
        raise InputError(
            "both ends must lie inside a bundled street network (central Seoul or Yongsan)",
            field="from",
        )

    return RouteAnswer.model_validate(await run_in_threadpool(run))
