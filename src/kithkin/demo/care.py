"""Network casework for the demo: a few cases with a plan, key contacts, consent, a history of
network sessions and the actions agreed in them.

The stories a tester looks for (README.md, "Demo data"):

- Maya Ellis (client@), trauma recovery: problems, goals with a PHQ-9 target and contact
  rhythms with Sam and Nadia, key contacts from her map, four sessions over the last twelve
  weeks and one planned next week. Her brother Sam Ellis (member@) sees what Maya shares with
  him (goals, session summaries, his own actions and a summary of her check-ins, granted in two
  versions): among his actions some are done, one was not possible, one was missed and some are
  still to do. Amara Okafor (clinician@) kept private notes that nobody else sees.
- Dmitri Petrov, Joanna Mensah and Rosa Castillo (when the demo is big enough to have them):
  shorter cases with three sessions each and one network member each (Elif, Nana, Lucia, who
  see goals, session summaries and their own actions), actions for the client, the member and
  the clinician, some done, some not possible, some missed, and a session planned next week.
  Each takes part in her sessions, so she gets a portal login if she had none, and her member
  an account (``client<index>@`` and ``member<index>@``, the demo password).

Only these few clients get casework, so `seed_demo --clients 10000` stays quick. Key contacts
come from each client's map and are never a person marked "not safe". Rows go in with
``bulk_create``; ids come from the build's seeded random source, so the same seed gives the same
casework.
"""

from __future__ import annotations

import random
import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from kithkin.accounts.models import Client, NetworkMember, User
from kithkin.care.models import (
    Action,
    ActionStatus,
    AgendaStep,
    ClinicianNote,
    ConsentGrant,
    Contribution,
    Goal,
    Indicator,
    IndicatorKind,
    KeyContact,
    NetworkSession,
    OwnerKind,
    Participant,
    ParticipantKind,
    Problem,
    SessionStatus,
)
from kithkin.network.models import Person

if TYPE_CHECKING:
    from kithkin.demo.generator import DemoBuild

CLIENT, MEMBER, CLINICIAN = "client", "member", "clinician"
DONE, NOT_POSSIBLE, OPEN = ActionStatus.DONE, ActionStatus.NOT_POSSIBLE, ActionStatus.OPEN
REVIEW, PROBLEM, SOLUTION = AgendaStep.REVIEW, AgendaStep.PROBLEM, AgendaStep.SOLUTION
SESSION_HOUR = time(17, 30)
PLANNED_IN_DAYS = 7


@dataclass(frozen=True)
class GoalSpec:
    title: str
    description: str = ""
    problem: int | None = None  # index into the story's problems
    instrument: str = ""  # a score indicator: this questionnaire at or past ``target``
    target: float | None = None
    rhythms: tuple[tuple[str, int], ...] = ()  # (a person on the map, every N days)


@dataclass(frozen=True)
class ActionSpec:
    owner: str  # client, member or clinician
    title: str
    goal: int
    due_in_days: int  # after the session
    status: str = OPEN
    note: str = ""


@dataclass(frozen=True)
class SessionSpec:
    days_ago: int
    summary: str
    next_plan: str
    private_note: str
    # (step, who, text): a solution answers the problem raised before it.
    said: tuple[tuple[str, str, str], ...]
    actions: tuple[ActionSpec, ...]
    member_came: bool = True


@dataclass(frozen=True)
class Story:
    client_name: str
    template: str
    problems: tuple[str, ...]
    goals: tuple[GoalSpec, ...]
    key_contacts: tuple[str, ...]  # names on the client's map
    sessions: tuple[SessionSpec, ...]
    planned_place: str = ""
    planned_link: str = ""
    # Consent versions for the client's network members: what each shares, oldest first.
    grants: tuple[tuple[str, ...], ...] = (("goals", "session_summaries", "own_actions"),)
    # The key contact who takes part as a network member (their name on the map), and how they
    # are related to the client. A client without one gets an account for them.
    member_contact: str = ""
    member_relationship: str = ""


