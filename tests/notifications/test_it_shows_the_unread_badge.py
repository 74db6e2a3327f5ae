"""The site header shows every signed-in person how many of their own notifications are unread
("Inbox (3)"), at the cost of one query, and nothing to visitors who are not signed in."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from kithkin.notifications import services
from kithkin.notifications.models import Notification
from tests.conftest import World, signed_in
from tests.notifications.notification_data import many, note

pytestmark = pytest.mark.django_db

BADGE = ' aria-label="Inbox ({count} unread)">Inbox ({count})</a>'


def test_it_counts_your_own_unread_notifications(world: World) -> None:
    made = many(world.clinician, 3)
    many(world.colleague, 5)  # someone else's never count
    http = signed_in(world.clinician)
    assert BADGE.format(count=3) in http.get("/settings/").content.decode()

    services.mark_read(world.clinician, made[0].pk)
    assert BADGE.format(count=2) in http.get("/settings/").content.decode()

    services.mark_all_read(world.clinician)
    page = http.get("/settings/").content.decode()
    assert ">Inbox</a>" in page and "unread" not in page


@pytest.mark.parametrize("who", ["admin", "client_a_user", "member", "stranger"])
def test_every_role_sees_the_inbox_link(world: World, who: str) -> None:
    note(getattr(world, who))
    page = signed_in(getattr(world, who)).get("/").content.decode()
    assert '<a href="/notifications/"' in page
    assert BADGE.format(count=1) in page


def test_the_count_costs_one_query(world: World) -> None:
    many(world.client_a_user, 4)
    http = signed_in(world.client_a_user)
    http.get("/settings/")
    with CaptureQueriesContext(connection) as queries:
        http.get("/settings/")
    table = Notification._meta.db_table
    counting = [q["sql"] for q in queries if table in q["sql"]]
    assert len(counting) == 1
    assert "COUNT(" in counting[0].upper()


def test_visitors_who_are_not_signed_in_see_no_inbox(world: World) -> None:
    page = HttpClient().get("/accounts/login/").content.decode()
    assert "/notifications/" not in page
