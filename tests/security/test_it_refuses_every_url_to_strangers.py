"""The URL-by-role walk: every pattern the project resolves, against everyone who is not entitled.

Client A is the victim. Every pattern is classified below: public, "own pages" any signed-in
person may open, staff or admin pages without object ids, or pages about an object, whose kwargs
are filled from :data:`KWARGS` with client A's things. A pattern the walk cannot classify or fill
fails :func:`test_it_covers_every_url_pattern`, so a new view cannot slip past.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from kithkin.accounts import access
from kithkin.accounts.access import Purpose, clients_for
from kithkin.accounts.models import Client, Invitation, NetworkMember, Role, User
from kithkin.audit.models import AuditEvent, Outcome
from kithkin.care.models import (
    Action,
    ClinicianNote,
    Goal,
    Indicator,
    IndicatorKind,
    KeyContact,
    NetworkSession,
    OwnerKind,
    Participant,
    ParticipantKind,
    Problem,
    SessionStatus,
)
from kithkin.measures.models import Assignment, Response, RiskAlert
from kithkin.network.models import Group, Person, Snapshot
from kithkin.network.snapshots import take_snapshot
from kithkin.notifications import kinds
from kithkin.notifications.models import Notification
from kithkin.notifications.services import notify
from tests import factories
from tests.conftest import World, signed_in
from tests.security import urlwalk

# --- the classification -------------------------------------------------------------------

# Anyone may open these, signed in or not (issue 2: login, password reset, invitation
# acceptance, /healthz, static files).
PUBLIC = {
    "accounts/login/",
    "accounts/password/reset/",
    "accounts/password/reset/sent/",
    "accounts/password/reset/<uidb64>/<token>/",
    "accounts/password/reset/complete/",
    "invite/<str:token>/",
    "healthz",
    "readyz",
    # Unsubscribing from non-critical mail works without login: the signed token decides.
    "notifications/unsubscribe/<str:token>/",
}
# Route prefixes that are public as a whole (static files, served by WhiteNoise or, in DEBUG,
# by a pattern).
PUBLIC_PREFIXES = ("static/",)

# Pages without object ids that any signed-in person may open: they show the person's own things.
OWN_PAGES = {
    "",  # home: role-aware
    "settings/",
    "accounts/logout/",
    "accounts/password/change/",
    "notifications/",
    "notifications/read-all/",
    "notifications/preferences/",
    # Data rights (issue 7, part C): a client's own export and consent; anyone else gets 404.
    "privacy/my-data/",
    "privacy/my-consent/",
    # Two-step sign-in, re-authentication and the email address (issue 7, part A): each is
    # about the signed-in person's own account only.
    "accounts/two-step/",
    "accounts/two-step/recovery-code/",
    "accounts/two-step/set-up/",
    "settings/two-step/recovery-codes/",
    "settings/two-step/turn-off/",
    "settings/confirm/",
    "settings/email/",
    # The link sent to a new address: its signed token travels in the query string, and only
    # the person who asked can use it.
    "settings/email/confirm/",
}
# Pages without object ids for staff (clinicians and admins) of a practice.
STAFF_PAGES: set[str] = {"measures/alerts/", "measures/due/", "measures/instruments/"}
# Break-glass emergency access (issue 7, part D): any staff member searches their own practice;
# the client and grant travel in POST bodies, never in the URL.
STAFF_PAGES |= {"emergency-access/", "emergency-access/open/", "emergency-access/end/"}
# Caseload search (issue 7, part B): staff search their own caseload; the name is POSTed.
STAFF_PAGES |= {"caseload/search/"}
# Pages for staff whose kwargs name no client's object (e.g. an instrument of the library): any
# staff member may open them, and everyone else is refused.
STAFF_OBJECT_PAGES = {
    "measures/instruments/<slug:instrument_id>/questionnaire.json",
}
# Pages without object ids for practice admins only.
ADMIN_PAGES = {
    "practice/measures/",
    "practice/emergency-access/",
    "practice/",
    "practice/staff/invite/",
    # Staff accounts (two-step reset, ending access): the staff member travels in the POST.
    "practice/staff/",
    "practice/clients/new/",
    "practice/privacy/",
}
# Pages about client A's objects that client A herself may open (her own portal pages): her
# support network map is hers to build, read, snapshot, import and export.
NETWORK = "clients/<uuid:client_id>/network/"
MEASURES = "clients/<uuid:client_id>/measures/"
CARE = "clients/<uuid:client_id>/care/"
CONNECTION = "clients/<uuid:client_id>/connection/"
CLIENT_A_MAY_OPEN: set[str] = {
    NETWORK,
    NETWORK + "map.pdf",
    NETWORK + "people/add/",
    NETWORK + "people/<uuid:person_id>/",
    NETWORK + "people/<uuid:person_id>/remove/",
    NETWORK + "groups/",
    NETWORK + "groups/<uuid:group_id>/",
    NETWORK + "contacts/",
    NETWORK + "contacts/log/",
    NETWORK + "review/",
    NETWORK + "snapshots/",
    NETWORK + "snapshots/take/",
    NETWORK + "snapshots/compare/",
    NETWORK + "snapshots/<uuid:snapshot_id>/",
    NETWORK + "snapshots/<uuid:snapshot_id>/diff/<uuid:other_snapshot_id>/",
    NETWORK + "export/",
    NETWORK + "export/download/",
    NETWORK + "import/",
    NETWORK + "import/<uuid:import_id>/",
    NETWORK + "import/<uuid:import_id>/done/",
    # Her check-ins: she answers them, sees her scores in calm words, and the support page.
    MEASURES,
    MEASURES + "instruments/<slug:instrument_id>/",
    MEASURES + "support/",
    MEASURES + "assignments/<uuid:assignment_id>/start/",
    MEASURES + "responses/<uuid:response_id>/",
    MEASURES + "responses/<uuid:response_id>/questions/<int:step>/",
    MEASURES + "responses/<uuid:response_id>/review/",
    MEASURES + "responses/<uuid:response_id>/done/",
    # Her casework: she reads her plan, chooses and invites key contacts, decides what each
    # member sees, and follows her sessions and actions (never the clinician's private notes).
    CARE,
    CARE + "contacts/",
    CARE + "contacts/<uuid:contact_id>/",
    CARE + "contacts/<uuid:contact_id>/invite/",
    CARE + "sharing/",
    CARE + "sharing/history/",
    CARE + "sessions/",
    CARE + "sessions/<uuid:session_id>/",
    CARE + "sessions/<uuid:session_id>/session.ics",
    CARE + "sessions/<uuid:session_id>/summary.pdf",
    CARE + "actions/",
    CARE + "actions/<uuid:action_id>/",
    CARE + "review/",
    # Her connection profile, contact rhythms and nudge settings.
    CONNECTION,
    CONNECTION + "rhythm/",
    CONNECTION + "nudges/",
    # Her own inbox entries.
    "notifications/<uuid:notification_id>/open/",
}
# Pages about client A that her network member (with no grant) may open: the circle page, which
# shows him only that nothing is shared yet. Every other circle page needs a grant or an
# invitation to a planned session, and is walked as refused.
MEMBER_MAY_OPEN = {"circles/<uuid:client_id>/"}


@dataclass
class Victim:
    """Client A and the objects that hang off her, to fill URL kwargs with."""

    client: Client
    network_member: NetworkMember
    invitation: Invitation
    person: Person
    group: Group
    snapshot: Snapshot
    other_snapshot: Snapshot
    assignment: Assignment
    response: Response
    alert: RiskAlert
    problem: Problem
    goal: Goal
    indicator: Indicator
    contact: KeyContact
    session: NetworkSession
    action: Action
    notification: Notification


# kwarg name → the victim's object that fills it. Add an entry when a view takes a new kwarg.
KWARGS: dict[str, Callable[[Victim], Any]] = {
    "client_id": lambda v: v.client.pk,
    "invitation_id": lambda v: v.invitation.pk,
    "member_id": lambda v: v.network_member.pk,
    "network_member_id": lambda v: v.network_member.pk,
    "person_id": lambda v: v.person.pk,
    "group_id": lambda v: v.group.pk,
    "snapshot_id": lambda v: v.snapshot.pk,
    "other_snapshot_id": lambda v: v.other_snapshot.pk,
    # A pending import lives in its owner's session; the client check runs before it is read.
    "import_id": lambda v: uuid.UUID(int=7),
    "assignment_id": lambda v: v.assignment.pk,
    "response_id": lambda v: v.response.pk,
    "alert_id": lambda v: v.alert.pk,
    "instrument_id": lambda v: "phq9",
    "step": lambda v: 1,
    "problem_id": lambda v: v.problem.pk,
    "goal_id": lambda v: v.goal.pk,
    "indicator_id": lambda v: v.indicator.pk,
    "contact_id": lambda v: v.contact.pk,
    "session_id": lambda v: v.session.pk,
    "action_id": lambda v: v.action.pk,
    "notification_id": lambda v: v.notification.pk,
}

CONCERNS = "Recurring nightmares after the flood canary7f3a"
NAME = "Alexandrine Quillfeather"
RELATIONSHIP = "Estranged godmother canary91bd"
PERSON = "Ottoline Map-Canary"
NOTE = "A note to my clinician canary5e21"
PRIVATE_NOTE = "Clinician's private session note canary0c4d"


# --- fixtures -------------------------------------------------------------------------------


def victim_of(client: Client, invited_by: User) -> Victim:
    """Give ``client`` a network member and a pending invitation, the things URLs may name."""
    network_member = NetworkMember.objects.filter(client=client).first()
    if network_member is None:
        friend = User.objects.create_user(
            f"friend-of-{client.pk}@example.test", factories.PASSWORD, display_name="A Friend"
        )
        network_member = NetworkMember.objects.create(
            client=client, user=friend, relationship="Friend"
        )
    _, secret_hash = Invitation.make_secret()
    invitation = Invitation.objects.create(
        practice=client.practice,
        role=Role.MEMBER,
        client=client,
        email="invited-friend@example.test",
        display_name="Invited Friend",
        secret_hash=secret_hash,
        invited_by=invited_by,
    )
    person = factories.person_of(client, PERSON, helps_safe=True, notes="Person note canary")
    sibling = factories.person_of(client, "Second Person")
    factories.tie(person, sibling)
    factories.contact(person)
    group = Group.objects.create(client=client, name="Choir", kind="club")
    group.members.add(person)
    snapshot = take_snapshot(client, invited_by, reason=Snapshot.Reason.ON_DEMAND)
    other_snapshot = take_snapshot(client, invited_by, reason=Snapshot.Reason.REVIEW)
    assignment = factories.assignment(client, "phq9")
    response = factories.submitted_response(
        client, "phq9", factories.all_answers("phq9", 1), assignment=assignment
    )
    response.note = NOTE
    response.save()
    alert = RiskAlert.objects.create(
        client=client,
        response=response,
        instrument_id="phq9",
        rule_id="phq9_item9",
        item_id="9",
        value=1,
        severity="urgent",
    )
    problem = Problem.objects.create(client=client, text="Evenings are hard")
    goal = Goal.objects.create(client=client, problem=problem, title="Sleep better")
    indicator = Indicator.objects.create(
        goal=goal, kind=IndicatorKind.SCORE, instrument_id="phq9", target_score=9
    )
    contact = KeyContact.objects.create(client=client, person=person, chosen_by=invited_by)
    session = NetworkSession.objects.create(
        client=client,
        starts_at=timezone.now() - timedelta(days=3),
        status=SessionStatus.HELD,
        shared_summary="Summary",
    )
    Participant.objects.create(session=session, kind=ParticipantKind.CLINICIAN, user=invited_by)
    ClinicianNote.objects.create(session=session, author=invited_by, text=PRIVATE_NOTE)
    action = Action.objects.create(
        client=client,
        session=session,
        goal=goal,
        title="Call on Sunday",
        owner_kind=OwnerKind.MEMBER,
        owner=network_member.user,
        owner_member=network_member,
        due_on=timezone.localdate() + timedelta(days=2),
    )
    assert client.user is not None
    notification = notify(
        client.user,
        kind=kinds.CHECKIN_DUE,
        title="A check-in is ready",
        body=f"Hello {client.display_name}",
        url="/",
        email=False,
    )
    return Victim(
        client,
        network_member,
        invitation,
        person,
        group,
        snapshot,
        other_snapshot,
        assignment,
        response,
        alert,
        problem,
        goal,
        indicator,
        contact,
        session,
        action,
        notification,
    )


@pytest.fixture
def victim(world: World) -> Victim:
    client = world.client_a
    client.display_name = NAME
    client.presenting_concerns = CONCERNS
    client.save()
    NetworkMember.objects.filter(client=client, user=world.member).update(relationship=RELATIONSHIP)
    return victim_of(client, world.clinician)


@pytest.fixture
def strangers(world: World) -> dict[str, User | None]:
    """Everyone who must be refused client A's objects. ``None`` is the anonymous visitor."""
    other_client = factories.client_of(
        world.other_practice, world.stranger, portal=True, display_name="Pia Portal"
    )
    assert other_client.user is not None
    return {
        "anonymous": None,
        "client A (her own record, outside her portal pages)": world.client_a_user,
        "client B": world.client_b_user,
        "a client of another practice": other_client.user,
        "a clinician of another practice": world.stranger,
        "an admin of another practice": factories.staff(world.other_practice, Role.ADMIN),
        "a clinician of the same practice not on the care team": world.colleague,
        "a network member of client A with no grant": world.member,
    }