MAYA = Story(
    "Maya Ellis",
    "trauma_recovery",
    (
        "Evenings alone are when the memories come back, and I stop answering messages.",
        "Since the assault I cancel plans with friends at the last minute.",
    ),
    (
        GoalSpec(
            "Feel less low and on edge day to day",
            "Most days feel manageable; evenings are not something to dread.",
            problem=0,
            instrument="phq9",
            target=9,
        ),
        GoalSpec(
            "Stay in touch with the people who help",
            "A weekly call with Sam and seeing Nadia most weeks.",
            problem=1,
            rhythms=(("Sam Ellis", 7), ("Nadia Farah", 7)),
        ),
        GoalSpec(
            "Get back to climbing on Tuesdays",
            "Go to the club at least twice a month, with Kai or on my own.",
            problem=1,
            rhythms=(("Kai Tanaka", 14),),
        ),
    ),
    ("Sam Ellis", "Nadia Farah", "Grace Obi", "Kai Tanaka"),
    (
        SessionSpec(
            77,
            "We met for the first time as a group. Maya described what evenings are like and "
            "what helps. Everyone agreed to small, regular contact rather than big gestures.",
            "Look back at the Sunday calls and the walk with Nadia.",
            "Maya was tearful at first but settled. Sam is very protective; watch that he does "
            "not take over. Safety plan reviewed; no current risk concerns.",
            (
                (PROBLEM, CLIENT, "Evenings alone are the hardest; I stop replying to messages."),
                (SOLUTION, MEMBER, "I could phone on Sunday evenings, every week, same time."),
                (SOLUTION, CLIENT, "A walk with Nadia at the weekend would give me something "
                 "to look forward to."),
                (SOLUTION, CLINICIAN, "Keep the grounding exercises by the sofa."),
            ),
            (
                ActionSpec(MEMBER, "Phone Maya on Sunday evenings", 1, 6, DONE,
                           "We talked three Sundays in a row."),
                ActionSpec(CLIENT, "Text Nadia to plan a weekend walk", 1, 5, DONE),
                ActionSpec(CLINICIAN, "Send Maya the grounding exercises sheet", 0, 2, DONE),
            ),
        ),
        SessionSpec(
            56,
            "The Sunday calls are working. Climbing came up: Maya misses it but worries about "
            "the walk home in the dark. We brainstormed ways to make Tuesdays feel safer.",
            "See how the first Tuesday back went.",
            "PHQ-9 item 9 alert from two weeks ago followed up (see the alert note). Maya more "
            "animated today. Sam could not come (work).",
            (
                (REVIEW, CLIENT, "The Sunday calls helped. I answered every one."),
                (PROBLEM, CLIENT, "I want to climb again but the walk home on Tuesdays scares me."),
                (SOLUTION, CLINICIAN, "Ask someone from the club to walk part of the way."),
                (SOLUTION, CLIENT, "Sam could come along the first time."),
            ),
            (
                ActionSpec(MEMBER, "Come climbing with Maya on the first Tuesday", 2, 7,
                           NOT_POSSIBLE, "My shift changed at the last minute. We went for a "
                           "walk on the Thursday instead."),
                ActionSpec(CLIENT, "Go to the Tuesday climbing club once", 2, 7, DONE),
                ActionSpec(CLIENT, "Write down three things to do on a hard evening", 0, 10),
            ),
            member_came=False,
        ),
        SessionSpec(
            35,
            "Maya went climbing twice and Kai walked her to the bus. Evenings are a little "
            "easier. We talked about what to do when a call is missed.",
            "Plan for the weeks around the anniversary in the spring.",
            "Good progress; scores improving. Mother (Joan) came up again as a source of strain "
            "- not for the group yet.",
            (
                (REVIEW, MEMBER, "Maya sounds brighter on the phone."),
                (PROBLEM, MEMBER, "When I miss a Sunday call I don't know if I should worry."),
                (SOLUTION, CLIENT, "A quick text is enough; I'll reply with a thumbs up."),
            ),
            (
                ActionSpec(MEMBER, "Text Maya after her Thursday appointments", 0, 14, DONE),
                ActionSpec(CLIENT, "Answer Sam's Sunday call, even briefly", 1, 14, DONE),
                ActionSpec(CLINICIAN, "Ask the GP about help with sleep", 0, 7, DONE),
            ),
        ),
        SessionSpec(
            14,
            "We looked ahead to the anniversary. Maya named the days that will be hardest, and "
            "everyone offered one concrete thing.",
            "Check the plan for the anniversary week; review the peer group.",
            "Discussed the anniversary; Maya has her safety plan and Sam's number on speed dial. "
            "Consider tapering sessions to monthly after the spring.",
            (
                (REVIEW, CLIENT, "I've been to the peer group twice."),
                (PROBLEM, CLIENT, "The anniversary is coming and I'm dreading the week."),
                (SOLUTION, MEMBER, "I can drive you to the peer group that Thursday."),
                (SOLUTION, CLINICIAN, "Plan something small for each of the hardest days."),
            ),
            (
                ActionSpec(MEMBER, "Drive Maya to the peer group on Thursday", 1, 5),
                ActionSpec(MEMBER, "Ask Maya what helps most on bad evenings", 0, 19),
                ActionSpec(CLIENT, "Plan one evening a week with Nadia", 1, 24),
                ActionSpec(CLINICIAN, "Share the anniversary plan with the care team", 0, 3, DONE),
            ),
        ),
    ),
    planned_place="Harbourside, room 3 (ground floor)",
    planned_link="https://video.example.test/harbourside-maya",
    grants=(
        ("goals", "own_actions"),
        ("goals", "session_summaries", "own_actions", "checkin_summary"),
    ),
    member_contact="Sam Ellis",
    member_relationship="Brother",
)  # fmt: skip

