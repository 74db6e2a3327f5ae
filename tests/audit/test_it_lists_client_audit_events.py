from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kithkin.accounts.models import Client, Role, User
from kithkin.audit import services as audit
from kithkin.audit.models import AuditEvent
from tests import factories
from tests.conftest import World, signed_in


def _url(client: Client) -> str:
    return reverse("client_audit", kwargs={"client_id": client.pk})


@pytest.mark.django_db
def test_it_lists_the_clients_events_newest_first_with_names(world: World) -> None:
    audit.record(
        None,
        action="client.update",
        object_type="client",
        object_id=world.client_a.pk,
        client=world.client_a,
        actor=world.admin,
    )
    audit.record(
        None,
        action="client.view",
        object_type="client",
        object_id=world.client_b.pk,
        client=world.client_b,
        actor=world.colleague,
    )
    response = signed_in(world.clinician).get(_url(world.client_a), REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    body = response.content.decode()
    # The page's own read is recorded first, so it is listed first.
    assert body.index("Looked at this audit trail") < body.index(
        "Changed the client&#x27;s details"
    )
    assert "Ada Admin" in body and "Practice admin" in body and "Cleo Clinician" in body
    assert "203.0.113.9" in body
    assert "Colin Colleague" not in body  # that event belongs to another client


@pytest.mark.django_db
def test_it_shows_practice_admins_the_trail(world: World) -> None:
    response = signed_in(world.admin).get(_url(world.client_a))
    assert response.status_code == 200


@pytest.mark.django_db
def test_it_paginates_by_fifty(world: World) -> None:
    for _ in range(60):
        audit.record(None, action="client.view", client=world.client_a, actor=world.clinician)
    http = signed_in(world.clinician)
    first = http.get(_url(world.client_a)).content.decode()
    assert first.count("<tr>") == 51  # header row + 50
    assert "Page 1 of 2" in first
    second = http.get(_url(world.client_a) + "?page=2").content.decode()
    assert second.count("<tr>") == 1 + 62 - 50  # 60 + two page reads


@pytest.mark.django_db
def test_it_keeps_the_query_count_constant(world: World) -> None:
    http = signed_in(world.clinician)
    counts = []
    for size in (2, 10):
        for index in range(size):
            actor = factories.staff(world.practice, Role.CLINICIAN, display_name=f"S{index}")
            audit.record(None, action="client.view", client=world.client_a, actor=actor)
        with CaptureQueriesContext(connection) as queries:
            assert http.get(_url(world.client_a)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who", ["stranger", "colleague", "client_a_user", "client_b_user", "member"]
)
def test_it_refuses_strangers(world: World, who: str) -> None:
    user: User = getattr(world, who)
    response = signed_in(user).get(_url(world.client_a))
    assert response.status_code == 404
    assert AuditEvent.objects.filter(
        action="client.audit", actor_id=user.pk, outcome="denied"
    ).exists()


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_sign_in(world: World) -> None:
    assert HttpClient().get(_url(world.client_a)).status_code == 302


@pytest.mark.django_db
def test_it_names_emergency_access_and_data_rights_in_plain_words(world: World) -> None:
    for action in ("breakglass.open", "privacy.export", "privacy.erasure.request"):
        audit.record(None, action=action, client=world.client_a, actor=world.colleague)
    body = signed_in(world.clinician).get(_url(world.client_a)).content.decode()
    assert "Opened emergency access" in body
    assert "Downloaded a copy of the client&#x27;s data" in body
    assert "Asked for the client&#x27;s record to be erased" in body
    assert "Breakglass" not in body
    # The stranger from another practice never sees this trail.
    assert signed_in(world.stranger).get(_url(world.client_a)).status_code == 404
