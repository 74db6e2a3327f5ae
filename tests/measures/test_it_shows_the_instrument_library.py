"""Staff see every instrument in the library, with where its numbers come from, and download
each as a FHIR Questionnaire. Nobody else does."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils.html import escape
from fhir.resources.R4B.questionnaire import Questionnaire

from kithkin.accounts.models import Role
from kithkin.measures import services
from tests import factories
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

LIBRARY = reverse("measures_library")


def _questionnaire_url(instrument_id: str) -> str:
    return reverse("measures_questionnaire_fhir", kwargs={"instrument_id": instrument_id})


def test_it_describes_every_instrument(world: World) -> None:
    response = signed_in(world.clinician).get(LIBRARY)
    assert response.status_code == 200
    body = response.content.decode()
    for instrument in services.installed_library():
        assert escape(instrument.title) in body
        assert _questionnaire_url(instrument.id) in body
    phq9 = services.instrument("phq9")
    assert escape(phq9.licence.citation) in body
    assert "Sum of the answers" in body
    assert "range 0 to 27" in body
    assert "Moderately severe" in body
    assert "The wording ships with Kithkin." in body
    # An instrument without its text says so, and why it cannot be assigned.
    assert "The wording does not ship with Kithkin (licence)." in body
    assert "SSPS ships without its questions" in body
    # GAD-7 records reliable change, so its threshold is shown.
    assert "points is reliable" in body


@pytest.mark.parametrize("instrument_id", ["phq9", "ssps", "five_s", "k10"])
def test_it_downloads_a_valid_questionnaire(world: World, instrument_id: str) -> None:
    response = signed_in(world.admin).get(_questionnaire_url(instrument_id))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{instrument_id}-questionnaire.json"'
    )
    resource = json.loads(response.content)
    Questionnaire.model_validate(resource)
    instrument = services.instrument(instrument_id)
    assert resource["version"] == instrument.version
    linked = [item["linkId"] for item in resource["item"]]
    assert linked[: len(instrument.items)] == [item.id for item in instrument.items]


def test_it_does_not_know_an_unknown_instrument(world: World) -> None:
    assert signed_in(world.clinician).get(_questionnaire_url("nope")).status_code == 404


def test_it_refuses_other_methods(world: World) -> None:
    http = signed_in(world.clinician)
    assert http.post(LIBRARY).status_code == 405
    assert http.post(_questionnaire_url("phq9")).status_code == 405


@pytest.mark.parametrize("who", ["client_a_user", "member"])
def test_it_refuses_anyone_who_is_not_staff(world: World, who: str) -> None:
    http = signed_in(getattr(world, who))
    assert http.get(LIBRARY).status_code == 403
    assert http.get(_questionnaire_url("phq9")).status_code == 403
    assert http.post(_questionnaire_url("phq9")).status_code == 403


def test_it_refuses_anonymous_visitors(world: World) -> None:
    for url in (LIBRARY, _questionnaire_url("phq9")):
        response = HttpClient().get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_it_shows_a_stranger_practice_only_the_library_which_holds_no_client_data(
    world: World,
) -> None:
    stranger_admin = factories.staff(world.other_practice, Role.ADMIN)
    body = signed_in(stranger_admin).get(LIBRARY).content.decode()
    assert "Alex Rivers" not in body
    assert "Patient Health Questionnaire-9" in body
