"""Which tables hold a client's data, how to reach the client's rows, and what to leave out.

Export and erasure both walk this one registry, so what a client downloads is exactly what
erasure deletes. Every model that points at ``accounts.Client`` (through any chain of foreign
keys) or at ``accounts.User`` must be listed: :func:`unclassified_models` finds any that is not,
and a test fails on it, so a new model cannot slip past either.

Each entry is either a :class:`Rule` (the client's data: ``path`` is the ORM lookup from the
model to the client) or a :class:`Skip` (not the client's data, with the reason why).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

from django.apps import apps
from django.conf import settings
from django.db import models

from kithkin.accounts.models import Client


class Scope:
    RECORD = "record"  # the clinical and administrative record: deleted on erasure
    ACCOUNT = "account"  # the client's login and what hangs off it: goes with the account


@dataclass(frozen=True)
class Rule:
    path: str
    scope: str = Scope.RECORD
    # Fields never written out (secrets: hashes, keys, tokens).
    exclude: frozenset[str] = field(default_factory=frozenset)
    # Fields written as WITHHELD: they exist, but hold another person's details.
    redact: frozenset[str] = field(default_factory=frozenset)
    # The clinicians' private session notes: in an export only as the practice policy allows.
    psychotherapy_notes: bool = False


@dataclass(frozen=True)
class Skip:
    reason: str


Entry = Rule | Skip

WITHHELD = "[withheld]"

REGISTRY: dict[str, Entry] = {
    # --- accounts
    "accounts.client": Rule("pk"),
    "accounts.careteammember": Rule("client"),
    "accounts.networkmember": Rule("client"),
    "accounts.invitation": Rule(
        "client",
        exclude=frozenset({"secret_hash"}),
        redact=frozenset({"email"}),
    ),
    "accounts.user": Rule(
        "client_record",
        scope=Scope.ACCOUNT,
        exclude=frozenset({"password", "is_superuser"}),
    ),
    # Who reached the record in an emergency, and why: part of the client's record.
    "accounts.breakglassaccess": Rule("client"),
    "accounts.membership": Skip("a staff member's place in a practice"),
    "accounts.user_groups": Skip("Django permission groups; Kithkin does not use them"),
    "accounts.user_user_permissions": Skip("Django permissions; Kithkin does not use them"),
    # --- network
    "network.person": Rule("client"),
    "network.tie": Rule("client"),
    "network.group": Rule("client"),
    "network.group_members": Rule("group__client"),
    "network.contact": Rule("client"),
    "network.snapshot": Rule("client"),
    # --- measures
    "measures.assignment": Rule("client"),
    "measures.response": Rule("client"),
    "measures.responseperson": Rule("response__client"),
    "measures.riskalert": Rule("client"),
    "measures.practicemeasuressettings": Skip("a practice's settings"),
    # --- care
    "care.problem": Rule("client"),
    "care.goal": Rule("client"),
    "care.indicator": Rule("goal__client"),
    "care.keycontact": Rule("client"),
    "care.consentgrant": Rule("client"),
    "care.networksession": Rule("client"),
    "care.participant": Rule("session__client"),
    "care.contribution": Rule("session__client"),
    "care.cliniciannote": Rule("session__client", psychotherapy_notes=True),
    "care.action": Rule("client"),
    # --- connection
    "connection.nudgesettings": Rule("client"),
    "connection.nudgesettings_muted_people": Rule("nudgesettings__client"),
    "connection.nudge": Rule("client"),
    "connection.withdrawalsignal": Rule("client"),
    # --- notifications: the client's own inbox and email choices
    "notifications.notification": Rule("user__client_record", scope=Scope.ACCOUNT),
    "notifications.preference": Rule("user__client_record", scope=Scope.ACCOUNT),
    # --- security and two-step sign-in: the client's sessions and devices, without secrets
    "security.usersession": Rule(
        "user__client_record",
        scope=Scope.ACCOUNT,
        exclude=frozenset({"key_hash", "session_key"}),
    ),
    "accounts.emailchange": Rule(
        "user__client_record", scope=Scope.ACCOUNT, exclude=frozenset({"secret_hash"})
    ),
    "accounts.authenticatordevice": Rule(
        "user__client_record",
        scope=Scope.ACCOUNT,
        exclude=frozenset({"key", "throttling_failure_timestamp", "last_t", "drift"}),
    ),
    # django-otp's plain-key table: emptied by accounts 0004 (keys now encrypted), kept covered.
    "otp_totp.totpdevice": Rule(
        "user__client_record",
        scope=Scope.ACCOUNT,
        exclude=frozenset({"key", "throttling_failure_timestamp", "last_t", "drift"}),
    ),
    "otp_static.staticdevice": Rule(
        "user__client_record",
        scope=Scope.ACCOUNT,
        exclude=frozenset({"throttling_failure_timestamp"}),
    ),
    "otp_static.statictoken": Rule(
        "device__user__client_record", scope=Scope.ACCOUNT, exclude=frozenset({"token"})
    ),
    # --- privacy (this app)
    "privacy.consentrecord": Rule("client"),
    "privacy.dataexport": Rule("client"),
    "privacy.erasurerequest": Rule("client"),
    "privacy.privacypolicy": Skip("a practice's settings"),
    "privacy.erasurerecord": Skip("what the practice keeps after an erasure: no client data"),
}


def _user_model() -> type[models.Model]:
    return apps.get_model(settings.AUTH_USER_MODEL)


def _forward_targets(model: type[models.Model]) -> Iterator[type[models.Model]]:
    for f in model._meta.get_fields():
        if f.concrete and (f.many_to_one or f.one_to_one) and f.related_model is not None:
            target = f.related_model
            if isinstance(target, type) and issubclass(target, models.Model):
                yield target


def _reaches(model: type[models.Model], goal: type[models.Model]) -> bool:
    """Whether a chain of forward foreign keys leads from ``model`` to ``goal``."""
    seen: set[type[models.Model]] = set()
    todo = [model]
    while todo:
        current = todo.pop()
        if current is goal:
            return True
        if current in seen:
            continue
        seen.add(current)
        todo.extend(_forward_targets(current))
    return False


def every_model() -> list[type[models.Model]]:
    return list(apps.get_models(include_auto_created=True))


def relevant_models() -> list[type[models.Model]]:
    """Every model whose rows can belong to a client or to someone's account."""
    user = _user_model()
    return [m for m in every_model() if _reaches(m, Client) or _reaches(m, user)]


