"""Export one client's map and import it into another: the same people, categories, rings,
five S's, support kinds and ties come back, for both formats."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kithkin.accounts.models import Client
from kithkin.network.models import Person, Tie
from tests import factories
from tests.conftest import World, signed_in

COMPARED = [
    "name",
    "category",
    "ring",
    "helps_seen",
    "helps_safe",
    "helps_soothed",
    "helps_secure",
    "helps_stable",
    "gives_emotional",
    "gives_practical",
    "gives_informational",
    "gives_companionship",
    "gives_crisis",
    "strain",
    "not_safe",
    "wished_rhythm_days",
    "preferred_channel",
    "layout_x",
    "layout_y",
]


def form_defaults(response: Any) -> dict[str, str]:
    form = response.context["form"]
    data: dict[str, str] = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else str(value)
    return data


def described(client: Client) -> dict[str, tuple[object, ...]]:
    return {
        person.name: tuple(getattr(person, field) for field in COMPARED)
        for person in Person.objects.on_map().filter(client=client)
    }


def ties(client: Client) -> set[tuple[frozenset[str], int]]:
    return {
        (frozenset((tie.person_a.name, tie.person_b.name)), tie.strength)
        for tie in Tie.objects.filter(client=client).select_related("person_a", "person_b")
    }


@pytest.mark.parametrize(
    ("export_format", "filename"), [("csv", "map.zip"), ("graphml", "map.graphml")]
)
def test_it_round_trips_a_map_into_another_client(
    world: World, export_format: str, filename: str
) -> None:
    a = world.client_a
    sam = factories.person_of(
        a,
        "Sam",
        ring=1,
        category="peer_support",
        helps_safe=True,
        helps_seen=True,
        gives_crisis=True,
        gives_emotional=True,
        layout_x=0.125,
        layout_y=0.5,
        preferred_channel="in_person",
        wished_rhythm_days=7,
    )
    jo = factories.person_of(a, "Jo Ann", ring=2, category="family", strain=3, helps_stable=True)
    ex = factories.person_of(a, "+Ex", ring=3, category="partner", not_safe=True)
    lee = factories.person_of(a, "Lee", ring=2, category="work", gives_practical=True)
    factories.tie(sam, jo, strength=2)
    factories.tie(jo, ex)
    factories.tie(lee, sam)

    exported = signed_in(world.clinician).get(
        reverse("network_export_download", kwargs={"client_id": a.pk}), {"format": export_format}
    )
    assert exported.status_code == 200

    b = world.client_b
    http = signed_in(world.colleague)  # client B's care team
    response = http.post(
        reverse("network_import", kwargs={"client_id": b.pk}),
        {"archive": SimpleUploadedFile(filename, exported.content)},
    )
    assert response.status_code == 302
    page = http.get(response["Location"])
    done = http.post(response["Location"], {**form_defaults(page), "confirm": "1"})
    assert done.status_code == 302, done.context["form"].errors if done.context else done

    assert described(b) == described(a)
    assert ties(b) == ties(a)
    assert not Person.objects.filter(client=b, pk__in=[sam.pk, jo.pk, ex.pk, lee.pk]).exists()
    assert Person.objects.filter(client=a).count() == 4  # the source is untouched


def test_it_updates_rather_than_duplicates_when_its_own_export_comes_back(world: World) -> None:
    a = world.client_a
    sam = factories.person_of(a, "Sam", ring=1)
    jo = factories.person_of(a, "Jo", ring=2)
    factories.tie(sam, jo)
    http = signed_in(world.clinician)
    exported = http.get(
        reverse("network_export_download", kwargs={"client_id": a.pk}), {"format": "csv"}
    )
    Person.objects.filter(pk=sam.pk).update(ring=3)
    response = http.post(
        reverse("network_import", kwargs={"client_id": a.pk}),
        {"archive": SimpleUploadedFile("map.zip", exported.content)},
    )
    page = http.get(response["Location"])
    http.post(response["Location"], {**form_defaults(page), "confirm": "1"})
    assert Person.objects.filter(client=a).count() == 2
    sam.refresh_from_db()
    assert sam.ring == 1
    assert Tie.objects.filter(client=a).count() == 1


def test_it_refuses_a_stranger_the_round_trip(world: World) -> None:
    factories.person_of(world.client_a, "Sam")
    http = signed_in(world.stranger)
    url = reverse("network_export_download", kwargs={"client_id": world.client_a.pk})
    assert http.get(url, {"format": "csv"}).status_code == 404
    assert (
        http.post(
            reverse("network_import", kwargs={"client_id": world.client_a.pk}),
            {"archive": SimpleUploadedFile("map.zip", b"PK")},
        ).status_code
        == 404
    )
