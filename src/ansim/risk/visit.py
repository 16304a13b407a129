"""Visit infection risk, compatible with the microCOVID calculator (risk-models.md §1.2-1.5).

µCoV of a visit = (µCoV that one other person is infectious) × people × (chance of catching it from
an infectious person during the activity). With the delta constant (0.14 per hour) and microCOVID's
own inputs, every function here returns microCOVID's numbers (see ``tests/risk/test_visit.py``).

Beyond microCOVID: Korean mask classes (KF94 → ``n95`` unsealed, KF80 → ``surgical``), a per-hour
constant chosen by the Korean variant era of a date, a non-integer expected crowd (the crowd layer's
estimate when a person does not know how many people will be there), an optional Wells-Riley
ventilation multiplier, and a vectorised form for whole grids of cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from ansim.errors import InputError

ONE_MILLION = 1e6
"""µCoV in a certain infection."""
MAX_POINTS = 100_000.0
"""Above this many µCoV the additive form is replaced by the product form 1 - (1 - p)^n."""
ERROR_FACTOR = 3.0
"""microCOVID's uncertainty: lower = expected / 3, upper = expected × 3."""
INTIMATE_DURATION_FLOOR_MIN = 20.0
"""Intimate contact counts at least 20 minutes, however short."""


class Setting(StrEnum):
    """Where the visit happens (microCOVID's ``Setting``)."""

    INDOOR = "indoor"
    OUTDOOR = "outdoor"
    TRANSIT = "transit"
    FILTERED = "filtered"
    PLANE = "plane"
    CAR_WINDOWS_DOWN = "car-windows-down"
    PARTIALLY_ENCLOSED = "partially-enclosed"


class Distance(StrEnum):
    """How close the others are: intimate (kissing), close (< 1 m), normal (≈ 1 m), 2 m, 3 m."""

    INTIMATE = "intimate"
    CLOSE = "close"
    NORMAL = "normal"
    TWO_M = "2m"
    THREE_M = "3m"


class Voice(StrEnum):
    """How much the others talk."""

    SILENT = "silent"
    NORMAL = "normal"
    LOUD = "loud"


class Mask(StrEnum):
    """A mask class; ``kf94`` and ``kf80`` are Korean classes mapped onto microCOVID's (see ``KF_MAPPING``)."""

    NONE = "none"
    THIN = "thin"
    BASIC = "basic"
    SURGICAL = "surgical"
    FILTERED = "filtered"
    KF80 = "kf80"
    KF94 = "kf94"
    N95 = "n95"
    N95_SEALED = "n95-sealed"
    P100 = "p100"


class Interaction(StrEnum):
    """Kind of contact: a one-time visit, a workplace (per hour, like one-time), a housemate or a partner (per week)."""

    ONE_TIME = "one-time"
    WORKPLACE = "workplace"
    REPEATED = "repeated"
    PARTNER = "partner"


class Variant(StrEnum):
    """Variant era; it sets the per-hour constant (and the housemate/partner weekly constants)."""

    WILD = "wild"
    ALPHA = "alpha"
    DELTA = "delta"
    OMICRON = "omicron"


class RiskProfile(StrEnum):
    """Who the other people are (microCOVID's person-risk profiles)."""

    AVERAGE = "average"
    LIVING_ALONE = "living-alone"
    LIVING_WITH_PARTNER = "living-with-partner"
    CLOSED_POD_4 = "closed-pod-4"
    CLOSED_POD_10 = "closed-pod-10"
    CLOSED_POD_20 = "closed-pod-20"
    CONTACT_1 = "contact-1"
    CONTACT_4 = "contact-4"
    CONTACT_10 = "contact-10"
    CONTACT_WORKS = "contact-works"
    BARS = "bars"
    HAS_COVID = "has-covid"
    ONE_PERCENT = "one-percent"
    DECI_PERCENT = "deci-percent"


class SymptomsChecked(StrEnum):
    """Whether the others were checked for symptoms (today, or today and three days without contacts)."""

    NO = "no"
    YES = "yes"
    YES_THREE_DAYS = "yes-three-days"


class TheirVaccine(StrEnum):
    """Vaccination status of the other people."""

    UNKNOWN = "unknown"
    VACCINATED = "vaccinated"
    UNVACCINATED = "unvaccinated"


