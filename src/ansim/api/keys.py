"""API keys: created once (the secret is shown once), stored as a salted scrypt hash, revocable.

A key reads ``ansim_<id>_<secret>``: ``id`` (12 hex digits) finds the row, ``secret`` is checked
against ``scrypt(secret, salt)`` with the row's own random salt. Scopes are ordered
``read`` < ``ingest`` < ``admin``: a key allows its own scope and every lower one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ansim.errors import InputError
from ansim.store import schema

SCOPES = ("read", "ingest", "admin")
PREFIX = "ansim_"
# scrypt cost: 2**14 × 8 × 128 B = 16 MiB and ~30-60 ms per check; verified keys are cached in memory.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key without its secret."""

    id: str
    scope: str
    label: str
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, scope: str) -> bool:
        """True when this key's scope is ``scope`` or a higher one."""
        return self.revoked_at is None and SCOPES.index(self.scope) >= SCOPES.index(scope)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scope": self.scope,
            "label": self.label,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "revoked_at": None
            if self.revoked_at is None
            else self.revoked_at.isoformat(timespec="seconds"),
        }


def hash_secret(secret: str, salt: bytes) -> str:
    """Hex scrypt digest of a key's secret with its salt."""
    digest = hashlib.scrypt(
        secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32, maxmem=64 << 20
    )
    return digest.hex()


def split_key(presented: str) -> tuple[str, str] | None:
    """(id, secret) of a well-formed key, else None."""
    if not presented.startswith(PREFIX):
        return None
    key_id, sep, secret = presented[len(PREFIX) :].partition("_")
    if not sep or len(key_id) != 12 or not secret:
        return None
    return key_id, secret


def _row_to_key(row: Any) -> ApiKey:
    return ApiKey(row.id, row.scope, row.label, row.created_at, row.revoked_at)


def create_key(engine: Engine, *, scope: str, label: str = "") -> tuple[ApiKey, str]:
    """Store a new key; returns it and the full key text (shown once, never stored)."""
    if scope not in SCOPES:
        raise InputError(f"unknown scope {scope!r}; use {', '.join(SCOPES)}", field="scope")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(schema.api_keys).values(
                id=key_id,
                scope=scope,
                label=label,
                salt=salt.hex(),
                secret_hash=hash_secret(secret, salt),
                created_at=now,
                revoked_at=None,
            )
        )
    return ApiKey(key_id, scope, label, now, None), f"{PREFIX}{key_id}_{secret}"


def list_keys(engine: Engine) -> list[ApiKey]:
    """Every key, oldest first (without secrets)."""
    t = schema.api_keys
    with engine.connect() as conn:
        rows = conn.execute(sa.select(t).order_by(t.c.created_at, t.c.id)).all()
    return [_row_to_key(r) for r in rows]


def revoke_key(engine: Engine, key_id: str) -> ApiKey:
    """Mark a key revoked (kept for the record); raises ``InputError`` for an unknown id."""
    t = schema.api_keys
    with engine.begin() as conn:
        row = conn.execute(sa.select(t).where(t.c.id == key_id)).first()
        if row is None:
            raise InputError(f"no key with id {key_id!r}", field="ID")
        if row.revoked_at is None:
            conn.execute(sa.update(t).where(t.c.id == key_id).values(revoked_at=datetime.now(UTC)))
        row = conn.execute(sa.select(t).where(t.c.id == key_id)).one()
    return _row_to_key(row)


def verify_key(engine: Engine, presented: str) -> ApiKey | None:
    """The stored key matching ``presented`` (revoked ones included, see ``revoked_at``), or None."""
    parts = split_key(presented)
    if parts is None:
        return None
    key_id, secret = parts
    t = schema.api_keys
    with engine.connect() as conn:
        row = conn.execute(sa.select(t).where(t.c.id == key_id)).first()
    if row is None:
        return None
    if not hmac.compare_digest(hash_secret(secret, bytes.fromhex(row.salt)), row.secret_hash):
        return None
    return _row_to_key(row)


def revoked_ids(engine: Engine) -> frozenset[str]:
    """Ids of revoked keys (polled by the app so a revocation takes effect within a second)."""
    t = schema.api_keys
    with engine.connect() as conn:
        return frozenset(
            conn.execute(sa.select(t.c.id).where(t.c.revoked_at.is_not(None))).scalars()
        )
