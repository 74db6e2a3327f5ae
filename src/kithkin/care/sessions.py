"""Network sessions and actions: scheduling with calendar invitations, the structured agenda,
attendance, contributions, actions and their reminders, the wrap-up, the clinician's private
notes, and the session summary, shared according to the client's consent.

Views stay thin: every rule and every write is here, audited. Emails go out through jobs
(kithkin.jobs), which re-read the session or action when they run, so a session cancelled or an
action done in the meantime sends nothing. Emails and calendar files name nobody's health.

The clinician's notes never leave :func:`clinician_notes`: the agenda only holds them for the
care team, and :func:`summary_context`, which every PDF and member page uses, has no way to
reach them."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import icalendar
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kithkin.accounts.models import CareTeamMember, Client, NetworkMember, User
from kithkin.audit import services as audit
from kithkin.care import plan, session_templates
from kithkin.care.consent import MemberScope, scope_of
from kithkin.care.models import (
    Action,
    ActionStatus,
    AgendaStep,
    ClinicianNote,
    Contribution,
    Goal,
    NetworkSession,
    OwnerKind,
    Participant,
    ParticipantKind,
    SessionStatus,
)
from kithkin.care.session_templates import SessionTemplate
from kithkin.jobs import services as jobs
from kithkin.measures import services as measures
from kithkin.notifications import kinds
from kithkin.notifications import services as notifications

NOTICE_JOB = "care.session_notice"
SESSION_REMINDER_JOB = "care.session_reminder"
ACTION_REMINDER_JOB = "care.action_reminder"
# Session reminders go out a day ahead; action reminders the day before, at this local time.
SESSION_REMINDER_LEAD = timedelta(hours=24)
ACTION_REMINDER_AT = time(9, 0)

MIN_MINUTES = 15
MAX_MINUTES = 8 * 60
# A session further ahead than this is almost certainly a typo in the year.
MAX_DAYS_AHEAD = 366
MAX_PLACE_LENGTH = 300
MAX_LINK_LENGTH = 500
MAX_TEXT_LENGTH = 4000
MAX_TITLE_LENGTH = 300
ICS_NAME = "support-session.ics"

_KIND_ORDER = {ParticipantKind.CLIENT: 0, ParticipantKind.MEMBER: 1, ParticipantKind.CLINICIAN: 2}


class SessionError(ValueError):
    """Input the service refuses. The message names the problem in plain words for the page."""


class NotShared(Http404):
    """A member asked for something the client does not share with them (a 404 in a view)."""


def _user(request: HttpRequest | None) -> User | None:
    if request is None or not request.user.is_authenticated:
        return None
    assert isinstance(request.user, User)
    return request.user


def first_name(user: User | None) -> str:
    if user is None:
        return ""
    return (user.display_name or "").split(" ", 1)[0]


def _zone(user: User) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or settings.DEFAULT_USER_TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def ends_at(session: NetworkSession) -> datetime:
    return session.starts_at + timedelta(minutes=session.duration_minutes)


def safe_video_link(session: NetworkSession) -> str:
    """The video link to put in an href: only an https address (never javascript: and the
    like, whatever older or imported data holds)."""
    link = session.video_link.strip()
    return link if link.lower().startswith("https://") else ""


def template_of(session: NetworkSession) -> SessionTemplate:
    return session_templates.template_for(session.template)


# --- who may take part -------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """Someone who may be invited to a session, or own an action."""

    key: str
    kind: str
    user: User
    member: NetworkMember | None
    name: str


def care_team(client: Client) -> list[User]:
    """Active clinicians on the client's care team who still work at her practice."""
    links = CareTeamMember.objects.filter(
        client=client, user__is_active=True, user__membership__practice_id=client.practice_id
    ).select_related("user")
    return [link.user for link in links.order_by("-is_lead", "added_at", "pk")]


def candidates(client: Client) -> list[Candidate]:
    """Who can be invited: the client (if she has a login), her current network members and
    the clinicians on her care team."""
    people: list[Candidate] = []
    if client.user is not None and client.user.is_active:
        people.append(
            Candidate(str(client.user.pk), ParticipantKind.CLIENT, client.user, None, str(client))
        )
    members = NetworkMember.objects.filter(
        client=client, ended_at__isnull=True, user__is_active=True
    ).select_related("user")
    for member in members.order_by("joined_at", "pk"):
        people.append(
            Candidate(
                str(member.user.pk),
                ParticipantKind.MEMBER,
                member.user,
                member,
                member.user.display_name,
            )
        )
    seen = {c.user.pk for c in people}
    for user in care_team(client):
        if user.pk not in seen:
            people.append(
                Candidate(str(user.pk), ParticipantKind.CLINICIAN, user, None, user.display_name)
            )
    return people


