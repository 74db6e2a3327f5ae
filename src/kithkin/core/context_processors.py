from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kithkin.accounts.access import roles_of
from kithkin.accounts.models import Role


def kithkin(request: HttpRequest) -> dict[str, Any]:
    roles = roles_of(request.user) if hasattr(request, "user") else set()
    return {
        "user_roles": {role.value for role in roles},
        "is_staff_user": bool(roles & {Role.ADMIN, Role.CLINICIAN}),
        "is_practice_admin": Role.ADMIN in roles,
    }
