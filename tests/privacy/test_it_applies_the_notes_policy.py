"""Clinicians' private session notes (psychotherapy notes) are kept apart: the practice's policy
decides whether an export holds them, and members never see them."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse

from kithkin.accounts.models import Role
from kithkin.audit.models import AuditEvent
from kithkin.privacy.models import DataExport, NotesInExport, PrivacyPolicy
from tests import factories
from tests.conftest import World, signed_in
from tests.privacy.privacy_data import Canaries, fill_record

POLICY = reverse("privacy_practice")


def export_url(world: World) -> str:
    return reverse("privacy_client_export", kwargs={"client_id": world.client_a.pk})


def data_of(response: object) -> str:
    assert getattr(response, "status_code", None) == 200
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read("data.json").decode()


def set_policy(world: World, choice: str) -> None:
    response = signed_in(world.admin).post(
        POLICY, {"notes_in_export": choice, "retention_years": "8"}
    )
    assert response.status_code == 302


@pytest.fixture
def canaries(world: World) -> Canaries:
    return fill_record(world.client_a, world.clinician, "a")


@pytest.mark.django_db
def test_by_default_no_export_holds_the_notes(world: World, canaries: Canaries) -> None:
    assert canaries.private_note not in data_of(
        signed_in(world.client_a_user).post(reverse("privacy_my_data"))
    )
    for user in (world.clinician, world.admin):
        assert canaries.private_note not in data_of(signed_in(user).post(export_url(world)))
    assert not DataExport.objects.filter(notes_included=True).exists()


@pytest.mark.django_db
def test_include_puts_them_in_every_export(world: World, canaries: Canaries) -> None:
    set_policy(world, NotesInExport.INCLUDE)
    assert PrivacyPolicy.objects.get(practice=world.practice).notes_in_export == "include"
    mine = data_of(signed_in(world.client_a_user).post(reverse("privacy_my_data")))
    assert canaries.private_note in mine
    assert canaries.private_note in data_of(signed_in(world.clinician).post(export_url(world)))
    assert AuditEvent.objects.filter(action="privacy.policy.update").exists()


@pytest.mark.django_db
def test_on_request_needs_an_admin_and_a_recorded_reason(world: World, canaries: Canaries) -> None:
    set_policy(world, NotesInExport.ON_REQUEST)
    # The client's own and the care team's exports leave them out, even when a reason is sent.
    assert canaries.private_note not in data_of(
        signed_in(world.client_a_user).post(reverse("privacy_my_data"))
    )
    clinician = signed_in(world.clinician)
    assert "Reason for including" not in clinician.get(export_url(world)).content.decode()
    assert canaries.private_note not in data_of(
        clinician.post(export_url(world), {"notes_reason": "Court asked"})
    )
    admin = signed_in(world.admin)
    assert "Reason for including" in admin.get(export_url(world)).content.decode()
    assert canaries.private_note not in data_of(admin.post(export_url(world)))
    assert canaries.private_note in data_of(
        admin.post(export_url(world), {"notes_reason": "Subject access request, ref 42"})
    )
    made = DataExport.objects.get(notes_included=True)
    assert made.made_by == world.admin and made.reason == "Subject access request, ref 42"
    audited = AuditEvent.objects.filter(action="privacy.export", detail__notes=True)
    assert audited.count() == 1
    assert "Subject access" not in json.dumps(audited.get().detail)


@pytest.mark.django_db
def test_members_never_reach_the_notes(world: World, canaries: Canaries) -> None:
    set_policy(world, NotesInExport.INCLUDE)
    http = signed_in(world.member)
    assert http.post(export_url(world)).status_code == 404
    assert http.post(reverse("privacy_my_data")).status_code == 404
    circle = http.get(reverse("circle", kwargs={"client_id": world.client_a.pk}))
    assert circle.status_code == 200
    assert canaries.private_note not in circle.content.decode()


@pytest.mark.django_db
def test_only_admins_set_the_policy_and_bad_values_are_named(world: World) -> None:
    bad = signed_in(world.admin).post(
        POLICY, {"notes_in_export": "sometimes", "retention_years": "0"}
    )
    assert bad.status_code == 200
    page = bad.content.decode()
    assert "Select a valid choice" in page
    assert "greater than or equal to 1" in page
    assert not PrivacyPolicy.objects.exists()
    for user in (world.clinician, world.stranger, world.member, world.client_a_user):
        response = signed_in(user).post(
            POLICY, {"notes_in_export": "include", "retention_years": "1"}
        )
        assert response.status_code == 403
    assert not PrivacyPolicy.objects.exists()
    # An admin of another practice sets only her own practice's policy.
    elsewhere = factories.staff(world.other_practice, Role.ADMIN)
    set_by_other = signed_in(elsewhere).post(
        POLICY, {"notes_in_export": "include", "retention_years": "3"}
    )
    assert set_by_other.status_code == 302
    assert PrivacyPolicy.objects.get().practice == world.other_practice
