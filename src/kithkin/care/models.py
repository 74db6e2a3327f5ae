"""Social network therapy casework: the case plan (problems, goals and their indicators), the key
contacts chosen from the client's map, the client's consent for each network member, network
sessions with their structured agenda, the actions agreed, and the clinician's private notes.

Everything said about a person's health or relationships is free text, so it is encrypted."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kithkin.accounts.models import Client, Invitation, NetworkMember
from kithkin.core.fields import EncryptedTextField

# --- the case plan ---------------------------------------------------------------------------


class Problem(models.Model):
    """A problem the client and the network have agreed to work on."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="care_problems")
    text = EncryptedTextField(_("problem"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"problem {self.pk}"


class GoalStatus(models.TextChoices):
    ACTIVE = "active", _("Working on it")
    ACHIEVED = "achieved", _("Achieved")
    PAUSED = "paused", _("Paused")
    DROPPED = "dropped", _("No longer a goal")


class GoalQuerySet(models.QuerySet["Goal"]):
    def current(self) -> GoalQuerySet:
        return self.exclude(status=GoalStatus.DROPPED)


class Goal(models.Model):
    """An outcome the client and the network agreed on openly, with indicators to follow it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="care_goals")
    problem = models.ForeignKey(
        Problem, on_delete=models.SET_NULL, null=True, blank=True, related_name="goals"
    )
    title = EncryptedTextField(_("goal"))
    description = EncryptedTextField(_("what success looks like"), blank=True, default="")
    status = models.CharField(max_length=20, choices=GoalStatus.choices, default=GoalStatus.ACTIVE)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = GoalQuerySet.as_manager()

    def __str__(self) -> str:
        return f"goal {self.pk}"


class IndicatorKind(models.TextChoices):
    SCORE = "score", _("A questionnaire score")
    RHYTHM = "rhythm", _("Keeping in touch with someone")


class Indicator(models.Model):
    """How a goal is measured: a questionnaire score reaching a target, or contact with a person
    from the map at least every N days."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="indicators")
    kind = models.CharField(max_length=20, choices=IndicatorKind.choices)
    instrument_id = models.CharField(max_length=64, blank=True, default="")
    target_score = models.FloatField(null=True, blank=True)
    person = models.ForeignKey(
        "network.Person", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    target_days = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=(
                    Q(kind="score", target_score__isnull=False, person__isnull=True)
                    & ~Q(instrument_id="")
                )
                | Q(kind="rhythm", person__isnull=False, target_days__gte=1, instrument_id=""),
                name="indicator_is_complete",
            )
        ]

    def __str__(self) -> str:
        return f"indicator {self.pk}"


# --- key contacts and consent ----------------------------------------------------------------


class KeyContactQuerySet(models.QuerySet["KeyContact"]):
    def current(self) -> KeyContactQuerySet:
        return self.filter(removed_at__isnull=True)


class KeyContact(models.Model):
    """Someone from the client's map chosen to take part. Invited by email; once they accept,
    ``network_member`` links the person on the map to their account."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="key_contacts")
    person = models.ForeignKey("network.Person", on_delete=models.CASCADE, related_name="+")
    why = EncryptedTextField(_("why involve them"), blank=True, default="")
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    chosen_at = models.DateTimeField(default=timezone.now)
    invitation = models.ForeignKey(
        Invitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    network_member = models.OneToOneField(
        NetworkMember,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="key_contact",
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = KeyContactQuerySet.as_manager()

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(
                fields=["client", "person"],
                condition=Q(removed_at__isnull=True),
                name="person_chosen_once",
            )
        ]

    def __str__(self) -> str:
        return f"key contact {self.pk}"


# What a client can share with a member, in display order. A member never sees raw answers,
# risk items or clinician notes: those are not among the choices at all.
SHAREABLE: list[tuple[str, str]] = [
    ("goals", str(_("goals"))),
    ("session_summaries", str(_("session summaries"))),
    ("own_actions", str(_("the actions agreed for them"))),
    ("checkin_summary", str(_("a summary of my check-ins"))),
]


class ConsentGrantQuerySet(models.QuerySet["ConsentGrant"]):
    def latest_per_member(self) -> ConsentGrantQuerySet:
        """The current decision for each member: the newest version (append-only history)."""
        newer = ConsentGrant.objects.filter(
            member=models.OuterRef("member"), version__gt=models.OuterRef("version")
        )
        return self.exclude(models.Exists(newer))


class ConsentGrant(models.Model):
    """One version of what the client lets one network member see. Rows are never changed: a new
    decision (including a revocation, all false) is a new version, so the history is kept."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consent_grants")
    member = models.ForeignKey(NetworkMember, on_delete=models.CASCADE, related_name="grants")
    version = models.PositiveIntegerField()
    goals = models.BooleanField(default=False)
    session_summaries = models.BooleanField(default=False)
    own_actions = models.BooleanField(default=False)
    checkin_summary = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    objects = ConsentGrantQuerySet.as_manager()

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["member", "version"], name="consent_version_once")
        ]

    def __str__(self) -> str:
        return f"consent {self.member_id} v{self.version}"

    def allows(self, what: str) -> bool:
        return bool(getattr(self, what))

    @property
    def shares_anything(self) -> bool:
        return any(self.allows(key) for key, _label in SHAREABLE)


