"""Clients and network members may turn two-step sign-in on (and off again); once on, it holds
them to the code step just as it holds staff. Staff can replace their app but never turn it off."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice

from kithkin.accounts import mfa
from kithkin.accounts.models import AuthenticatorDevice
from kithkin.audit.models import AuditEvent
from tests.accounts.mfa_helpers import (
    code_for,
    confirmed_device,
    enrol_through_the_pages,
    password_only,
    reauthenticate,
)
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def test_it_leaves_clients_and_members_with_the_password_alone_by_default(world: World) -> None:
    for user in (world.client_a_user, world.member):
        assert not mfa.needs_mfa(user)
        http = password_only(user)
        assert http.get(reverse("home")).status_code == 200
        page = http.get(reverse("settings")).content.decode()
        assert "Two-step sign-in" in page
        assert "Turn on two-step sign-in" in page


def test_it_lets_a_client_opt_in_after_confirming_her_password(world: World) -> None:
    user = world.client_a_user
    http = password_only(user)
    first = http.get(reverse("mfa_enrol"))
    assert first.status_code == 302
    assert first["Location"].startswith(reverse("reauth"))
    assert not AuthenticatorDevice.objects.filter(user=user).exists()
    reauthenticate(http)
    device, _codes = enrol_through_the_pages(http, user)
    assert mfa.is_enrolled(user) and mfa.needs_mfa(user)
    settings_page = http.get(reverse("settings")).content.decode()
    assert "Turn off two-step sign-in" in settings_page
    http.post(reverse("logout"))

    # From now on her password alone opens nothing.
    again = password_only(user)
    assert again.get(reverse("home"))["Location"].startswith(reverse("mfa_verify"))
    own_page = reverse("network_map", kwargs={"client_id": world.client_a.pk})
    assert again.get(own_page)["Location"].startswith(reverse("mfa_verify"))
    assert again.post(reverse("mfa_verify"), {"code": code_for(device, 1)}).status_code == 302
    assert again.get(reverse("home")).status_code == 200


def test_it_lets_a_member_opt_in_too(world: World) -> None:
    http = password_only(world.member)
    reauthenticate(http)
    enrol_through_the_pages(http, world.member)
    assert password_only(world.member).get(reverse("home")).status_code == 302


def test_it_lets_a_client_turn_it_off_after_confirming_it_is_her(world: World) -> None:
    user = world.client_a_user
    device = confirmed_device(user)
    StaticDevice.objects.create(user=user, name="recovery codes")
    http = signed_in(user)
    assert http.post(reverse("mfa_remove"))["Location"].startswith(reverse("reauth"))
    assert mfa.is_enrolled(user)
    reauthenticate(http, code=code_for(device))
    assert "Turn off two-step sign-in" in http.get(reverse("mfa_remove")).content.decode()
    response = http.post(reverse("mfa_remove"))
    assert response.status_code == 302 and response["Location"] == reverse("settings")
    assert not AuthenticatorDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="mfa.remove", actor_id=user.pk, outcome="success")
    assert http.get(reverse("home")).status_code == 200
    assert password_only(user).get(reverse("home")).status_code == 200


def test_it_never_lets_staff_turn_it_off(world: World) -> None:
    device = confirmed_device(world.clinician)
    http = signed_in(world.clinician)
    reauthenticate(http, code=code_for(device))
    page = http.get(reverse("settings")).content.decode()
    assert "Staff accounts always use two-step sign-in." in page
    assert "Turn off two-step sign-in" not in page
    response = http.post(reverse("mfa_remove"))
    assert response.status_code == 302 and response["Location"] == reverse("settings")
    assert AuthenticatorDevice.objects.filter(user=world.clinician, confirmed=True).exists()
    # And the service refuses on its own, audited, whatever view calls it.
    from django.test import RequestFactory

    request = RequestFactory().post("/")
    request.user = world.clinician
    request.session = http.session
    assert mfa.remove_mfa(request) is False
    assert AuditEvent.objects.filter(action="mfa.remove", outcome="denied").exists()


def test_it_makes_new_recovery_codes_and_the_old_ones_stop_working(world: World) -> None:
    user = world.client_a_user
    http = password_only(user)
    reauthenticate(http)
    _device, old_codes = enrol_through_the_pages(http, user)
    assert "Make new codes" in http.get(reverse("mfa_regenerate")).content.decode()
    response = http.post(reverse("mfa_regenerate"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Save your recovery codes" in body
    assert AuditEvent.objects.filter(action="mfa.recovery_codes", actor_id=user.pk).exists()
    later = password_only(user)
    assert later.post(reverse("mfa_recovery"), {"code": old_codes[0]}).status_code == 200
    assert later.get(reverse("home")).status_code == 302


def test_it_refuses_strangers_and_other_peoples_codes(world: World) -> None:
    """Anonymous visitors go to sign in; client B's app code does not open client A's step."""
    for name in ("mfa_enrol", "mfa_remove", "mfa_regenerate"):
        response = HttpClient().get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    device_a = confirmed_device(world.client_a_user)
    device_b = confirmed_device(world.client_b_user)
    http = password_only(world.client_a_user)
    code_b = code_for(device_b)
    if code_b in {code_for(device_a, step) for step in (-1, 0, 1)}:
        pytest.skip("the two devices happen to show the same code right now")
    assert http.post(reverse("mfa_verify"), {"code": code_b}).status_code == 200
    assert http.get(reverse("home")).status_code == 302