# --- multiplier tables (values from microCOVID data.ts, snapshot 8ecaf11) ---------------------------

SETTING_MULT: dict[Setting, float] = {
    Setting.INDOOR: 1.0,
    Setting.OUTDOOR: 0.05,
    Setting.TRANSIT: 0.25,
    Setting.FILTERED: 0.25,
    Setting.PLANE: 1 / 6,
    Setting.CAR_WINDOWS_DOWN: 0.25,
    Setting.PARTIALLY_ENCLOSED: 0.25,
}
DISTANCE_MULT: dict[Distance, float] = {
    Distance.INTIMATE: 5.0,
    Distance.CLOSE: 2.0,
    Distance.NORMAL: 1.0,
    Distance.TWO_M: 0.5,
    Distance.THREE_M: 0.25,
}
VOICE_MULT: dict[Voice, float] = {Voice.SILENT: 0.2, Voice.NORMAL: 1.0, Voice.LOUD: 5.0}

KF_MAPPING: dict[Mask, Mask] = {Mask.KF94: Mask.N95, Mask.KF80: Mask.SURGICAL}
"""Our mapping of Korean mask classes onto microCOVID's (not microCOVID's own): a KF94 filters ≥ 94 %
like an N95 but is worn without a fit test, so it is an *unsealed* N95; a KF80 (and KF-AD) filters
≥ 80 % and is taken as a surgical/filtered mask."""

_THEIR_MASK_BASE: dict[Mask, float] = {
    Mask.NONE: 1.0,
    Mask.THIN: 1 / 2,
    Mask.BASIC: 1 / 3,
    Mask.SURGICAL: 1 / 4,
    Mask.FILTERED: 1 / 4,  # microCOVID's "filtered" cloth mask with a filter insert
    Mask.N95: 1 / 6,
    Mask.N95_SEALED: 1 / 16,
    Mask.P100: 1 / 3,  # exhalation valve: little source control
}
_YOUR_MASK_BASE: dict[Mask, float] = {
    Mask.NONE: 1.0,
    Mask.THIN: 1.0,
    Mask.BASIC: 2 / 3,
    Mask.SURGICAL: 1 / 2,
    Mask.FILTERED: 1 / 2,
    Mask.N95: 1 / 3,
    Mask.N95_SEALED: 1 / 8,
    Mask.P100: 1 / 20,
}
THEIR_MASK_MULT: dict[Mask, float] = {m: _THEIR_MASK_BASE[KF_MAPPING.get(m, m)] for m in Mask}
YOUR_MASK_MULT: dict[Mask, float] = {m: _YOUR_MASK_BASE[KF_MAPPING.get(m, m)] for m in Mask}


@dataclass(frozen=True, slots=True)
class EraConstants:
    """microCOVID's core constants of one variant era (git history of data.ts)."""

    one_time_per_h: float
    housemate_per_week: float
    partner_per_week: float


ERA_CONSTANTS: dict[Variant, EraConstants] = {
    Variant.WILD: EraConstants(0.06, 0.30, 0.48),
    Variant.ALPHA: EraConstants(0.09, 0.30, 0.48),
    Variant.DELTA: EraConstants(0.14, 0.40, 0.60),
    Variant.OMICRON: EraConstants(0.14, 0.40, 0.60),
}

VARIANT_ERA_STARTS: tuple[tuple[date, Variant], ...] = (
    (date(2021, 1, 1), Variant.ALPHA),
    (date(2021, 7, 1), Variant.DELTA),
    (date(2022, 1, 16), Variant.OMICRON),
)
"""Korean era boundaries (first day of each era; before the first: wild type). Documented in docs/risk.md."""


def variant_on(day: date) -> Variant:
    """The variant era in force in Korea on ``day`` (see ``VARIANT_ERA_STARTS``)."""
    era = Variant.WILD
    for start, variant in VARIANT_ERA_STARTS:
        if day >= start:
            era = variant
    return era


# Your-vaccine multipliers by number of doses (Omicron-era table, microCOVID PR #1286, Jan 2022).
YOUR_VACCINE_MULT: dict[str, tuple[float, ...]] = {
    "pfizer": (1.0, 1.0, 0.8, 0.25),
    "moderna": (1.0, 1.0, 0.8, 0.25),
    "sputnik": (1.0, 1.0, 0.8, 0.25),
    "astrazeneca": (1.0, 1.0, 1.0, 0.3),
    "unknown": (1.0, 1.0, 1.0, 0.3),
    "johnson": (1.0, 0.95),  # one-dose vaccine (microCOVID test: 1 dose → 0.95)
}


