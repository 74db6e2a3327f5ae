"""Break-glass emergency access: a staff member of the client's practice who is not on the care
team opens one client's record for a short, stated time. It needs a reason, reaches that one
client only, stops by itself at its expiry (or at "End now"), tags every read and write with the
grant's id, tells the admins and the lead clinician at once, and an admin reviews it. Strangers
from another practice, clients and members get nothing."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client as HttpClient
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts import breakglass
from kithkin.accounts.access import Purpose, clients_for
from kithkin.accounts.breakglass_views import SEARCH_LIMIT_PER_WINDOW
from kithkin.accounts.models import BreakGlassAccess, Client, Role, User
from kithkin.audit import services as audit
from kithkin.audit.models import AuditEvent, Outcome
from kithkin.notifications import kinds
from kithkin.notifications.models import Notification
from kithkin.privacy.models import DataExport
from tests import factories
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

SEARCH = "/emergency-access/"
OPEN = "/emergency-access/open/"
END = "/emergency-access/end/"
REVIEW = "/practice/emergency-access/"
REASON = "Police called: she is missing and they need her safety plan now canary-bg42"


def overview(client: Client) -> str:
    return f"/clients/{client.pk}/"


def open_by_page(http: HttpClient, client: Client, reason: str = REASON, minutes: Any = 30) -> Any:
    return http.post(OPEN, {"client": str(client.pk), "reason": reason, "minutes": minutes})


def opened(
    world: World, user: User | None = None, client: Client | None = None
) -> BreakGlassAccess:
    """Open access for the colleague (not on client A's care team) through the page."""
    user, client = user or world.colleague, client or world.client_a
    response = open_by_page(signed_in(user), client)
    assert response.status_code == 302, response.content.decode()[:2000]
    return BreakGlassAccess.objects.get(user=user, client=client)


def request_as(user: User) -> Any:
    request = RequestFactory().post("/")
    request.user = user
    return request


# --- opening: a reason, a duration, the practice's staff only -------------------------------


@pytest.mark.parametrize("reason", ["", "   ", "Need it urgently"])
def test_it_refuses_without_a_real_reason(world: World, reason: str) -> None:
    http = signed_in(world.colleague)
    response = open_by_page(http, world.client_a, reason=reason)
    assert response.status_code == 200
    page = response.content.decode()
    assert "error-summary" in page
    assert not BreakGlassAccess.objects.exists()
    assert http.get(overview(world.client_a)).status_code == 404


def test_it_names_the_problem_with_a_short_reason(world: World) -> None:
    page = open_by_page(signed_in(world.colleague), world.client_a, "Urgent").content.decode()
    assert "at least 20 characters" in page


@pytest.mark.parametrize("minutes", ["0", "-5", "61", "999", "soon"])
def test_it_refuses_a_duration_outside_the_limit(world: World, minutes: str) -> None:
    response = open_by_page(signed_in(world.colleague), world.client_a, minutes=minutes)
    assert response.status_code == 200
    assert "error-summary" in response.content.decode()
    assert not BreakGlassAccess.objects.exists()


def test_it_caps_the_duration_by_the_setting(world: World, settings: Any) -> None:
    settings.BREAK_GLASS_MAX_MINUTES = 20
    with pytest.raises(breakglass.BreakGlassError, match="1 to 20 minutes"):
        breakglass.open_access(request_as(world.colleague), world.client_a, REASON, 30)
    page = signed_in(world.colleague).post(OPEN, {"client": str(world.client_a.pk)})
    assert 'value="20"' in page.content.decode()
    assert 'value="30"' not in page.content.decode()
    grant = breakglass.open_access(request_as(world.colleague), world.client_a, REASON, 20)
    assert grant.expires_at - grant.started_at == timedelta(minutes=20)


def test_it_refuses_a_stranger_from_another_practice(world: World) -> None:
    http = signed_in(world.stranger)
    # The search finds nobody outside the stranger's own practice...
    page = http.post(SEARCH, {"name": "Alex"}).content.decode()
    assert "Alex Rivers" not in page
    # ...and naming client A's id anyway is a 404, audited as refused.
    response = open_by_page(http, world.client_a)
    assert response.status_code == 404
    assert not BreakGlassAccess.objects.exists()
    assert AuditEvent.objects.filter(
        actor_id=world.stranger.pk, action="breakglass.choose", outcome=Outcome.DENIED
    ).exists()
    assert http.get(overview(world.client_a)).status_code == 404
    # The service refuses too, whoever calls it.
    with pytest.raises(breakglass.BreakGlassError):
        breakglass.open_access(request_as(world.stranger), world.client_a, REASON, 30)
    assert not BreakGlassAccess.objects.exists()
    assert AuditEvent.objects.filter(
        actor_id=world.stranger.pk, action="breakglass.open", outcome=Outcome.DENIED
    ).exists()


@pytest.mark.parametrize("who", ["client_a_user", "client_b_user", "member"])
def test_it_refuses_clients_and_members(world: World, who: str) -> None:
    http = signed_in(getattr(world, who))
    for url in (SEARCH, OPEN, END, REVIEW):
        assert http.post(url, {"client": str(world.client_a.pk), "name": "Alex"}).status_code == 403
    assert open_by_page(http, world.client_a).status_code == 403
    assert not BreakGlassAccess.objects.exists()


def test_it_finds_the_practice_clients_by_name_with_a_post(world: World) -> None:
    http = signed_in(world.colleague)
    page = http.post(SEARCH, {"name": "rivers"}).content.decode()
    assert "Alex Rivers" in page and "Bea Stone" not in page
    # A GET with the name in the query string searches nothing: names stay out of URLs.
    assert "Alex Rivers" not in http.get(SEARCH + "?name=rivers").content.decode()
    # Her own clients are shown as such, with the record rather than emergency access.
    page = http.post(SEARCH, {"name": "stone"}).content.decode()
    assert "You are on the care team" in page
    event = AuditEvent.objects.filter(action="breakglass.search").last()
    assert event is not None and "rivers" not in str(event.detail).lower()


def test_it_limits_name_searches_in_the_shared_store(world: World) -> None:
    http = signed_in(world.colleague)
    for _ in range(SEARCH_LIMIT_PER_WINDOW):
        assert http.post(SEARCH, {"name": "rivers"}).status_code == 200
    refused = http.post(SEARCH, {"name": "rivers"})
    assert refused.status_code == 429 and "Alex Rivers" not in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    # Per person: a colleague's searches use up nobody else's.
    assert signed_in(world.clinician).post(SEARCH, {"name": "rivers"}).status_code == 200


def test_it_sends_the_care_team_to_the_record_instead(world: World) -> None:
    response = open_by_page(signed_in(world.clinician), world.client_a)
    assert response.status_code == 302
    assert response["Location"] == overview(world.client_a)
    assert not BreakGlassAccess.objects.exists()


# --- what a live grant opens --------------------------------------------------------------


def test_it_opens_that_one_client_for_that_one_person(world: World) -> None:
    client_c = factories.client_of(world.practice, world.clinician, display_name="Cai Third")
    assert world.client_a not in clients_for(world.colleague, Purpose.CARE)
    grant = opened(world)
    assert grant.reason == REASON
    http = signed_in(world.colleague)
    page = http.get(overview(world.client_a)).content.decode()
    assert "Sleep, low mood" in page  # presenting concerns: clinical content
    assert http.get(f"/clients/{world.client_a.pk}/measures/").status_code == 200
    assert set(clients_for(world.colleague, Purpose.CARE)) == {world.client_a, world.client_b}
    # Not another client, and not for anyone else.
    assert http.get(overview(client_c)).status_code == 404
    assert world.client_a not in clients_for(world.admin, Purpose.CARE)
    admin_page = signed_in(world.admin).get(overview(world.client_a)).content.decode()
    assert "Sleep, low mood" not in admin_page


def test_it_stops_at_its_expiry_without_any_job(world: World) -> None:
    grant = opened(world)
    http = signed_in(world.colleague)
    assert http.get(overview(world.client_a)).status_code == 200
    past = timezone.now() - timedelta(seconds=1)
    BreakGlassAccess.objects.filter(pk=grant.pk).update(
        started_at=past - timedelta(minutes=30), expires_at=past
    )
    assert http.get(overview(world.client_a)).status_code == 404
    assert world.client_a not in clients_for(world.colleague, Purpose.CARE)
    assert "Emergency access to" not in http.get("/").content.decode()


def test_it_stops_when_the_holder_leaves_the_practice(world: World) -> None:
    opened(world)
    world.colleague.membership.practice = world.other_practice
    world.colleague.membership.save()
    assert world.client_a not in clients_for(world.colleague, Purpose.CARE)


def test_it_ends_now(world: World) -> None:
    grant = opened(world)
    http = signed_in(world.colleague)
    # Someone else cannot end it (nor learn that it exists).
    signed_in(world.clinician).post(END, {"grant": grant.pk})
    grant.refresh_from_db()
    assert grant.ended_at is None
    assert AuditEvent.objects.filter(
        actor_id=world.clinician.pk, action="breakglass.end", outcome=Outcome.DENIED
    ).exists()
    response = http.post(END, {"grant": grant.pk})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.ended_at is not None and grant.ended_by == world.colleague
    assert http.get(overview(world.client_a)).status_code == 404
    assert AuditEvent.objects.filter(
        action="breakglass.end", outcome=Outcome.SUCCESS, detail__break_glass=grant.pk
    ).exists()
    # Ending it twice changes nothing.
    assert not breakglass.end_access(request_as(world.colleague), grant)
    assert http.get(END).status_code == 405


def test_it_refuses_a_second_live_grant_for_the_same_client(world: World) -> None:
    opened(world)
    response = open_by_page(signed_in(world.colleague), world.client_a)
    assert response.status_code == 302 and response["Location"] == overview(world.client_a)
    with pytest.raises(breakglass.BreakGlassError, match="already have emergency access"):
        breakglass.open_access(request_as(world.colleague), world.client_a, REASON, 30)
    assert BreakGlassAccess.objects.count() == 1


# --- the audit trail, the people told, the banner -------------------------------------------


def test_it_audits_the_opening_and_every_read_with_the_grant_id(world: World) -> None:
    grant = opened(world)
    opening = AuditEvent.objects.get(action="breakglass.open", outcome=Outcome.SUCCESS)
    assert opening.detail == {"break_glass": grant.pk, "minutes": 30}
    assert opening.client_id == str(world.client_a.pk)
    assert "canary-bg42" not in str(opening.payload())
    start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    http = signed_in(world.colleague)
    http.get(overview(world.client_a))
    http.get(f"/clients/{world.client_a.pk}/measures/")
    http.get(f"/clients/{world.client_b.pk}/")  # her own client: an ordinary read
    signed_in(world.clinician).get(overview(world.client_a))  # the care team: ordinary too
    reads = AuditEvent.objects.filter(id__gt=start, outcome=Outcome.SUCCESS)
    tagged = reads.filter(detail__break_glass=grant.pk)
    assert set(tagged.values_list("actor_id", flat=True)) == {world.colleague.pk}
    assert set(tagged.values_list("client_id", flat=True)) == {str(world.client_a.pk)}
    assert {"client.view", "measures.overview.view"} <= set(tagged.values_list("action", flat=True))
    untagged = reads.exclude(id__in=tagged.values("id")).filter(
        client_id__in=[str(world.client_a.pk), str(world.client_b.pk)]
    )
    assert untagged.filter(actor_id=world.clinician.pk).exists()
    assert untagged.filter(actor_id=world.colleague.pk, client_id=str(world.client_b.pk)).exists()
    assert not untagged.filter(actor_id=world.colleague.pk, client_id=str(world.client_a.pk))


def test_it_tags_every_write_made_under_the_grant_and_the_review_lists_it(world: World) -> None:
    grant = opened(world)
    quick_add = reverse("network_quick_add", kwargs={"client_id": world.client_a.pk})
    http = signed_in(world.colleague)
    http.post(quick_add, {"names": "Ana", "ring": 2, "category": "friend"})
    created = AuditEvent.objects.get(action="network.person.create", actor_id=world.colleague.pk)
    assert created.detail.get("break_glass") == grant.pk
    # The same write by the care team, and by the holder for her own client, is ordinary.
    signed_in(world.clinician).post(quick_add, {"names": "Bo", "ring": 2, "category": "friend"})
    own = reverse("network_quick_add", kwargs={"client_id": world.client_b.pk})
    http.post(own, {"names": "Cy", "ring": 2, "category": "friend"})
    ordinary = AuditEvent.objects.filter(action="network.person.create").exclude(pk=created.pk)
    assert ordinary.count() == 2
    assert not ordinary.filter(detail__has_key="break_glass").exists()
    # A stranger's refused write adds nothing to the map and carries no grant.
    assert signed_in(world.stranger).post(quick_add, {"names": "Di"}).status_code == 404
    assert AuditEvent.objects.filter(action="network.person.create").count() == 3
    # Once the grant has ended, the holder's writes are refused, not tagged.
    http.post(END, {"grant": grant.pk})
    assert http.post(quick_add, {"names": "Ed", "ring": 2, "category": "friend"}).status_code == 404
    page = signed_in(world.admin).get(REVIEW).content.decode()
    assert "Network: person: create" in page


def test_it_does_not_let_the_holder_download_the_whole_record(world: World) -> None:
    grant = opened(world)
    export = reverse("privacy_client_export", kwargs={"client_id": world.client_a.pk})
    http = signed_in(world.colleague)
    page = http.get(export)
    assert page.status_code == 403
    assert "Not available under emergency access" in page.content.decode()
    assert http.post(export, {}).status_code == 403
    assert not DataExport.objects.exists()
    refused = AuditEvent.objects.filter(action="privacy.export", outcome=Outcome.DENIED)
    assert refused.count() == 2
    assert all(e.detail.get("break_glass") == grant.pk for e in refused)
    # The care team still can; a stranger from another practice learns nothing.
    assert signed_in(world.clinician).get(export).status_code == 200
    assert signed_in(world.stranger).get(export).status_code == 404


def test_it_tells_the_admins_and_the_lead_clinician_without_naming_the_client(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    second_admin = factories.staff(world.practice, Role.ADMIN, display_name="Second Admin")
    factories.staff(world.other_practice, Role.ADMIN, display_name="Other Admin")
    with django_capture_on_commit_callbacks(execute=True):
        opened(world)
    told = Notification.objects.filter(kind=kinds.BREAK_GLASS)
    assert set(told.values_list("user_id", flat=True)) == {
        world.admin.pk,
        second_admin.pk,
        world.clinician.pk,  # client A's lead clinician
    }
    assert all(n.critical for n in told)
    assert {n.url for n in told} == {REVIEW, f"/clients/{world.client_a.pk}/audit/"}
    assert len(mail.outbox) == 3
    for message in mail.outbox:
        assert "Colin Colleague" in message.subject
        for secret in ("Alex Rivers", "Alex", "canary-bg42", "safety plan"):
            assert secret not in f"{message.subject}{message.body}"


def test_it_shows_a_banner_on_every_page_while_live(world: World) -> None:
    grant = opened(world)
    http = signed_in(world.colleague)
    for url in ("/", "/notifications/", overview(world.client_a)):
        page = http.get(url).content.decode()
        assert "Emergency access to" in page and "Alex Rivers" in page, url
        assert "End now" in page and f'name="grant" value="{grant.pk}"' in page
    # Nobody else sees it.
    assert "Emergency access to" not in signed_in(world.clinician).get("/").content.decode()


def test_it_shows_the_end_time_in_the_holders_time_zone(world: World) -> None:
    world.colleague.time_zone = "Asia/Tokyo"
    world.colleague.save()
    grant = opened(world)
    tokyo = grant.expires_at.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    page = signed_in(world.colleague).get("/").content.decode()
    assert f"ends at {tokyo:%H:%M}" in page


# --- review -----------------------------------------------------------------------------------


def test_it_lets_an_admin_review_what_was_opened(world: World) -> None:
    grant = opened(world)
    signed_in(world.colleague).get(overview(world.client_a))
    signed_in(world.colleague).get(f"/clients/{world.client_a.pk}/measures/")
    admin = signed_in(world.admin)
    page = admin.get(REVIEW).content.decode()
    assert "Colin Colleague" in page and "Alex Rivers" in page
    assert "canary-bg42" in page  # the reason, for the reviewer
    assert "Opened the client&#x27;s page" in page and "Measures: overview: view" in page
    assert "Open now" in page and "End it now" in page
    # A grant still running cannot be reviewed: end it first.
    admin.post(REVIEW, {"grant": grant.pk, "note": "Checked"})
    grant.refresh_from_db()
    assert grant.reviewed_at is None
    admin.post(END, {"grant": grant.pk, "from": "review"})
    admin.post(REVIEW, {"grant": grant.pk, "note": "Called the police back canary-note7"})
    grant.refresh_from_db()
    assert grant.reviewed_by == world.admin and grant.reviewed_at is not None
    assert grant.review_note == "Called the police back canary-note7"
    page = admin.get(REVIEW).content.decode()
    assert "Reviewed by Ada Admin" in page
    event = AuditEvent.objects.get(action="breakglass.review", outcome=Outcome.SUCCESS)
    assert event.detail == {"break_glass": grant.pk, "with_note": True}


def test_it_refuses_the_review_to_anyone_but_the_practice_admins(world: World) -> None:
    grant = opened(world)
    BreakGlassAccess.objects.filter(pk=grant.pk).update(ended_at=timezone.now())
    other_admin = factories.staff(world.other_practice, Role.ADMIN, display_name="Other Admin")
    page = signed_in(other_admin).get(REVIEW).content.decode()
    assert "Colin Colleague" not in page and "canary-bg42" not in page
    signed_in(other_admin).post(REVIEW, {"grant": grant.pk, "note": "mine now"})
    assert signed_in(world.stranger).get(REVIEW).status_code == 403
    assert signed_in(world.colleague).post(REVIEW, {"grant": grant.pk}).status_code == 403
    grant.refresh_from_db()
    assert grant.reviewed_at is None
    assert AuditEvent.objects.filter(
        actor_id=other_admin.pk, action="breakglass.review", outcome=Outcome.DENIED
    ).exists()


def test_an_admin_cannot_review_their_own_use(world: World) -> None:
    grant = opened(world, user=world.admin)
    BreakGlassAccess.objects.filter(pk=grant.pk).update(ended_at=timezone.now())
    grant.refresh_from_db()
    with pytest.raises(breakglass.BreakGlassError, match="Another admin"):
        breakglass.review(request_as(world.admin), grant, "")
    second_admin = factories.staff(world.practice, Role.ADMIN, display_name="Second Admin")
    breakglass.review(request_as(second_admin), grant, "")
    assert BreakGlassAccess.objects.get(pk=grant.pk).reviewed_by == second_admin


def test_it_keeps_reason_and_note_encrypted(world: World) -> None:
    grant = opened(world)
    BreakGlassAccess.objects.filter(pk=grant.pk).update(ended_at=timezone.now())
    grant.refresh_from_db()
    breakglass.review(request_as(world.admin), grant, "Note canary-note7")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason, review_note FROM accounts_breakglassaccess")
        raw = str(cursor.fetchall())
    assert "canary-bg42" not in raw and "canary-note7" not in raw


def _uses(world: World, count: int) -> None:
    """``count`` ended grants in the practice, each by its own clinician, each with reads."""
    now = timezone.now()
    for index in range(count):
        user = factories.staff(world.practice, Role.CLINICIAN, display_name=f"Locum {index}")
        grant = BreakGlassAccess.objects.create(
            user=user,
            client=world.client_a,
            reason=REASON,
            started_at=now - timedelta(hours=2),
            expires_at=now - timedelta(hours=1),
        )
        for action in ("client.view", "measures.overview.view", "client.view"):
            audit.record(
                None,
                action=action,
                object_type="client",
                object_id=world.client_a.pk,
                client=world.client_a,
                actor=user,
                detail={"break_glass": grant.pk},
            )


def test_the_review_page_costs_the_same_queries_however_many_uses(world: World) -> None:
    http = signed_in(world.admin)
    http.get(REVIEW)  # warm the session and caches

    def queries_with(count: int) -> int:
        BreakGlassAccess.objects.all().delete()
        _uses(world, count)
        with CaptureQueriesContext(connection) as captured:
            page = http.get(REVIEW).content.decode()
        assert page.count("Locum ") == count
        assert page.count("(2 times,") == count
        return len(captured)

    assert queries_with(2) == queries_with(9)
