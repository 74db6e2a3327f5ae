"""Reading and changing a client's map. Views decide access and call these; every write here is
atomic, attributed (created_by/updated_by) and audited with ids and field names only."""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kithkin.accounts.models import Client, User
from kithkin.audit import services as audit
from kithkin.network import graph, sociogram
from kithkin.network.graph import MapData
from kithkin.network.models import (
    FIVE_S,
    SUPPORT_KINDS,
    Category,
    Contact,
    Group,
    Person,
    Ring,
    Strain,
    Tie,
)

MAX_QUICK_ADD = 200
MAX_NAME_LENGTH = 80
SUGGESTED = 6

PERSON_FIELDS = (
    "name",
    "category",
    "ring",
    *(f"helps_{key}" for key, _label in FIVE_S),
    *(f"gives_{key}" for key, _label in SUPPORT_KINDS),
    "strain",
    "not_safe",
    "wished_rhythm_days",
    "preferred_channel",
    "notes",
)


def acting_user(request: HttpRequest) -> User:
    """The signed-in user making a change (every view here requires a login)."""
    user = request.user
    assert isinstance(user, User)
    return user


def audience_for(user: User | Any, client: Client) -> str:
    """Who is reading: the client herself (second person) or her care team."""
    return "client" if client.user_id is not None and client.user_id == user.pk else "clinician"


# --- rhythm ------------------------------------------------------------------------------


class Rhythm(enum.Enum):
    NO_WISH = "no_wish"  # no wished rhythm set
    NEVER = "never"  # a wish, but no contact logged yet
    WITHIN = "within"
    DUE = "due"  # longer ago than wished


@dataclass(frozen=True)
class RhythmStatus:
    state: Rhythm
    days_since: int | None
    wished_days: int | None

    @property
    def within(self) -> bool:
        return self.state is Rhythm.WITHIN

    @property
    def badge(self) -> str:
        """The note shown beside the last contact, or "" when no rhythm is wished. Worded here
        rather than in the template because the map's table shows one per person."""
        days = self.wished_days or 0
        if self.state is Rhythm.WITHIN:
            text = ngettext(
                "within your wish of every %(days)s day",
                "within your wish of every %(days)s days",
                days,
            )
        elif self.state is Rhythm.DUE:
            text = ngettext(
                "longer than every %(days)s day", "longer than every %(days)s days", days
            )
        elif self.state is Rhythm.NEVER:
            text = ngettext("wish: every %(days)s day", "wish: every %(days)s days", days)
        else:
            return ""
        return text % {"days": days}

    @property
    def badge_class(self) -> str:
        return {Rhythm.WITHIN: "badge badge--ok", Rhythm.DUE: "badge badge--warn"}.get(
            self.state, "badge"
        )


def days_between(
    earlier: datetime.datetime, later: datetime.datetime, zone: datetime.tzinfo | None = None
) -> int:
    """Whole calendar days from one moment to another, counted in the reader's time zone: a
    contact late last night was "yesterday", even if it was under 24 hours ago."""
    zone = zone or timezone.get_current_timezone()
    return (timezone.localtime(later, zone).date() - timezone.localtime(earlier, zone).date()).days


def rhythm_status(
    last_contact_at: datetime.datetime | None,
    wished_days: int | None,
    *,
    now: datetime.datetime | None = None,
    zone: datetime.tzinfo | None = None,
) -> RhythmStatus:
    """Whether the latest contact is within the wished rhythm. Any contact resets the rhythm, so
    only the latest one matters."""
    now = now or timezone.now()
    days = None if last_contact_at is None else max(days_between(last_contact_at, now, zone), 0)
    if not wished_days:
        return RhythmStatus(Rhythm.NO_WISH, days, None)
    if days is None:
        return RhythmStatus(Rhythm.NEVER, None, wished_days)
    state = Rhythm.WITHIN if days <= wished_days else Rhythm.DUE
    return RhythmStatus(state, days, wished_days)


def last_contact_of(person: Person) -> datetime.datetime | None:
    annotated: datetime.datetime | None = getattr(person, "last_contact_at", None)
    if annotated is not None or hasattr(person, "last_contact_at"):
        return annotated
    latest = person.contacts.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    return latest


# --- reading the map ---------------------------------------------------------------------


def people_on_map(client: Client) -> QuerySet[Person]:
    return (
        Person.objects.on_map()
        .filter(client=client)
        .with_last_contact()
        .order_by("ring", "category", "created_at", "id")
    )


