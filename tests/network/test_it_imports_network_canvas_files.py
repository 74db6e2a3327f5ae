"""Importing a hand-made Network Canvas interview (ZIP, CSV trio) and GraphML through the
mapping screen, with re-imports matching people rather than duplicating them."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import reverse

from kithkin.audit.models import AuditEvent
from kithkin.network.models import Person, Snapshot, Tie
from tests.conftest import World, signed_in

FILES = Path(__file__).parent / "files"
INTERVIEW = FILES / "nc_interview"
PREFIX = "P017_3f2a9c1e-5b7d-4e2a-9f10-2c6d8e4b7a01"


def upload(http: HttpClient, client_id: Any, **files: SimpleUploadedFile) -> Any:
    return http.post(reverse("network_import", kwargs={"client_id": client_id}), files)


def form_defaults(response: Any) -> dict[str, str]:
    """What the mapping page would send back if the user changed nothing."""
    form = response.context["form"]
    data: dict[str, str] = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else str(value)
    return data


def field_for(response: Any, variable: str) -> str:
    form = response.context["form"]
    for row in form.rows:
        if row.variable.key == variable:
            return str(row.target.name)
    raise AssertionError(f"no variable {variable}")


def the_zip() -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "P017_export.zip", (FILES / "nc_interview.zip").read_bytes(), "application/zip"
    )


def csv_file(kind: str) -> SimpleUploadedFile:
    name = f"{PREFIX}_{kind}.csv"
    return SimpleUploadedFile(name, (INTERVIEW / name).read_bytes(), "text/csv")


def test_it_imports_the_hand_made_zip_through_the_mapping_screen(world: World) -> None:
    http = signed_in(world.clinician)
    response = upload(http, world.client_a.pk, archive=the_zip())
    assert response.status_code == 302
    mapping_url = response["Location"]
    page = http.get(mapping_url)
    assert page.status_code == 200
    keys = [row.variable.key for row in page.context["form"].rows]
    assert keys == [
        "name",
        "nickname_known",
        "close_friend",
        "closeness",
        "relationship",
        "support_type",
        "contact_every_days",
        "layout",
    ]
    data = form_defaults(page)
    # The guesses: name → name, closeness → ring, relationship → category, support → gives.
    assert data[field_for(page, "name")] == "name"
    assert data[field_for(page, "closeness")] == "ring"
    assert data[field_for(page, "relationship")] == "category"
    assert data[field_for(page, "support_type")] == "gives"
    assert data[field_for(page, "contact_every_days")] == "wished_rhythm_days"
    assert data[field_for(page, "layout")] == "layout"
    assert data["edge_type"] == "knows"
    # The clinician decides close_friend means "helps feel seen"; press "update" first.
    data[field_for(page, "close_friend")] = "helps_seen"
    refreshed = http.post(mapping_url, {**data, "refresh": "1"})
    assert refreshed.status_code == 200
    assert Person.objects.count() == 0
    data = form_defaults(refreshed)
    done = http.post(mapping_url, {**data, "confirm": "1"})
    assert done.status_code == 302, done.context["form"].errors if done.context else done
    summary = http.get(done["Location"])
    assert summary.status_code == 200
    assert "5 people added" in summary.content.decode()

    people = {p.name: p for p in Person.objects.filter(client=world.client_a)}
    assert set(people) == {"Maria", "Tomás", "Aunt Jo", "Priya", "Mr Okafor"}
    maria = people["Maria"]
    assert (maria.ring, maria.category) == (1, "friend")
    assert maria.gives_emotional and maria.gives_informational and not maria.gives_practical
    assert maria.helps_seen and maria.wished_rhythm_days == 7
    assert (maria.layout_x, maria.layout_y) == (0.52, 0.31)
    assert maria.external_uuid == "a1f4c2d8-6e3b-4b7a-9c1d-0e5f8a2b3c41"
    assert maria.created_by == world.clinician
    assert (people["Tomás"].ring, people["Tomás"].category) == (2, "family")
    assert people["Tomás"].wished_rhythm_days is None
    assert (people["Mr Okafor"].ring, people["Mr Okafor"].category) == (3, "community")
    assert people["Priya"].category == "work"
    pairs = {
        frozenset((tie.person_a.name, tie.person_b.name))
        for tie in Tie.objects.filter(client=world.client_a).select_related("person_a", "person_b")
    }
    assert pairs == {
        frozenset(("Maria", "Aunt Jo")),
        frozenset(("Tomás", "Aunt Jo")),
        frozenset(("Maria", "Priya")),
    }
    assert Snapshot.objects.filter(client=world.client_a, reason="import").count() == 1
    event = AuditEvent.objects.get(action="network.import")
    assert event.client_id == str(world.client_a.pk)
    assert event.detail["created"] == 5
    assert "Maria" not in str(event.detail)


def test_it_updates_people_when_the_same_file_is_imported_again(world: World) -> None:
    http = signed_in(world.client_a_user)  # the client herself may import
    for _round in range(2):
        response = upload(http, world.client_a.pk, archive=the_zip())
        page = http.get(response["Location"])
        done = http.post(response["Location"], {**form_defaults(page), "confirm": "1"})
        assert done.status_code == 302
    assert Person.objects.filter(client=world.client_a).count() == 5
    assert Tie.objects.filter(client=world.client_a).count() == 3
    assert AuditEvent.objects.filter(action="network.import").count() == 2
    last = AuditEvent.objects.filter(action="network.import").order_by("pk").last()
    assert last is not None and last.detail["updated"] == 5


def test_it_imports_the_csv_trio_uploaded_as_separate_files(world: World) -> None:
    http = signed_in(world.clinician)
    response = upload(
        http,
        world.client_a.pk,
        attribute_list=csv_file("attributeList_Person"),
        edge_list=csv_file("edgeList_knows"),
        ego=csv_file("ego"),
    )
    assert response.status_code == 302
    page = http.get(response["Location"])
    done = http.post(response["Location"], {**form_defaults(page), "confirm": "1"})
    assert done.status_code == 302
    assert Person.objects.filter(client=world.client_a).count() == 5
    assert Tie.objects.filter(client=world.client_a).count() == 3


def test_it_imports_an_attribute_list_alone(world: World) -> None:
    http = signed_in(world.clinician)
    response = upload(http, world.client_a.pk, attribute_list=csv_file("attributeList_Person"))
    page = http.get(response["Location"])
    assert page.context["form"]["edge_type"].value() == ""
    done = http.post(response["Location"], {**form_defaults(page), "confirm": "1"})
    assert done.status_code == 302
    assert Person.objects.filter(client=world.client_a).count() == 5
    assert Tie.objects.count() == 0


GRAPHML = """<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="d0" for="node" attr.name="label" attr.type="string"/>
  <key id="d1" for="node" attr.name="networkCanvasType" attr.type="string"/>
  <key id="d2" for="node" attr.name="networkCanvasUUID" attr.type="string"/>
  <key id="d3" for="node" attr.name="name" attr.type="string"/>
  <key id="d4" for="node" attr.name="closeness_inner" attr.type="boolean"/>
  <key id="d5" for="node" attr.name="closeness_outer" attr.type="boolean"/>
  <key id="d6" for="node" attr.name="unsafe" attr.type="boolean"/>
  <key id="e0" for="edge" attr.name="networkCanvasType" attr.type="string"/>
  <graph edgedefault="undirected">
    <node id="ego"><data key="d1">ego</data></node>
    <node id="n1"><data key="d0">Ren</data><data key="d1">Person</data>
      <data key="d2">0f1e2d3c-0000-4000-8000-000000000001</data><data key="d3">Ren</data>
      <data key="d4">true</data><data key="d5">false</data><data key="d6">false</data></node>
    <node id="n2"><data key="d0">Kit</data><data key="d1">Person</data>
      <data key="d2">0f1e2d3c-0000-4000-8000-000000000002</data><data key="d3">Kit</data>
      <data key="d4">false</data><data key="d5">true</data><data key="d6">true</data></node>
    <node id="p1"><data key="d0">The gym</data><data key="d1">Place</data></node>
    <edge source="n1" target="n2"><data key="e0">knows</data></edge>
    <edge source="ego" target="n1"><data key="e0">knows</data></edge>
  </graph>
