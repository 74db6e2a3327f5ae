"""The one field type for free text about a person's health or relationships."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression

from kithkin.core import crypto

if TYPE_CHECKING:
    _TextBase = models.TextField[str, str]
else:
    _TextBase = models.TextField


class EncryptedTextField(_TextBase):
    """Text stored as a Fernet token (AES-128-CBC + HMAC-SHA256), decrypted on read.

    Tokens are randomised, so the database cannot search, sort or compare these values: only
    ``isnull`` lookups are allowed, and anything else fails loudly instead of silently matching
    nothing.
    """

    description = "Encrypted text"
    encrypted = True

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return crypto.encrypt(str(value))

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None:
            return None
        return crypto.decrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)


def encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
