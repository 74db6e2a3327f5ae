from __future__ import annotations

import datetime
import json
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import Client, User
from kithkin.audit.models import AuditEvent
from kithkin.network import services
from kithkin.network.models import Contact, Person
from tests import factories
from tests.conftest import World, signed_in

STRANGERS = ["colleague", "admin", "member", "client_b_user", "stranger"]
UTC = datetime.UTC
LONDON = zoneinfo.ZoneInfo("Europe/London")
AUCKLAND = zoneinfo.ZoneInfo("Pacific/Auckland")


def _url(client: Client, name: str = "network_contact_log") -> str:
    return reverse(name, kwargs={"client_id": client.pk})


def _at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, zone: datetime.tzinfo = UTC
) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=zone)


def test_it_resets_the_rhythm_with_any_contact() -> None:
    now = _at(2025, 3, 20, 12)
    assert services.rhythm_status(None, None, now=now).state is services.Rhythm.NO_WISH
    assert services.rhythm_status(None, 7, now=now).state is services.Rhythm.NEVER
    assert services.rhythm_status(_at(2025, 3, 13, 12), 7, now=now).within
    due = services.rhythm_status(_at(2025, 3, 12, 12), 7, now=now)
    assert due.state is services.Rhythm.DUE and due.days_since == 8


def test_it_counts_days_in_the_readers_time_zone() -> None:
    # 23:30 in London on 1 March, read at 00:30 the next morning: "yesterday", 1 day ago.
    contact = _at(2025, 3, 1, 23, 30, zone=LONDON)
    now = _at(2025, 3, 2, 0, 30, zone=LONDON)
    assert services.days_between(contact, now, LONDON) == 1
    # The same two moments in Auckland (13 hours ahead) fall on the same day.
    assert services.days_between(contact, now, AUCKLAND) == 0
    # A one-day rhythm is kept at first; a day later it is due in London, still kept in Auckland.
    assert services.rhythm_status(contact, 1, now=now, zone=LONDON).within
    later = now + datetime.timedelta(days=1)
    assert services.rhythm_status(contact, 1, now=later, zone=LONDON).state is services.Rhythm.DUE
    assert services.rhythm_status(contact, 1, now=later, zone=AUCKLAND).within


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["clinician", "client_a_user"])
def test_it_logs_a_contact_in_two_taps(world: World, who: str) -> None:
    sam = factories.person_of(
        world.client_a, "Sam", wished_rhythm_days=7, preferred_channel="video"
    )
    factories.contact(sam, occurred_at=timezone.now() - datetime.timedelta(days=30))
    user: User = getattr(world, who)
    http = signed_in(user)
    assert services.rhythm_status(services.last_contact_of(sam), 7).state is services.Rhythm.DUE
    # Tap 1: the person's shortcut opens the form with them chosen and their channel preset.
    page = http.get(_url(world.client_a) + f"?person={sam.pk}").content.decode()
    assert 'value="video" selected' in page
    assert f'value="{sam.pk}" selected' in page
    # Tap 2: "Log it now" posts the defaults as they are.
    form = page.split('class="form card contact-form"')[1]
    when = form.split('name="occurred_at" value="')[1].split('"')[0]
    response = http.post(
        _url(world.client_a),
        {"person": str(sam.pk), "occurred_at": when, "channel": "video", "next": "person"},
    )
    assert response.status_code == 302
    contact = Contact.objects.order_by("-logged_at").first()
    assert contact is not None and contact.logged_by == user and contact.channel == "video"
    assert abs((contact.occurred_at - timezone.now()).total_seconds()) < 120
    assert services.rhythm_status(services.last_contact_of(sam), 7).within
    event = AuditEvent.objects.get(action="network.contact.create")
    assert event.detail == {"person_id": str(sam.pk)}


