"""An authenticator app's shared secret is stored encrypted, like every other secret about a
person: a copy of the database (or a backup) is not enough to make their sign-in codes. Devices
set up before the change are moved across by migration accounts 0004 and keep working."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from kithkin.accounts import mfa
from kithkin.accounts.models import AuthenticatorDevice, User
from kithkin.core import crypto
from tests.accounts.mfa_helpers import code_for, enrol_through_the_pages, password_only
from tests.conftest import World

pytestmark = pytest.mark.django_db

seal_migration = importlib.import_module("kithkin.accounts.migrations.0004_authenticator_device")

KNOWN_KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test secret, in hex


def _stored_key(device: AuthenticatorDevice) -> str:
    with connection.cursor() as cursor:
        # "key" quoted: a reserved word on some databases; both accept double quotes.
        cursor.execute('SELECT "key" FROM accounts_authenticatordevice WHERE id = %s', [device.pk])
        row = cursor.fetchone()
    return str(row[0])


def test_a_new_app_s_key_is_stored_encrypted_and_still_makes_working_codes(
    world: World,
) -> None:
    http = password_only(world.clinician)
    device, _codes = enrol_through_the_pages(http, world.clinician)
    assert re.fullmatch(r"[0-9a-f]{40}", device.key)
    stored = _stored_key(device)
    assert device.key not in stored
    assert crypto.decrypt(stored) == device.key
    # The page for typing the key in shows it (base32), from the decrypted value.
    assert mfa.check_code(world.clinician, code_for(device, 1)) == device
    # The stranger's own code is not this person's.
    stranger_device = AuthenticatorDevice.objects.create(
        user=world.stranger, name="authenticator", confirmed=True
    )
    assert mfa.check_code(world.clinician, code_for(stranger_device)) is None


def _plain_device(user: User, **fields: object) -> TOTPDevice:
    return TOTPDevice.objects.create(
        **{"user": user, "name": "authenticator", "confirmed": True, **fields}
    )


def test_the_migration_moves_plain_devices_across_and_leaves_no_plain_key(world: World) -> None:
    old = _plain_device(world.clinician, key=KNOWN_KEY, last_t=7, drift=1)
    unfinished = _plain_device(world.admin, confirmed=False)
    seal_migration.seal_existing_devices(apps, None)

    assert not TOTPDevice.objects.exists()
    moved = AuthenticatorDevice.objects.get(user=world.clinician)
    assert (moved.key, moved.confirmed, moved.last_t, moved.drift) == (KNOWN_KEY, True, 7, 1)
    assert moved.created_at == old.created_at
    assert KNOWN_KEY not in _stored_key(moved)
    still_unfinished = AuthenticatorDevice.objects.get(user=world.admin)
    assert (still_unfinished.key, still_unfinished.confirmed) == (unfinished.key, False)
    # The person's app keeps working: the code it shows now is accepted.
    assert mfa.check_code(world.clinician, code_for(moved)) == moved
    # Nobody else gained a device, and the stranger's code does not open the clinician's.
    assert not AuthenticatorDevice.objects.filter(user=world.stranger).exists()
    stranger_device = AuthenticatorDevice.objects.create(
        user=world.stranger, name="authenticator", confirmed=True
    )
    assert mfa.check_code(world.clinician, code_for(stranger_device, 1)) is None


def test_the_migration_can_be_undone(world: World) -> None:
    AuthenticatorDevice.objects.create(
        user=world.clinician, name="authenticator", confirmed=True, key=KNOWN_KEY
    )
    seal_migration.unseal_devices(apps, None)
    restored = TOTPDevice.objects.get(user=world.clinician)
    assert restored.key == KNOWN_KEY
    assert not TOTPDevice.objects.filter(user=world.stranger).exists()
