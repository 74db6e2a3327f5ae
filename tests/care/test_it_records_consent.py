from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kithkin.accounts.models import NetworkMember, User
from kithkin.audit.models import AuditEvent
from kithkin.care import consent
from kithkin.care.models import ConsentGrant
from tests import factories
from tests.care import plan_data
from tests.care.plan_data import url
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

NEVER_SHARED = (
    "your answers to questionnaires, anything about risk, and your clinician's notes are "
    "never shared"
)


def _member(world: World) -> NetworkMember:
    return plan_data.member_record(world.client_a, world.member)


def _prefix(member: NetworkMember) -> str:
    return f"member-{member.pk}"


def _choices(member: NetworkMember, *keys: str) -> dict[str, str]:
    return {f"{_prefix(member)}-{key}": "on" for key in keys}


def test_it_shows_the_client_her_choices_in_plain_words(world: World) -> None:
    body = signed_in(world.client_a_user).get(url("care_consent", world.client_a)).content
    text = body.decode()
    assert "Mel Member" in text and "Nothing shared yet." in text
    assert NEVER_SHARED in text
    for explanation in (
        "The goals in your plan and how they are going.",
        "The actions agreed for them",
        "Never your answers.",
    ):
        assert explanation in text
    assert "Save my choices" in text
    assert "Stop sharing anything" not in text  # nothing is shared yet


def test_it_records_a_version_for_each_change_the_client_makes(world: World) -> None:
    member = _member(world)
    http = signed_in(world.client_a_user)
    page = url("care_consent", world.client_a)
    response = http.post(page, _choices(member, "goals", "own_actions"))
    assert response["Location"] == page
    grant = consent.current_grant(member)
    assert grant is not None and grant.version == 1 and grant.decided_by == world.client_a_user
    assert (grant.goals, grant.session_summaries, grant.own_actions, grant.checkin_summary) == (
        True,
        False,
        True,
        False,
    )
    scope = consent.scope_of(member)
    assert scope.may("goals") and scope.may("own_actions") and not scope.may("checkin_summary")
    assert "(version 1)" in http.get(page).content.decode()

    # The same choices again: nothing new to record.
    response = http.post(page, _choices(member, "goals", "own_actions"), follow=True)
    assert "Nothing changed." in response.content.decode()
    assert ConsentGrant.objects.count() == 1

    http.post(page, _choices(member, "goals", "session_summaries"))
    assert ConsentGrant.objects.filter(member=member).count() == 2
    scope = consent.scope_of(member)
    assert scope.may("session_summaries") and not scope.may("own_actions")
    events = AuditEvent.objects.filter(action="care.consent.decide", outcome="success")
    assert [e.detail["version"] for e in events.order_by("occurred_at")] == [1, 2]


def test_it_records_only_the_members_whose_choices_changed(world: World) -> None:
    mel = _member(world)
    other = factories.member_of(world.client_a, display_name="Otto Other")
    otto = plan_data.member_record(world.client_a, other)
    plan_data.grant(otto, goals=True)
    response = signed_in(world.client_a_user).post(
        url("care_consent", world.client_a),
        {**_choices(mel, "checkin_summary"), **_choices(otto, "goals")},
        follow=True,
    )
    assert "Mel Member" in response.content.decode()
    assert ConsentGrant.objects.filter(member=mel).count() == 1
    assert ConsentGrant.objects.filter(member=otto).count() == 1


def test_it_stops_sharing_at_once(world: World) -> None:
    member = _member(world)
    plan_data.grant(member, goals=True, session_summaries=True, own_actions=True)
    assert consent.scope_of(member).shares_anything
    http = signed_in(world.client_a_user)
    page = url("care_consent", world.client_a)
    assert "Stop sharing anything with Mel Member" in http.get(page).content.decode()
    response = http.post(page, {"stop": str(member.pk)}, follow=True)
    assert "Nothing is shared with Mel Member any more" in response.content.decode()
    scope = consent.scope_of(member)
    assert not scope.shares_anything
    assert not scope.goals().exists() and not scope.actions().exists()
    grant = consent.current_grant(member)
    assert grant is not None and grant.version == 2
    # Nothing is shared now, so stopping again records nothing.
    response = http.post(page, {"stop": str(member.pk)}, follow=True)
    assert "Nothing was shared with Mel Member." in response.content.decode()
    assert ConsentGrant.objects.count() == 2


def test_it_shows_the_care_team_a_read_only_view(world: World) -> None:
    member = _member(world)
    plan_data.grant(member, goals=True)
    http = signed_in(world.clinician)
    page = url("care_consent", world.client_a)
    body = http.get(page).content.decode()
    assert "Only Alex can change these choices." in body
    assert "disabled" in body and "Save my choices" not in body
    assert "Stop sharing anything" not in body
    assert http.post(page, _choices(member, "checkin_summary")).status_code == 403
    assert http.post(page, {"stop": str(member.pk)}).status_code == 403
    assert ConsentGrant.objects.count() == 1
    assert AuditEvent.objects.filter(
        action="care.consent.decide", actor_id=world.clinician.pk, outcome="denied"
    ).exists()


def test_it_lists_every_version_with_who_and_when(world: World) -> None:
    member = _member(world)
    plan_data.grant(member, goals=True)
    ConsentGrant.objects.update(decided_at=datetime(2025, 3, 1, 23, 30, tzinfo=UTC))
    signed_in(world.client_a_user).post(url("care_consent", world.client_a), {})
    signed_in(world.client_a_user).post(
        url("care_consent", world.client_a), {"stop": str(member.pk)}
    )
    client_user: User = world.client_a_user
    client_user.time_zone = "Pacific/Auckland"
    client_user.save()
    body = signed_in(client_user).get(url("care_consent_history", world.client_a)).content.decode()
    # 23:30 UTC on 1 March is 12:30 the next day in Auckland (summer time).
    assert "2 Mar 2025, 12:30" in body
    assert body.count("<tr>") == 1 + 2  # the header and two versions
    assert "Alex Rivers" in body  # who decided the revocation
    assert "Goals" in body and "Nothing" in body
    staff = signed_in(world.clinician).get(url("care_consent_history", world.client_a))
    assert staff.status_code == 200 and "Mel Member" in staff.content.decode()


def test_it_keeps_the_history_of_members_whose_access_ended(world: World) -> None:
    member = _member(world)
    plan_data.grant(member, goals=True)
    member.ended_at = member.joined_at
    member.save()
    http = signed_in(world.client_a_user)
    assert "Mel Member" not in http.get(url("care_consent", world.client_a)).content.decode()
    history = http.get(url("care_consent_history", world.client_a)).content.decode()
    assert "Mel Member" in history and "Access ended" in history


@pytest.mark.parametrize("who", plan_data.STRANGERS)
def test_it_refuses_strangers(world: World, who: str) -> None:
    member = _member(world)
    http = signed_in(getattr(world, who))
    for page in (url("care_consent", world.client_a), url("care_consent_history", world.client_a)):
        assert http.get(page).status_code == 404
        assert http.post(page, _choices(member, "goals")).status_code == 404
        assert http.post(page, {"stop": str(member.pk)}).status_code == 404
    assert not ConsentGrant.objects.exists()
