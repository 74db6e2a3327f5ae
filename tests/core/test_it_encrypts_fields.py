"""Free text about people is stored encrypted: the raw database never holds the plaintext."""

from __future__ import annotations

import traceback
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.db import connection
from pytest_django.fixtures import Settings as SettingsWrapper

from kithkin.accounts.models import Client, Invitation, NetworkMember
from kithkin.core import crypto
from kithkin.core.crypto import UndecryptableError
from kithkin.core.fields import EncryptedTextField, encrypted_fields
from tests.conftest import World

CONCERNS = "Panic in crowded trains since the crash canary5e21"
RELATIONSHIP = "Older brother, lives nearby canary0c7d"
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def every_stored_value() -> list[str]:
    """Every value in every column of every row of every table, as the database returns it."""
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview | bytes):
                        values.append(bytes(value).decode("utf-8", "replace"))
                    else:
                        values.append(str(value))
    return values


def raw_column(model: type[Any], column: str, pk: Any) -> str:
    table = connection.ops.quote_name(model._meta.db_table)
    quoted = connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quoted} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        row = cursor.fetchone()
    assert row is not None
    return str(row[0])


def raw_concerns(client: Client) -> str:
    # A UUID key is stored as 32 hex characters on SQLite and as uuid on PostgreSQL.
    pk = client.pk.hex if connection.vendor == "sqlite" else client.pk
    return raw_column(Client, "presenting_concerns", pk)


@pytest.fixture
def stored(world: World) -> tuple[Client, NetworkMember]:
    client = world.client_a
    client.presenting_concerns = CONCERNS
    client.save()
    member = NetworkMember.objects.get(client=client, user=world.member)
    member.relationship = RELATIONSHIP
    member.save()
    return client, member


def test_it_keeps_plaintext_out_of_every_table(stored: tuple[Client, NetworkMember]) -> None:
    values = every_stored_value()
    assert values, "the raw read found nothing at all"
    for canary in (CONCERNS, RELATIONSHIP, "canary5e21", "canary0c7d"):
        assert not [v for v in values if canary in v], f"{canary!r} is stored in plaintext"
    # And the raw read does see the rest of the row: the check is looking in the right place.
    assert "Alex Rivers" in values


def test_it_stores_a_fernet_token(stored: tuple[Client, NetworkMember]) -> None:
    client, _ = stored
    token = raw_concerns(client)
    assert token.startswith("gAAAA")  # Fernet version byte 0x80, base64
    assert crypto.decrypt(token) == CONCERNS


def test_it_round_trips_through_the_orm(stored: tuple[Client, NetworkMember]) -> None:
    client, member = stored
    assert Client.objects.get(pk=client.pk).presenting_concerns == CONCERNS
    assert NetworkMember.objects.get(pk=member.pk).relationship == RELATIONSHIP
    assert (
        Client.objects.filter(pk=client.pk).values_list("presenting_concerns", flat=True)[0]
        == CONCERNS
    )


def test_it_round_trips_unicode_and_empty_text(world: World) -> None:
    for text in ["", "Åsa\u2019s fear of 🌊 and night terrors\nline two"]:
        world.client_b.presenting_concerns = text
        world.client_b.save()
        assert Client.objects.get(pk=world.client_b.pk).presenting_concerns == text


def test_it_encrypts_the_same_text_differently_each_time(world: World) -> None:
    for client in (world.client_a, world.client_b):
        client.presenting_concerns = CONCERNS
        client.save()
    assert raw_concerns(world.client_a) != raw_concerns(world.client_b)


def test_it_uses_one_field_type_for_free_text_about_people() -> None:
    assert [f.name for f in encrypted_fields(Client)] == ["presenting_concerns"]
    assert [f.name for f in encrypted_fields(NetworkMember)] == ["relationship"]
    assert [f.name for f in encrypted_fields(Invitation)] == ["relationship"]


@pytest.mark.parametrize(
    "lookup", ["", "__exact", "__iexact", "__icontains", "__startswith", "__in", "__gt"]
)
def test_it_refuses_lookups_that_cannot_work_on_ciphertext(
    stored: tuple[Client, NetworkMember], lookup: str
) -> None:
    value: Any = [CONCERNS] if lookup == "__in" else CONCERNS
    with pytest.raises(FieldError):
        list(Client.objects.filter(**{f"presenting_concerns{lookup}": value}))


def test_it_allows_isnull(stored: tuple[Client, NetworkMember]) -> None:
    client, _ = stored
    assert client in Client.objects.filter(presenting_concerns__isnull=False)
    assert not Client.objects.filter(presenting_concerns__isnull=True).exists()


def test_it_says_clearly_when_the_key_is_wrong(
    stored: tuple[Client, NetworkMember], settings: SettingsWrapper
) -> None:
    client, _ = stored
    token = raw_concerns(client)
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(UndecryptableError) as caught:
        Client.objects.get(pk=client.pk)
    message = str(caught.value)
    assert "KITHKIN_FIELD_KEYS" in message
    # Neither the message nor the traceback carries the ciphertext (or any part of it).
    shown = "".join(traceback.format_exception(caught.value))
    assert token not in shown
    assert token[10:40] not in shown
    assert CONCERNS not in shown


def test_it_reads_old_rows_with_the_old_key_behind_a_new_one(
    world: World, settings: SettingsWrapper
) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    world.client_a.presenting_concerns = CONCERNS
    world.client_a.save()
    old_token = raw_concerns(world.client_a)

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert Client.objects.get(pk=world.client_a.pk).presenting_concerns == CONCERNS
    # New writes use the newest key: they read without the old one.
    world.client_b.presenting_concerns = RELATIONSHIP
    world.client_b.save()
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert Client.objects.get(pk=world.client_b.pk).presenting_concerns == RELATIONSHIP
    with pytest.raises(UndecryptableError):
        Client.objects.get(pk=world.client_a.pk)

    # Rotating the old token puts it under the new key.
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    rotated = crypto.rotate(old_token)
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert crypto.decrypt(rotated) == CONCERNS


def test_it_refuses_a_tampered_token(stored: tuple[Client, NetworkMember]) -> None:
    client, _ = stored
    token = raw_concerns(client)
    flipped = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    with pytest.raises(UndecryptableError):
        crypto.decrypt(flipped)


def test_it_leaves_null_alone() -> None:
    field = EncryptedTextField(null=True)  # type: ignore[misc]
    assert field.get_prep_value(None) is None
    assert field.from_db_value(None, None, connection) is None  # type: ignore[arg-type]
