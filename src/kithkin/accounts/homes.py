"""What each role's home page shows. Views call these; templates only display the results.

Every query here starts from :func:`kithkin.accounts.access.clients_for`, so a home page can
only ever show clients the signed-in person may reach for that purpose."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import cast
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from kithkin.accounts.access import Purpose, clients_for, membership_of
from kithkin.accounts.models import (
    CareTeamMember,
    Client,
    Invitation,
    Membership,
    NetworkMember,
    Practice,
    Role,
    User,
)
from kithkin.connection import withdrawal
from kithkin.measures import direction
from kithkin.measures import services as measures
from kithkin.measures.models import OVERDUE_AFTER
from kithkin.measures.scoring import ReliableChange

CASELOAD_PAGE_SIZE = 25
# Latest scores shown per client on the caseload; the rest are on the client's measures page.
CASELOAD_SCORES = 3

# Fields a list needs; the encrypted presenting concerns are never loaded (or decrypted) for it.
_LIST_FIELDS = ("id", "practice_id", "display_name", "preferred_name", "birth_year")


def age_from_birth_year(birth_year: int | None, today: datetime.date | None = None) -> int | None:
    """Age in years as far as a birth year allows: the age this person turns this year."""
    if birth_year is None:
        return None
    today = today or timezone.localdate()
    age = today.year - birth_year
    return age if age >= 0 else None


def format_score(value: float) -> str:
    """A total as people write it: 12, or 2.3 for a mean."""
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


@dataclass(frozen=True)
class ScoreCell:
    """One instrument's latest score on the caseload, compact, with a full sentence for screen
    readers: "PHQ-9 12 · Moderate · ↓ improved"."""

    name: str
    total: str
    band: str
    arrow: str  # the direction the score moved since the first one: ↓, ↑, or "" if it did not
    # "improved", "deteriorated", "no reliable change", or the difference with the instrument's
    # own word for its direction ("8 worse", "3 better"; "higher"/"lower" if it has none)
    change: str
    sentence: str


def score_cell(latest: measures.LatestScore) -> ScoreCell:
    chosen = latest.instrument
    total = format_score(latest.total)
    sentence = _("%(name)s: latest score %(total)s") % {"name": chosen.short_title, "total": total}
    if latest.band:
        sentence += f" ({latest.band})"
    sentence += "."
    arrow = change = ""
    moved = latest.change
    if moved is not None and moved.difference != 0:
        arrow = direction.arrow(moved.difference)
        first = format_score(moved.before)
        if moved.classification is ReliableChange.IMPROVED:
            change = _("improved")
            sentence += " " + _("Reliably improved since the first score of %(first)s.") % {
                "first": first
            }
        elif moved.classification is ReliableChange.DETERIORATED:
            change = _("deteriorated")
            sentence += " " + _("Reliably deteriorated since the first score of %(first)s.") % {
                "first": first
            }
        elif moved.classification is ReliableChange.NO_CHANGE:
            change = _("no reliable change")
            sentence += " " + _("No reliable change since the first score of %(first)s.") % {
                "first": first
            }
        else:
            amount = format_score(abs(moved.difference))
            # Translators: a score change on the caseload and its direction: "8 worse".
            change = _("%(amount)s %(direction)s") % {
                "amount": amount,
                "direction": direction.word(chosen, moved.difference),
            }
            sentence += " " + _("First score %(first)s; reliable change cannot be judged.") % {
                "first": first
            }
            sentence += " " + direction.sentence(chosen, moved.difference, amount)
    return ScoreCell(chosen.short_title, total, latest.band, arrow, change, sentence)


@dataclass(frozen=True)
class CaseloadRow:
    client_id: UUID
    name: str
    preferred_name: str
    age: int | None
    is_lead: bool
    added_at: datetime.datetime | None
    scores: tuple[ScoreCell, ...] = ()
    more_scores: int = 0
    open_alerts: int = 0
    # The withdrawal signal's reasons, worded for the care team ("Contact has dropped").
    withdrawal: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attention:
    """What needs a staff member's attention now, as counts for the home page."""

    open_alerts: int
    escalated: int | None  # None for anyone who is not a practice admin
    due: int
    overdue: int

    @property
    def anything(self) -> bool:
        return bool(self.open_alerts or self.escalated or self.due or self.overdue)


def needs_attention(user: User) -> Attention:
    """Open alerts on this person's care teams, escalated ones for admins, and due check-ins:
    three or four count queries, whatever the caseload's size."""
    membership = membership_of(user)
    is_admin = membership is not None and membership.role == Role.ADMIN
    now = timezone.now()
    due = measures.due_assignments(user, now).aggregate(
        due=Count("pk", filter=Q(next_due_at__gt=now - OVERDUE_AFTER)),
        overdue=Count("pk", filter=Q(next_due_at__lte=now - OVERDUE_AFTER)),
    )
    return Attention(
        open_alerts=measures.open_alerts_for(user).count(),
        escalated=measures.escalated_alerts_for_admin(user).count() if is_admin else None,
        due=due["due"] or 0,
        overdue=due["overdue"] or 0,
    )


class CaseloadPage(Page[CaseloadRow]):
    """A page of the caseload; it also carries what needs the person's attention, so the home
    page shows both from one call."""

    attention: Attention | None = None


