"""Security headers, cookies, no-store on client data, and generic error pages (issue 7, point 4).

Production settings are loaded in a subprocess (as in tests/core/
test_it_refuses_unsafe_production_config.py), since settings are read once per process."""

# ruff: noqa: S603 (a subprocess of this interpreter, with list arguments)
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpResponseBase
from django.test import Client as HttpClient
from django.test import override_settings

from tests import factories
from tests.conftest import World, signed_in
from tests.core.test_it_refuses_unsafe_production_config import production
from tests.security.cast import ADMIN, CLIENT_A, CLINICIAN, MEMBER, OTHER_CLINICIAN, Cast, cast_of
from tests.security.test_it_keeps_every_object_to_its_owners import (
    CONDITIONAL,
    entitled,
    fill,
    object_routes,
)
from tests.security.test_it_refuses_every_url_to_strangers import CONCERNS, NAME, OWN_PAGES

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def header_problems(response: HttpResponseBase) -> list[str]:
    problems = [
        f"{name}: {response.get(name)!r}, want {want!r}"
        for name, want in HEADERS.items()
        if response.get(name) != want
    ]
    csp = {
        directive.split()[0]: directive.split()[1:]
        for directive in (response.get("Content-Security-Policy") or "").split(";")
        if directive.strip()
    }
    if csp.get("default-src") != ["'self'"]:
        problems.append(f"CSP default-src is {csp.get('default-src')}, want 'self' only")
    if csp.get("frame-ancestors") != ["'none'"]:
        problems.append(f"CSP frame-ancestors is {csp.get('frame-ancestors')}, want 'none'")
    for directive, sources in csp.items():
        unsafe = [s for s in sources if s in {"'unsafe-inline'", "'unsafe-eval'", "*"}]
        if unsafe:
            problems.append(f"CSP {directive} allows {unsafe}")
    return problems


@pytest.fixture
def cast(world: World) -> Cast:
    return cast_of(world)


@pytest.mark.django_db
def test_it_sends_the_security_headers_on_every_kind_of_page(cast: Cast) -> None:
    a = cast.a.client.pk
    pages: list[tuple[str, HttpClient, str]] = [
        ("sign-in page, anonymous", HttpClient(), "/accounts/login/"),
        ("health check", HttpClient(), "/healthz"),
        ("caseload", signed_in(cast.user(CLINICIAN)), "/"),
        ("client page", signed_in(cast.user(CLINICIAN)), f"/clients/{a}/"),
        ("map PDF", signed_in(cast.user(CLINICIAN)), f"/clients/{a}/network/map.pdf"),
        ("404 for a stranger", signed_in(cast.user(OTHER_CLINICIAN)), f"/clients/{a}/"),
        ("403 for a client", signed_in(cast.user(CLIENT_A)), "/practice/"),
        ("login redirect", HttpClient(), f"/clients/{a}/"),
    ]
    problems = []
    for label, http, url in pages:
        response = http.get(url)
        problems += [f"{label} ({response.status_code}): {p}" for p in header_problems(response)]
    assert not problems, "\n".join(problems)


