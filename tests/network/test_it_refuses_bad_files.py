"""Bad files get a calm, concrete message naming the file, row or element, and nothing is
imported: not one person, tie or snapshot."""

from __future__ import annotations

import html
import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kithkin.accounts.models import Client
from kithkin.network.models import Person, Snapshot, Tie
from tests.conftest import World, signed_in

EGO = "networkCanvasEgoUUID"
NODES_HEADER = "nodeID,networkCanvasEgoUUID,networkCanvasUUID,name,closeness_inner,closeness_outer"
GOOD_NODES = NODES_HEADER + "\n1,e,u1,Ann,true,false\n2,e,u2,Bo,false,true\n3,e,u3,Cy,true,false\n"
EDGES_HEADER = (
    "edgeID,from,to,networkCanvasEgoUUID,networkCanvasUUID,networkCanvasSourceUUID,"
    "networkCanvasTargetUUID"
)


def nodes_file(
    text: str | bytes, name: str = "c1_s1_attributeList_Person.csv"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text)


def edges_file(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("c1_s1_edgeList_knows.csv", text.encode())


def make_zip(members: dict[str, bytes]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return SimpleUploadedFile("export.zip", buffer.getvalue(), "application/zip")


def nothing_imported(client: Client) -> None:
    assert Person.objects.filter(client=client).count() == 0
    assert Tie.objects.count() == 0
    assert Snapshot.objects.count() == 0


def refused(world: World, **files: SimpleUploadedFile) -> str:
    http = signed_in(world.clinician)
    response = http.post(reverse("network_import", kwargs={"client_id": world.client_a.pk}), files)
    assert response.status_code == 200, response
    nothing_imported(world.client_a)
    return html.unescape(response.content.decode())


def test_it_names_the_file_and_the_missing_column(world: World) -> None:
    page = refused(world, attribute_list=nodes_file("id,networkCanvasUUID,name\n1,u1,Ann\n"))
    assert "c1_s1_attributeList_Person.csv is missing the column “nodeID”" in page


def test_it_names_the_edge_file_and_its_missing_column(world: World) -> None:
    page = refused(
        world,
        attribute_list=nodes_file(GOOD_NODES),
        edge_list=edges_file("edgeID,source,to\n1,1,2\n"),
    )
    assert "c1_s1_edgeList_knows.csv is missing the column “from”" in page


def test_it_names_a_row_with_the_wrong_number_of_values(world: World) -> None:
    page = refused(world, attribute_list=nodes_file(GOOD_NODES + "4,e,u4,Di\n"))
    assert "c1_s1_attributeList_Person.csv, row 5 has 4 values but the header has 6 columns" in page


def test_it_names_the_edge_row_and_the_unknown_node_id(world: World) -> None:
    edges = EDGES_HEADER + "\n1,1,2,e,x1,u1,u2\n2,1,17,e,x2,u1,u17\n"
    page = refused(world, attribute_list=nodes_file(GOOD_NODES), edge_list=edges_file(edges))
    assert (
        "c1_s1_edgeList_knows.csv, row 3 (edgeID 2): “to” refers to node “17”, which is not in "
        "the file's list of people." in page
    )


def test_it_refuses_an_edge_to_itself(world: World) -> None:
    edges = EDGES_HEADER + "\n1,2,2,e,x1,u2,u2\n"
    page = refused(world, attribute_list=nodes_file(GOOD_NODES), edge_list=edges_file(edges))
    assert "c1_s1_edgeList_knows.csv, row 2 (edgeID 1): the edge joins node “2” to itself." in page


def test_it_refuses_duplicate_node_ids(world: World) -> None:
    page = refused(world, attribute_list=nodes_file(GOOD_NODES + "2,e,u9,Dee,true,false\n"))
    assert (
        "c1_s1_attributeList_Person.csv, row 5 (nodeID 2): the node id “2” is used twice "
        "(first at c1_s1_attributeList_Person.csv, row 3 (nodeID 2))." in page
    )


def test_it_refuses_duplicate_network_canvas_uuids(world: World) -> None:
    page = refused(world, attribute_list=nodes_file(GOOD_NODES + "4,e,u1,Dee,true,false\n"))
    assert "row 5 (nodeID 4): the networkCanvasUUID “u1” is used twice" in page


def test_it_refuses_text_that_is_not_utf8(world: World) -> None:
    latin1 = (NODES_HEADER + "\n1,e,u1,Zoë,true,false\n").encode("latin-1")
    page = refused(world, attribute_list=nodes_file(latin1))
    assert "c1_s1_attributeList_Person.csv is not UTF-8 text" in page
    assert "Please export it again as UTF-8." in page


def test_it_accepts_a_byte_order_mark(world: World) -> None:
    http = signed_in(world.clinician)
    response = http.post(
        reverse("network_import", kwargs={"client_id": world.client_a.pk}),
        {"attribute_list": nodes_file(b"\xef\xbb\xbf" + GOOD_NODES.encode())},
    )
    assert response.status_code == 302


def test_it_refuses_a_zip_without_an_attribute_list(world: World) -> None:
    page = refused(world, archive=make_zip({"c1_s1_ego.csv": f"{EGO}\ne\n".encode()}))
    assert "The ZIP has no attributeList file" in page


def test_it_refuses_a_zip_with_an_unsafe_path(world: World) -> None:
    page = refused(
        world, archive=make_zip({"../c1_s1_attributeList_Person.csv": GOOD_NODES.encode()})
    )
    assert "unsafe path (../c1_s1_attributeList_Person.csv)" in page


def test_it_refuses_a_zip_that_unpacks_to_too_much(world: World) -> None:
    bomb = make_zip({"c1_s1_attributeList_Person.csv": b"0" * (21 * 1024 * 1024)})
    assert (bomb.size or 0) < 1024 * 1024
    page = refused(world, archive=bomb)
    assert "The ZIP unpacks to more than 20 MB, so Kithkin did not open it." in page


def test_it_refuses_a_zip_with_two_interviews(world: World) -> None:
    page = refused(
        world,
        archive=make_zip(
            {
                "c1_s1_attributeList_Person.csv": GOOD_NODES.encode(),
                "c2_s2_attributeList_Person.csv": GOOD_NODES.encode(),
            }
        ),
    )
    assert "The ZIP holds 2 interviews. Please export and import one interview at a time." in page


def test_it_refuses_a_file_that_is_not_a_zip(world: World) -> None:
    page = refused(world, archive=SimpleUploadedFile("export.zip", b"PK\x03\x04 broken"))
    assert "The file is not a ZIP archive Kithkin can open." in page


def test_it_names_the_line_and_column_of_broken_xml(world: World) -> None:
    broken = (
        b'<?xml version="1.0"?>\n<graphml>\n  <graph>\n    <node id="a">\n  </graph>\n</graphml>\n'
    )
    page = refused(world, archive=SimpleUploadedFile("map.graphml", broken))
    assert "map.graphml is not well-formed XML: the problem is at line 5, column" in page


def test_it_refuses_xml_entities(world: World) -> None:
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n<graphml><graph/></graphml>'
    )
    page = refused(world, archive=SimpleUploadedFile("map.graphml", laughs))
    assert "map.graphml declares a DTD or entities" in page


def test_it_names_the_graphml_edge_with_an_unknown_node(world: World) -> None:
    xml = (
        b'<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><graph>'
        b'<node id="a"/><node id="b"/><edge id="e1" source="a" target="b"/>'
        b'<edge id="e2" source="a" target="zz"/></graph></graphml>'
    )
    page = refused(world, archive=SimpleUploadedFile("map.graphml", xml))
    assert "map.graphml, edge 2 (id “e2”): “to” refers to node “zz”" in page


def test_it_refuses_an_upload_over_its_own_limit(world: World) -> None:
    big = SimpleUploadedFile("big.csv", b"x" * (5 * 1024 * 1024 + 1))
    page = refused(world, attribute_list=big)
    assert "big.csv is larger than 5 MB, so nothing was imported." in page


def test_it_refuses_a_huge_request_before_reading_it(world: World) -> None:
    http = signed_in(world.clinician)
    response = http.post(
        reverse("network_import", kwargs={"client_id": world.client_a.pk}),
        data=b"x",
        content_type="application/octet-stream",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "That was too large" in response.content.decode()
    nothing_imported(world.client_a)


def test_it_refuses_a_csv_without_the_attribute_list(world: World) -> None:
    page = refused(world, edge_list=edges_file(EDGES_HEADER + "\n"))
    assert "The attributeList CSV lists the people" in page


def mapped(world: World, nodes: str) -> Any:
    """Upload a good-looking file, then confirm the guessed mapping."""
    http = signed_in(world.clinician)
    response = http.post(
        reverse("network_import", kwargs={"client_id": world.client_a.pk}),
        {"attribute_list": nodes_file(nodes)},
    )
    assert response.status_code == 302
    page = http.get(response["Location"])
    form = page.context["form"]
    data = {
        name: "" if form[name].value() is None else str(form[name].value()) for name in form.fields
    }
    return http.post(response["Location"], {**data, "confirm": "1"})


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            "1,e,u1,Ann,0.5,0.5\n2,e,u2,Bo,0.2,1.7\n",
            "c1_s1_attributeList_Person.csv, row 3 (nodeID 2): "
            "the position “layout” is outside 0 to 1",
        ),
        (
            "1,e,u1,Ann,0.5,0.5\n2,e,u2,,0.2,0.2\n",
            "c1_s1_attributeList_Person.csv, row 3 (nodeID 2): the name is empty.",
        ),
    ],
)
def test_it_names_the_row_whose_values_cannot_be_imported(
    world: World, rows: str, message: str
) -> None:
    response = mapped(
        world, "nodeID,networkCanvasEgoUUID,networkCanvasUUID,name,layout_x,layout_y\n" + rows
    )
    assert response.status_code == 200
    assert message in html.unescape(response.content.decode())
    nothing_imported(world.client_a)


def test_it_names_a_rhythm_that_is_not_a_number_of_days(world: World) -> None:
    nodes = (
        "nodeID,networkCanvasEgoUUID,networkCanvasUUID,name,rhythm\n1,e,u1,Ann,7\n2,e,u2,Bo,2.5\n"
    )
    response = mapped(world, nodes)
    assert response.status_code == 200
    assert (
        "row 3 (nodeID 2): “rhythm” should be a whole number of days from 1 to 3650."
        in html.unescape(response.content.decode())
    )
    nothing_imported(world.client_a)


@pytest.mark.parametrize("who", ["colleague", "admin", "member", "client_b_user", "stranger"])
def test_it_refuses_strangers_before_reading_the_file(world: World, who: str) -> None:
    http = signed_in(getattr(world, who))
    response = http.post(
        reverse("network_import", kwargs={"client_id": world.client_a.pk}),
        {"attribute_list": nodes_file(GOOD_NODES)},
    )
    assert response.status_code == 404
    nothing_imported(world.client_a)
