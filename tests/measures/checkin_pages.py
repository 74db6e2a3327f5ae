"""Helpers for the tests of the client-facing measures pages (check-ins, overview, support)."""

from __future__ import annotations

from typing import Any

from django.test import Client as HttpClient
from django.urls import reverse

from kithkin.accounts.models import Client
from kithkin.measures.models import Assignment, Response


def overview_url(client: Client) -> str:
    return reverse("measures_overview", kwargs={"client_id": client.pk})


def support_url(client: Client) -> str:
    return reverse("measures_support", kwargs={"client_id": client.pk})


def start_url(assignment: Assignment) -> str:
    return reverse(
        "measures_checkin_start",
        kwargs={"client_id": assignment.client_id, "assignment_id": assignment.pk},
    )


def step_url(response: Response, step: int) -> str:
    return reverse(
        "measures_response_step",
        kwargs={"client_id": response.client_id, "response_id": response.pk, "step": step},
    )


def response_url(response: Response, name: str = "measures_response") -> str:
    return reverse(name, kwargs={"client_id": response.client_id, "response_id": response.pk})


def start(http: HttpClient, assignment: Assignment) -> tuple[Response, str]:
    """Start (or resume) a check-in; returns its response and where the page sent us."""
    page = http.post(start_url(assignment))
    assert page.status_code == 302, page.status_code
    return Response.objects.get(assignment=assignment, status="in_progress"), page["Location"]


def answer(http: HttpClient, response: Response, step: int, value: Any, **extra: Any) -> Any:
    data: dict[str, Any] = {"action": "next", "answer": value}
    data.update(extra)
    return http.post(step_url(response, step), data)
