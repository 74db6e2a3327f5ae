"""Erasure: refused within retention unless a legal basis is recorded, confirmed by typing the
client's name, all or nothing, and the audit trail kept but pointing at nobody."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.http import HttpRequest
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.access import roles_of
from kithkin.accounts.models import Client, NetworkMember, Role, User
from kithkin.audit.models import AuditEvent, Outcome
from kithkin.audit.services import verify_chain
from kithkin.notifications.models import Notification
from kithkin.privacy import erasure, registry
from kithkin.privacy.models import ErasureRecord, ErasureRequest, PrivacyPolicy
from tests import factories
from tests.accounts.mfa_helpers import code_for, device_of
from tests.conftest import World, signed_in
from tests.factories import PASSWORD
from tests.privacy.privacy_data import Canaries, fill_record


def as_user(user: User) -> HttpRequest:
    request = RequestFactory().post("/")
    request.user = user
    return request


def discharge(client: Client, *, years_ago: float) -> None:
    Client.objects.filter(pk=client.pk).update(
        discharged_at=timezone.now() - timedelta(days=365.25 * years_ago)
    )
    client.refresh_from_db()


def counts(client_pk: Any) -> dict[str, int]:
    return {t.label: t.rows_of(client_pk).count() for t in registry.tables()}


def erase_url(client: Client, step: str = "") -> str:
    name = "privacy_client_erase_confirm" if step == "confirm" else "privacy_client_erase"
    return reverse(name, kwargs={"client_id": client.pk})


@pytest.fixture
def canaries(world: World) -> Canaries:
    fill_record(world.client_b, world.colleague, "b")
    made = fill_record(world.client_a, world.clinician, "a")
    ErasureRequest.objects.all().delete()  # the builder's request; each test makes its own
    return made


@pytest.mark.django_db
def test_it_refuses_erasure_within_retention_unless_a_legal_basis_is_recorded(
    world: World, canaries: Canaries
) -> None:
    http = signed_in(world.admin)
    in_care = http.post(erase_url(world.client_a), {"reason": "Client asked"})
    assert in_care.status_code == 200
    assert "still in care" in in_care.content.decode()
    assert not ErasureRequest.objects.exists()
    assert AuditEvent.objects.filter(
        action="privacy.erasure.request", outcome=Outcome.DENIED
    ).exists()

    discharge(world.client_a, years_ago=2)
    within = http.post(erase_url(world.client_a), {"reason": "Client asked"})
    assert "must be kept until" in within.content.decode()
    assert not ErasureRequest.objects.exists()

    overridden = http.post(
        erase_url(world.client_a), {"reason": "Client asked", "legal_basis": "Court order 12"}
    )
    assert overridden.status_code == 302
    assert overridden["Location"] == erase_url(world.client_a, "confirm")
    request = ErasureRequest.objects.get(client=world.client_a)
    assert request.within_retention and request.legal_basis == "Court order 12"


@pytest.mark.django_db
def test_the_practice_sets_its_retention_period(world: World, canaries: Canaries) -> None:
    discharge(world.client_a, years_ago=3)
    PrivacyPolicy.objects.create(practice=world.practice, retention_years=2)
    response = signed_in(world.admin).post(erase_url(world.client_a), {"reason": "Asked"})
    assert response.status_code == 302
    assert not ErasureRequest.objects.get(client=world.client_a).within_retention


@pytest.mark.django_db
def test_it_erases_every_row_after_confirmation_and_leaves_the_others(
    world: World, canaries: Canaries
) -> None:
    client = world.client_a
    client_pk, client_name = client.pk, client.display_name
    client_user = world.client_a_user
    identifying = [client_name, client_user.email, *canaries.all]
    discharge(client, years_ago=9)
    # A clinician's inbox entry that links into the record goes too.
    Notification.objects.create(
        user=world.clinician,
        kind="alert",
        title=f"Alert for {client_name}",
        url=f"/clients/{client_pk}/",
    )
    http = signed_in(world.admin)
    # Everyone reading and changing the record leaves audit rows naming its id.
    signed_in(client_user).get(reverse("privacy_my_consent"))
    signed_in(world.clinician).get(reverse("client_overview", kwargs={"client_id": client_pk}))
    others_before = counts(world.client_b.pk)
    assert http.post(erase_url(client), {"reason": "Asked by the client"}).status_code == 302
    # The admin confirms who they are before the page that erases opens, and comes back to it.
    asked = http.get(erase_url(client, "confirm"))
    assert asked["Location"].startswith(reverse("reauth"))
    back = http.post(
        asked["Location"],
        {"password": PASSWORD, "code": code_for(device_of(world.admin))},
    )
    assert back["Location"] == erase_url(client, "confirm")
    confirm_page = http.get(erase_url(client, "confirm")).content.decode()
    assert "Type the client" in confirm_page and "Asked by the client" in confirm_page

    wrong = http.post(erase_url(client, "confirm"), {"confirm_name": "Someone Else"})
    assert wrong.status_code == 200
    assert "does not match" in wrong.content.decode()
    assert Client.objects.filter(pk=client_pk).exists()

    done = http.post(erase_url(client, "confirm"), {"confirm_name": f"  {client_name.upper()} "})
    assert done.status_code == 302
    assert done["Location"] == reverse("privacy_practice")

    left = {label: n for label, n in counts(client_pk).items() if n}
    assert left == {}
    assert counts(world.client_b.pk) == others_before
    assert not User.objects.filter(pk=client_user.pk).exists()
    assert not NetworkMember.objects.filter(client_id=client_pk).exists()
    assert roles_of(User.objects.get(pk=world.member.pk)) == set()
    assert not Notification.objects.filter(url__contains=str(client_pk)).exists()

    record = ErasureRecord.objects.get()
    assert record.client_ref == str(client_pk)
    assert record.erased_by == world.admin and record.account_deleted
    assert record.rows_deleted["network.person"] == 2
    assert record.reason == "Asked by the client"
    assert client_name not in json.dumps(record.rows_deleted)

    # The audit trail is whole, and nothing in it leads back to her.
    assert verify_chain().ok
    rows = list(AuditEvent.objects.all())
    assert any(e.client_id == str(client_pk) for e in rows)
    assert any(e.actor_id == client_user.pk for e in rows)
    for event in rows:
        text = json.dumps(event.payload(), default=str)
        for value in identifying:
            assert value not in text
    assert not Client.objects.filter(pk=client_pk).exists()
    assert not User.objects.filter(pk=client_user.pk).exists()
    assert AuditEvent.objects.filter(action="privacy.erase", outcome=Outcome.SUCCESS).count() == 1


@pytest.mark.django_db
def test_nothing_is_half_erased_when_a_step_fails(
    world: World, canaries: Canaries, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = world.client_a
    discharge(client, years_ago=9)
    admin = as_user(world.admin)
    erasure.request_erasure(admin, client, reason="Asked")
    before = counts(client.pk)
    real = erasure._delete_rows

    def failing(table: registry.Table, client_pk: Any) -> dict[str, int]:
        if table.label == "network.person":
            raise RuntimeError("disk full")
        return real(table, client_pk)

    monkeypatch.setattr(erasure, "_delete_rows", failing)
    with pytest.raises(RuntimeError):
        erasure.erase_client(admin, client, confirm_name=client.display_name)
    assert counts(client.pk) == before
    assert User.objects.filter(pk=world.client_a_user.pk).exists()
    assert not ErasureRecord.objects.exists()
    assert AuditEvent.objects.filter(action="privacy.erase", outcome=Outcome.FAILED).exists()
    assert verify_chain().ok


@pytest.mark.django_db
def test_a_login_that_serves_another_role_is_kept(world: World, canaries: Canaries) -> None:
    client = world.client_a
    discharge(client, years_ago=9)
    # The client is also a network member of client B.
    NetworkMember.objects.create(client=world.client_b, user=world.client_a_user)
    admin = as_user(world.admin)
    erasure.request_erasure(admin, client, reason="Asked")
    record = erasure.erase_client(admin, client, confirm_name=client.display_name)
    assert not record.account_deleted
    assert User.objects.filter(pk=world.client_a_user.pk).exists()
    assert Role.MEMBER in roles_of(User.objects.get(pk=world.client_a_user.pk))


@pytest.mark.django_db
def test_only_the_practice_admins_may_erase(world: World, canaries: Canaries) -> None:
    discharge(world.client_a, years_ago=9)
    refused = [
        world.stranger,
        factories.staff(world.other_practice, Role.ADMIN),
        world.clinician,  # on the care team, but not an admin
        world.colleague,
        world.member,
        world.client_a_user,
        world.client_b_user,
    ]
    for user in refused:
        http = signed_in(user)
        for step in ("", "confirm"):
            assert http.get(erase_url(world.client_a, step)).status_code == 404
            assert http.post(erase_url(world.client_a, step), {"reason": "x"}).status_code == 404
    assert not ErasureRequest.objects.exists()
    assert Client.objects.filter(pk=world.client_a.pk).exists()


@pytest.mark.django_db
def test_the_practice_page_lists_erasures_with_constant_queries(world: World) -> None:
    def add_records(n: int) -> None:
        for _ in range(n):
            ErasureRecord.objects.create(
                practice=world.practice,
                client_ref=str(factories.ClientFactory.create(practice=world.practice).pk),
                erased_by=world.admin,
                requested_at=timezone.now(),
                reason="Asked",
                rows_deleted={"network.person": 3},
            )

    http = signed_in(world.admin)

    def measure() -> int:
        with CaptureQueriesContext(connection) as queries:
            page = http.get(reverse("privacy_practice"))
            assert page.status_code == 200
        return len(queries.captured_queries)

    add_records(1)
    small = measure()
    add_records(10)
    assert measure() == small
    page = http.get(reverse("privacy_practice")).content.decode()
    assert world.admin.display_name in page
    # Another practice's admin sees none of them.
    elsewhere = signed_in(factories.staff(world.other_practice, Role.ADMIN))
    theirs = elsewhere.get(reverse("privacy_practice")).content.decode()
    assert all(str(r.pk) not in theirs for r in ErasureRecord.objects.all())


@pytest.mark.django_db
def test_erasing_asks_the_admin_to_confirm_who_they_are_again(
    world: World, canaries: Canaries
) -> None:
    from kithkin.accounts.mfa import REAUTH_SECONDS, REAUTH_SESSION_KEY

    client = world.client_a
    discharge(client, years_ago=9)
    http = signed_in(world.admin)
    assert http.post(erase_url(client), {"reason": "Asked by the client"}).status_code == 302
    # Confirmed once, but longer ago than the window: the post that would erase is sent back
    # to the confirmation, which returns to the erasure page, and nothing is erased meanwhile.
    session = http.session
    session[REAUTH_SESSION_KEY] = timezone.now().timestamp() - REAUTH_SECONDS - 5
    session.save()
    posted = http.post(erase_url(client, "confirm"), {"confirm_name": client.display_name})
    assert posted.status_code == 302
    assert posted["Location"].startswith(reverse("reauth"))
    assert Client.objects.filter(pk=client.pk).exists()
    wrong = http.post(posted["Location"], {"password": "not the passphrase", "code": "000000"})
    assert wrong.status_code == 200
    # "Cancel" leads back to the client, not to the admin's own settings, even after a mistake.
    overview = reverse("client_overview", kwargs={"client_id": client.pk})
    assert f'href="{overview}">Cancel' in wrong.content.decode()
    assert "This step needs extra care" in wrong.content.decode()
    assert http.get(erase_url(client, "confirm"))["Location"].startswith(reverse("reauth"))
    back = http.post(
        posted["Location"], {"password": PASSWORD, "code": code_for(device_of(world.admin))}
    )
    assert back["Location"] == erase_url(client, "confirm")
    # A stranger who confirms who they are still finds no such record.
    stranger = signed_in(world.stranger)
    assert stranger.post(erase_url(client, "confirm"), {"confirm_name": "x"}).status_code == 404
    done = http.post(erase_url(client, "confirm"), {"confirm_name": client.display_name})
    assert done["Location"] == reverse("privacy_practice")
    assert not Client.objects.filter(pk=client.pk).exists()