def owner_choices(session: NetworkSession, participants: Sequence[Participant]) -> list[Candidate]:
    """Who may own an action agreed in this session: the client, a member taking part, or any
    clinician on the care team. Keys say the kind, so a member's action names the member."""
    client = session.client
    choices: list[Candidate] = []
    if client.user is not None and client.user.is_active:
        choices.append(Candidate("client", OwnerKind.CLIENT, client.user, None, str(client)))
    for participant in participants:
        member = participant.member
        if (
            participant.kind == ParticipantKind.MEMBER
            and member is not None
            and member.ended_at is None
            and participant.user.is_active
        ):
            choices.append(
                Candidate(
                    f"member:{member.pk}",
                    OwnerKind.MEMBER,
                    participant.user,
                    member,
                    participant.user.display_name,
                )
            )
    for user in care_team(client):
        choices.append(
            Candidate(f"clinician:{user.pk}", OwnerKind.CLINICIAN, user, None, user.display_name)
        )
    return choices


def participants_of(session: NetworkSession) -> list[Participant]:
    """The people invited, client first, then members, then clinicians."""
    rows = list(session.participants.select_related("user", "member"))
    rows.sort(key=lambda p: (_KIND_ORDER.get(ParticipantKind(p.kind), 9), p.user.display_name))
    return rows


# --- scheduling ------------------------------------------------------------------------------


def _check_time_and_place(
    starts_at: datetime, duration_minutes: int, place: str, video_link: str
) -> None:
    if timezone.is_naive(starts_at):
        raise ValueError("starts_at must be timezone-aware")
    now = timezone.now()
    if starts_at < now:
        raise SessionError(_("That time has already passed. Choose a time from now on."))
    if starts_at > now + timedelta(days=MAX_DAYS_AHEAD):
        raise SessionError(_("Choose a time within a year from now."))
    if not MIN_MINUTES <= duration_minutes <= MAX_MINUTES:
        raise SessionError(
            _("A session lasts from %(least)s to %(most)s minutes.")
            % {"least": MIN_MINUTES, "most": MAX_MINUTES}
        )
    if not place.strip() and not video_link.strip():
        raise SessionError(_("Give a place to meet, a video link, or both."))
    if len(place) > MAX_PLACE_LENGTH:
        raise SessionError(
            _("Keep the place to %(count)s characters.") % {"count": MAX_PLACE_LENGTH}
        )
    check_video_link(video_link)


def check_video_link(video_link: str) -> None:
    """A video link must be a full https address: an http link would let others listen in."""
    link = video_link.strip()
    if not link:
        return
    if len(link) > MAX_LINK_LENGTH:
        raise SessionError(_("That video link is too long."))
    try:
        URLValidator(schemes=["https"])(link)
    except ValidationError:
        raise SessionError(
            _("The video link must be a full web address starting with https://.")
        ) from None


def schedule(
    request: HttpRequest,
    client: Client,
    *,
    template: str,
    starts_at: datetime,
    duration_minutes: int,
    place: str,
    video_link: str,
    participant_keys: Sequence[str],
) -> NetworkSession:
    """Book a session, invite everyone chosen (each gets an email with a calendar file), make the
    before-session check-ins fall due, and queue the reminder."""
    if template not in {t.key for t in session_templates.TEMPLATES}:
        raise SessionError(_("Choose what kind of session this is."))
    _check_time_and_place(starts_at, duration_minutes, place, video_link)
    by_key = {c.key: c for c in candidates(client)}
    wanted = list(dict.fromkeys(str(key) for key in participant_keys))
    if not wanted:
        raise SessionError(_("Choose who takes part: a session needs at least one participant."))
    unknown = [key for key in wanted if key not in by_key]
    if unknown:
        raise SessionError(
            _("Someone you chose can no longer take part. Check the list and choose again.")
        )
    with transaction.atomic():
        session = NetworkSession.objects.create(
            client=client,
            template=template,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            place=place.strip(),
            video_link=video_link.strip(),
            created_by=_user(request),
        )
        Participant.objects.bulk_create(
            Participant(
                session=session,
                kind=by_key[key].kind,
                user=by_key[key].user,
                member=by_key[key].member,
            )
            for key in wanted
        )
        audit.record(
            request,
            action="care.session.create",
            object_type="networksession",
            object_id=session.pk,
            client=client,
            detail={"participants": len(wanted), "sequence": session.sequence},
        )
        measures.schedule_before_session(client, starts_at)
        _queue_notice(session)
        _queue_session_reminder(session)
    return session


