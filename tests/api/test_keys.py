"""``ansim keys create|list|revoke``: shown once, stored as a salted scrypt hash, revocable."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import sqlalchemy as sa

from ansim.api.keys import create_key, verify_key
from ansim.store import schema


def _ansim(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIM_DB_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "ansim.cli", "keys", *args], env=env, capture_output=True, text=True
    )


def test_keys_cli_create_list_revoke(empty_store) -> None:
    engine, url = empty_store
    created = _ansim(url, "create", "--scope", "ingest", "--label", "partner A")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("ansim_")
    assert len(key) > 40
    with engine.connect() as conn:
        row = conn.execute(sa.select(schema.api_keys)).one()
    secret = key.split("_", 2)[2]
    assert secret not in " ".join(map(str, row))  # only the hash and salt are stored
    assert len(row.salt) == 32
    assert len(row.secret_hash) == 64
    found = verify_key(engine, key)
    assert found is not None
    assert found.scope == "ingest"
    assert found.allows("read")
    assert not found.allows("admin")
    assert verify_key(engine, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    listed = json.loads(_ansim(url, "list", "--json").stdout)
    assert [(k["id"], k["scope"], k["label"], k["revoked_at"]) for k in listed] == [
        (row.id, "ingest", "partner A", None)
    ]
    assert _ansim(url, "revoke", row.id).returncode == 0
    listed = json.loads(_ansim(url, "list", "--json").stdout)
    assert listed[0]["revoked_at"] is not None
    revoked = verify_key(engine, key)
    assert revoked is not None
    assert not revoked.allows("read")
    bad = _ansim(url, "create", "--scope", "superuser")
    assert bad.returncode == 2
    assert "scope" in bad.stderr
    missing = _ansim(url, "revoke", "nosuchkey")
    assert missing.returncode == 2


def test_same_secret_gets_different_hashes_per_key(empty_store) -> None:
    engine, _ = empty_store
    create_key(engine, scope="read")
    create_key(engine, scope="read")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.api_keys.c.salt, schema.api_keys.c.secret_hash)).all()
    assert len({r.salt for r in rows}) == 2
    assert len({r.secret_hash for r in rows}) == 2
