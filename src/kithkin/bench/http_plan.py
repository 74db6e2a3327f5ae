"""The HTTP benchmark's data and plan: builds the synthetic practice in the configured database,
signs in its seats, and writes the plan the load driver follows.

``python -m kithkin.bench.http_plan SETUP.json`` runs in the benchmark's deployment (the same
settings as the server it will measure), and prints what it built as one JSON line.

Seats are signed in the way Django's test client does it (``force_login``: the real login
function, its signals and session record), with the second step already passed for staff, as
if each person had typed their code. Passwords and codes are not what is measured.
"""

from __future__ import annotations

import json
import os
import secrets
import string
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


def _csrf_secret() -> str:
    # The form Django keeps in its CSRF cookie: 32 characters from its alphabet.
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


def _signed_in(user: Any, *, staff: bool) -> dict[str, str]:
    """A cookie header and CSRF token for a fresh session of ``user``."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import Client as TestClient

    from kithkin.accounts.models import AuthenticatorDevice

    browser = TestClient()
    browser.force_login(user)
    key = browser.cookies[settings.SESSION_COOKIE_NAME].value
    if staff:
        device, _ = AuthenticatorDevice.objects.get_or_create(
            user=user, name="Benchmark", defaults={"confirmed": True}
        )
        session = SessionStore(key)
        session["otp_device_id"] = device.persistent_id
        session.save()
    csrf = _csrf_secret()
    return {
        "cookie": f"{settings.SESSION_COOKIE_NAME}={key}; {settings.CSRF_COOKIE_NAME}={csrf}",
        "csrf": csrf,
    }


def _page(key: str, label: str, who: str, identities: list[dict[str, Any]], *,
          method: str = "GET", expect: int = 200, phases: list[str],
          once: bool = False) -> dict[str, Any]:  # fmt: skip
    return {
        "key": key,
        "label": label,
        "who": who,
        "method": method,
        "expect": expect,
        "once": once,
        "phases": phases,
        "identities": identities,
    }


def plan_pages(practice: Any, *, now: datetime) -> list[dict[str, Any]]:
    """Every page and action the benchmark drives, each with one identity per seat."""
    from django.urls import reverse

    from kithkin.accounts.models import Client, User

    users = User.objects.in_bulk(
        [s.user_id for s in (*practice.staff, *practice.clients, *practice.submitters)]
    )
    both = ["paced", "flat_out"]
    staff = [(seat, _signed_in(users[seat.user_id], staff=True)) for seat in practice.staff]
    clients = [(seat, _signed_in(users[seat.user_id], staff=False)) for seat in practice.clients]
    submitters = [
        (seat, _signed_in(users[seat.user_id], staff=False)) for seat in practice.submitters
    ]

    def each(
        signed: list[tuple[Any, dict[str, str]]], name: str, *, own: bool = True, **extra: str
    ) -> list[dict[str, Any]]:
        """One identity per seat: ``own`` pages are of the seat's client; ``extra`` names more
        URL arguments and the seat attribute that holds each."""
        identities = []
        for seat, cookie in signed:
            kwargs: dict[str, Any] = {"client_id": seat.client_id} if own else {}
            kwargs.update({argument: getattr(seat, attr) for argument, attr in extra.items()})
            identities.append({**cookie, "requests": [{"path": reverse(name, kwargs=kwargs)}]})
        return identities

    pages = [
        _page(
            "floor",
            "Floor: /healthz (one trivial query)",
            "anyone",
            [{"requests": [{"path": reverse("healthz")}]}],
            phases=both,
        ),
        # The care team
        _page(
            "caseload", "Caseload (home)", "clinician", each(staff, "home", own=False), phases=both
        ),
        _page(
            "client_measures",
            "Client's measures overview",
            "clinician",
            each(staff, "measures_overview"),
            phases=both,
        ),
        _page(
            "progress_chart",
            "Progress chart for one questionnaire",
            "clinician",
            each(staff, "measures_instrument", instrument_id="instrument_id"),
            phases=both,
        ),
        _page(
            "staff_map", "Support network map", "clinician", each(staff, "network_map"), phases=both
        ),
        _page(
            "contacts",
            "Contact log (latest page)",
            "clinician",
            each(staff, "network_contacts"),
            phases=both,
        ),
        _page(
            "staff_profile",
            "Connection and resilience profile",
            "clinician",
            each(staff, "connection_profile"),
            phases=both,
        ),
        _page("care_plan", "Care plan", "clinician", each(staff, "care_plan"), phases=both),
        _page(
            "sessions",
            "Network sessions list",
            "clinician",
            each(staff, "care_sessions"),
            phases=both,
        ),
        _page(
            "session",
            "One network session",
            "clinician",
            each(staff, "care_session", session_id="session_id"),
            phases=both,
        ),
        _page(
            "alerts",
            "Risk alerts (practice)",
            "clinician",
            each(staff, "measures_alerts", own=False),
            phases=both,
        ),
        _page(
            "due",
            "Check-ins due and overdue",
            "clinician",
            each(staff, "measures_due", own=False),
            phases=both,
        ),
        _page("inbox", "Inbox", "clinician", each(staff, "notifications", own=False), phases=both),
        # The client
        _page(
            "client_home", "Client's home", "client", each(clients, "home", own=False), phases=both
        ),
        _page(
            "client_map", "Client's own map", "client", each(clients, "network_map"), phases=both
        ),
        _page(
            "client_profile",
            "Client's own profile",
            "client",
            each(clients, "connection_profile"),
            phases=both,
        ),
        _page(
            "client_rhythm",
            "Client's keeping-in-touch page",
            "client",
            each(clients, "connection_rhythm"),
            phases=both,
        ),
        _page(
            "client_checkins",
            "Client's check-ins and scores",
            "client",
            each(clients, "measures_overview"),
            phases=both,
        ),
    ]
    # A stranger: each clinician asks for a client not on their care team, and must be refused.
    refused = []
    for seat, cookie in staff:
        other = (
            Client.objects.filter(practice_id=practice.practice_id)
            .exclude(care_team_links__user_id=seat.user_id)
            .values_list("pk", flat=True)
            .first()
        )
        path = reverse("measures_overview", kwargs={"client_id": other})
        refused.append({**cookie, "requests": [{"path": path}]})
    pages.append(
        _page(
            "refused",
            "A client not on the clinician's care team (refused, 404)",
            "clinician",
            refused,
            expect=404,
            phases=["paced"],
        )
    )
    # Actions: a contact logged by the client, a question answered and a check-in submitted.
    when = now.astimezone(UTC) - timedelta(hours=1)
    contact_log = []
    for seat, cookie in clients:
        path = reverse("network_contact_log", kwargs={"client_id": seat.client_id})
        data = {"person": str(seat.person_id), "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
                "channel": "phone", "felt_safe": "on", "note": "Benchmark contact"}  # fmt: skip
        contact_log.append({**cookie, "requests": [{"path": path, "data": data}]})
    answer, submit = [], []
    for seat, cookie in submitters:
        kwargs = {"client_id": seat.client_id}
        # Answering goes round the drafts; submitting takes each draft once.
        answer.append({**cookie, "requests": [
            {"path": reverse("measures_response_step",
                             kwargs={**kwargs, "response_id": draft, "step": 1}),
             "data": {"answer": "1", "action": "next"}}
            for draft in seat.draft_ids
        ]})  # fmt: skip
        submit.append({**cookie, "requests": [
            {"path": reverse("measures_response_review", kwargs={**kwargs, "response_id": draft}),
             "data": {"note": ""}}
            for draft in seat.draft_ids
        ]})  # fmt: skip
    pages += [
        _page(
            "log_contact",
            "Log a contact (POST)",
            "client",
            contact_log,
            method="POST",
            expect=302,
            phases=both,
        ),
        _page(
            "answer",
            "Answer a check-in question (POST)",
            "client",
            answer,
            method="POST",
            expect=302,
            phases=both,
        ),
        _page(
            "submit",
            "Submit a check-in (POST)",
            "client",
            submit,
            method="POST",
            expect=302,
            phases=["flat_out"],
            once=True,
        ),
    ]
    keys = [page["key"] for page in pages]
    assert len(keys) == len(set(keys)), "each page needs a key of its own"
    return pages


def main(argv: list[str]) -> int:
    setup = json.loads(Path(argv[1]).read_text())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kithkin.settings")
    import django

    django.setup()
    from django.utils import timezone

    from kithkin.bench import practice as bench_practice

    now = timezone.now()
    scale = bench_practice.Scale(**setup["scale"])
    started = time.perf_counter()
    built = bench_practice.build(
        scale, seats=setup["seats"], drafts_per_seat=setup["drafts_per_seat"], now=now
    )
    build_s = time.perf_counter() - started
    pages = plan_pages(built, now=now)
    plan = {key: setup[key] for key in ("base", "users", "warmup_s", "measure_s", "think_s")}
    plan["pages"] = [
        page for page in pages if not setup.get("pages") or page["key"] in setup["pages"]
    ]
    Path(setup["plan"]).write_text(json.dumps(plan))
    print(json.dumps({"counts": built.counts, "build_s": round(build_s, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