def reschedule(
    request: HttpRequest,
    session: NetworkSession,
    *,
    starts_at: datetime,
    duration_minutes: int,
    place: str,
    video_link: str,
) -> bool:
    """Move a planned session. Everyone gets an updated calendar entry (the same UID with a
    higher SEQUENCE) and the reminder moves with it. False if nothing changed."""
    _check_time_and_place(starts_at, duration_minutes, place, video_link)
    with transaction.atomic():
        locked = NetworkSession.objects.select_for_update().get(pk=session.pk)
        if locked.status != SessionStatus.PLANNED:
            raise SessionError(_("Only a planned session can be moved."))
        changed = (
            locked.starts_at != starts_at
            or locked.duration_minutes != duration_minutes
            or locked.place != place.strip()
            or locked.video_link != video_link.strip()
        )
        if not changed:
            return False
        locked.starts_at = starts_at
        locked.duration_minutes = duration_minutes
        locked.place = place.strip()
        locked.video_link = video_link.strip()
        locked.sequence += 1
        locked.save(
            update_fields=["starts_at", "duration_minutes", "place", "video_link", "sequence"]
        )
        audit.record(
            request,
            action="care.session.reschedule",
            object_type="networksession",
            object_id=locked.pk,
            client_id=locked.client_id,
            detail={"sequence": locked.sequence},
        )
        measures.schedule_before_session(locked.client, starts_at)
        _queue_notice(locked)
        _queue_session_reminder(locked)
    _copy(locked, session)
    return True


def cancel(request: HttpRequest, session: NetworkSession) -> None:
    """Cancel a planned session: everyone's calendar entry is withdrawn (METHOD:CANCEL) and the
    reminder stands down (its sequence is now out of date)."""
    with transaction.atomic():
        locked = NetworkSession.objects.select_for_update().get(pk=session.pk)
        if locked.status != SessionStatus.PLANNED:
            raise SessionError(_("Only a planned session can be cancelled."))
        locked.status = SessionStatus.CANCELLED
        locked.sequence += 1
        locked.save(update_fields=["status", "sequence"])
        audit.record(
            request,
            action="care.session.cancel",
            object_type="networksession",
            object_id=locked.pk,
            client_id=locked.client_id,
            detail={"sequence": locked.sequence},
        )
        _queue_notice(locked)
        # Check-ins asked for "before each session" follow the next session still booked, or
        # wait again if there is none: a cancelled session must not leave them due.
        following = (
            NetworkSession.objects.filter(
                client_id=locked.client_id,
                status=SessionStatus.PLANNED,
                starts_at__gt=timezone.now(),
            )
            .order_by("starts_at")
            .first()
        )
        if following is not None:
            measures.schedule_before_session(locked.client, following.starts_at)
        else:
            measures.stand_down_before_session(locked.client)
    _copy(locked, session)


def _copy(source: NetworkSession, target: NetworkSession) -> None:
    for name in ("starts_at", "duration_minutes", "place", "video_link", "sequence", "status"):
        setattr(target, name, getattr(source, name))


def _queue_notice(session: NetworkSession) -> None:
    job = jobs.enqueue(
        NOTICE_JOB,
        {"id": str(session.pk), "sequence": session.sequence},
        key=f"{NOTICE_JOB}:{session.pk}:{session.sequence}",
    )
    # People expect the invitation at once; the job row is the fallback if this fails.
    transaction.on_commit(functools.partial(jobs.run_job_now, job.pk))


def _queue_session_reminder(session: NetworkSession) -> None:
    remind_at = session.starts_at - SESSION_REMINDER_LEAD
    if remind_at <= timezone.now():
        return  # within a day: the invitation that goes out now is the reminder
    jobs.enqueue(
        SESSION_REMINDER_JOB,
        {"id": str(session.pk), "sequence": session.sequence},
        run_after=remind_at,
        key=f"{SESSION_REMINDER_JOB}:{session.pk}:{session.sequence}",
    )


# --- during the session ----------------------------------------------------------------------


def _open_for_work(session: NetworkSession) -> None:
    if session.status == SessionStatus.CANCELLED:
        raise SessionError(_("This session was cancelled, so nothing more can be added to it."))


def record_attendance(
    request: HttpRequest, session: NetworkSession, attended: Mapping[int, bool | None]
) -> int:
    """Record who came: ``attended`` maps participant ids to yes, no or not known. Ids that are
    not this session's participants are ignored. Returns how many were recorded as present."""
    _open_for_work(session)
    with transaction.atomic():
        for participant in session.participants.all():
            if participant.pk in attended and participant.attended != attended[participant.pk]:
                participant.attended = attended[participant.pk]
                participant.save(update_fields=["attended"])
        present = session.participants.filter(attended=True).count()
        audit.record(
            request,
            action="care.session.attendance",
            object_type="networksession",
            object_id=session.pk,
            client_id=session.client_id,
            detail={"present": present},
        )
    return present


