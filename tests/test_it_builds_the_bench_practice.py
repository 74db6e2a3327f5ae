"""The HTTP benchmark's synthetic practice: built in bulk with raw inserts, it reads back through
the models as ordinary data. The counts match the scale, each seat is what the load driver
expects, and every stored score is what the measures scoring gives."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone

from kithkin.accounts import access
from kithkin.accounts.models import CareTeamMember, Client, Practice, Role, User
from kithkin.bench import practice
from kithkin.care.models import NetworkSession
from kithkin.measures import scoring, services
from kithkin.measures.models import Assignment, Response, ResponseStatus, RiskAlert
from kithkin.network.models import Contact, Person
from tests import factories

SCALE = practice.Scale(clients=200, contacts=6000, responses=1000, sessions=100)


def _reaches(user: User, client_id: object) -> bool:
    request = RequestFactory().get("/")
    request.user = user
    try:
        access.get_client(request, client_id, access.Purpose.CARE)
    except Http404:  # the refusal: a stranger cannot tell it from a missing client
        return False
    return True


@pytest.mark.django_db
def test_it_builds_the_practice_at_the_scale_asked() -> None:
    built = practice.build(SCALE, seats=3, drafts_per_seat=4)
    ours = Practice.objects.get(pk=built.practice_id)
    clients = Client.objects.filter(practice=ours)

    assert Contact.objects.filter(client__in=clients).count() == 6000 == built.counts["contacts"]
    submitted = Response.objects.filter(client__in=clients, status=ResponseStatus.SUBMITTED)
    assert submitted.count() == 1000 == built.counts["responses"]
    assert NetworkSession.objects.filter(client__in=clients).count() == 100
    assert clients.count() == 203 == built.counts["clients"]
    assert Person.objects.filter(client__in=clients).count() == built.counts["people"]
    assert len(built.staff) == len(built.clients) == len(built.submitters) == 3
    users = [
        *(s.user_id for s in built.staff),
        *(s.user_id for s in built.clients),
        *(s.user_id for s in built.submitters),
    ]
    assert len(set(users)) == 9
    assert set(User.objects.filter(pk__in=users).values_list("time_zone", flat=True)) == {
        "Europe/London"
    }
    # Rows written raw read back through the models: encrypted names decrypt.
    person = Person.objects.get(pk=built.clients[0].person_id)
    assert person.client_id == built.clients[0].client_id and not person.not_safe
    assert " " in person.name


@pytest.mark.django_db
def test_each_staff_seat_reaches_its_client_and_a_stranger_does_not() -> None:
    built = practice.build(SCALE, seats=3, drafts_per_seat=4)
    ours = Practice.objects.get(pk=built.practice_id)
    for seat in built.staff:
        clinician = User.objects.get(pk=seat.user_id)
        assert CareTeamMember.objects.filter(client_id=seat.client_id, user=clinician).exists()
        assert _reaches(clinician, seat.client_id)
        session = NetworkSession.objects.get(pk=seat.session_id)
        assert session.client_id == seat.client_id
        scores = Response.objects.filter(
            client_id=seat.client_id, instrument_id=seat.instrument_id, status="submitted"
        )
        assert scores.count() >= 2
        stranger = factories.staff(ours, Role.CLINICIAN, display_name=f"Stranger {seat.user_id}")
        assert not _reaches(stranger, seat.client_id)
    for client_seat in built.clients:
        client = Client.objects.get(pk=client_seat.client_id)
        assert client.user_id == client_seat.user_id and client.discharged_at is None


@pytest.mark.django_db
def test_submitter_drafts_are_complete_and_raise_no_alert() -> None:
    built = practice.build(SCALE, seats=3, drafts_per_seat=4)
    phq9 = services.instrument("phq9")
    for seat in built.submitters:
        assert Client.objects.get(pk=seat.client_id).user_id == seat.user_id
        assert len(seat.draft_ids) == 4
        drafts = Response.objects.filter(pk__in=seat.draft_ids)
        assert drafts.count() == 4
        for draft in drafts:
            assert draft.client_id == seat.client_id and draft.assignment_id is not None
            assert draft.status == ResponseStatus.IN_PROGRESS and draft.instrument_id == "phq9"
            answers = services.answers_of(draft)
            assert set(answers) == {item.id for item in phq9.items}
            assert answers["9"] == 0
            assert not scoring.evaluate_risks(phq9, answers)
            assert scoring.score(phq9, answers).total is not None
        # The first draft is on the client's active PHQ-9 schedule.
        first = Response.objects.get(pk=seat.draft_ids[0])
        assert first.assignment_id is not None
        assert Assignment.objects.active().filter(pk=first.assignment_id).exists()


@pytest.mark.django_db
def test_stored_scores_are_what_the_scoring_gives() -> None:
    built = practice.build(SCALE, seats=3, drafts_per_seat=4)
    sample = Response.objects.filter(
        client__practice_id=built.practice_id, status=ResponseStatus.SUBMITTED
    ).order_by("submitted_at")[::17]
    assert len(sample) > 50
    for response in sample:
        chosen = services.instrument(response.instrument_id)
        expected = services.score_fields(scoring.score(chosen, services.answers_of(response)))
        stored = {name: getattr(response, name) for name in expected}
        assert stored == expected
        assert response.definition_version == chosen.version
        assert response.submitted_at is not None and response.submitted_at.tzinfo is not None
    # The open alerts come from answers that fire the rule, and point at their response.
    alerts = RiskAlert.objects.open().filter(client__practice_id=built.practice_id)
    assert alerts.count() == built.counts["risk_alerts"] >= 1
    for alert in alerts:
        answers = services.answers_of(alert.response)
        assert scoring.evaluate_risks(services.instrument("phq9"), answers)


class _Undo(Exception):
    pass


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_practice() -> None:
    # The same seed makes the same ids, so the first build is rolled back before the second.
    when = timezone.now()
    try:
        with transaction.atomic():
            first = practice.build(SCALE, seats=3, drafts_per_seat=4, now=when)
            first_times = list(
                Contact.objects.filter(client_id=first.clients[0].client_id)
                .order_by("occurred_at")
                .values_list("occurred_at", flat=True)
            )
            raise _Undo
    except _Undo:
        pass
    second = practice.build(SCALE, seats=3, drafts_per_seat=4, now=when)
    # User ids come from the database's sequence (not rolled back on PostgreSQL); all else
    # comes from the seed.
    assert [(s.client_id, s.session_id) for s in second.staff] == [
        (s.client_id, s.session_id) for s in first.staff
    ]
    assert [s.draft_ids for s in second.submitters] == [s.draft_ids for s in first.submitters]
    assert [(s.client_id, s.person_id) for s in second.clients] == [
        (s.client_id, s.person_id) for s in first.clients
    ]
    assert second.counts == first.counts
    times = Contact.objects.filter(client_id=second.clients[0].client_id).order_by("occurred_at")
    assert list(times.values_list("occurred_at", flat=True)) == first_times
