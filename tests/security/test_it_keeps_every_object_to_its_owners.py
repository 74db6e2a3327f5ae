"""The IDOR matrix: every kind of object a URL can name, asked for by every role.

The URL walk (test_it_refuses_every_url_to_strangers.py) proves strangers are refused client A's
pages. This matrix adds the other half and the swaps:

- every role, entitled or not, against every page about client A's objects: the entitled ones
  get in, everyone else is refused (404, 403, 405 or the login page), showing nothing of her;
- someone entitled to client B, asking for client B's page with one of client A's objects
  swapped in (``/clients/<B>/network/people/<A's person>/``): refused, while the same page with
  B's own object opens, so the refusal is the swap's doing.

The object types come from the walk's KWARGS registry and the model graph: a new URL kwarg, or
a new model that hangs off a client, fails :func:`test_it_knows_every_object_type` until it has
a row here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.apps import apps
from django.db import models, transaction
from django.http import HttpResponseBase
from django.test import Client as HttpClient

from kithkin.accounts.models import Client, Invitation, NetworkMember
from kithkin.care.models import Action, Goal, Indicator, KeyContact, NetworkSession, Problem
from kithkin.measures.models import Assignment, Response, RiskAlert
from kithkin.network.models import Group, Person, Snapshot
from kithkin.notifications.models import Notification
from tests.conftest import World, signed_in
from tests.security import urlwalk
from tests.security.cast import (
    ADMIN,
    ANONYMOUS,
    CLIENT_A,
    CLIENT_B,
    CLINICIAN,
    COLLEAGUE,
    MEMBER,
    MEMBER_NO_GRANT,
    MEMBER_OF_B,
    OTHER_ADMIN,
    OTHER_CLIENT,
    OTHER_CLINICIAN,
    Cast,
    cast_of,
)
from tests.security.test_it_refuses_every_url_to_strangers import (
    CLIENT_A_MAY_OPEN,
    CONCERNS,
    KWARGS,
    MEMBER_MAY_OPEN,
    NAME,
    NOTE,
    PERSON,
    PRIVATE_NOTE,
    RELATIONSHIP,
    STAFF_OBJECT_PAGES,
    Victim,
    is_public,
)

# --- object types ---------------------------------------------------------------------------

# URL kwarg → the model whose row it names. Every kwarg in the walk's KWARGS is here or below.
OBJECT_MODELS: dict[str, type[models.Model]] = {
    "client_id": Client,
    "invitation_id": Invitation,
    "member_id": NetworkMember,
    "network_member_id": NetworkMember,
    "person_id": Person,
    "group_id": Group,
    "snapshot_id": Snapshot,
    "other_snapshot_id": Snapshot,
    "assignment_id": Assignment,
    "response_id": Response,
    "alert_id": RiskAlert,
    "problem_id": Problem,
    "goal_id": Goal,
    "indicator_id": Indicator,
    "contact_id": KeyContact,
    "session_id": NetworkSession,
    "action_id": Action,
    "notification_id": Notification,
}
# URL kwargs that name no row of anyone's data.
NOT_OBJECTS = {
    "import_id": "a pending import, held in the uploader's own session, not a database row",
    "instrument_id": "an instrument of the shared library (PHQ-9), the same for every client",
    "step": "a question number within a response",
}
# Models that hang off a client but that no URL names by id: they are only ever reached through
# a page about their client (or their parent object), which the matrix covers.
REACHED_THROUGH_PARENT = {
    "accounts.CareTeamMember": "the client's care-team page",
    "accounts.BreakGlassAccess": "the signed-in clinician's own grant, looked up by client",
    "network.Tie": "the map and person pages",
    "network.Contact": "the contact log",
    "measures.ResponsePerson": "its response",
    "care.ConsentGrant": "the sharing page (append-only versions)",
    "care.Participant": "its session",
    "care.Contribution": "its session",
    "care.ClinicianNote": "its session's notes page",
    "connection.NudgeSettings": "the nudge settings page",
    "connection.Nudge": "the connection profile",
    "connection.WithdrawalSignal": "the caseload and connection profile",
    "privacy.ConsentRecord": "the client's consent pages",
    "privacy.DataExport": "the client's export pages",
    "privacy.ErasureRequest": "the client's erasure pages",
}


def object_kwargs(route: urlwalk.Route) -> list[str]:
    return [name for name in route.kwargs if name in OBJECT_MODELS]


def object_type(route: urlwalk.Route) -> str:
    """The object a page is about: its last kwarg that names a row. Pages about the client
    herself are many, so they are told apart by area ("client network", "client care")."""
    names = object_kwargs(route)
    if not names:
        return "library"
    kind = names[-1].removeprefix("other_").removesuffix("_id")
    if kind != "client":
        return kind
    parts = route.route.split("/")
    if parts[0] != "clients":
        return f"client {parts[0]}"
    return f"client {parts[2]}" if len(parts) > 3 and parts[2] in AREAS else "client record"


def object_routes() -> list[urlwalk.Route]:
    return [r for r in urlwalk.walk() if r.kwargs and not is_public(r)]


# The matrix's rows, one test each (so xdist can share them out): every object type, and the
# library pages. Fixed here rather than read from the URLconf, so collecting never imports views.
AREAS = ("record", "network", "measures", "care", "connection", "privacy", "circles")
KINDS = sorted(
    {name.removeprefix("other_").removesuffix("_id") for name in OBJECT_MODELS} - {"client"}
    | {f"client {area}" for area in AREAS}
    | {"library"}
)


def routes_by_type() -> dict[str, list[urlwalk.Route]]:
    grouped: dict[str, list[urlwalk.Route]] = defaultdict(list)
    for route in object_routes():
        grouped[object_type(route)].append(route)
    return dict(grouped)


# --- who is entitled to what --------------------------------------------------------------

CLIENTS = "clients/<uuid:client_id>/"
# The client's administrative record: practice admins of her practice (MANAGE purpose).
ADMIN_MAY_OPEN = {
    CLIENTS,
    CLIENTS + "edit/",
    CLIENTS + "care-team/",
    CLIENTS + "invite-portal/",
    CLIENTS + "audit/",
    "practice/invitations/<uuid:invitation_id>/revoke/",
    # Data rights (issue 7): the practice answers export and erasure requests, and records
    # consent, alongside her care team.
    CLIENTS + "privacy/export/",
    CLIENTS + "privacy/consent/",
    CLIENTS + "privacy/erase/",
    CLIENTS + "privacy/erase/confirm/",
}
# Of those, the ones for admins only: her clinician edits clinical content, not the record.
ADMIN_ONLY = {
    CLIENTS + "edit/",
    CLIENTS + "care-team/",
    CLIENTS + "privacy/erase/",
    CLIENTS + "privacy/erase/confirm/",
}
# Entitled in principle, but not to this particular object, so neither side is asserted:
CONDITIONAL = {
    # A client opens the actions she owns; the victim's action belongs to her network member.
    (CLIENTS + "care/actions/<uuid:action_id>/", CLIENT_A),
    # Members get a calendar file only for planned sessions; the victim's session was held.
    ("circles/<uuid:client_id>/sessions/<uuid:session_id>/session.ics", MEMBER),
}


def entitled(route: str) -> set[str]:
    """The roles that may open ``route`` about client A's objects; everyone else is refused."""
    roles: set[str] = set()
    if route in STAFF_OBJECT_PAGES:
        roles |= {CLINICIAN, ADMIN, COLLEAGUE, OTHER_CLINICIAN, OTHER_ADMIN}
    if route.startswith(CLIENTS) and route not in ADMIN_ONLY:
        roles.add(CLINICIAN)
    if route in ADMIN_MAY_OPEN:
        roles.add(ADMIN)
    if route == "practice/invitations/<uuid:invitation_id>/revoke/":
        roles.add(CLINICIAN)  # she sent the invitation, so she may withdraw it
    if route in CLIENT_A_MAY_OPEN:
        roles.add(CLIENT_A)
    if route.startswith("circles/"):
        roles.add(MEMBER)
    if route in MEMBER_MAY_OPEN:
        roles.add(MEMBER_NO_GRANT)
    return roles


