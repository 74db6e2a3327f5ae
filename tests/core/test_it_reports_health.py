"""GET /healthz answers without login and reports the database's status."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient

from tests.conftest import World, signed_in


@pytest.mark.django_db
def test_it_reports_health_to_anyone_with_the_database_status() -> None:
    response = HttpClient().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": connection.vendor}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_it_refuses_anything_but_get_even_to_a_signed_in_stranger(world: World) -> None:
    assert signed_in(world.stranger).post("/healthz").status_code == 405
    assert HttpClient().post("/healthz").status_code == 405
