"""The FHIR R4 part of a client's export: a ``collection`` Bundle with the client as a Patient,
the people on their support map as RelatedPerson resources, and every submitted check-in as a
QuestionnaireResponse (built by :mod:`kithkin.measures.fhir_response`). Validated with the
``fhir.resources`` R4B models before it is written."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.relatedperson import RelatedPerson

from kithkin.accounts.models import Client
from kithkin.measures import fhir_response, scoring
from kithkin.measures import services as measures
from kithkin.measures.models import Response
from kithkin.network.models import Category, Person

logger = logging.getLogger(__name__)

CHUNK_SIZE = 500


def patient_for(client: Client) -> dict[str, Any]:
    name: dict[str, Any] = {"text": client.display_name}
    if client.preferred_name:
        name["given"] = [client.preferred_name]
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(client.pk),
        "active": client.discharged_at is None,
        "name": [name],
        "managingOrganization": {"display": client.practice.name},
    }
    if client.birth_year:
        resource["birthDate"] = f"{client.birth_year:04d}"
    Patient.model_validate(resource)
    return resource


def related_person_for(
    client: Client, person: Person, categories: dict[str, str]
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "id": str(person.pk),
        "active": person.removed_at is None,
        "patient": {"reference": f"Patient/{client.pk}"},
        "relationship": [{"text": categories.get(person.category, person.category)}],
    }
    if person.name:
        resource["name"] = [{"text": person.name}]
    RelatedPerson.model_validate(resource)
    return resource


def _response_resource(client: Client, response: Response) -> dict[str, Any] | None:
    chosen = measures.instrument_or_none(response.instrument_id)
    if chosen is None or response.submitted_at is None:
        return None
    try:
        return fhir_response.questionnaire_response_for(
            chosen,
            measures.answers_of(response),
            response_id=str(response.pk),
            subject_reference=f"Patient/{client.pk}",
            authored=response.submitted_at,
            total=response.total,
        )
    except (scoring.AnswerError, ValueError):
        # The JSON and CSV files still hold this response's answers as stored.
        logger.warning("response %s does not fit its definition; left out of FHIR", response.pk)
        return None


def bundle_for(client: Client, now: datetime) -> dict[str, Any]:
    categories = {key: str(label) for key, label in Category.choices}
    entries: list[dict[str, Any]] = [
        {"fullUrl": f"urn:uuid:{client.pk}", "resource": patient_for(client)}
    ]
    for person in (
        Person.objects.filter(client=client)
        .order_by("created_at", "pk")
        .iterator(chunk_size=CHUNK_SIZE)
    ):
        entries.append(
            {
                "fullUrl": f"urn:uuid:{person.pk}",
                "resource": related_person_for(client, person, categories),
            }
        )
    for response in (
        Response.objects.submitted()
        .filter(client=client)
        .order_by("submitted_at", "pk")
        .iterator(chunk_size=CHUNK_SIZE)
    ):
        resource = _response_resource(client, response)
        if resource is not None:
            entries.append({"fullUrl": f"urn:uuid:{response.pk}", "resource": resource})
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": now.astimezone(UTC).isoformat(),
        "entry": entries,
    }
    Bundle.model_validate(bundle)
    return bundle
