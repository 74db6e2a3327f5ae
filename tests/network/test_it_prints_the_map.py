from __future__ import annotations

import pytest
from django.urls import reverse

from kithkin.accounts.models import Client
from kithkin.audit.models import AuditEvent
from tests import factories
from tests.conftest import World, signed_in


def _url(client: Client) -> str:
    return reverse("network_map_pdf", kwargs={"client_id": client.pk})


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["clinician", "client_a_user"])
def test_it_prints_the_map_as_a_pdf(world: World, who: str) -> None:
    sam = factories.person_of(world.client_a, "Sam", helps_safe=True)
    kim = factories.person_of(world.client_a, "Kim", not_safe=True, ring=3)
    factories.tie(sam, kim)
    factories.contact(sam)
    response = signed_in(getattr(world, who)).get(_url(world.client_a))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "Sam" not in response["Content-Disposition"]
    assert AuditEvent.objects.filter(
        action="network.map.pdf", client_id=str(world.client_a.pk), outcome="success"
    ).exists()


@pytest.mark.django_db
def test_it_prints_an_empty_map(world: World) -> None:
    response = signed_in(world.client_a_user).get(_url(world.client_a))
    assert response.content.startswith(b"%PDF")


@pytest.mark.django_db
def test_it_keeps_the_page_printable(world: World) -> None:
    factories.person_of(world.client_a, "Sam")
    body = (
        signed_in(world.clinician)
        .get(reverse("network_map", kwargs={"client_id": world.client_a.pk}))
        .content.decode()
    )
    # Navigation and shortcuts are hidden in print (network.css), the map and table stay.
    assert 'class="subnav no-print"' in body
    assert "<table" in body and "<svg" in body


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["colleague", "admin", "member", "client_b_user", "stranger"])
def test_it_refuses_strangers_the_pdf(world: World, who: str) -> None:
    factories.person_of(world.client_a, "Sam")
    response = signed_in(getattr(world, who)).get(_url(world.client_a))
    assert response.status_code == 404
    assert not response.content.startswith(b"%PDF")
