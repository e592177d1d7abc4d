"""The pelapor's contact data encrypted at rest (UU 27/2022), and the blind index that finds a
report by email without decrypting every row.

`SealedText` is a column type: the ORM and Core both encrypt on write and decrypt on read, so
services read and write plain strings. Values are sealed with AES-256-GCM, a fresh 96-bit nonce
each, and the column's name as associated data (a value copied into another column does not
open). The stored text is `v1:` and the URL-safe base64 of nonce, ciphertext and tag.

Both keys are derived from one secret, `LAPOR_PERSONAL_DATA_KEY`, handed over by `configure`
(the app factory and the CLI call it; the engine never reads settings itself). Until then any
read or write of a sealed column raises `PersonalDataKeyError`, and so does a value sealed
under another key or damaged: a wrong key fails loudly, never as empty or garbled data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

PREFIX = "v1:"
NONCE_BYTES = 12
MIN_KEY_CHARS = 32


class PersonalDataKeyError(RuntimeError):
    """The personal data key is missing, or is not the key a stored value was sealed with."""


class _Keys:
    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_KEY_CHARS:
            raise PersonalDataKeyError(
                f"the personal data key must be at least {MIN_KEY_CHARS} characters"
            )
        root = secret.encode("utf-8")
        self.cipher = AESGCM(_derive(root, b"lapor personal data: AES-256-GCM v1"))
        self.index = _derive(root, b"lapor personal data: email blind index v1")


def _derive(root: bytes, label: bytes) -> bytes:
    return hmac.new(root, label, hashlib.sha256).digest()


_keys: _Keys | None = None


def configure(secret: str) -> None:
    """Use `secret` (at least 32 characters) for every sealed column from now on."""
    global _keys
    _keys = _Keys(secret)


def _current() -> _Keys:
    if _keys is None:
        raise PersonalDataKeyError(
            "no personal data key configured (engine.personal_data.configure; the app and the "
            "`lapor` command set it from LAPOR_PERSONAL_DATA_KEY)"
        )
    return _keys


def seal(plain: str, *, column: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = _current().cipher.encrypt(nonce, plain.encode("utf-8"), column.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_sealed(stored: str, *, column: str) -> str:
    keys = _current()
    if not stored.startswith(PREFIX):
        raise PersonalDataKeyError(f"{column} holds a value that is not sealed")
    try:
        raw = base64.urlsafe_b64decode(stored[len(PREFIX) :])
        plain = keys.cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], column.encode())
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise PersonalDataKeyError(
            f"cannot decrypt {column}: LAPOR_PERSONAL_DATA_KEY is not the key it was written "
            "with, or the value is damaged"
        ) from exc
    return plain.decode("utf-8")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_index(email: str | None) -> str | None:
    """The keyed blind index of an address (HMAC-SHA256 of the normalised text, hex)."""
    if email is None:
        return None
    key = _current().index
    return hmac.new(key, normalise_email(email).encode("utf-8"), hashlib.sha256).hexdigest()


class SealedText(TypeDecorator[str]):
    """A text column stored encrypted; `column` ("table.column") is bound into every value."""

    impl = Text
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else seal(value, column=self.column)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else open_sealed(value, column=self.column)
