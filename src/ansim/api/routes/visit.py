"""``POST /v1/visit-risk``: one visit's µCoV, microCOVID-compatible."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from ansim.api.deps import RateLimited, StateDep
from ansim.api.models import VisitRiskAnswer, VisitRiskRequest
from ansim.errors import InputError

router = APIRouter(prefix="/v1", tags=["risk"])


def _person_risk(body: VisitRiskRequest, state_risk: object, settings: object) -> tuple[float, str]:
    """µCoV that one other person is infectious, and where it came from."""
    from ansim.geo.regions import find_region
    from ansim.risk.prevalence import person_risk_ucov
    from ansim.timeutil import now_seoul

    given = [
        name
        for name, value in (
            ("person_risk_ucov", body.person_risk_ucov),
            ("region", body.region),
            ("population", body.population),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise InputError(
            "give exactly one of person_risk_ucov, region (with date), or population with "
            "cases_past_week",
            field=given[1] if len(given) > 1 else "person_risk_ucov",
        )
    day = body.date or now_seoul().date()
    if body.person_risk_ucov is not None:
        return body.person_risk_ucov, "given"
    if body.region is not None:
        if state_risk is None:
            raise InputError("the risk engine is loading; give person_risk_ucov", field="region")
        found = find_region(body.region)
        if found is None or found.code not in state_risk.regions.gu_codes:  # type: ignore[attr-defined]
            raise InputError(f"not a Seoul gu: {body.region!r}", field="region")
        info = state_risk.region_info(found.code, day)  # type: ignore[attr-defined]
        return float(info["person_risk"]["value"]), f"region {found.code} on {info['date']}"
    if body.cases_past_week is None:
        raise InputError("population needs cases_past_week", field="cases_past_week")
    assert body.population is not None
    result = person_risk_ucov(
        population=body.population,
        cases_past_week=body.cases_past_week,
        positivity_pct=body.positivity_pct,
        on=day,
        ascertainment=getattr(settings, "ascertainment_factor", None),
    )
    return result.ucov, "population and cases_past_week"


@router.post(
    "/visit-risk", response_model=VisitRiskAnswer, summary="Risk of one visit (microCOVID)"
)
async def visit_risk(body: VisitRiskRequest, state: StateDep, _: RateLimited) -> VisitRiskAnswer:
    """µCoV of one visit: each other person's chance of being infectious × people × activity risk,
    with microCOVID's ÷3/×3 bounds; optionally Wells-Riley ventilation (``ach`` with ``volume_m3``)."""
    from ansim.risk.levels import band_of
    from ansim.risk.visit import Activity, variant_on, ventilation_multiplier
    from ansim.risk.visit import visit_risk as compute
    from ansim.timeutil import now_seoul

    def run() -> VisitRiskAnswer:
        activity = Activity.parse(
            setting=body.setting,
            distance=body.distance,
            voice=body.voice,
            their_mask=body.their_mask,
            your_mask=body.your_mask,
            duration_min=body.duration_min,
            interaction=body.interaction,
        )
        each, source = _person_risk(body, state.risk, state.settings)
        if (body.ach is None) != (body.volume_m3 is None):
            raise InputError(
                "give ach and volume_m3 together", field="ach" if body.ach is None else "volume_m3"
            )
        ventilation = None
        if body.ach is not None and body.volume_m3 is not None:
            ventilation = ventilation_multiplier(
                ach=body.ach, volume_m3=body.volume_m3, duration_min=body.duration_min
            )
        era = body.variant or variant_on(body.date or now_seoul().date())
        result = compute(
            activity,
            person_risk_ucov=each,
            people=body.people,
            variant=era,
            ventilation_mult=ventilation or 1.0,
        )
        band = band_of(result.ucov, budget_ucov=state.settings.yearly_budget_ucov)
        return VisitRiskAnswer(
            ucov=result.ucov,
            lower=result.lower,
            upper=result.upper,
            level=band.key,  # type: ignore[arg-type]
            level_ko=band.name_ko,
            probability=result.probability,
            person_risk_ucov=result.person_risk_ucov,
            people=result.people,
            activity_risk=result.activity_risk,
            variant=result.variant.value,
            person_risk_source=source,
            ventilation_multiplier=ventilation,
        )

    return await run_in_threadpool(run)
