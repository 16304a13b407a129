"""Explanations: which sources drive a risk, and what a person can do about it (ko/en).

Pure functions over the µCoV contributions of each source, for example
``{"community": 120.0, "exposure_site": 800.0, "mobility": 40.0}``, as the engine composes them.
Every source is modelled like microCOVID (person risk × people × activity risk), so a change of
activity scales each contribution by the ratio of activity risks; a less crowded hour scales the
crowd-driven sources (``CROWD_SCALED``) by the ratio of people present. This is exact in
microCOVID's linear regime (< 100,000 µCoV) and an approximation above it.
"""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ansim.errors import InputError
from ansim.risk.levels import REFERENCE_BUDGET_UCOV, Band, band_of
from ansim.risk.visit import (
    YOUR_MASK_MULT,
    Activity,
    Distance,
    Interaction,
    Mask,
    Variant,
    activity_risk,
)

CROWD_SCALED = ("community", "mobility")
"""Sources whose µCoV grows with the number of people present (the exposure-site hazard does not)."""
AVOID_FROM_BAND = 3
""""Avoid" is advised from the "high" band up."""

# Reason templates per source: the first one whose fields are all in the context is used. A context
# key ending in ``_ko`` (``region_ko``, ``site_ko``, ``flow_ko``…) replaces the plain key in the Korean
# sentence, so Korean text names places in Korean (중구, not Jung-gu). Every sentence says what the
# figure is (unit, and "estimate" where it is modelled) and what a person can do about it.
_REASONS: dict[str, tuple[tuple[str, str], ...]] = {
    "community": (
        (
            "Community spread in {region}: {incidence_per_100k:.1f} confirmed cases per 100,000 "
            "residents in the last 7 days, and about {people:.0f} people (estimate from phone "
            "counts) share the space with you; any of them could be infectious without knowing it. "
            "A KF94 mask and distance cut this most.",
            "{region} 지역사회 감염: 최근 7일간 인구 10만 명당 확진자 {incidence_per_100k:.1f}명이고, "
            "같은 공간에 약 {people:.0f}명(통신 자료 기반 추정)이 함께 있습니다. 누구든 모르는 사이 "
            "감염되어 있을 수 있으니 KF94 마스크와 거리두기가 가장 효과적입니다.",
        ),
        (
            "Community spread in {region}: {incidence_per_100k:.1f} new cases per 100,000 people "
            "in the last week.",
            "{region} 지역사회 감염: 최근 1주 인구 10만 명당 {incidence_per_100k:.1f}명 확진.",
        ),
        (
            "Community spread: any of the people around you may be infectious without knowing it.",
            "지역사회 감염: 주변 사람 누구든 모르는 사이에 감염되어 있을 수 있습니다.",
        ),
    ),
    "exposure_site": (
        (
            "A confirmed case was at {site} {when} (location known to within {radius_m:.0f} m); "
            "exposure sites stay listed for 14 days. If you were there then, watch for symptoms "
            "and get tested.",
            "확진자가 {when} {site}에 있었습니다(위치 오차 {radius_m:.0f} m 이내). 노출 장소는 14일간 "
            "공개됩니다. 그 시간에 그곳에 있었다면 증상을 살피고 검사를 받으세요.",
        ),
        (
            "A confirmed case was at {site} {hours_ago:.0f} hours ago; exposure sites stay listed "
            "for 14 days.",
            "확진자가 {hours_ago:.0f}시간 전 {site}에 있었습니다. 노출 장소는 14일간 공개됩니다.",
        ),
        (
            "A confirmed case was at {site} recently.",
            "확진자가 최근 {site}에 있었습니다.",
        ),
        (
            "A confirmed case visited this place recently.",
            "확진자가 최근 이곳을 방문했습니다.",
        ),
    ),
    "mobility": (
        (
            "{flow} (estimate from a gravity model of daily movements between gu); an undetected "
            "infectious person among them may be here for about a day. A KF94 mask helps.",
            "{flow} (구 간 일일 이동의 중력 모형 추정). 그중 감염 사실을 모르는 사람이 약 하루 동안 "
            "이곳에 있을 수 있으니 KF94 마스크가 도움이 됩니다.",
        ),
        (
            "About {flow_share:.0%} of the people at an exposure site in {origin} moved on to this "
            "area afterwards.",
            "{origin}의 노출 장소에 있던 사람 중 약 {flow_share:.0%}가 이후 이 지역으로 이동했습니다.",
        ),
        (
            "People who were at an exposure site in {origin} moved on to this area.",
            "{origin}의 노출 장소에 있던 사람들이 이 지역으로 이동했습니다.",
        ),
        (
            "People who were at an exposure site elsewhere moved on to this area.",
            "다른 곳의 노출 장소에 있던 사람들이 이 지역으로 이동했습니다.",
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class Driver:
    """One source of risk: its µCoV, its share of the total and why, in English and Korean."""

    key: str
    ucov: float
    share: float
    reason_en: str
    reason_ko: str


@dataclass(frozen=True, slots=True)
class Advice:
    """One thing to do, with the µCoV left and saved."""

    key: str
    ucov_after: float
    ucov_saved: float
    text_en: str
    text_ko: str


@dataclass(frozen=True, slots=True)
class CrowdInfo:
    """People expected at the place now and at other hours of the day (hour 0-23 → people)."""

    people_now: float
    by_hour: Mapping[int, float]
    hour_now: int | None = None


@dataclass(frozen=True, slots=True)
class Explanation:
    """Total, band, top drivers and ranked advice."""

    total_ucov: float
    band: Band
    drivers: tuple[Driver, ...]
    advice: tuple[Advice, ...]


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _reason(key: str, context: Mapping[str, object]) -> tuple[str, str]:
    # Korean sentences take the ``<field>_ko`` value of a field when there is one
    context_en = {k: v for k, v in context.items() if not k.endswith("_ko")}
    context_ko = {**context_en, **{k[:-3]: v for k, v in context.items() if k.endswith("_ko")}}
    for en, ko in _REASONS.get(key, ()):
        if _fields(en) <= context_en.keys() and _fields(ko) <= context_ko.keys():
            return en.format(**context_en), ko.format(**context_ko)
    label = key.replace("_", " ")
    return f"Risk from {label}.", f"{label} 요인에 의한 위험."


def _check_components(components: Mapping[str, float]) -> dict[str, float]:
    clean: dict[str, float] = {}
    for key, value in components.items():
        v = float(value)
        if not math.isfinite(v) or v < 0:
            raise InputError(
                f"µCoV must be a number >= 0, got {value!r}", field=f"components.{key}"
            )
        clean[key] = v
    return clean


def drivers(
    components: Mapping[str, float],
    *,
    context: Mapping[str, Mapping[str, object]] | None = None,
    top: int | None = 3,
) -> list[Driver]:
    """The largest sources first, each with its share of the total and a reason (ko/en).

    Parameters
    ----------
    components
        µCoV per source (``community``, ``exposure_site``, ``mobility`` or any other key).
    context
        Per source, the facts its reason quotes: community ``region``, ``incidence_per_100k``,
        ``people``; exposure_site ``site``, ``hours_ago`` or ``when``, ``radius_m``; mobility ``flow`` (a
        sentence of :func:`ansim.risk.flows.describe_flow`) or ``origin``, ``flow_share``. A key
        ending in ``_ko`` (``region_ko``, ``site_ko``, ``origin_ko``, ``flow_ko``) gives the Korean
        sentence its own value. Missing facts give a shorter sentence.
    top
        How many to return (None: all); sources with 0 µCoV are left out.
    """
    values = _check_components(components)
    total = sum(values.values())
    ctx = context or {}
    ranked = sorted((kv for kv in values.items() if kv[1] > 0), key=lambda kv: (-kv[1], kv[0]))
    out = []
    for key, value in ranked[: top if top is not None else None]:
        en, ko = _reason(key, ctx.get(key, {}))
        out.append(Driver(key, value, value / total, en, ko))
    return out


def advise(
    components: Mapping[str, float],
    *,
    activity: Activity,
    variant: Variant = Variant.DELTA,
    crowd: CrowdInfo | None = None,
    budget_ucov: float = REFERENCE_BUDGET_UCOV,
) -> list[Advice]:
    """What would lower the risk, ranked by µCoV saved (largest first).

    Candidates: a KF94 mask (if yours is weaker), 2 m distance (if closer, not intimate), half the
    stay (one-time visits of 10+ minutes), the least crowded other hour (when ``crowd`` is given),
    and avoiding the visit (from the "high" band up). Advice that saves nothing is left out.
    """
    values = _check_components(components)
    total = sum(values.values())
    if total <= 0:
        return []
    base_risk = activity_risk(activity, variant=variant)
    out: list[Advice] = []

    def by_activity(key: str, changed: Activity, en: str, ko: str) -> None:
        if base_risk <= 0:
            return
        ratio = activity_risk(changed, variant=variant) / base_risk
        after = total * ratio
        if after < total:
            out.append(Advice(key, after, total - after, en, ko))

    per_hour = activity.interaction in (Interaction.ONE_TIME, Interaction.WORKPLACE)
    if (
        per_hour
        and activity.distance is not Distance.INTIMATE
        and YOUR_MASK_MULT[activity.your_mask] > YOUR_MASK_MULT[Mask.KF94]
    ):
        by_activity(
            "mask_kf94",
            replace(activity, your_mask=Mask.KF94),
            "Wear a well-fitted KF94 mask.",
            "KF94 마스크를 밀착해서 착용하세요.",
        )
    if per_hour and activity.distance in (Distance.CLOSE, Distance.NORMAL):
        by_activity(
            "distance_2m",
            replace(activity, distance=Distance.TWO_M),
            "Keep 2 m from other people.",
            "다른 사람과 2m 거리를 유지하세요.",
        )
    if per_hour and activity.duration_min >= 10:
        half = activity.duration_min / 2
        by_activity(
            "shorter_stay",
            replace(activity, duration_min=half),
            f"Stay {half:.0f} minutes instead of {activity.duration_min:.0f}.",
            f"머무는 시간을 {activity.duration_min:.0f}분에서 {half:.0f}분으로 줄이세요.",
        )
    if crowd is not None and crowd.people_now > 0:
        options = {h: n for h, n in crowd.by_hour.items() if h != crowd.hour_now}
        if options:
            hour, people = min(options.items(), key=lambda hn: (hn[1], hn[0]))
            if people < crowd.people_now:
                scale = people / crowd.people_now
                after = sum(v * scale if k in CROWD_SCALED else v for k, v in values.items())
                if after < total:
                    out.append(
                        Advice(
                            "less_crowded_hour",
                            after,
                            total - after,
                            f"Go around {hour:02d}:00, when about {people:.0f} people are there "
                            f"instead of {crowd.people_now:.0f}.",
                            f"{hour:02d}시쯤 가세요. 사람이 약 {crowd.people_now:.0f}명에서 "
                            f"{people:.0f}명으로 줄어듭니다.",
                        )
                    )
    if band_of(total, budget_ucov=budget_ucov).index >= AVOID_FROM_BAND:
        out.append(
            Advice(
                "avoid",
                0.0,
                total,
                "Avoid this visit, or postpone it.",
                "방문을 피하거나 미루세요.",
            )
        )
    order = ("avoid", "mask_kf94", "distance_2m", "shorter_stay", "less_crowded_hour")
    return sorted(out, key=lambda a: (-a.ucov_saved, order.index(a.key)))


def explain(
    components: Mapping[str, float],
    *,
    activity: Activity,
    variant: Variant = Variant.DELTA,
    crowd: CrowdInfo | None = None,
    context: Mapping[str, Mapping[str, object]] | None = None,
    budget_ucov: float = REFERENCE_BUDGET_UCOV,
    top: int | None = 3,
) -> Explanation:
    """Total µCoV, its band, the top drivers and ranked advice in one value."""
    values = _check_components(components)
    total = sum(values.values())
    return Explanation(
        total,
        band_of(total, budget_ucov=budget_ucov),
        tuple(drivers(values, context=context, top=top)),
        tuple(
            advise(values, activity=activity, variant=variant, crowd=crowd, budget_ucov=budget_ucov)
        ),
    )