def contribute(
    request: HttpRequest,
    session: NetworkSession,
    *,
    step: str,
    text: str,
    said_by_id: int | str | None,
    problem_id: UUID | str | None = None,
) -> Contribution:
    """Record something said at a step of the agenda, attributed to the participant who said
    it. A solution may answer a problem raised in the same session."""
    _open_for_work(session)
    if step not in AgendaStep.values:
        raise SessionError(_("Choose the step of the agenda this belongs to."))
    text = text.strip()
    if not text:
        raise SessionError(_("Write down what was said."))
    if len(text) > MAX_TEXT_LENGTH:
        raise SessionError(_("Keep it to %(count)s characters.") % {"count": MAX_TEXT_LENGTH})
    said_by = None
    if str(said_by_id or "").isdigit():
        said_by = (
            Participant.objects.filter(session=session, user_id=int(str(said_by_id)))
            .select_related("user")
            .first()
        )
    if said_by is None:
        raise SessionError(_("Choose who said it from the people taking part."))
    problem = None
    if problem_id:
        if step != AgendaStep.SOLUTION:
            raise SessionError(_("Only a solution can answer a problem."))
        try:
            problem = Contribution.objects.filter(
                session=session, step=AgendaStep.PROBLEM, pk=UUID(str(problem_id))
            ).first()
        except ValueError:
            problem = None
        if problem is None:
            raise SessionError(_("That problem was not raised in this session."))
    with transaction.atomic():
        contribution = Contribution.objects.create(
            session=session,
            step=step,
            text=text,
            said_by=said_by.user,
            problem=problem,
            recorded_by=_user(request),
        )
        audit.record(
            request,
            action="care.session.contribute",
            object_type="contribution",
            object_id=contribution.pk,
            client_id=session.client_id,
            detail={"step": step},
        )
    return contribution


def add_action(
    request: HttpRequest,
    session: NetworkSession,
    *,
    title: str,
    owner_key: str,
    due_on: date | None,
    goal_id: UUID | str | None = None,
    today: date | None = None,
) -> Action:
    """Record an action agreed in a session, with its owner, due date and (optionally) the goal
    it supports, and queue its reminder for the owner."""
    _open_for_work(session)
    title = title.strip()
    if not title:
        raise SessionError(_("Say what will be done."))
    if len(title) > MAX_TITLE_LENGTH:
        raise SessionError(
            _("Keep the action to %(count)s characters.") % {"count": MAX_TITLE_LENGTH}
        )
    owner = {c.key: c for c in owner_choices(session, participants_of(session))}.get(owner_key)
    if owner is None:
        raise SessionError(_("Choose who will do this: every action needs an owner."))
    if due_on is None:
        raise SessionError(_("Choose the date it is due."))
    if due_on < (today or timezone.localdate()):
        raise SessionError(_("The due date is in the past. Choose today or a later day."))
    goal = None
    if goal_id:
        goal = Goal.objects.current().filter(client_id=session.client_id, pk=goal_id).first()
        if goal is None:
            raise SessionError(_("Choose one of the client's current goals, or none."))
    with transaction.atomic():
        action = Action.objects.create(
            client_id=session.client_id,
            session=session,
            goal=goal,
            title=title,
            owner_kind=owner.kind,
            owner=owner.user,
            owner_member=owner.member,
            due_on=due_on,
            created_by=_user(request),
        )
        audit.record(
            request,
            action="care.action.create",
            object_type="action",
            object_id=action.pk,
            client_id=session.client_id,
            detail={"owner_kind": owner.kind},
        )
        queue_action_reminder(action)
    return action


def action_reminder_at(action: Action, *, now: datetime | None = None) -> datetime:
    """09:00 on the day before the due date in the owner's time zone, or now if that passed."""
    zone = _zone(action.owner)
    local = datetime.combine(action.due_on - timedelta(days=1), ACTION_REMINDER_AT, tzinfo=zone)
    now = now or timezone.now()
    return max(local.astimezone(UTC), now)


def queue_action_reminder(action: Action) -> None:
    jobs.enqueue(
        ACTION_REMINDER_JOB,
        {"id": str(action.pk), "due_on": action.due_on.isoformat()},
        run_after=action_reminder_at(action),
        key=f"{ACTION_REMINDER_JOB}:{action.pk}",
    )


def set_action_status(request: HttpRequest, action: Action, status: str, note: str = "") -> Action:
    """Mark an action done, not possible (a note saying why is required) or open again.
    Whoever may see the action decides who may call this: the views check it."""
    if status not in ActionStatus.values:
        raise SessionError(_("Choose done, not possible, or still to do."))
    note = note.strip()
    if status == ActionStatus.NOT_POSSIBLE and not note:
        raise SessionError(_("Add a short note saying why it was not possible."))
    if len(note) > MAX_TEXT_LENGTH:
        raise SessionError(_("Keep the note to %(count)s characters.") % {"count": MAX_TEXT_LENGTH})
    with transaction.atomic():
        action.status = status
        action.status_note = note
        action.status_at = timezone.now()
        action.status_by = _user(request)
        action.save(update_fields=["status", "status_note", "status_at", "status_by"])
        audit.record(
            request,
            action="care.action.status",
            object_type="action",
            object_id=action.pk,
            client_id=action.client_id,
            detail={"status": status},
        )
    return action