def routes() -> list[urlwalk.Route]:
    return list(urlwalk.walk())


def is_public(route: urlwalk.Route) -> bool:
    return route.route in PUBLIC or route.route.startswith(PUBLIC_PREFIXES)


def object_routes() -> list[urlwalk.Route]:
    return [r for r in routes() if r.kwargs and not is_public(r)]


def registry(victim: Victim) -> dict[str, Callable[[], Any]]:
    def filler(make: Callable[[Victim], Any]) -> Callable[[], Any]:
        return lambda: make(victim)

    return {name: filler(make) for name, make in KWARGS.items()}


def http_for(user: User | None) -> HttpClient:
    return HttpClient() if user is None else signed_in(user)


def denied_rows(user: User | None) -> int:
    rows = AuditEvent.objects.filter(outcome=Outcome.DENIED)
    if user is None:
        return rows.filter(actor_id__isnull=True, action="login.required").count()
    return rows.filter(actor_id=user.pk).count()


def requests(http: HttpClient, url: str) -> Iterator[tuple[str, Any]]:
    yield "GET", http.get(url)
    yield "POST", http.post(url, {})


def check_refused(
    user: User | None, url: str, route: urlwalk.Route, canaries: tuple[str, ...]
) -> list[str]:
    """Every way ``user`` can ask for ``url`` is refused, leaks nothing, and is audited."""
    problems = []
    http = http_for(user)
    for method in ("GET", "POST"):
        before = denied_rows(user)
        response = http.get(url) if method == "GET" else http.post(url, {})
        problem = urlwalk.refusal_problem(response, canaries)
        # 405 means the method was refused before any view code ran: nothing to audit.
        if not problem and response.status_code != 405 and denied_rows(user) <= before:
            problem = f"refused with {response.status_code} but wrote no denied audit event"
        if problem:
            problems.append(f"{method} {url} [{route}]: {problem}")
    return problems


