"""A clinician entering a client's answers in session: one form, one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from django.db import transaction
from django.http import HttpRequest

from kithkin.accounts.models import Client, User
from kithkin.measures import services
from kithkin.measures.library import Instrument
from kithkin.measures.models import Mode, Response, RiskAlert


def enter_in_session(
    request: HttpRequest,
    client: Client,
    chosen: Instrument,
    answers: Mapping[str, float | None],
    *,
    people: Mapping[str, Sequence[UUID]] | None = None,
    note: str = "",
) -> tuple[Response, list[RiskAlert]]:
    """Create, answer and submit a response at once; returns it and every alert it raised.

    If the client has a check-in of this instrument in progress, the entry completes it: the
    clinician's answers replace the saved ones (``answers`` holds every item, None for blanks), so
    the response becomes an in-session one. Nothing is kept if any step fails."""
    with transaction.atomic():
        response = services.start_response(request, client, chosen.id, mode=Mode.IN_SESSION)
        user = request.user if isinstance(request.user, User) else None
        if response.mode != Mode.IN_SESSION or response.entered_by_id != (user and user.pk):
            Response.objects.filter(pk=response.pk).update(mode=Mode.IN_SESSION, entered_by=user)
            response.mode = Mode.IN_SESSION
        alerts = services.save_answers(
            request, response, answers, people=people, note=note.strip() or None
        )
        result = services.submit(request, response)
    return result.response, [*alerts, *result.alerts]