def wrap_up(
    request: HttpRequest,
    session: NetworkSession,
    *,
    shared_summary: str,
    next_plan: str,
    mark_held: bool,
) -> None:
    """Save the summary shared with the network and the plan for next time, and (once the
    session has begun) mark it held."""
    _open_for_work(session)
    if len(shared_summary) > MAX_TEXT_LENGTH or len(next_plan) > MAX_TEXT_LENGTH:
        raise SessionError(_("Keep each to %(count)s characters.") % {"count": MAX_TEXT_LENGTH})
    fields = ["shared_summary", "next_plan"]
    if mark_held and session.status == SessionStatus.PLANNED:
        if session.starts_at > timezone.now():
            raise SessionError(
                _("This session has not started yet. Mark it as held once it has taken place.")
            )
        session.status = SessionStatus.HELD
        session.held_at = timezone.now()
        fields += ["status", "held_at"]
    session.shared_summary = shared_summary.strip()
    session.next_plan = next_plan.strip()
    with transaction.atomic():
        session.save(update_fields=fields)
        audit.record(
            request,
            action="care.session.wrap_up",
            object_type="networksession",
            object_id=session.pk,
            client_id=session.client_id,
            detail={"status": session.status},
        )


def add_note(request: HttpRequest, session: NetworkSession, text: str) -> ClinicianNote:
    """A private note for the care team: never shared, printed or exported."""
    text = text.strip()
    if not text:
        raise SessionError(_("Write the note first."))
    if len(text) > MAX_TEXT_LENGTH:
        raise SessionError(_("Keep the note to %(count)s characters.") % {"count": MAX_TEXT_LENGTH})
    with transaction.atomic():
        note = ClinicianNote.objects.create(session=session, author=_user(request), text=text)
        audit.record(
            request,
            action="care.session.note.create",
            object_type="cliniciannote",
            object_id=note.pk,
            client_id=session.client_id,
        )
    return note


def clinician_notes(session: NetworkSession) -> list[ClinicianNote]:
    """The care team's private notes, newest first. Callers must be care-team pages."""
    return list(session.clinician_notes.select_related("author").order_by("-created_at", "pk"))


# --- the agenda ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalReview:
    goal: Goal
    progress: list[plan.IndicatorProgress]


@dataclass(frozen=True)
class ProblemThread:
    problem: Contribution
    solutions: list[Contribution]


@dataclass
class Agenda:
    session: NetworkSession
    template: SessionTemplate
    participants: list[Participant]
    previous: NetworkSession | None
    goals: list[GoalReview] = field(default_factory=list)
    review_actions: list[Action] = field(default_factory=list)
    reviews: list[Contribution] = field(default_factory=list)
    problems: list[ProblemThread] = field(default_factory=list)
    loose_solutions: list[Contribution] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    @property
    def has_solutions(self) -> bool:
        return bool(self.loose_solutions) or any(t.solutions for t in self.problems)

    @property
    def prompts(self) -> dict[str, tuple[Any, ...]]:
        return {step: self.template.prompts_for(step) for step in session_templates.STEPS}


def previous_session(session: NetworkSession) -> NetworkSession | None:
    return (
        NetworkSession.objects.filter(
            client_id=session.client_id,
            status=SessionStatus.HELD,
            starts_at__lt=session.starts_at,
        )
        .order_by("-starts_at", "pk")
        .first()
    )


def _review_actions(session: NetworkSession, previous: NetworkSession | None) -> list[Action]:
    """Actions that fell due since the previous session, and any still open from before."""
    session_day = timezone.localdate(session.starts_at)
    due = Action.objects.filter(client_id=session.client_id, due_on__lte=session_day).exclude(
        session=session
    )
    if previous is not None:
        due = due.filter(
            Q(due_on__gt=timezone.localdate(previous.starts_at)) | Q(status=ActionStatus.OPEN)
        )
    return list(
        due.select_related("owner", "goal", "owner_member").order_by("due_on", "created_at", "pk")
    )


def goal_reviews(client: Client, *, audience: str) -> list[GoalReview]:
    """The client's current goals with where each indicator stands now, as on the plan page,
    in a fixed number of queries."""
    goals = list(Goal.objects.current().filter(client=client).order_by("created_at", "pk"))
    progress = plan.progress_for(goals, audience=audience)
    return [GoalReview(goal, progress[goal.pk]) for goal in goals]


