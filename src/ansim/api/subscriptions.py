"""Push-alert subscriptions in the store: encrypted areas, secret tokens, events, signed webhooks.

Privacy by design: a subscriber's area (geometry and cells) and webhook are stored only as Fernet
tokens (key: ``settings.subscription_key``, else a key file in ``var_dir`` made on first use);
the subscription token is stored as its SHA-256 (it is 256 random bits, so a slow hash adds
nothing). ``delete_subscription`` removes the row and every event stored for it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ansim.geo.cells import CellTable, cell_to_hex, hex_to_cell
from ansim.risk.levels import BANDS
from ansim.settings import Settings
from ansim.store import schema

TOKEN_PREFIX = "anss_"
SIGNATURE_HEADER = "X-Ansim-Signature"
WEBHOOK_ATTEMPTS = 6
WEBHOOK_FIRST_DELAY_S = 0.5
"""Retries after 0.5, 1, 2, 4 and 8 s (exponential backoff), then the delivery is marked failed."""
LEVEL_KEYS = tuple(b.key for b in BANDS)


def fernet_for(settings: Settings) -> Fernet:
    """The Fernet of ``settings.subscription_key``, or of ``<var_dir>/subscription.key`` (made once, 0600)."""
    if settings.subscription_key:
        return Fernet(settings.subscription_key.encode())
    path = Path(settings.var_dir) / "subscription.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker made it first
            pass
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(key)
    return Fernet(path.read_bytes().strip())


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ActiveSubscription:
    """A subscription as a worker holds it in memory (decrypted) to evaluate new data."""

    id: str
    threshold: str
    rows: np.ndarray
    bbox: tuple[float, float, float, float]
    webhook_url: str | None
    webhook_secret: str | None

    @property
    def threshold_index(self) -> int:
        return LEVEL_KEYS.index(self.threshold)


def create_subscription(
    engine: Engine,
    fernet: Fernet,
    *,
    geometry: dict[str, Any],
    radius_m: float | None,
    cells: np.ndarray,
    threshold: str,
    webhook_url: str | None,
) -> dict[str, Any]:
    """Store a subscription; returns its id, token and webhook secret (shown once)."""
    sub_id = "sub_" + secrets.token_hex(8)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    area = {
        "geometry": geometry,
        "radius_m": radius_m,
        "cells": [cell_to_hex(c) for c in cells.tolist()],
    }
    webhook_secret = secrets.token_urlsafe(32) if webhook_url else None
    webhook = (
        fernet.encrypt(orjson.dumps({"url": webhook_url, "secret": webhook_secret})).decode()
        if webhook_url
        else None
    )
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(schema.subscriptions).values(
                id=sub_id,
                token_sha256=token_hash(token),
                threshold=threshold,
                area_encrypted=fernet.encrypt(orjson.dumps(area)).decode(),
                webhook_encrypted=webhook,
                created_at=now,
            )
        )
    return {
        "id": sub_id,
        "token": token,
        "webhook_secret": webhook_secret,
        "created_at": now,
    }


def check_token(
    engine: Engine, sub_id: str, token: str | None, *, kind: str | None = None
) -> bool | None:
    """None: no such subscription (of ``kind``, when given); False: wrong or missing token;
    True: the token matches."""
    t = schema.subscriptions
    query = sa.select(t.c.token_sha256).where(t.c.id == sub_id)
    if kind is not None:
        query = query.where(t.c.kind == kind)
    with engine.connect() as conn:
        stored = conn.execute(query).scalar()
    if stored is None:
        return None
    if not token:
        return False
    return hmac.compare_digest(stored, token_hash(token))


def read_subscription(engine: Engine, fernet: Fernet, sub_id: str) -> dict[str, Any] | None:
    """The decrypted subscription (for its owner), or None."""
    t = schema.subscriptions
    with engine.connect() as conn:
        row = conn.execute(sa.select(t).where(t.c.id == sub_id)).first()
    if row is None:
        return None
    area = orjson.loads(fernet.decrypt(row.area_encrypted.encode()))
    webhook = (
        orjson.loads(fernet.decrypt(row.webhook_encrypted.encode()))
        if row.webhook_encrypted
        else None
    )
    return {
        "id": row.id,
        "threshold": row.threshold,
        "area": area["geometry"],
        "radius_m": area["radius_m"],
        "cells": len(area["cells"]),
        "webhook_url": webhook["url"] if webhook else None,
        "created_at": row.created_at,
    }


def delete_subscription(engine: Engine, sub_id: str) -> bool:
    """Delete a subscription and every event stored for it; False when there was none."""
    with engine.begin() as conn:
        conn.execute(
            sa.delete(schema.subscription_events).where(
                schema.subscription_events.c.subscription_id == sub_id
            )
        )
        result = conn.execute(
            sa.delete(schema.subscriptions).where(schema.subscriptions.c.id == sub_id)
        )
    return bool(result.rowcount)


def subscription_ids(engine: Engine) -> set[str]:
    """Ids of the area subscriptions (plan subscriptions are re-checked by ``ansim.api.plan_subscriptions``)."""
    t = schema.subscriptions
    with engine.connect() as conn:
        return set(conn.execute(sa.select(t.c.id).where(t.c.kind == "area")).scalars())


def load_active(
    engine: Engine, fernet: Fernet, table: CellTable, ids: set[str]
) -> list[ActiveSubscription]:
    """Decrypt the subscriptions ``ids`` for evaluation (cells mapped to engine table rows)."""
    if not ids:
        return []
    t = schema.subscriptions
    with engine.connect() as conn:
        rows = conn.execute(sa.select(t).where(t.c.id.in_(sorted(ids)))).all()
    out = []
    for row in rows:
        try:
            area = orjson.loads(fernet.decrypt(row.area_encrypted.encode()))
            webhook = (
                orjson.loads(fernet.decrypt(row.webhook_encrypted.encode()))
                if row.webhook_encrypted
                else None
            )
        except InvalidToken:  # a key change makes old subscriptions unreadable: skip, not crash
            continue
        cells = np.array([hex_to_cell(c) for c in area["cells"]], dtype=np.uint64)
        table_rows = table.index_of(cells)
        table_rows = table_rows[table_rows >= 0]
        if table_rows.size == 0:
            continue
        lat, lon = table.lat[table_rows], table.lon[table_rows]
        out.append(
            ActiveSubscription(
                id=row.id,
                threshold=row.threshold,
                rows=table_rows,
                bbox=(float(lat.min()), float(lon.min()), float(lat.max()), float(lon.max())),
                webhook_url=webhook["url"] if webhook else None,
                webhook_secret=webhook["secret"] if webhook else None,
            )
        )
    return out


def insert_event(
    engine: Engine, *, sub_id: str, batch_id: int, payload: dict[str, Any], webhook: bool
) -> int | None:
    """Store an alert once per (subscription, batch); None when another worker stored it first."""
    t = schema.subscription_events
    try:
        with engine.begin() as conn:
            inserted = conn.execute(
                sa.insert(t).values(
                    subscription_id=sub_id,
                    batch_id=batch_id,
                    payload=orjson.dumps(payload).decode(),
                    created_at=datetime.now(UTC),
                    webhook_status="pending" if webhook else "none",
                    webhook_attempts=0,
                )
            ).inserted_primary_key
    except IntegrityError:
        return None
    return int(inserted[0]) if inserted else None


def events_after(engine: Engine, sub_id: str, after_id: int) -> list[tuple[int, dict[str, Any]]]:
    """Stored alerts of a subscription with id > ``after_id``, oldest first."""
    t = schema.subscription_events
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.c.id, t.c.payload)
            .where(t.c.subscription_id == sub_id, t.c.id > after_id)
            .order_by(t.c.id)
        ).all()
    return [(int(r.id), {**orjson.loads(r.payload), "event_id": int(r.id)}) for r in rows]


def set_webhook_status(engine: Engine, event_id: int, *, status: str, attempts: int) -> None:
    t = schema.subscription_events
    with engine.begin() as conn:
        conn.execute(
            sa.update(t)
            .where(t.c.id == event_id)
            .values(webhook_status=status, webhook_attempts=attempts)
        )


def sign(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`` (the receiver recomputes it)."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(secret: str, body: bytes, header: str, *, tolerance_s: float = 300) -> bool:
    """Check a :data:`SIGNATURE_HEADER` value (for receivers and tests)."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        t = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(time.time() - t) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp=t), header)


def backoff_delays_s(attempts: int = WEBHOOK_ATTEMPTS) -> list[float]:
    """Waits before each retry: 0.5, 1, 2, 4, 8 s."""
    return [WEBHOOK_FIRST_DELAY_S * 2**i for i in range(attempts - 1)]


def new_key() -> str:
    """A fresh Fernet key (urlsafe base64 of 32 bytes) for ``ANSIM_SUBSCRIPTION_KEY``."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
