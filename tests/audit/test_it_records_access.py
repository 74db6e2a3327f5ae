"""Sign-ins, sign-outs, failed sign-ins, refusals and reads of client data each leave a record of
who, what, which object, when (UTC), from where, and the outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.access import Purpose, get_client
from kithkin.accounts.models import User
from kithkin.audit.models import AuditEvent, Outcome
from tests.conftest import World, signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

WHERE = "203.0.113.9"  # TEST-NET-3: a documentation address


def newest(**filters: object) -> AuditEvent:
    event = AuditEvent.objects.filter(**filters).order_by("-id").first()
    assert event is not None, f"no audit event matching {filters}"
    return event


def assert_recent_utc(event: AuditEvent) -> None:
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert timezone.now() - event.occurred_at < timedelta(minutes=1)
    assert event.payload()["occurred_at"].endswith("+00:00")


def sign_in(email: str, password: str) -> HttpClient:
    http = HttpClient(REMOTE_ADDR=WHERE)
    http.post(reverse("login"), {"username": email, "password": password})
    return http


def test_it_records_a_sign_in(world: World) -> None:
    before = AuditEvent.objects.count()
    http = sign_in(world.clinician.email, PASSWORD)
    assert "_auth_user_id" in http.session
    event = newest(action="login")
    assert AuditEvent.objects.count() > before
    assert event.actor_id == world.clinician.pk
    assert event.actor_role == "clinician"
    assert (event.object_type, event.object_id) == ("user", str(world.clinician.pk))
    assert event.outcome == Outcome.SUCCESS
    assert event.ip_address == WHERE
    assert_recent_utc(event)


def test_it_records_a_sign_out(world: World) -> None:
    http = sign_in(world.client_a_user.email, PASSWORD)
    http.post(reverse("logout"))
    assert "_auth_user_id" not in http.session
    event = newest(action="logout")
    assert event.actor_id == world.client_a_user.pk
    assert event.actor_role == "client"
    assert event.outcome == Outcome.SUCCESS
    assert event.ip_address == WHERE
    assert_recent_utc(event)


@pytest.mark.parametrize("known", [True, False], ids=["wrong password", "unknown email"])
def test_it_records_a_failed_sign_in_without_the_address(world: World, known: bool) -> None:
    email = world.clinician.email if known else "nobody-here@example.test"
    http = sign_in(email, "not the password at all")
    assert "_auth_user_id" not in http.session
    event = newest(action="login", outcome=Outcome.FAILED)
    assert event.actor_id is None
    assert event.ip_address == WHERE
    assert_recent_utc(event)
    stored = " ".join(str(v) for v in AuditEvent.objects.values_list())
    assert email not in stored
    assert email.split("@")[0] not in stored
    # A pseudonym links repeated attempts at one address without storing it.
    pseudonym = event.detail["attempted"]
    assert pseudonym
    sign_in(email.upper(), "another wrong one")
    assert newest(action="login", outcome=Outcome.FAILED).detail["attempted"] == pseudonym
    sign_in("someone-else@example.test", "wrong")
    assert newest(action="login", outcome=Outcome.FAILED).detail["attempted"] != pseudonym


def test_it_records_an_anonymous_visitor_sent_to_sign_in(world: World) -> None:
    url = reverse("client_overview", kwargs={"client_id": world.client_a.pk})
    response = HttpClient(REMOTE_ADDR=WHERE).get(url)
    assert response.status_code == 302
    event = newest(action="login.required")
    assert event.actor_id is None
    assert event.actor_role == "anonymous"
    assert event.outcome == Outcome.DENIED
    assert event.ip_address == WHERE
    assert event.object_id == "client_overview"  # the view's name, never the path with its id
    assert str(world.client_a.pk) not in " ".join(str(v) for v in event.payload().values())
    assert_recent_utc(event)


def test_it_records_a_refusal_by_the_access_helper(world: World) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=WHERE)
    request.user = world.stranger
    with pytest.raises(Http404):
        get_client(request, world.client_a.pk, Purpose.CARE, Purpose.MANAGE)
    event = newest(outcome=Outcome.DENIED)
    assert event.actor_id == world.stranger.pk
    assert event.actor_role == "clinician"
    assert (event.action, event.object_type) == ("client.view", "client")
    assert event.object_id == str(world.client_a.pk)
    assert event.ip_address == WHERE
    assert_recent_utc(event)


def test_it_records_a_refusal_over_http(world: World) -> None:
    url = reverse("client_overview", kwargs={"client_id": world.client_a.pk})
    http = signed_in(world.colleague)
    http.defaults["REMOTE_ADDR"] = WHERE
    assert http.get(url).status_code == 404
    event = newest(outcome=Outcome.DENIED)
    assert event.actor_id == world.colleague.pk
    assert event.ip_address == WHERE


def test_it_records_a_read_of_a_client(world: World) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=WHERE)
    request.user = world.clinician
    client = get_client(request, world.client_a.pk, Purpose.CARE, action="client.view")
    assert client == world.client_a
    event = newest(action="client.view", outcome=Outcome.SUCCESS)
    assert event.actor_id == world.clinician.pk
    assert event.client_id == str(world.client_a.pk)
    assert event.practice_id == world.practice.pk
    assert (event.object_type, event.object_id) == ("client", str(world.client_a.pk))
    assert event.ip_address == WHERE
    assert_recent_utc(event)


def test_it_records_a_read_of_a_client_page(world: World) -> None:
    url = reverse("client_overview", kwargs={"client_id": world.client_a.pk})
    before = set(AuditEvent.objects.for_client(world.client_a.pk).values_list("id", flat=True))
    assert signed_in(world.clinician).get(url).status_code == 200
    new = AuditEvent.objects.for_client(world.client_a.pk).exclude(id__in=before)
    assert new.filter(actor_id=world.clinician.pk, outcome=Outcome.SUCCESS).exists()


def test_it_refuses_and_records_an_anonymous_lookup(world: World) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR=WHERE)
    request.user = AnonymousUser()
    with pytest.raises(Http404):
        get_client(request, world.client_a.pk, *Purpose)
    event = newest(outcome=Outcome.DENIED)
    assert event.actor_id is None
    assert event.ip_address == WHERE


def test_it_records_times_in_utc_whatever_the_user_zone(world: World) -> None:
    User.objects.filter(pk=world.clinician.pk).update(time_zone="Pacific/Auckland")
    sign_in(world.clinician.email, PASSWORD)
    event = AuditEvent.objects.get(pk=newest(action="login").pk)  # fresh from the database
    assert event.occurred_at.tzinfo is not None
    assert abs(event.occurred_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert event.payload()["occurred_at"].endswith("+00:00")