# The same entitlement, for client B's side of the swap test.
ON_B = {CLINICIAN: COLLEAGUE, ADMIN: ADMIN, CLIENT_A: CLIENT_B, MEMBER: MEMBER_OF_B}
CANARIES = (CONCERNS, NAME, RELATIONSHIP, PERSON, NOTE, PRIVATE_NOTE)
BOTH = ("GET", "POST")
# Roles the URL walk already refuses with GET and POST on every page about client A: here they
# are asked with GET only, to keep the run short; the roles the walk does not have get both.
WALKED = {
    ANONYMOUS,
    OTHER_CLINICIAN,
    OTHER_ADMIN,
    OTHER_CLIENT,
    COLLEAGUE,
    CLIENT_A,
    CLIENT_B,
    MEMBER_NO_GRANT,
}


# --- asking -------------------------------------------------------------------------------


@contextmanager
def undone() -> Iterator[None]:
    """Run a request inside a savepoint that is rolled back: a POST that succeeds (an entitled
    user removing a person, say) must not change the objects the next request asks about."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def ask(http: HttpClient, method: str, url: str) -> HttpResponseBase:
    with undone():
        return http.get(url) if method == "GET" else http.post(url, {})


def allowed_problem(http: HttpClient, url: str) -> str:
    """Empty when an entitled user gets in: a page or a redirect that is not the login page.
    A POST-only page (405 to GET) is asked again with an empty POST."""
    response = ask(http, "GET", url)
    if response.status_code == 405:
        response = ask(http, "POST", url)
    status = response.status_code
    if status >= 400 or urlwalk.is_login_redirect(response):
        where = f" to {response['Location']}" if response.has_header("Location") else ""
        return f"answered {status}{where}, but this role is entitled to it"
    return ""


def refused_problems(
    http: HttpClient, url: str, canaries: tuple[str, ...], methods: tuple[str, ...] = BOTH
) -> list[str]:
    found = []
    for method in methods:
        problem = urlwalk.refusal_problem(ask(http, method, url), canaries)
        if problem:
            found.append(f"{method}: {problem}")
    return found


def fill(route: urlwalk.Route, victim: Victim, **swapped: Any) -> str:
    kwargs = {name: KWARGS[name](victim) for name in route.kwargs}
    return route.url({**kwargs, **swapped})


def clients_for_roles(cast: Cast) -> dict[str, HttpClient]:
    return {
        role: HttpClient() if user is None else signed_in(user) for role, user in cast.users.items()
    }


@pytest.fixture
def cast(world: World) -> Cast:
    return cast_of(world)


@pytest.fixture(autouse=True)
def _pdf_layout_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Access is decided, and the PDF's template rendered, before WeasyPrint lays out pages; the
    layout takes seconds and decides nothing here, so it is skipped."""
    from weasyprint import HTML

    monkeypatch.setattr(HTML, "write_pdf", lambda self, *args, **kwargs: b"%PDF-1.7 matrix")


