from __future__ import annotations

import math
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kithkin.accounts.models import Client, User
from kithkin.audit.models import AuditEvent
from kithkin.network.models import Category, Ring
from tests import factories
from tests.conftest import World, signed_in

STRANGERS = ["colleague", "admin", "member", "client_b_user", "stranger"]


def _url(client: Client, name: str = "network_map") -> str:
    return reverse(name, kwargs={"client_id": client.pk})


def _populate(client: Client, count: int) -> None:
    people = [
        factories.person_of(
            client,
            f"Person {index}",
            ring=[Ring.INNER, Ring.MIDDLE, Ring.OUTER][index % 3],
            category=[Category.FAMILY, Category.FRIEND, Category.WORK][index % 3],
            helps_safe=index % 2 == 0,
            wished_rhythm_days=7,
        )
        for index in range(count)
    ]
    for index, person in enumerate(people):
        factories.contact(person)
        if index:
            factories.tie(person, people[index - 1])
    factories.person_of(client, "Removed", removed_at="2024-01-01T00:00:00Z")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["clinician", "client_a_user"])
def test_it_shows_the_map_to_the_care_team_and_the_client(world: World, who: str) -> None:
    sam = factories.person_of(world.client_a, "Sam Safe", ring=Ring.INNER, helps_safe=True)
    factories.person_of(world.client_a, "Olu Outer", ring=Ring.OUTER, category=Category.WORK)
    factories.person_of(world.client_a, "Nico Unsafe", ring=Ring.MIDDLE, not_safe=True)
    response = signed_in(getattr(world, who)).get(_url(world.client_a))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body
    for name in ("Sam Safe", "Olu Outer", "Nico Unsafe"):
        assert name in body
    assert (
        reverse("network_person", kwargs={"client_id": world.client_a.pk, "person_id": sam.pk})
        in body
    )
    assert reverse("network_contact_log", kwargs={"client_id": world.client_a.pk}) in body
    if who == "client_a_user":
        assert "Your support map" in body
    assert AuditEvent.objects.filter(
        action="network.map.view", client_id=str(world.client_a.pk), outcome="success"
    ).exists()


def _nodes(body: str) -> dict[str, tuple[float, float, str]]:
    found = {}
    for match in re.finditer(
        r'<a href="[^"]+" class="(sociogram__node[^"]*)" data-person="([^"]+)" '
        r'data-x="([\d.]+)" data-y="([\d.]+)"',
        body,
    ):
        found[match.group(2)] = (float(match.group(3)), float(match.group(4)), match.group(1))
    return found


@pytest.mark.django_db
def test_it_draws_each_person_in_their_ring_with_the_five_s_and_not_safe_marked(
    world: World,
) -> None:
    inner = [factories.person_of(world.client_a, f"In {i}", ring=Ring.INNER) for i in range(4)]
    outer = [
        factories.person_of(world.client_a, f"Out {i}", ring=Ring.OUTER, category=Category.WORK)
        for i in range(4)
    ]
    unsafe = factories.person_of(world.client_a, "Dee", ring=Ring.MIDDLE, not_safe=True)
    held = factories.person_of(
        world.client_a, "Held", ring=Ring.MIDDLE, helps_seen=True, helps_stable=True
    )
    body = signed_in(world.clinician).get(_url(world.client_a)).content.decode()
    nodes = _nodes(body)
    assert len(nodes) == 10

    def distance(person_id: object) -> float:
        x, y, _classes = nodes[str(person_id)]
        return math.hypot(x - 500, y - 500)

    assert max(distance(p.pk) for p in inner) < min(distance(p.pk) for p in outer)
    assert "sociogram__node--not-safe" in nodes[str(unsafe.pk)][2]
    assert "sociogram__node--not-safe" not in nodes[str(held.pk)][2]
    assert "not safe for me" in body
    # Five markers per person, two filled for "Held".
    drawing = body.split('<svg class="sociogram"')[1].split("</svg>")[0]
    assert drawing.count('class="five-s five-s--') == 10 * 5
    held_block = body.split(f'data-person="{held.pk}"')[1].split("</a>")[0]
    assert held_block.count("five-s--held") == 2
    assert "<title>Held" in held_block


@pytest.mark.django_db
def test_it_lists_everyone_in_the_table_with_their_rhythm(world: World) -> None:
    sam = factories.person_of(world.client_a, "Sam", wished_rhythm_days=7, helps_safe=True)
    factories.contact(sam)
    factories.person_of(world.client_a, "Kim", category=Category.FAMILY, gives_practical=True)
    body = signed_in(world.client_a_user).get(_url(world.client_a)).content.decode()
    table = body.split("<table")[1].split("</table>")[0]
    assert "Sam" in table and "Kim" in table
    assert "within your wish of every 7 days" in table
    assert "practical help" in table
    assert "Family" in table


@pytest.mark.django_db
def test_it_shows_the_gaps_and_metrics(world: World) -> None:
    factories.person_of(world.client_a, "Sam", helps_safe=True)
    body = signed_in(world.client_a_user).get(_url(world.client_a)).content.decode()
    assert 'id="gaps-heading"' in body
    assert "Sam" in body.split('id="gaps-heading"')[1].split("</section>")[0]


@pytest.mark.django_db
def test_it_shows_an_empty_map_kindly(world: World) -> None:
    body = signed_in(world.client_a_user).get(_url(world.client_a)).content.decode()
    assert "Your map is empty for now." in body
    assert _url(world.client_a, "network_quick_add") in body


@pytest.mark.django_db
@pytest.mark.parametrize("who", STRANGERS)
@pytest.mark.parametrize("name", ["network_map", "network_map_pdf"])
def test_it_refuses_strangers(world: World, who: str, name: str) -> None:
    factories.person_of(world.client_a, "Sam Secret")
    user: User = getattr(world, who)
    http = signed_in(user)
    for response in (http.get(_url(world.client_a, name)), http.post(_url(world.client_a, name))):
        assert response.status_code == 404
        assert "Sam Secret" not in response.content.decode(errors="replace")
    assert AuditEvent.objects.filter(actor_id=user.pk, outcome="denied").exists()


@pytest.mark.django_db
def test_it_draws_the_map_in_a_constant_number_of_queries(world: World) -> None:
    http = signed_in(world.clinician)
    counts = []
    for added in (3, 27):  # 3 people, then 30
        _populate(world.client_a, added)
        http.get(_url(world.client_a))  # warm the session and caches alike for both sizes
        with CaptureQueriesContext(connection) as queries:
            response = http.get(_url(world.client_a))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


@pytest.mark.django_db
def test_it_links_the_map_from_the_client_home_and_the_overview(world: World) -> None:
    map_url = _url(world.client_a)
    assert map_url in signed_in(world.client_a_user).get(reverse("home")).content.decode()
    overview = reverse("client_overview", kwargs={"client_id": world.client_a.pk})
    assert map_url in signed_in(world.clinician).get(overview).content.decode()
    # The administrative record (an admin off the care team) does not link the clinical map.
    assert map_url not in signed_in(world.admin).get(overview).content.decode()