# --- the coverage check ---------------------------------------------------------------------


@pytest.mark.django_db
def test_it_covers_every_url_pattern(victim: Victim) -> None:
    problems = []
    listed = PUBLIC | OWN_PAGES | STAFF_PAGES | ADMIN_PAGES | STAFF_OBJECT_PAGES
    all_routes = routes()
    for route in all_routes:
        if is_public(route):
            continue
        if not route.kwargs:
            if route.route not in listed:
                problems.append(
                    f"{route}: has no object kwargs and is not classified. Add it to OWN_PAGES, "
                    "STAFF_PAGES or ADMIN_PAGES (or PUBLIC, if issue 2 allows it) in "
                    "tests/security/test_it_refuses_every_url_to_strangers.py."
                )
            continue
        _, missing = urlwalk.fill(route, registry(victim))
        if missing:
            problems.append(missing)
    known = {r.route for r in all_routes}
    for stale in sorted((listed | CLIENT_A_MAY_OPEN | MEMBER_MAY_OPEN) - known):
        problems.append(f"/{stale} is classified in the walk but no such pattern exists any more")
    assert not problems, "\n".join(problems)


def test_it_reports_a_kwarg_it_cannot_fill() -> None:
    route = urlwalk.Route("things/<int:thing_id>/", "thing", ("thing_id",), is_regex=False)
    kwargs, missing = urlwalk.fill(route, {"client_id": lambda: 1})
    assert kwargs == {}
    assert "thing_id" in missing
    assert "KWARGS" in missing


