"""A person's own settings: name and time zone, audited; password change."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from kithkin.accounts.models import CareTeamMember, User
from kithkin.audit.models import AuditEvent
from tests.conftest import World, signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_changes_settings_shows_the_current_values(world: World) -> None:
    response = signed_in(world.clinician).get(reverse("settings"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert 'value="Cleo Clinician"' in body
    assert '<option value="Europe/London" selected>' in body
    assert reverse("password_change") in body
    assert '<label for="id_time_zone">' in body


def test_it_changes_settings_and_audits_it(world: World) -> None:
    http = signed_in(world.member)
    response = http.post(
        reverse("settings"), {"display_name": "  Mel   M. ", "time_zone": "Asia/Tokyo"}
    )
    assert response.status_code == 302
    world.member.refresh_from_db()
    assert world.member.display_name == "Mel M."
    assert world.member.time_zone == "Asia/Tokyo"
    event = AuditEvent.objects.filter(action="account.update").get()
    assert event.actor_id == world.member.pk
    assert event.object_id == str(world.member.pk)
    assert event.detail == {"fields": ["display_name", "time_zone"]}
    assert "Your settings are saved." in http.get(reverse("settings")).content.decode()


def test_it_changes_settings_time_zone_changes_how_times_render(world: World) -> None:
    CareTeamMember.objects.filter(client=world.client_a).update(
        added_at=datetime.datetime(2024, 3, 10, 2, 0, tzinfo=datetime.UTC)
    )
    http = signed_in(world.clinician)
    assert "10 Mar 2024" in http.get(reverse("home")).content.decode()
    http.post(
        reverse("settings"), {"display_name": "Cleo Clinician", "time_zone": "America/Chicago"}
    )
    body = http.get(reverse("home")).content.decode()
    assert "9 Mar 2024" in body
    assert "10 Mar 2024" not in body


def test_it_changes_settings_refuses_bad_input_with_clear_words(world: World) -> None:
    http = signed_in(world.clinician)
    response = http.post(reverse("settings"), {"display_name": "   ", "time_zone": "Mars/Base"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'role="alert"' in body
    assert "Select a valid choice" in body
    assert 'href="#id_time_zone"' in body
    assert 'aria-invalid="true"' in body
    world.clinician.refresh_from_db()
    assert world.clinician.time_zone == "Europe/London"
    assert world.clinician.display_name == "Cleo Clinician"
    assert not AuditEvent.objects.filter(action="account.update").exists()


def test_it_changes_settings_only_for_the_signed_in_person(world: World) -> None:
    anonymous = HttpClient().post(
        reverse("settings"), {"display_name": "Hijack", "time_zone": "UTC"}
    )
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    # A stranger changing "their" settings changes only their own account.
    signed_in(world.stranger).post(
        reverse("settings"), {"display_name": "Sam S", "time_zone": "UTC", "id": world.admin.pk}
    )
    assert User.objects.get(pk=world.admin.pk).display_name == "Ada Admin"
    assert User.objects.get(pk=world.stranger.pk).display_name == "Sam S"


def test_it_changes_settings_password_change_keeps_you_signed_in(world: World) -> None:
    http = signed_in(world.client_a_user)
    new = "another long calm passphrase"
    wrong = http.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": new, "new_password2": new},
    )
    assert wrong.status_code == 200
    assert 'role="alert"' in wrong.content.decode()
    response = http.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("settings")
    assert http.get(reverse("home")).status_code == 200
    user = User.objects.get(pk=world.client_a_user.pk)
    assert user.check_password(new)
    assert AuditEvent.objects.filter(action="account.password_change", actor_id=user.pk).exists()
