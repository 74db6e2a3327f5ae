"""Importing a client's earlier responses from FHIR QuestionnaireResponses (see fhir_response).

The file is checked as a whole before this runs; here every response is written, scored and
checked for risk in one transaction, so an import is all or nothing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from kithkin.accounts.models import Client, User
from kithkin.audit import services as audit
from kithkin.measures import scoring, services
from kithkin.measures.fhir_response import ImportedResponse
from kithkin.measures.models import Mode, Response, ResponseStatus

BATCH_SIZE = 500


def _answered(answers: dict[str, float | None]) -> dict[str, float]:
    return {item_id: value for item_id, value in answers.items() if value is not None}


def import_responses(
    request: HttpRequest, client: Client, parsed: Sequence[ImportedResponse]
) -> list[Response]:
    """Write the parsed responses as submitted, imported responses of ``client``, score them
    and raise their risk alerts. A response already here (same instrument, time and answers, as
    when a file exported from Kithkin is imported again) is skipped. Returns those created."""
    user = request.user if isinstance(request.user, User) else None
    now = timezone.now()
    with transaction.atomic():
        seen: dict[tuple[str, datetime], list[dict[str, Any]]] = defaultdict(list)
        if parsed:
            earliest = min(p.authored for p in parsed)
            latest = max(p.authored for p in parsed)
            for instrument_id, submitted_at, answers in (
                Response.objects.submitted()
                .filter(client=client, submitted_at__gte=earliest, submitted_at__lte=latest)
                .values_list("instrument_id", "submitted_at", "answers")
            ):
                if submitted_at is not None:
                    seen[(instrument_id, submitted_at)].append(answers)
        created: list[Response] = []
        for entry in parsed:
            answers = _answered(entry.answers)
            key = (entry.instrument.id, entry.authored)
            if answers in seen[key]:
                continue
            seen[key].append(answers)
            response = Response(
                client=client,
                instrument_id=entry.instrument.id,
                definition_version=entry.instrument.version,
                status=ResponseStatus.SUBMITTED,
                mode=Mode.IMPORTED,
                answers=answers,
                entered_by=user,
                started_at=entry.authored,
                updated_at=now,
                submitted_at=entry.authored,
            )
            services.apply_score(response, entry.instrument)
            created.append(response)
        Response.objects.bulk_create(created, batch_size=BATCH_SIZE)
        alerts = 0
        library = services.installed_library()
        for response in created:
            chosen = library.get(response.instrument_id)
            if scoring.evaluate_risks(chosen, response.answers):
                alerts += len(services.raise_alerts(request, response, chosen))
        audit.record(
            request,
            action="measures.response.import",
            object_type="client",
            object_id=client.pk,
            client=client,
            detail={
                "responses": len(created),
                "skipped": len(parsed) - len(created),
                "alerts": alerts,
            },
        )
    return created


def responses_with_alerts(responses: Sequence[Response]) -> int:
    """How many of these responses fire a risk rule (each one raised an alert on import)."""
    library = services.installed_library()
    return sum(
        1
        for r in responses
        if r.instrument_id in library
        and scoring.evaluate_risks(library.get(r.instrument_id), r.answers)
    )
