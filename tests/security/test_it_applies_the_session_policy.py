"""Session policy: a new session id at sign-in; staff sessions end after 30 minutes idle and
12 hours in all; signing out, changing or resetting a password end the person's other sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from kithkin.accounts.models import User
from kithkin.audit.models import AuditEvent
from kithkin.security import sessions
from kithkin.security.models import UserSession
from tests.conftest import World, signed_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new long passphrase"


def _record(http: HttpClient) -> UserSession:
    key = http.cookies["kithkin_session"].value
    record = sessions.find(key)
    assert record is not None
    return record


def _age(http: HttpClient, *, idle: timedelta = timedelta(0), since_sign_in: timedelta) -> None:
    now = timezone.now()
    UserSession.objects.filter(pk=_record(http).pk).update(
        created_at=now - since_sign_in, last_seen_at=now - idle
    )


def _is_signed_in(http: HttpClient) -> bool:
    response = http.get(reverse("home"))
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    return False


def test_signing_in_gives_a_new_session_id_and_records_the_session(world: World) -> None:
    http = HttpClient(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
    before = http.session
    before["visited"] = True
    before.save()
    old_key = before.session_key
    assert old_key is not None

    response = http.post(
        reverse("login"), {"username": world.client_a_user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    new_key = http.cookies["kithkin_session"].value
    assert new_key != old_key
    assert not Session.objects.filter(session_key=old_key).exists()
    record = UserSession.objects.get(user=world.client_a_user)
    assert record.key_hash == sessions.key_hash(new_key)
    assert new_key not in record.key_hash
    assert record.user_agent == "Firefox / Linux"


@pytest.mark.parametrize("role", ["clinician", "admin"])
def test_a_staff_session_ends_after_thirty_idle_minutes(world: World, role: str) -> None:
    user: User = getattr(world, role)
    http = signed_in(user)
    _age(http, idle=timedelta(minutes=29), since_sign_in=timedelta(hours=1))
    assert _is_signed_in(http)

    _age(http, idle=timedelta(minutes=31), since_sign_in=timedelta(hours=1))
    assert not _is_signed_in(http)
    page = http.get(reverse("login")).content.decode()
    assert "You were signed out after 30 minutes without activity." in page
    event = AuditEvent.objects.get(action="session.expired")
    assert event.detail == {"reason": "idle"}
    assert event.object_id == str(user.pk)
    assert not UserSession.objects.filter(user=user).exists()


def test_a_staff_session_ends_twelve_hours_after_sign_in_even_when_active(world: World) -> None:
    http = signed_in(world.clinician)
    _age(http, idle=timedelta(minutes=1), since_sign_in=timedelta(hours=11, minutes=59))
    assert _is_signed_in(http)
    _age(http, idle=timedelta(minutes=1), since_sign_in=timedelta(hours=12, minutes=1))
    assert not _is_signed_in(http)
    assert (
        "You were signed out 12 hours after signing in"
        in http.get(reverse("login")).content.decode()
    )
    assert AuditEvent.objects.get(action="session.expired").detail == {"reason": "absolute"}


@override_settings(STAFF_IDLE_MINUTES=5, STAFF_SESSION_HOURS=2)
def test_the_staff_limits_follow_the_settings(world: World) -> None:
    idle = signed_in(world.clinician)
    _age(idle, idle=timedelta(minutes=6), since_sign_in=timedelta(minutes=10))
    assert not _is_signed_in(idle)
    long = signed_in(world.colleague)
    _age(long, idle=timedelta(minutes=1), since_sign_in=timedelta(hours=2, minutes=1))
    assert not _is_signed_in(long)


def test_client_and_member_sessions_have_no_staff_idle_limit(world: World) -> None:
    for user in (world.client_a_user, world.member):
        http = signed_in(user)
        _age(http, idle=timedelta(hours=3), since_sign_in=timedelta(hours=4))
        assert _is_signed_in(http)
    # They keep the cookie that ends with the browser and lasts at most 12 hours.
    http = signed_in(world.client_a_user)
    http.get(reverse("home"))
    assert http.session.get_expire_at_browser_close()
    assert http.session.get_expiry_age() == 12 * 60 * 60


def test_last_seen_is_written_at_most_once_a_minute(world: World) -> None:
    http = signed_in(world.clinician)
    now = timezone.now()
    thirty_seconds_ago = now - timedelta(seconds=30)
    UserSession.objects.filter(user=world.clinician).update(last_seen_at=thirty_seconds_ago)
    http.get(reverse("home"))
    assert _record(http).last_seen_at == thirty_seconds_ago
    two_minutes_ago = now - timedelta(minutes=2)
    UserSession.objects.filter(user=world.clinician).update(last_seen_at=two_minutes_ago)
    http.get(reverse("home"))
    assert _record(http).last_seen_at > two_minutes_ago


def test_signing_out_ends_every_session_of_that_person_only(world: World) -> None:
    phone, laptop = signed_in(world.client_a_user), signed_in(world.client_a_user)
    other = signed_in(world.client_b_user)
    assert _is_signed_in(phone) and _is_signed_in(laptop)
    phone.post(reverse("logout"))
    assert not _is_signed_in(phone)
    assert not _is_signed_in(laptop)
    assert _is_signed_in(other)
    assert not UserSession.objects.filter(user=world.client_a_user).exists()


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(world: World) -> None:
    here, elsewhere = signed_in(world.client_a_user), signed_in(world.client_a_user)
    response = here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert _is_signed_in(here)
    assert not _is_signed_in(elsewhere)
    # The surviving session is still recorded (under its new key), so it can be ended later.
    assert UserSession.objects.filter(user=world.client_a_user).count() == 1
    assert _record(here).user == world.client_a_user
    event = AuditEvent.objects.get(action="session.ended")
    assert event.detail == {"reason": "password", "count": 1}


def test_resetting_the_password_ends_every_session(world: World) -> None:
    user = world.client_a_user
    phone, laptop = signed_in(user), signed_in(user)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    http = HttpClient()
    form_page = http.get(reverse("password_reset_confirm", args=[uid, token]))
    assert form_page.status_code == 302
    response = http.post(
        form_page["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert not _is_signed_in(phone)
    assert not _is_signed_in(laptop)
    assert not UserSession.objects.filter(user=user).exists()


def test_a_stranger_signing_out_or_changing_a_password_ends_nobody_elses_session(
    world: World,
) -> None:
    clinician = signed_in(world.clinician)
    stranger = signed_in(world.stranger)
    stranger.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    stranger.post(reverse("logout"))
    assert _is_signed_in(clinician)
    assert not _is_signed_in(stranger)
    # And the stranger, signed in again, still cannot open the clinician's client.
    world.stranger.refresh_from_db()
    again = signed_in(world.stranger)
    response = again.get(reverse("client_overview", args=[world.client_a.pk]))
    assert response.status_code in {403, 404}
