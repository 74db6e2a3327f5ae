"""The audit trail is append-only and hash-chained: tampering shows up at the first broken link."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator

import pytest
from django.db import DatabaseError, connection, transaction

from kithkin.audit import services as audit
from kithkin.audit.models import GENESIS_HASH, AppendOnlyError, AuditChainHead, AuditEvent
from tests.conftest import World, signed_in

TABLE = AuditEvent._meta.db_table


def chain_of(count: int) -> list[AuditEvent]:
    return [
        audit.record(None, action="test.event", object_type="thing", object_id=n, detail={"n": n})
        for n in range(count)
    ]


def drop_append_only_triggers() -> None:
    """What an attacker with database access would do first. The test transaction rolls it back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER audit_event_append_only ON {TABLE}")
        else:
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute("DROP TRIGGER audit_event_no_delete")


def raw(sql: str, *params: str | int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))


@pytest.fixture
def events(db: None) -> list[AuditEvent]:
    # Earlier tests in a run may have left the head anywhere; start from a chain we know.
    assert not AuditEvent.objects.exists()
    AuditChainHead.objects.filter(pk=1).delete()
    return chain_of(5)


def test_it_links_each_event_to_the_one_before(events: list[AuditEvent]) -> None:
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert len({event.hash for event in events}) == len(events)
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_event_id, head.last_hash) == (events[-1].id, events[-1].hash)


def test_it_verifies_a_good_chain(events: list[AuditEvent]) -> None:
    report = audit.verify_chain()
    assert report.ok
    assert report.checked == 5


def test_it_verifies_across_batches(events: list[AuditEvent]) -> None:
    assert audit.verify_chain(batch_size=2).ok
    drop_append_only_triggers()
    raw(f"UPDATE {TABLE} SET object_id = %s WHERE id = %s", "forged", events[3].id)  # noqa: S608
    assert audit.verify_chain(batch_size=2).broken_at == events[3].id


@pytest.mark.parametrize(
    ("column", "value"),
    [("action", "client.view"), ("actor_id", 999), ("outcome", "denied"), ("client_id", "x")],
)
def test_it_reports_an_altered_row(events: list[AuditEvent], column: str, value: str | int) -> None:
    drop_append_only_triggers()
    raw(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", value, events[2].id)  # noqa: S608
    report = audit.verify_chain()
    assert not report.ok
    assert report.broken_at == events[2].id
    assert report.checked == 2
    assert "contents" in report.reason


def test_it_reports_the_first_of_several_broken_links(events: list[AuditEvent]) -> None:
    drop_append_only_triggers()
    raw(f"UPDATE {TABLE} SET action = %s WHERE id = %s", "forged", events[3].id)  # noqa: S608
    raw(f"UPDATE {TABLE} SET action = %s WHERE id = %s", "forged", events[1].id)  # noqa: S608
    assert audit.verify_chain().broken_at == events[1].id


def test_it_reports_a_row_rewritten_with_a_fresh_hash(events: list[AuditEvent]) -> None:
    """A forger who recomputes the altered row's hash still breaks the link after it."""
    drop_append_only_triggers()
    forged = AuditEvent.objects.get(id=events[2].id)
    forged.action = "forged"
    new_hash = forged.compute_hash()
    raw(f"UPDATE {TABLE} SET action = %s, hash = %s WHERE id = %s", "forged", new_hash, forged.id)  # noqa: S608
    report = audit.verify_chain()
    assert report.broken_at == events[3].id
    assert "point" in report.reason


def test_it_reports_a_deletion_in_the_middle(events: list[AuditEvent]) -> None:
    drop_append_only_triggers()
    raw(f"DELETE FROM {TABLE} WHERE id = %s", events[2].id)  # noqa: S608
    report = audit.verify_chain()
    assert report.broken_at == events[3].id
    assert report.checked == 2


def test_it_reports_a_deletion_at_the_tail(events: list[AuditEvent]) -> None:
    drop_append_only_triggers()
    raw(f"DELETE FROM {TABLE} WHERE id = %s", events[-1].id)  # noqa: S608
    report = audit.verify_chain()
    assert not report.ok
    assert report.broken_at == events[-1].id
    assert "newest" in report.reason


def test_it_reports_a_deletion_at_the_head(events: list[AuditEvent]) -> None:
    drop_append_only_triggers()
    raw(f"DELETE FROM {TABLE} WHERE id = %s", events[0].id)  # noqa: S608
    assert audit.verify_chain().broken_at == events[1].id


def test_it_refuses_orm_updates_and_deletes(events: list[AuditEvent]) -> None:
    event = AuditEvent.objects.get(id=events[0].id)
    event.action = "forged"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(id=event.id).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(id=event.id).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert audit.verify_chain().ok


@pytest.mark.parametrize(
    "statement",
    [f"UPDATE {TABLE} SET action = 'forged'", f"DELETE FROM {TABLE}"],  # noqa: S608
)
def test_it_refuses_raw_sql_that_changes_the_trail(
    events: list[AuditEvent], statement: str
) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(statement)
    assert AuditEvent.objects.count() == 5
    assert audit.verify_chain().ok


def test_it_keeps_names_out_of_the_trail(world: World) -> None:
    """Rows hold opaque ids only: a sign-in by a named person leaves neither name nor email."""
    signed_in(world.clinician)
    values = [str(v) for row in AuditEvent.objects.values_list() for v in row]
    text = " ".join(values)
    assert str(world.clinician.pk) in values
    assert world.clinician.email not in text
    assert world.clinician.display_name not in text


# --- concurrent writers -------------------------------------------------------------------


@pytest.fixture
def clean_trail(transactional_db: None) -> Iterator[None]:
    """Transactional tests commit. PostgreSQL's flush truncates, which row triggers allow;
    SQLite's flush deletes row by row, which the triggers refuse, and its in-memory test database
    cannot be shared by writer threads anyway."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent appends need a server database: run with DATABASE_URL=postgres://")
    yield


@pytest.mark.django_db(transaction=True)
def test_it_does_not_fork_under_concurrent_appends(clean_trail: None) -> None:
    threads_count, per_thread = 8, 15
    start = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                audit.record(None, action="test.concurrent", object_id=f"{index}-{n}")
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert AuditEvent.objects.filter(action="test.concurrent").count() == threads_count * per_thread
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(prev_hashes) == len(set(prev_hashes)), "two events claim the same predecessor"
    report = audit.verify_chain()
    assert report.ok, report
    assert report.checked == AuditEvent.objects.count()
