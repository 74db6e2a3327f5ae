"""A practice admin resets two-step sign-in for a clinician who lost her phone, ends the access
of someone who left, and restores it. Each change needs the admin to have confirmed who she is,
is about her own practice's staff only, never about herself, and is audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice

from kithkin.accounts.models import AuthenticatorDevice, Membership, Role, User
from kithkin.audit.models import AuditEvent, Outcome
from kithkin.security.models import UserSession
from tests import factories
from tests.accounts.mfa_helpers import code_for, confirmed_device, device_of, reauthenticate
from tests.conftest import World, signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

STAFF = "/practice/staff/"


def admin_ready(world: World) -> HttpClient:
    """The admin, signed in, having just confirmed who she is."""
    http = signed_in(world.admin)
    reauthenticate(http, code_for(device_of(world.admin), 1))
    return http


def change(http: HttpClient, user: User, what: str) -> Any:
    return http.post(STAFF, {"staff": user.pk, "change": what})


def test_it_lists_the_staff_with_what_the_admin_needs_to_decide(
    world: World, django_assert_num_queries: Callable[..., Any]
) -> None:
    confirmed_device(world.clinician)
    page = signed_in(world.admin).get(STAFF)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Cleo Clinician" in body and "Colin Colleague" in body
    assert "Lead for 1 client" in body  # Cleo leads client A's care team
    assert "Reset two-step sign-in for Cleo Clinician" in body
    assert "Your own account: use Settings." in body
    # Other practices' staff are not listed.
    assert world.stranger.display_name not in body
    # The page costs the same however many staff the practice has.
    http = signed_in(world.admin)
    http.get(STAFF)
    with CaptureQueriesContext(connection) as few:
        http.get(STAFF)
    for index in range(6):
        clinician = factories.staff(world.practice, display_name=f"Extra {index}")
        factories.client_of(world.practice, clinician)
    with django_assert_num_queries(len(few)):
        http.get(STAFF)


def test_it_resets_two_step_sign_in_for_someone_who_lost_her_phone(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    device = confirmed_device(world.clinician)
    StaticDevice.objects.create(user=world.clinician, name="recovery codes", confirmed=True)
    her_session = signed_in(world.clinician)
    assert her_session.get("/").status_code == 200
    http = admin_ready(world)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = change(http, world.clinician, "reset_two_step")
    assert done.status_code == 302 and done["Location"] == STAFF
    assert "Two-step sign-in was reset for Cleo Clinician" in http.get(STAFF).content.decode()
    assert not AuthenticatorDevice.objects.filter(user=world.clinician).exists()
    assert not StaticDevice.objects.filter(user=world.clinician).exists()
    # She is signed out everywhere, and told by email (nothing about clients in it).
    assert her_session.get("/")["Location"].startswith(reverse("login"))
    assert not UserSession.objects.filter(user=world.clinician).exists()
    assert [m.to for m in mail.outbox] == [[world.clinician.email]]
    assert "set up your authenticator app again" in mail.outbox[0].body
    assert "Alex" not in mail.outbox[0].body
    # Her next sign-in goes from the password to setting up a new app.
    fresh = HttpClient()
    fresh.post(reverse("login"), {"username": world.clinician.email, "password": PASSWORD})
    assert fresh.get("/")["Location"].startswith(reverse("mfa_enrol"))
    event = AuditEvent.objects.get(action="staff.two_step_reset", outcome=Outcome.SUCCESS)
    assert (event.actor_id, event.object_id) == (world.admin.pk, str(world.clinician.pk))
    assert device.pk  # the old device row is gone, not merely unconfirmed


def test_it_ends_and_restores_access_for_someone_who_left(world: World) -> None:
    confirmed_device(world.clinician)
    her_session = signed_in(world.clinician)
    http = admin_ready(world)
    assert change(http, world.clinician, "end_access").status_code == 302
    world.clinician.refresh_from_db()
    assert not world.clinician.is_active
    assert her_session.get(f"/clients/{world.client_a.pk}/")["Location"].startswith(
        reverse("login")
    )
    refused = HttpClient().post(
        reverse("login"), {"username": world.clinician.email, "password": PASSWORD}
    )
    assert refused.status_code == 200  # an inactive account cannot sign in
    # Nothing she wrote is removed: she is still on the care team, as history.
    assert world.client_a.care_team_links.filter(user=world.clinician).exists()
    assert "Access ended" in http.get(STAFF).content.decode()
    assert change(http, world.clinician, "restore_access").status_code == 302
    world.clinician.refresh_from_db()
    assert world.clinician.is_active
    actions = list(
        AuditEvent.objects.filter(action__startswith="staff.access").values_list(
            "action", flat=True
        )
    )
    assert actions == ["staff.access_end", "staff.access_restore"]


def test_each_change_needs_a_recent_confirmation(world: World) -> None:
    confirmed_device(world.clinician)
    http = signed_in(world.admin)  # signed in, but not confirmed again
    asked = change(http, world.clinician, "reset_two_step")
    assert asked["Location"].startswith(reverse("reauth"))
    assert AuthenticatorDevice.objects.filter(user=world.clinician).exists()


def test_no_admin_changes_her_own_account_or_leaves_the_practice_without_one(
    world: World,
) -> None:
    http = admin_ready(world)
    change(http, world.admin, "end_access")
    world.admin.refresh_from_db()
    assert world.admin.is_active
    assert "You cannot do this to your own account" in http.get(STAFF).content.decode()
    # A second admin may end the first's access, but not leave the practice with none.
    second = factories.staff(world.practice, Role.ADMIN, display_name="Second Admin")
    confirmed_device(second)
    other = signed_in(second)
    reauthenticate(other, code_for(device_of(second), 1))
    assert change(other, world.admin, "end_access").status_code == 302
    world.admin.refresh_from_db()
    assert not world.admin.is_active
    assert (
        Membership.objects.filter(
            practice=world.practice, role=Role.ADMIN, user__is_active=True
        ).count()
        == 1
    )


def test_it_refuses_everyone_but_the_practice_admins(world: World) -> None:
    confirmed_device(world.clinician)
    # Clinicians, clients and members are refused the page and the changes.
    for user in (world.clinician, world.colleague, world.client_a_user, world.member):
        http = signed_in(user)
        assert http.get(STAFF).status_code == 403
        assert change(http, world.clinician, "reset_two_step").status_code == 403
    # Another practice's admin cannot name this practice's staff: 404, audited, nothing done.
    other_admin = factories.staff(world.other_practice, Role.ADMIN, display_name="Other Admin")
    confirmed_device(other_admin)
    other = signed_in(other_admin)
    reauthenticate(other, code_for(device_of(other_admin), 1))
    assert change(other, world.clinician, "reset_two_step").status_code == 404
    assert change(other, world.clinician, "end_access").status_code == 404
    assert AuthenticatorDevice.objects.filter(user=world.clinician).exists()
    world.clinician.refresh_from_db()
    assert world.clinician.is_active
    assert AuditEvent.objects.filter(
        action="staff.two_step_reset", outcome=Outcome.DENIED, actor_id=other_admin.pk
    ).exists()
    # A nonsense id or change is refused calmly.
    http = admin_ready(world)
    assert http.post(STAFF, {"staff": "not-a-number", "change": "end_access"}).status_code == 404
    assert http.post(STAFF, {"staff": world.clinician.pk, "change": "delete"}).status_code == 302
    assert HttpClient().get(STAFF)["Location"].startswith(reverse("login"))
