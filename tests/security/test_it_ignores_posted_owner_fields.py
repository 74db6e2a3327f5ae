"""Mass-assignment probes: posting an owner, client or role field changes nothing.

Every form page each role can open is fetched, its POST forms are read with the stdlib HTML
parser, and each form is posted back with its own fields filled in plus extra fields naming
another client, another practice or a stranger (``client``, ``practice_id``, ``owner``, ``role``,
``is_superuser``, ...). Before and after each post, every foreign key to a client, practice or
user in the database is read: no row may come to point at the posted strangers, and nobody may
become staff or superuser. Each post runs in a savepoint that is rolled back, so the forms do
not disturb one another.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.db import models, transaction
from django.test import Client as HttpClient
from django.urls import reverse

from kithkin.accounts.models import Client, Membership, Practice, User
from tests.conftest import World, signed_in
from tests.security.cast import ADMIN, CLIENT_A, CLINICIAN, MEMBER, Cast, cast_of
from tests.security.test_it_keeps_every_object_to_its_owners import (
    CONDITIONAL,
    entitled,
    fill,
    object_routes,
)
from tests.security.test_it_refuses_every_url_to_strangers import ADMIN_PAGES, OWN_PAGES

OWNER_FIELDS: tuple[str, ...] = (
    *("client", "client_id", "practice", "practice_id", "user", "user_id", "owner"),
    *("role", "is_staff", "is_superuser", "created_by", "id", "pk"),
)

# Values a form may need that a probe fills in when the page leaves them empty.
FILLERS = {
    "email": "probe@example.test",
    "number": "1",
    "date": date.today().isoformat(),
    "time": "12:00",
    "datetime-local": date.today().isoformat() + "T12:00",
    "url": "https://example.test/",
    "tel": "0123456789",
}


@dataclass
class Form:
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    names: set[str] = field(default_factory=set)


class Forms(HTMLParser):
    """The POST forms of a page, each with the values a browser would submit as it stands."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, list[str], list[str]] | None = None  # name, options, selected
        self._textarea: tuple[str, list[str]] | None = None
        self._radios: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self._form = Form(action=a.get("action", ""))
                self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            self._input(form, name, a)
        elif tag == "select" and name:
            self._select = (name, [], [])
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select[1].append(value)
            if "selected" in a:
                self._select[2].append(value)
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def _input(self, form: Form, name: str, a: dict[str, str]) -> None:
        kind = a.get("type", "text").lower()
        form.names.add(name)
        if kind in {"submit", "button", "image", "reset", "file", "password"}:
            if kind == "submit" and a.get("value"):
                form.fields.append((name, a["value"]))
            return
        if kind in {"checkbox", "radio"}:
            if "checked" in a:
                form.fields.append((name, a.get("value", "on")))
            elif kind == "radio" and name not in self._radios:
                self._radios[name] = a.get("value", "on")
            return
        value = a.get("value", "")
        if not value and kind != "hidden":
            value = FILLERS.get(kind, "Probe text")
        form.fields.append((name, value))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if tag == "select" and self._select is not None and form is not None:
            name, options, selected = self._select
            form.names.add(name)
            chosen = selected or [next((o for o in options if o), "")]
            form.fields += [(name, value) for value in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea is not None and form is not None:
            name, parts = self._textarea
            form.names.add(name)
            form.fields.append((name, "".join(parts).strip() or "Probe text"))
            self._textarea = None
        elif tag == "form" and form is not None:
            for name, value in self._radios.items():
                if name not in {n for n, _ in form.fields}:
                    form.fields.append((name, value))
            self._radios = {}
            self._form = None


def forms_of(body: str) -> list[Form]:
    parser = Forms()
    parser.feed(body)
    return parser.forms


# --- the database's owner columns -----------------------------------------------------------

OWNER_TARGETS = (Client, Practice, User)


def owner_columns(model: type[models.Model]) -> dict[str, str]:
    """Column → the model it points at, for the foreign keys to a client, practice or user."""
    return {
        f.attname: f.related_model._meta.label
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model in OWNER_TARGETS
    }


def snapshot() -> dict[tuple[str, Any], dict[str, Any]]:
    """(model, pk) → its owner columns, for every row of every Kithkin model that has any."""
    rows: dict[tuple[str, Any], dict[str, Any]] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("kithkin."):
            continue
        targets = owner_columns(model)
        # Kithkin's User has no is_staff: staff are Memberships; a superuser flag still exists.
        flags = [f for f in ("is_staff", "is_superuser") if model is User and _has(f)]
        flags += ["role"] if model is Membership else []
        if not targets and not flags:
            continue
        for values in model._default_manager.values("pk", *targets, *flags):
            pk = values.pop("pk")
            # Foreign keys as "accounts.User:7", so a user id never matches a practice id.
            rows[(model._meta.label, pk)] = {
                column: f"{targets[column]}:{value}" if column in targets else value
                for column, value in values.items()
            }
    return rows


def _has(name: str) -> bool:
    return any(f.name == name for f in User._meta.concrete_fields)


@dataclass
class Foreign:
    """The other client's, practice's and user's ids the probes post."""

    client: Any
    practice: Any
    user: Any

    def extras(self, present: set[str]) -> list[tuple[str, str]]:
        values = {
            "client": self.client,
            "client_id": self.client,
            "practice": self.practice,
            "practice_id": self.practice,
            "user": self.user,
            "user_id": self.user,
            "owner": self.user,
            "created_by": self.user,
            "role": "admin",
            "is_staff": "on",
            "is_superuser": "on",
            "id": self.client,
            "pk": self.client,
        }
        return [(name, str(values[name])) for name in OWNER_FIELDS if name not in present]

    def problems(
        self, before: dict[tuple[str, Any], dict[str, Any]], after: dict[tuple[str, Any], Any]
    ) -> list[str]:
        found = []
        foreign = {
            f"accounts.Client:{self.client}",
            f"accounts.Practice:{self.practice}",
            f"accounts.User:{self.user}",
        }
        for key, values in after.items():
            old = before.get(key)
            for column, value in values.items():
                if column in {"is_staff", "is_superuser"} and value and not (old or {}).get(column):
                    found.append(f"{key} now has {column}")
                elif column == "role" and old is not None and old[column] != value:
                    found.append(f"{key} role changed from {old[column]} to {value}")
                elif value in foreign and (old is None or old[column] != value):
                    found.append(f"{key}.{column} now points at the posted {value}")
        return found


@contextmanager
def undone() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def form_pages(cast: Cast) -> Iterator[tuple[str, HttpClient, str]]:
    """(role, client, url) for every page each role may open that may hold a form."""
    https = {role: signed_in(cast.user(role)) for role in (CLINICIAN, ADMIN, CLIENT_A, MEMBER)}
    for route in object_routes():
        for role in sorted(entitled(route.route) & set(https)):
            if (route.route, role) not in CONDITIONAL and not route.route.endswith((".pdf",)):
                yield role, https[role], fill(route, cast.a)
    for role, http in https.items():
        for page in sorted(OWN_PAGES - {"accounts/logout/"}):
            yield role, http, "/" + page
    for page in sorted(ADMIN_PAGES):
        yield ADMIN, https[ADMIN], "/" + page


@pytest.mark.django_db
def test_it_ignores_posted_owner_fields_on_every_form(world: World) -> None:
    cast = cast_of(world)
    foreign = Foreign(world.other_client.pk, world.other_practice.pk, world.stranger.pk)
    logout = reverse("logout")
    problems: list[str] = []
    posted: set[tuple[str, str]] = set()
    accepted = 0
    for role, http, url in form_pages(cast):
        page = http.get(url)
        if page.status_code != 200 or not page["Content-Type"].startswith("text/html"):
            continue
        for form in forms_of(page.content.decode()):
            action = urlsplit(form.action).path or url
            if action == logout or (role, action) in posted:
                continue
            posted.add((role, action))
            data = form.fields + foreign.extras(form.names)
            with undone():
                before = snapshot()
                response = http.post(action, _multi(data))
                after = snapshot()
            if response.status_code >= 500:
                problems.append(f"{role}: POST {action} failed with {response.status_code}")
            if response.status_code in (200, 302):
                accepted += 1
            problems += [f"{role}: POST {action}: {p}" for p in foreign.problems(before, after)]
    assert not problems, "\n".join(problems)
    assert len(posted) > 40, f"only {len(posted)} forms were probed"
    assert accepted, "no probe was even answered"


def _multi(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data


# --- the probe must be able to see a takeover -------------------------------------------------


def test_it_reads_a_forms_fields_as_a_browser_would() -> None:
    html = """
      <form method="get" action="/search/"><input name="q"></form>
      <form method="post" action="/save/">
        <input type="hidden" name="csrfmiddlewaretoken" value="t">
        <input name="title" value="Sleep">
        <input type="email" name="email">
        <input type="checkbox" name="share" value="yes" checked>
        <input type="checkbox" name="other" value="no">
        <input type="radio" name="ring" value="1"><input type="radio" name="ring" value="2">
        <select name="kind"><option value="">-</option><option value="a">A</option></select>
        <textarea name="note">Hello</textarea>
        <input type="password" name="password">
      </form>"""
    (form,) = forms_of(html)
    assert form.action == "/save/"
    assert dict(form.fields) == {
        "csrfmiddlewaretoken": "t",
        "title": "Sleep",
        "email": "probe@example.test",
        "share": "yes",
        "ring": "1",
        "kind": "a",
        "note": "Hello",
    }
    assert {"other", "password", "ring"} <= form.names


@pytest.mark.django_db
def test_it_sees_a_row_handed_to_someone_else(world: World) -> None:
    foreign = Foreign(world.other_client.pk, world.other_practice.pk, world.stranger.pk)
    assert "client" not in dict(foreign.extras({"client"}))
    with undone():
        before = snapshot()
        Client.objects.filter(pk=world.client_a.pk).update(practice=world.other_practice)
        User.objects.filter(pk=world.member.pk).update(is_superuser=True)
        Membership.objects.filter(user=world.clinician).update(role="admin")
        after = snapshot()
    found = "\n".join(foreign.problems(before, after))
    assert f"practice_id now points at the posted accounts.Practice:{world.other_practice.pk}" in (
        found
    )
    assert "now has is_superuser" in found
    assert "role changed from clinician to admin" in found
    # The stranger's own rows pointing at their own practice are not a change.
    assert not foreign.problems(after, after)
