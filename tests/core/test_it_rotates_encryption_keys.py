"""`kithkin rotate-keys` re-encrypts every row under the newest key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings

from kithkin.accounts.models import Client, NetworkMember
from kithkin.audit.models import AuditEvent
from kithkin.cli import main
from kithkin.core import crypto
from tests.conftest import World

CANARY = "rotation canary 7f3a"


def raw_concerns(client: Client) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT presenting_concerns FROM accounts_client WHERE id = %s",
            [client.pk.hex if connection.vendor == "sqlite" else client.pk],
        )
        row = cursor.fetchone()
    assert row is not None
    return str(row[0])


@pytest.mark.django_db
def test_it_re_encrypts_every_row_under_the_newest_key(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    Client.objects.filter(pk=world.client_a.pk).update(presenting_concerns=CANARY)
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    before = raw_concerns(world.client_a)
    assert CANARY not in before

    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        assert main(["rotate-keys", "--batch-size", "2"]) == 0
    output = capsys.readouterr().out
    assert "accounts.Client: 3 rows re-encrypted" in output
    assert "accounts.NetworkMember: 1 rows re-encrypted" in output

    after = raw_concerns(world.client_a)
    assert after != before
    assert CANARY not in after
    assert Fernet(new_key.encode()).decrypt(after.encode()).decode() == CANARY

    # With the old key removed, everything still reads.
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        assert Client.objects.get(pk=world.client_a.pk).presenting_concerns == CANARY
        assert [m.relationship for m in NetworkMember.objects.all()] == ["Sister"]

    event = AuditEvent.objects.get(action="keys.rotate")
    assert event.detail["accounts.Client"] == 3


@pytest.mark.django_db
def test_it_refuses_to_read_with_only_a_stranger_key(world: World) -> None:
    stranger_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[stranger_key]):
        with pytest.raises(crypto.UndecryptableError):
            Client.objects.get(pk=world.client_a.pk).presenting_concerns  # noqa: B018
        with pytest.raises(CommandError, match="cannot be decrypted with any key") as caught:
            call_command("rotate_keys")
    assert caught.value.returncode == 1
    assert not AuditEvent.objects.filter(action="keys.rotate").exists()
