"""The include for the client's home page lists her due check-ins (overview rows or plain
assignments) with a button each, and a quiet link to the crisis resources."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.test import RequestFactory

from kithkin.measures import services
from kithkin.measures.models import Response
from tests import factories
from tests.conftest import World
from tests.measures.checkin_pages import overview_url, start_url, support_url


def test_it_lists_due_assignments_with_a_start_button(world: World, rf: RequestFactory) -> None:
    phq9 = factories.assignment(world.client_a, "phq9")
    gad7 = factories.assignment(world.client_a, "gad7")
    request = rf.get("/")
    request.user = world.client_a_user
    html = render_to_string(
        "measures/_client_home_checkins.html",
        {"checkins": services.due_for_client(world.client_a), "client": world.client_a},
        request=request,
    )
    assert "Patient Health Questionnaire-9" in html and "Generalized Anxiety Disorder" in html
    assert start_url(phq9) in html and start_url(gad7) in html
    assert html.count(">Start<") == 2
    assert support_url(world.client_a) in html and "Need support now?" in html
    assert overview_url(world.client_a) in html


def test_it_offers_to_carry_on_a_started_check_in(world: World, rf: RequestFactory) -> None:
    assignment = factories.assignment(world.client_a, "phq9")
    Response.objects.create(
        client=world.client_a,
        assignment=assignment,
        instrument_id="phq9",
        definition_version="1.0.0",
        answers={"1": 1},
    )
    rows = services.overview(world.client_a, audience="client").assignments
    html = render_to_string(
        "measures/_client_home_checkins.html", {"checkins": rows, "client": world.client_a}
    )
    assert "Carry on where you left off" in html and ">Start<" not in html
    assert start_url(assignment) in html


def test_it_says_when_nothing_is_due(world: World) -> None:
    html = render_to_string(
        "measures/_client_home_checkins.html", {"checkins": [], "client": world.client_a}
    )
    assert "Nothing to fill in right now." in html
    assert "Need support now?" in html