def test_it_notices_a_missing_or_weak_header() -> None:
    from django.http import HttpResponse

    response = HttpResponse()
    assert header_problems(response)  # nothing set at all
    for name, value in HEADERS.items():
        response[name] = value
    response["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
    assert header_problems(response) == []
    response["Content-Security-Policy"] = "default-src 'self'; script-src 'self' 'unsafe-inline'"
    assert len(header_problems(response)) == 2  # frame-ancestors missing, unsafe-inline allowed


def no_store_problem(response: HttpResponseBase) -> str:
    directives = {d.strip() for d in (response.get("Cache-Control") or "").split(",")}
    return "" if "no-store" in directives else f"Cache-Control is {response.get('Cache-Control')!r}"


@pytest.mark.django_db
def test_it_forbids_caching_every_page_that_shows_client_data(cast: Cast) -> None:
    """Every page of the walk about client A, opened by each role entitled to it (so the page
    really shows her data), and every signed-in person's own pages, says no-store."""
    from weasyprint import HTML

    problems: list[str] = []
    checked = 0
    https = {role: signed_in(cast.user(role)) for role in (CLINICIAN, ADMIN, CLIENT_A, MEMBER)}
    with pytest.MonkeyPatch.context() as patch:
        # Layout decides nothing about headers and takes seconds per PDF.
        patch.setattr(HTML, "write_pdf", lambda self, *args, **kwargs: b"%PDF-1.7 headers")
        for route in object_routes():
            for role in sorted(entitled(route.route) & set(https)):
                if (route.route, role) in CONDITIONAL:
                    continue
                url = fill(route, cast.a)
                response = https[role].get(url)
                if response.status_code == 200:
                    checked += 1
                    problem = no_store_problem(response)
                    if problem:
                        problems.append(f"{role}: GET {url} [{route}]: {problem}")
    for role, http in https.items():
        for page in sorted(OWN_PAGES - {"accounts/logout/"}):
            response = http.get("/" + page)
            if response.status_code == 200 and no_store_problem(response):
                problems.append(f"{role}: GET /{page}: {no_store_problem(response)}")
    assert not problems, "\n".join(problems)
    assert checked > 50, f"only {checked} pages opened: the walk is not reaching client pages"


def test_it_notices_a_cacheable_page() -> None:
    from django.http import HttpResponse

    response = HttpResponse()
    response["Cache-Control"] = "private, max-age=600"
    assert no_store_problem(response)
    response["Cache-Control"] = "no-store"
    assert not no_store_problem(response)


# --- cookies --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_sets_httponly_samesite_cookies_at_sign_in(world: World) -> None:
    http = HttpClient()
    page = http.get("/accounts/login/")
    csrf = page.cookies["kithkin_csrf"]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"
    email = world.client_a_user.email
    response = http.post(
        "/accounts/login/", {"username": email, "password": factories.PASSWORD}, follow=False
    )
    assert response.status_code == 302, "the client could not sign in"
    session = response.cookies["kithkin_session"]
    assert session["httponly"] and session["samesite"] == "Lax"
    # And a stranger with the wrong password gets no session at all.
    stranger = HttpClient()
    stranger.get("/accounts/login/")
    refused = stranger.post("/accounts/login/", {"username": email, "password": "not it at all"})
    assert "kithkin_session" not in refused.cookies


PRODUCTION_PROBE = """
import json
import django
django.setup()
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.conf import settings

http = Client()
host = "kithkin.example.org"
health = http.get("/healthz", secure=True, HTTP_HOST=host)
plain = http.get("/accounts/login/", HTTP_HOST=host)
# Production serves collected, hashed static files; nothing is collected here, so the page links
# the plain names instead. Headers and cookies do not depend on it.
plain_static = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
with override_settings(STORAGES=plain_static):
    login = http.get("/accounts/login/", secure=True, HTTP_HOST=host)

def set_session(request):
    request.session["probe"] = 1
    return HttpResponse()

# The session engine is swapped for one needing no database: cookie flags come from settings.
with override_settings(SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
    request = RequestFactory().get("/", secure=True, HTTP_HOST=host)
    session = SessionMiddleware(set_session)(request)

def flags(morsel):
    return {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"]),
            "samesite": morsel["samesite"]}

print(json.dumps({
    "hsts": health.get("Strict-Transport-Security"),
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "login_status": login.status_code,
    "csrf": flags(login.cookies[settings.CSRF_COOKIE_NAME]),
    "session": flags(session.cookies[settings.SESSION_COOKIE_NAME]),
    "debug": settings.DEBUG,
}))
"""


def production_probe(tmp_path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        env=production(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_it_sends_hsts_and_secure_cookies_in_production(tmp_path: Path) -> None:
    found = production_probe(tmp_path)
    hsts = {part.strip().split("=")[0]: part for part in found["hsts"].split(";")}
    assert int(hsts["max-age"].split("=")[1]) >= 60 * 60 * 24 * 365
    assert "includeSubDomains" in hsts
    # Plain HTTP is sent to HTTPS, never answered.
    assert found["plain_status"] == 301
    assert found["plain_location"].startswith("https://")
    assert found["login_status"] == 200
    assert found["csrf"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    assert found["session"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    assert found["debug"] is False


# --- error pages ----------------------------------------------------------------------------

ERROR_TEXT = {
    400: "Something in that request was not right",
    403: "This page is not available to you",
    404: "We could not find that page",
    500: "Something went wrong on our side",
}


def error_page_problems(response: HttpResponseBase, status: int, secrets: list[str]) -> list[str]:
    body = response.content.decode()  # type: ignore[attr-defined]
    problems = []
    if response.status_code != status:
        problems.append(f"answered {response.status_code}, want {status}")
    if ERROR_TEXT[status] not in body:
        problems.append("is not Kithkin's own error page")
    for tell in ("Traceback", "Exception Value", "Request Method", "django", 'File "'):
        if tell in body:
            problems.append(f"shows {tell!r} (a debug page?)")
    problems += [f"shows {secret!r}" for secret in secrets if secret in body]
    problems += header_problems(response)
    return problems


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_it_shows_generic_error_pages(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    a = cast.a.client
    clinician = signed_in(cast.user(CLINICIAN))
    problems: dict[str, list[str]] = {}

    # 404: a stranger asks for client A; and anyone asks for a page that does not exist.
    url = f"/clients/{a.pk}/network/"
    response = signed_in(cast.user(OTHER_CLINICIAN)).get(url)
    problems["404 stranger"] = error_page_problems(response, 404, [url, str(a.pk), NAME])
    missing = f"/clients/{a.pk}/no-such-page-{NAME.replace(' ', '-')}/"
    response = clinician.get(missing)
    problems["404 unknown"] = error_page_problems(response, 404, [missing, str(a.pk), "Quill"])

    # 403: a client opens the practice page.
    response = signed_in(cast.user(CLIENT_A)).get("/practice/")
    problems["403"] = error_page_problems(response, 403, ["/practice/", NAME])

    # 400: a request for a host this server does not serve.
    response = HttpClient().get("/accounts/login/", HTTP_HOST="evil-canary.example")
    problems["400"] = error_page_problems(response, 400, ["evil-canary"])

    # 500: a page fails while holding client A's data; the error names her.
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"could not draw {a.display_name}: {a.presenting_concerns}")

    monkeypatch.setattr("kithkin.network.views.pdf.render_pdf", fail)
    crashing = HttpClient(raise_request_exception=False)
    crashing.force_login(cast.user(CLIENT_A))
    url = f"/clients/{a.pk}/network/map.pdf"
    response = crashing.get(url)
    problems["500"] = error_page_problems(response, 500, [url, str(a.pk), NAME, CONCERNS])

    found = [f"{case}: {p}" for case, ps in problems.items() for p in ps]
    assert not found, "\n".join(found)


def test_it_recognises_a_debug_page() -> None:
    from django.http import HttpResponse

    debug = HttpResponse(f"Traceback ... {NAME}", status=500)
    assert len(error_page_problems(debug, 500, [NAME])) >= 3
