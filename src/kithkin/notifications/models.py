"""Notifications: the in-app inbox every person has, and their email choices per category.

A notification's title and body may mention people (a client's first name, a session), so both
are encrypted. Its ``url`` is a path inside the site and names objects by UUID only."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from kithkin.core.fields import EncryptedTextField
from kithkin.notifications.kinds import CRITICAL_CATEGORIES, Category, category_of


class NotificationQuerySet(models.QuerySet["Notification"]):
    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)

    def newest_first(self) -> NotificationQuerySet:
        return self.order_by("-created_at", "-id")


class Notification(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=64)
    title = EncryptedTextField()
    body = EncryptedTextField(blank=True, default="")
    url = models.CharField(max_length=500, blank=True, default="")
    critical = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["user", "-created_at"], name="notification_inbox"),
            # The header's unread count runs on every page: it reads this small index only.
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return f"notification {self.pk} ({self.kind})"

    @property
    def category(self) -> Category:
        return category_of(self.kind)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Preference(models.Model):
    """Whether a person wants email for one category. No row means yes (the default); the
    inbox always gets everything. Critical categories never have their email turned off."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    category = models.CharField(max_length=20, choices=Category.choices)
    email = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["user", "category"], name="one_notification_preference_per_category"
            ),
            # The service and the form refuse it too; this keeps any other path honest.
            models.CheckConstraint(
                condition=~Q(category__in=sorted(CRITICAL_CATEGORIES), email=False),
                name="critical_notification_email_stays_on",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.category} email {'on' if self.email else 'off'}"
