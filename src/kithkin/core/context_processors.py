from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from kithkin.accounts import breakglass
from kithkin.accounts.access import roles_of
from kithkin.accounts.models import Role, User
from kithkin.notifications import services as notifications


def _unread(user: Any) -> int:
    return notifications.unread_count(user) if isinstance(user, User) else 0


def kithkin(request: HttpRequest) -> dict[str, Any]:
    roles = roles_of(request.user) if hasattr(request, "user") else set()
    if getattr(request, "kithkin_second_step_pending", False):
        # Before the second step: no navigation, no inbox count, no emergency-access banner.
        return {"second_step_pending": True, "user_roles": set(), "break_glass_grants": []}
    return {
        "user_roles": {role.value for role in roles},
        "is_staff_user": bool(roles & {Role.ADMIN, Role.CLINICIAN}),
        "is_practice_admin": Role.ADMIN in roles,
        # Counted once, and only on pages that show it (the header, when signed in).
        "unread_notifications": SimpleLazyObject(lambda: _unread(getattr(request, "user", None))),
        # Live break-glass grants for the banner on every page (accounts.breakglass).
        "break_glass_grants": SimpleLazyObject(
            lambda: breakglass.banner_grants(getattr(request, "user", None))
        ),
    }
