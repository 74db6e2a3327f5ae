"""Export as GraphML and as a ZIP of Network Canvas CSVs: the right people, ties and variables,
nothing from another client, no personal data in file names, audited, refused to strangers."""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from typing import Any

import networkx as nx
import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from kithkin.accounts.models import Client
from kithkin.audit.models import AuditEvent
from kithkin.network.interchange.exporter import case_id
from kithkin.network.models import Person
from tests import factories
from tests.conftest import World, signed_in


def download(http: HttpClient, client: Client, export_format: str) -> Any:
    url = reverse("network_export_download", kwargs={"client_id": client.pk})
    return http.get(url, {"format": export_format})


def a_map(client: Client) -> list[Person]:
    sam = factories.person_of(
        client,
        "Sam",
        ring=1,
        category="friend",
        helps_safe=True,
        helps_seen=True,
        gives_crisis=True,
        layout_x=0.25,
        layout_y=0.75,
        preferred_channel="phone",
    )
    jo = factories.person_of(
        client, "Jo", ring=2, category="family", strain=2, wished_rhythm_days=14
    )
    ex = factories.person_of(client, "=Ex", ring=3, category="partner", not_safe=True)
    factories.tie(sam, jo, strength=2)
    factories.tie(jo, ex)
    return [sam, jo, ex]


def test_it_exports_graphml_that_networkx_reads(world: World) -> None:
    sam, jo, ex = a_map(world.client_a)
    factories.person_of(world.client_a, "Gone", removed_at=sam.created_at)
    factories.person_of(world.client_b, "Bea's friend")
    response = download(signed_in(world.clinician), world.client_a, "graphml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/graphml+xml"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert case_id(world.client_a) in disposition and "Alex" not in disposition
    graph = nx.read_graphml(io.BytesIO(response.content))
    labels = {data["label"] for _node, data in graph.nodes(data=True)}
    assert labels == {"Sam", "Jo", "=Ex"}
    node = graph.nodes[str(sam.pk)]
    assert node["networkCanvasType"] == "Person"
    assert node["networkCanvasUUID"] == str(sam.pk)
    assert node["category_friend"] is True and node["category_family"] is False
    assert node["ring"] == 1
    assert node["helps_safe"] is True and node["helps_soothed"] is False
    assert node["gives_crisis"] is True
    assert node["channel_phone"] is True
    assert (node["layout_x"], node["layout_y"]) == (0.25, 0.75)
    assert graph.nodes[str(ex.pk)]["not_safe"] is True
    assert graph.nodes[str(jo.pk)]["strain"] == 2
    assert graph.nodes[str(jo.pk)]["wished_rhythm_days"] == 14
    assert graph.number_of_edges() == 2
    assert graph.edges[str(sam.pk), str(jo.pk)]["strength"] == 2
    assert graph.edges[str(sam.pk), str(jo.pk)]["networkCanvasType"] == "knows"
    body = response.content.decode()
    assert "Bea" not in body and "Gone" not in body and "Alex Rivers" not in body
    event = AuditEvent.objects.get(action="network.export")
    assert event.detail == {"format": "graphml"} and event.client_id == str(world.client_a.pk)


def read_zip(content: bytes) -> dict[str, list[dict[str, str]]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return {
        name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))
        for name in archive.namelist()
    }


