"""Plan subscriptions in the store, and their re-check on every risk update (issue 8).

A plan subscription is a row of ``subscriptions`` with ``kind = 'plans'`` (migration 0004): the
plans document only as a Fernet token (``plans_encrypted``, :mod:`ansim.plans.vault`, key from
``settings.subscription_key``), the webhook as a Fernet token, the token as its SHA-256. Its
warnings are rows of ``subscription_events`` like an area's alerts, so delivery is the area
subscriptions' own: the worker that stores a warning first calls the webhook
(``PlatformState._store_alert``, signed, with retries), and SSE streams read the stored rows. A
stored warning holds in clear only ids, levels and counts; the rest is sealed
(:func:`ansim.plans.subscriptions.seal`) and opened on the way out. ``DELETE`` removes the row and
its events: nothing else holds the plans.

Each worker keeps the plans of every plan subscription decrypted in memory (:class:`PlanWatch`,
like ``PlatformState.subs`` for areas), and re-checks them after every engine update: the plans
still ahead are assessed on the old and on the new engine, and those that reach the threshold (or
rise while above it) get one warning per (subscription, batch).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import sqlalchemy as sa
from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy.engine import Engine

from ansim.api import subscriptions as subs_mod
from ansim.errors import InputError
from ansim.plans import subscriptions as core
from ansim.plans.model import Plan
from ansim.plans.vault import fernet_from_secret
from ansim.settings import Settings
from ansim.store import schema
from ansim.timeutil import SEOUL, as_seoul, parse_datetime

if TYPE_CHECKING:
    from ansim.api.state import PlatformState
    from ansim.risk.engine import RiskEngine

ID_PREFIX = "plans_"
ID_PATTERN = r"^plans_[0-9a-f]{16}$"
KIND = "plans"


@lru_cache(maxsize=8)
def _cipher(secret: str, var_dir: str) -> MultiFernet:
    return fernet_from_secret(secret, var_dir=Path(var_dir))


def cipher_for(settings: Settings) -> MultiFernet:
    """The vault cipher of these settings (a passphrase is stretched once per process)."""
    return _cipher(settings.subscription_key, str(settings.var_dir))


def plans_now(settings: Settings) -> datetime:
    """The time plans are "ahead" of: ``demo_now`` (setting or ``ANSIM_DEMO_NOW``), else the clock.

    The bundled data stop in 2021; a demo that replays them sets ``ANSIM_DEMO_NOW`` (as the web
    map does) so plans in the data period count as ahead.
    """
    configured = getattr(settings, "demo_now", None) or os.environ.get("ANSIM_DEMO_NOW")
    if configured:
        value = configured if isinstance(configured, datetime) else parse_datetime(str(configured))
        return as_seoul(value)
    return datetime.now(SEOUL)


@dataclass(frozen=True)
class HeldPlans:
    """A plan subscription as a worker holds it (decrypted) to re-check it."""

    id: str
    threshold: str
    plans: list[Plan]
    webhook_url: str | None
    webhook_secret: str | None

    def delivery(self) -> subs_mod.ActiveSubscription:
        """The shape ``PlatformState._store_alert`` delivers to (no area)."""
        return subs_mod.ActiveSubscription(
            id=self.id,
            threshold=self.threshold,
            rows=np.empty(0, dtype=np.int64),
            bbox=(0.0, 0.0, 0.0, 0.0),
            webhook_url=self.webhook_url,
            webhook_secret=self.webhook_secret,
        )


# --- store ---------------------------------------------------------------------------------------


def create(
    db: Engine,
    cipher: MultiFernet,
    *,
    document: dict[str, Any],
    threshold: str,
    webhook_url: str | None,
) -> dict[str, Any]:
    """Store a plan subscription; its id, token and webhook secret (shown once)."""
    sub_id = ID_PREFIX + secrets.token_hex(8)
    token = subs_mod.TOKEN_PREFIX + secrets.token_urlsafe(32)
    webhook_secret = secrets.token_urlsafe(32) if webhook_url else None
    webhook = (
        cipher.encrypt(orjson.dumps({"url": webhook_url, "secret": webhook_secret})).decode()
        if webhook_url
        else None
    )
    now = datetime.now(UTC)
    with db.begin() as conn:
        conn.execute(
            sa.insert(schema.subscriptions).values(
                id=sub_id,
                kind=KIND,
                token_sha256=subs_mod.token_hash(token),
                threshold=threshold,
                area_encrypted="",
                plans_encrypted=core.encrypt_document(document, cipher),
                webhook_encrypted=webhook,
                created_at=now,
            )
        )
    return {"id": sub_id, "token": token, "webhook_secret": webhook_secret, "created_at": now}


def load(db: Engine, cipher: MultiFernet, ids: set[str]) -> list[HeldPlans]:
    """Decrypt and parse the plan subscriptions ``ids`` (unreadable ones are skipped)."""
    if not ids:
        return []
    t = schema.subscriptions
    with db.connect() as conn:
        rows = conn.execute(sa.select(t).where(t.c.id.in_(sorted(ids)), t.c.kind == KIND)).all()
    out = []
    for row in rows:
        try:
            document = core.decrypt_document(row.plans_encrypted or "", cipher)
            webhook = (
                orjson.loads(cipher.decrypt(row.webhook_encrypted.encode()))
                if row.webhook_encrypted
                else None
            )
            plans = core.parse_document(document)
        except (InputError, InvalidToken):  # a key change makes it unreadable: skip, not crash
            continue
        out.append(
            HeldPlans(
                id=row.id,
                threshold=row.threshold,
                plans=plans,
                webhook_url=webhook["url"] if webhook else None,
                webhook_secret=webhook["secret"] if webhook else None,
            )
        )
    return out


def read(db: Engine, cipher: MultiFernet, sub_id: str) -> tuple[HeldPlans, datetime] | None:
    """The subscription (decrypted, for its owner) and when it was made, or None."""
    found = load(db, cipher, {sub_id})
    if not found:
        return None
    t = schema.subscriptions
    with db.connect() as conn:
        created = conn.execute(sa.select(t.c.created_at).where(t.c.id == sub_id)).scalar()
    if created is None:  # deleted meanwhile
        return None
    return found[0], created


def plan_subscription_ids(db: Engine) -> set[str]:
    t = schema.subscriptions
    with db.connect() as conn:
        return set(conn.execute(sa.select(t.c.id).where(t.c.kind == KIND)).scalars())


# --- re-check --------------------------------------------------------------------------------------


Warning = tuple[subs_mod.ActiveSubscription, dict[str, Any], dict[str, Any]]
"""(delivery target, payload to store (sealed), payload to deliver (full))."""


class PlanWatch:
    """The plan subscriptions one worker holds, and their re-check (methods run in a thread)."""

    def __init__(self, db: Engine, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.cipher = cipher_for(settings)
        self.held: dict[str, HeldPlans] = {}

    def sync(self) -> None:
        """Drop deleted subscriptions and load new ones."""
        ids = plan_subscription_ids(self.db)
        for gone in set(self.held) - ids:
            del self.held[gone]
        for sub in load(self.db, self.cipher, ids - set(self.held)):
            self.held[sub.id] = sub

    def first_warning(
        self, sub: HeldPlans, engine: RiskEngine, *, batch_id: int, now: datetime
    ) -> Warning | None:
        """The warning due on subscribing: plans already at or above the threshold."""
        after = core.plan_levels(sub.plans, engine, now=now)
        return self._warning(
            sub, engine, None, after, batch_id=batch_id, now=now, reason="subscribed"
        )

    def recheck(
        self, old: RiskEngine, new: RiskEngine, *, batch_id: int, now: datetime
    ) -> list[Warning]:
        """Warnings for every held subscription whose plans the update pushed to its threshold."""
        self.sync()
        out = []
        for sub in list(self.held.values()):
            ahead = [p for p in sub.plans if as_seoul(p.end) > now]
            if not ahead:
                continue  # nothing left to warn about (kept until the person unsubscribes)
            after = core.plan_levels(sub.plans, new, now=now)
            if not any(a is not None for a in after):
                continue
            before = core.plan_levels(sub.plans, old, now=now)
            warning = self._warning(
                sub, new, before, after, batch_id=batch_id, now=now, reason="risk_update"
            )
            if warning is not None:
                out.append(warning)
        return out

    def _warning(
        self,
        sub: HeldPlans,
        engine: RiskEngine,
        before: list[core.PlanLevel | None] | None,
        after: list[core.PlanLevel | None],
        *,
        batch_id: int,
        now: datetime,
        reason: str,
    ) -> Warning | None:
        from ansim.plans.check import check_plans

        indices = core.plans_to_warn(before, after, threshold=sub.threshold)
        if not indices:
            return None
        check = check_plans(sub.plans, engine, now=now)
        payload = core.warning_payload(
            subscription_id=sub.id,
            batch_id=batch_id,
            threshold=sub.threshold,
            reason=reason,
            check=check,
            indices=indices,
            before=before,
            now=now,
        )
        if not payload["plans"]:
            return None
        return sub.delivery(), core.seal(payload, self.cipher), payload


def watch_of(state: PlatformState) -> PlanWatch:
    """The worker's :class:`PlanWatch` (made on first use)."""
    watch: PlanWatch | None = getattr(state, "plan_watch", None)
    if watch is None:
        watch = PlanWatch(state.db, state.settings)
        state.plan_watch = watch  # type: ignore[attr-defined]
    return watch
