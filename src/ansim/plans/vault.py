"""Encryption at rest for subscribed plans (Fernet: AES-128-CBC + HMAC-SHA256, from ``cryptography``).

Checking plans keeps nothing. Only when a person subscribes (the API's job) are their plans stored,
and then only as Fernet tokens made here. The key comes from ``settings.subscription_key``
(``ANSIM_SUBSCRIPTION_KEY``):

- a Fernet key (32 bytes, urlsafe base64; ``ansim.plans.vault.generate_key()`` or
  ``Fernet.generate_key()`` makes one) is used as it is;
- several keys separated by commas rotate keys: the first encrypts, all decrypt
  (:class:`cryptography.fernet.MultiFernet`), so old subscriptions stay readable until re-encrypted
  with :func:`rotate`;
- any other non-empty text is a passphrase, stretched to a key with scrypt (salt fixed per
  deployment purpose, so the same passphrase gives the same key on every worker);
- empty: a random key is generated once and kept in ``<var_dir>/subscription.key`` (mode 0600);
  every worker of the same deployment reads the same file. Losing it loses the subscriptions,
  which is the intended failure: nothing else can read them.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ansim.errors import InputError

KEY_FILE_NAME = "subscription.key"
_SALT = b"ansim/plans/subscriptions/v1"
"""scrypt salt for passphrases: fixed, so every worker derives the same key (the passphrase is the secret)."""


def generate_key() -> str:
    """A new random Fernet key (urlsafe base64 text) for ``ANSIM_SUBSCRIPTION_KEY``."""
    return Fernet.generate_key().decode("ascii")


def _is_fernet_key(text: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(text.encode("ascii"))) == 32
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


def derive_key(passphrase: str) -> bytes:
    """A Fernet key from a passphrase (scrypt, n=2**14, r=8, p=1)."""
    kdf = Scrypt(salt=_SALT, length=32, n=2**14, r=8, p=1)
    return base64.urlsafe_b64encode(kdf.derive(passphrase.encode("utf-8")))


def _key_file(var_dir: Path) -> bytes:
    path = Path(var_dir) / KEY_FILE_NAME
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    # O_EXCL: if two workers race, one creates the file and the other reads it
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
    return key


def fernet_from_secret(secret: str, *, var_dir: Path | None = None) -> MultiFernet:
    """The cipher for a ``subscription_key`` value (see the module docstring for the forms)."""
    parts = [p.strip() for p in secret.split(",") if p.strip()]
    if not parts:
        if var_dir is None:
            raise InputError(
                "no subscription key and no var_dir to keep one", field="subscription_key"
            )
        return MultiFernet([Fernet(_key_file(var_dir))])
    keys = [p.encode("ascii") if _is_fernet_key(p) else derive_key(p) for p in parts]
    return MultiFernet([Fernet(k) for k in keys])


def subscription_cipher() -> MultiFernet:
    """The cipher of this deployment, from ``settings.subscription_key`` and ``settings.var_dir``."""
    from ansim.settings import get_settings

    settings = get_settings()
    return fernet_from_secret(settings.subscription_key, var_dir=settings.var_dir)


def encrypt_plans(document: Any, *, cipher: MultiFernet | None = None) -> bytes:
    """A Fernet token of a JSON-able plans document (what the API stores for a subscription)."""
    f = cipher or subscription_cipher()
    payload = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return f.encrypt(payload)


def decrypt_plans(
    token: bytes, *, cipher: MultiFernet | None = None, ttl_s: int | None = None
) -> Any:
    """The plans document of a token; a wrong key, a tampered or (with ``ttl_s``) expired token raises.

    Raises
    ------
    InputError
        When the token cannot be decrypted with any of the keys.
    """
    f = cipher or subscription_cipher()
    try:
        payload = f.decrypt(token, ttl=ttl_s)
    except InvalidToken:
        raise InputError(
            "cannot decrypt: wrong key, tampered or expired", field="subscription"
        ) from None
    return json.loads(payload.decode("utf-8"))


def rotate(token: bytes, *, cipher: MultiFernet | None = None) -> bytes:
    """Re-encrypt a token with the first (newest) key."""
    f = cipher or subscription_cipher()
    try:
        return f.rotate(token)
    except InvalidToken:
        raise InputError("cannot decrypt: wrong key or tampered", field="subscription") from None
