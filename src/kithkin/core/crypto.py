"""Authenticated encryption for free text about people, with keys from settings."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class UndecryptableError(Exception):
    """A stored value could not be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("KITHKIN_FIELD_KEYS holds no key.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "KITHKIN_FIELD_KEYS must be comma-separated Fernet keys (32 url-safe base64 bytes)."
        ) from None


def cipher() -> MultiFernet:
    return _multifernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return cipher().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        # Never echo the token: it is ciphertext of client data.
        raise UndecryptableError(
            "A stored encrypted value cannot be read with the configured KITHKIN_FIELD_KEYS."
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key."""
    try:
        return cipher().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise UndecryptableError(
            "A stored encrypted value cannot be read with the configured KITHKIN_FIELD_KEYS."
        ) from None
