"""A client's full export holds her access history (``audit.access_history``): every audit event
naming her, as when, who, their role, what and the outcome. People appear only as the export's
labels; IP addresses, the hash chain and the events' details never do, and nor does any event
about someone else."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.test import Client as HttpClient
from django.urls import reverse

from kithkin.accounts.models import (
    BreakGlassAccess,
    CareTeamMember,
    Client,
    Membership,
    NetworkMember,
    Role,
    User,
)
from kithkin.audit import services as audit
from kithkin.audit.models import AuditEvent, Outcome
from kithkin.privacy import export
from tests import factories
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

HISTORY = "audit.access_history"
COLUMNS = ["when", "who", "role", "action", "object_type", "outcome", "emergency_access"]
# A documentation address (RFC 5737): every request below comes from it, so it is in the trail.
ADDRESS = "203.0.113.77"
REASON = "She has not answered for two days and her sister fears for her canary-gl77"


def overview(client: Client) -> str:
    return f"/clients/{client.pk}/"


def browser(user: User) -> HttpClient:
    http = signed_in(user)
    http.defaults["REMOTE_ADDR"] = ADDRESS
    return http


def her_export(world: World) -> dict[str, str]:
    response = browser(world.client_a_user).post(reverse("privacy_my_data"))
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def history_of(files: dict[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(files["data.json"])[HISTORY]
    table = list(csv.reader(io.StringIO(files[f"csv/{HISTORY}.csv"])))
    assert table[0] == COLUMNS
    assert len(table) - 1 == len(rows)
    for row, line in zip(rows, table[1:], strict=True):
        assert list(row) == COLUMNS
        assert line == [export._cell(row[name]) for name in COLUMNS]
    return rows


def network_label(world: World) -> str:
    number = NetworkMember.objects.get(client=world.client_a, user=world.member).pk
    return f"network member {number}"


def test_it_lists_every_event_about_her_with_labels_and_nothing_about_anyone_else(
    world: World,
) -> None:
    # Her clinician opens her page; her network member opens his home page, which shows her.
    assert browser(world.clinician).get(overview(world.client_a)).status_code == 200
    assert browser(world.member).get("/").status_code == 200
    # Client B's clinician opens B's page: about B, not her.
    assert browser(world.colleague).get(overview(world.client_b)).status_code == 200
    # A clinician of another practice is refused her page, and opens his own client's.
    assert browser(world.stranger).get(overview(world.client_a)).status_code == 404
    assert browser(world.stranger).get(overview(world.other_client)).status_code == 200
    # A clinician who opened her page and has since left the practice.
    former = factories.staff(world.practice, Role.CLINICIAN, display_name="Fran Former")
    CareTeamMember.objects.create(client=world.client_a, user=former)
    assert browser(former).get(overview(world.client_a)).status_code == 200
    CareTeamMember.objects.filter(user=former).delete()
    Membership.objects.filter(user=former).delete()

    files = her_export(world)
    history = history_of(files)
    everything = "\n".join(files.values())

    # Exactly her events, in order, up to the export itself (recorded once the file is made).
    hers = list(AuditEvent.objects.for_client(world.client_a.pk).exclude(action="privacy.export"))
    assert len(history) == len(hers) >= 4
    for row, event in zip(history, hers, strict=True):
        assert row["when"] == event.occurred_at.astimezone(UTC).isoformat()
        assert row["when"].endswith("+00:00")
        assert (row["action"], row["object_type"], row["outcome"], row["role"]) == (
            event.action,
            event.object_type,
            event.outcome,
            event.actor_role,
        )
        assert row["emergency_access"] is False

    rows = {(row["who"], row["action"], row["outcome"]) for row in history}
    assert ("Cleo Clinician (care team)", "client.view", "success") in rows
    assert (network_label(world), "member.home.view", "success") in rows
    assert ("Alex Rivers (the client)", "privacy.export.view", "success") in rows
    assert ("someone else", "client.view", "success") in rows  # the clinician who left
    clinician_read = next(r for r in history if r["who"] == "Cleo Clinician (care team)")
    assert clinician_read["role"] == "clinician"

    # Nothing about client B or another practice's client, nor anyone's name but the labels.
    assert world.colleague.display_name not in everything
    assert world.client_b.display_name not in everything
    assert world.other_client.display_name not in everything
    assert world.member.display_name not in everything
    assert former.display_name not in everything
    # The refusal is in the trail, but carries no client id (access refuses before it knows
    # whose the page is), so it is not hers to list; and the stranger is named nowhere.
    refused = AuditEvent.objects.get(actor_id=world.stranger.pk, outcome=Outcome.DENIED)
    assert refused.client_id == ""
    assert not [row for row in history if row["outcome"] == Outcome.DENIED]
    assert world.stranger.display_name not in everything
    assert world.stranger.email not in everything

    # No address and no hash (each event's previous hash is an earlier event's hash); the
    # columns (checked in history_of) hold no detail, actor id or object id either.
    addresses = AuditEvent.objects.for_client(world.client_a.pk).values_list("ip_address")
    assert set(addresses) == {(ADDRESS,)}
    assert ADDRESS not in everything
    for event_hash in AuditEvent.objects.values_list("hash", flat=True):
        assert event_hash not in everything

    # The README lists the table with its count, and says in plain words what it is.
    readme = files["README.txt"]
    assert f"  {HISTORY}: {len(history)}\n" in readme
    assert "each time someone opened or changed your record: who it was and when" in readme


def test_someone_outside_her_circle_is_someone_else_even_under_her_id(world: World) -> None:
    """Were a stranger's refusal recorded under her id, it would list as "someone else"."""
    audit.record(
        None,
        actor=world.stranger,
        action="client.view",
        object_type="client",
        object_id=world.client_a.pk,
        client_id=world.client_a.pk,
        outcome=Outcome.DENIED,
    )
    # And an event of Kithkin's own, with nobody signed in, about her.
    audit.record(None, action="care.action.remind", object_type="action", client=world.client_a)
    files = her_export(world)
    history = history_of(files)
    assert {
        "who": "someone else",
        "role": "clinician",
        "action": "client.view",
        "object_type": "client",
        "outcome": "denied",
        "emergency_access": False,
    }.items() <= history[0].items()
    assert history[1]["who"] == "no one signed in"
    assert history[1]["role"] == "anonymous"
    everything = "\n".join(files.values())
    assert world.stranger.display_name not in everything
    assert world.stranger.email not in everything


