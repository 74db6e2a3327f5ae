"""The clinician's private session notes are kept apart from the shared summary: the care team
sees them on the session page, and nobody else sees them anywhere: not the client's own view,
not the summary PDF (for anyone), not a member's page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from kithkin.audit.models import AuditEvent
from kithkin.care import consent, sessions
from kithkin.care.models import AgendaStep, ClinicianNote, NetworkSession
from kithkin.network import pdf
from tests.care.session_data import member_record, said, session_of, session_url
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

NOTE = "Private: wonder about the brother's drinking"


def _held_with_note(world: World) -> NetworkSession:
    session = session_of(world, status="held", starts_at=timezone.now() - timedelta(days=1))
    session.shared_summary = "We agreed on a calmer Friday routine."
    session.save(update_fields=["shared_summary"])
    said(session, AgendaStep.PROBLEM, "Fridays are hard", world.client_a_user)
    response = signed_in(world.clinician).post(
        session_url("care_session_note", world, session), {"note-text": NOTE}
    )
    assert response.status_code == 302
    return session


def test_the_care_team_sees_the_note(world: World) -> None:
    session = _held_with_note(world)
    note = ClinicianNote.objects.get(session=session)
    assert note.author == world.clinician
    assert AuditEvent.objects.filter(
        action="care.session.note.create", object_id=str(note.pk)
    ).exists()
    body = signed_in(world.clinician).get(session_url("care_session", world, session))
    assert NOTE.replace("'", "&#x27;") in body.content.decode()


def test_it_refuses_an_empty_note(world: World) -> None:
    session = session_of(world)
    response = signed_in(world.clinician).post(
        session_url("care_session_note", world, session), {"note-text": "  "}
    )
    assert response.status_code == 200
    assert "Write the note first" in response.content.decode()
    assert not ClinicianNote.objects.exists()


def test_the_client_never_sees_the_note(world: World) -> None:
    session = _held_with_note(world)
    http = signed_in(world.client_a_user)
    page = http.get(session_url("care_session", world, session)).content.decode()
    assert "calmer Friday routine" in page
    assert "brother" not in page
    assert "Private notes" not in page
    # Nor can she write one.
    response = http.post(session_url("care_session_note", world, session), {"note-text": "x"})
    assert response.status_code == 404
    assert ClinicianNote.objects.count() == 1


@pytest.mark.parametrize("who", ["clinician", "client_a_user"])
def test_the_summary_pdf_never_holds_the_note(
    world: World, who: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = _held_with_note(world)
    printed: list[str] = []
    original = pdf.render_pdf

    def capture(template: str, context: dict[str, Any], *, request: Any) -> bytes:
        printed.append(render_to_string(template, context, request=request))
        return original(template, context, request=request)

    monkeypatch.setattr(pdf, "render_pdf", capture)
    response = signed_in(getattr(world, who)).get(session_url("care_session_pdf", world, session))

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    (html,) = printed
    assert "calmer Friday routine" in html and "Fridays are hard" in html
    assert "brother" not in html


@pytest.mark.parametrize("audience", ["clinician", "client", "member"])
def test_the_summary_context_has_no_way_to_the_note(world: World, audience: str) -> None:
    session = _held_with_note(world)
    scope = None
    if audience == "member":
        consent.decide(None, member_record(world), session_summaries=True, own_actions=True)
        scope = consent.scope_of(member_record(world))
    context = sessions.summary_context(session, audience=audience, scope=scope)
    assert not any(isinstance(value, ClinicianNote) for value in context.values())
    html = render_to_string("care/session_summary_pdf.html", context)
    assert "brother" not in html
    assert "calmer Friday routine" in html


def test_a_member_never_sees_the_note(world: World) -> None:
    session = _held_with_note(world)
    consent.decide(None, member_record(world), session_summaries=True, own_actions=True)
    http = signed_in(world.member)
    page = http.get(f"/circles/{world.client_a.pk}/sessions/{session.pk}/")
    assert page.status_code == 200
    assert "calmer Friday routine" in page.content.decode()
    assert "brother" not in page.content.decode()
    # The care team's page stays closed to them.
    assert http.get(session_url("care_session", world, session)).status_code == 404


@pytest.mark.parametrize("who", ["colleague", "admin", "member", "client_b_user", "stranger"])
def test_it_refuses_strangers(world: World, who: str) -> None:
    session = _held_with_note(world)
    http = signed_in(getattr(world, who))
    assert http.get(session_url("care_session", world, session)).status_code == 404
    assert http.get(session_url("care_session_pdf", world, session)).status_code == 404
    response = http.post(session_url("care_session_note", world, session), {"note-text": "x"})
    assert response.status_code == 404
    assert ClinicianNote.objects.count() == 1
