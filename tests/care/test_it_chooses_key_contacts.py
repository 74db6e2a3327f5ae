from __future__ import annotations

import pytest
from django.http import HttpRequest

from kithkin.accounts.models import Invitation, Role
from kithkin.audit.models import AuditEvent
from kithkin.care import plan
from kithkin.care.models import KeyContact
from kithkin.network.models import Strain
from tests import factories
from tests.care import plan_data
from tests.care.plan_data import url
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def _request(world: World) -> HttpRequest:
    request = HttpRequest()
    request.user = world.clinician
    return request


def test_it_offers_people_from_the_map_but_never_one_marked_not_safe(world: World) -> None:
    factories.person_of(world.client_a, "Sam Safe")
    factories.person_of(world.client_a, "Rex Unsafe", not_safe=True)
    factories.person_of(world.client_b, "Bea's Friend")
    gone = factories.person_of(world.client_a, "Gone Person")
    gone.removed_at = gone.created_at
    gone.save()
    for user in (world.clinician, world.client_a_user):
        body = signed_in(user).get(url("care_contacts", world.client_a)).content.decode()
        assert "Choose Sam Safe" in body
        assert "Rex Unsafe" not in body and "Bea&#x27;s Friend" not in body
        assert "Gone Person" not in body
        assert "never shown here" in body


def test_it_warns_before_choosing_someone_with_a_strained_tie(world: World) -> None:
    factories.person_of(world.client_a, "Kim", strain=Strain.LOT)
    factories.person_of(world.client_a, "Lee", strain=Strain.NONE)
    body = signed_in(world.client_a_user).get(url("care_contacts", world.client_a)).content
    text = body.decode()
    assert "You noted a lot of strain with Kim." in text
    assert "strain with Lee" not in text
    clinician = signed_in(world.clinician).get(url("care_contacts", world.client_a)).content
    assert "The map notes a lot of strain with Kim." in clinician.decode()


@pytest.mark.parametrize("who", ["clinician", "client_a_user"])
def test_it_lets_the_care_team_and_the_client_choose(world: World, who: str) -> None:
    kim = factories.person_of(world.client_a, "Kim", strain=Strain.SOME)
    user = getattr(world, who)
    response = signed_in(user).post(url("care_contacts", world.client_a), {"person": str(kim.pk)})
    contact = KeyContact.objects.get()
    assert response["Location"] == url("care_contact", world.client_a, contact_id=contact.pk)
    assert (contact.client, contact.person, contact.chosen_by) == (world.client_a, kim, user)
    event = AuditEvent.objects.get(action="care.contact.choose")
    assert event.detail == {"person": str(kim.pk), "strained": True}
    page = signed_in(user).get(url("care_contact", world.client_a, contact_id=contact.pk))
    body = page.content.decode()
    assert "Chosen, not invited yet" in body and "some strain with Kim" in body


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("client_a_user", "Rex is marked as not safe for you, so they cannot be involved."),
        ("clinician", "Rex is marked as not safe for the client, so they cannot be involved."),
    ],
)
def test_it_refuses_a_crafted_request_naming_someone_not_safe(
    world: World, who: str, message: str
) -> None:
    rex = factories.person_of(world.client_a, "Rex", not_safe=True)
    response = signed_in(getattr(world, who)).post(
        url("care_contacts", world.client_a), {"person": str(rex.pk)}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not KeyContact.objects.exists()
    assert AuditEvent.objects.filter(action="care.contact.choose", outcome="failed").exists()


def test_it_refuses_someone_not_safe_in_the_service_too(world: World) -> None:
    rex = factories.person_of(world.client_a, "Rex", not_safe=True)
    with pytest.raises(plan.PlanError, match="marked as not safe"):
        plan.choose(_request(world), world.client_a, rex, audience="clinician")
    assert not KeyContact.objects.exists()


def test_it_refuses_someone_from_another_map_or_chosen_twice(world: World) -> None:
    theirs = factories.person_of(world.client_b, "Bea's friend")
    sam = factories.person_of(world.client_a, "Sam")
    http = signed_in(world.clinician)
    page = url("care_contacts", world.client_a)
    response = http.post(page, {"person": str(theirs.pk)})
    assert "That person is not on the map any more." in response.content.decode()
    http.post(page, {"person": str(sam.pk)})
    response = http.post(page, {"person": str(sam.pk)})
    assert "Sam is already a key contact." in response.content.decode()
    assert KeyContact.objects.count() == 1


def test_it_shows_each_key_contacts_status(world: World) -> None:
    chosen = plan_data.key_contact(world.client_a, factories.person_of(world.client_a, "Ann"))
    invited = plan_data.key_contact(world.client_a, factories.person_of(world.client_a, "Ben"))
    joined = plan_data.key_contact(world.client_a, factories.person_of(world.client_a, "Cat"))
    invited.invitation = Invitation.objects.create(
        practice=world.practice,
        role=Role.MEMBER,
        client=world.client_a,
        email="ben@example.test",
        secret_hash="0" * 64,
    )
    invited.save()
    joined.network_member = plan_data.member_record(world.client_a, world.member)
    joined.save()
    rows = {row.person.name: row.status for row in plan.key_contact_rows(world.client_a)}
    assert rows == {
        "Ann": plan.ContactStatus.CHOSEN,
        "Ben": plan.ContactStatus.INVITED,
        "Cat": plan.ContactStatus.JOINED,
    }
    body = signed_in(world.client_a_user).get(url("care_contacts", world.client_a)).content
    text = body.decode()
    for expected in ("Chosen, not invited yet", "Invited", "Joined"):
        assert expected in text
    assert chosen.pk and "Ann" in text


def test_it_keeps_why_and_removes_softly(world: World) -> None:
    contact = plan_data.key_contact(world.client_a, factories.person_of(world.client_a, "Ann"))
    contact.network_member = plan_data.member_record(world.client_a, world.member)
    contact.save()
    page = url("care_contact", world.client_a, contact_id=contact.pk)
    http = signed_in(world.client_a_user)
    http.post(page, {"why": "She always calms me down", "save_why": "1"})
    contact.refresh_from_db()
    assert contact.why == "She always calms me down"
    assert AuditEvent.objects.get(action="care.contact.update").detail == {"fields": ["why"]}

    response = http.post(page, {"remove": "1"})
    assert response["Location"] == url("care_contacts", world.client_a)
    contact.refresh_from_db()
    assert contact.removed_at is not None
    # Removing a key contact does not end the member's access: that is its own decision.
    assert plan_data.member_record(world.client_a, world.member).ended_at is None
    assert http.get(page).status_code == 404
    assert AuditEvent.objects.filter(action="care.contact.remove").exists()


@pytest.mark.parametrize("who", plan_data.STRANGERS)
def test_it_refuses_strangers(world: World, who: str) -> None:
    sam = factories.person_of(world.client_a, "Sam Canary")
    contact = plan_data.key_contact(world.client_a, factories.person_of(world.client_a, "Ann"))
    http = signed_in(getattr(world, who))
    contacts = url("care_contacts", world.client_a)
    detail = url("care_contact", world.client_a, contact_id=contact.pk)
    for page in (contacts, detail):
        response = http.get(page)
        assert response.status_code == 404
        assert "Sam Canary" not in response.content.decode()
    assert http.post(contacts, {"person": str(sam.pk)}).status_code == 404
    assert http.post(detail, {"why": "mine now", "save_why": "1"}).status_code == 404
    assert http.post(detail, {"remove": "1"}).status_code == 404
    contact.refresh_from_db()
    assert contact.removed_at is None and contact.why == ""
    assert KeyContact.objects.count() == 1