def unclassified_models() -> list[str]:
    """Models that point at a client or a user but are missing from :data:`REGISTRY`."""
    return sorted(
        label for m in relevant_models() if (label := m._meta.label_lower) not in REGISTRY
    )


def stale_entries() -> list[str]:
    """Registry entries naming no installed model."""
    installed = {m._meta.label_lower for m in every_model()}
    return sorted(set(REGISTRY) - installed)


@dataclass(frozen=True)
class Table:
    label: str
    model: type[models.Model]
    rule: Rule

    def rows_of(self, client_pk: object) -> models.QuerySet[models.Model]:
        return self.model._default_manager.filter(**{self.rule.path: client_pk})

    def columns(self) -> list[models.Field[object, object]]:
        skipped = self.rule.exclude
        return [f for f in self.model._meta.concrete_fields if f.name not in skipped]


@cache
def tables() -> tuple[Table, ...]:
    """The client's tables, installed ones only, in a stable order (the client first)."""
    found: list[Table] = []
    for m in every_model():
        entry = REGISTRY.get(m._meta.label_lower)
        if isinstance(entry, Rule):
            found.append(Table(m._meta.label_lower, m, entry))
    found.sort(key=lambda t: (t.label != "accounts.client", t.label))
    return tuple(found)


def deletion_order(chosen: list[Table]) -> list[Table]:
    """Tables ordered so that rows pointing at others go first (a topological sort)."""
    by_model = {t.model: t for t in chosen}
    ordered: list[Table] = []
    state: dict[type[models.Model], int] = {}

    def visit(table: Table) -> None:
        mark = state.get(table.model)
        if mark in {1, 2}:  # done, or a cycle (self-references): the cascade copes
            return
        state[table.model] = 1
        for other in chosen:
            if other.model is table.model:
                continue
            if table.model in set(_forward_targets(other.model)):
                visit(other)  # ``other`` points at ``table``: it goes first
        state[table.model] = 2
        ordered.append(table)

    for table in sorted(chosen, key=lambda t: t.label):
        if table.model in by_model:
            visit(table)
    return ordered
