"""A clinician enters a client's answers in session: scored at once, risk checked, and nothing
created when the form is wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.urls import reverse

from kithkin.accounts.models import User
from kithkin.measures import services
from kithkin.measures.models import Assignment, Mode, Response, ResponseStatus, RiskAlert
from tests import factories
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

ITEM_9 = "Thoughts that you would be better off dead or of hurting yourself in some way"


def _url(world: World, instrument_id: str = "phq9") -> str:
    return reverse(
        "measures_enter", kwargs={"client_id": world.client_a.pk, "instrument_id": instrument_id}
    )


def _form(answers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data = {f"item_{item_id}": value for item_id, value in answers.items()}
    data.update(extra)
    return data


def _phq9(value: int = 1, item9: int = 0) -> dict[str, Any]:
    answers: dict[str, Any] = {str(n): value for n in range(1, 9)}
    answers["9"] = item9
    return answers


def _post(user: User, world: World, data: dict[str, Any], instrument_id: str = "phq9") -> Any:
    return signed_in(user).post(_url(world, instrument_id), data)


def test_it_shows_every_question_on_one_page(world: World) -> None:
    response = signed_in(world.clinician).get(_url(world))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<fieldset") == 9
    assert f"9. {ITEM_9}" in body
    assert "Nearly every day" in body


def test_it_saves_scores_and_submits_in_one_go(world: World) -> None:
    response = _post(world.clinician, world, _form(_phq9(1), note="Discussed sleep"))
    saved = Response.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "measures_response", kwargs={"client_id": world.client_a.pk, "response_id": saved.pk}
    )
    assert (saved.status, saved.mode, saved.entered_by) == (
        ResponseStatus.SUBMITTED,
        Mode.IN_SESSION,
        world.clinician,
    )
    assert (saved.total, saved.band) == (8, "Mild")
    assert saved.note == "Discussed sleep"
    assert not RiskAlert.objects.exists()


def test_it_raises_an_alert_for_phq9_item_9_and_opens_it(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(world.clinician, world, _form(_phq9(0, item9=2)))
    alert = RiskAlert.objects.get()
    assert (alert.client, alert.item_id, alert.value) == (world.client_a, "9", 2)
    assert alert.response.is_submitted
    assert response["Location"] == reverse(
        "measures_alert", kwargs={"client_id": world.client_a.pk, "alert_id": alert.pk}
    )
    assert [m.to for m in mail.outbox] == [[world.clinician.email]]


def test_it_completes_the_clients_check_in_in_progress(world: World) -> None:
    assignment = factories.assignment(world.client_a, "phq9", interval_days=7)
    started = Response.objects.create(
        client=world.client_a,
        assignment=assignment,
        instrument_id="phq9",
        definition_version="1",
        answers={"1": 3, "2": 3},
    )
    assert _post(world.clinician, world, _form(_phq9(0))).status_code == 302
    saved = Response.objects.get()
    assert saved.pk == started.pk
    # The clinician's answers replace what was saved before.
    assert (saved.total, saved.mode, saved.is_submitted) == (0, Mode.IN_SESSION, True)
    assignment.refresh_from_db()
    assert assignment.next_due_at is not None and assignment.next_due_at > saved.started_at


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_form({**_phq9(1), "3": 7}), "Question 3: choose one of the answers."),
        (_form({**_phq9(1), "4": ""}), "Question 4 has no answer."),
        (_form({}), "Answer at least one question."),
        (_form({**_phq9(1), "5": "", "6": ""}), "Question 6 has no answer."),
    ],
)
def test_it_creates_nothing_when_the_form_is_wrong(
    world: World, data: dict[str, Any], message: str
) -> None:
    response = _post(world.clinician, world, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Response.objects.exists()
    assert not RiskAlert.objects.exists()


def test_it_creates_nothing_and_raises_no_alert_when_a_risk_answer_comes_with_a_bad_one(
    world: World,
) -> None:
    response = _post(world.clinician, world, _form({**_phq9(1, item9=3), "1": "9"}))
    assert response.status_code == 200
    assert not Response.objects.exists()
    assert not RiskAlert.objects.exists()


def test_it_accepts_a_question_left_unanswered_on_purpose(world: World) -> None:
    data = _form({**_phq9(1), "4": ""}, allow_missing="on")
    assert _post(world.clinician, world, data).status_code == 302
    saved = Response.objects.get()
    assert "4" not in saved.answers
    # PHQ-9's own missing-answer rule decides the score.
    assert saved.total is not None or saved.no_score_reason


def test_it_names_people_from_the_map_for_the_five_s_but_never_a_not_safe_one(
    world: World,
) -> None:
    sam = factories.person_of(world.client_a, "Sam")
    kept_away = factories.person_of(world.client_a, "Riley", not_safe=True)
    others = factories.person_of(world.client_b, "Bea's friend")
    page = signed_in(world.clinician).get(_url(world, "five_s")).content.decode()
    assert page.count("With whom (optional)") == 5
    assert "Sam" in page
    assert "Riley" not in page
    answers = dict.fromkeys(("seen", "safe", "soothed", "secure", "stable"), 3)
    refused = _post(
        world.clinician,
        world,
        _form(answers, people_seen=[str(sam.pk), str(kept_away.pk)]),
        "five_s",
    )
    assert refused.status_code == 200
    assert "One of the people chosen is not on the list" in refused.content.decode()
    # Someone from another client's map cannot be named either.
    elsewhere = _post(
        world.clinician, world, _form(answers, people_seen=[str(others.pk)]), "five_s"
    )
    assert elsewhere.status_code == 200
    assert "One of the people chosen is not on the list" in elsewhere.content.decode()
    assert not Response.objects.exists()
    data = _form(answers, people_seen=[str(sam.pk)], people_safe=[str(sam.pk)])
    assert _post(world.clinician, world, data, "five_s").status_code == 302
    saved = Response.objects.get()
    assert services.people_named(saved) == {"seen": [sam.pk], "safe": [sam.pk]}


def test_it_explains_an_instrument_that_cannot_be_entered(world: World) -> None:
    response = signed_in(world.clinician).get(_url(world, "ssps"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "This questionnaire cannot be entered yet" in body
    assert "ships without its questions" in body
    assert "<fieldset" not in body
    assert _post(world.clinician, world, {"item_1": "1"}, "ssps").status_code == 200
    assert not Response.objects.exists()


def test_it_does_not_know_an_unknown_instrument(world: World) -> None:
    assert signed_in(world.clinician).get(_url(world, "nope")).status_code == 404


@pytest.mark.parametrize("who", ["colleague", "admin", "stranger", "client_a_user", "member"])
def test_it_refuses_everyone_outside_the_care_team(world: World, who: str) -> None:
    user = getattr(world, who)
    assert signed_in(user).get(_url(world)).status_code == 404
    assert _post(user, world, _form(_phq9(1, item9=1))).status_code == 404
    assert not Response.objects.exists()
    assert not Assignment.objects.exists()
    assert services.open_alerts_for(world.clinician).count() == 0