def agenda(session: NetworkSession, *, audience: str) -> Agenda:
    """Everything the session page shows apart from the private notes, in a fixed number of
    queries whatever the size of the session. ``audience`` is "client" or "clinician"."""
    previous = previous_session(session)
    contributions = list(
        session.contributions.select_related("said_by").order_by("created_at", "pk")
    )
    problems = [c for c in contributions if c.step == AgendaStep.PROBLEM]
    by_problem: dict[UUID, list[Contribution]] = {p.pk: [] for p in problems}
    loose: list[Contribution] = []
    for c in contributions:
        if c.step != AgendaStep.SOLUTION:
            continue
        if c.problem_id is not None and c.problem_id in by_problem:
            by_problem[c.problem_id].append(c)
        else:
            loose.append(c)
    return Agenda(
        session=session,
        template=template_of(session),
        participants=participants_of(session),
        previous=previous,
        goals=goal_reviews(session.client, audience=audience),
        review_actions=_review_actions(session, previous),
        reviews=[c for c in contributions if c.step == AgendaStep.REVIEW],
        problems=[ProblemThread(p, by_problem[p.pk]) for p in problems],
        loose_solutions=loose,
        actions=list(
            session.actions.select_related("owner", "goal", "owner_member").order_by(
                "due_on", "created_at", "pk"
            )
        ),
    )


def actions_of(client: Client, status: str = "") -> QuerySet[Action]:
    """The client's actions, optionally of one status, soonest due first."""
    actions = Action.objects.filter(client=client)
    if status in ActionStatus.values:
        actions = actions.filter(status=status)
    return actions.select_related("owner", "goal", "session").order_by("due_on", "created_at", "pk")


def sessions_of(client: Client) -> tuple[list[NetworkSession], QuerySet[NetworkSession]]:
    """Planned sessions (soonest first) and the rest (held or cancelled, newest first)."""
    planned = list(
        NetworkSession.objects.filter(client=client, status=SessionStatus.PLANNED).order_by(
            "starts_at", "pk"
        )
    )
    earlier = NetworkSession.objects.filter(client=client).exclude(status=SessionStatus.PLANNED)
    return planned, earlier.order_by("-starts_at", "pk")


# --- the shared summary ----------------------------------------------------------------------


@dataclass(frozen=True)
class Said:
    text: str
    by: str


@dataclass(frozen=True)
class SaidThread:
    problem: Said
    solutions: list[Said]


@dataclass(frozen=True)
class AgreedAction:
    title: str
    owner: str
    due_on: date
    goal: str
    status: str
    status_label: str


def _name_in_summary(user: User | None, client: Client) -> str:
    if user is None:
        return ""
    if client.user_id is not None and user.pk == client.user_id:
        return client.first_name
    return first_name(user)


def summary_context(
    session: NetworkSession, *, audience: str, scope: MemberScope | None = None
) -> dict[str, Any]:
    """The context of ``care/session_summary_pdf.html``: date, who came (first names), the
    shared summary, what was said (attributed), the actions agreed and the plan for next time.

    ``audience`` is "clinician", "client" or "member". A member's version needs their
    :class:`MemberScope` and the client's consent to share session summaries (else
    :class:`NotShared`, a 404), lists only the actions the scope shows them, and names goals
    only if goals are shared. The clinician's private notes are not reachable from here."""
    if audience == "member":
        if (
            scope is None
            or scope.client.pk != session.client_id
            or not scope.may("session_summaries")
            or not scope.sessions().filter(pk=session.pk).exists()
        ):
            raise NotShared
    elif audience not in ("client", "clinician"):
        raise ValueError(f"unknown audience {audience!r}")
    client = session.client
    participants = participants_of(session)
    contributions = list(
        session.contributions.select_related("said_by").order_by("created_at", "pk")
    )

    def said(c: Contribution) -> Said:
        return Said(c.text, _name_in_summary(c.said_by, client))

    problems = [c for c in contributions if c.step == AgendaStep.PROBLEM]
    problem_ids = {p.pk for p in problems}
    actions = session.actions.select_related("owner", "goal").order_by("due_on", "created_at", "pk")
    if audience == "member":
        assert scope is not None
        actions = actions.filter(pk__in=scope.actions().values("pk"))
    show_goals = audience != "member" or (scope is not None and scope.may("goals"))
    return {
        "session": session,
        "audience": audience,
        "client_first_name": client.first_name,
        "template": template_of(session),
        "starts_at": session.starts_at,
        "ends_at": ends_at(session),
        "held": session.status == SessionStatus.HELD,
        "attendance_recorded": any(p.attended is not None for p in participants),
        "attended": [_name_in_summary(p.user, client) for p in participants if p.attended],
        "shared_summary": session.shared_summary,
        "reviews": [said(c) for c in contributions if c.step == AgendaStep.REVIEW],
        "problems": [
            SaidThread(said(p), [said(s) for s in contributions if s.problem_id == p.pk])
            for p in problems
        ],
        "loose_solutions": [
            said(c)
            for c in contributions
            if c.step == AgendaStep.SOLUTION and c.problem_id not in problem_ids
        ],
        "actions": [
            AgreedAction(
                a.title,
                _name_in_summary(a.owner, client),
                a.due_on,
                a.goal.title if show_goals and a.goal is not None else "",
                a.status,
                a.get_status_display(),
            )
            for a in actions
        ],
        "show_goals": show_goals,
        "next_plan": session.next_plan,
    }