@dataclass(frozen=True)
class PersonRow:
    """One row of the map's table (and the data behind one node). Labels are plain strings,
    looked up once per page rather than through get_FOO_display() for every row."""

    person: Person
    href: str
    category_label: str
    ring_label: str
    strain_label: str
    five_s: list[str]
    support_kinds: list[str]
    last_contact_at: datetime.datetime | None
    rhythm: RhythmStatus

    # Formatted here, not with template filters, because the table has a row per person.
    @property
    def five_s_text(self) -> str:
        return ", ".join(self.five_s) or "—"

    @property
    def support_text(self) -> str:
        return ", ".join(self.support_kinds) or "—"

    @property
    def last_contact_iso(self) -> str:
        """As ``|date:'c'`` gives it, in the reader's time zone."""
        if self.last_contact_at is None:
            return ""
        return timezone.localtime(self.last_contact_at).isoformat()

    @property
    def last_contact_date(self) -> str:
        """As ``|date:"j M Y"`` gives it, in the reader's time zone."""
        if self.last_contact_at is None:
            return ""
        return dateformat.format(timezone.localtime(self.last_contact_at), "j M Y")

    @property
    def html(self) -> SafeString:
        """The table row, built here: a template would resolve a dozen variables per person.
        The last-contact cell says what network/_rhythm.html says (keep the two alike)."""
        not_safe = self.person.not_safe
        badge = (
            format_html(' <span class="badge badge--quiet-note">{}</span>', _("not safe for me"))
            if not_safe
            else ""
        )
        contact = (
            format_html(
                '<time datetime="{}">{}</time>', self.last_contact_iso, self.last_contact_date
            )
            if self.last_contact_at
            else _("None logged")
        )
        rhythm = (
            format_html(' <span class="{}">{}</span>', self.rhythm.badge_class, self.rhythm.badge)
            if self.rhythm.badge
            else ""
        )
        return format_html(
            '<tr{}><th scope="row"><a href="{}">{}</a>{}</th><td>{}</td><td>{}</td><td>{}</td>'
            "<td>{}</td><td>{}</td><td>{}{}</td></tr>\n",
            mark_safe(' class="people-table__not-safe"') if not_safe else "",  # nosec B308 # constant
            self.href,
            self.person.name,
            badge,
            self.category_label,
            self.ring_label,
            self.five_s_text,
            self.support_text,
            self.strain_label,
            contact,
            rhythm,
        )


@dataclass(frozen=True)
class MapView:
    rows: list[PersonRow]
    drawing: sociogram.Sociogram
    tie_count: int
    # The same people and ties as the metrics read them, so the page analyses what it draws
    # without loading (and decrypting) the map twice.
    data: MapData
    # One-tap shortcuts for logging a contact (see suggested_people).
    suggested: list[Person]


def _labels(choices: Iterable[tuple[Any, Any]]) -> dict[Any, str]:
    return {value: str(label) for value, label in choices}


def _person_title(
    person: Person, held: Sequence[str], category: str, ring: str, audience: str
) -> str:
    parts = [person.name, category, ring]
    if held:
        if audience == "client":
            parts.append(_("helps you feel %(list)s") % {"list": ", ".join(held)})
        else:
            parts.append(_("helps the client feel %(list)s") % {"list": ", ".join(held)})
    if person.not_safe:
        parts.append(_("not safe for me") if audience == "client" else _("marked not safe"))
    return ". ".join(parts)


def map_view(client: Client, *, audience: str, now: datetime.datetime | None = None) -> MapView:
    """Everything the map page draws, lists and measures, in a constant number of queries
    whatever the map's size: the people are read (and their names decrypted) once and shared by
    the table, the drawing, the metrics and the suggestions."""
    now = now or timezone.now()
    people = list(graph.people_on_map(client, "created_at"))
    data = graph.load_map_data(client, now=now, people=people)
    categories = _labels(Category.choices)
    rings = _labels(Ring.choices)
    strains = _labels(Strain.choices)
    rows: list[PersonRow] = []
    people_in: list[sociogram.PersonIn] = []
    for person in people:
        five_s = [label for key, label in FIVE_S if getattr(person, f"helps_{key}")]
        last_contact_at: datetime.datetime | None = person.last_contact_at  # type: ignore[attr-defined]
        category = categories.get(person.category, person.category)
        ring = rings.get(person.ring, str(person.ring))
        href = reverse("network_person", kwargs={"client_id": client.pk, "person_id": person.pk})
        rows.append(
            PersonRow(
                person=person,
                href=href,
                category_label=category,
                ring_label=ring,
                strain_label=strains.get(person.strain, str(person.strain)),
                five_s=five_s,
                support_kinds=[
                    label for key, label in SUPPORT_KINDS if getattr(person, f"gives_{key}")
                ],
                last_contact_at=last_contact_at,
                rhythm=rhythm_status(last_contact_at, person.wished_rhythm_days, now=now),
            )
        )
        people_in.append(
            sociogram.PersonIn(
                key=str(person.pk),
                name=person.name,
                category=person.category,
                category_label=category,
                ring=person.ring,
                not_safe=person.not_safe,
                five_s=(
                    person.helps_seen,
                    person.helps_safe,
                    person.helps_soothed,
                    person.helps_secure,
                    person.helps_stable,
                ),
                href=href,
                title=_person_title(person, five_s, category, ring, audience),
            )
        )
    drawing = sociogram.build(
        people_in,
        [sociogram.TieIn(a=t.a, b=t.b, strength=t.strength) for t in data.ties],
        category_order=[value for value, _label in Category.choices],
    )
    rows.sort(key=lambda row: (row.person.ring, row.person.name.casefold()))
    return MapView(
        rows=rows,
        drawing=drawing,
        tie_count=len(data.ties),
        data=data,
        suggested=_suggest(people),
    )


