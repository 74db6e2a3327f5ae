"""Throttle counters and the record of each signed-in session."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kithkin.core.fields import EncryptedTextField


class ThrottleCounter(models.Model):
    """Attempts for one (scope, key) in one fixed window. ``key`` is a keyed hash: no email or
    IP address is stored in the clear. Rows are counted in the database so every process and
    server shares one limit."""

    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key", "window_start"], name="security_throttle_one_row"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.count}"


class UserSession(models.Model):
    """One signed-in session, so a person's other sessions can be ended and staff sessions
    timed out. Looked up by a keyed hash of the session key; the key itself is encrypted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signed_in_sessions"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    # Needed to end the session from elsewhere (sign-out everywhere, password change): the
    # session store is keyed by it. Encrypted, and never searched (``key_hash`` is).
    session_key = EncryptedTextField()
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    user_agent = models.CharField(max_length=80, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "last_seen_at"])]

    def __str__(self) -> str:
        return f"session {self.pk}"
