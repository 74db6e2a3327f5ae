"""What Kithkin tells people about, grouped into the categories a person chooses email for.

Every notification has a ``kind`` (``app.what``), and every kind belongs to one category.
People turn email on or off per category; the in-app inbox always gets everything. A critical
category (risk alerts) is always emailed and cannot be turned off, here or by an unsubscribe
link: someone's safety may depend on it being seen quickly."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kithkin.accounts.models import Role

# The kinds callers pass to services.notify().
RISK_ALERT = "measures.risk_alert"
ALERT_ESCALATION = "measures.alert_escalation"
CHECKIN_DUE = "measures.checkin_due"
SESSION_NOTICE = "care.session_notice"
SESSION_REMINDER = "care.session_reminder"
ACTION_REMINDER = "care.action_reminder"
NUDGE = "connection.nudge"
# Someone opened emergency (break-glass) access to a client: sent critical, to admins and lead.
BREAK_GLASS = "accounts.break_glass"


class Category(models.TextChoices):
    ALERTS = "alerts", _("Risk alerts and emergency access")
    SESSIONS = "sessions", _("Network sessions")
    ACTIONS = "actions", _("Agreed actions")
    CHECKINS = "checkins", _("Check-ins")
    NUDGES = "nudges", _("Keeping in touch")


@dataclass(frozen=True)
class CategoryInfo:
    category: Category
    description: Promise
    critical: bool
    # Who usually gets this category: the preferences page shows a person only these.
    roles: frozenset[Role]


_EVERYONE = frozenset(Role)

CATEGORIES: dict[Category, CategoryInfo] = {
    info.category: info
    for info in (
        CategoryInfo(
            Category.ALERTS,
            _(
                "When a client's answer needs a prompt check, when an alert has waited too "
                "long for someone to acknowledge it, and when someone opens emergency access to "
                "a client."
            ),
            critical=True,
            roles=frozenset({Role.ADMIN, Role.CLINICIAN}),
        ),
        CategoryInfo(
            Category.SESSIONS,
            _("Invitations, changes and reminders for network sessions."),
            critical=False,
            roles=_EVERYONE,
        ),
        CategoryInfo(
            Category.ACTIONS,
            _("A reminder before something you agreed to do is due."),
            critical=False,
            roles=_EVERYONE,
        ),
        CategoryInfo(
            Category.CHECKINS,
            _("When a check-in is ready for you to fill in."),
            critical=False,
            roles=frozenset({Role.CLIENT}),
        ),
        CategoryInfo(
            Category.NUDGES,
            _(
                "Gentle reminders to get in touch with people who matter to you, if you have "
                "turned them on."
            ),
            critical=False,
            roles=frozenset({Role.CLIENT}),
        ),
    )
}

KINDS: dict[str, Category] = {
    RISK_ALERT: Category.ALERTS,
    ALERT_ESCALATION: Category.ALERTS,
    CHECKIN_DUE: Category.CHECKINS,
    SESSION_NOTICE: Category.SESSIONS,
    SESSION_REMINDER: Category.SESSIONS,
    ACTION_REMINDER: Category.ACTIONS,
    NUDGE: Category.NUDGES,
    BREAK_GLASS: Category.ALERTS,
}


# Kinds whose detail is read in the inbox only: a nudge names someone from the client's map, and
# an inbox is behind sign-in while an email may sit on a shared screen or a work account.
DETAIL_IN_INBOX_ONLY = frozenset({NUDGE})


class UnknownKind(ValueError):
    """A notification kind that is not in :data:`KINDS`: add it there, with its category."""

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"Unknown notification kind {kind!r}; known kinds are {', '.join(sorted(KINDS))}. "
            "Add new kinds to kithkin.notifications.kinds.KINDS."
        )


def category_of(kind: str) -> Category:
    try:
        return KINDS[kind]
    except KeyError:
        raise UnknownKind(kind) from None


CRITICAL_CATEGORIES = frozenset(str(c) for c, info in CATEGORIES.items() if info.critical)


def is_critical(category: Category | str) -> bool:
    return str(category) in CRITICAL_CATEGORIES


def categories_for(roles: set[Role]) -> list[CategoryInfo]:
    """The categories a person with these roles may receive, in display order."""
    return [info for info in CATEGORIES.values() if info.roles & roles]
