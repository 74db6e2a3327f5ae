"""Setting up an authenticator app, recovery codes, and the code step at sign-in: wrong codes,
single-use recovery codes, replayed codes, and the limit of 5 tries in 15 minutes."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticToken

from kithkin.accounts import mfa
from kithkin.accounts.models import AuthenticatorDevice
from kithkin.audit.models import AuditEvent
from tests.accounts.mfa_helpers import (
    code_for,
    confirmed_device,
    enrol_through_the_pages,
    password_only,
    recovery_codes_in,
    wrong_code,
)
from tests.conftest import World

pytestmark = pytest.mark.django_db


def events(action: str, user_id: int) -> list[tuple[str, dict[str, object]]]:
    rows = AuditEvent.objects.filter(action=action, actor_id=user_id).order_by("id")
    return [(row.outcome, row.detail) for row in rows]


def test_it_shows_a_qr_code_and_the_key_to_type(world: World) -> None:
    http = password_only(world.clinician)
    body = http.get(reverse("mfa_enrol")).content.decode()
    device = AuthenticatorDevice.objects.get(user=world.clinician, confirmed=False)
    assert 'src="data:image/svg+xml' in body
    assert mfa.secret_for_typing(device) in body
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", mfa.secret_for_typing(device))
    assert "<script" not in body and "style=" not in body
    # Reloading shows the same key: the pending device is reused, not replaced.
    http.get(reverse("mfa_enrol"))
    assert AuthenticatorDevice.objects.filter(user=world.clinician).count() == 1


def test_it_enrols_staff_and_shows_ten_recovery_codes_once(world: World) -> None:
    http = password_only(world.clinician)
    old_session = http.session.session_key
    device, codes = enrol_through_the_pages(http, world.clinician)
    assert device.confirmed
    assert len(set(codes)) == 10
    # Through: the session has the second step, under a new session id.
    assert http.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert http.session.session_key != old_session
    assert http.get(reverse("home")).status_code == 200
    # Stored hashed: no code appears in the database as typed.
    stored = set(
        StaticToken.objects.filter(device__user=world.clinician).values_list("token", flat=True)
    )
    assert len(stored) == 10
    assert not stored & {c.replace("-", "") for c in codes} and not stored & set(codes)
    assert events("mfa.enrol", world.clinician.pk) == [("success", {"replaced": False})]
    # Shown once: the settings page counts them but never lists them again.
    settings_page = http.get(reverse("settings")).content.decode()
    assert "10 unused recovery codes" in settings_page
    assert not recovery_codes_in(settings_page)


def test_it_refuses_a_wrong_code_when_setting_up(world: World) -> None:
    http = password_only(world.clinician)
    http.get(reverse("mfa_enrol"))
    device = AuthenticatorDevice.objects.get(user=world.clinician)
    response = http.post(reverse("mfa_enrol"), {"code": wrong_code(device)})
    assert response.status_code == 200
    assert "That code did not work" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticToken.objects.filter(device__user=world.clinician).exists()
    assert events("mfa.enrol", world.clinician.pk) == [("failed", {})]
    bad_shape = http.post(reverse("mfa_enrol"), {"code": "12ab"})
    assert "The code is 6 digits" in bad_shape.content.decode()


def test_it_verifies_a_code_and_audits_each_try(world: World) -> None:
    device = confirmed_device(world.clinician)
    http = password_only(world.clinician)
    before = http.session.session_key
    wrong = http.post(reverse("mfa_verify"), {"code": wrong_code(device)})
    assert wrong.status_code == 200
    assert "That code did not work. Check the newest code in your app" in wrong.content.decode()
    right = http.post(reverse("mfa_verify"), {"code": code_for(device), "next": "/settings/"})
    assert right.status_code == 302 and right["Location"] == "/settings/"
    assert http.session.session_key != before
    assert events("mfa.verify", world.clinician.pk) == [
        ("failed", {}),
        ("success", {"method": "app"}),
    ]


def test_it_never_accepts_the_same_code_twice(world: World) -> None:
    device = confirmed_device(world.clinician)
    code = code_for(device)
    first = password_only(world.clinician)
    assert first.post(reverse("mfa_verify"), {"code": code}).status_code == 302
    second = password_only(world.clinician)
    replay = second.post(reverse("mfa_verify"), {"code": code})
    assert replay.status_code == 200
    assert "That code did not work" in replay.content.decode()


def test_it_never_follows_next_to_another_site(world: World) -> None:
    device = confirmed_device(world.clinician)
    http = password_only(world.clinician)
    response = http.post(
        reverse("mfa_verify"), {"code": code_for(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_it_accepts_each_recovery_code_once(world: World) -> None:
    http = password_only(world.clinician)
    _, codes = enrol_through_the_pages(http, world.clinician)
    http.post(reverse("logout"))

    again = password_only(world.clinician)
    page = again.get(reverse("mfa_recovery"))
    assert "Enter one of the recovery codes you saved" in page.content.decode()
    # Typed in capitals and without dashes, still accepted.
    used = again.post(reverse("mfa_recovery"), {"code": codes[0].replace("-", "").upper()})
    assert used.status_code == 302
    home = again.get(reverse("home"))
    assert home.status_code == 200
    assert "You have 9 recovery codes left" in home.content.decode()
    assert StaticToken.objects.filter(device__user=world.clinician).count() == 9
    verified = AuditEvent.objects.filter(action="mfa.verify", outcome="success").latest("id")
    assert verified.detail == {"method": "recovery_code", "recovery_codes_left": 9}

    third = password_only(world.clinician)
    reused = third.post(reverse("mfa_recovery"), {"code": codes[0]})
    assert reused.status_code == 200
    assert "That recovery code did not work" in reused.content.decode()
    assert third.post(reverse("mfa_recovery"), {"code": codes[1]}).status_code == 302


def test_it_stops_after_five_tries_in_fifteen_minutes(world: World) -> None:
    device = confirmed_device(world.clinician)
    http = password_only(world.clinician)
    bad = wrong_code(device)
    for _ in range(mfa.CODE_LIMIT):
        assert http.post(reverse("mfa_verify"), {"code": bad}).status_code == 200
    # The sixth try is refused even with the right code, and recovery codes count too.
    refused = http.post(reverse("mfa_verify"), {"code": code_for(device)})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many tries" in refused.content.decode()
    assert http.post(reverse("mfa_recovery"), {"code": "aaaa-bbbb-cccc-dddd"}).status_code == 429
    outcomes = [o for o, _ in events("mfa.verify", world.clinician.pk)]
    assert outcomes == ["failed"] * 5 + ["denied", "denied"]
    assert AuditEvent.objects.filter(
        action="throttle.refused", actor_id=world.clinician.pk
    ).exists()
    # Still not through.
    assert http.get(reverse("home")).status_code == 302
    # Another person's limit is their own.
    other = confirmed_device(world.colleague)
    assert (
        password_only(world.colleague)
        .post(reverse("mfa_verify"), {"code": code_for(other)})
        .status_code
        == 302
    )


def test_it_replaces_a_device_and_the_old_one_stops_working(world: World) -> None:
    http = password_only(world.clinician)
    old_device, old_codes = enrol_through_the_pages(http, world.clinician)
    # Replacing needs the password and a code again.
    assert http.get(reverse("mfa_enrol"))["Location"].startswith(reverse("reauth"))
    http.post(
        reverse("reauth"), {"password": "a long test passphrase", "code": code_for(old_device, 1)}
    )
    new_device, new_codes = enrol_through_the_pages(http, world.clinician)
    assert new_device.pk != old_device.pk
    assert not AuthenticatorDevice.objects.filter(pk=old_device.pk).exists()
    assert http.get(reverse("home")).status_code == 200  # this session stays through
    assert events("mfa.enrol", world.clinician.pk)[-1] == ("success", {"replaced": True})
    later = password_only(world.clinician)
    assert later.post(reverse("mfa_recovery"), {"code": old_codes[0]}).status_code == 200
    assert later.post(reverse("mfa_recovery"), {"code": new_codes[0]}).status_code == 302


def test_it_refuses_a_stranger_nothing_but_sign_in(world: World) -> None:
    """Anonymous visitors are sent to sign in, and a stranger's codes never open another
    person's step."""
    assert HttpClient().post(reverse("mfa_verify"), {"code": "123456"}).status_code == 302
    mine = confirmed_device(world.clinician)
    theirs = confirmed_device(world.stranger)
    http = password_only(world.clinician)
    their_code = code_for(theirs)
    if their_code in {code_for(mine, step) for step in (-1, 0, 1)}:
        their_code = wrong_code(mine)
    assert http.post(reverse("mfa_verify"), {"code": their_code}).status_code == 200
    assert http.get(reverse("home")).status_code == 302


