"""Check plans against the risk engine: µCoV, level, drivers and ranked alternatives per plan.

``check_plans(plans, engine, now=…)`` is a pure function of its inputs: it neither stores nor logs a
plan (titles, places and times never reach a log line). For each plan:

1. the activity comes from the plan, else from a preset inferred from its title and place
   (:mod:`ansim.plans.presets`); the place is resolved (:mod:`ansim.plans.places`);
2. ``RiskEngine.assess`` gives the µCoV at the plan's time with the preset's people count (future
   times are the engine's forecast: prevalence carried forward with widened bounds), the level,
   and the drivers (an exposure site that drives the risk is named, e.g. "Itaewon Clubs");
3. alternatives, ranked by the µCoV they save: a less crowded hour the same day (within the usual
   opening hours), a shorter stay, a better mask (KF94, when a mask can be worn), more distance,
   a safer route there (when the plan has an origin and a street network covers it), postponing
   (the same hour on a later day, up to a week).

The value of another time is the plan's µCoV times the engine's change between the two times for
the same activity with the crowd layer's people count: the preset's count (50 at a club) is for
the plan's own hour, and the venue fills and empties with its area, as the engine's own
less-crowded-hour advice assumes; exposure-site hazard and prevalence change as they do.

Finding the hour and the day means trying many times per plan. The batched path asks the engine
for its reference field (``ucov_per_hour``) once per hour over all plan cells and scales by the
ratio of reference values; the times chosen for warned plans are then confirmed with ``assess``.
The naive path (``batched=False``, the benchmark baseline) calls ``assess`` for every candidate.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from ansim.errors import InputError, OutOfCoverageError
from ansim.plans.budget import weekly_totals
from ansim.plans.ical import trip_minutes
from ansim.plans.model import Plan
from ansim.plans.places import ResolvedPlace, resolve
from ansim.plans.presets import DEFAULT_TABLE, Preset, PresetTable, with_overrides
from ansim.risk.levels import BANDS, band_of
from ansim.risk.visit import MAX_POINTS, ONE_MILLION, Activity
from ansim.timeutil import SEOUL, as_seoul, isoformat_seoul

if TYPE_CHECKING:
    from ansim.risk.engine import RiskEngine

WARNING_FROM_BAND = 3
"""A plan is a warning from the "high" band up (as ``risk.explain`` advises avoiding it)."""
HOUR_SHIFTS_H = (-3, -2, -1, 1, 2, 3)
"""A less crowded hour is looked for up to three hours either side of the plan (same day or night)."""
POSTPONE_DAYS = tuple(range(1, 8))
"""Postponing tries the same hour on each of the next seven days (the engine answers a week ahead)."""
MIN_SAVING_SHARE = 0.10
"""Alternatives saving less than 10 % are left out: below the model's resolution (÷3 … ×3 bounds)."""
TIME_ADVICE_FROM_BAND = 2
"""Another hour or day is looked for from the "moderate" band up; below it, moving a plan is not worth it."""
TRIP_SEGMENTS = 3
"""A trip is checked at its origin, midpoint and destination, a third of its duration each."""

_ENGINE_ADVICE = {
    "mask_kf94": "better_mask",
    "shorter_stay": "shorter_stay",
    "distance_2m": "more_distance",
}


@dataclass(frozen=True, slots=True)
class RouteOption:
    """The fastest and the safest way between two points: durations (s) and exposure (µCoV)."""

    fastest_s: float
    fastest_ucov: float
    safest_s: float
    safest_ucov: float
    network: str


RoutePlanner = Callable[[tuple[float, float], tuple[float, float], datetime], RouteOption | None]
"""``(origin, destination, depart) -> RouteOption | None`` (None: no network covers the trip)."""


# --- per-plan preparation ---------------------------------------------------------------------------