def summary_pdf(context: dict[str, Any], *, request: HttpRequest | None) -> bytes:
    from kithkin.network.pdf import render_pdf

    return render_pdf("care/session_summary_pdf.html", context, request=request)


# --- calendar files --------------------------------------------------------------------------


def _site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def session_uid(session: NetworkSession) -> str:
    return f"{session.pk}@{_site_host()}"


def ics_for(
    session: NetworkSession, *, method: str | None = None, attendee: User | None = None
) -> bytes:
    """The session as an iCalendar file. Invitations use METHOD:REQUEST (CANCEL once cancelled);
    a download uses PUBLISH. The summary is neutral ("Support session"): no name, no health."""
    cancelled = session.status == SessionStatus.CANCELLED
    method = method or ("CANCEL" if cancelled else "REQUEST")
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Kithkin//Network sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", session_uid(session))
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", session.starts_at.astimezone(UTC))
    event.add("dtend", ends_at(session).astimezone(UTC))
    event.add("sequence", session.sequence)
    event.add("summary", _("Support session"))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    location = session.place or session.video_link
    if location:
        event.add("location", location)
    if session.video_link:
        event.add("url", session.video_link)
        event.add("description", _("Video link: %(link)s") % {"link": session.video_link})
    _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL or "")
    organizer = icalendar.vCalAddress(f"mailto:{address or 'no-reply@' + _site_host()}")
    organizer.params["cn"] = icalendar.vText("Kithkin")
    event.add("organizer", organizer)
    if attendee is not None and attendee.email:
        person = icalendar.vCalAddress(f"mailto:{attendee.email}")
        person.params["cn"] = icalendar.vText(first_name(attendee))
        person.params["role"] = icalendar.vText("REQ-PARTICIPANT")
        person.params["rsvp"] = icalendar.vText("FALSE")
        event.add("attendee", person)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


# --- emails (run by the jobs in care/jobs.py) ------------------------------------------------


def _url(name: str, **kwargs: Any) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{reverse(name, kwargs=kwargs)}"


def _session_url(session: NetworkSession, kind: str) -> str:
    if kind == ParticipantKind.MEMBER:
        return _url("circle_session", client_id=session.client_id, session_id=session.pk)
    return _url("care_session", client_id=session.client_id, session_id=session.pk)


def _still_taking_part(session: NetworkSession, participant: Participant) -> bool:
    """Only people still involved hear about a session: not a member whose access ended, a
    clinician who left the care team, or an account that was closed."""
    if not participant.user.is_active or not participant.user.email:
        return False
    if participant.kind == ParticipantKind.MEMBER:
        return participant.member is not None and participant.member.ended_at is None
    if participant.kind == ParticipantKind.CLIENT:
        return session.client.user_id == participant.user_id
    return CareTeamMember.objects.filter(
        client_id=session.client_id, user_id=participant.user_id
    ).exists()


def _send(
    user: User, template: str, context: dict[str, Any], *, kind: str, ics: bytes | None = None
) -> None:
    """Put the notice in the person's inbox, and email it (in their own time zone) unless they
    turned this kind of mail off. The email carries the calendar file, which the inbox cannot."""
    zone = _zone(user)
    context = {**context, "recipient_first_name": first_name(user), "zone_name": str(zone)}
    with timezone.override(zone):
        subject = render_to_string(f"care/email/{template}_subject.txt", context).strip()
        body = render_to_string(f"care/email/{template}_body.txt", context)
        # The inbox entry links to the page itself and has no attachment: no link text, no
        # "attached calendar file", no signature.
        inbox_body = render_to_string(
            f"care/email/{template}_body.txt", {**context, "in_inbox": True}
        ).strip()
    notifications.notify(
        user,
        kind=kind,
        title=subject,
        body=inbox_body,
        url=urlsplit(str(context.get("url", ""))).path,
        email=False,
    )
    if not notifications.wants_email(user, kinds.category_of(kind)):
        return
    message = EmailMessage(subject, body, None, [user.email])
    if ics is not None:
        message.attach(ICS_NAME, ics.decode("utf-8"), "text/calendar")
    message.send(fail_silently=False)


def _session_email_context(session: NetworkSession, participant: Participant) -> dict[str, Any]:
    return {
        "session": session,
        "kind": participant.kind,
        # A member may read the client's first name; a clinician's email names no client.
        "client_first_name": session.client.first_name
        if participant.kind == ParticipantKind.MEMBER
        else "",
        "starts_at": session.starts_at,
        "ends_at": ends_at(session),
        "place": session.place,
        "video_link": session.video_link,
        "url": _session_url(session, participant.kind),
    }


