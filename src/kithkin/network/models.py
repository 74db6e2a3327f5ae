"""Each client's support network map: the people around them, how close they are, which of the
five S's each helps with, ties between them, the groups the client belongs to, the contact log,
and snapshots of the map over time.

Names, notes and group names are about a person's relationships, so they are encrypted."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kithkin.accounts.models import Client
from kithkin.core.fields import EncryptedTextField


class Category(models.TextChoices):
    PARTNER = "partner", _("Partner")
    FAMILY = "family", _("Family")
    FRIEND = "friend", _("Friend")
    WORK = "work", _("Colleague or work group")
    COMMUNITY = "community", _("Neighbour or community")
    FAITH = "faith", _("Faith")
    PROFESSIONAL = "professional", _("Professional")
    PEER_SUPPORT = "peer_support", _("Peer support")
    OTHER = "other", _("Other")


class Ring(models.IntegerChoices):
    INNER = 1, _("Inner circle")
    MIDDLE = 2, _("Middle circle")
    OUTER = 3, _("Outer circle")


class Strain(models.IntegerChoices):
    NONE = 0, _("No strain")
    LITTLE = 1, _("A little strain")
    SOME = 2, _("Some strain")
    LOT = 3, _("A lot of strain")


class Channel(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("Phone call")
    VIDEO = "video", _("Video call")
    MESSAGE = "message", _("Text or message")
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter or card")
    OTHER = "other", _("Other")


class GroupKind(models.TextChoices):
    TEAM = "team", _("Team or workplace")
    CONGREGATION = "congregation", _("Congregation or faith group")
    CLUB = "club", _("Club or class")
    SUPPORT = "support", _("Support or peer group")
    ONLINE = "online", _("Online community")
    OTHER = "other", _("Other")


# The five S's and the support kinds, in display order: (field suffix, label).
FIVE_S: list[tuple[str, str]] = [
    ("seen", str(_("seen"))),
    ("safe", str(_("safe"))),
    ("soothed", str(_("soothed"))),
    ("secure", str(_("secure"))),
    ("stable", str(_("stable"))),
]
SUPPORT_KINDS: list[tuple[str, str]] = [
    ("emotional", str(_("emotional support"))),
    ("practical", str(_("practical help"))),
    ("informational", str(_("information and advice"))),
    ("companionship", str(_("company"))),
    ("crisis", str(_("help in a crisis"))),
]


class PersonQuerySet(models.QuerySet["Person"]):
    def on_map(self) -> PersonQuerySet:
        return self.filter(removed_at__isnull=True)

    def safe_to_suggest(self) -> PersonQuerySet:
        """Everyone the product may suggest, invite or nudge about: never a "not safe" person."""
        return self.on_map().filter(not_safe=False)

    def with_last_contact(self) -> PersonQuerySet:
        return self.annotate(last_contact_at=Max("contacts__occurred_at"))


class Person(models.Model):
    """Someone in the client's life, as the client sees them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="people")
    name = EncryptedTextField(_("name or initials"))
    category = models.CharField(
        _("relationship"), max_length=20, choices=Category.choices, default=Category.OTHER
    )
    ring = models.PositiveSmallIntegerField(
        _("closeness"), choices=Ring.choices, default=Ring.MIDDLE
    )

    helps_seen = models.BooleanField(_("helps me feel seen"), default=False)
    helps_safe = models.BooleanField(_("helps me feel safe"), default=False)
    helps_soothed = models.BooleanField(_("helps me feel soothed"), default=False)
    helps_secure = models.BooleanField(_("helps me feel secure"), default=False)
    helps_stable = models.BooleanField(_("helps me feel stable"), default=False)

    gives_emotional = models.BooleanField(_("emotional support"), default=False)
    gives_practical = models.BooleanField(_("practical help"), default=False)
    gives_informational = models.BooleanField(_("information and advice"), default=False)
    gives_companionship = models.BooleanField(_("company"), default=False)
    gives_crisis = models.BooleanField(_("help in a crisis"), default=False)

    strain = models.PositiveSmallIntegerField(_("strain"), choices=Strain.choices, default=0)
    not_safe = models.BooleanField(
        _("not safe for me"),
        default=False,
        help_text=_("Kithkin will never suggest, invite or remind you about this person."),
    )
    wished_rhythm_days = models.PositiveSmallIntegerField(
        _("how often I'd like to be in touch (days)"), null=True, blank=True
    )
    preferred_channel = models.CharField(
        _("preferred way to be in touch"), max_length=20, choices=Channel.choices, blank=True
    )
    notes = EncryptedTextField(_("notes"), blank=True, default="")

    # Saved layout (0..1 on each axis), as Network Canvas keeps it; null means "place for me".
    layout_x = models.FloatField(null=True, blank=True)
    layout_y = models.FloatField(null=True, blank=True)
    # The networkCanvasUUID this person came from, so re-imports and exports line up.
    external_uuid = models.CharField(max_length=64, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["client", "removed_at"], name="person_client_on_map")
        ]

    def __str__(self) -> str:
        return self.name

    def five_s(self) -> list[str]:
        return [key for key, _label in FIVE_S if getattr(self, f"helps_{key}")]

    def support_kinds(self) -> list[str]:
        return [key for key, _label in SUPPORT_KINDS if getattr(self, f"gives_{key}")]


class Tie(models.Model):
    """Two people on the map know each other. Stored once per pair (person_a.id < person_b.id)."""

    class Strength(models.IntegerChoices):
        KNOW = 1, _("Know each other")
        CLOSE = 2, _("Close to each other")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="ties")
    person_a = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    person_b = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    strength = models.PositiveSmallIntegerField(choices=Strength.choices, default=Strength.KNOW)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="tie_once_per_pair"),
            models.CheckConstraint(
                condition=~Q(person_a=models.F("person_b")), name="tie_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"tie {self.pk}"


class Group(models.Model):
    """A group the client belongs to (team, congregation, club, online community)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="groups")
    name = EncryptedTextField(_("name"))
    kind = models.CharField(_("kind"), max_length=20, choices=GroupKind.choices)
    members = models.ManyToManyField(Person, blank=True, related_name="groups")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """One logged contact with a person. Any contact resets that person's rhythm."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="contacts")
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    channel = models.CharField(_("how"), max_length=20, choices=Channel.choices)
    felt_seen = models.BooleanField(_("I felt seen"), default=False)
    felt_safe = models.BooleanField(_("I felt safe"), default=False)
    felt_soothed = models.BooleanField(_("I felt soothed"), default=False)
    felt_secure = models.BooleanField(_("I felt secure"), default=False)
    felt_stable = models.BooleanField(_("I felt stable"), default=False)
    note = EncryptedTextField(_("note"), blank=True, default="")
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    logged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["person", "-occurred_at"], name="contact_person_recent"),
            models.Index(fields=["client", "-occurred_at"], name="contact_client_recent"),
        ]

    def __str__(self) -> str:
        return f"contact {self.pk}"


class Snapshot(models.Model):
    """The whole map at one moment, kept when the map is reviewed and on demand. The content is
    a JSON document (see network.snapshots), encrypted because it holds names."""

    class Reason(models.TextChoices):
        REVIEW = "review", _("Map reviewed")
        ON_DEMAND = "on_demand", _("Saved on request")
        IMPORT = "import", _("Before an import")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(default=timezone.now)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices)
    label = models.CharField(_("label"), max_length=120, blank=True)
    content = EncryptedTextField()
    person_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering: ClassVar[list[str]] = ["-taken_at"]

    def __str__(self) -> str:
        return f"snapshot {self.pk}"