</graphml>
"""


def test_it_imports_graphml_leaving_out_ego_and_other_node_types(world: World) -> None:
    http = signed_in(world.clinician)
    response = upload(
        http,
        world.client_a.pk,
        archive=SimpleUploadedFile("map.graphml", GRAPHML.encode(), "application/xml"),
    )
    assert response.status_code == 302
    page = http.get(response["Location"])
    assert page.context["other_node_types"] == ["Place"]
    data = form_defaults(page)
    assert data[field_for(page, "name")] == "name"
    assert data[field_for(page, "label")] == "ignore"
    assert data[field_for(page, "unsafe")] == "not_safe"
    done = http.post(response["Location"], {**data, "confirm": "1"})
    assert done.status_code == 302
    people = {p.name: p for p in Person.objects.filter(client=world.client_a)}
    assert set(people) == {"Ren", "Kit"}
    assert people["Ren"].ring == 1 and not people["Ren"].not_safe
    assert people["Kit"].ring == 3 and people["Kit"].not_safe
    assert Tie.objects.filter(client=world.client_a).count() == 1


def test_it_requires_a_name_mapping(world: World) -> None:
    http = signed_in(world.clinician)
    response = upload(http, world.client_a.pk, archive=the_zip())
    page = http.get(response["Location"])
    data = form_defaults(page)
    data[field_for(page, "name")] = "ignore"
    data["shown_0"] = "ignore"
    refused = http.post(response["Location"], {**data, "confirm": "1"})
    assert refused.status_code == 200
    assert "which variable holds each person" in refused.content.decode()
    assert Person.objects.count() == 0


def test_it_sends_an_expired_or_unknown_import_back_to_the_upload(world: World) -> None:
    http = signed_in(world.clinician)
    url = reverse(
        "network_import_mapping",
        kwargs={"client_id": world.client_a.pk, "import_id": uuid.uuid4()},
    )
    response = http.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "network_import", kwargs={"client_id": world.client_a.pk}
    )


def test_it_keeps_a_pending_import_to_the_client_it_was_uploaded_for(world: World) -> None:
    """An import id from client A's upload does nothing on client B's address."""
    from tests import factories

    factories.client_of(world.practice, world.clinician)
    http = signed_in(world.clinician)
    response = upload(http, world.client_a.pk, archive=the_zip())
    import_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    other = factories.client_of(world.practice, world.clinician)
    url = reverse("network_import_mapping", kwargs={"client_id": other.pk, "import_id": import_id})
    assert http.get(url).status_code == 302
    assert Person.objects.count() == 0


@pytest.mark.parametrize("who", ["colleague", "admin", "member", "client_b_user", "stranger"])
def test_it_refuses_strangers_the_import_pages(world: World, who: str) -> None:
    owner = signed_in(world.clinician)
    response = upload(owner, world.client_a.pk, archive=the_zip())
    mapping_url = response["Location"]
    http = signed_in(getattr(world, who))
    assert (
        http.get(reverse("network_import", kwargs={"client_id": world.client_a.pk})).status_code
        == 404
    )
    assert upload(http, world.client_a.pk, archive=the_zip()).status_code == 404
    assert http.get(mapping_url).status_code == 404
    assert http.post(mapping_url, {"confirm": "1"}).status_code == 404
    done_url = mapping_url + "done/"
    assert http.get(done_url).status_code == 404
    assert http.post(done_url).status_code == 404
    assert Person.objects.count() == 0


def test_the_client_sees_the_upload_page_in_plain_words(world: World) -> None:
    url = reverse("network_import", kwargs={"client_id": world.client_a.pk})
    mine = signed_in(world.client_a_user).get(url).content.decode()
    assert "Bring in people from another map" in mine
    # The several-files route is folded away for her, and no encoding names.
    assert "<details" in mine and "Several files instead of one" in mine
    assert "UTF-8" not in mine
    staff_page = signed_in(world.clinician).get(url).content.decode()
    assert "UTF-8" in staff_page and "<details" not in staff_page
    assert signed_in(world.stranger).get(url).status_code == 404
