"""The care team imports a client's earlier responses from a FHIR file: all or nothing, scored
again, checked for risk, audited; every problem in a bad file is listed."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import User
from kithkin.audit.models import AuditEvent, Outcome
from kithkin.measures import fhir_response, services, staff_forms
from kithkin.measures.models import Mode, Response, ResponseStatus, RiskAlert
from tests import factories
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def _url(world: World) -> str:
    return reverse("measures_import_fhir", kwargs={"client_id": world.client_a.pk})


def _resource(instrument_id: str, answers: dict[str, float | None], days_ago: int) -> Any:
    return fhir_response.questionnaire_response_for(
        services.instrument(instrument_id),
        answers,
        response_id=f"elsewhere-{instrument_id}-{days_ago}",
        subject_reference="Patient/elsewhere-7",
        authored=(timezone.now() - timedelta(days=days_ago)).replace(microsecond=0),
    )


def _good_file() -> bytes:
    bundle = fhir_response.bundle_of(
        [
            _resource("phq9", {**factories.all_answers("phq9", 2), "9": 0}, 30),
            _resource("phq9", {**factories.all_answers("phq9", 1), "9": 1}, 16),
            _resource("gad7", factories.all_answers("gad7", 0), 2),
        ]
    )
    return json.dumps(bundle).encode()


def _upload(user: User, world: World, content: bytes, name: str = "responses.json") -> Any:
    upload = SimpleUploadedFile(name, content, content_type="application/json")
    return signed_in(user).post(_url(world), {"file": upload})


def test_it_shows_the_upload_form(world: World) -> None:
    response = signed_in(world.clinician).get(_url(world))
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in response.content.decode()


def test_it_imports_every_response_scored_with_its_alert(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(world.clinician, world, _good_file())
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "measures_overview", kwargs={"client_id": world.client_a.pk}
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Imported 3 responses; 1 raised a risk alert."
    ]
    imported = list(Response.objects.order_by("submitted_at"))
    assert [(r.instrument_id, r.total) for r in imported] == [
        ("phq9", 16),
        ("phq9", 9),
        ("gad7", 0),
    ]
    for saved in imported:
        assert (saved.client, saved.status, saved.mode) == (
            world.client_a,
            ResponseStatus.SUBMITTED,
            Mode.IMPORTED,
        )
        assert saved.submitted_at is not None and saved.submitted_at < timezone.now()
        assert saved.entered_by == world.clinician
    alert = RiskAlert.objects.get()
    assert (alert.response, alert.item_id, alert.value) == (imported[1], "9", 1)
    assert [m.to for m in mail.outbox] == [[world.clinician.email]]
    assert AuditEvent.objects.filter(
        action="measures.response.import",
        client_id=str(world.client_a.pk),
        detail={"responses": 3, "skipped": 0, "alerts": 1},
    ).exists()


def test_it_skips_responses_that_are_already_here(world: World) -> None:
    content = _good_file()
    _upload(world.clinician, world, content)
    response = _upload(world.clinician, world, content)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Imported 0 responses; 3 were already here and were skipped."
    ]
    assert Response.objects.count() == 3
    assert RiskAlert.objects.count() == 1


def test_it_lists_every_problem_and_imports_nothing(world: World) -> None:
    good = _resource("phq9", {**factories.all_answers("phq9", 1), "9": 3}, 3)
    bad_code = _resource("gad7", factories.all_answers("gad7", 1), 4)
    bad_code["item"][0]["answer"][0]["valueCoding"]["code"] = "9"
    no_date = _resource("gad7", factories.all_answers("gad7", 1), 5)
    del no_date["authored"]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": good}, {"resource": bad_code}, {"resource": no_date}],
    }
    response = _upload(world.clinician, world, json.dumps(bundle).encode())
    assert response.status_code == 200
    body = response.content.decode()
    assert "The file has 2 problems, so nothing was imported" in body
    assert "response 2, item &#x27;1&#x27;: code &#x27;9&#x27; is not one of" in body
    assert "response 3: authored date is missing" in body
    assert not Response.objects.exists()
    assert not RiskAlert.objects.exists()
    assert AuditEvent.objects.filter(
        action="measures.response.import", outcome=Outcome.FAILED, detail={"problems": 2}
    ).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "The file is not valid JSON"),
        (b'{"resourceType": "Patient"}', "The file holds a Patient"),
        (b"", "FHIR JSON file: The file is empty."),
    ],
)
def test_it_explains_a_file_it_cannot_read(world: World, content: bytes, message: str) -> None:
    response = _upload(world.clinician, world, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Response.objects.exists()


def test_it_asks_for_a_file(world: World) -> None:
    response = signed_in(world.clinician).post(_url(world), {})
    assert "FHIR JSON file: Choose a file to import." in response.content.decode()


def test_it_refuses_a_file_over_the_size_limit(world: World) -> None:
    content = _good_file()
    padded = content[:-1] + b" " * (staff_forms.MAX_IMPORT_BYTES - len(content) + 1) + b"}"
    response = _upload(world.clinician, world, padded)
    assert response.status_code == 200
    assert "The file is larger than 5 MB. Please split it" in response.content.decode()
    assert not Response.objects.exists()
    # Exactly at the limit is fine.
    assert _upload(world.clinician, world, padded[:-2] + b"}").status_code == 302


@pytest.mark.parametrize("who", ["colleague", "admin", "stranger", "client_a_user", "member"])
def test_it_refuses_everyone_outside_the_care_team(world: World, who: str) -> None:
    user = getattr(world, who)
    assert signed_in(user).get(_url(world)).status_code == 404
    assert _upload(user, world, _good_file()).status_code == 404
    assert not Response.objects.exists()
    assert not RiskAlert.objects.exists()
