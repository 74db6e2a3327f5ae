"""The demo's casework: Maya's case with a history of sessions, Sam seeing exactly what Maya
grants him, actions done, not possible, missed and still to do, private notes nobody else sees,
a session planned next week; a few other cases; never a "not safe" person; same seed, same
casework; removable with the rest of the demo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from kithkin.accounts.models import Client, NetworkMember
from kithkin.care import consent
from kithkin.care.models import (
    Action,
    ActionStatus,
    ClinicianNote,
    Contribution,
    Goal,
    Indicator,
    IndicatorKind,
    KeyContact,
    NetworkSession,
    OwnerKind,
    SessionStatus,
)
from kithkin.demo import care as demo_care
from kithkin.demo import generator

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def demo_client(name: str) -> Client:
    return Client.objects.get(practice__name=generator.PRACTICE_NAME, display_name=name)


def sam() -> NetworkMember:
    return NetworkMember.objects.select_related("client", "user").get(
        user__email=generator.MEMBER_EMAIL
    )


def casework() -> list[tuple[Any, ...]]:
    """Everything the step wrote, in a comparable form."""
    rows: list[tuple[Any, ...]] = []
    for goal in Goal.objects.order_by("pk"):
        rows.append(("goal", goal.pk, goal.client_id, goal.title, goal.problem_id))
    for indicator in Indicator.objects.order_by("pk"):
        rows.append(
            ("indicator", indicator.pk, indicator.kind, indicator.person_id, indicator.target_days)
        )
    for session in NetworkSession.objects.order_by("pk"):
        rows.append(("session", session.pk, session.starts_at, session.status, session.template))
    for action in Action.objects.order_by("pk"):
        rows.append(
            ("action", action.pk, action.title, action.owner.email, action.due_on, action.status)
        )
    for said in Contribution.objects.order_by("pk"):
        rows.append(("said", said.pk, said.text, said.problem_id))
    return rows


def test_it_builds_the_same_casework_from_the_same_seed() -> None:
    generator.build_demo(clients=40, seed=7, now=NOW)
    first = casework()
    assert first
    assert generator.remove_demo()
    assert not Action.objects.exists() and not NetworkSession.objects.exists()
    generator.build_demo(clients=40, seed=7, now=NOW)
    assert casework() == first


def test_it_gives_maya_a_case_with_a_history_of_sessions() -> None:
    build = generator.build_demo(clients=40, now=NOW)
    maya = demo_client("Maya Ellis")
    goals = list(Goal.objects.filter(client=maya))
    assert len(goals) == 3
    kinds = set(Indicator.objects.filter(goal__client=maya).values_list("kind", flat=True))
    assert kinds == {IndicatorKind.SCORE, IndicatorKind.RHYTHM}
    held = list(
        NetworkSession.objects.filter(client=maya, status=SessionStatus.HELD).order_by("starts_at")
    )
    assert 3 <= len(held) <= 5
    assert all(NOW - timedelta(weeks=12) <= s.starts_at < NOW for s in held)
    assert all(s.contributions.exists() for s in held)
    assert ClinicianNote.objects.filter(session__client=maya).count() == len(held)
    planned = NetworkSession.objects.get(client=maya, status=SessionStatus.PLANNED)
    assert NOW + timedelta(days=6) < planned.starts_at < NOW + timedelta(days=8)
    assert set(planned.participants.values_list("kind", flat=True)) == {
        "client",
        "member",
        "clinician",
    }
    assert planned.participants.filter(member=sam()).exists()
    # Key contacts come from the map; Sam's is linked to his account.
    assert KeyContact.objects.get(client=maya, network_member=sam()).person.name == "Sam Ellis"
    assert build.counts["care_cases"] >= 1
    assert build.counts["care_actions"] == Action.objects.count()


def test_sam_sees_what_maya_grants_him_and_has_actions_done_and_missed() -> None:
    # Built now: the check-in summary reads the last four weeks from the real clock.
    build = generator.build_demo(clients=40)
    scope = consent.scope_of(sam())
    for key in consent.SHAREABLE_KEYS:
        assert scope.may(key), key
    assert scope.goals().count() == 3
    assert scope.sessions().count() == 4
    assert list(scope.upcoming_sessions()) == list(
        NetworkSession.objects.filter(client=scope.client, status=SessionStatus.PLANNED)
    )
    today = timezone.localdate(build.now)
    actions = list(scope.actions())
    assert all(a.owner_member_id == scope.member.pk for a in actions)
    states = {
        "done": sum(a.status == ActionStatus.DONE for a in actions),
        "not_possible": sum(a.status == ActionStatus.NOT_POSSIBLE for a in actions),
        "missed": sum(a.status == ActionStatus.OPEN and a.due_on < today for a in actions),
        "open": sum(a.status == ActionStatus.OPEN and a.due_on >= today for a in actions),
    }
    assert all(count >= 1 for count in states.values()), states
    assert all(a.status_note for a in actions if a.status == ActionStatus.NOT_POSSIBLE)
    summary = scope.checkin_summary()
    assert summary is not None and summary.count > 0 and summary.directions
    # The consent history has more than one version.
    assert scope.grant is not None and scope.grant.version == 2
    # Maya's own actions and the clinician's are not Sam's to see.
    maya_actions = Action.objects.filter(client=scope.client).exclude(owner_kind=OwnerKind.MEMBER)
    assert maya_actions.filter(status=ActionStatus.OPEN, due_on__lt=today).exists()
    assert not set(maya_actions.values_list("pk", flat=True)) & {a.pk for a in actions}


def test_it_never_involves_a_person_marked_not_safe() -> None:
    generator.build_demo(clients=40, now=NOW)
    assert KeyContact.objects.exists()
    assert not KeyContact.objects.filter(person__not_safe=True).exists()
    assert not Indicator.objects.filter(person__not_safe=True).exists()
    rosa = Client.objects.filter(display_name="Rosa Castillo").first()
    if rosa is not None:
        names = {c.person.name for c in KeyContact.objects.filter(client=rosa)}
        assert "Marek" not in names


def test_it_adds_casework_to_a_small_fixed_set_of_clients() -> None:
    generator.build_demo(clients=200, now=NOW)
    with_cases = set(Goal.objects.values_list("client_id", flat=True))
    assert 1 <= len(with_cases) <= len(demo_care.STORIES)
    names = set(Client.objects.filter(pk__in=with_cases).values_list("display_name", flat=True))
    assert "Maya Ellis" in names
    assert names <= {story.client_name for story in demo_care.STORIES}


def test_every_case_has_sessions_a_member_and_actions_done_and_missed() -> None:
    generator.build_demo(clients=40, now=NOW)
    today = timezone.localdate(NOW)
    clients = Client.objects.filter(care_goals__isnull=False).distinct()
    assert clients.count() == len(demo_care.STORIES)  # 40 clients hold every story
    for client in clients:
        assert client.user is not None, client.display_name
        assert NetworkSession.objects.filter(client=client, status=SessionStatus.HELD).count() >= 3
        member = NetworkMember.objects.get(client=client)
        assert KeyContact.objects.filter(client=client, network_member=member).exists()
        actions = Action.objects.filter(client=client)
        assert actions.filter(status=ActionStatus.DONE).exists()
        assert actions.filter(status=ActionStatus.OPEN, due_on__lt=today).exists()
        assert set(actions.values_list("owner_kind", flat=True)) == {
            OwnerKind.CLIENT,
            OwnerKind.MEMBER,
            OwnerKind.CLINICIAN,
        }
        assert consent.scope_of(member).actions().exists()
