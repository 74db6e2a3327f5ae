"""People who use Kithkin, the practices they work in and the clients they care for."""

from __future__ import annotations

import hashlib
import secrets
import uuid
import zoneinfo
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key, key_validator

from kithkin.core.fields import EncryptedTextField

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        # Kithkin has no superuser role in the product; this exists for Django's tooling only.
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class Role(models.TextChoices):
    ADMIN = "admin", _("Practice admin")
    CLINICIAN = "clinician", _("Clinician")
    CLIENT = "client", _("Client")
    MEMBER = "member", _("Network member")


# django-otp's Device is untyped, so the plugin cannot see its ``user`` relation's manager.
class User(AbstractBaseUser, PermissionsMixin):  # type: ignore[django-manager-missing]
    """Anyone who can sign in. What they may do comes from the objects they are bound to:
    a staff membership, a client record, or network memberships."""

    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("name"), max_length=120)
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=_time_zone_choices, default="UTC"
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["display_name"]

    if TYPE_CHECKING:
        membership: Membership
        client_record: Client
        network_memberships: RelatedManager[NetworkMember]

    def __str__(self) -> str:
        return self.display_name or f"user {self.pk}"

    @property
    def is_staff(self) -> bool:
        # Django's admin site is not installed; nobody is "staff" in Django's sense.
        return False


class Practice(models.Model):
    name = models.CharField(_("name"), max_length=200)
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=_time_zone_choices, default="UTC"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A staff member's place in one practice."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="membership")
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(
        max_length=20,
        choices=[
            (Role.ADMIN.value, Role.ADMIN.label),
            (Role.CLINICIAN.value, Role.CLINICIAN.label),
        ],
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class ClientQuerySet(models.QuerySet["Client"]):
    def active(self) -> ClientQuerySet:
        return self.filter(discharged_at__isnull=True)


class Client(models.Model):
    """The person at the centre of the care. Identified in URLs by an opaque UUID only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="clients")
    display_name = models.CharField(_("name"), max_length=120)
    preferred_name = models.CharField(_("preferred name"), max_length=60, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    presenting_concerns = EncryptedTextField(_("presenting concerns"), blank=True, default="")
    user = models.OneToOneField(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="client_record"
    )
    care_team = models.ManyToManyField(
        User, through="CareTeamMember", related_name="care_team_clients"
    )
    created_at = models.DateTimeField(default=timezone.now)
    discharged_at = models.DateTimeField(null=True, blank=True)

    objects = ClientQuerySet.as_manager()

    class Meta:
        indexes: ClassVar[list[models.Index]] = [models.Index(fields=["practice", "display_name"])]

    def __str__(self) -> str:
        return self.preferred_name or self.display_name

    @property
    def first_name(self) -> str:
        return self.preferred_name or self.display_name.split(" ", 1)[0]


class CareTeamMember(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="care_team_links")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="care_team_links")
    is_lead = models.BooleanField(_("lead clinician"), default=False)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["client", "user"], name="care_team_once")
        ]

    def __str__(self) -> str:
        return f"care team link {self.pk}"


class NetworkMember(models.Model):
    """A person from a client's support network who accepted an invitation to take part.
    What they may see is decided by the client's grants (the casework issue adds them)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="network_members")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="network_memberships")
    relationship = EncryptedTextField(_("relationship to the client"), blank=True, default="")
    joined_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["client", "user"], name="network_member_once")
        ]

    def __str__(self) -> str:
        return f"network member {self.pk}"


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


def _default_expiry() -> Any:
    return timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)