def _latest_first(person: Person) -> tuple[bool, datetime.datetime]:
    last: datetime.datetime | None = person.last_contact_at  # type: ignore[attr-defined]
    return (last is not None, last or datetime.datetime.min.replace(tzinfo=datetime.UTC))


def suggested_people(client: Client, limit: int = SUGGESTED) -> list[Person]:
    """People offered as one-tap shortcuts for logging a contact: never a "not safe" person."""
    return list(
        Person.objects.safe_to_suggest()
        .filter(client=client)
        .with_last_contact()
        .order_by("ring", F("last_contact_at").desc(nulls_last=True), "created_at")[:limit]
    )


def _suggest(people: Iterable[Person], limit: int = SUGGESTED) -> list[Person]:
    """``suggested_people`` from people already loaded with their last contact: the same
    choice and order (the closest circle first, then the most recently in touch)."""
    safe = [p for p in people if not p.not_safe]
    # Sorted in passes, least significant key first (sorts are stable): created_at ascending,
    # then last contact descending with "never" last, then ring ascending.
    safe.sort(key=lambda p: p.created_at)
    safe.sort(key=_latest_first, reverse=True)
    safe.sort(key=lambda p: p.ring)
    return safe[:limit]


# --- quick add ---------------------------------------------------------------------------


def parse_names(text: str) -> list[str]:
    """One name per line or separated by commas; blank entries ignored. Raises ValidationError
    naming the problem, so nothing is created from a list with a bad entry."""
    names = [part.strip() for part in re.split(r"[\n,;]", text or "")]
    names = [" ".join(name.split()) for name in names if name.strip()]
    if not names:
        raise ValidationError(_("Write at least one name or initials."), code="empty")
    if len(names) > MAX_QUICK_ADD:
        raise ValidationError(
            _("That is %(count)s names; please add at most %(max)s at a time.")
            % {"count": len(names), "max": MAX_QUICK_ADD},
            code="too_many",
        )
    too_long = [index + 1 for index, name in enumerate(names) if len(name) > MAX_NAME_LENGTH]
    if too_long:
        raise ValidationError(
            _("Name number %(number)s is longer than %(max)s characters; please shorten it.")
            % {"number": too_long[0], "max": MAX_NAME_LENGTH},
            code="too_long",
        )
    return names


def quick_add(
    request: HttpRequest,
    client: Client,
    names: Sequence[str],
    *,
    ring: int = Ring.MIDDLE,
    category: str = Category.OTHER,
) -> list[Person]:
    user = acting_user(request)
    now = timezone.now()
    with transaction.atomic():
        people = Person.objects.bulk_create(
            [
                Person(
                    client=client,
                    name=name,
                    ring=ring,
                    category=category,
                    created_by=user,
                    updated_by=user,
                    created_at=now,
                    updated_at=now,
                )
                for name in names
            ]
        )
        audit.record(
            request,
            action="network.person.create",
            object_type="client",
            object_id=client.pk,
            client=client,
            detail={"count": len(people), "person_ids": [str(p.pk) for p in people][:200]},
        )
    return people


def next_person_after(client: Client, ids: Sequence[str], current: UUID) -> UUID | None:
    """The next of a just-added batch to describe, for the "next person" link."""
    on_map = set(
        Person.objects.on_map()
        .filter(client=client, pk__in=[i for i in ids if _is_uuid(i)])
        .values_list("pk", flat=True)
    )
    ordered = [UUID(i) for i in ids if _is_uuid(i) and UUID(i) in on_map]
    if current in ordered:
        later = ordered[ordered.index(current) + 1 :]
        return later[0] if later else None
    return None


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


# --- person ------------------------------------------------------------------------------