DMITRI = Story(
    "Dmitri Petrov",
    "trauma_recovery",
    ("Since the accident I hardly leave the flat, and I only really talk to Elif.",),
    (
        GoalSpec(
            "Have someone besides Elif I can call on a bad day",
            problem=0,
            instrument="phq9",
            target=9,
            rhythms=(("Elif Yilmaz", 7),),
        ),
    ),
    ("Elif Yilmaz", "Mr Okonkwo"),
    (
        SessionSpec(
            63,
            "Dmitri and Elif talked about the weeks since the accident. We agreed on one "
            "outing a week, however short.",
            "Review the outings.",
            "Very flat affect. Isolation is the main risk; Elif is his lifeline.",
            ((PROBLEM, CLIENT, "I don't go out unless I have to."),
             (SOLUTION, CLINICIAN, "One short walk a week, at a quiet time."),
             (SOLUTION, MEMBER, "I can ring on Sunday mornings as well.")),
            (ActionSpec(CLIENT, "Walk to the corner shop once this week", 0, 7, DONE),
             ActionSpec(MEMBER, "Ring Dmitri on Sunday mornings", 0, 7, DONE),
             ActionSpec(CLINICIAN, "Find a local men's group that meets in the day", 0, 14, DONE)),
        ),
        SessionSpec(
            35,
            "Two walks done. We talked about the men's group and what makes it hard to go.",
            "See whether the group is worth a try.",
            "Slightly brighter. Still declines medication review.",
            ((REVIEW, CLIENT, "I walked twice."),
             (PROBLEM, CLIENT, "A room full of strangers is too much."),
             (SOLUTION, CLINICIAN, "Go once, stay ten minutes, leave if you need to.")),
            (ActionSpec(CLIENT, "Go to the men's group once", 0, 10, NOT_POSSIBLE,
                        "Got to the door and turned back."),
             ActionSpec(MEMBER, "Go with Dmitri to the men's group the first time", 0, 10,
                        NOT_POSSIBLE, "I was away that week."),
             ActionSpec(CLIENT, "Phone Mr Okonkwo about the allotment", 0, 7)),
        ),
        SessionSpec(
            7,
            "Dmitri went to the door of the group; we counted that as a step. Mood lower this "
            "month.",
            "Think again about the group; check in on mood.",
            "Deteriorating scores; open PHQ-9 alert handled separately. Increase contact.",
            ((REVIEW, CLINICIAN, "Getting to the door was a real step."),
             (PROBLEM, CLIENT, "The evenings are long."),
             (SOLUTION, CLIENT, "Elif could ring on Wednesdays too.")),
            (ActionSpec(CLIENT, "Ask Elif about a Wednesday call", 0, 4),
             ActionSpec(MEMBER, "Ring Dmitri on Wednesday evenings", 0, 12),
             ActionSpec(CLINICIAN, "Book a review with the GP", 0, 5)),
        ),
    ),
    planned_place="Harbourside, room 1",
    member_contact="Elif Yilmaz",
    member_relationship="Friend",
)  # fmt: skip