def send_notice(session_id: str, sequence: int) -> int:
    """Email everyone taking part the invitation, update or cancellation for this sequence of
    the session, each with a calendar file. Returns how many were sent. Stands down if the
    session has changed again since (a newer notice is on its way) or has already begun."""
    session = NetworkSession.objects.select_related("client").filter(pk=session_id).first()
    if session is None or session.sequence != sequence or session.status == SessionStatus.HELD:
        return 0
    cancelled = session.status == SessionStatus.CANCELLED
    if not cancelled and session.starts_at <= timezone.now():
        return 0
    waiting = session.participants.filter(
        Q(notified_sequence__isnull=True) | Q(notified_sequence__lt=sequence)
    )
    if cancelled:
        # Nobody needs to hear of the cancellation of a session they were never told about.
        waiting = waiting.filter(notified_sequence__isnull=False)
    sent = 0
    for participant in waiting.select_related("user", "member").order_by("pk"):
        if not _still_taking_part(session, participant):
            continue
        if cancelled:
            notice = "cancelled"
        elif participant.notified_sequence is None:
            notice = "invitation"
        else:
            notice = "changed"
        context = {**_session_email_context(session, participant), "notice": notice}
        ics = ics_for(session, attendee=participant.user)
        _send(participant.user, "session_notice", context, kind=kinds.SESSION_NOTICE, ics=ics)
        # Marked one by one: a retry after a failure skips whoever already has it.
        Participant.objects.filter(pk=participant.pk).update(notified_sequence=sequence)
        sent += 1
    audit.record(
        None,
        action="care.session.notify",
        object_type="networksession",
        object_id=session.pk,
        client_id=session.client_id,
        detail={"sequence": sequence, "recipients": sent, "cancelled": cancelled},
    )
    return sent


def send_session_reminder(session_id: str, sequence: int) -> int:
    """Remind everyone taking part the day before. Sends nothing if the session was cancelled,
    moved (the sequence no longer matches), held or has already begun."""
    session = NetworkSession.objects.select_related("client").filter(pk=session_id).first()
    if (
        session is None
        or session.sequence != sequence
        or session.status != SessionStatus.PLANNED
        or session.starts_at <= timezone.now()
    ):
        return 0
    waiting = (
        session.participants.filter(
            Q(reminded_sequence__isnull=True) | Q(reminded_sequence__lt=sequence)
        )
        .select_related("user", "member")
        .order_by("pk")
    )
    sent = 0
    for participant in waiting:
        if not _still_taking_part(session, participant):
            continue
        _send(
            participant.user,
            "session_reminder",
            _session_email_context(session, participant),
            kind=kinds.SESSION_REMINDER,
        )
        Participant.objects.filter(pk=participant.pk).update(reminded_sequence=sequence)
        sent += 1
    audit.record(
        None,
        action="care.session.remind",
        object_type="networksession",
        object_id=session.pk,
        client_id=session.client_id,
        detail={"sequence": sequence, "recipients": sent},
    )
    return sent


def _owner_still_involved(action: Action) -> bool:
    owner = action.owner
    if not owner.is_active or not owner.email:
        return False
    if action.owner_kind == OwnerKind.MEMBER:
        member = action.owner_member
        if member is None or member.ended_at is not None:
            return False
        # The member's reminder is part of what the client shares with them.
        return scope_of(member).actions().filter(pk=action.pk).exists()
    if action.owner_kind == OwnerKind.CLIENT:
        return action.client.user_id == owner.pk
    return CareTeamMember.objects.filter(client_id=action.client_id, user=owner).exists()


def send_action_reminder(action_id: str, due_on: str) -> bool:
    """Remind the owner the day before an action is due. Sends nothing if it is no longer open,
    its due date changed, its day has passed, it was already sent, or the owner is no longer
    involved (a member the client no longer shares the action with)."""
    action = (
        Action.objects.select_related("owner", "owner_member", "client", "session")
        .filter(pk=action_id)
        .first()
    )
    if (
        action is None
        or action.status != ActionStatus.OPEN
        or action.due_on.isoformat() != due_on
        or action.reminded_for == action.due_on
    ):
        return False
    if action.due_on < timezone.localdate(timezone.now(), _zone(action.owner)):
        return False
    if not _owner_still_involved(action):
        return False
    if action.owner_kind == OwnerKind.MEMBER:
        url = _url("circle_action", client_id=action.client_id, action_id=action.pk)
    else:
        url = _url("care_action", client_id=action.client_id, action_id=action.pk)
    context = {
        "kind": action.owner_kind,
        "client_first_name": action.client.first_name
        if action.owner_kind == OwnerKind.MEMBER
        else "",
        "due_on": action.due_on,
        "agreed_on": action.session.starts_at if action.session is not None else None,
        "url": url,
    }
    _send(action.owner, "action_reminder", context, kind=kinds.ACTION_REMINDER)
    Action.objects.filter(pk=action.pk).update(reminded_for=action.due_on)
    audit.record(
        None,
        action="care.action.remind",
        object_type="action",
        object_id=action.pk,
        client_id=action.client_id,
    )
    return True
