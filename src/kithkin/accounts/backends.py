from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from kithkin.accounts.models import User
from kithkin.security import lockout


class EmailBackend(ModelBackend):
    """Sign in with an email address in any letter case. Failed attempts are counted per email
    (known or not) and per address; while either is paused, even the right password is refused
    (see kithkin.security.lockout)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        email = username or kwargs.get("email")
        if not email or not password:
            return None
        email = email.strip()
        if lockout.is_paused(email, request):
            # Same work as a real check, so timing does not reveal the pause or the account.
            User().set_password(password)
            return None
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            # Spend the same time as a real check, so timing does not reveal who has an account.
            User().set_password(password)
        elif user.check_password(password) and self.user_can_authenticate(user):
            lockout.record_success(email)
            return user
        lockout.record_failure(email, request)
        return None
