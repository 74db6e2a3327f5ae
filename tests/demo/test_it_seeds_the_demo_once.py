"""`seed_demo` loads the demo practice once; --reset rebuilds it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kithkin.accounts.access import Purpose, clients_for
from kithkin.accounts.models import Client, Practice, User
from kithkin.demo import generator
from tests.conftest import World


def seed(**options: object) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_it_seeds_once_and_rebuilds_on_reset(world: World) -> None:
    assert "Loaded Harbourside Trauma Recovery Service" in seed(clients=8)
    demo = Client.objects.exclude(practice__in=[world.practice, world.other_practice])
    assert demo.count() == 8
    users = User.objects.count()

    assert "already loaded; nothing to do" in seed(clients=50)
    assert demo.count() == 8
    assert User.objects.count() == users
    assert Practice.objects.filter(name=generator.PRACTICE_NAME).count() == 1

    output = seed(clients=5, reset=True)
    assert "Removed the existing demo practice" in output
    assert demo.count() == 5
    assert Practice.objects.filter(name=generator.PRACTICE_NAME).count() == 1
    # The rest of the database is untouched, and its stranger still sees nothing of the demo.
    assert Client.objects.filter(practice=world.practice).count() == 2
    assert set(clients_for(world.stranger, Purpose.CARE)) == {world.other_client}


@pytest.mark.django_db
def test_it_refuses_a_client_count_below_one() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        seed(clients=0)
