"""A client's full export holds every row of every table that belongs to her, and nothing of
anyone else's. The tables come from introspection: a model pointing at a client (or a user)
that the privacy registry does not classify fails the test."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from kithkin.accounts.models import Client, Role
from kithkin.audit import services as audit
from kithkin.audit.models import AuditEvent
from kithkin.network.models import Person
from kithkin.privacy import export, registry
from kithkin.privacy.views import EXPORT_LIMIT
from tests import factories
from tests.conftest import World, signed_in
from tests.privacy.privacy_data import Canaries, fill_record


def unzip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def download(response: Any) -> dict[str, str]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    return unzip(b"".join(response.streaming_content))


def row_ids(table: registry.Table, client: Client) -> set[str]:
    return {str(pk) for pk in table.rows_of(client.pk).values_list("pk", flat=True)}


@pytest.fixture
def filled(world: World) -> dict[str, Canaries]:
    other_practice_clinician = world.stranger
    return {
        "a": fill_record(world.client_a, world.clinician, "a"),
        "b": fill_record(world.client_b, world.colleague, "b"),
        "other": fill_record(world.other_client, other_practice_clinician, "other"),
    }


@pytest.mark.django_db
def test_it_classifies_every_model_that_points_at_a_client_or_a_user() -> None:
    assert registry.unclassified_models() == [], (
        "These models point at accounts.Client or accounts.User but are not in "
        "kithkin.privacy.registry.REGISTRY. Add a Rule (the client's data: exported and erased) "
        "or a Skip (with the reason) for each."
    )
    assert registry.stale_entries() == []


@pytest.mark.django_db
def test_it_exports_every_row_of_hers_and_none_of_anyone_elses(
    world: World, filled: dict[str, Canaries]
) -> None:
    # What the database holds before the export.
    before = {
        table.label: (
            row_ids(table, world.client_a),
            row_ids(table, world.client_b) | row_ids(table, world.other_client),
        )
        for table in registry.tables()
    }
    files = download(signed_in(world.client_a_user).post(reverse("privacy_my_data")))
    data = json.loads(files["data.json"])
    assert data["about"]["client_id"] == str(world.client_a.pk)
    missing_data = []
    for table in registry.tables():
        mine, theirs = before[table.label]
        if not mine:
            missing_data.append(table.label)
        exported = {str(row["id"]) for row in data[table.label]}
        if table.rule.psychotherapy_notes:  # the default policy keeps them out
            assert exported == set(), table.label
        else:
            # Signing in and the export itself may add rows of hers (a session, the export's
            # own record) while it runs: everything before is in, nothing beyond hers after.
            assert mine <= exported <= row_ids(table, world.client_a), table.label
        assert not exported & theirs, table.label
        with_header = list(csv.reader(io.StringIO(files[f"csv/{table.label}.csv"])))
        assert with_header[0] == [f.name for f in table.columns()], table.label
        assert len(with_header) - 1 == len(data[table.label]), table.label
    # The builder must give her a row in every table, or the check above proves nothing.
    assert missing_data == []
    everything = "\n".join(files.values())
    # Hers, decrypted
    assert filled["a"].concerns in everything
    assert filled["a"].person in everything
    # Nobody else's
    for tag in ("b", "other"):
        for canary in filled[tag].all:
            assert canary not in everything
    assert world.client_b.display_name not in everything
    assert world.other_client.display_name not in everything
    # No member's own account data, no staff beyond those acting on her record
    assert world.member.email not in everything
    assert world.member.display_name not in everything
    assert world.stranger.display_name not in everything
    assert world.admin.display_name not in everything
    assert "Cleo Clinician (care team)" in everything
    # No secrets
    assert world.client_a_user.password not in everything
    assert '"secret_hash"' not in everything and '"key_hash"' not in everything
    assert '"password"' not in everything
    assert "[withheld]" in everything  # the invitee's email address
    assert "README.txt" in files


@pytest.mark.django_db
def test_it_builds_a_valid_fhir_bundle(world: World, filled: dict[str, Canaries]) -> None:
    files = download(signed_in(world.client_a_user).post(reverse("privacy_my_data")))
    bundle = json.loads(files["fhir/bundle.json"])
    Bundle.model_validate(bundle)
    kinds = [entry["resource"]["resourceType"] for entry in bundle["entry"]]
    assert kinds.count("Patient") == 1
    assert kinds.count("RelatedPerson") == Person.objects.filter(client=world.client_a).count()
    assert kinds.count("QuestionnaireResponse") == 1
    patient = bundle["entry"][0]["resource"]
    assert patient["id"] == str(world.client_a.pk)
    assert patient["name"][0]["text"] == world.client_a.display_name
    assert filled["a"].person in files["fhir/bundle.json"]


@pytest.mark.django_db
def test_the_care_team_and_admins_export_for_the_client(
    world: World, filled: dict[str, Canaries]
) -> None:
    url = reverse("privacy_client_export", kwargs={"client_id": world.client_a.pk})
    for user in (world.clinician, world.admin):
        http = signed_in(user)
        assert http.get(url).status_code == 200
        files = download(http.post(url))
        data = json.loads(files["data.json"])
        assert [row["id"] for row in data["accounts.client"]] == [str(world.client_a.pk)]
        assert filled["a"].concerns in files["data.json"]
    events = AuditEvent.objects.filter(action="privacy.export", client_id=str(world.client_a.pk))
    assert events.count() == 2
    assert {e.detail["by"] for e in events} == {"care_team", "admin"}


@pytest.mark.django_db
def test_it_refuses_everyone_else(world: World, filled: dict[str, Canaries]) -> None:
    url = reverse("privacy_client_export", kwargs={"client_id": world.client_a.pk})
    refused = [
        world.stranger,
        factories.staff(world.other_practice, Role.ADMIN),
        world.colleague,
        world.member,
        world.client_b_user,
        world.client_a_user,  # her own export is on her own page, not the care team's
    ]
    for user in refused:
        http = signed_in(user)
        assert http.get(url).status_code == 404
        assert http.post(url).status_code == 404
    assert not AuditEvent.objects.filter(action="privacy.export").exists()
    # Staff and members have no record of their own to download.
    for user in (world.stranger, world.member, world.clinician):
        assert signed_in(user).post(reverse("privacy_my_data")).status_code == 404


@pytest.mark.django_db
def test_it_limits_how_often_one_person_exports(world: World, filled: dict[str, Canaries]) -> None:
    http = signed_in(world.client_a_user)
    for _ in range(EXPORT_LIMIT):
        assert http.post(reverse("privacy_my_data")).status_code == 200
    refused = http.post(reverse("privacy_my_data"))
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0


def queries_for_export(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        export.write_export(client, include_notes=True, out=io.BytesIO())
    return len(queries.captured_queries)


@pytest.mark.django_db
def test_its_query_count_does_not_grow_with_the_record(
    world: World, filled: dict[str, Canaries]
) -> None:
    client = Client.objects.select_related("practice").get(pk=world.client_a.pk)
    small = queries_for_export(client)
    for n in range(30):
        person = factories.person_of(client, f"Extra {n}")
        factories.contact(person)
        factories.submitted_response(client, "gad7")
    # A long access history too (more events than one chunk), by several people.
    for n in range(export.CHUNK_SIZE + 20):
        who = (world.clinician, world.member, world.stranger)[n % 3]
        audit.record(None, actor=who, action="client.view", object_type="client", client=client)
    assert queries_for_export(client) == small
    # About one query per table (the access history is one more), plus a handful for labels and
    # the FHIR bundle.
    assert small <= len(registry.tables()) + 1 + 8


@pytest.mark.django_db
def test_the_client_finds_her_download_from_her_settings(world: World) -> None:
    settings_page = signed_in(world.client_a_user).get(reverse("settings")).content.decode()
    assert reverse("privacy_my_data") in settings_page
    page = signed_in(world.client_a_user).get(reverse("privacy_my_data"))
    assert page.status_code == 200
    assert "are not in this file" in page.content.decode()  # the notes, by default
    staff_settings = signed_in(world.clinician).get(reverse("settings")).content.decode()
    assert reverse("privacy_my_data") not in staff_settings
    overview = signed_in(world.clinician).get(
        reverse("client_overview", kwargs={"client_id": world.client_a.pk})
    )
    assert reverse("privacy_client_export", kwargs={"client_id": world.client_a.pk}) in (
        overview.content.decode()
    )