# --- network sessions ------------------------------------------------------------------------


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class NetworkSession(models.Model):
    """A meeting of the client, the members taking part and the clinician."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="network_sessions")
    template = models.CharField(max_length=40, blank=True, default="")
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveSmallIntegerField(_("length in minutes"), default=60)
    place = EncryptedTextField(_("place"), blank=True, default="")
    video_link = EncryptedTextField(_("video link"), blank=True, default="")
    status = models.CharField(
        max_length=20, choices=SessionStatus.choices, default=SessionStatus.PLANNED
    )
    # Shared with members who may see session summaries; the private notes are ClinicianNote.
    shared_summary = EncryptedTextField(_("summary"), blank=True, default="")
    next_plan = EncryptedTextField(_("plan for the next session"), blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    held_at = models.DateTimeField(null=True, blank=True)
    # iCalendar SEQUENCE: raised on every reschedule or cancellation, so calendars update the
    # event they already hold, and reminder jobs for an older time know to stand down.
    sequence = models.PositiveIntegerField(default=0)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["client", "starts_at"])]

    def __str__(self) -> str:
        return f"network session {self.pk}"


class ParticipantKind(models.TextChoices):
    CLIENT = "client", _("Client")
    MEMBER = "member", _("Network member")
    CLINICIAN = "clinician", _("Clinician")


class Participant(models.Model):
    """Someone invited to a session, and whether they came."""

    session = models.ForeignKey(
        NetworkSession, on_delete=models.CASCADE, related_name="participants"
    )
    kind = models.CharField(max_length=20, choices=ParticipantKind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        NetworkMember, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    attended = models.BooleanField(null=True, blank=True)
    # The session sequence whose notice (invitation, update or cancellation) and whose reminder
    # this person was last emailed: a job that runs twice sends once.
    notified_sequence = models.PositiveIntegerField(null=True, blank=True)
    reminded_sequence = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["session", "user"], name="participant_once")
        ]

    def __str__(self) -> str:
        return f"participant {self.pk}"


class AgendaStep(models.TextChoices):
    """The structured agenda: review, problems, solutions, (actions are rows of their own), plan."""

    REVIEW = "review", _("Review of progress since last time")
    PROBLEM = "problem", _("Problems raised")
    SOLUTION = "solution", _("Solutions brainstormed")


class Contribution(models.Model):
    """Something said in a session, attributed to whoever said it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(
        NetworkSession, on_delete=models.CASCADE, related_name="contributions"
    )
    step = models.CharField(max_length=20, choices=AgendaStep.choices)
    text = EncryptedTextField(_("what was said"))
    said_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # A solution answers a problem raised in the same session.
    problem = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="solutions"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"contribution {self.pk}"


class ClinicianNote(models.Model):
    """The clinician's private session notes: the care team only, never shared or exported."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(
        NetworkSession, on_delete=models.CASCADE, related_name="clinician_notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = EncryptedTextField(_("private note"))
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"clinician note {self.pk}"


# --- actions ---------------------------------------------------------------------------------


class ActionStatus(models.TextChoices):
    OPEN = "open", _("To do")
    DONE = "done", _("Done")
    NOT_POSSIBLE = "not_possible", _("Not possible")


class OwnerKind(models.TextChoices):
    CLIENT = "client", _("Client")
    MEMBER = "member", _("Network member")
    CLINICIAN = "clinician", _("Clinician")


class ActionQuerySet(models.QuerySet["Action"]):
    def open(self) -> ActionQuerySet:
        return self.filter(status=ActionStatus.OPEN)


class Action(models.Model):
    """Something someone agreed to do, by a date, for a goal."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="care_actions")
    session = models.ForeignKey(
        NetworkSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    goal = models.ForeignKey(
        Goal, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    title = EncryptedTextField(_("action"))
    owner_kind = models.CharField(max_length=20, choices=OwnerKind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_actions_owned"
    )
    # RESTRICT: members end (ended_at) rather than being deleted, and their actions stay on
    # record; deleting the whole client (which cascades to both) is still allowed.
    owner_member = models.ForeignKey(
        NetworkMember, on_delete=models.RESTRICT, null=True, blank=True, related_name="actions"
    )
    due_on = models.DateField(_("due on"))
    status = models.CharField(max_length=20, choices=ActionStatus.choices, default="open")
    status_note = EncryptedTextField(_("note"), blank=True, default="")
    status_at = models.DateTimeField(null=True, blank=True)
    status_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The due date whose reminder went out: a job that runs twice sends once.
    reminded_for = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ActionQuerySet.as_manager()

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["client", "status", "due_on"]),
            models.Index(fields=["owner", "status", "due_on"]),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=~Q(owner_kind="member") | Q(owner_member__isnull=False),
                name="member_action_names_the_member",
            )
        ]

    def __str__(self) -> str:
        return f"action {self.pk}"