def your_vaccine_multiplier(vaccine: str | None, doses: int) -> float:
    """Multiplier on your chance of catching it, by vaccine and doses (1.0 without a vaccine).

    Raises
    ------
    InputError
        For an unknown vaccine or a dose count the table does not have.
    """
    if vaccine is None or vaccine == "" or doses == 0:
        return 1.0
    table = YOUR_VACCINE_MULT.get(vaccine.lower().replace("-", "").replace("_", ""))
    if table is None:
        raise InputError(
            f"unknown vaccine {vaccine!r}; one of {', '.join(YOUR_VACCINE_MULT)}",
            field="your_vaccine",
        )
    if not 0 <= doses < len(table):
        raise InputError(
            f"{vaccine} has a multiplier for 0-{len(table) - 1} doses, not {doses}",
            field="your_vaccine_doses",
        )
    return table[doses]


E = TypeVar("E", bound=StrEnum)


def parse_choice(enum: type[E], value: object, field: str) -> E:
    """Turn a string (or an enum member) into ``enum``; unknown values raise ``InputError`` naming ``field``."""
    if isinstance(value, enum):
        return value
    text = str(value).strip().lower().replace("_", "-")
    try:
        return enum(text)
    except ValueError:
        choices = "|".join(m.value for m in enum)
        raise InputError(f"unknown value {value!r}; one of {choices}", field=field) from None


@dataclass(frozen=True, slots=True)
class Activity:
    """What a person does: the microCOVID activity inputs, validated.

    Strings are accepted for every choice (``Activity(setting="indoor", …)``) and turned into the enums;
    an unknown value raises ``InputError`` naming the field. ``duration_min`` is the time spent (minutes;
    ignored for housemate/partner interactions, which are per week).
    """

    setting: Setting = Setting.INDOOR
    distance: Distance = Distance.NORMAL
    voice: Voice = Voice.NORMAL
    their_mask: Mask = Mask.NONE
    your_mask: Mask = Mask.NONE
    duration_min: float = 60.0
    interaction: Interaction = Interaction.ONE_TIME

    def __post_init__(self) -> None:
        # Frozen dataclass: coerce through object.__setattr__ so callers may pass plain strings.
        for name, enum in (
            ("setting", Setting),
            ("distance", Distance),
            ("voice", Voice),
            ("their_mask", Mask),
            ("your_mask", Mask),
            ("interaction", Interaction),
        ):
            object.__setattr__(self, name, parse_choice(enum, getattr(self, name), name))
        try:
            duration = float(self.duration_min)
        except (TypeError, ValueError):
            raise InputError(f"not a number: {self.duration_min!r}", field="duration_min") from None
        if not math.isfinite(duration) or duration < 0:
            raise InputError(
                f"must be a finite number of minutes >= 0, got {self.duration_min!r}",
                field="duration_min",
            )
        object.__setattr__(self, "duration_min", duration)

    @classmethod
    def parse(
        cls,
        *,
        setting: str | Setting = Setting.INDOOR,
        distance: str | Distance = Distance.NORMAL,
        voice: str | Voice = Voice.NORMAL,
        their_mask: str | Mask = Mask.NONE,
        your_mask: str | Mask = Mask.NONE,
        duration_min: float = 60.0,
        interaction: str | Interaction = Interaction.ONE_TIME,
    ) -> Activity:
        """Build from strings (CLI options, JSON fields); unknown values raise ``InputError`` naming the field."""
        return cls(
            setting=parse_choice(Setting, setting, "setting"),
            distance=parse_choice(Distance, distance, "distance"),
            voice=parse_choice(Voice, voice, "voice"),
            their_mask=parse_choice(Mask, their_mask, "their_mask"),
            your_mask=parse_choice(Mask, your_mask, "your_mask"),
            duration_min=duration_min,
            interaction=parse_choice(Interaction, interaction, "interaction"),
        )


REFERENCE_ACTIVITY = Activity()
"""The documented reference visit: one hour indoors, normal distance and voice, no masks, one-time."""