class Invitation(models.Model):
    """A single-use, expiring invitation that creates an account bound to one role and object.

    The link carries a signed token (see accounts.invitations); only a hash of its secret part is
    stored, so a database reader cannot accept an invitation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=20, choices=Role.choices)
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="invitations"
    )
    email = models.EmailField(_("email address"))
    display_name = models.CharField(_("name"), max_length=120, blank=True)
    relationship = EncryptedTextField(_("relationship to the client"), blank=True, default="")
    secret_hash = models.CharField(max_length=64)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=_default_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=models.Q(role__in=["admin", "clinician"], client__isnull=True)
                | models.Q(role__in=["client", "member"], client__isnull=False),
                name="invitation_binds_the_right_object",
            )
        ]

    def __str__(self) -> str:
        return f"invitation {self.pk}"

    @staticmethod
    def make_secret() -> tuple[str, str]:
        secret = secrets.token_urlsafe(24)
        return secret, hashlib.sha256(secret.encode()).hexdigest()

    def secret_matches(self, secret: str) -> bool:
        digest = hashlib.sha256(secret.encode()).hexdigest()
        return secrets.compare_digest(digest, self.secret_hash)

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class BreakGlassQuerySet(models.QuerySet["BreakGlassAccess"]):
    def live(self, now: datetime | None = None) -> BreakGlassQuerySet:
        """Grants in force at ``now``: not ended, not yet expired. Expiry is a time comparison
        here, so no job has to run for a grant to stop working."""
        return self.filter(ended_at__isnull=True, expires_at__gt=now or timezone.now())


class BreakGlassAccess(models.Model):
    """Emergency ("break-glass") access: one staff member reaches one client's clinical record
    for a short, stated time without being on the care team. Every use is audited under the
    grant's id, the practice admins and the lead clinician are told at once, and an admin
    reviews it afterwards (see accounts.breakglass)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="break_glass_grants")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="break_glass_grants")
    # The reason may describe the client's situation, so it is encrypted like clinical text.
    reason = EncryptedTextField(_("reason"))
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = EncryptedTextField(_("review note"), blank=True, default="")

    objects = BreakGlassQuerySet.as_manager()

    class Meta:
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["user", "expires_at"], name="breakglass_user_expiry"),
            models.Index(fields=["client", "started_at"], name="breakglass_client_started"),
        ]
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("started_at")),
                name="breakglass_expires_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"emergency access {self.pk}"

    def ends_at(self) -> datetime:
        """When access stops (or stopped): ended early, or at expiry."""
        if self.ended_at is not None and self.ended_at < self.expires_at:
            return self.ended_at
        return self.expires_at

    def is_live(self, now: datetime | None = None) -> bool:
        return self.ended_at is None and self.expires_at > (now or timezone.now())


def _email_change_expiry() -> datetime:
    return timezone.now() + timedelta(hours=EmailChange.VALID_HOURS)


class EmailChange(models.Model):
    """A new sign-in address waiting for its owner to prove they can read it: the change
    takes effect only when the link sent there is opened by the same signed-in person. As with
    invitations, only a hash of the link's secret is stored."""

    VALID_HOURS = 24

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_changes")
    new_email = models.EmailField(_("new email address"))
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=_email_change_expiry)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"email change {self.pk}"

    def secret_matches(self, secret: str) -> bool:
        digest = hashlib.sha256(secret.encode()).hexdigest()
        return secrets.compare_digest(digest, self.secret_hash)

    @property
    def is_open(self) -> bool:
        return (
            self.confirmed_at is None
            and self.withdrawn_at is None
            and self.expires_at > timezone.now()
        )


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP), as django-otp's ``TOTPDevice`` but with the shared secret
    encrypted at rest: a copy of the database, or of a backup, must not be enough to make a
    person's sign-in codes. The code checks are django-otp's own, borrowed rather than copied."""

    key = EncryptedTextField(default=default_key, validators=[key_validator])
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    bin_key = TOTPDevice.bin_key
    verify_token = TOTPDevice.verify_token
    get_throttle_factor = TOTPDevice.get_throttle_factor
    config_url = TOTPDevice.config_url
    _read_str_from_settings = TOTPDevice._read_str_from_settings

    if TYPE_CHECKING:  # django-otp is untyped; its DeviceManager is a Manager of this model
        objects: ClassVar[models.Manager[AuthenticatorDevice]]

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")