def test_right_codes_never_use_up_the_limit(world: World) -> None:
    """Signing in on a desk, a phone and a laptop within minutes is not guessing: a right code
    clears the count. Only wrong codes add up to the pause, and a stranger's are her own."""
    device = confirmed_device(world.clinician)
    for _ in range(mfa.CODE_LIMIT + 2):
        # Each sign-in on another device gets a fresh code (as 30 seconds later).
        AuthenticatorDevice.objects.filter(pk=device.pk).update(last_t=-1)
        http = password_only(world.clinician)
        assert http.post(reverse("mfa_verify"), {"code": code_for(device)}).status_code == 302
    # Four wrong codes, then the right one: through, and the count starts again.
    http = password_only(world.clinician)
    for _ in range(mfa.CODE_LIMIT - 1):
        assert http.post(reverse("mfa_verify"), {"code": wrong_code(device)}).status_code == 200
    AuthenticatorDevice.objects.filter(pk=device.pk).update(last_t=-1)
    assert http.post(reverse("mfa_verify"), {"code": code_for(device)}).status_code == 302
    # The stranger's wrong codes pause only the stranger.
    stranger_device = confirmed_device(world.stranger)
    stranger = password_only(world.stranger)
    for _ in range(mfa.CODE_LIMIT):
        stranger.post(reverse("mfa_verify"), {"code": wrong_code(stranger_device)})
    assert stranger.post(reverse("mfa_verify"), {"code": "123456"}).status_code == 429
    AuthenticatorDevice.objects.filter(pk=device.pk).update(last_t=-1)
    again = password_only(world.clinician)
    assert again.post(reverse("mfa_verify"), {"code": code_for(device)}).status_code == 302


def test_the_pause_page_shows_nothing_before_the_second_step(world: World) -> None:
    """The "too many tries" page, reached before the code step is passed, has no navigation and
    no emergency-access banner naming a client: only signing out."""
    device = confirmed_device(world.colleague)
    verified = password_only(world.colleague)
    verified.post(reverse("mfa_verify"), {"code": code_for(device)})
    reason = "Police called: she is missing and they need her safety plan now"
    opened = verified.post(
        reverse("breakglass_open"),
        {"client": str(world.client_a.pk), "reason": reason, "minutes": 30},
    )
    assert opened.status_code == 302
    assert "Emergency access to" in verified.get(reverse("home")).content.decode()
    # Another sign-in, password only, with wrong codes until the pause.
    http = password_only(world.colleague)
    for _ in range(mfa.CODE_LIMIT):
        http.post(reverse("mfa_verify"), {"code": wrong_code(device)})
    paused = http.post(reverse("mfa_verify"), {"code": wrong_code(device)})
    assert paused.status_code == 429
    body = paused.content.decode()
    assert "Please wait a moment" in body and "Sign out" in body
    assert "Emergency access to" not in body and "Alex Rivers" not in body
    assert "Caseload" not in body and "Inbox" not in body
