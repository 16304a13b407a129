"""``GET /v1/regions`` (Seoul's gu) and ``GET /v1/regions/{code}`` (incidence, Rt, distancing level)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from ansim.api.deps import RateLimited, RiskDep
from ansim.api.models import RegionInfo, RegionSummary
from ansim.api.problems import Problem
from ansim.geo.regions import find_region, seoul_districts
from ansim.timeutil import as_seoul, now_seoul

router = APIRouter(prefix="/v1", tags=["regions"])


@router.get("/regions", response_model=list[RegionSummary], summary="Seoul's 25 gu")
async def regions(_: RateLimited) -> list[RegionSummary]:
    """Code (5-digit administrative), names and population of each gu Ansim covers."""
    return [
        RegionSummary(
            code=r.code,
            name_ko=r.name_ko,
            name_en=r.name_en,
            level=r.level,
            parent=r.parent_code,
            population=r.population,
        )
        for r in seoul_districts()
    ]


@router.get(
    "/regions/{code}",
    response_model=RegionInfo,
    summary="A gu's incidence, Rt and distancing level",
)
async def region_detail(
    engine: RiskDep,
    _: RateLimited,
    code: Annotated[
        str, Path(max_length=64, description="Gu code (11680) or name (강남구, Gangnam-gu).")
    ],
    at: Annotated[datetime | None, Query(description="Day (default today, Seoul).")] = None,
) -> RegionInfo:
    """Weekly incidence per 100,000, Rt with its 95 % interval, person risk, and the social
    distancing level the numbers give on that day with its rules (Korean and English)."""
    found = find_region(code)
    if found is None or found.level != "gu" or found.code not in engine.regions.gu_codes:
        raise Problem(
            404,
            f"not a Seoul gu: {code!r} (see /v1/regions)",
            errors=[{"field": "path.code", "reason": "unknown gu"}],
        )
    day = as_seoul(at if at is not None else now_seoul()).date()
    info = await run_in_threadpool(engine.region_info, found.code, day)
    return RegionInfo.model_validate(info)
