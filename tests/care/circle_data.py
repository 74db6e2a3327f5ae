"""Test data for the members' view and the progress review: client A's casework as a member and
the care team would find it, with canary strings in everything a member must never see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import Client, NetworkMember, User
from kithkin.care import consent
from kithkin.care.models import (
    Action,
    ActionStatus,
    AgendaStep,
    ClinicianNote,
    ConsentGrant,
    Contribution,
    Goal,
    NetworkSession,
    OwnerKind,
    Participant,
    ParticipantKind,
    Problem,
    SessionStatus,
)
from kithkin.measures.models import Response
from tests import factories
from tests.conftest import World

# Things a member must never see, whatever the client shares.
NOTE_CANARY = "CANARY-clinician-private-note"
RESPONSE_CANARY = "CANARY-response-free-text"
OTHER_ACTION_CANARY = "CANARY-other-members-action"
CLINICIAN_ACTION_CANARY = "CANARY-clinicians-own-action"
# Things a member sees only when the client shares them.
GOAL_TITLE = "Sleep through most nights"
SUMMARY_TEXT = "We talked about evenings and agreed small steps."
MEMBER_ACTION = "Phone Alex on Sunday evening"
DONE_ACTION = "Walk with Alex on Saturday"


@dataclass
class Circle:
    world: World
    member: NetworkMember  # world.member's membership of client A
    other_user: User
    other_member: NetworkMember
    problem: Problem
    goal: Goal
    held: NetworkSession
    planned: NetworkSession
    member_action: Action
    done_action: Action
    other_action: Action
    clinician_action: Action
    client_action: Action
    response: Response

    @property
    def client(self) -> Client:
        return self.world.client_a


def membership(client: Client, user: User) -> NetworkMember:
    return NetworkMember.objects.get(client=client, user=user)


def grant(member: NetworkMember, **choices: bool) -> ConsentGrant:
    return consent.decide(None, member, **choices)


def grant_all(member: NetworkMember) -> ConsentGrant:
    return grant(member, **dict.fromkeys(consent.SHAREABLE_KEYS, True))


def session_of(
    client: Client,
    *,
    starts_at: datetime,
    status: str = SessionStatus.HELD,
    people: Sequence[tuple[str, User, NetworkMember | None, bool | None]] = (),
    **fields: Any,
) -> NetworkSession:
    session = NetworkSession.objects.create(
        client=client,
        starts_at=starts_at,
        status=status,
        held_at=starts_at if status == SessionStatus.HELD else None,
        **fields,
    )
    for kind, user, member, attended in people:
        Participant.objects.create(
            session=session, kind=kind, user=user, member=member, attended=attended
        )
    return session


def action_for(
    client: Client,
    owner: User,
    *,
    kind: str,
    title: str,
    due_on: date,
    member: NetworkMember | None = None,
    goal: Goal | None = None,
    session: NetworkSession | None = None,
    status: str = ActionStatus.OPEN,
    note: str = "",
) -> Action:
    return Action.objects.create(
        client=client,
        owner=owner,
        owner_kind=kind,
        owner_member=member,
        title=title,
        due_on=due_on,
        goal=goal,
        session=session,
        status=status,
        status_note=note,
        status_at=timezone.now() if status != ActionStatus.OPEN else None,
    )


def build_circle(world: World) -> Circle:
    """Client A's casework: a goal, a held session (with a private note) and a planned one, an
    open and a done action for world.member, another member's action, the clinician's and the
    client's own actions, and a check-in whose free text is a canary. No consent yet."""
    client = world.client_a
    today = timezone.localdate()
    now = timezone.now()
    member = membership(client, world.member)
    other_user = factories.member_of(client, display_name="Olive Other")
    other_member = membership(client, other_user)
    problem = Problem.objects.create(client=client, text="Evenings are hard")
    goal = Goal.objects.create(client=client, problem=problem, title=GOAL_TITLE)
    everyone = [
        (ParticipantKind.CLIENT, world.client_a_user, None, True),
        (ParticipantKind.MEMBER, world.member, member, True),
        (ParticipantKind.MEMBER, other_user, other_member, False),
        (ParticipantKind.CLINICIAN, world.clinician, None, True),
    ]
    held = session_of(
        client,
        starts_at=now - timedelta(days=14),
        people=everyone,
        shared_summary=SUMMARY_TEXT,
        next_plan="Look back at the Sunday calls.",
    )
    Contribution.objects.create(
        session=held, step=AgendaStep.PROBLEM, text="Evenings alone", said_by=world.client_a_user
    )
    ClinicianNote.objects.create(session=held, author=world.clinician, text=NOTE_CANARY)
    planned = session_of(
        client,
        starts_at=now + timedelta(days=7),
        status=SessionStatus.PLANNED,
        people=[(k, u, m, None) for k, u, m, _ in everyone[:2]],
        place="Harbour Practice, room 2",
        video_link="https://meet.example.test/abc",
    )
    member_action = action_for(
        client,
        world.member,
        kind=OwnerKind.MEMBER,
        member=member,
        title=MEMBER_ACTION,
        due_on=today + timedelta(days=3),
        goal=goal,
        session=held,
    )
    done_action = action_for(
        client,
        world.member,
        kind=OwnerKind.MEMBER,
        member=member,
        title=DONE_ACTION,
        due_on=today - timedelta(days=5),
        goal=goal,
        session=held,
        status=ActionStatus.DONE,
    )
    other_action = action_for(
        client,
        other_user,
        kind=OwnerKind.MEMBER,
        member=other_member,
        title=OTHER_ACTION_CANARY,
        due_on=today - timedelta(days=2),
        goal=goal,
        session=held,
    )
    clinician_action = action_for(
        client,
        world.clinician,
        kind=OwnerKind.CLINICIAN,
        title=CLINICIAN_ACTION_CANARY,
        due_on=today + timedelta(days=1),
        goal=goal,
        session=held,
    )
    client_action = action_for(
        client,
        world.client_a_user,
        kind=OwnerKind.CLIENT,
        title="Write down one good thing each evening",
        due_on=today - timedelta(days=1),
        goal=goal,
        session=held,
        status=ActionStatus.NOT_POSSIBLE,
        note="Too tired this week",
    )
    factories.submitted_response(
        client, "phq9", factories.all_answers("phq9", 3), when=now - timedelta(days=20)
    )
    response = factories.submitted_response(
        client, "phq9", factories.all_answers("phq9", 1), when=now - timedelta(days=6)
    )
    response.note = RESPONSE_CANARY
    response.save(update_fields=["note"])
    return Circle(
        world,
        member,
        other_user,
        other_member,
        problem,
        goal,
        held,
        planned,
        member_action,
        done_action,
        other_action,
        clinician_action,
        client_action,
        response,
    )


def circle_url(client: Client) -> str:
    return reverse("circle", kwargs={"client_id": client.pk})


def action_url(client: Client, action: Action) -> str:
    return reverse("circle_action", kwargs={"client_id": client.pk, "action_id": action.pk})


def session_url(client: Client, session: NetworkSession, name: str = "circle_session") -> str:
    return reverse(name, kwargs={"client_id": client.pk, "session_id": session.pk})


def end_membership(member: NetworkMember) -> None:
    member.ended_at = timezone.now()
    member.save(update_fields=["ended_at"])


def outsiders(world: World) -> dict[str, User]:
    """Everyone who must be refused a member's pages of client A (a 404): another client's
    member, the stranger clinician, a colleague off the team, client B, the admin, and even
    client A's own clinician and client A herself (they are not her network members)."""
    elsewhere = factories.member_of(world.client_b, display_name="Bea's Friend")
    return {
        "other_clients_member": elsewhere,
        "stranger": world.stranger,
        "colleague": world.colleague,
        "client_b": world.client_b_user,
        "admin": world.admin,
        "clinician": world.clinician,
        "client_a": world.client_a_user,
    }
