"""A client with rows in every table the privacy registry lists, each free-text field carrying
a canary naming the client, so a test can tell whose data ended up where."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kithkin.accounts.models import (
    AuthenticatorDevice,
    BreakGlassAccess,
    Client,
    EmailChange,
    Invitation,
    NetworkMember,
    Role,
    User,
)
from kithkin.care.models import (
    Action,
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
from kithkin.connection.models import Nudge, NudgeSettings, WithdrawalSignal
from kithkin.measures.models import ResponsePerson, RiskAlert
from kithkin.network.models import Group, Snapshot
from kithkin.network.snapshots import take_snapshot
from kithkin.notifications.models import Notification, Preference
from kithkin.privacy.models import (
    ConsentDecision,
    ConsentRecord,
    ConsentTopic,
    DataExport,
    ErasureRequest,
)
from kithkin.security.models import UserSession
from tests import factories


@dataclass(frozen=True)
class Canaries:
    """Strings that appear only in one client's record."""

    tag: str

    @property
    def concerns(self) -> str:
        return f"Nightmares since the flood canary-{self.tag}-concerns"

    @property
    def person(self) -> str:
        return f"Ottoline canary-{self.tag}-person"

    @property
    def private_note(self) -> str:
        return f"Private session note canary-{self.tag}-note"

    @property
    def response_note(self) -> str:
        return f"A note for my clinician canary-{self.tag}-response"

    @property
    def all(self) -> list[str]:
        return [self.concerns, self.person, self.private_note, self.response_note]


def member_record(client: Client) -> NetworkMember:
    found = NetworkMember.objects.filter(client=client).first()
    if found is not None:
        return found
    user = factories.UserFactory.create(display_name=f"Member of {client.display_name}")
    return NetworkMember.objects.create(client=client, user=user, relationship="Cousin")


def fill_record(client: Client, staff: User, tag: str) -> Canaries:
    """Give ``client`` at least one row in every registry table. ``staff`` is a clinician of
    the client's practice (on the care team)."""
    canaries = Canaries(tag)
    now = timezone.now()
    client.presenting_concerns = canaries.concerns
    if client.user is None:
        client.user = factories.UserFactory.create(display_name=client.display_name)
    client.save()
    user = client.user
    member = member_record(client)

    _, secret_hash = Invitation.make_secret()
    invitation = Invitation.objects.create(
        practice=client.practice,
        role=Role.MEMBER,
        client=client,
        email=f"invitee-{tag}@example.test",
        display_name=f"Invitee {tag}",
        secret_hash=secret_hash,
        invited_by=staff,
    )
    BreakGlassAccess.objects.create(
        user=staff,
        client=client,
        reason=f"Out of hours crisis call canary-{tag}-breakglass",
        expires_at=now + timedelta(hours=1),
    )

    # The support map
    person = factories.person_of(client, canaries.person, helps_safe=True, notes="Notes")
    sibling = factories.person_of(client, f"Second person {tag}")
    factories.tie(person, sibling)
    factories.contact(person, note=f"Coffee canary-{tag}-contact")
    group = Group.objects.create(client=client, name=f"Choir {tag}", kind="club")
    group.members.add(person)
    take_snapshot(client, staff, reason=Snapshot.Reason.ON_DEMAND)

    # Check-ins
    assignment = factories.assignment(client, "phq9")
    response = factories.submitted_response(
        client, "phq9", factories.all_answers("phq9", 1), assignment=assignment
    )
    response.note = canaries.response_note
    response.save()
    ResponsePerson.objects.create(response=response, item_id="1", person=person)
    RiskAlert.objects.create(
        client=client,
        response=response,
        instrument_id="phq9",
        rule_id="phq9_item9",
        item_id="9",
        value=1,
        severity="urgent",
    )

    # Casework
    problem = Problem.objects.create(client=client, text=f"Evenings canary-{tag}-problem")
    goal = Goal.objects.create(client=client, problem=problem, title="Sleep better")
    Indicator.objects.create(
        goal=goal, kind=IndicatorKind.SCORE, instrument_id="phq9", target_score=9
    )
    KeyContact.objects.create(client=client, person=person, chosen_by=staff, invitation=invitation)
    ConsentGrant.objects.create(client=client, member=member, version=1, goals=True)
    session = NetworkSession.objects.create(
        client=client,
        starts_at=now - timedelta(days=3),
        status=SessionStatus.HELD,
        shared_summary=f"Summary canary-{tag}-summary",
    )
    Participant.objects.create(session=session, kind=ParticipantKind.CLINICIAN, user=staff)
    Participant.objects.create(
        session=session, kind=ParticipantKind.MEMBER, user=member.user, member=member
    )
    said = Contribution.objects.create(
        session=session, step="problem", text="It is hard", said_by=user, recorded_by=staff
    )
    Contribution.objects.create(
        session=session, step="solution", text="Call", problem=said, recorded_by=staff
    )
    ClinicianNote.objects.create(session=session, author=staff, text=canaries.private_note)
    Action.objects.create(
        client=client,
        session=session,
        goal=goal,
        title="Call on Sunday",
        owner_kind=OwnerKind.MEMBER,
        owner=member.user,
        owner_member=member,
        due_on=timezone.localdate() + timedelta(days=2),
    )
    Action.objects.create(
        client=client,
        title="Walk daily",
        owner_kind=OwnerKind.CLIENT,
        owner=user,
        due_on=timezone.localdate() + timedelta(days=2),
    )

    # Keeping in touch
    nudges = NudgeSettings.objects.create(client=client, enabled=True)
    nudges.muted_people.add(sibling)
    Nudge.objects.create(client=client, person=person, last_contact_at=now - timedelta(days=40))
    WithdrawalSignal.objects.create(client=client, reasons=["contact_dropped"])

    # The client's account: inbox, email choices, sessions, two-step devices
    Notification.objects.create(
        user=user, kind="checkin.due", title="A check-in is ready", url=f"/clients/{client.pk}/"
    )
    Preference.objects.create(user=user, category="nudges", email=False)
    UserSession.objects.create(
        user=user,
        key_hash=hashlib.sha256(f"session-{tag}".encode()).hexdigest(),
        session_key=f"session-key-{tag}",
        created_at=now,
        last_seen_at=now,
        user_agent="Firefox",
    )
    EmailChange.objects.create(user=user, new_email=f"new-{tag}@example.test", secret_hash="0" * 64)
    AuthenticatorDevice.objects.create(user=user, name="phone", confirmed=True)
    # django-otp's own table is emptied by accounts 0004 but still exists: still covered.
    TOTPDevice.objects.create(user=user, name="old phone", confirmed=False)
    backup = StaticDevice.objects.create(user=user, name="backup", confirmed=True)
    StaticToken.objects.create(device=backup, token=f"tok{tag}"[:16])

    # Data rights
    ConsentRecord.objects.create(
        client=client,
        topic=ConsentTopic.TREATMENT,
        version=1,
        notice_version="2025-1",
        decision=ConsentDecision.GIVEN,
        recorded_by=user,
    )
    DataExport.objects.create(client=client, made_by=user)
    ErasureRequest.objects.create(client=client, reason="Asked by the client", requested_by=staff)
    return canaries