def caseload_queryset(user: User) -> QuerySet[Client]:
    """The current clients on this person's care teams, by name, in a fixed number of queries."""
    links = CareTeamMember.objects.filter(client=OuterRef("pk"), user=user)
    return (
        clients_for(user, Purpose.CARE)
        .filter(discharged_at__isnull=True)
        .only(*_LIST_FIELDS)
        .annotate(
            is_lead=Exists(links.filter(is_lead=True)),
            added_at=Subquery(links.order_by("added_at").values("added_at")[:1]),
        )
        .order_by("display_name", "pk")
    )


def caseload_page(user: User, page_number: str | int | None) -> CaseloadPage:
    """One page of the caseload with each client's latest scores, open alerts and withdrawal
    signal: a count query, a page query, two measures queries and one for the signals, whatever
    its size; plus the attention counts."""
    paginator: Paginator[Client] = Paginator(caseload_queryset(user), CASELOAD_PAGE_SIZE)
    found = paginator.get_page(page_number)
    today = timezone.localdate()
    clients = list(found.object_list)
    scores = measures.caseload_measures([client.pk for client in clients])
    signals = withdrawal.caseload_signals([client.pk for client in clients])
    rows = []
    for client in clients:
        mine = scores[client.pk]
        rows.append(
            CaseloadRow(
                client_id=client.pk,
                name=client.display_name,
                preferred_name=client.preferred_name,
                age=age_from_birth_year(client.birth_year, today),
                is_lead=bool(getattr(client, "is_lead", False)),
                added_at=getattr(client, "added_at", None),
                scores=tuple(score_cell(s) for s in mine.latest[:CASELOAD_SCORES]),
                more_scores=max(0, len(mine.latest) - CASELOAD_SCORES),
                open_alerts=mine.open_alerts,
                withdrawal=signals.get(client.pk, ()),
            )
        )
    page = CaseloadPage(rows, found.number, cast("Paginator[CaseloadRow]", paginator))
    page.attention = needs_attention(user)
    return page


@dataclass(frozen=True)
class PracticeSummary:
    practice: Practice
    clinicians: int
    clients: int
    pending_invitations: int


def practice_summary(user: User) -> PracticeSummary | None:
    """Counts for a practice admin's home; None for anyone who is not one."""
    membership: Membership | None = membership_of(user)
    if membership is None or membership.role != Role.ADMIN:
        return None
    practice = membership.practice
    return PracticeSummary(
        practice=practice,
        clinicians=practice.memberships.filter(role=Role.CLINICIAN).count(),
        clients=clients_for(user, Purpose.MANAGE).filter(discharged_at__isnull=True).count(),
        pending_invitations=Invitation.objects.pending().filter(practice=practice).count(),
    )


@dataclass(frozen=True)
class ClientHome:
    client: Client
    first_name: str
    care_team: list[str]
    practice_name: str


def client_home(user: User) -> ClientHome | None:
    """The client's own record and the names of their care team."""
    client = (
        clients_for(user, Purpose.SELF)
        .select_related("practice")
        .only(*_LIST_FIELDS, "practice__name")
        .first()
    )
    if client is None:
        return None
    # Only clinicians still working at the practice: someone who left is no longer on the team.
    team = (
        CareTeamMember.objects.filter(
            client=client, user__is_active=True, user__membership__practice=client.practice_id
        )
        .select_related("user")
        .order_by("-is_lead", "user__display_name")
    )
    return ClientHome(
        client=client,
        first_name=client.first_name,
        care_team=[link.user.display_name for link in team],
        practice_name=client.practice.name,
    )


@dataclass(frozen=True)
class Circle:
    """One client whose support circle this person is part of: their first name, nothing more."""

    client: Client
    first_name: str


def member_circles(user: User) -> list[Circle]:
    memberships = (
        NetworkMember.objects.filter(
            user=user,
            ended_at__isnull=True,
            client__in=clients_for(user, Purpose.MEMBER),
        )
        .select_related("client")
        .only("id", *(f"client__{field}" for field in _LIST_FIELDS))
        .order_by("joined_at", "pk")
    )
    return [Circle(client=m.client, first_name=m.client.first_name) for m in memberships]


# ---------------------------------------------------------------- caseload search

CASELOAD_SEARCH_RESULTS = 25


@dataclass(frozen=True)
class CaseloadMatch:
    client_id: UUID
    name: str
    preferred_name: str


@dataclass(frozen=True)
class CaseloadSearch:
    matches: list[CaseloadMatch]
    more: bool  # more clients matched than are shown


def search_caseload(user: User, text: str) -> CaseloadSearch:
    """The person's own current clients whose name or preferred name contains ``text`` (any
    letter case), by name: one query whatever the caseload's size."""
    found = list(
        caseload_queryset(user)
        .filter(Q(display_name__icontains=text) | Q(preferred_name__icontains=text))
        .values_list("pk", "display_name", "preferred_name")[: CASELOAD_SEARCH_RESULTS + 1]
    )
    matches = [CaseloadMatch(pk, name, preferred) for pk, name, preferred in found]
    return CaseloadSearch(
        matches[:CASELOAD_SEARCH_RESULTS], more=len(matches) > CASELOAD_SEARCH_RESULTS
    )
