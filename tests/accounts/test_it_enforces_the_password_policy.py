"""Passwords: hashed with argon2 in production, at least 12 characters, and common passwords
(Django's offline list of 20,000) refused, on every form that sets one."""

# ruff: noqa: S603 (a subprocess of this interpreter, with list arguments)
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.conftest import World, signed_in
from tests.core.test_it_refuses_unsafe_production_config import production
from tests.factories import PASSWORD

TOO_SHORT = "This password is too short. It must contain at least 12 characters."
TOO_COMMON = "This password is too common."


def test_production_hashes_with_argon2(tmp_path: Path) -> None:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "from django.contrib.auth.hashers import make_password; "
        "print(json.dumps([settings.PASSWORD_HASHERS, make_password('a long passphrase here')]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=production(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    hashers, encoded = json.loads(done.stdout)
    assert hashers[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert not any("MD5" in name for name in hashers)
    assert encoded.startswith("argon2$argon2id$")


def test_the_argon2_hasher_round_trips() -> None:
    encoded = make_password("a long passphrase here", hasher="argon2")
    assert encoded.startswith("argon2$")
    assert check_password("a long passphrase here", encoded)
    assert not check_password("a long passphrase hers", encoded)


@pytest.mark.django_db
def test_it_refuses_passwords_under_twelve_characters(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_password("elevenchars", world.client_a_user)
    assert TOO_SHORT in refused.value.messages
    validate_password("twelve chars", world.client_a_user)


@pytest.mark.django_db
@pytest.mark.parametrize("common", ["password1234", "qwertyuiop12"])
def test_it_refuses_common_passwords_even_when_long_enough(world: World, common: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_password(common, world.client_a_user)
    assert TOO_COMMON in refused.value.messages


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("new", "message"), [("short one", TOO_SHORT), ("password1234", TOO_COMMON)]
)
def test_changing_a_password_applies_the_rules_and_keeps_the_old_one(
    world: World, new: str, message: str
) -> None:
    user = world.client_a_user
    response = signed_in(user).post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_a_stranger_cannot_set_someone_elses_password(world: World) -> None:
    """The change form acts on the signed-in person only: naming another user changes nothing."""
    new = "a stranger's long passphrase"
    response = signed_in(world.stranger).post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": new,
            "new_password2": new,
            "user": world.clinician.pk,
            "email": world.clinician.email,
        },
    )
    assert response.status_code == 302
    world.clinician.refresh_from_db()
    assert world.clinician.check_password(PASSWORD)
    assert not world.clinician.check_password(new)