JOANNA = Story(
    "Joanna Mensah",
    "family_conflict",
    ("Family arguments flare up whenever we plan my mother's care.",),
    (
        GoalSpec(
            "Plan Mum's care together without a row",
            problem=0,
            instrument="gad7",
            target=7,
            rhythms=(("Nana Mensah", 7),),
        ),
    ),
    ("Nana Mensah", "Esi Mensah", "Sunita Shah"),
    (
        SessionSpec(
            70,
            "We agreed ground rules: one person speaks at a time, and money is a separate "
            "conversation.",
            "Review the rota.",
            "High expressed emotion between siblings; Joanna carries most of the load.",
            ((PROBLEM, CLIENT, "I end up doing everything for Mum."),
             (SOLUTION, CLINICIAN, "Write down a weekly rota everyone can see.")),
            (ActionSpec(CLIENT, "Draft a weekly rota for Mum's visits", 0, 7, DONE),
             ActionSpec(MEMBER, "Take Mum to her Tuesday appointment", 0, 7, DONE),
             ActionSpec(CLINICIAN, "Send the family the carers' support leaflet", 0, 3, DONE)),
        ),
        SessionSpec(
            42,
            "The rota held for two weeks. Weekends are still a sticking point.",
            "Weekends.",
            "Calmer session. Joanna slept better this fortnight.",
            ((REVIEW, CLIENT, "The rota worked on weekdays."),
             (PROBLEM, CLIENT, "Nobody wants the weekends."),
             (SOLUTION, CLIENT, "Alternate weekends between the three of us.")),
            (ActionSpec(CLIENT, "Ask Kofi to take every third weekend", 0, 7),
             ActionSpec(MEMBER, "Cover one weekend this month", 0, 14),
             ActionSpec(CLIENT, "Keep Sunday afternoon for myself", 0, 14, DONE)),
        ),
        SessionSpec(
            14,
            "Weekends shared for the first time. We talked about how to disagree kindly.",
            "Check in on the weekends and on Joanna's own time.",
            "Good progress; consider ending group sessions after two more.",
            ((REVIEW, CLIENT, "I had a Sunday to myself."),
             (PROBLEM, CLIENT, "Kofi still hasn't answered about weekends."),
             (SOLUTION, MEMBER, "I'll ask him myself, gently.")),
            (ActionSpec(CLIENT, "Plan the spring holiday cover", 0, 10),
             ActionSpec(MEMBER, "Ask Kofi about the weekends", 0, 12),
             ActionSpec(CLINICIAN, "Offer Kofi a separate call", 0, 5)),
        ),
    ),
    planned_link="https://video.example.test/harbourside-family",
    member_contact="Nana Mensah",
    member_relationship="Sister",
)  # fmt: skip

ROSA = Story(
    "Rosa Castillo",
    "trauma_recovery",
    ("Since leaving, I feel unsafe going out alone in the evenings.",),
    (
        GoalSpec(
            "Feel safe enough to go to my evening pottery class",
            problem=0,
            instrument="pcl5",
            target=32,
            rhythms=(("Lucia Castillo", 3),),
        ),
    ),
    ("Lucia Castillo", "Zanele Dlamini", "Yara Haddad"),
    (
        SessionSpec(
            56,
            "Rosa, Lucia and the support worker met. We went through the safety plan and "
            "agreed how Rosa gets home from class.",
            "Review the journeys home.",
            "Safety plan in place; Zanele coordinating with the police liaison. No contact "
            "from the ex-partner reported.",
            ((PROBLEM, CLIENT, "I worry about the walk from the bus stop."),
             (SOLUTION, CLINICIAN, "Share your journey with Lucia on your phone.")),
            (ActionSpec(CLIENT, "Try the class once with Yara", 0, 7, DONE),
             ActionSpec(MEMBER, "Stay on the phone while Rosa walks home from class", 0, 7,
                        DONE),
             ActionSpec(CLINICIAN, "Check the bus route with Zanele", 0, 3, DONE)),
        ),
        SessionSpec(
            28,
            "Rosa went to class twice. We talked about the evenings Yara can't come.",
            "Plan for going alone.",
            "Hypervigilance easing a little.",
            ((REVIEW, CLIENT, "Two classes, and I enjoyed them."),
             (PROBLEM, CLIENT, "Some weeks Yara can't come.")),
            (ActionSpec(CLIENT, "Go to class once on my own, sharing my journey", 0, 7,
                        NOT_POSSIBLE, "Not ready yet. Went with Yara instead."),
             ActionSpec(CLIENT, "Ask the tutor about a daytime class", 0, 5),
             ActionSpec(MEMBER, "Look up the late buses from the pottery studio", 0, 5)),
        ),
        SessionSpec(
            10,
            "We made a step-by-step plan for going alone, starting with the bus ride.",
            "How the first steps went.",
            "Steady. Rosa set the pace herself today.",
            ((REVIEW, CLIENT, "I asked about the daytime class; there's a waiting list."),),
            (ActionSpec(CLIENT, "Take the bus to class with Lucia on the phone", 0, 6),
             ActionSpec(MEMBER, "Be on the phone for Rosa's first bus ride", 0, 12)),
        ),
    ),
    planned_place="Harbourside, room 2",
    member_contact="Lucia Castillo",
    member_relationship="Sister",
)  # fmt: skip