def activity_risk(
    activity: Activity,
    *,
    variant: Variant = Variant.DELTA,
    your_vaccine_mult: float = 1.0,
    ventilation_mult: float = 1.0,
) -> float:
    """Chance of catching it from one infectious person during ``activity`` (0 … 0.6 × vaccine).

    microCOVID's ``calculateActivityRisk``: housemate and partner interactions are weekly constants
    that ignore every modifier; otherwise per-hour constant × distance × (setting, voice, masks,
    unless intimate) × hours, capped at the partner constant, then × your vaccine multiplier.
    ``ventilation_mult`` (Wells-Riley, 1.0 = the reference room) multiplies before the cap;
    it is ours, not microCOVID's, and skipped for intimate contact, where air does not matter.
    """
    era = ERA_CONSTANTS[variant]
    if activity.interaction is Interaction.PARTNER:
        return era.partner_per_week * your_vaccine_mult
    if activity.interaction is Interaction.REPEATED:
        return era.housemate_per_week * your_vaccine_mult
    m = era.one_time_per_h * DISTANCE_MULT[activity.distance]
    duration = activity.duration_min
    if activity.distance is Distance.INTIMATE:
        duration = max(duration, INTIMATE_DURATION_FLOOR_MIN)
    else:
        if activity.distance is not Distance.CLOSE:  # close contact gets no outdoor bonus
            m *= SETTING_MULT[activity.setting]
        m *= VOICE_MULT[activity.voice]
        m *= THEIR_MASK_MULT[activity.their_mask] * YOUR_MASK_MULT[activity.your_mask]
        m *= ventilation_mult
    m *= duration / 60.0
    m = min(m, era.partner_per_week)
    return m * your_vaccine_mult


def living_alone_multiplier(variant: Variant = Variant.DELTA) -> float:
    """microCOVID's "lives alone, only shops": ten silent, 2 m distant, basic-masked people, you in a
    surgical mask, indoors for one hour a week."""
    return (
        10
        * VOICE_MULT[Voice.SILENT]
        * DISTANCE_MULT[Distance.TWO_M]
        * THEIR_MASK_MULT[Mask.BASIC]
        * YOUR_MASK_MULT[Mask.SURGICAL]
        * ERA_CONSTANTS[variant].one_time_per_h
        * SETTING_MULT[Setting.INDOOR]
    )


_HEALTHCARE_MULT = 2.0
# profile -> (personal multiplier as a function of the living-alone value, housemates, other contacts, contact multiplier key)
_PROFILE_SHAPE: dict[RiskProfile, tuple[int, int, str]] = {
    RiskProfile.LIVING_ALONE: (0, 0, "none"),
    RiskProfile.LIVING_WITH_PARTNER: (1, 0, "alone"),
    RiskProfile.CLOSED_POD_4: (3, 0, "alone"),
    RiskProfile.CLOSED_POD_10: (9, 0, "alone"),
    RiskProfile.CLOSED_POD_20: (19, 0, "alone"),
    RiskProfile.CONTACT_1: (0, 1, "one"),
    RiskProfile.CONTACT_4: (0, 3, "one"),
    RiskProfile.CONTACT_10: (0, 9, "one"),
    RiskProfile.CONTACT_WORKS: (0, 1, "healthcare"),
}
FIXED_PROFILE_UCOV: dict[RiskProfile, float] = {
    RiskProfile.HAS_COVID: ONE_MILLION,
    RiskProfile.ONE_PERCENT: ONE_MILLION * 0.01 / 50,
    RiskProfile.DECI_PERCENT: ONE_MILLION * 0.001 / 50,
}
"""Profiles whose risk does not depend on local prevalence (nor on vaccination)."""


