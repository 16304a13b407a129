"""Weekly budget totals, and the encryption helper for subscribed plans."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from ansim.errors import InputError
from ansim.plans.budget import iso_week, weekly_budget_ucov, weekly_totals
from ansim.plans.vault import decrypt_plans, encrypt_plans, fernet_from_secret, generate_key, rotate


def entry(start: str, ucov: float | None) -> dict:
    if ucov is None:
        return {"start": start, "status": "cannot_check", "ucov": None}
    return {"start": start, "status": "checked", "ucov": {"value": ucov}}


def test_weekly_budget_is_yearly_over_50() -> None:
    assert weekly_budget_ucov() == 200.0
    assert weekly_budget_ucov(1_000) == 20.0
    with pytest.raises(InputError):
        weekly_budget_ucov(0)


def test_weekly_totals_per_iso_week_in_seoul_time() -> None:
    entries = [
        entry("2020-05-03T23:30:00+09:00", 150.0),  # Sunday: week 18
        entry("2020-05-03T15:30:00+00:00", 10.0),  # Monday 00:30 in Seoul: week 19
        entry("2020-04-27T09:00:00+09:00", 50.0),
        entry("2020-04-28T09:00:00+09:00", None),
    ]
    weeks = weekly_totals(entries)
    assert [w["week"] for w in weeks] == ["2020-W18", "2020-W19"]
    w18, w19 = weeks
    assert w18["ucov"] == 200.0
    assert w18["budget_share"] == 1.0
    assert (w18["plans"], w18["unchecked"], w18["start"]) == (2, 1, "2020-04-27")
    assert w19["ucov"] == 10.0
    assert w19["budget_share"] == 0.05
    assert weekly_totals(entries, yearly_budget_ucov=1_000)[1]["budget_share"] == 0.5
    assert iso_week(date(2020, 3, 6)) == "2020-W10"


def test_vault_round_trip_and_wrong_key() -> None:
    plans = [{"title": "Club night", "place": {"lat": 37.538621, "lon": 126.992652}}]
    cipher = fernet_from_secret(generate_key())
    token = encrypt_plans(plans, cipher=cipher)
    assert b"Club" not in token
    assert b"37.53" not in token
    assert decrypt_plans(token, cipher=cipher) == plans
    with pytest.raises(InputError, match="cannot decrypt"):
        decrypt_plans(token, cipher=fernet_from_secret(generate_key()))


def test_passphrase_is_derived_the_same_way_on_every_worker() -> None:
    a, b = fernet_from_secret("correct horse battery"), fernet_from_secret("correct horse battery")
    assert decrypt_plans(encrypt_plans({"x": 1}, cipher=a), cipher=b) == {"x": 1}


def test_empty_key_generates_a_private_key_file_once(tmp_path: Path) -> None:
    first = fernet_from_secret("", var_dir=tmp_path)
    key_file = tmp_path / "subscription.key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = fernet_from_secret("", var_dir=tmp_path)
    assert decrypt_plans(encrypt_plans([1, 2], cipher=first), cipher=second) == [1, 2]


def test_key_rotation() -> None:
    old, new = generate_key(), generate_key()
    token = encrypt_plans(["a"], cipher=fernet_from_secret(old))
    both = fernet_from_secret(f"{new},{old}")
    assert decrypt_plans(token, cipher=both) == ["a"]
    rotated = rotate(token, cipher=both)
    assert decrypt_plans(rotated, cipher=fernet_from_secret(new)) == ["a"]
    assert Fernet(new.encode()).decrypt(rotated)