def headers(content: bytes) -> dict[str, list[str]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return {
        name: next(csv.reader(io.StringIO(archive.read(name).decode("utf-8"))))
        for name in archive.namelist()
    }


def test_it_exports_the_csv_trio_in_network_canvas_layout(world: World) -> None:
    a_map(world.client_a)
    factories.person_of(world.client_b, "Bea's friend")
    response = signed_in(world.client_a_user).get(
        reverse("network_export_download", kwargs={"client_id": world.client_a.pk}),
        {"format": "csv"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    case = case_id(world.client_a)
    assert case == str(world.client_a.pk).replace("-", "")[:8]
    tables = headers(response.content)
    names = sorted(tables)
    assert len(names) == 3
    ego_name = next(n for n in names if n.endswith("_ego.csv"))
    prefix = ego_name.removesuffix("_ego.csv")
    assert prefix.startswith(case + "_")
    assert names == sorted(
        [f"{prefix}_ego.csv", f"{prefix}_attributeList_Person.csv", f"{prefix}_edgeList_knows.csv"]
    )
    assert tables[f"{prefix}_ego.csv"] == [
        "networkCanvasEgoUUID",
        "networkCanvasCaseID",
        "networkCanvasSessionID",
        "networkCanvasProtocolName",
        "sessionStart",
        "sessionFinish",
        "sessionExported",
        "APP_VERSION",
        "COMMIT_HASH",
    ]
    people_header = tables[f"{prefix}_attributeList_Person.csv"]
    assert people_header[:4] == ["nodeID", "networkCanvasEgoUUID", "networkCanvasUUID", "name"]
    assert "category_peer_support" in people_header and "layout_x" in people_header
    assert tables[f"{prefix}_edgeList_knows.csv"][:7] == [
        "edgeID",
        "from",
        "to",
        "networkCanvasEgoUUID",
        "networkCanvasUUID",
        "networkCanvasSourceUUID",
        "networkCanvasTargetUUID",
    ]
    rows = read_zip(response.content)
    ego = rows[f"{prefix}_ego.csv"][0]
    assert ego["networkCanvasCaseID"] == case
    people = rows[f"{prefix}_attributeList_Person.csv"]
    assert [p["nodeID"] for p in people] == ["1", "2", "3"]
    by_name = {p["name"]: p for p in people}
    assert set(by_name) == {"Sam", "Jo", "'=Ex"}  # a spreadsheet must not run it as a formula
    assert by_name["Sam"]["category_friend"] == "true"
    assert by_name["Sam"]["category_family"] == "false"
    assert by_name["Sam"]["layout_x"] == "0.25"
    assert by_name["Jo"]["layout_x"] == ""
    edges = rows[f"{prefix}_edgeList_knows.csv"]
    assert len(edges) == 2
    ids = {p["nodeID"]: p["networkCanvasUUID"] for p in people}
    assert all(ids[e["from"]] == e["networkCanvasSourceUUID"] for e in edges)
    assert all(e["networkCanvasEgoUUID"] == ego["networkCanvasEgoUUID"] for e in edges)
    everything = b"".join(zipfile.ZipFile(io.BytesIO(response.content)).read(n) for n in names)
    assert b"Bea" not in everything and b"Alex" not in everything


def test_it_shows_the_export_choices(world: World) -> None:
    response = signed_in(world.clinician).get(
        reverse("network_export", kwargs={"client_id": world.client_a.pk})
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "format=graphml" in body and "format=csv" in body


def test_it_sends_an_unknown_format_back_to_the_choices(world: World) -> None:
    response = download(signed_in(world.clinician), world.client_a, "xlsx")
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "network_export", kwargs={"client_id": world.client_a.pk}
    )
    assert not AuditEvent.objects.filter(action="network.export").exists()


@pytest.mark.parametrize("export_format", ["graphml", "csv"])
def test_it_exports_with_the_same_number_of_queries_for_2_and_12_people(
    world: World, export_format: str
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    http = signed_in(world.clinician)
    counts = []
    for size in (2, 12):
        Person.objects.filter(client=world.client_a).delete()
        people = [factories.person_of(world.client_a, f"P{i}") for i in range(size)]
        for a, b in itertools.pairwise(people):
            factories.tie(a, b)
        with CaptureQueriesContext(connection) as queries:
            assert download(http, world.client_a, export_format).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("who", ["colleague", "admin", "member", "client_b_user", "stranger"])
def test_it_refuses_strangers_the_export(world: World, who: str) -> None:
    a_map(world.client_a)
    http = signed_in(getattr(world, who))
    for name in ("network_export", "network_export_download"):
        url = reverse(name, kwargs={"client_id": world.client_a.pk})
        assert http.get(url, {"format": "csv"}).status_code == 404
        assert http.post(url, {"format": "csv"}).status_code == 404
    assert not AuditEvent.objects.filter(action="network.export").exists()