# --- coverage -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_knows_every_object_type(cast: Cast) -> None:
    problems: list[str] = []
    for name, make in KWARGS.items():
        value = make(cast.a)
        model = OBJECT_MODELS.get(name)
        if model is None and name not in NOT_OBJECTS:
            problems.append(
                f"URL kwarg {name!r} has no row in the IDOR matrix: add it to OBJECT_MODELS (or "
                "NOT_OBJECTS) in tests/security/test_it_keeps_every_object_to_its_owners.py"
            )
        elif model is not None and not model._default_manager.filter(pk=value).exists():
            problems.append(f"KWARGS[{name!r}] gives {value!r}, which is no {model.__name__}")
    for route in object_routes():
        for name in route.kwargs:
            if name not in OBJECT_MODELS and name not in NOT_OBJECTS:
                problems.append(f"{route}: kwarg {name!r} is not in the IDOR matrix")
    for kind in sorted(set(routes_by_type()) - set(KINDS)):
        problems.append(f"pages about a {kind} are not among the matrix's KINDS")
    addressed = {model._meta.label for model in OBJECT_MODELS.values()}
    for label in sorted(client_owned_models()):
        if label not in addressed and label not in REACHED_THROUGH_PARENT:
            problems.append(
                f"{label} belongs to a client but is neither named by a URL kwarg (OBJECT_MODELS) "
                "nor listed in REACHED_THROUGH_PARENT with the page that reaches it"
            )
    for label in sorted(set(REACHED_THROUGH_PARENT) - client_owned_models()):
        problems.append(f"{label} is listed in REACHED_THROUGH_PARENT but no longer exists")
    assert not problems, "\n".join(problems)


def client_owned_models() -> set[str]:
    """Every model with a chain of foreign keys to Client (Client itself excluded)."""
    owned: set[type[models.Model]] = {Client}
    grew = True
    while grew:
        grew = False
        for model in apps.get_models():
            if model in owned or not model.__module__.startswith("kithkin."):
                continue
            targets = {
                field.related_model
                for field in model._meta.get_fields()
                if field.concrete and (field.many_to_one or field.one_to_one)
            }
            if targets & owned:
                owned.add(model)
                grew = True
    return {model._meta.label for model in owned - {Client}}


def test_it_finds_client_owned_models_through_their_parents() -> None:
    owned = client_owned_models()
    assert "care.ClinicianNote" in owned  # via its session, two foreign keys away
    assert "network.Person" in owned
    assert "accounts.Practice" not in owned
    assert "notifications.Notification" not in owned  # a user's, not a client's


