"""Plan subscriptions: the kept plans document, its re-check when the risk changes, the warnings.

Checking plans keeps nothing (:func:`ansim.plans.check.check_plans`). A person who subscribes asks
Ansim to keep their plans and warn them ahead; this module holds the pure part of that:

- :func:`make_document` turns what was sent (JSON plans and usual routes, or an iCalendar text) into
  the document that is stored, encrypted, by the API (``ansim.api.plan_subscriptions``). It keeps
  the source as it was sent plus the window used to expand recurring events and routes, so every
  re-check expands the same occurrences in the same order (a plan's ``index`` stays its index);
- :func:`plan_levels` is the quick pass run for every subscription on every risk update: the
  µCoV and band of each plan that is still ahead, nothing else (no alternatives);
- :func:`plans_to_warn` compares two passes (old engine, new engine) against the threshold;
- :func:`warning_payload` builds the push warning from a full check, and :func:`seal` /
  :func:`unseal` split it into what may be stored in clear (ids, levels, counts) and a Fernet token
  holding the rest (titles, places, times, drivers, alternatives), opened only on the way out to
  the subscriber (SSE or webhook).

No function here logs, and nothing here touches the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.fernet import MultiFernet

from ansim.errors import InputError, OutOfCoverageError
from ansim.plans.check import _assess, _prepare
from ansim.plans.ical import Window, plans_from_document, read_ics
from ansim.plans.model import Plan
from ansim.plans.presets import DEFAULT_TABLE
from ansim.plans.vault import decrypt_plans, encrypt_plans
from ansim.risk.levels import BANDS, band_of
from ansim.timeutil import as_seoul, isoformat_seoul, parse_datetime

if TYPE_CHECKING:
    from ansim.risk.engine import RiskEngine

LEVEL_KEYS = tuple(b.key for b in BANDS)
MAX_PLANS = 500
"""At most this many occurrences per subscription (the same cap as ``POST /v1/itinerary``)."""
WARNING_TYPE = "plan_warning"
TOP_DRIVERS = 3
TOP_ALTERNATIVES = 3
SOURCE = "subscription"


# --- the stored document -------------------------------------------------------------------------


def _window_json(window: Window) -> list[str]:
    return [isoformat_seoul(window[0]), isoformat_seoul(window[1])]


def parse_document(document: dict[str, Any]) -> list[Plan]:
    """The plans of a stored document (one per occurrence, in the order of the first parse)."""
    window_raw = document.get("window")
    window: Window | None = None
    if window_raw:
        window = (
            as_seoul(parse_datetime(window_raw[0])),
            as_seoul(parse_datetime(window_raw[1])),
        )
    if document.get("format") == "ics":
        plans, _ = read_ics(str(document["body"]), source=SOURCE, window=window)
    else:
        plans, _ = plans_from_document(document["body"], source=SOURCE, window=window)
    return plans


def make_document(
    *,
    plans: Sequence[dict[str, Any]] = (),
    routes: Sequence[dict[str, Any]] = (),
    ics: str | None = None,
) -> tuple[dict[str, Any], list[Plan]]:
    """The document to store for a subscription, and its plans (parsed once here to validate it).

    Raises
    ------
    InputError
        For unreadable plans, no plan at all, or more than :data:`MAX_PLANS` occurrences.
    """
    if ics is not None and (plans or routes):
        raise InputError("send either an iCalendar text or JSON plans, not both", field="ics")
    if ics is not None:
        parsed, window = read_ics(ics, source=SOURCE)
        document: dict[str, Any] = {"format": "ics", "body": ics}
    else:
        body = {"plans": list(plans), "routes": list(routes)}
        parsed, window = plans_from_document(body, source=SOURCE)
        document = {"format": "json", "body": body}
    if not parsed:
        raise InputError("no plan to keep: the subscription would never warn", field="plans")
    if len(parsed) > MAX_PLANS:
        raise InputError(
            f"{len(parsed)} occurrences; a subscription keeps at most {MAX_PLANS}", field="plans"
        )
    document["window"] = _window_json(window)
    return document, parsed


def encrypt_document(document: dict[str, Any], cipher: MultiFernet) -> str:
    """The Fernet token (text) stored in ``subscriptions.plans_encrypted``."""
    return encrypt_plans(document, cipher=cipher).decode("ascii")


def decrypt_document(token: str, cipher: MultiFernet) -> dict[str, Any]:
    """The document of a stored token (``InputError`` when the key cannot open it)."""
    document: dict[str, Any] = decrypt_plans(token.encode("ascii"), cipher=cipher)
    return document


# --- the quick pass and the comparison -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanLevel:
    """A plan still ahead, as the engine sees it now."""

    ucov: float
    band: int


def plan_levels(
    plans: Sequence[Plan], engine: RiskEngine, *, now: datetime
) -> list[PlanLevel | None]:
    """µCoV and band of each plan whose time is still ahead of ``now``; None for the others.

    None also for plans that cannot be checked (no place, outside coverage, …). This is the pass run
    for every subscription on every update, so it assesses the plan itself only (no alternatives).
    """
    when = as_seoul(now)
    budget = float(getattr(engine, "budget_ucov", 10_000.0))
    out: list[PlanLevel | None] = []
    for i, plan in enumerate(plans):
        job, _reason = _prepare(i, plan, engine, DEFAULT_TABLE, when)
        if job is None or job.start <= when:
            out.append(None)
            continue
        try:
            result = _assess(engine, job, job.start)
        except OutOfCoverageError:
            out.append(None)
            continue
        out.append(PlanLevel(result.ucov, band_of(result.ucov, budget_ucov=budget).index))
    return out


def plans_to_warn(
    before: Sequence[PlanLevel | None] | None,
    after: Sequence[PlanLevel | None],
    *,
    threshold: str,
) -> list[int]:
    """Indices of plans whose level reached the threshold, or rose while at or above it.

    ``before`` None (a new subscription): every plan already at or above the threshold.
    A plan that could not be checked before (e.g. beyond the forecast horizon) and now can is
    compared with nothing, as on subscribing.
    """
    limit = LEVEL_KEYS.index(threshold)
    out = []
    for i, now_level in enumerate(after):
        if now_level is None or now_level.band < limit:
            continue
        was = before[i] if before is not None and i < len(before) else None
        if was is None or was.band < limit or now_level.band > was.band:
            out.append(i)
    return out


# --- the warning -----------------------------------------------------------------------------------


def _warned_plan(
    index: int, entry: dict[str, Any], was: PlanLevel | None, now: datetime
) -> dict[str, Any]:
    start = as_seoul(parse_datetime(entry["start"]))
    place = entry.get("place") or {}
    return {
        "index": index,
        "ref": entry["ref"],
        "title": entry["title"],
        "kind": entry["kind"],
        "start": entry["start"],
        "end": entry["end"],
        "hours_before": round((start - as_seoul(now)).total_seconds() / 3600.0, 1),
        "place": {"name": place.get("name")},
        "level": entry["level"],
        "level_ko": entry["level_ko"],
        "previous_level": LEVEL_KEYS[was.band] if was is not None else None,
        "ucov": entry["ucov"],
        "previous_ucov": round(was.ucov, 3) if was is not None else None,
        "drivers": entry["drivers"][:TOP_DRIVERS],
        "alternatives": entry["alternatives"][:TOP_ALTERNATIVES],
    }


def warning_payload(
    *,
    subscription_id: str,
    batch_id: int,
    threshold: str,
    reason: str,
    check: dict[str, Any],
    indices: Sequence[int],
    before: Sequence[PlanLevel | None] | None,
    now: datetime,
) -> dict[str, Any]:
    """The push warning for ``indices`` of a full check (``check_plans`` on the new engine).

    ``reason``: ``subscribed`` (the first check) or ``risk_update``. Plans the full check could not
    check after all (the engine moved on) are left out.
    """
    warned = []
    for i in indices:
        entry = check["plans"][i]
        if entry["status"] != "checked":
            continue
        was = before[i] if before is not None and i < len(before) else None
        warned.append(_warned_plan(i, entry, was, now))
    top = max((LEVEL_KEYS.index(w["level"]) for w in warned), default=0)
    return {
        "type": WARNING_TYPE,
        "subscription_id": subscription_id,
        "batch_id": batch_id,
        "reason": reason,
        "threshold": threshold,
        "level": LEVEL_KEYS[top],
        "level_ko": BANDS[top].name_ko,
        "checked_at": isoformat_seoul(now),
        "plans": warned,
        "created_at": isoformat_seoul(datetime.now(tz=as_seoul(now).tzinfo)),
    }


SEALED_KEY = "sealed"
CLEAR_KEYS = ("type", "subscription_id", "batch_id", "reason", "threshold", "level", "level_ko")


def seal(payload: dict[str, Any], cipher: MultiFernet) -> dict[str, Any]:
    """What may be stored in clear (ids, levels, how many plans) plus the rest as a Fernet token.

    Titles, places, times and the drivers naming sites near them stay inside the token.
    """
    clear = {k: payload[k] for k in CLEAR_KEYS if k in payload}
    clear["plans_warned"] = len(payload.get("plans", []))
    clear["created_at"] = payload["created_at"]
    clear[SEALED_KEY] = encrypt_plans(payload, cipher=cipher).decode("ascii")
    return clear


def unseal(stored: dict[str, Any], cipher: MultiFernet) -> dict[str, Any]:
    """The full warning of a stored event (as delivered), keeping the store's ``event_id``."""
    token = stored.get(SEALED_KEY)
    if not isinstance(token, str):
        return stored
    opened: dict[str, Any] = decrypt_plans(token.encode("ascii"), cipher=cipher)
    if "event_id" in stored:
        opened["event_id"] = stored["event_id"]
    return opened