@pytest.mark.django_db
def test_it_reads_the_time_in_the_users_zone(world: World) -> None:
    sam = factories.person_of(world.client_a, "Sam")
    user = world.client_a_user
    user.time_zone = "Pacific/Auckland"
    user.save()
    signed_in(user).post(
        _url(world.client_a),
        {"person": str(sam.pk), "occurred_at": "2025-01-10T09:00", "channel": "phone"},
    )
    contact = Contact.objects.get()
    assert contact.occurred_at == _at(2025, 1, 10, 9, zone=AUCKLAND)
    assert contact.occurred_at == _at(2025, 1, 9, 20)


@pytest.mark.django_db
def test_it_records_how_the_contact_felt(world: World) -> None:
    sam = factories.person_of(world.client_a, "Sam")
    signed_in(world.client_a_user).post(
        _url(world.client_a),
        {
            "person": str(sam.pk),
            "occurred_at": "2025-01-10T09:00",
            "channel": "in_person",
            "felt_safe": "on",
            "felt_seen": "on",
            "note": "Coffee by the river",
        },
    )
    contact = Contact.objects.get()
    assert contact.felt_safe and contact.felt_seen and not contact.felt_stable
    assert contact.note == "Coffee by the river"
    assert "river" not in json.dumps(list(AuditEvent.objects.values_list("detail", flat=True)))


@pytest.mark.django_db
def test_it_refuses_a_time_in_the_future_and_logs_nothing(world: World) -> None:
    sam = factories.person_of(world.client_a, "Sam")
    response = signed_in(world.client_a_user).post(
        _url(world.client_a),
        {"person": str(sam.pk), "occurred_at": "2999-01-10T09:00", "channel": "phone"},
    )
    assert response.status_code == 200
    assert "in the future" in response.content.decode()
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_it_never_suggests_a_not_safe_person_but_lets_them_be_logged(world: World) -> None:
    factories.person_of(world.client_a, "Sam")
    nico = factories.person_of(world.client_a, "Nico", not_safe=True)
    http = signed_in(world.client_a_user)
    for url in (_url(world.client_a), _url(world.client_a, "network_map")):
        page = http.get(url).content.decode()
        shortcuts = page.split('id="quick-log-heading"')[1].split("</section>")[0]
        assert "Sam" in shortcuts and "Nico" not in shortcuts
    response = http.post(
        _url(world.client_a),
        {"person": str(nico.pk), "occurred_at": "2025-01-10T09:00", "channel": "phone"},
    )
    assert response.status_code == 302
    assert Contact.objects.filter(person=nico).exists()


@pytest.mark.django_db
def test_it_refuses_someone_from_another_map(world: World) -> None:
    other = factories.person_of(world.client_b, "Not yours")
    response = signed_in(world.client_a_user).post(
        _url(world.client_a),
        {"person": str(other.pk), "occurred_at": "2025-01-10T09:00", "channel": "phone"},
    )
    assert response.status_code == 200
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_it_lists_contacts_in_a_constant_number_of_queries(world: World) -> None:
    http = signed_in(world.clinician)
    counts = []
    for size in (2, 12):
        while Contact.objects.count() < size:
            person = factories.person_of(world.client_a, f"P{Person.objects.count()}")
            factories.contact(person)
        http.get(_url(world.client_a, "network_contacts"))
        with CaptureQueriesContext(connection) as queries:
            response = http.get(_url(world.client_a, "network_contacts"))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert "P11" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who", STRANGERS)
@pytest.mark.parametrize("name", ["network_contact_log", "network_contacts"])
def test_it_refuses_strangers_and_logs_nothing(world: World, who: str, name: str) -> None:
    sam = factories.person_of(world.client_a, "Sam Secret")
    factories.contact(sam)
    http = signed_in(getattr(world, who))
    assert http.get(_url(world.client_a, name) + f"?person={sam.pk}").status_code == 404
    response = http.post(
        _url(world.client_a, name),
        {"person": str(sam.pk), "occurred_at": "2025-01-10T09:00", "channel": "phone"},
    )
    assert response.status_code == 404
    assert "Sam Secret" not in response.content.decode()
    assert Contact.objects.count() == 1
