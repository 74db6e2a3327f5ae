"""Everyone has an inbox: newest first, a page at a time, unread ones marked. Opening one marks
it read and goes where it points; "mark all as read" clears the lot. Nobody can open or mark
another person's notification, and the page costs the same queries however full it is."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from kithkin.accounts.models import User
from kithkin.audit.models import AuditEvent, Outcome
from kithkin.notifications import services
from kithkin.notifications.models import Notification
from kithkin.notifications.views import PER_PAGE
from tests.conftest import World, signed_in
from tests.notifications.notification_data import many, note

pytestmark = pytest.mark.django_db

INBOX = "/notifications/"


def _open(notification: Notification) -> str:
    return f"/notifications/{notification.pk}/open/"


@pytest.mark.parametrize("who", ["admin", "clinician", "client_a_user", "member"])
def test_every_role_has_an_inbox(world: World, who: str) -> None:
    user: User = getattr(world, who)
    note(user, "Something for you", body="A line\n\nAnother line")
    page = signed_in(user).get(INBOX).content.decode()
    assert "Something for you" in page
    assert "<p>Another line</p>" in page


def test_it_shows_newest_first_a_page_at_a_time_with_unread_marked(world: World) -> None:
    user = world.client_a_user
    made = many(user, PER_PAGE + 3)
    services.mark_read(user, made[-1].pk)  # the newest has been read
    http = signed_in(user)

    first = http.get(INBOX).content.decode()
    newest, second = f"Update {PER_PAGE + 2}<", f"Update {PER_PAGE + 1}<"
    assert first.index(newest) < first.index(second)
    assert "Page 1 of 2" in first
    assert first.count('class="card notification notification--unread"') == PER_PAGE - 1
    assert first.count('class="card notification"') == 1
    last = http.get(INBOX + "?page=2").content.decode()
    assert "Update 0<" in last and newest not in last


def test_opening_one_marks_it_read_and_goes_where_it_points(world: World) -> None:
    notification = note(world.clinician, url=f"/clients/{world.client_a.pk}/care/")
    other = note(world.clinician)
    response = signed_in(world.clinician).post(_open(notification))
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{world.client_a.pk}/care/"
    assert Notification.objects.get(pk=notification.pk).read_at is not None
    assert Notification.objects.get(pk=other.pk).read_at is None


def test_one_without_a_link_goes_back_to_the_same_inbox_page(world: World) -> None:
    notification = note(world.member)
    response = signed_in(world.member).post(_open(notification), {"page": "3"})
    assert response["Location"] == "/notifications/?page=3"
    assert Notification.objects.get(pk=notification.pk).is_read


def test_opening_is_a_post_never_a_link_a_scanner_could_follow(world: World) -> None:
    notification = note(world.clinician)
    assert signed_in(world.clinician).get(_open(notification)).status_code == 405
    assert Notification.objects.get(pk=notification.pk).read_at is None


def test_mark_all_as_read_marks_only_your_own(world: World) -> None:
    many(world.clinician, 3)
    theirs = note(world.colleague)
    response = signed_in(world.clinician).post("/notifications/read-all/")
    assert response.status_code == 302
    assert services.unread_count(world.clinician) == 0
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_a_stranger_cannot_read_or_mark_anyone_elses_notification(world: World) -> None:
    notification = note(world.client_a_user, "Your session with Mel is tomorrow")
    for who in (world.stranger, world.clinician, world.member):
        http = signed_in(who)
        assert "Your session with Mel" not in http.get(INBOX).content.decode()
        assert http.post(_open(notification)).status_code == 404
        http.post("/notifications/read-all/")
    assert Notification.objects.get(pk=notification.pk).read_at is None
    denied = AuditEvent.objects.filter(action="notifications.open", outcome=Outcome.DENIED)
    assert denied.count() == 3
    assert {e.actor_id for e in denied} == {world.stranger.pk, world.clinician.pk, world.member.pk}


def test_signing_in_is_required(world: World) -> None:
    notification = note(world.client_a_user)
    for response in (HttpClient().get(INBOX), HttpClient().post(_open(notification))):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert Notification.objects.get(pk=notification.pk).read_at is None


def test_it_says_so_when_there_is_nothing(world: World) -> None:
    page = signed_in(world.member).get(INBOX).content.decode()
    assert "Nothing here yet" in page
    assert "Mark all as read" not in page


def _queries(http: HttpClient, url: str) -> int:
    http.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


def test_it_runs_the_same_queries_at_two_sizes(world: World) -> None:
    user = world.client_a_user
    http = signed_in(user)
    many(user, 2)
    small = _queries(http, INBOX)
    many(user, PER_PAGE * 3, start=2)
    assert _queries(http, INBOX) == small
    assert _queries(http, INBOX + "?page=2") == small
