from __future__ import annotations

import pytest
from django.urls import reverse

from kithkin.audit.models import AuditEvent
from tests.conftest import World, signed_in


def _url(world: World) -> str:
    return reverse("client_concerns", kwargs={"client_id": world.client_a.pk})


@pytest.mark.django_db
def test_it_lets_the_care_team_edit_presenting_concerns(world: World) -> None:
    http = signed_in(world.clinician)
    assert http.get(_url(world)).status_code == 200
    response = http.post(_url(world), {"presenting_concerns": "Nightmares since the fire"})
    assert response.status_code == 302
    world.client_a.refresh_from_db()
    assert world.client_a.presenting_concerns == "Nightmares since the fire"
    event = AuditEvent.objects.filter(action="client.update").latest("id")
    assert event.client_id == str(world.client_a.pk)
    assert event.actor_id == world.clinician.pk
    assert "Nightmares" not in str(event.detail)


@pytest.mark.django_db
def test_it_refuses_overlong_text_with_a_message(world: World) -> None:
    response = signed_in(world.clinician).post(_url(world), {"presenting_concerns": "x" * 5001})
    assert response.status_code == 200
    assert "5000" in response.content.decode()
    world.client_a.refresh_from_db()
    assert world.client_a.presenting_concerns == "Sleep, low mood"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["admin", "colleague", "stranger", "member", "client_b_user"])
def test_it_refuses_everyone_off_the_care_team(world: World, who: str) -> None:
    http = signed_in(getattr(world, who))
    assert http.get(_url(world)).status_code in (403, 404)
    assert http.post(_url(world), {"presenting_concerns": "overwritten"}).status_code in (403, 404)
    world.client_a.refresh_from_db()
    assert world.client_a.presenting_concerns == "Sleep, low mood"