def ties_of(person: Person) -> dict[UUID, int]:
    """The other person's id → strength, for everyone this person knows on the map."""
    result: dict[UUID, int] = {}
    for a, b, strength in Tie.objects.filter(Q(person_a=person) | Q(person_b=person)).values_list(
        "person_a_id", "person_b_id", "strength"
    ):
        result[b if a == person.pk else a] = strength
    return result


def update_person(
    request: HttpRequest,
    person: Person,
    data: dict[str, Any],
    *,
    changed: Iterable[str],
    knows: Iterable[Person],
    knows_well: Iterable[Person],
    groups: Iterable[Group],
) -> None:
    """Save a person's details, ties and groups in one go."""
    client = person.client
    knows_well_ids = {p.pk for p in knows_well}
    wanted: dict[UUID, int] = {p.pk: Tie.Strength.KNOW for p in knows}
    wanted.update(dict.fromkeys(knows_well_ids, Tie.Strength.CLOSE))
    wanted.pop(person.pk, None)
    with transaction.atomic():
        for name in PERSON_FIELDS:
            if name in data:
                setattr(person, name, data[name])
        person.updated_by = acting_user(request)
        person.updated_at = timezone.now()
        person.save()
        current = ties_of(person)
        removed = [other for other in current if other not in wanted]
        if removed:
            Tie.objects.filter(
                Q(person_a=person, person_b__in=removed) | Q(person_b=person, person_a__in=removed)
            ).delete()
        for other, strength in wanted.items():
            if current.get(other) == strength:
                continue
            first, second = sorted([person.pk, other], key=str)
            Tie.objects.update_or_create(
                person_a_id=first,
                person_b_id=second,
                defaults={"strength": strength, "client": client},
            )
        ties_changed = removed or any(current.get(o) != s for o, s in wanted.items())
        chosen = list(groups)
        group_ids = {g.pk for g in chosen}
        old_groups = set(person.groups.values_list("pk", flat=True))
        if group_ids != old_groups:
            person.groups.set(chosen)
        fields = sorted(set(changed) & set(PERSON_FIELDS))
        audit.record(
            request,
            action="network.person.update",
            object_type="person",
            object_id=person.pk,
            client=client,
            detail={
                "fields": fields,
                "ties_changed": bool(ties_changed),
                "groups_changed": group_ids != old_groups,
            },
        )


def remove_person(request: HttpRequest, person: Person) -> None:
    """Take someone off the map. Kept (soft) so snapshots and the contact log stay whole."""
    with transaction.atomic():
        person.removed_at = timezone.now()
        person.updated_at = person.removed_at
        person.updated_by = acting_user(request)
        person.save(update_fields=["removed_at", "updated_at", "updated_by"])
        audit.record(
            request,
            action="network.person.remove",
            object_type="person",
            object_id=person.pk,
            client=person.client,
        )


# --- contacts ----------------------------------------------------------------------------


def log_contact(request: HttpRequest, client: Client, data: dict[str, Any]) -> Contact:
    person: Person = data["person"]
    with transaction.atomic():
        contact = Contact.objects.create(
            client=client,
            person=person,
            occurred_at=data.get("occurred_at") or timezone.now(),
            channel=data["channel"],
            note=data.get("note", ""),
            logged_by=acting_user(request),
            **{f"felt_{key}": bool(data.get(f"felt_{key}")) for key, _label in FIVE_S},
        )
        audit.record(
            request,
            action="network.contact.create",
            object_type="contact",
            object_id=contact.pk,
            client=client,
            detail={"person_id": str(person.pk)},
        )
    return contact


def recent_contacts(client: Client) -> QuerySet[Contact]:
    return (
        Contact.objects.filter(client=client)
        .select_related("person")
        .order_by("-occurred_at", "-logged_at")
    )


# --- groups ------------------------------------------------------------------------------


def groups_of(client: Client) -> QuerySet[Group]:
    return (
        Group.objects.filter(client=client)
        .prefetch_related(
            Prefetch("members", queryset=Person.objects.on_map().order_by("created_at", "id"))
        )
        .order_by("created_at", "id")
    )


def save_group(
    request: HttpRequest,
    client: Client,
    group: Group | None,
    data: dict[str, Any],
) -> Group:
    with transaction.atomic():
        created = group is None
        if group is None:
            group = Group(client=client)
        group.name = data["name"]
        group.kind = data["kind"]
        group.save()
        group.members.set(list(data["members"]))
        audit.record(
            request,
            action="network.group.create" if created else "network.group.update",
            object_type="group",
            object_id=group.pk,
            client=client,
            detail={"member_count": len(data["members"])},
        )
    return group


def delete_group(request: HttpRequest, group: Group) -> None:
    with transaction.atomic():
        group_id, client = group.pk, group.client
        group.delete()
        audit.record(
            request,
            action="network.group.delete",
            object_type="group",
            object_id=group_id,
            client=client,
        )