@dataclass
class _Job:
    """A checkable plan: where, when, what (all resolved)."""

    index: int
    plan: Plan
    preset: Preset
    matched: str | None
    activity: Activity
    people: float
    start: datetime
    points: list[tuple[float, float]]
    place: ResolvedPlace
    origin: ResolvedPlace | None
    cells: list[int] = field(default_factory=list)


def _preset_of(plan: Plan, presets: PresetTable) -> tuple[Preset, str | None]:
    where = f"{plan.ref or plan.title}.activity"
    spec = plan.activity
    if spec is None:
        place_text = plan.place.text if plan.place else ""
        return presets.infer(plan.title, place_text, " ".join(plan.categories))
    if isinstance(spec, str):
        return presets.get(spec, field_name=where), spec
    if "preset" in spec:
        base = presets.get(str(spec["preset"]), field_name=f"{where}.preset")
    else:
        base, _ = presets.infer(plan.title, plan.place.text if plan.place else "")
    return with_overrides(base, spec, field_prefix=where), str(spec.get("preset", base.key))


def validate_activities(plans: Sequence[Plan], presets: PresetTable = DEFAULT_TABLE) -> None:
    """Raise ``InputError`` for the first plan whose activity names an unknown preset or field.

    ``check_plans`` does the same; callers that load the engine first call this to fail fast.
    """
    for plan in plans:
        _preset_of(plan, presets)


def _duration_min(plan: Plan, preset: Preset) -> float:
    minutes = (plan.end - plan.start).total_seconds() / 60.0
    if plan.all_day or minutes <= 0:
        minutes = preset.duration_min
    if preset.max_exposure_min is not None:
        minutes = min(minutes, preset.max_exposure_min)
    return minutes


def _segment_points(
    origin: ResolvedPlace, destination: ResolvedPlace, n: int = TRIP_SEGMENTS
) -> list[tuple[float, float]]:
    """Points spread from origin to destination (both included)."""
    return [
        (
            origin.lat + (destination.lat - origin.lat) * k / (n - 1),
            origin.lon + (destination.lon - origin.lon) * k / (n - 1),
        )
        for k in range(n)
    ]


def _prepare(
    index: int, plan: Plan, engine: RiskEngine, presets: PresetTable, now: datetime | None
) -> tuple[_Job | None, str]:
    """A job, or (None, reason it cannot be checked). Bad activity specs raise ``InputError``."""
    preset, matched = _preset_of(plan, presets)
    if plan.skip_reason:
        return None, plan.skip_reason
    start = plan.start
    if plan.all_day:
        if preset.all_day_hour is None:
            return None, "all-day event: there is no time of day to check (give it a start time)"
        start = plan.start.replace(hour=preset.all_day_hour)
    if now is not None and plan.end <= now:
        return None, "already over"
    if plan.place is None:
        return None, "no location"
    place, reason = resolve(plan.place)
    if place is None:
        return None, reason
    origin: ResolvedPlace | None = None
    if plan.origin is not None:
        origin, origin_reason = resolve(plan.origin)
        if origin is None and plan.kind == "trip":
            return None, f"origin: {origin_reason}"
    if plan.kind == "trip" and origin is not None and plan.end == plan.start:
        minutes = trip_minutes((origin.lat, origin.lon), (place.lat, place.lon))
        plan = replace(plan, end=plan.start + timedelta(minutes=minutes))
    activity = preset.activity(duration_min=_duration_min(plan, preset))
    people = plan.people if plan.people is not None else preset.people
    points = [(place.lat, place.lon)]
    if plan.kind == "trip" and origin is not None:
        points = _segment_points(origin, place)
    cells = []
    for lat, lon in points:
        try:
            row = engine.table.locate(lat, lon)
        except OutOfCoverageError as exc:
            return None, exc.reason
        cells.append(int(engine.table.cells[row]))
    job = _Job(index, plan, preset, matched, activity, people, start, points, place, origin, cells)
    return job, ""


# --- assessments -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Result:
    """µCoV of a plan (summed over trip segments) with the assessment that dominates it."""

    ucov: float
    lower: float
    upper: float
    main: Any  # the engine's Assessment with the largest µCoV


