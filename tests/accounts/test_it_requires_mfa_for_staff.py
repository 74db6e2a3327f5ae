"""Staff must pass two-step sign-in before anything: a password alone reaches no client data.

The walk below opens every URL pattern the project resolves, as a clinician on client A's care
team (and an admin of her practice) who has typed only the password, and proves each one sends
them to the code step and shows nothing of client A.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.http import HttpResponseBase
from django.test import Client as HttpClient
from django.urls import reverse

from kithkin.accounts.mfa_middleware import ALLOWED_VIEWS
from kithkin.accounts.models import User
from kithkin.audit.models import AuditEvent, Outcome
from tests.accounts.mfa_helpers import code_for, confirmed_device, password_only, wrong_code
from tests.conftest import World, signed_in
from tests.security import urlwalk
from tests.security.test_it_refuses_every_url_to_strangers import (
    CONCERNS,
    NAME,
    NOTE,
    PERSON,
    PRIVATE_NOTE,
    RELATIONSHIP,
    Victim,
    is_public,
    registry,
    routes,
    victim_of,
)

pytestmark = pytest.mark.django_db

CANARIES = (CONCERNS, NAME, RELATIONSHIP, PERSON, NOTE, PRIVATE_NOTE)
STEP_PATHS = {"/accounts/two-step/", "/accounts/two-step/set-up/"}


@pytest.fixture
def victim(world: World) -> Victim:
    client = world.client_a
    client.display_name = NAME
    client.presenting_concerns = CONCERNS
    client.save()
    return victim_of(client, world.clinician)


def _password_only_session(user: User) -> HttpClient:
    # Django's own login, without the second step: what the sign-in form leaves behind.
    http = HttpClient()
    http.force_login(user)
    return http


def _step_of(response: HttpResponseBase) -> str:
    return urlsplit(response.headers.get("Location", "")).path


def test_it_sends_staff_without_an_app_to_set_one_up_after_the_password(world: World) -> None:
    http = HttpClient()
    response = http.post(
        reverse("login") + "?next=/practice/",
        {"username": world.admin.email, "password": "a long test passphrase", "next": "/practice/"},
    )
    assert response.status_code == 302
    assert _step_of(response) == reverse("mfa_enrol")
    assert parse_qs(urlsplit(response["Location"]).query)["next"] == ["/practice/"]
    # Signed in, but not through: home sends them back to setting up the app.
    home = http.get(reverse("home"))
    assert _step_of(home) == reverse("mfa_enrol")


def test_it_asks_staff_with_an_app_for_the_code(world: World) -> None:
    device = confirmed_device(world.clinician)
    http = password_only(world.clinician)
    home = http.get(reverse("home"))
    assert home.status_code == 302 and _step_of(home) == reverse("mfa_verify")
    page = http.get(home["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "Enter the 6-digit code from your authenticator app" in body
    assert "Use a recovery code instead" in body
    # Nothing to navigate to on the code step: no caseload link, no inbox.
    assert 'aria-label="Main"' not in body
    response = http.post(reverse("mfa_verify"), {"code": code_for(device), "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert http.get(reverse("home")).status_code == 200


def test_it_audits_each_refusal_by_view_name_only(world: World, victim: Victim) -> None:
    confirmed_device(world.clinician)
    http = password_only(world.clinician)
    url = reverse("client_overview", kwargs={"client_id": victim.client.pk})
    assert _step_of(http.get(url)) == reverse("mfa_verify")
    event = AuditEvent.objects.filter(action="mfa.required").latest("id")
    assert event.outcome == Outcome.DENIED
    assert event.actor_id == world.clinician.pk
    assert event.object_id == "client_overview"
    assert str(victim.client.pk) not in str(event.payload())


@pytest.mark.parametrize("who", ["clinician on the care team, with an app", "admin, no app yet"])
def test_it_lets_a_password_only_staff_session_reach_no_page_at_all(
    world: World, victim: Victim, who: str
) -> None:
    """The issue's "done when": walk every URL pattern, GET and POST, as staff who typed only
    the password. Each must send them to the second step (or be a two-step page or sign-out
    itself), and none may show client A's name, concerns, people or notes."""
    if who.startswith("clinician"):
        user, expected_step = world.clinician, reverse("mfa_verify")
        confirmed_device(user)
    else:
        user, expected_step = world.admin, reverse("mfa_enrol")
    fillers = registry(victim)
    problems: list[str] = []
    walked = 0
    for route in routes():
        if is_public(route):
            continue
        kwargs, missing = urlwalk.fill(route, fillers)
        if missing:
            continue  # the URL walk's own coverage test reports it
        url = route.url(kwargs)
        name = route.name
        for method in ("GET", "POST"):
            http = _password_only_session(user)
            response = http.get(url) if method == "GET" else http.post(url, {})
            leaked = urlwalk.leaks(response, CANARIES)
            if leaked:
                problems.append(f"{method} {url} [{route}] shows {leaked}")
            if name in ALLOWED_VIEWS:
                continue  # the two-step pages and sign-out themselves
            if response.status_code == 405:
                continue  # refused before any view code ran
            if response.status_code != 302 or _step_of(response) != expected_step:
                problems.append(
                    f"{method} {url} [{route}] answered {response.status_code} "
                    f"{response.headers.get('Location', '')} instead of the code step"
                )
            walked += 1
    assert not problems, f"{len(problems)} pages were not held back:\n" + "\n".join(problems)
    assert walked > 100
    # And the walk can fail: the same clinician, once through the second step, sees client A.
    page = signed_in(world.clinician).get(
        reverse("client_overview", kwargs={"client_id": victim.client.pk})
    )
    assert urlwalk.leaks(page, (CONCERNS,)) == [CONCERNS]


def test_it_lets_a_password_only_session_sign_out(world: World) -> None:
    http = password_only(world.admin)
    response = http.post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "_auth_user_id" not in http.session


def test_it_refuses_the_code_of_someone_else(world: World) -> None:
    """A stranger (a clinician of another practice) cannot pass the step with a real code that
    belongs to client A's clinician."""
    clinician_device = confirmed_device(world.clinician)
    stranger_device = confirmed_device(world.stranger)
    http = password_only(world.stranger)
    someone_elses = code_for(clinician_device)
    if someone_elses in {code_for(stranger_device, step) for step in (-1, 0, 1)}:
        someone_elses = wrong_code(stranger_device)  # a one-in-a-million collision
    response = http.post(reverse("mfa_verify"), {"code": someone_elses})
    assert response.status_code == 200
    assert "That code did not work" in response.content.decode()
    assert _step_of(http.get(reverse("home"))) == reverse("mfa_verify")


def test_it_refuses_anonymous_visitors_to_the_code_step(world: World) -> None:
    for name in ("mfa_verify", "mfa_enrol", "mfa_recovery"):
        response = HttpClient().get(reverse(name))
        assert urlwalk.is_login_redirect(response), name


def test_it_keeps_a_signed_in_client_without_mfa_out_of_the_code_step(world: World) -> None:
    http = signed_in(world.client_a_user)
    assert http.get(reverse("home")).status_code == 200
    response = http.get(reverse("mfa_verify"))
    assert response.status_code == 302 and response["Location"] == reverse("home")
