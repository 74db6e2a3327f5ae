"""Client data never reaches the logs, stdout or stderr, or a URL.

Client A's record is seeded with canary strings (her name, presenting concerns, map people,
notes, a relationship, a response note); then the app is driven the way a busy day drives it:
every page of the walk her care team, her admin, she and her member may open, bad input, 404s, a
forced 500 with DEBUG off, a risk answer with its alert email, and the job worker. Every logger is
turned up to DEBUG, and each configured log handler writes into a buffer the test reads, next to
stdout and stderr. No canary may appear anywhere, and none in any link the pages carry.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote_plus

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.test import override_settings
from django.urls import reverse

from kithkin.jobs import services as jobs
from tests.conftest import World, signed_in
from tests.security.cast import (
    ADMIN,
    CLIENT_A,
    CLINICIAN,
    MEMBER,
    OTHER_CLINICIAN,
    Cast,
    cast_of,
)
from tests.security.test_it_keeps_every_object_to_its_owners import (
    CONDITIONAL,
    entitled,
    fill,
    object_routes,
)
from tests.security.test_it_refuses_every_url_to_strangers import (
    CONCERNS,
    NAME,
    NOTE,
    PERSON,
    PRIVATE_NOTE,
    RELATIONSHIP,
)

RESPONSE_NOTE = "Talked about the anniversary canary3b8e"
CANARIES = (CONCERNS, NAME, RELATIONSHIP, PERSON, NOTE, PRIVATE_NOTE, RESPONSE_NOTE, "Quillfeather")


class Captured:
    """What the process says: everything each configured log handler writes (with every logger
    at DEBUG), and stdout/stderr (filled in by the test from capsys)."""

    def __init__(self) -> None:
        self.handlers = io.StringIO()
        self.printed = ""

    def text(self) -> str:
        return self.handlers.getvalue() + "\n" + self.printed

    def leaks(self, canaries: tuple[str, ...] = CANARIES) -> list[str]:
        text = self.text()
        return [canary for canary in canaries if canary in text]


@pytest.fixture
def captured() -> Iterator[Captured]:
    """Every logger turned up to DEBUG, and every configured handler (with its own formatter
    and filters, as in production) writing into one buffer."""
    found = Captured()
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    levels = {logger: logger.level for logger in loggers}
    streams: dict[logging.StreamHandler[Any], Any] = {}
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        for handler in logger.handlers:
            # pytest's own capture handlers are the test runner's, not the app's.
            ours = not type(handler).__module__.startswith("_pytest")
            if ours and isinstance(handler, logging.StreamHandler) and handler not in streams:
                # Swapped by hand: setStream flushes the old stream first, and an earlier test in
                # this process may have left a handler on a capture file that is now closed.
                streams[handler] = handler.stream
                handler.stream = found.handlers
    assert streams, "no log handler is configured: nothing would be captured"
    try:
        yield found
    finally:
        for logger, level in levels.items():
            logger.setLevel(level)
        for handler, stream in streams.items():
            handler.flush()
            handler.stream = stream


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"href", "action", "src", "formaction"} and value:
                self.urls.append(value)


def links_of(body: str) -> list[str]:
    parser = Links()
    parser.feed(body)
    return parser.urls


def url_leaks(url: str) -> list[str]:
    plain = unquote_plus(url)
    return [canary for canary in CANARIES if canary in plain or canary in url]


@pytest.fixture
def cast(world: World) -> Cast:
    seeded = cast_of(world)
    person = seeded.a.person
    person.notes = NOTE
    person.save()
    return seeded


def drive(cast: Cast, visit: Callable[[str, Any], None]) -> None:
    """A day of use. ``visit(label, response)`` sees every response."""
    from weasyprint import HTML

    https = {role: signed_in(cast.user(role)) for role in (CLINICIAN, ADMIN, CLIENT_A, MEMBER)}
    a = cast.a.client
    with pytest.MonkeyPatch.context() as patch:
        # Layout adds seconds per PDF and logs nothing of the template's content.
        patch.setattr(HTML, "write_pdf", lambda self, *args, **kwargs: b"%PDF-1.7 logs")
        for route in object_routes():
            for role in sorted(entitled(route.route) & set(https)):
                if (route.route, role) not in CONDITIONAL:
                    visit(f"{role} GET {route}", https[role].get(fill(route, cast.a)))
        for page in ("/", "/settings/", "/notifications/"):
            for role, http in https.items():
                visit(f"{role} GET {page}", http.get(page))

    clinician = https[CLINICIAN]
    # Bad input, carrying canaries: a person with a name far too long, an unknown instrument.
    add = reverse("network_quick_add", kwargs={"client_id": a.pk})
    visit("bad person", clinician.post(add, {"name": NAME * 20, "ring": "9"}))
    enter = reverse("measures_enter", kwargs={"client_id": a.pk, "instrument_id": "phq9"})
    visit("bad answers", clinician.post(enter, {"item_1": CONCERNS, "note": RESPONSE_NOTE}))
    # A failed sign-in with a canary as the password, and one with her email.
    visit("bad sign-in", HttpClient().post("/accounts/login/", {"username": "x", "password": NAME}))
    # 404s: a stranger asks for her pages, someone asks for a page with her name in the path.
    stranger = signed_in(cast.user(OTHER_CLINICIAN))
    visit("stranger 404", stranger.get(f"/clients/{a.pk}/network/"))
    visit("stranger 404 POST", stranger.post(f"/clients/{a.pk}/concerns/", {"x": CONCERNS}))
    visit("unknown 404", clinician.get("/clients/not-a-page/"))
    # A risk answer: the clinician enters PHQ-9 with item 9 answered, and a note.
    answers = {f"item_{n}": 1 for n in range(1, 9)} | {"item_9": 2, "note": RESPONSE_NOTE}
    visit("risk answer", clinician.post(enter, answers))
    # The worker runs everything due: alert emails, reminders, escalations.
    jobs.run_due("canary-test")


@pytest.mark.django_db
@override_settings(
    DEBUG=False,
    # Mail goes to the console when no SMTP host is set (as in a fresh install): then every
    # email is in the logs, so it may not carry client data either.
    EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
)
def test_it_keeps_client_data_out_of_logs_and_output(
    cast: Cast,
    captured: Captured,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    bad_links: list[str] = []
    statuses: dict[int, int] = {}

    def visit(label: str, response: Any) -> None:
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        location = response.get("Location") or ""
        bad_links.extend(f"{label}: redirect {location}" for _ in url_leaks(location))
        if response.get("Content-Type", "").startswith("text/html"):
            for url in links_of(response.content.decode()):
                bad_links.extend(f"{label}: link {url}" for _ in url_leaks(url))

    with django_capture_on_commit_callbacks(execute=True):
        drive(cast, visit)

    # A forced 500 with DEBUG off, its error naming her: the traceback is logged, not her.
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"could not draw {NAME}: {CONCERNS}")

    monkeypatch.setattr("kithkin.network.views.pdf.render_pdf", fail)
    crashing = HttpClient(raise_request_exception=False)
    crashing.force_login(cast.user(CLIENT_A))
    crash = crashing.get(reverse("network_map_pdf", kwargs={"client_id": cast.a.client.pk}))
    assert crash.status_code == 500
    statuses[500] = 1

    out, err = capsys.readouterr()
    captured.printed = out + err
    # The drive really happened, and really produced output worth searching.
    assert statuses.get(200, 0) > 50 and statuses.get(404) and statuses.get(500), statuses
    assert "Internal Server Error" in captured.text(), "the 500 was not logged at all"
    assert mail.outbox or "Subject:" in captured.printed, "no email was sent"
    assert not bad_links, "links carry client data:\n" + "\n".join(bad_links)
    leaked = captured.leaks()
    context = [line for line in captured.text().splitlines() if any(c in line for c in leaked)][:20]
    assert not leaked, f"{leaked} reached the logs or output:\n" + "\n".join(context)


@pytest.mark.django_db
def test_it_would_see_a_canary_that_reached_a_log(captured: Captured) -> None:
    logging.getLogger("kithkin.anything").debug("about %s", NAME)
    assert captured.leaks() == [NAME, "Quillfeather"]
    assert url_leaks("/search/?q=" + NAME.replace(" ", "+"))


@pytest.mark.django_db
def test_it_logs_tracebacks_without_their_messages(captured: Captured) -> None:
    try:
        try:
            people: dict[str, int] = {}
            people[PERSON] += 1
        except KeyError as error:
            raise ValueError(CONCERNS) from error
    except ValueError:
        logging.getLogger("django.request").exception("Internal Server Error: /x/")
    logging.getLogger("django.template").debug("context: %s", {"client": NAME})
    text = captured.text()
    assert "Internal Server Error: /x/" in text
    assert "builtins.KeyError (message withheld" in text
    assert "builtins.ValueError (message withheld" in text
    assert "in test_it_logs_tracebacks_without_their_messages" in text
    assert not captured.leaks()