def _assess(
    engine: RiskEngine, job: _Job, start: datetime, activity: Activity | None = None
) -> _Result:
    act = activity or job.activity
    if len(job.points) == 1:
        a = engine.assess(job.points[0][0], job.points[0][1], start, act, people=job.people)
        return _Result(a.ucov, a.lower, a.upper, a)
    # a trip: each segment for its share of the time, at the time the person is there
    share = act.duration_min / len(job.points)
    seg = replace(act, duration_min=share)
    parts = [
        engine.assess(lat, lon, start + timedelta(minutes=share * k), seg, people=job.people)
        for k, (lat, lon) in enumerate(job.points)
    ]
    main = max(parts, key=lambda a: a.ucov)
    return _Result(
        sum(a.ucov for a in parts), sum(a.lower for a in parts), sum(a.upper for a in parts), main
    )


class _ReferenceField:
    """The engine's reference µCoV per hour, fetched once per hour for every cell that needs it.

    Keys are (epoch hour, cell): the crowd layer is hourly, so one value per hour is what the
    engine knows anyway; integer keys keep the lookups cheap.
    """

    def __init__(self, engine: RiskEngine) -> None:
        self.engine = engine
        self.wanted: dict[int, set[int]] = defaultdict(set)
        self.values: dict[tuple[int, int], float] = {}

    @staticmethod
    def hour_key(t: datetime) -> int:
        return int(t.timestamp() // 3600)

    def need(self, cells: Iterable[int], times: Iterable[datetime]) -> None:
        for t in times:
            self.wanted[self.hour_key(t)].update(cells)

    def fetch(self) -> None:
        for key in sorted(self.wanted):
            cells = sorted(c for c in self.wanted[key] if (key, c) not in self.values)
            if not cells:
                continue
            at = datetime.fromtimestamp(key * 3600, tz=SEOUL)
            try:
                vals = self.engine.ucov_per_hour(np.array(cells, dtype=np.uint64), at)
            except OutOfCoverageError:
                vals = np.full(len(cells), np.nan)
            for c, v in zip(cells, vals.tolist(), strict=True):
                self.values[(key, c)] = v
        self.wanted.clear()

    def at(self, cells: Sequence[int], t: datetime) -> float:
        """Reference µCoV per hour at ``t`` (summed over a trip's cells); NaN outside coverage."""
        key = self.hour_key(t)
        return sum(self.values.get((key, c), math.nan) for c in cells)


# --- alternatives ------------------------------------------------------------------------------------


def _alt(
    kind: str,
    *,
    ucov: float,
    base: float,
    text_en: str,
    text_ko: str,
    basis: str,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "ucov": round(ucov, 3),
        "ucov_saved": round(base - ucov, 3),
        "saved_share": round((base - ucov) / base, 3) if base > 0 else 0.0,
        **extra,
        "text_en": text_en,
        "text_ko": text_ko,
        "basis": basis,
    }


def _rescaled(ucov: float, raw: float, ratio: float) -> float:
    """µCoV after multiplying the raw (additive) risk by ``ratio``.

    The engine adds its sources and switches to microCOVID's product form, 1e6·(1 − e^(−raw/1e6)),
    above 100,000 µCoV; a ratio applies to the additive sum, then the same form is taken again.
    """
    if raw <= 0:
        return ucov * ratio
    scaled = raw * ratio
    if raw < MAX_POINTS and scaled < MAX_POINTS:
        return ucov * ratio
    return scaled if scaled < MAX_POINTS else ONE_MILLION * -math.expm1(-scaled / ONE_MILLION)


def _raw_ucov(result: _Result) -> float:
    """The additive risk behind a plan's µCoV (before the product form), summed over segments."""
    a = result.main
    raw = float(sum(a.components.values())) if hasattr(a, "components") else float(a.ucov)
    return raw * (result.ucov / a.ucov) if a.ucov > 0 else raw


def _engine_alternatives(job: _Job, result: _Result) -> list[dict[str, Any]]:
    """Shorter stay, better mask, more distance: the engine's advice, applied to the whole plan."""
    out = []
    a = result.main
    raw = float(sum(a.components.values())) if hasattr(a, "components") else a.ucov
    for adv in a.advice:
        kind = _ENGINE_ADVICE.get(adv["key"])
        if kind is None or (kind == "better_mask" and not job.preset.mask_ok):
            continue
        if kind == "shorter_stay" and job.plan.kind == "trip":
            continue  # a ride lasts as long as it lasts; the safer route is the alternative
        ratio = adv["ucov_after"]["value"] / raw if raw > 0 else 1.0
        after = _rescaled(result.ucov, _raw_ucov(result), ratio)
        if after > result.ucov * (1 - MIN_SAVING_SHARE):
            continue
        extra: dict[str, Any] = {}
        if kind == "shorter_stay":
            half = job.activity.duration_min / 2
            extra["end"] = isoformat_seoul(job.start + timedelta(minutes=half))
        if kind == "better_mask":
            extra["mask"] = "kf94"
        out.append(
            _alt(
                kind,
                ucov=after,
                base=result.ucov,
                text_en=adv["text_en"],
                text_ko=adv["text_ko"],
                basis="engine",
                **extra,
            )
        )
    return out


def _wants_time_advice(result: _Result, budget_ucov: float) -> bool:
    return band_of(result.ucov, budget_ucov=budget_ucov).index >= TIME_ADVICE_FROM_BAND


def _time_candidates(job: _Job, now: datetime | None) -> tuple[list[datetime], list[datetime]]:
    """(other hours the same day or night, the same hour on later days)."""
    hours = [
        job.start + timedelta(hours=h)
        for h in HOUR_SHIFTS_H
        if job.preset.open_at((job.start + timedelta(hours=h)).hour)
    ]
    days = [job.start + timedelta(days=d) for d in POSTPONE_DAYS] if job.preset.movable else []
    if now is not None:
        hours = [t for t in hours if t > now]
    return hours, days


def _time_text(kind: str, job: _Job, t: datetime) -> tuple[str, str]:
    when = as_seoul(t)
    if kind == "less_crowded_hour":
        return (
            f"Go at {when:%H:%M} instead of {as_seoul(job.start):%H:%M}, when fewer people are expected.",
            f"{as_seoul(job.start):%H:%M} 대신 사람이 더 적은 {when:%H:%M}에 가세요.",
        )
    return (
        f"Postpone to {when:%a %d %b} at {when:%H:%M}.",
        f"{when.month}월 {when.day}일 {when:%H:%M}(으)로 미루세요.",
    )


def _pick_time(
    job: _Job,
    result: _Result,
    candidates: list[datetime],
    value_at: Callable[[datetime], float | None],
) -> tuple[datetime, float] | None:
    best: tuple[datetime, float] | None = None
    for t in candidates:
        v = value_at(t)
        if v is None or not math.isfinite(v):
            continue
        if best is None or v < best[1] - 1e-12:
            best = (t, v)
    if best is None or best[1] > result.ucov * (1 - MIN_SAVING_SHARE):
        return None
    return best


def _crowd_level(engine: RiskEngine, job: _Job, t: datetime) -> float | None:
    """The plan's µCoV at ``t`` with the crowd layer's people count (no preset count).

    The ratio of two of these is how much a time change saves: the preset's people count is for the
    plan's own hour, and the venue fills and empties with the area's crowd (as the engine's own
    less-crowded-hour advice assumes), while exposure-site hazard and prevalence change as they do.
    """
    try:
        if len(job.points) == 1:
            return float(engine.assess(job.points[0][0], job.points[0][1], t, job.activity).ucov)
        share = job.activity.duration_min / len(job.points)
        seg = replace(job.activity, duration_min=share)
        return float(
            sum(
                engine.assess(lat, lon, t + timedelta(minutes=share * k), seg).ucov
                for k, (lat, lon) in enumerate(job.points)
            )
        )
    except OutOfCoverageError:
        return None


def _time_alternatives(
    job: _Job,
    result: _Result,
    engine: RiskEngine,
    now: datetime | None,
    ref: _ReferenceField | None,
    *,
    confirm: bool,
) -> list[dict[str, Any]]:
    hours, days = _time_candidates(job, now)
    raw = _raw_ucov(result)
    base_level: list[float | None] = []

    def exact(t: datetime) -> float | None:
        if not base_level:
            base_level.append(_crowd_level(engine, job, job.start))
        here, there = base_level[0], _crowd_level(engine, job, t)
        if here is None or there is None or here <= 0:
            return None
        return _rescaled(result.ucov, raw, there / here)

    if ref is None:
        value_at: Callable[[datetime], float | None] = exact
        basis = "engine"
    else:
        here_ref = ref.at(job.cells, job.start)

        def value_at(t: datetime) -> float | None:
            there = ref.at(job.cells, t)
            if not (math.isfinite(here_ref) and here_ref > 0 and math.isfinite(there)):
                return None
            return _rescaled(result.ucov, raw, there / here_ref)

        basis = "scaled"
    out = []
    for kind, candidates in (("less_crowded_hour", hours), ("postpone", days)):
        best = _pick_time(job, result, candidates, value_at)
        if best is None:
            continue
        t, v = best
        b = basis
        if confirm and basis == "scaled":
            checked = exact(t)
            if checked is None or checked > result.ucov * (1 - MIN_SAVING_SHARE):
                continue
            v, b = checked, "engine"
        en, ko = _time_text(kind, job, t)
        out.append(
            _alt(
                kind,
                ucov=v,
                base=result.ucov,
                text_en=en,
                text_ko=ko,
                basis=b,
                start=isoformat_seoul(t),
                end=isoformat_seoul(t + (job.plan.end - job.plan.start)),
            )
        )
    return out


def _route_alternative(job: _Job, planner: RoutePlanner | None) -> list[dict[str, Any]]:
    if planner is None or job.origin is None:
        return []
    option = planner((job.origin.lat, job.origin.lon), (job.place.lat, job.place.lon), job.start)
    if option is None:
        return []
    saved = option.fastest_ucov - option.safest_ucov
    if saved <= 0 or saved < option.fastest_ucov * MIN_SAVING_SHARE:
        return []
    extra_min = (option.safest_s - option.fastest_s) / 60.0
    return [
        {
            "kind": "safer_route",
            "ucov": round(option.safest_ucov, 3),
            "ucov_saved": round(saved, 3),
            "saved_share": round(saved / option.fastest_ucov, 3),
            "extra_min": round(extra_min, 1),
            "duration_min": round(option.safest_s / 60.0, 1),
            "network": option.network,
            "text_en": f"Take the safer way there: {extra_min:+.0f} min, {saved:.1f} µCoV less on the way "
            f"({option.safest_ucov:.1f} instead of {option.fastest_ucov:.1f}).",
            "text_ko": f"더 안전한 길로 가세요: {extra_min:+.0f}분, 이동 중 노출 {saved:.1f} µCoV 감소 "
            f"({option.fastest_ucov:.1f} → {option.safest_ucov:.1f}).",
            "basis": "route",
        }
    ]


# --- answer ------------------------------------------------------------------------------------------


def _place_json(plan: Plan, resolved: ResolvedPlace | None) -> dict[str, Any] | None:
    if resolved is not None:
        return resolved.to_dict()
    if plan.place is None:
        return None
    return {
        "name": plan.place.label(),
        "lat": plan.place.lat,
        "lon": plan.place.lon,
        "precision": "unknown",
    }


def _base_entry(plan: Plan) -> dict[str, Any]:
    return {
        "title": plan.title,
        "start": isoformat_seoul(plan.start),
        "end": isoformat_seoul(plan.end),
        "all_day": plan.all_day,
        "kind": plan.kind,
        "ref": plan.ref,
    }


def _cannot(plan: Plan, reason: str, place: ResolvedPlace | None = None) -> dict[str, Any]:
    return {
        **_base_entry(plan),
        "place": _place_json(plan, place),
        "status": "cannot_check",
        "reason": reason,
        "ucov": None,
        "level": None,
        "level_ko": None,
        "warning": False,
        "activity": None,
        "drivers": [],
        "alternatives": [],
    }


def _activity_driver(job: _Job) -> dict[str, Any]:
    en, ko = job.preset.describe()
    how = f"keyword {job.matched!r}" if job.matched and job.plan.activity is None else "given"
    if job.matched is None and job.plan.activity is None:
        how = "default"
    minutes = job.activity.duration_min
    return {
        "key": "activity",
        "ucov": None,
        "share": None,
        "reason_en": f"{en}, {minutes:.0f} min (preset {job.preset.key}, {how}).",
        "reason_ko": f"{ko}, {minutes:.0f}분 (기준 활동 {job.preset.name_ko}).",
    }


def _entry(
    job: _Job, result: _Result, alternatives: list[dict[str, Any]], budget_ucov: float
) -> dict[str, Any]:
    band = band_of(result.ucov, budget_ucov=budget_ucov)
    drivers = [*list(result.main.drivers), _activity_driver(job)]
    alternatives.sort(key=lambda a: (-a["ucov_saved"], a["kind"]))
    return {
        **_base_entry(job.plan),
        "start": isoformat_seoul(job.start)
        if job.plan.all_day
        else isoformat_seoul(job.plan.start),
        "place": _place_json(job.plan, job.place),
        "status": "checked",
        "reason": None,
        "ucov": {
            "value": result.ucov,
            "lower": result.lower,
            "upper": result.upper,
            "unit": "µCoV",
        },
        "level": band.key,
        "level_ko": band.name_ko,
        "warning": band.index >= WARNING_FROM_BAND,
        "activity": {
            "preset": job.preset.key,
            "setting": job.activity.setting.value,
            "distance": job.activity.distance.value,
            "voice": job.activity.voice.value,
            "their_mask": job.activity.their_mask.value,
            "your_mask": job.activity.your_mask.value,
            "duration_min": job.activity.duration_min,
            "people": job.people,
        },
        "drivers": drivers,
        "alternatives": alternatives,
        "region": result.main.region.get("name_en")
        if isinstance(result.main.region, Mapping)
        else None,
        "basis": result.main.basis,
    }


def check_plans(
    plans: Sequence[Plan],
    engine: RiskEngine,
    *,
    now: datetime | None = None,
    presets: PresetTable = DEFAULT_TABLE,
    budget_ucov: float | None = None,
    route_planner: RoutePlanner | None = None,
    batched: bool = True,
) -> dict[str, Any]:
    """Check every plan; ``{plans: [...], weeks: [...], budget: {...}}`` in plan order.

    Parameters
    ----------
    plans
        Plans from :mod:`ansim.plans.ical` (one per occurrence).
    engine
        A ``RiskEngine`` (or anything with ``assess``, ``ucov_per_hour``, ``table`` and ``budget_ucov``).
    now
        Plans that ended before ``now`` are not checked ("already over"), and no alternative is
        proposed before ``now``. None: check everything (replaying a past calendar).
    presets
        Activity presets (:func:`ansim.plans.presets.load_presets` to override them).
    budget_ucov
        Yearly budget (default: the engine's, 10,000 µCoV); weekly = yearly / 50.
    route_planner
        Finds the fastest and safest ways to a plan with an origin (:func:`bundled_route_planner`).
    batched
        Screen alternative times with the engine's reference field (fast) instead of assessing
        every candidate (the baseline).

    Raises
    ------
    InputError
        For an unknown activity preset or field, naming the plan.
    """
    yearly = float(
        budget_ucov if budget_ucov is not None else getattr(engine, "budget_ucov", 10_000.0)
    )
    band_of(0.0, budget_ucov=yearly)  # validates the budget
    when_now = as_seoul(now) if now is not None else None
    entries: list[dict[str, Any] | None] = [None] * len(plans)
    jobs: list[tuple[_Job, _Result]] = []
    for i, plan in enumerate(plans):
        job, reason = _prepare(i, plan, engine, presets, when_now)
        if job is None:
            entries[i] = _cannot(plan, reason)
            continue
        try:
            result = _assess(engine, job, job.start)
        except OutOfCoverageError as exc:
            entries[i] = _cannot(plan, exc.reason, job.place)
            continue
        jobs.append((job, result))

    ref: _ReferenceField | None = None
    if batched:
        ref = _ReferenceField(engine)
        for job, result in jobs:
            if _wants_time_advice(result, yearly):
                hours, days = _time_candidates(job, when_now)
                ref.need(job.cells, [job.start, *hours, *days])
        ref.fetch()
    for job, result in jobs:
        warned = band_of(result.ucov, budget_ucov=yearly).index >= WARNING_FROM_BAND
        alternatives = _engine_alternatives(job, result)
        if _wants_time_advice(result, yearly):
            alternatives += _time_alternatives(job, result, engine, when_now, ref, confirm=warned)
        alternatives += _route_alternative(job, route_planner)
        entries[job.index] = _entry(job, result, alternatives, yearly)
    checked = [e for e in entries if e is not None]
    return {
        "plans": checked,
        "weeks": weekly_totals(checked, yearly_budget_ucov=yearly),
        "budget": {
            "yearly_ucov": yearly,
            "weekly_ucov": yearly / 50.0,
            "levels": [b.key for b in BANDS],
            "warning_from": BANDS[WARNING_FROM_BAND].key,
        },
    }


# --- routes over the bundled networks ----------------------------------------------------------------


def bundled_route_planner(
    engine: RiskEngine,
    *,
    networks: Sequence[str] = ("central", "yongsan"),
    profile: str = "walk",
) -> RoutePlanner:
    """A :data:`RoutePlanner` over the bundled street networks (loaded on first use).

    The first network whose bounding box holds both ends is used; elsewhere the answer is None
    (no safer-route alternative).
    """
    from ansim.routing.network import load_network
    from ansim.routing.planner import Routers, plan_routes

    loaded: dict[str, tuple[Any, Any]] = {}
    cache: dict[tuple[Any, ...], RouteOption | None] = {}

    def network(name: str) -> tuple[Any, Any]:
        if name not in loaded:
            net = load_network(name, profile)  # type: ignore[arg-type]
            loaded[name] = (net, Routers.cch(net))
        return loaded[name]

    def planner(
        origin: tuple[float, float], destination: tuple[float, float], depart: datetime
    ) -> RouteOption | None:
        key = (origin, destination, as_seoul(depart).replace(minute=0, second=0, microsecond=0))
        if key in cache:
            return cache[key]
        answer = None
        for name in networks:
            net, routers = network(name)
            west, south, east, north = net.bbox
            if not all(
                south <= lat <= north and west <= lon <= east for lat, lon in (origin, destination)
            ):
                continue
            try:
                plan = plan_routes(
                    net,
                    routers,
                    engine,
                    origin,
                    destination,
                    depart,
                    objectives=("fastest", "safest"),
                )
            except InputError:
                continue
            by = {o: a for a in plan.alternatives for o in a.objectives}
            fast, safe = by.get("fastest"), by.get("safest")
            if fast is None or safe is None:
                continue
            answer = RouteOption(
                fast.duration_s, fast.exposure_ucov, safe.duration_s, safe.exposure_ucov, name
            )
            break
        cache[key] = answer
        return answer

    return planner
