"""`kithkin audit verify` confirms an intact chain and names the first broken link."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from kithkin.audit import services as audit
from kithkin.audit.models import AuditEvent
from kithkin.cli import main
from tests.conftest import World


def drop_append_only_triggers() -> None:
    """Simulate an attacker with database access. Inside the test's transaction, so the
    triggers come back when it rolls back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER audit_event_append_only ON audit_auditevent")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute("DROP TRIGGER audit_event_no_delete")


def three_events(world: World) -> list[AuditEvent]:
    return [
        audit.record(None, action="test.one", actor=world.clinician, client=world.client_a),
        audit.record(None, action="test.two", actor=world.clinician, client=world.client_a),
        audit.record(None, action="test.three", actor=world.admin),
    ]


@pytest.mark.django_db
def test_it_reports_an_intact_chain(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    three_events(world)
    count = AuditEvent.objects.count()
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out.strip() == f"Audit chain intact: {count} events checked."


@pytest.mark.django_db
def test_it_reports_the_first_altered_event(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    _, second, _ = three_events(world)
    drop_append_only_triggers()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_id = %s WHERE id = %s",
            [world.stranger.pk, second.pk],
        )
    assert main(["audit", "verify"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"Audit chain broken at event #{second.pk}: its contents do not match its hash"
    )


@pytest.mark.django_db
def test_it_reports_a_deleted_event(world: World) -> None:
    _, second, third = three_events(world)
    drop_append_only_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [second.pk])
    with pytest.raises(CommandError) as caught:
        call_command("audit_verify")
    assert caught.value.returncode == 1
    assert str(caught.value) == (
        f"Audit chain broken at event #{third.pk}: it does not point at the event before it"
    )


@pytest.mark.django_db
def test_it_reports_a_forged_event_inserted_by_a_stranger(world: World) -> None:
    three_events(world)
    # Inserting needs no trigger change: a forger can add rows, but cannot make them fit.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (occurred_at, actor_id, actor_role, action, "
            "object_type, object_id, client_id, outcome, detail, prev_hash, hash) "
            "VALUES (%s, %s, 'clinician', 'client.read', '', '', %s, 'success', '{}', %s, %s)",
            [
                "2026-01-01 00:00:00+00:00",
                world.stranger.pk,
                str(world.client_a.pk),
                "f" * 64,
                "e" * 64,
            ],
        )
        cursor.execute("SELECT max(id) FROM audit_auditevent")
        forged_id = cursor.fetchone()[0]
    with pytest.raises(CommandError, match=rf"broken at event #{forged_id}: it does not point"):
        call_command("audit_verify")


@pytest.mark.django_db
def test_it_blocks_changes_while_the_triggers_stand(world: World) -> None:
    _, second, _ = three_events(world)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [second.pk])
    call_command("audit_verify")
