"""The Five S's check-in asks who helped, offering only people from the client's own map who are
safe to suggest; anyone else posted is refused with a message, and nothing is saved."""

from __future__ import annotations

from kithkin.measures import services
from kithkin.measures.models import ResponsePerson
from tests import factories
from tests.conftest import World, signed_in
from tests.measures.checkin_pages import answer, response_url, start, step_url


def test_it_offers_safe_people_and_saves_who_helped(world: World) -> None:
    sam = factories.person_of(world.client_a, "Sam")
    kim = factories.person_of(world.client_a, "Kim")
    unsafe = factories.person_of(world.client_a, "Rex", not_safe=True)
    elsewhere = factories.person_of(world.client_b, "Bea's friend")
    http = signed_in(world.client_a_user)
    response, _ = start(http, factories.assignment(world.client_a, "five_s"))

    page = http.get(step_url(response, 1)).content.decode()
    assert "Who helped? (optional)" in page
    assert "Sam" in page and "Kim" in page
    assert "Rex" not in page and str(unsafe.pk) not in page
    assert "Bea&#x27;s friend" not in page and str(elsewhere.pk) not in page

    moved = answer(http, response, 1, "3", people=[str(sam.pk), str(kim.pk)])
    assert moved["Location"] == step_url(response, 2)
    named = services.people_named(response)
    assert list(named) == ["seen"] and set(named["seen"]) == {sam.pk, kim.pk}
    # Coming back shows them ticked; unticking one removes it.
    again = http.get(step_url(response, 1)).content.decode()
    assert f'value="{sam.pk}" checked' in again
    answer(http, response, 1, "3", people=[str(kim.pk)])
    assert services.people_named(response) == {"seen": [kim.pk]}

    for step in range(2, 6):
        answer(http, response, step, "2")
    http.post(response_url(response, "measures_response_review"), {"note": ""})
    shown = http.get(response_url(response)).content.decode()
    assert "Who helped:" in shown and "Kim" in shown


def test_it_refuses_a_person_who_is_not_safe_or_not_on_the_map(world: World) -> None:
    sam = factories.person_of(world.client_a, "Sam")
    unsafe = factories.person_of(world.client_a, "Rex", not_safe=True)
    elsewhere = factories.person_of(world.client_b, "Bo")
    http = signed_in(world.client_a_user)
    response, _ = start(http, factories.assignment(world.client_a, "five_s"))
    for bad in (str(unsafe.pk), str(elsewhere.pk), "not-a-uuid"):
        page = answer(http, response, 1, "3", people=[str(sam.pk), bad])
        assert page.status_code == 200
        assert "One of the people chosen is not on the list" in page.content.decode()
    response.refresh_from_db()
    assert response.answers == {}
    assert not ResponsePerson.objects.exists()


def test_it_clears_the_people_when_a_question_is_skipped(world: World) -> None:
    sam = factories.person_of(world.client_a, "Sam")
    http = signed_in(world.client_a_user)
    response, _ = start(http, factories.assignment(world.client_a, "five_s"))
    answer(http, response, 2, "4", people=[str(sam.pk)])
    assert services.people_named(response) == {"safe": [sam.pk]}
    http.post(step_url(response, 2), {"action": "skip", "people": [str(sam.pk)]})
    response.refresh_from_db()
    assert response.answers == {}
    assert services.people_named(response) == {}


def test_it_says_where_people_come_from_when_the_map_is_empty(world: World) -> None:
    http = signed_in(world.client_a_user)
    response, _ = start(http, factories.assignment(world.client_a, "five_s"))
    page = http.get(step_url(response, 1)).content.decode()
    assert "Who helped?" not in page
    assert "People you add to your support map can be picked here" in page
