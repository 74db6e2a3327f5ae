"""The demo's staff have two-step sign-in set up at load time, and `kithkin demo-code` prints
their current code; it refuses every account the demo loader did not set up."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import reverse

from kithkin.accounts.mfa import DEMO_DEVICE_NAME
from kithkin.accounts.models import AuthenticatorDevice, User
from kithkin.cli import login_box, main
from kithkin.demo import generator
from kithkin.demo.mfa import current_code, ensure_staff_mfa
from tests.conftest import World

pytestmark = pytest.mark.django_db


def seed(**options: object) -> None:
    call_command("seed_demo", stdout=StringIO(), **options)


def test_it_sets_up_every_demo_staff_member_and_no_client(world: World) -> None:
    seed(clients=4)
    staff = User.objects.filter(
        email__endswith=f"@{generator.EMAIL_DOMAIN}", membership__isnull=False
    )
    assert staff.count() >= 3
    for user in staff:
        assert AuthenticatorDevice.objects.filter(
            user=user, name=DEMO_DEVICE_NAME, confirmed=True
        ).exists()
    client = User.objects.get(email=generator.CLIENT_EMAIL)
    member = User.objects.get(email=generator.MEMBER_EMAIL)
    assert not AuthenticatorDevice.objects.filter(user__in=[client, member]).exists()
    assert current_code(generator.CLIENT_EMAIL) is None


def test_it_signs_a_demo_clinician_in_with_the_printed_code(world: World) -> None:
    seed(clients=4)
    http = HttpClient()
    http.post(
        reverse("login"),
        {"username": generator.CLINICIAN_EMAIL, "password": generator.DEMO_PASSWORD},
    )
    code = current_code(generator.CLINICIAN_EMAIL.upper())
    assert code is not None and len(code) == 6 and code.isdigit()
    assert http.post(reverse("mfa_verify"), {"code": code}).status_code == 302
    assert http.get(reverse("home")).status_code == 200
    # Signing in again straight away: the used code is spent, and demo-code gives the next one.
    again = HttpClient()
    again.post(
        reverse("login"),
        {"username": generator.CLINICIAN_EMAIL, "password": generator.DEMO_PASSWORD},
    )
    next_code = current_code(generator.CLINICIAN_EMAIL)
    assert next_code is not None
    assert again.post(reverse("mfa_verify"), {"code": next_code}).status_code == 302


def test_it_refuses_codes_for_real_accounts(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stranger's (or any real person's) device never yields a code here, even if it were
    named like a demo device."""
    seed(clients=4)
    AuthenticatorDevice.objects.create(user=world.stranger, name=DEMO_DEVICE_NAME, confirmed=True)
    assert current_code(world.stranger.email) is None
    assert current_code("nobody@demo.kithkin.test") is None
    # The command: the environment it sets is put back after the test.
    monkeypatch.setenv("KITHKIN_ENV", "test")
    monkeypatch.setenv("KITHKIN_DATA_DIR", "/nonexistent-demo-dir")
    assert main(["demo-code", world.stranger.email]) == 1
    assert "No demo code for that address" in capsys.readouterr().err
    assert main(["demo-code", generator.ADMIN_EMAIL]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.isdigit() and len(printed) == 6


def test_it_gives_devices_to_a_demo_loaded_before_two_step_sign_in(world: World) -> None:
    seed(clients=4)
    AuthenticatorDevice.objects.filter(name=DEMO_DEVICE_NAME).delete()
    seed(clients=4)  # "already loaded": only fills in the devices
    admin = User.objects.get(email=generator.ADMIN_EMAIL)
    assert AuthenticatorDevice.objects.filter(user=admin, name=DEMO_DEVICE_NAME).count() == 1
    assert ensure_staff_mfa() == 0
    assert not AuthenticatorDevice.objects.filter(user=world.clinician).exists()


def test_it_tells_demo_users_how_to_get_a_code() -> None:
    box = login_box("http://127.0.0.1:8000")
    assert "kithkin demo-code admin@demo.kithkin.test" in box