def test_it_names_each_page_after_the_object_it_is_about() -> None:
    route = urlwalk.Route(
        "clients/<uuid:client_id>/network/snapshots/<uuid:snapshot_id>/diff/"
        "<uuid:other_snapshot_id>/",
        "",
        ("client_id", "snapshot_id", "other_snapshot_id"),
        is_regex=False,
    )
    assert object_type(route) == "snapshot"
    assert object_type(urlwalk.Route("clients/<uuid:client_id>/", "", ("client_id",), False)) == (
        "client record"
    )
    assert object_type(
        urlwalk.Route("clients/<uuid:client_id>/care/", "", ("client_id",), False)
    ) == ("client care")
    assert object_type(urlwalk.Route("circles/<uuid:client_id>/", "", ("client_id",), False)) == (
        "client circles"
    )
    assert object_type(urlwalk.Route("i/<slug:instrument_id>/", "", ("instrument_id",), False)) == (
        "library"
    )


# --- the matrix -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
def test_it_lets_in_only_the_entitled_roles(cast: Cast, kind: str) -> None:
    if not routes_by_type().get(kind):
        pytest.skip(f"no page is about a {kind} (yet)")
    https = clients_for_roles(cast)
    problems: list[str] = []
    checked = {"allowed": 0, "refused": 0}
    for route in routes_by_type()[kind]:
        url = fill(route, cast.a)
        allowed = entitled(route.route)
        for role, http in https.items():
            if (route.route, role) in CONDITIONAL:
                continue
            if role in allowed:
                problem = allowed_problem(http, url)
                found = [problem] if problem else []
                checked["allowed"] += 1
            else:
                methods = ("GET",) if role in WALKED else BOTH
                found = refused_problems(http, url, CANARIES, methods)
                checked["refused"] += 1
            problems += [f"{role}: {url} [{route}]: {p}" for p in found]
    assert not problems, f"{len(problems)} wrong answers:\n" + "\n".join(problems)
    assert checked["refused"], "nobody was refused anything: the matrix is asking nobody"


@pytest.mark.django_db
def test_it_swapped_in_objects_of_another_client(cast: Cast) -> None:
    """Entitled to client B, asking for B's page with one of A's objects swapped in: refused."""
    https = clients_for_roles(cast)
    problems: list[str] = []
    swaps = 0
    for route in object_routes():
        names = [n for n in object_kwargs(route) if n != "client_id"]
        if "client_id" not in route.kwargs or not names:
            continue
        for role_on_a in sorted(entitled(route.route) & set(ON_B)):
            if (route.route, role_on_a) in CONDITIONAL:
                continue
            role = ON_B[role_on_a]
            http = https[role]
            own = fill(route, cast.b)
            problem = allowed_problem(http, own)
            if problem:
                problems.append(f"{role}: own page {own} [{route}]: {problem}")
                continue
            for name in names:
                url = fill(route, cast.b, **{name: KWARGS[name](cast.a)})
                found = refused_problems(http, url, CANARIES)
                problems += [f"{role}: {url} ({name} is A's) [{route}]: {p}" for p in found]
                swaps += 1
    assert not problems, f"{len(problems)} swaps were not refused:\n" + "\n".join(problems)
    assert swaps


# --- the judges must be able to say no ------------------------------------------------------


@pytest.mark.django_db
def test_it_sees_an_entitled_role_shut_out() -> None:
    from django.http import HttpResponse, HttpResponseRedirect

    class Answers(HttpClient):
        """A client that answers every request with one canned response."""

        def __init__(self, response: HttpResponseBase) -> None:
            super().__init__()
            self.response = response

        def get(self, *args: Any, **kwargs: Any) -> Any:
            return self.response

        def post(self, *args: Any, **kwargs: Any) -> Any:
            return self.response

    assert allowed_problem(Answers(HttpResponse(status=404)), "/x/")
    assert allowed_problem(Answers(HttpResponseRedirect(urlwalk.login_path())), "/x/")
    assert not allowed_problem(Answers(HttpResponse("page")), "/x/")
    assert refused_problems(Answers(HttpResponse(CONCERNS)), "/x/", CANARIES)
    assert refused_problems(Answers(HttpResponse("page")), "/x/", CANARIES)
    assert not refused_problems(Answers(HttpResponse(status=404)), "/x/", CANARIES)


def test_it_entitles_each_role_to_its_own_pages_only() -> None:
    assert entitled(CLIENTS + "network/people/<uuid:person_id>/") == {CLINICIAN, CLIENT_A}
    assert entitled(CLIENTS + "edit/") == {ADMIN}
    assert entitled("circles/<uuid:client_id>/") == {MEMBER, MEMBER_NO_GRANT}
    assert CLIENT_B not in entitled(CLIENTS + "measures/")
    assert not {ANONYMOUS, OTHER_CLIENT, MEMBER_OF_B} & set().union(
        *(entitled(r.route) for r in object_routes())
    )