STORIES = (MAYA, DMITRI, JOANNA, ROSA)


@dataclass
class CareRows:
    problems: list[Problem] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    key_contacts: list[KeyContact] = field(default_factory=list)
    grants: list[ConsentGrant] = field(default_factory=list)
    sessions: list[NetworkSession] = field(default_factory=list)
    participants: list[Participant] = field(default_factory=list)
    contributions: list[Contribution] = field(default_factory=list)
    notes: list[ClinicianNote] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    def save(self) -> None:
        Problem.objects.bulk_create(self.problems)
        Goal.objects.bulk_create(self.goals)
        Indicator.objects.bulk_create(self.indicators)
        KeyContact.objects.bulk_create(self.key_contacts)
        ConsentGrant.objects.bulk_create(self.grants)
        NetworkSession.objects.bulk_create(self.sessions)
        Participant.objects.bulk_create(self.participants)
        Contribution.objects.bulk_create(self.contributions)
        ClinicianNote.objects.bulk_create(self.notes)
        Action.objects.bulk_create(self.actions)


@dataclass
class Case:
    """One client's cast: who can take part and who the people on the map are."""

    client: Client
    clinician: User
    member: NetworkMember | None
    people: dict[str, Person]  # safe people on the map, by name

    def user_for(self, who: str) -> User | None:
        if who == CLIENT:
            return self.client.user
        if who == MEMBER:
            return self.member.user if self.member is not None else None
        return self.clinician


@dataclass
class _Writer:
    """The seeded random source, the build's clock in the practice's zone, and the rows."""

    rng: random.Random
    build: DemoBuild
    zone: zoneinfo.ZoneInfo
    rows: CareRows = field(default_factory=CareRows)

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    @property
    def today(self) -> date:
        return self.build.now.astimezone(self.zone).date()

    def session_time(self, days: int) -> datetime:
        """The usual session hour, ``days`` from today (negative: in the past)."""
        return datetime.combine(self.today + timedelta(days=days), SESSION_HOUR, tzinfo=self.zone)


def _user(build: DemoBuild, email: str, name: str) -> User:
    # One at a time: a case or two at most, whatever the size of the demo.
    return User.objects.create(
        email=email,
        display_name=name,
        password=build.password_hash,
        time_zone=build.require_practice().time_zone,
        date_joined=build.now,
    )


