from __future__ import annotations

import pytest

from kithkin.accounts import access
from kithkin.accounts.access import Purpose
from kithkin.accounts.models import NetworkMember
from kithkin.audit.models import AuditEvent
from kithkin.care import consent, plan
from kithkin.care.models import KeyContact
from tests import factories
from tests.care import plan_data
from tests.care.plan_data import url
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def joined(world: World) -> KeyContact:
    member = plan_data.member_record(world.client_a, world.member)
    plan_data.grant(member, goals=True, own_actions=True)
    person = factories.person_of(world.client_a, "Mel")
    return plan_data.key_contact(world.client_a, person, network_member=member)


@pytest.mark.parametrize("who", ["clinician", "client_a_user"])
def test_it_ends_a_members_access_and_revokes_everything(
    world: World, joined: KeyContact, who: str
) -> None:
    assert world.client_a in access.clients_for(world.member, Purpose.MEMBER)
    page = url("care_contact", world.client_a, contact_id=joined.pk)
    http = signed_in(getattr(world, who))
    assert 'name="end_access"' in http.get(page).content.decode()
    response = http.post(page, {"end_access": "1"}, follow=True)
    assert "access has ended" in response.content.decode()
    member = plan_data.member_record(world.client_a, world.member)
    assert member.ended_at is not None
    # Access stops on the member's very next request, and a revoke-all version is on record.
    assert world.client_a not in access.clients_for(world.member, Purpose.MEMBER)
    grant = consent.current_grant(member)
    assert grant is not None and grant.version == 2 and not grant.shares_anything
    assert not consent.scope_of(member).shares_anything
    assert AuditEvent.objects.filter(action="care.member.end", object_id=str(member.pk)).exists()
    joined.refresh_from_db()
    assert joined.removed_at is None  # still a key contact, now with their access ended
    assert plan.status_of(joined) is plan.ContactStatus.ENDED
    assert "Their access ended on" in http.get(page).content.decode()


def test_it_ends_access_only_once(world: World, joined: KeyContact) -> None:
    page = url("care_contact", world.client_a, contact_id=joined.pk)
    http = signed_in(world.clinician)
    http.post(page, {"end_access": "1"})
    response = http.post(page, {"end_access": "1"}, follow=True)
    assert "Mel has no access to end." in response.content.decode()
    assert AuditEvent.objects.filter(action="care.member.end").count() == 1
    assert consent.current_grant(NetworkMember.objects.get()) is not None
    assert NetworkMember.objects.get().grants.count() == 2


def test_it_offers_no_end_to_someone_who_has_not_joined(world: World) -> None:
    contact = plan_data.key_contact(world.client_a, factories.person_of(world.client_a, "Ann"))
    page = url("care_contact", world.client_a, contact_id=contact.pk)
    http = signed_in(world.clinician)
    assert 'name="end_access"' not in http.get(page).content.decode()
    response = http.post(page, {"end_access": "1"}, follow=True)
    assert "Ann has no access to end." in response.content.decode()
    assert NetworkMember.objects.get().ended_at is None


@pytest.mark.parametrize("who", plan_data.STRANGERS)
def test_it_refuses_strangers(world: World, joined: KeyContact, who: str) -> None:
    page = url("care_contact", world.client_a, contact_id=joined.pk)
    assert signed_in(getattr(world, who)).post(page, {"end_access": "1"}).status_code == 404
    assert plan_data.member_record(world.client_a, world.member).ended_at is None
    assert world.client_a in access.clients_for(world.member, Purpose.MEMBER)
