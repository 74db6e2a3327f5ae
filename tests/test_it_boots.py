from __future__ import annotations

import pytest

from kithkin.accounts.access import Purpose, clients_for
from tests.conftest import World


@pytest.mark.django_db
def test_it_scopes_clients_by_care_team(world: World) -> None:
    assert list(clients_for(world.clinician, Purpose.CARE)) == [world.client_a]
    assert list(clients_for(world.stranger, Purpose.CARE)) == [world.other_client]
    assert list(clients_for(world.colleague, Purpose.CARE)) == [world.client_b]
    assert set(clients_for(world.admin, Purpose.MANAGE)) == {world.client_a, world.client_b}
    assert list(clients_for(world.admin, Purpose.CARE)) == []
    assert list(clients_for(world.member, Purpose.MEMBER)) == [world.client_a]
    assert list(clients_for(world.client_a_user, Purpose.SELF)) == [world.client_a]
    assert list(clients_for(world.client_b_user, Purpose.CARE, Purpose.MANAGE)) == []