def person_risk_multiplier(
    profile: RiskProfile,
    *,
    is_housemate: bool = False,
    symptoms_checked: SymptomsChecked = SymptomsChecked.NO,
    variant: Variant = Variant.DELTA,
) -> float:
    """microCOVID's ``personRiskMultiplier``: how much riskier than an average person this profile is."""
    era = ERA_CONSTANTS[variant]
    symptom_free = 1.0 if symptoms_checked is SymptomsChecked.NO else 0.5
    contact_symptom_free = (
        1 / 7 if symptoms_checked is SymptomsChecked.YES_THREE_DAYS else symptom_free
    )
    if profile is RiskProfile.AVERAGE:
        return 1.0 * symptom_free
    if profile is RiskProfile.BARS:
        # six hours indoors with a dozen unmasked loud talkers: 2 near you, 10 at 2 m
        personal = (
            6
            * era.one_time_per_h
            * (2 + 10 * DISTANCE_MULT[Distance.TWO_M] * VOICE_MULT[Voice.LOUD])
        )
        return personal * symptom_free
    if profile in FIXED_PROFILE_UCOV:
        msg = f"profile {profile.value} has a fixed risk, not a multiplier"
        raise InputError(msg, field="profile")
    alone = living_alone_multiplier(variant)
    housemates, contacts, contact_key = _PROFILE_SHAPE[profile]
    contact_mult = {"none": 0.0, "alone": alone, "one": 1.0, "healthcare": _HEALTHCARE_MULT}[
        contact_key
    ]
    housemates_risk = symptom_free * max(0, housemates - int(is_housemate)) * contact_mult
    others_risk = contact_symptom_free * contacts * contact_mult
    from_contacts = (housemates_risk + others_risk) * era.housemate_per_week
    return (alone + from_contacts) * symptom_free


@dataclass(frozen=True, slots=True)
class TheirVaccination:
    """Local vaccination data for microCOVID's their-vaccine adjustment.

    ``percent_fully_vaccinated`` (0-100), ``fully_vaccinated_mult`` (v: relative risk of a vaccinated
    person being infectious), and optionally ``unvaccinated_prevalence_ratio`` (upr); without it
    upr = 1 / (v·f + (1 − f)).
    """

    percent_fully_vaccinated: float
    fully_vaccinated_mult: float
    unvaccinated_prevalence_ratio: float | None = None

    def upr(self) -> float:
        """Prevalence among the unvaccinated relative to everyone."""
        if self.unvaccinated_prevalence_ratio is not None:
            return self.unvaccinated_prevalence_ratio
        f = self.percent_fully_vaccinated / 100
        return 1 / (self.fully_vaccinated_mult * f + (1 - f))


def person_risk_each_ucov(
    *,
    average_person_ucov: float,
    profile: RiskProfile | str = RiskProfile.AVERAGE,
    interaction: Interaction | str = Interaction.ONE_TIME,
    symptoms_checked: SymptomsChecked | str = SymptomsChecked.NO,
    their_vaccine: TheirVaccine | str = TheirVaccine.UNKNOWN,
    vaccination: TheirVaccination | None = None,
    variant: Variant | str = Variant.DELTA,
) -> float:
    """µCoV that one other person of ``profile`` is infectious (microCOVID ``calculatePersonRiskEach``).

    Fixed profiles (has-covid, one-percent, deci-percent) ignore prevalence and vaccination.
    The their-vaccine adjustment applies only when ``vaccination`` is given.
    """
    profile = parse_choice(RiskProfile, profile, "profile")
    interaction = parse_choice(Interaction, interaction, "interaction")
    symptoms = parse_choice(SymptomsChecked, symptoms_checked, "symptoms_checked")
    vaccine = parse_choice(TheirVaccine, their_vaccine, "their_vaccine")
    variant = parse_choice(Variant, variant, "variant")
    if profile in FIXED_PROFILE_UCOV:
        return FIXED_PROFILE_UCOV[profile]
    is_housemate = interaction in (Interaction.PARTNER, Interaction.REPEATED)
    risk = average_person_ucov * person_risk_multiplier(
        profile, is_housemate=is_housemate, symptoms_checked=symptoms, variant=variant
    )
    if vaccination is None:
        return risk
    upr = vaccination.upr()
    v = vaccination.fully_vaccinated_mult
    if profile is RiskProfile.AVERAGE:
        # prevalence among the (un)vaccinated differs from the average the profile stands for
        return risk * {TheirVaccine.VACCINATED: upr * v, TheirVaccine.UNVACCINATED: upr}.get(
            vaccine, 1.0
        )
    # other profiles describe behaviour of an unvaccinated person; unknown status averages over both
    return risk * {TheirVaccine.VACCINATED: v, TheirVaccine.UNVACCINATED: 1.0}.get(vaccine, 1 / upr)