def _cases(build: DemoBuild) -> list[tuple[Story, Case]]:
    """The stories whose clients are in this demo (a small demo may not have them all). Each
    client takes part in her sessions, so she gets a portal login if she has none, and her
    story's network member an account if she has no member yet."""
    from kithkin.demo.generator import EMAIL_DOMAIN  # here: the generator imports this module

    index_of = {client.pk: index for index, client in enumerate(build.clients)}
    by_name = {client.display_name: client for client in build.clients}
    chosen = [
        (story, by_name[story.client_name]) for story in STORIES if story.client_name in by_name
    ]
    client_ids = [client.pk for _story, client in chosen]
    people: dict[uuid.UUID, dict[str, Person]] = {pk: {} for pk in client_ids}
    # Never a person marked "not safe": they cannot be chosen, invited or followed.
    for person in (
        Person.objects.safe_to_suggest()
        .filter(client_id__in=client_ids)
        .order_by("created_at", "pk")
    ):
        people[person.client_id].setdefault(person.name, person)
    members: dict[uuid.UUID, NetworkMember] = {}
    for member in (
        NetworkMember.objects.filter(client_id__in=client_ids, ended_at__isnull=True)
        .select_related("user")
        .order_by("joined_at", "pk")
    ):
        members.setdefault(member.client_id, member)
    for story, client in chosen:
        index = index_of[client.pk]
        if client.user is None:
            client.user = _user(build, f"client{index:05d}@{EMAIL_DOMAIN}", client.display_name)
            client.save(update_fields=["user"])
            build.portal_users[index] = client.user
        if client.pk not in members and story.member_contact in people[client.pk]:
            user = _user(build, f"member{index:05d}@{EMAIL_DOMAIN}", story.member_contact)
            members[client.pk] = NetworkMember.objects.create(
                client=client, user=user, relationship=story.member_relationship,
                joined_at=build.now,
            )  # fmt: skip
    lead = build.clinicians[0]
    return [
        (story, Case(client, lead, members.get(client.pk), people[client.pk]))
        for story, client in chosen
    ]


def _plan(w: _Writer, story: Story, case: Case, start: datetime) -> list[Goal]:
    rows = w.rows
    client = case.client
    # A minute apart, so the plan lists them in the story's order.
    problems = [
        Problem(id=w.uuid(), client=client, text=text, created_by=case.clinician,
                created_at=start + timedelta(minutes=position))
        for position, text in enumerate(story.problems)
    ]  # fmt: skip
    goals: list[Goal] = []
    for position, spec in enumerate(story.goals):
        created = start + timedelta(minutes=position)
        goal = Goal(
            id=w.uuid(),
            client=client,
            problem=problems[spec.problem] if spec.problem is not None else None,
            title=spec.title,
            description=spec.description,
            created_by=case.clinician,
            created_at=created,
            updated_at=created,
        )
        goals.append(goal)
        if spec.instrument and spec.target is not None:
            rows.indicators.append(
                Indicator(
                    id=w.uuid(),
                    goal=goal,
                    kind=IndicatorKind.SCORE,
                    instrument_id=spec.instrument,
                    target_score=spec.target,
                    created_at=start,
                )
            )
        for name, days in spec.rhythms:
            person = case.people.get(name)
            if person is not None:
                rows.indicators.append(
                    Indicator(
                        id=w.uuid(),
                        goal=goal,
                        kind=IndicatorKind.RHYTHM,
                        person=person,
                        target_days=days,
                        created_at=start,
                    )
                )
    rows.problems += problems
    rows.goals += goals
    for name in story.key_contacts:
        person = case.people.get(name)
        if person is None:
            continue
        linked = case.member if name == story.member_contact else None
        rows.key_contacts.append(
            KeyContact(
                id=w.uuid(),
                client=client,
                person=person,
                chosen_by=case.clinician,
                chosen_at=start,
                network_member=linked,
            )
        )
    return goals


def _grants(story: Story, case: Case, rows: CareRows, times: list[datetime]) -> None:
    """The client's decisions for her member, each version before the session it was for."""
    if case.member is None:
        return
    decided_by = case.client.user or case.clinician
    for version, keys in enumerate(story.grants, start=1):
        rows.grants.append(
            ConsentGrant(
                client=case.client,
                member=case.member,
                version=version,
                decided_by=decided_by,
                decided_at=times[min(version - 1, len(times) - 1)] - timedelta(hours=1),
                **dict.fromkeys(keys, True),
            )
        )


def _participants(
    case: Case, session: NetworkSession, *, held: bool, member_came: bool
) -> list[Participant]:
    found: list[Participant] = []
    if case.client.user is not None:
        found.append(
            Participant(session=session, kind=ParticipantKind.CLIENT, user=case.client.user,
                        attended=True if held else None)
        )  # fmt: skip
    if case.member is not None:
        found.append(
            Participant(session=session, kind=ParticipantKind.MEMBER, user=case.member.user,
                        member=case.member, attended=member_came if held else None)
        )  # fmt: skip
    found.append(
        Participant(session=session, kind=ParticipantKind.CLINICIAN, user=case.clinician,
                    attended=True if held else None)
    )  # fmt: skip
    return found