def test_it_finds_patterns_inside_includes() -> None:
    from django.http import HttpResponse
    from django.urls import include, path

    def view(request: Any) -> HttpResponse:
        return HttpResponse()

    inner = [path("<uuid:client_id>/notes/<int:note_id>/", view, name="note")]
    patterns = [path("clients/", include((inner, "care"), namespace="care"))]
    (route,) = urlwalk.walk(patterns)
    assert route.route == "clients/<uuid:client_id>/notes/<int:note_id>/"
    assert route.name == "care:note"
    assert route.kwargs == ("client_id", "note_id")


# --- the judge must be able to say no -------------------------------------------------------


def test_it_judges_a_page_that_answers_as_not_refused() -> None:
    from django.http import HttpResponse, HttpResponseRedirect

    assert urlwalk.refusal_problem(HttpResponse("hello", status=200))
    assert urlwalk.refusal_problem(HttpResponseRedirect("/somewhere/else/"))
    assert urlwalk.refusal_problem(HttpResponse(f"<p>{CONCERNS}</p>", status=404), [CONCERNS])
    assert not urlwalk.refusal_problem(HttpResponse("Not found", status=404), [CONCERNS])
    assert not urlwalk.refusal_problem(HttpResponse(status=403))
    assert not urlwalk.refusal_problem(HttpResponseRedirect(urlwalk.login_path() + "?next=/x/"))


