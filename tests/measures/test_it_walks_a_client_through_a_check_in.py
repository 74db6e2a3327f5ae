"""The client answers a check-in one question per page, can stop and come back to the first
question she has not answered, reviews her answers with a note, and submits."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kithkin.audit.models import AuditEvent
from kithkin.measures.models import Cadence, Mode, Response
from tests import factories
from tests.conftest import World, signed_in
from tests.measures.checkin_pages import (
    answer,
    overview_url,
    response_url,
    start,
    start_url,
    step_url,
)


def test_it_asks_one_question_per_page_and_resumes_at_the_first_unanswered(
    world: World,
) -> None:
    assignment = factories.assignment(world.client_a, "phq9")
    http = signed_in(world.client_a_user)
    response, location = start(http, assignment)
    assert location == step_url(response, 1)
    assert response.mode == Mode.PORTAL

    page = http.get(step_url(response, 1)).content.decode()
    assert "Question 1 of 9" in page
    assert '<progress class="checkin__bar" max="9" value="1"' in page
    assert "Over the last 2 weeks, how often have you been bothered" in page  # instructions
    assert "<legend" in page and "Little interest or pleasure in doing things" in page
    assert 'type="radio" name="answer"' in page and "Several days" in page
    # "Need support now?" leads to the resources, with a way back to this question.
    assert "Need support now?" in page
    assert f"/measures/support/?response={response.pk}&amp;then=1" in page

    for step in (1, 2, 3):
        moved = answer(http, response, step, "1")
        assert moved["Location"] == step_url(response, step + 1)
    # Leave with "Save and finish later" on question 4, having chosen an answer.
    later = http.post(step_url(response, 4), {"action": "later", "answer": "2"})
    assert later["Location"] == overview_url(world.client_a)
    response.refresh_from_db()
    assert response.answers == {"1": 1, "2": 1, "3": 1, "4": 2}
    assert not response.is_submitted

    # Coming back lands on question 5, with the earlier answers kept.
    overview = http.get(overview_url(world.client_a)).content.decode()
    assert "Carry on where you left off" in overview
    same, location = start(http, assignment)
    assert same.pk == response.pk
    assert location == step_url(response, 5)
    back = http.get(step_url(response, 4)).content.decode()
    assert 'value="2" checked' in back

    for step in range(5, 10):
        answer(http, response, step, "0")
    review = http.get(response_url(response, "measures_response_review")).content.decode()
    assert "Check your answers" in review and "Not answered" not in review
    assert "Anything you would like your clinician to know?" in review
    submitted = http.post(
        response_url(response, "measures_response_review"), {"note": "  A hard fortnight. "}
    )
    assert submitted["Location"] == response_url(response, "measures_response_done")
    response.refresh_from_db()
    assert response.is_submitted
    assert response.total == 5
    assert response.note == "A hard fortnight."

    done = http.get(response_url(response, "measures_response_done")).content.decode()
    assert "Your answers have been saved" in done
    assert "Minimal" not in done and "Reliably" not in done  # no score talk on the thank-you
    # A submitted response's questions lead to its done page.
    again = http.get(step_url(response, 2))
    assert again["Location"] == response_url(response, "measures_response_done")
    assert AuditEvent.objects.filter(action="measures.response.submit").count() == 1


def test_it_lets_the_client_skip_and_shows_what_is_unanswered(world: World) -> None:
    assignment = factories.assignment(world.client_a, "gad7")
    http = signed_in(world.client_a_user)
    response, _ = start(http, assignment)
    answer(http, response, 1, "2")
    skipped = http.post(step_url(response, 2), {"action": "skip", "answer": "3"})
    assert skipped["Location"] == step_url(response, 3)
    response.refresh_from_db()
    assert response.answers == {"1": 2}
    for step in range(3, 8):
        answer(http, response, step, "1")
    review = http.get(response_url(response, "measures_response_review")).content.decode()
    assert "Not answered" in review
    assert "One question is not answered" in review
    assert step_url(response, 2) in review
    http.post(response_url(response, "measures_response_review"), {"note": ""})
    response.refresh_from_db()
    # GAD-7 allows no missing answers, so there is no score, and the reason is kept.
    assert response.is_submitted and response.total is None
    assert response.no_score_reason
    clinician_view = signed_in(world.clinician).get(response_url(response)).content.decode()
    assert "No score" in clinician_view
    assert response.no_score_reason.split(";")[0] in clinician_view


def test_it_goes_back_and_forward_keeping_answers(world: World) -> None:
    response, _ = start(signed_in(world.client_a_user), factories.assignment(world.client_a))
    http = signed_in(world.client_a_user)
    answer(http, response, 1, "3")
    went_back = http.post(step_url(response, 2), {"action": "back"})
    assert went_back["Location"] == step_url(response, 1)
    response.refresh_from_db()
    assert response.answers == {"1": 3}
    # "Back" from question 1 stays on question 1.
    assert http.post(step_url(response, 1), {"action": "back"})["Location"] == step_url(response, 1)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("7", "“7” is not one of the answers to this question"),
        ("abc", "“abc” is not one of the answers to this question"),
        ("nan", "“nan” is not one of the answers to this question"),
        ("", "Choose an answer, or use “Skip this question”"),
    ],
)
def test_it_names_a_bad_answer_and_saves_nothing(world: World, value: str, problem: str) -> None:
    http = signed_in(world.client_a_user)
    response, _ = start(http, factories.assignment(world.client_a, "phq9"))
    page = answer(http, response, 1, value)
    assert page.status_code == 200
    assert problem in page.content.decode()
    assert "There is a problem" in page.content.decode()
    response.refresh_from_db()
    assert response.answers == {}


@pytest.mark.parametrize("step", [0, 10, 99])
def test_it_refuses_a_question_that_does_not_exist(world: World, step: int) -> None:
    http = signed_in(world.client_a_user)
    response, _ = start(http, factories.assignment(world.client_a, "phq9"))
    assert http.get(step_url(response, step)).status_code == 404
    assert answer(http, response, step, "1").status_code == 404


def test_it_limits_the_note_with_a_clear_message(world: World) -> None:
    http = signed_in(world.client_a_user)
    response, _ = start(http, factories.assignment(world.client_a, "gad7"))
    page = http.post(response_url(response, "measures_response_review"), {"note": "x" * 4001})
    assert page.status_code == 200
    assert "The note is 4001 characters long" in page.content.decode()
    response.refresh_from_db()
    assert not response.is_submitted and response.note == ""


def test_it_refuses_to_start_a_stopped_check_in(world: World) -> None:
    assignment = factories.assignment(world.client_a, "phq9")
    assignment.ended_at = assignment.created_at
    assignment.save()
    http = signed_in(world.client_a_user)
    refused = http.post(start_url(assignment), follow=True)
    assert "This check-in has been stopped" in refused.content.decode()
    assert not Response.objects.exists()
    # Starting is a POST: a GET changes nothing.
    active = factories.assignment(world.client_a, "gad7")
    assert http.get(start_url(active)).status_code == 405
    assert not Response.objects.exists()


def test_it_lets_the_clinician_fill_a_check_in_in_session(world: World) -> None:
    assignment = factories.assignment(world.client_a, "gad7", cadence=Cadence.ONCE)
    http = signed_in(world.clinician)
    response, location = start(http, assignment)
    assert response.mode == Mode.IN_SESSION
    assert location == step_url(response, 1)
    assert "In session" in http.get(location).content.decode()
    for step in range(1, 8):
        answer(http, response, step, "2")
    http.post(response_url(response, "measures_response_review"), {"note": ""})
    response.refresh_from_db()
    assert response.is_submitted and response.total == 14
    done = http.get(response_url(response, "measures_response_done")).content.decode()
    assert "Moderate" in done and "14" in done
    assignment.refresh_from_db()
    assert assignment.completed_at is not None
    # The response's own page offers the FHIR export to the care team.
    fhir = response_url(response, "measures_response_fhir")
    assert fhir in http.get(response_url(response)).content.decode()
    assert fhir not in signed_in(world.client_a_user).get(response_url(response)).content.decode()


def test_it_shows_the_client_her_own_answers_and_note(world: World) -> None:
    http = signed_in(world.client_a_user)
    response, _ = start(http, factories.assignment(world.client_a, "phq4"))
    for step in range(1, 5):
        answer(http, response, step, "1")
    http.post(response_url(response, "measures_response_review"), {"note": "Busy week"})
    mine = http.get(response_url(response)).content.decode()
    assert "Your answers" in mine and "Several days" in mine and "Busy week" in mine
    theirs = signed_in(world.clinician).get(response_url(response)).content.decode()
    assert "The client's note" in theirs and "Busy week" in theirs


def test_it_links_the_overview_to_the_check_in(world: World) -> None:
    assignment = factories.assignment(world.client_a, "phq9")
    page = signed_in(world.client_a_user).get(overview_url(world.client_a)).content.decode()
    assert start_url(assignment) in page and ">Start<" in page
    assert reverse("measures_support", kwargs={"client_id": world.client_a.pk}) in page
