"""The case progress report: a PDF for the care team only (not the client, a member or the
admin), with the plan, indicator status, sessions and attendance, actions per person, key
contacts by first name and the latest scores; never the clinician's private notes."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from kithkin.accounts.models import Client
from kithkin.audit.models import AuditEvent
from kithkin.care import review
from kithkin.care.models import Indicator, IndicatorKind, KeyContact
from tests import factories
from tests.care.circle_data import (
    NOTE_CANARY,
    RESPONSE_CANARY,
    Circle,
    build_circle,
    end_membership,
    grant_all,
    outsiders,
)
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def report_url(client: Client) -> str:
    return reverse("care_report_pdf", kwargs={"client_id": client.pk})


@pytest.fixture
def circle(world: World) -> Circle:
    built = build_circle(world)
    Indicator.objects.create(
        goal=built.goal, kind=IndicatorKind.SCORE, instrument_id="phq9", target_score=9
    )
    person = factories.person_of(world.client_a, "Samira Jones")
    KeyContact.objects.create(client=world.client_a, person=person)
    return built


def test_it_prints_the_report_for_the_care_team(circle: Circle) -> None:
    response = signed_in(circle.world.clinician).get(report_url(circle.client))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == 'inline; filename="case-progress-report.pdf"'
    assert AuditEvent.objects.filter(
        action="care.report.pdf", client_id=str(circle.client.pk), outcome="success"
    ).exists()


def test_the_report_holds_the_case_but_never_private_notes(circle: Circle) -> None:
    report = review.case_report(circle.client)
    assert [held.session.pk for held in report.sessions] == [circle.held.pk]
    assert report.sessions[0].came == ["Alex", "Mel", "Cleo Clinician"]
    assert report.sessions[0].missed == ["Olive"]
    assert report.key_contacts == ["Samira"]
    assert [row.title for row in report.latest_scores] == ["PHQ-9"]
    assert report.latest_scores[0].score == "9"
    assert report.latest_scores[0].change.startswith("\u221218")  # from 27 at first
    html = render_to_string(
        "care/review_report_pdf.html", {"client": circle.client, "report": report, "pdf": True}
    )
    assert "Evenings are hard" in html  # the problem
    assert "Sleep through most nights" in html  # the goal
    assert "PHQ-9 score of 9 or lower" in html
    assert "Samira" in html and "Jones" not in html
    assert "Private session notes are not included" in html
    for canary in (NOTE_CANARY, RESPONSE_CANARY):
        assert canary not in html


@pytest.mark.parametrize(
    "who", ["other_clients_member", "stranger", "colleague", "client_b", "admin", "client_a"]
)
def test_it_refuses_everyone_else(circle: Circle, who: str) -> None:
    response = signed_in(outsiders(circle.world)[who]).get(report_url(circle.client))
    assert response.status_code == 404
    assert not response.content.startswith(b"%PDF")


def test_it_refuses_the_clients_network_member_whatever_is_shared(circle: Circle) -> None:
    grant_all(circle.member)
    response = signed_in(circle.world.member).get(report_url(circle.client))
    assert response.status_code == 404
    end_membership(circle.member)
    assert signed_in(circle.world.member).get(report_url(circle.client)).status_code == 404
