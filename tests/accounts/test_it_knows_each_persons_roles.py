"""What a person is (staff, client, network member, or several at once) is read in one query
per request, since every page asks; the staff membership comes with it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from kithkin.accounts.access import membership_of, roles_of
from kithkin.accounts.models import Client, NetworkMember, Role, User
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as a new request loads it: nothing cached."""
    return User.objects.get(pk=user.pk)


def test_it_reads_every_role_and_the_membership_in_one_query(
    world: World, django_assert_num_queries: Callable[..., Any]
) -> None:
    # A clinician who is also someone's client and someone's network member.
    clinician = fresh(world.clinician)
    Client.objects.filter(pk=world.client_b.pk).update(user=clinician)
    NetworkMember.objects.create(client=world.client_a, user=clinician, relationship="Cousin")
    clinician = fresh(clinician)
    with django_assert_num_queries(1):
        assert roles_of(clinician) == {Role.CLINICIAN, Role.CLIENT, Role.MEMBER}
        membership = membership_of(clinician)
        assert membership is not None
        assert (membership.practice_id, membership.role) == (world.practice.pk, Role.CLINICIAN)
        assert roles_of(clinician) == {Role.CLINICIAN, Role.CLIENT, Role.MEMBER}


def test_each_role_alone_and_a_stranger_has_only_her_own(
    world: World, django_assert_num_queries: Callable[..., Any]
) -> None:
    client_user = fresh(world.client_a_user)
    with django_assert_num_queries(1):
        assert roles_of(client_user) == {Role.CLIENT}
        assert membership_of(client_user) is None
    assert roles_of(fresh(world.member)) == {Role.MEMBER}
    assert roles_of(fresh(world.admin)) == {Role.ADMIN}
    # The stranger works for another practice: nothing here makes her more than staff there.
    stranger = fresh(world.stranger)
    assert roles_of(stranger) == {Role.CLINICIAN}
    stranger_membership = membership_of(stranger)
    assert stranger_membership is not None
    assert stranger_membership.practice_id == world.other_practice.pk


def test_an_ended_network_membership_is_no_role(world: World) -> None:
    NetworkMember.objects.filter(user=world.member).update(ended_at=timezone.now())
    assert roles_of(fresh(world.member)) == set()
    outsider = factories.UserFactory.create()
    assert roles_of(fresh(outsider)) == set()
    assert membership_of(fresh(outsider)) is None