def test_it_marks_what_was_opened_under_emergency_access(world: World) -> None:
    http = browser(world.colleague)  # same practice, not on her care team
    opening = http.post(
        "/emergency-access/open/",
        {"client": str(world.client_a.pk), "reason": REASON, "minutes": 30},
    )
    assert opening.status_code == 302
    grant = BreakGlassAccess.objects.get(user=world.colleague, client=world.client_a)
    assert http.get(overview(world.client_a)).status_code == 200
    assert browser(world.clinician).get(overview(world.client_a)).status_code == 200

    files = her_export(world)
    history = history_of(files)
    colleague = "Colin Colleague (practice staff)"
    emergency = {(r["who"], r["action"]) for r in history if r["emergency_access"]}
    assert {(colleague, "breakglass.open"), (colleague, "client.view")} <= emergency
    assert all(r["who"] == colleague for r in history if r["emergency_access"])
    assert any(
        r["who"] == "Cleo Clinician (care team)" and not r["emergency_access"] for r in history
    )
    # The CSV writes it as true/false; the reason and the grant's id stay out of the history.
    table = files[f"csv/{HISTORY}.csv"]
    assert ",client.view,client,success,true" in table
    assert "canary-gl77" not in table
    assert str(grant.pk) not in {cell for line in csv.reader(io.StringIO(table)) for cell in line}