def _owner_kind(who: str) -> str:
    return {CLIENT: OwnerKind.CLIENT, MEMBER: OwnerKind.MEMBER}.get(who, OwnerKind.CLINICIAN)


def _held_session(
    w: _Writer, story: Story, case: Case, spec: SessionSpec, goals: list[Goal]
) -> None:
    rows = w.rows
    starts = w.session_time(-spec.days_ago)
    ended = starts + timedelta(hours=1)
    session = NetworkSession(
        id=w.uuid(),
        client=case.client,
        template=story.template,
        starts_at=starts,
        duration_minutes=60,
        place=story.planned_place,
        video_link=story.planned_link,
        status=SessionStatus.HELD,
        shared_summary=spec.summary,
        next_plan=spec.next_plan,
        created_by=case.clinician,
        created_at=starts - timedelta(days=7),
        held_at=ended,
    )
    rows.sessions.append(session)
    rows.participants += _participants(case, session, held=True, member_came=spec.member_came)
    problem: Contribution | None = None
    for offset, (step, who, text) in enumerate(spec.said):
        user = case.user_for(who)
        if user is None or (who == MEMBER and not spec.member_came):
            continue
        said = Contribution(
            id=w.uuid(),
            session=session,
            step=step,
            text=text,
            said_by=user,
            problem=problem if step == SOLUTION else None,
            recorded_by=case.clinician,
            created_at=starts + timedelta(minutes=5 + 5 * offset),
        )
        if step == PROBLEM:
            problem = said
        rows.contributions.append(said)
    rows.notes.append(
        ClinicianNote(id=w.uuid(), session=session, author=case.clinician,
                      text=spec.private_note, created_at=ended)
    )  # fmt: skip
    for action in spec.actions:
        owner = case.user_for(action.owner)
        if owner is None:
            continue
        due = starts.date() + timedelta(days=action.due_in_days)
        closed = action.status != OPEN
        # A closed action was closed on its due date, or today if that is still to come.
        closed_on = min(due, w.today)
        rows.actions.append(
            Action(
                id=w.uuid(),
                client=case.client,
                session=session,
                goal=goals[action.goal] if action.goal < len(goals) else None,
                title=action.title,
                owner_kind=_owner_kind(action.owner),
                owner=owner,
                owner_member=case.member if action.owner == MEMBER else None,
                due_on=due,
                status=action.status,
                status_note=action.note,
                status_at=datetime.combine(closed_on, time(20, 0), tzinfo=w.zone)
                if closed
                else None,
                status_by=owner if closed else None,
                created_by=case.clinician,
                created_at=ended,
            )
        )


def _planned_session(w: _Writer, story: Story, case: Case) -> None:
    rows = w.rows
    session = NetworkSession(
        id=w.uuid(),
        client=case.client,
        template=story.template,
        starts_at=w.session_time(PLANNED_IN_DAYS),
        duration_minutes=60,
        place=story.planned_place,
        video_link=story.planned_link,
        status=SessionStatus.PLANNED,
        created_by=case.clinician,
        created_at=w.build.now,
    )
    rows.sessions.append(session)
    rows.participants += _participants(case, session, held=False, member_came=False)


def add_casework(build: DemoBuild) -> None:
    """The demo step."""
    w = _Writer(
        random.Random(build.rng.getrandbits(64)),  # nosec B311 # seeded demo data, not security
        build,
        zoneinfo.ZoneInfo(build.require_practice().time_zone),
    )
    cases = _cases(build)
    for story, case in cases:
        times = [w.session_time(-spec.days_ago) for spec in story.sessions]
        goals = _plan(w, story, case, times[0] - timedelta(days=7))
        _grants(story, case, w.rows, times)
        for spec in story.sessions:
            _held_session(w, story, case, spec, goals)
        _planned_session(w, story, case)
    w.rows.save()
    build.counts["care_cases"] = len(cases)
    build.counts["care_sessions"] = len(w.rows.sessions)
    build.counts["care_actions"] = len(w.rows.actions)
