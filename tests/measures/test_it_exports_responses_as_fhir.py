"""The care team downloads one submitted response as a FHIR QuestionnaireResponse, or all of a
client's responses as a Bundle; both validate, both are audited, and strangers get nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from kithkin.audit.models import AuditEvent, Outcome
from kithkin.measures.models import Response
from tests import factories
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def _response_url(response: Response) -> str:
    return reverse(
        "measures_response_fhir",
        kwargs={"client_id": response.client_id, "response_id": response.pk},
    )


def _export_url(world: World) -> str:
    return reverse("measures_export_fhir", kwargs={"client_id": world.client_a.pk})


def test_it_exports_one_response_as_a_valid_questionnaire_response(world: World) -> None:
    saved = factories.submitted_response(
        world.client_a, "phq9", {**factories.all_answers("phq9", 1), "9": 2}
    )
    response = signed_in(world.clinician).get(_response_url(saved))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="phq9-response-{saved.pk}.json"'
    )
    resource = json.loads(response.content)
    QuestionnaireResponse.model_validate(resource)
    assert resource["id"] == str(saved.pk)
    assert resource["status"] == "completed"
    assert resource["subject"] == {"reference": f"Patient/{world.client_a.pk}"}
    answers = {item["linkId"]: item["answer"][0] for item in resource["item"]}
    assert answers["9"]["valueCoding"]["code"] == "2"
    assert answers["total"] == {"valueDecimal": 10}
    # Nothing that names the client leaves in the file.
    assert "Alex" not in response.content.decode()
    assert AuditEvent.objects.filter(
        action="measures.response.export", object_id=str(saved.pk), outcome=Outcome.SUCCESS
    ).exists()


def test_it_does_not_export_a_response_still_in_progress(world: World) -> None:
    started = Response.objects.create(
        client=world.client_a, instrument_id="phq9", definition_version="1", answers={"1": 1}
    )
    assert signed_in(world.clinician).get(_response_url(started)).status_code == 404


def test_it_exports_every_submitted_response_as_a_valid_bundle(world: World) -> None:
    now = timezone.now()
    first = factories.submitted_response(
        world.client_a, "phq9", factories.all_answers("phq9", 2), when=now - timedelta(days=14)
    )
    second = factories.submitted_response(
        world.client_a, "gad7", factories.all_answers("gad7", 1), when=now - timedelta(days=7)
    )
    Response.objects.create(
        client=world.client_a, instrument_id="phq9", definition_version="1", answers={"1": 1}
    )
    factories.submitted_response(world.client_b, "phq9")
    response = signed_in(world.clinician).get(_export_url(world))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"] == (
        f'attachment; filename="measures-{world.client_a.pk}.json"'
    )
    bundle = json.loads(response.content)
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    ids = [entry["resource"]["id"] for entry in bundle["entry"]]
    assert ids == [str(first.pk), str(second.pk)]
    for entry in bundle["entry"]:
        QuestionnaireResponse.model_validate(entry["resource"])
        assert entry["resource"]["subject"]["reference"] == f"Patient/{world.client_a.pk}"
    assert AuditEvent.objects.filter(
        action="measures.export", client_id=str(world.client_a.pk), detail={"responses": 2}
    ).exists()


def test_it_exports_an_empty_bundle_for_a_client_without_responses(world: World) -> None:
    bundle = json.loads(signed_in(world.clinician).get(_export_url(world)).content)
    Bundle.model_validate(bundle)
    assert "entry" not in bundle


@pytest.mark.parametrize("who", ["colleague", "admin", "stranger", "client_a_user", "member"])
def test_it_refuses_everyone_outside_the_care_team(world: World, who: str) -> None:
    saved = factories.submitted_response(world.client_a, "phq9")
    user = getattr(world, who)
    http = signed_in(user)
    for url in (_response_url(saved), _export_url(world)):
        response = http.get(url)
        assert response.status_code == 404
        assert str(saved.pk) not in response.content.decode()
    assert AuditEvent.objects.filter(actor_id=user.pk, outcome=Outcome.DENIED).count() == 2


def test_it_refuses_a_response_through_another_clients_address(world: World) -> None:
    saved = factories.submitted_response(world.client_b, "phq9")
    url = reverse(
        "measures_response_fhir",
        kwargs={"client_id": world.client_a.pk, "response_id": saved.pk},
    )
    assert signed_in(world.clinician).get(url).status_code == 404