# --- the walk -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_client_a_objects_to_every_stranger(
    victim: Victim, strangers: dict[str, User | None]
) -> None:
    if not object_routes():
        pytest.skip("no URL pattern takes an object id yet")
    canaries = (CONCERNS, NAME, RELATIONSHIP, PERSON, NOTE, PRIVATE_NOTE)
    fillers = registry(victim)
    problems: list[str] = []
    checked = 0
    for route in object_routes():
        kwargs, missing = urlwalk.fill(route, fillers)
        if missing:
            continue  # test_it_covers_every_url_pattern reports it
        url = route.url(kwargs)
        for role, user in strangers.items():
            is_client_a = user is not None and user.pk == victim.client.user_id
            if is_client_a and route.route in CLIENT_A_MAY_OPEN:
                continue
            if route.route in STAFF_OBJECT_PAGES and user is not None and staff_role(user):
                continue
            is_member = user is not None and user.pk == victim.network_member.user_id
            if is_member and route.route in MEMBER_MAY_OPEN:
                continue
            problems += [f"{role}: {p}" for p in check_refused(user, url, route, canaries)]
            checked += 1
    assert not problems, f"{len(problems)} requests were not refused:\n" + "\n".join(problems)
    assert checked


@pytest.mark.django_db
def test_it_refuses_every_page_to_anonymous_visitors(victim: Victim) -> None:
    problems: list[str] = []
    for route in routes():
        if is_public(route) or route.kwargs:
            continue  # object pages are walked above, anonymous included
        problems += check_refused(None, "/" + route.route, route, (CONCERNS, NAME))
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_it_shows_strangers_nothing_of_client_a_on_their_own_pages(
    victim: Victim, strangers: dict[str, User | None]
) -> None:
    problems: list[str] = []
    for role, user in strangers.items():
        if user is None or user.pk == victim.client.user_id:
            continue
        # A network member of client A knows her name: she invited them. Nothing clinical, though.
        canaries = (
            (CONCERNS, RELATIONSHIP, PERSON)
            if user == victim.network_member.user
            else (
                CONCERNS,
                NAME,
                RELATIONSHIP,
                PERSON,
            )
        )
        for page in sorted(OWN_PAGES):
            for method in ("GET", "POST"):
                http = signed_in(user)
                response = http.get("/" + page) if method == "GET" else http.post("/" + page, {})
                if response.status_code >= 500:
                    problems.append(f"{role}: {method} /{page} failed with {response.status_code}")
                leaked = urlwalk.leaks(response, canaries)
                if leaked:
                    problems.append(f"{role}: {method} /{page} shows {leaked}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_it_keeps_staff_and_admin_pages_from_the_wrong_people(
    world: World, victim: Victim, strangers: dict[str, User | None]
) -> None:
    problems: list[str] = []
    canaries = (CONCERNS, NAME, RELATIONSHIP, PERSON)
    staff_roles = {Role.ADMIN, Role.CLINICIAN}
    for role, user in {**strangers, "client A's own clinician": world.clinician}.items():
        is_staff = user is not None and staff_role(user) in staff_roles
        is_admin = user is not None and staff_role(user) == Role.ADMIN
        for page in sorted(STAFF_PAGES | ADMIN_PAGES):
            route = urlwalk.Route(page, "", (), is_regex=False)
            allowed = is_admin if page in ADMIN_PAGES else is_staff
            if user is world.clinician and page in STAFF_PAGES:
                continue  # her clinician may see her on the caseload
            if not allowed:
                problems += [
                    f"{role}: {p}" for p in check_refused(user, "/" + page, route, canaries)
                ]
                continue
            assert user is not None
            response = signed_in(user).get("/" + page)
            leaked = urlwalk.leaks(response, canaries)
            if response.status_code >= 500 or leaked:
                problems.append(
                    f"{role}: GET /{page} answered {response.status_code}, shows {leaked}"
                )
    assert not problems, "\n".join(problems)
    if not STAFF_PAGES | ADMIN_PAGES:
        pytest.skip("no staff-only or admin-only pages without object ids exist yet")


