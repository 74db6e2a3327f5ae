"""Operations across the whole project: setting up a practice, re-encrypting every encrypted
field."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.apps import apps
from django.db import models, transaction

from kithkin.accounts.models import Membership, Practice, Role, User
from kithkin.audit import services as audit
from kithkin.core.fields import encrypted_fields

ROTATION_BATCH_SIZE = 500


def models_with_encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    found: list[tuple[type[models.Model], list[str]]] = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        names = [field.name for field in encrypted_fields(model)]
        if names:
            found.append((model, names))
    return found


def rotate_keys(
    batch_size: int = ROTATION_BATCH_SIZE,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Re-encrypt every encrypted value under the newest key (the first in KITHKIN_FIELD_KEYS).

    Reading a row decrypts it with whichever configured key fits; saving encrypts with the
    newest. Each batch commits on its own, so a long rotation does not hold one huge write lock,
    and an interrupted rotation can simply be run again. Returns rows rewritten per model."""
    counts: dict[str, int] = {}
    for model, names in models_with_encrypted_fields():
        label = model._meta.label
        manager = model._base_manager
        last_pk = None
        done = 0
        while True:
            rows = manager.order_by("pk").only("pk", *names)
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            with transaction.atomic():
                batch = list(rows.select_for_update()[:batch_size])
                if not batch:
                    break
                manager.bulk_update(batch, names)
            done += len(batch)
            last_pk = batch[-1].pk
            if progress is not None:
                progress(label, done)
        counts[label] = done
    audit.record(None, action="keys.rotate", object_type="encryption", detail=counts)
    return counts


class PracticeSetupError(Exception):
    """A new practice could not be created; the message says why, for the operator."""


def create_practice(
    *, name: str, admin_email: str, admin_name: str, password: str, time_zone: str = "UTC"
) -> tuple[Practice, User]:
    """Create a practice and its first practice admin, both or neither."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    name, admin_name = name.strip(), admin_name.strip()
    admin_email = admin_email.strip().lower()
    if not name:
        raise PracticeSetupError("The practice needs a name.")
    if not admin_name:
        raise PracticeSetupError("The admin needs a name.")
    try:
        validate_email(admin_email)
    except ValidationError:
        raise PracticeSetupError(f"{admin_email!r} is not a valid email address.") from None
    if time_zone not in zoneinfo.available_timezones():
        raise PracticeSetupError(f"{time_zone!r} is not a time zone name (e.g. Europe/London).")
    if User.objects.filter(email__iexact=admin_email).exists():
        raise PracticeSetupError(f"An account with the email address {admin_email} already exists.")
    candidate = User(email=admin_email, display_name=admin_name)
    try:
        validate_password(password, candidate)
    except ValidationError as error:
        raise PracticeSetupError(
            "The password is not strong enough: " + " ".join(error.messages)
        ) from None
    with transaction.atomic():
        practice = Practice.objects.create(name=name, time_zone=time_zone)
        user = User.objects.create_user(
            admin_email, password, display_name=admin_name, time_zone=time_zone
        )
        Membership.objects.create(user=user, practice=practice, role=Role.ADMIN)
        audit.record(None, action="practice.create", object_type="practice", object_id=practice.pk)
        audit.record(
            None,
            action="staff.create",
            object_type="user",
            object_id=user.pk,
            detail={"role": Role.ADMIN.value, "practice_id": practice.pk},
        )
    return practice, user
