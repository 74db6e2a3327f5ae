"""Every client-facing measures page is for the client herself and her care team only. Anyone
else (another practice's clinician, a colleague off the care team, the practice admin, a network
member, another client) gets a 404 on every method, and the refusal is audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kithkin.accounts.models import User
from kithkin.audit.models import AuditEvent
from kithkin.measures.models import Response
from tests import factories
from tests.conftest import World, signed_in

OUTSIDERS = ["stranger", "colleague", "admin", "member", "client_b_user"]
PAGES = [
    "measures_overview",
    "measures_instrument",
    "measures_support",
    "measures_checkin_start",
    "measures_response",
    "measures_response_step",
    "measures_response_review",
    "measures_response_done",
]


def _urls(world: World) -> dict[str, str]:
    assignment = factories.assignment(world.client_a, "phq9")
    response = Response.objects.create(
        client=world.client_a,
        assignment=assignment,
        instrument_id="phq9",
        definition_version="1.0.0",
        answers={"1": 2},
    )
    client = {"client_id": world.client_a.pk}
    answered = {**client, "response_id": response.pk}
    return {
        "measures_overview": reverse("measures_overview", kwargs=client),
        "measures_instrument": reverse(
            "measures_instrument", kwargs={**client, "instrument_id": "phq9"}
        ),
        "measures_support": reverse("measures_support", kwargs=client),
        "measures_checkin_start": reverse(
            "measures_checkin_start", kwargs={**client, "assignment_id": assignment.pk}
        ),
        "measures_response": reverse("measures_response", kwargs=answered),
        "measures_response_step": reverse("measures_response_step", kwargs={**answered, "step": 1}),
        "measures_response_review": reverse("measures_response_review", kwargs=answered),
        "measures_response_done": reverse("measures_response_done", kwargs=answered),
    }


@pytest.mark.parametrize("who", OUTSIDERS)
def test_it_refuses_everyone_but_the_client_and_her_care_team(world: World, who: str) -> None:
    urls = _urls(world)
    user: User = getattr(world, who)
    http = signed_in(user)
    for name in PAGES:
        for page in (
            http.get(urls[name]),
            http.post(urls[name], {"action": "next", "answer": "3", "note": "x"}),
        ):
            assert page.status_code == 404, (name, page.status_code)
            assert "Alex" not in page.content.decode(errors="replace")
    response = Response.objects.get()
    assert response.answers == {"1": 2} and not response.is_submitted
    assert Response.objects.count() == 1
    denied = AuditEvent.objects.filter(actor_id=user.pk, outcome="denied").count()
    assert denied == 2 * len(PAGES)


@pytest.mark.parametrize("who", ["client_a_user", "clinician"])
def test_it_opens_every_page_to_the_client_and_her_care_team(world: World, who: str) -> None:
    urls = _urls(world)
    http = signed_in(getattr(world, who))
    for name in PAGES:
        page = http.get(urls[name])
        # Starting is POST only; every other page shows or moves on.
        expected = {405} if name == "measures_checkin_start" else {200, 302}
        assert page.status_code in expected, (name, page.status_code)


def test_it_keeps_a_response_to_its_own_client_in_the_url(world: World) -> None:
    """Client B cannot reach client A's response by putting it under her own client id."""
    urls = _urls(world)
    response = Response.objects.get()
    http = signed_in(world.client_b_user)
    moved = urls["measures_response"].replace(str(world.client_a.pk), str(world.client_b.pk))
    assert str(response.pk) in moved
    assert http.get(moved).status_code == 404
