"""Every non-critical email ends with an unsubscribe link that works without signing in. Opening
it only shows a page with a button (mail scanners follow links); the button, or a mail
program's RFC 8058 one-click POST, turns off that one category's email. Tampered and expired
links get a clear page and change nothing. Critical email has no link and says why."""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail, signing
from django.test import Client as HttpClient

from kithkin.audit.models import AuditEvent, Outcome
from kithkin.notifications import kinds, services
from kithkin.notifications.kinds import Category
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def _emailed_link(world: World, kind: str = kinds.NUDGE) -> str:
    notification = services.notify(
        world.client_a_user, kind=kind, title="Time to call Sam?", body=""
    )
    services.send_email(notification.pk)
    message = mail.outbox[-1]
    found = re.search(
        r"http://127\.0\.0\.1:8000(/notifications/unsubscribe/[^/\s]+/)", str(message.body)
    )
    assert found is not None
    assert message.extra_headers["List-Unsubscribe"] == f"<http://127.0.0.1:8000{found[1]}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    return found[1]


def _nudges_by_email(world: World) -> bool:
    return services.email_preferences(world.client_a_user)[Category.NUDGES]


def test_opening_the_link_asks_first_and_changes_nothing(world: World) -> None:
    link = _emailed_link(world)
    response = HttpClient().get(link)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Stop these emails?" in page and "Keeping in touch" in page
    assert f'<form method="post" action="{link}">' in page
    assert _nudges_by_email(world) is True


def test_the_button_unsubscribes_without_signing_in(world: World) -> None:
    link = _emailed_link(world)
    http = HttpClient(enforce_csrf_checks=True)
    page = http.get(link).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None

    response = http.post(link, {"csrfmiddlewaretoken": token[1]})

    assert response.status_code == 200
    assert "You will not get these emails any more" in response.content.decode()
    assert _nudges_by_email(world) is False
    # Only that category: session emails still go.
    assert services.email_preferences(world.client_a_user)[Category.SESSIONS] is True
    event = AuditEvent.objects.get(action="notifications.unsubscribe")
    assert event.object_id == str(world.client_a_user.pk)
    assert event.detail == {"category": "nudges", "via": "page"}


def test_a_forged_cross_site_post_is_refused(world: World) -> None:
    link = _emailed_link(world)
    response = HttpClient(enforce_csrf_checks=True).post(link, {})
    assert response.status_code == 403
    assert _nudges_by_email(world) is True


def test_a_mail_programs_one_click_post_unsubscribes(world: World) -> None:
    link = _emailed_link(world)
    response = HttpClient(enforce_csrf_checks=True).post(link, ONE_CLICK)
    assert response.status_code == 200
    assert _nudges_by_email(world) is False
    assert AuditEvent.objects.get(action="notifications.unsubscribe").detail["via"] == "one_click"


def test_a_link_is_for_one_person_and_one_category(world: World) -> None:
    nudge_link = _emailed_link(world)
    HttpClient().post(nudge_link, ONE_CLICK)
    assert services.email_preferences(world.client_b_user) == dict.fromkeys(Category, True)
    chosen = services.email_preferences(world.client_a_user)
    assert [c for c, on in chosen.items() if not on] == [Category.NUDGES]


@pytest.mark.parametrize("method", ["get", "one_click"])
def test_a_tampered_link_gets_a_clear_page(world: World, method: str) -> None:
    link = _emailed_link(world)
    token = link.split("/")[-2]
    # An altered signature, a made-up token, and a critical category (even one we signed).
    forged = [
        link.replace(token, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")),
        "/notifications/unsubscribe/not-a-token/",
        "/notifications/unsubscribe/"
        + signing.dumps({"u": world.clinician.pk, "c": "alerts"}, salt=services.UNSUBSCRIBE_SALT)
        + "/",
    ]
    for url in forged:
        http = HttpClient()
        response = http.get(url) if method == "get" else http.post(url, ONE_CLICK)
        assert response.status_code == 404
        assert "This unsubscribe link is not valid" in response.content.decode()
    assert all(services.email_preferences(world.client_a_user).values())
    assert all(services.email_preferences(world.clinician).values())
    assert AuditEvent.objects.filter(
        action="notifications.unsubscribe", outcome=Outcome.DENIED
    ).count() == len(forged)


def test_an_expired_link_gets_a_clear_page(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    long_ago = time.time() - services.UNSUBSCRIBE_MAX_AGE.total_seconds() - 60
    with monkeypatch.context() as patched:
        patched.setattr("django.core.signing.time.time", lambda: long_ago)
        token = services.unsubscribe_token(world.client_a_user, Category.NUDGES)
    url = f"/notifications/unsubscribe/{token}/"
    for response in (HttpClient().get(url), HttpClient().post(url, ONE_CLICK)):
        assert response.status_code == 410
        assert "This unsubscribe link has expired" in response.content.decode()
    assert _nudges_by_email(world) is True


def test_critical_mail_has_no_unsubscribe_link_and_says_why(world: World) -> None:
    notification = services.notify(
        world.clinician, kind=kinds.RISK_ALERT, title="A risk alert needs a check", body=""
    )
    services.send_email(notification.pk)
    (message,) = mail.outbox
    assert "unsubscribe" not in message.body.lower()
    assert "List-Unsubscribe" not in message.extra_headers
    assert "cannot be turned off" in message.body
    assert "someone's safety" in message.body
    with pytest.raises(services.CriticalCategory):
        services.unsubscribe_token(world.clinician, Category.ALERTS)


def test_a_signed_in_stranger_cannot_use_it_to_learn_whose_link_it_is(world: World) -> None:
    link = _emailed_link(world)
    page = signed_in(world.stranger).get(link).content.decode()
    assert world.client_a_user.email not in page
    assert world.client_a_user.display_name not in page