@dataclass(frozen=True, slots=True)
class VisitRisk:
    """Result of a visit: expected µCoV with microCOVID's ÷3/×3 bounds, and the factors behind it."""

    ucov: float
    lower: float
    upper: float
    person_risk_ucov: float
    people: float
    activity_risk: float
    variant: Variant

    @property
    def probability(self) -> float:
        """Chance of infection (µCoV / 1e6)."""
        return self.ucov / ONE_MILLION


def combine_ucov(
    person_risk_ucov: float, people: float, activity_risk_value: float
) -> tuple[float, float, float]:
    """(expected, lower, upper) µCoV from person risk × people × activity risk (microCOVID ``calculate``).

    Below 100,000 µCoV the naive product; above it the chance that at least one of ``people``
    infects you, 1 − (1 − p)^n, with p/3 and min(1, 3p) for the bounds.
    """
    naive = person_risk_ucov * people * activity_risk_value
    if naive < MAX_POINTS:
        return naive, naive / ERROR_FACTOR, naive * ERROR_FACTOR
    p = person_risk_ucov * activity_risk_value / ONE_MILLION
    expected = (1 - (1 - p) ** people) * ONE_MILLION
    lower = (1 - (1 - p / ERROR_FACTOR) ** people) * ONE_MILLION
    upper = (1 - (1 - min(1.0, p * ERROR_FACTOR)) ** people) * ONE_MILLION
    return expected, lower, upper