def staff_role(user: User) -> str | None:
    membership = access.membership_of(user)
    return None if membership is None else membership.role


# --- whole-role rules -----------------------------------------------------------------------


@pytest.mark.django_db
def test_it_lets_a_client_reach_only_herself(world: World) -> None:
    every = tuple(Purpose)
    assert list(clients_for(world.client_a_user, *every)) == [world.client_a]
    assert list(clients_for(world.client_b_user, *every)) == [world.client_b]
    # Client A asking for client B's objects is refused everywhere.
    victim_b = victim_of(world.client_b, world.colleague)
    fillers = registry(victim_b)
    problems: list[str] = []
    for route in object_routes():
        kwargs, missing = urlwalk.fill(route, fillers)
        if not missing:
            url = route.url(kwargs)
            problems += check_refused(world.client_a_user, url, route, ("Bea Stone",))
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_it_shows_an_admin_off_the_care_team_no_clinical_content(
    world: World, victim: Victim
) -> None:
    fillers = registry(victim)
    seen: list[str] = []
    for route in routes():
        if is_public(route):
            continue
        kwargs, missing = urlwalk.fill(route, fillers)
        if missing:
            continue
        url = route.url(kwargs)
        http = signed_in(world.admin)
        for method, response in requests(http, url):
            if urlwalk.leaks(response, (CONCERNS, NOTE, PRIVATE_NOTE)):
                seen.append(f"{method} {url} [{route}]")
    assert not seen, "A practice admin off the care team saw presenting concerns at:\n" + (
        "\n".join(seen)
    )


@pytest.mark.django_db
def test_it_can_see_a_leak_when_there_is_one(world: World, victim: Victim) -> None:
    """The canary checks above are only worth something if the canary shows up where it should:
    client A's own clinician must find her presenting concerns on some page."""
    client_pages = [r for r in object_routes() if r.kwargs == ("client_id",)]
    if not client_pages:
        pytest.skip("no client page exists yet")
    found = [
        str(route)
        for route in client_pages
        if urlwalk.leaks(
            signed_in(world.clinician).get(route.url({"client_id": victim.client.pk})), (CONCERNS,)
        )
    ]
    assert found, "client A's clinician sees her presenting concerns on no page at all"


@pytest.mark.django_db
@pytest.mark.urls("tests.security.leaky_urls")
def test_it_catches_a_view_that_skips_the_access_helper(
    world: World, victim: Victim, strangers: dict[str, User | None]
) -> None:
    by_name = {route.name: route for route in routes()}
    leaky, scoped = by_name["leaky_client"], by_name["scoped_client"]
    kwargs = {"client_id": victim.client.pk}
    canaries = (CONCERNS, NAME)
    for role, user in strangers.items():
        if user is None:
            continue  # the login middleware refuses anonymous visitors before any view runs
        assert check_refused(user, leaky.url(kwargs), leaky, canaries), role
        assert not check_refused(user, scoped.url(kwargs), scoped, canaries), role
    # And the clinician on the care team is let in, with the canary on the page.
    response = signed_in(world.clinician).get(scoped.url(kwargs))
    assert urlwalk.leaks(response, (CONCERNS,)) == [CONCERNS]


@pytest.mark.django_db
def test_it_keeps_the_public_pages_public_and_bare(victim: Victim) -> None:
    """The allow-list says what issue 2 makes public; each entry must really open without signing
    in (else it is mislabelled) and show nothing of client A to a visitor with a junk link."""
    problems: list[str] = []
    junk = {"token": "not-a-real-token", "uidb64": "MQ"}
    for route in routes():
        if not is_public(route):
            continue
        url = route.url({name: junk.get(name, "x") for name in route.kwargs})
        response = HttpClient().get(url)
        if urlwalk.is_login_redirect(response) or response.status_code >= 500:
            problems.append(f"GET {url} [{route}] answered {response.status_code}")
        leaked = urlwalk.leaks(response, (CONCERNS, NAME, RELATIONSHIP))
        if leaked:
            problems.append(f"GET {url} [{route}] shows {leaked}")
    assert not problems, "\n".join(problems)