def combine_ucov_array(
    person_risk_ucov: npt.ArrayLike,
    people: npt.ArrayLike,
    activity_risk_value: npt.ArrayLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised ``combine_ucov`` over broadcastable arrays (for example one value per H3 cell)."""
    pr, n, ar = np.broadcast_arrays(
        np.asarray(person_risk_ucov, dtype=float),
        np.asarray(people, dtype=float),
        np.asarray(activity_risk_value, dtype=float),
    )
    expected = pr * n * ar
    lower = expected / ERROR_FACTOR
    upper = expected * ERROR_FACTOR
    big = np.flatnonzero(expected >= MAX_POINTS)
    if big.size:
        # product form only where needed; log1p/expm1 keep 1 − (1 − p)^n exact for small p
        nb = n.ravel()[big]
        p = np.minimum(pr.ravel()[big] * ar.ravel()[big] / ONE_MILLION, 1.0)
        with np.errstate(divide="ignore"):
            expected.ravel()[big] = -np.expm1(nb * np.log1p(-p)) * ONE_MILLION
            lower.ravel()[big] = -np.expm1(nb * np.log1p(-p / ERROR_FACTOR)) * ONE_MILLION
            upper.ravel()[big] = (
                -np.expm1(nb * np.log1p(-np.minimum(1.0, p * ERROR_FACTOR))) * ONE_MILLION
            )
    return expected, lower, upper


def resolve_people(people: float | None, expected_people: float | None) -> float:
    """The number of other people: the person's count, else the crowd layer's expectation.

    Raises
    ------
    InputError
        When neither is given, or the count is negative or not finite.
    """
    value = people if people is not None else expected_people
    field = "people" if people is not None else "expected_people"
    if value is None:
        raise InputError(
            "give the number of other people, or an expected count from the crowd layer",
            field="people",
        )
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise InputError(f"must be a finite count >= 0, got {value!r}", field=field)
    return value


def visit_risk(
    activity: Activity,
    *,
    person_risk_ucov: float,
    people: float | None = None,
    expected_people: float | None = None,
    variant: Variant | str | None = None,
    on: date | None = None,
    your_vaccine_mult: float = 1.0,
    ventilation_mult: float = 1.0,
) -> VisitRisk:
    """µCoV of one visit: ``person_risk_ucov`` (each other person) × people × activity risk.

    Parameters
    ----------
    activity
        The validated activity.
    person_risk_ucov
        µCoV that one other person is infectious (``prevalence.person_risk_ucov`` for an average
        person, ``person_risk_each_ucov`` for a profile, 1e6 for someone who has COVID).
    people, expected_people
        Other people present: the person's own count, or the crowd layer's expectation (may be fractional).
    variant, on
        The era constant: explicit ``variant``, else the era of date ``on``, else delta (microCOVID today).
    your_vaccine_mult
        From ``your_vaccine_multiplier``; applied after the 0.6 cap, as microCOVID does.
    ventilation_mult
        From ``ventilation_multiplier`` (Wells-Riley), 1.0 for the reference room.
    """
    n = resolve_people(people, expected_people)
    if not math.isfinite(person_risk_ucov) or person_risk_ucov < 0:
        raise InputError(
            f"must be a finite µCoV >= 0, got {person_risk_ucov!r}", field="person_risk_ucov"
        )
    if variant is not None:
        era = parse_choice(Variant, variant, "variant")
    elif on is not None:
        era = variant_on(on)
    else:
        era = Variant.DELTA
    risk = activity_risk(
        activity,
        variant=era,
        your_vaccine_mult=your_vaccine_mult,
        ventilation_mult=ventilation_mult,
    )
    expected, lower, upper = combine_ucov(person_risk_ucov, n, risk)
    return VisitRisk(expected, lower, upper, person_risk_ucov, n, risk, era)


# --- Wells-Riley ventilation (risk-models.md §3.1) ---------------------------------------------------

REFERENCE_ROOM_ACH = 1.0
"""Air changes per hour of the reference room that microCOVID's ``indoor`` stands for (our choice:
with it, a HEPA room at 5 extra ACH tends to (1 + 0.92)/(6 + 0.92) ≈ 0.28 of the reference for long
stays, close to microCOVID's ``filtered`` = 0.25)."""
REFERENCE_ROOM_VOLUME_M3 = 100.0
"""Reference room volume (≈ 40 m² × 2.5 m)."""


def wells_riley_probability(
    *,
    ach: float,
    volume_m3: float,
    duration_h: float,
    quanta_per_h: float = 25.0,
    breathing_m3_per_h: float = 0.54,
    decay_per_h: float = 0.62,
    deposition_per_h: float = 0.3,
    extra_removal_per_h: float = 0.0,
) -> float:
    """Chance one susceptible is infected in a well-mixed room with one infector present from t = 0.

    Box model of the Jimenez-Peng estimator: λ = ACH + decay + deposition + extra (HEPA/UV, h⁻¹);
    mean concentration C̄ = q / (λV) · [1 − (1 − e^(−λD)) / (λD)]; inhaled quanta n = C̄·B·D;
    P = 1 − e^(−n). Masks are left to the microCOVID multipliers.
    """
    values = {
        "ach": ach,
        "volume_m3": volume_m3,
        "duration_h": duration_h,
        "quanta_per_h": quanta_per_h,
        "breathing_m3_per_h": breathing_m3_per_h,
    }
    for name, value in values.items():
        if not math.isfinite(value) or value < 0 or (name == "volume_m3" and value == 0):
            raise InputError(f"must be a finite number > 0, got {value!r}", field=name)
    if duration_h == 0:
        return 0.0
    lam = ach + decay_per_h + deposition_per_h + extra_removal_per_h
    lam_d = lam * duration_h
    mean_conc = quanta_per_h / (lam * volume_m3) * (1 - (-math.expm1(-lam_d)) / lam_d)
    inhaled = mean_conc * breathing_m3_per_h * duration_h
    return -math.expm1(-inhaled)


def ventilation_multiplier(
    *,
    ach: float,
    volume_m3: float,
    duration_min: float,
    quanta_per_h: float = 25.0,
    extra_removal_per_h: float = 0.0,
    reference_ach: float = REFERENCE_ROOM_ACH,
    reference_volume_m3: float = REFERENCE_ROOM_VOLUME_M3,
) -> float:
    """Wells-Riley risk in this room relative to the reference room, same stay and emitter.

    A multiplier on microCOVID's activity risk for indoor settings: > 1 for small or stuffy rooms,
    < 1 for large or well-ventilated ones. It models the far field only; microCOVID's distance
    factor keeps the near field.
    """
    duration_h = duration_min / 60.0
    if duration_h <= 0:
        return 1.0
    here = wells_riley_probability(
        ach=ach,
        volume_m3=volume_m3,
        duration_h=duration_h,
        quanta_per_h=quanta_per_h,
        extra_removal_per_h=extra_removal_per_h,
    )
    reference = wells_riley_probability(
        ach=reference_ach,
        volume_m3=reference_volume_m3,
        duration_h=duration_h,
        quanta_per_h=quanta_per_h,
    )
    return here / reference
