"""What the measures views and jobs do: assign, answer, submit, score, alert, acknowledge, and
the read models behind the overview, due list and caseload.

Risk comes first. Answers are checked against the risk rules every time they are saved, not only
on submission, and the alert, its email job and its escalation job are written in the same
transaction as the answers: if any of them cannot be written, nothing is saved and the caller
gets the exception (the view tells the client plainly, and shows the crisis resources anyway)."""

from __future__ import annotations

import functools
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, JSONField, QuerySet, Window
from django.db.models.functions import FirstValue, RowNumber
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kithkin.accounts.access import Purpose, clients_for
from kithkin.accounts.models import CareTeamMember, Client, Membership, Practice, Role, User
from kithkin.audit import services as audit
from kithkin.jobs import services as jobs
from kithkin.measures import charts, scoring
from kithkin.measures.library import Instrument, Library, shipped
from kithkin.measures.models import (
    Assignment,
    Cadence,
    DueState,
    Mode,
    PracticeMeasuresSettings,
    Response,
    ResponsePerson,
    ResponseStatus,
    RiskAlert,
)
from kithkin.measures.schema import DefinitionError
from kithkin.notifications import kinds
from kithkin.notifications import services as notifications

logger = logging.getLogger(__name__)

ALERT_EMAIL_JOB = "measures.alert_email"
ESCALATE_JOB = "measures.escalate_alert"
CHECKIN_DUE_JOB = "measures.checkin_due"
ITEM_TEXT_DIR = "item-text"
# Before-session check-ins fall due this long before the session starts.
BEFORE_SESSION_LEAD = timedelta(days=2)


class ResponseClosed(Exception):
    """The response was already submitted; answers can no longer change."""


class NotAssignable(Exception):
    """The instrument cannot be given to a client yet; the message says why, in plain words."""


# --- the library ---------------------------------------------------------------------------


@functools.cache
def _library_for(directory: str | None) -> Library:
    library = Library(shipped())
    if directory is None:
        return library
    root = Path(directory)
    library.add_directory(root)
    texts = root / ITEM_TEXT_DIR
    if texts.is_dir():
        errors: list[str] = []
        for path in sorted(texts.glob("*.json")):
            if path.stem not in library:
                errors.append(f"{path.name}: no instrument {path.stem!r} in the library")
                continue
            try:
                library.load_item_text(path.stem, path)
            except DefinitionError as error:
                errors.extend(error.errors)
        if errors:
            raise DefinitionError(errors)
    return library


def installed_library() -> Library:
    """The shipped instruments plus this installation's own files (KITHKIN_INSTRUMENTS_DIR)."""
    return _library_for(settings.MEASURES_INSTRUMENTS_DIR)


def reset_library_cache() -> None:
    _library_for.cache_clear()


def instrument(instrument_id: str) -> Instrument:
    return installed_library().get(instrument_id)


def instrument_or_none(instrument_id: str) -> Instrument | None:
    library = installed_library()
    return library.get(instrument_id) if instrument_id in library else None


# --- settings per practice -------------------------------------------------------------------


def practice_settings(practice: Practice) -> PracticeMeasuresSettings:
    found = PracticeMeasuresSettings.objects.filter(practice=practice).first()
    return found or PracticeMeasuresSettings(practice=practice)


def default_crisis_resources() -> str:
    return _(
        "If you are in danger right now, or might act on thoughts of harming yourself, call "
        "your local emergency number (999 in the UK, 112 in the EU, 911 in the US and "
        "Canada, 000 in Australia) or go to the nearest emergency department.\n\n"
        "If you need to talk to someone now, you can call or text a crisis line, free and "
        "at any hour:\n"
        "- Samaritans (UK and Ireland): call 116 123\n"
        "- 988 Suicide & Crisis Lifeline (US): call or text 988\n"
        "- Find a helpline in your country: https://findahelpline.com\n\n"
        "You can also contact your clinician or your practice. You do not have to wait for "
        "your next session."
    )


def crisis_resources(practice: Practice) -> str:
    text = practice_settings(practice).crisis_resources.strip()
    return text or default_crisis_resources()


def save_practice_settings(
    request: HttpRequest,
    practice: Practice,
    *,
    crisis_resources: str,
    escalate_after_minutes: int | None,
) -> PracticeMeasuresSettings:
    with transaction.atomic():
        current, _created = PracticeMeasuresSettings.objects.select_for_update().get_or_create(
            practice=practice
        )
        current.crisis_resources = crisis_resources.strip()
        current.escalate_after_minutes = escalate_after_minutes
        current.updated_at = timezone.now()
        current.updated_by = _user(request)
        current.save()
        audit.record(
            request,
            action="measures.settings.update",
            object_type="practice",
            object_id=practice.pk,
        )
    return current


# --- assignments -----------------------------------------------------------------------------


def _user(request: HttpRequest | None) -> User | None:
    if request is None or not request.user.is_authenticated:
        return None
    assert isinstance(request.user, User)
    return request.user


def assign(
    request: HttpRequest,
    client: Client,
    instrument_id: str,
    *,
    cadence: str,
    interval_days: int | None = None,
    first_due_at: datetime | None = None,
) -> Assignment:
    """Ask the client to complete an instrument. One active assignment per instrument."""
    chosen = instrument_or_none(instrument_id)
    if chosen is None:
        raise NotAssignable(_("There is no questionnaire with that name in the library."))
    if chosen.unassignable_reason:
        raise NotAssignable(chosen.unassignable_reason)
    if Assignment.objects.active().filter(client=client, instrument_id=instrument_id).exists():
        raise NotAssignable(
            _("%(name)s is already assigned. Stop the current schedule first to change it.")
            % {"name": chosen.short_title}
        )
    if cadence == Cadence.REPEAT:
        if interval_days is None or not 1 <= interval_days <= 365:
            raise NotAssignable(_("Choose how many days apart, from 1 to 365."))
    else:
        interval_days = None
    next_due_at = None if cadence == Cadence.BEFORE_SESSION else (first_due_at or timezone.now())
    with transaction.atomic():
        try:
            with transaction.atomic():
                assignment = Assignment.objects.create(
                    client=client,
                    instrument_id=instrument_id,
                    cadence=cadence,
                    interval_days=interval_days,
                    next_due_at=next_due_at,
                    assigned_by=_user(request),
                )
        except IntegrityError:  # a colleague assigned it in the same moment
            raise NotAssignable(
                _("%(name)s is already assigned. Stop the current schedule first to change it.")
                % {"name": chosen.short_title}
            ) from None
        remind_when_due(assignment)
        audit.record(
            request,
            action="measures.assignment.create",
            object_type="assignment",
            object_id=assignment.pk,
            client=client,
        )
    return assignment


def end_assignment(request: HttpRequest, assignment: Assignment) -> None:
    with transaction.atomic():
        Assignment.objects.filter(pk=assignment.pk, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
        audit.record(
            request,
            action="measures.assignment.end",
            object_type="assignment",
            object_id=assignment.pk,
            client_id=assignment.client_id,
        )


def schedule_before_session(client: Client, session_at: datetime) -> int:
    """Make the client's before-session check-ins due ahead of a network session (the casework
    app calls this when a session is booked). Returns how many were scheduled."""
    due_at = max(session_at - BEFORE_SESSION_LEAD, timezone.now())
    with transaction.atomic():
        waiting = list(
            Assignment.objects.active().filter(client=client, cadence=Cadence.BEFORE_SESSION)
        )
        for assignment in waiting:
            assignment.next_due_at = due_at
            assignment.save(update_fields=["next_due_at"])
            remind_when_due(assignment)
    return len(waiting)


def stand_down_before_session(client: Client) -> int:
    """A cancelled session with no other booked: the client's before-session check-ins that
    are still due go back to waiting for the next session (their reminder finds nothing due and
    sends nothing)."""
    return (
        Assignment.objects.active()
        .filter(client=client, cadence=Cadence.BEFORE_SESSION, next_due_at__isnull=False)
        .update(next_due_at=None)
    )


def _advance(assignment: Assignment, now: datetime) -> None:
    """Move an assignment on after a completion: finished, due again, or waiting for a session."""
    if assignment.cadence == Cadence.ONCE:
        assignment.completed_at = now
        assignment.next_due_at = None
    elif assignment.cadence == Cadence.REPEAT:
        assert assignment.interval_days is not None
        assignment.next_due_at = now + timedelta(days=assignment.interval_days)
    else:
        assignment.next_due_at = None
    assignment.save(update_fields=["completed_at", "next_due_at"])
    remind_when_due(assignment)


def _due_key(assignment: Assignment) -> str:
    assert assignment.next_due_at is not None
    return f"{CHECKIN_DUE_JOB}:{assignment.pk}:{assignment.next_due_at.isoformat()}"


def remind_when_due(assignment: Assignment) -> None:
    """Queue the client's "a check-in is ready" reminder for the assignment's due time (in the
    caller's transaction; one job per due time, so rescheduling never sends twice)."""
    if assignment.next_due_at is None or not assignment.is_active:
        return
    jobs.enqueue(
        CHECKIN_DUE_JOB,
        {"assignment": str(assignment.pk), "due": assignment.next_due_at.isoformat()},
        run_after=assignment.next_due_at,
        key=_due_key(assignment),
    )


def send_checkin_due(assignment_id: str, due: str) -> None:
    """Tell the client a check-in is ready, if it still is: not done, stopped or moved since."""
    assignment = (
        Assignment.objects.active()
        .select_related("client__user")
        .filter(pk=assignment_id, next_due_at__isnull=False)
        .first()
    )
    if assignment is None or assignment.next_due_at is None:
        return
    if assignment.next_due_at.isoformat() != due or assignment.client.user is None:
        return
    chosen = instrument_or_none(assignment.instrument_id)
    title = chosen.title if chosen is not None else _("A check-in")
    path = reverse("measures_overview", kwargs={"client_id": assignment.client_id})
    notifications.notify(
        assignment.client.user,
        kind=kinds.CHECKIN_DUE,
        title=_("A check-in is ready for you"),
        body=_("When you have a few quiet minutes, your %(title)s check-in is ready.")
        % {"title": title},
        url=path,
    )


# --- answering -------------------------------------------------------------------------------


def open_response(
    request: HttpRequest, assignment: Assignment, *, mode: str = Mode.PORTAL
) -> Response:
    """The assignment's response in progress, or a new one: a client can stop and come back."""
    found = Response.objects.in_progress().filter(assignment=assignment).first()
    if found is not None:
        return found
    chosen = instrument(assignment.instrument_id)
    with transaction.atomic():
        response, created = Response.objects.get_or_create(
            assignment=assignment,
            status=ResponseStatus.IN_PROGRESS,
            defaults={
                "client_id": assignment.client_id,
                "instrument_id": chosen.id,
                "definition_version": chosen.version,
                "mode": mode,
                "entered_by": _user(request),
            },
        )
        if created:
            audit.record(
                request,
                action="measures.response.start",
                object_type="response",
                object_id=response.pk,
                client_id=assignment.client_id,
            )
    return response


def start_response(
    request: HttpRequest, client: Client, instrument_id: str, *, mode: str
) -> Response:
    """A response outside any schedule: a clinician entering answers in session."""
    chosen = instrument_or_none(instrument_id)
    if chosen is None:
        raise NotAssignable(_("There is no questionnaire with that name in the library."))
    if chosen.unassignable_reason:
        raise NotAssignable(chosen.unassignable_reason)
    # An active assignment for this instrument is completed by this response too.
    assignment = Assignment.objects.active().filter(client=client, instrument_id=chosen.id).first()
    if assignment is not None:
        return open_response(request, assignment, mode=mode)
    with transaction.atomic():
        response = Response.objects.create(
            client=client,
            instrument_id=chosen.id,
            definition_version=chosen.version,
            mode=mode,
            entered_by=_user(request),
        )
        audit.record(
            request,
            action="measures.response.start",
            object_type="response",
            object_id=response.pk,
            client=client,
        )
    return response


def answers_of(response: Response) -> dict[str, float | None]:
    return {str(key): value for key, value in response.answers.items()}


def save_answers(
    request: HttpRequest,
    response: Response,
    answers: Mapping[str, float | None],
    *,
    people: Mapping[str, Sequence[UUID]] | None = None,
    note: str | None = None,
) -> list[RiskAlert]:
    """Save some answers (None clears one), check the risk rules at once, and return any new
    alerts. Raises AnswerError for a value the instrument cannot hold, ResponseClosed after
    submission, and anything that stops an alert being written (nothing is saved then)."""
    chosen = instrument(response.instrument_id)
    scoring.check_answers(chosen, answers)
    with transaction.atomic():
        locked = Response.objects.select_for_update().get(pk=response.pk)
        if locked.is_submitted:
            raise ResponseClosed
        merged = answers_of(locked)
        for item_id, value in answers.items():
            if value is None:
                merged.pop(item_id, None)
            else:
                merged[item_id] = value
        locked.answers = merged
        locked.updated_at = timezone.now()
        if note is not None:
            locked.note = note.strip()
        locked.save(update_fields=["answers", "updated_at", "note"])
        if people is not None:
            _save_people(locked, chosen, people)
        alerts = raise_alerts(request, locked, chosen)
        audit.record(
            request,
            action="measures.response.answer",
            object_type="response",
            object_id=locked.pk,
            client_id=locked.client_id,
            detail={"items": len(answers)},
        )
    response.answers = locked.answers
    response.updated_at = locked.updated_at
    response.note = locked.note
    return alerts


def _save_people(
    response: Response, chosen: Instrument, people: Mapping[str, Sequence[UUID]]
) -> None:
    from kithkin.network.models import Person

    linkable = {item.id for item in chosen.items if item.links_people}
    item_ids = [item_id for item_id in people if item_id in linkable]
    wanted = {pid for item_id in item_ids for pid in people[item_id]}
    # Only people on this client's map who are safe to suggest can be named.
    allowed = set(
        Person.objects.safe_to_suggest()
        .filter(client_id=response.client_id, pk__in=wanted)
        .values_list("pk", flat=True)
    )
    ResponsePerson.objects.filter(response=response, item_id__in=item_ids).delete()
    ResponsePerson.objects.bulk_create(
        ResponsePerson(response=response, item_id=item_id, person_id=pid)
        for item_id in item_ids
        for pid in dict.fromkeys(people[item_id])
        if pid in allowed
    )


def people_named(response: Response) -> dict[str, list[UUID]]:
    named: dict[str, list[UUID]] = defaultdict(list)
    for item_id, person_id in response.people_links.values_list("item_id", "person_id"):
        named[item_id].append(person_id)
    return dict(named)


@dataclass(frozen=True)
class SubmitResult:
    response: Response
    score: scoring.Score
    alerts: list[RiskAlert]


def submit(
    request: HttpRequest, response: Response, *, now: datetime | None = None
) -> SubmitResult:
    """Score and close a response, move its schedule on, and raise any alerts still missing."""
    now = now or timezone.now()
    chosen = instrument(response.instrument_id)
    with transaction.atomic():
        locked = Response.objects.select_for_update().get(pk=response.pk)
        if locked.is_submitted:
            raise ResponseClosed
        result = apply_score(locked, chosen)
        locked.status = ResponseStatus.SUBMITTED
        locked.submitted_at = now
        locked.updated_at = now
        locked.save()
        alerts = raise_alerts(request, locked, chosen)
        if locked.assignment_id is not None:
            assignment = Assignment.objects.select_for_update().get(pk=locked.assignment_id)
            if assignment.is_active:
                _advance(assignment, now)
        audit.record(
            request,
            action="measures.response.submit",
            object_type="response",
            object_id=locked.pk,
            client_id=locked.client_id,
        )
    return SubmitResult(locked, result, alerts)


def discard(request: HttpRequest, response: Response) -> None:
    """Throw away a response in progress, unless its answers raised an alert (kept as evidence)."""
    with transaction.atomic():
        deleted = (
            Response.objects.in_progress().filter(pk=response.pk, alerts__isnull=True).delete()[0]
        )
        audit.record(
            request,
            action="measures.response.discard",
            object_type="response",
            object_id=response.pk,
            client_id=response.client_id,
            outcome=audit.Outcome.SUCCESS if deleted else audit.Outcome.DENIED,
        )


# --- scores ----------------------------------------------------------------------------------


def score_fields(result: scoring.Score) -> dict[str, Any]:
    """The stored form of a score: what apply_score writes and bulk re-scoring updates."""
    return {
        "total": result.total,
        "band": result.band.label if result.band is not None else "",
        "band_severity": result.band.severity if result.band is not None else None,
        "clinical": result.clinical,
        "no_score_reason": result.no_score_reason or "",
        "score_detail": {
            "subscales": [
                {
                    "id": s.id,
                    "title": s.title,
                    "score": s.score,
                    "positive": s.positive,
                    "reason": s.no_score_reason,
                }
                for s in result.subscales
            ],
            "diagnoses": [
                {"id": d.rule_id, "label": d.label, "met": d.met, "reason": d.no_result_reason}
                for d in result.diagnoses
            ],
            "missing": list(result.missing_items),
            "prorated": result.prorated,
        },
        "scored_version": result.version,
    }


def apply_score(response: Response, chosen: Instrument) -> scoring.Score:
    result = scoring.score(chosen, answers_of(response))
    for name, value in score_fields(result).items():
        setattr(response, name, value)
    return result


# Distinct answer sets remembered during one re-score; real answers repeat a lot (an all-"not at
# all" PHQ-9, a three-item UCLA-3), and the same answers always score the same.
RESCORE_MEMO_LIMIT = 50_000


def rescore(instrument_ids: Iterable[str] | None = None, *, batch_size: int = 5000) -> int:
    """Re-score every submitted response (after a definition fix), in batches by primary key so
    memory stays flat. Returns how many responses were re-scored. An instrument id that is not
    in the library raises KeyError before anything is written.

    Built for 100,000 responses in a few seconds: plain SQL both ways (ids go back to the
    database as it gave them), and each distinct set of answers is scored and serialised once.
    The stored fields are exactly apply_score's (score_fields)."""
    library = installed_library()
    chosen: dict[str, Instrument]
    if instrument_ids is None:
        chosen = {i.id: i for i in library}
    else:
        chosen = {i: library.get(i) for i in instrument_ids}
        if not chosen:
            return 0
    detail_field = Response._meta.get_field("score_detail")
    assert isinstance(detail_field, JSONField)
    # Plain SQL, built only from the model's own table name; every value is a parameter.
    table = connection.ops.quote_name(Response._meta.db_table)
    select = f"SELECT id, instrument_id, answers FROM {table} WHERE status = %s"  # noqa: S608  # nosec B608
    select_params: list[Any] = [ResponseStatus.SUBMITTED]
    if instrument_ids is not None:
        # Only when asked: unfiltered, the scan follows the primary key with no sort per batch.
        select += f" AND instrument_id IN ({', '.join(['%s'] * len(chosen))})"
        select_params += list(chosen)
    writer = _rescore_writer(table, detail_field)
    memo: dict[tuple[str, str], Any] = {}

    def stored(instrument: Instrument, answers: Any) -> Any:
        text = answers if isinstance(answers, str) else json.dumps(answers, sort_keys=True)
        key = (instrument.id, text)
        found = memo.get(key)
        if found is None:
            decoded = json.loads(text) if isinstance(answers, str) else answers
            found = writer.prepare(score_fields(scoring.score(instrument, decoded)))
            if len(memo) >= RESCORE_MEMO_LIMIT:
                memo.clear()
            memo[key] = found
        return found

    done = 0
    last: Any = None
    while True:
        with connection.cursor() as cursor:
            if last is None:
                cursor.execute(f"{select} ORDER BY id LIMIT %s", [*select_params, batch_size])
            else:
                cursor.execute(
                    f"{select} AND id > %s ORDER BY id LIMIT %s",
                    [*select_params, last, batch_size],
                )
            rows = cursor.fetchall()
        if not rows:
            return done
        batch = [
            (stored(instrument, answers), pk)
            for pk, instrument_id, answers in rows
            if (instrument := chosen.get(instrument_id)) is not None
        ]
        if batch:
            with transaction.atomic(), connection.cursor() as cursor:
                writer.write(cursor, batch)
        done += len(batch)
        # Ids come back as the database gave them, so they compare and bind as it expects.
        last = rows[-1][0]


# The stored score's columns (score_fields's keys), in the order the UPDATEs take them.
_SCORE_COLUMNS = (
    "total",
    "band",
    "band_severity",
    "clinical",
    "no_score_reason",
    "score_detail",
    "scored_version",
)


class _RowByRow:
    """One UPDATE per response, sent with executemany (quick on SQLite: no round trips)."""

    def __init__(self, table: str, encoder: Any) -> None:
        columns = ", ".join(f"{name} = %s" for name in _SCORE_COLUMNS)
        self.sql = f"UPDATE {table} SET {columns} WHERE id = %s"  # noqa: S608  # nosec B608
        self.encoder = encoder

    def prepare(self, fields: dict[str, Any]) -> tuple[Any, ...]:
        detail = connection.ops.adapt_json_value(fields["score_detail"], self.encoder)
        return tuple(detail if name == "score_detail" else fields[name] for name in _SCORE_COLUMNS)

    def write(self, cursor: Any, batch: list[tuple[Any, Any]]) -> None:
        cursor.executemany(self.sql, [(*values, pk) for values, pk in batch])


class _OneStatement:
    """PostgreSQL: the whole batch as one JSON document, in one UPDATE. Row-by-row UPDATEs are
    each quoted, sent, parsed and planned: about three times slower."""

    def __init__(self, table: str, encoder: Any) -> None:
        assignments = ", ".join(f"{name} = v.{name}" for name in _SCORE_COLUMNS)
        values = (
            "v(id uuid, total float8, band text, band_severity int2, clinical bool, "
            "no_score_reason text, score_detail jsonb, scored_version text)"
        )
        self.sql = (
            f"UPDATE {table} AS r SET {assignments} "  # noqa: S608  # nosec B608
            f"FROM jsonb_to_recordset(%s::jsonb) AS {values} WHERE r.id = v.id"
        )
        self.encoder = encoder

    def prepare(self, fields: dict[str, Any]) -> str:
        # A row of the document, less its id: '"total": 12, ...}'. JSON numbers carry floats
        # exactly (shortest repr), so float8 gets the same value as a parameter would.
        return json.dumps(fields, cls=self.encoder)[1:]

    def write(self, cursor: Any, batch: list[tuple[Any, Any]]) -> None:
        rows = ",".join(f'{{"id": "{pk}", {row}' for row, pk in batch)
        cursor.execute(self.sql, [f"[{rows}]"])


def _rescore_writer(table: str, detail_field: JSONField[Any]) -> _RowByRow | _OneStatement:
    if connection.vendor == "postgresql":
        return _OneStatement(table, detail_field.encoder)
    return _RowByRow(table, detail_field.encoder)


# --- risk alerts -----------------------------------------------------------------------------


def raise_alerts(
    request: HttpRequest | None, response: Response, chosen: Instrument
) -> list[RiskAlert]:
    """Create an alert for each risk rule the answers fire that has none yet, with its email
    and escalation jobs. Must run inside the transaction that saves the answers."""
    fired = scoring.evaluate_risks(chosen, answers_of(response))
    if not fired:
        return []
    existing = set(response.alerts.values_list("rule_id", flat=True))
    created: list[RiskAlert] = []
    now = timezone.now()
    escalate_after: timedelta | None = None
    for risk in fired:
        if risk.rule_id in existing:
            continue
        alert = RiskAlert.objects.create(
            client_id=response.client_id,
            response=response,
            instrument_id=chosen.id,
            rule_id=risk.rule_id,
            item_id=risk.item_id,
            value=risk.value,
            severity=risk.severity,
            created_at=now,
        )
        if escalate_after is None:
            practice = Practice.objects.get(clients__pk=response.client_id)
            escalate_after = practice_settings(practice).escalate_after
        email_job = jobs.enqueue(
            ALERT_EMAIL_JOB, {"alert": str(alert.pk)}, key=f"{ALERT_EMAIL_JOB}:{alert.pk}"
        )
        jobs.enqueue(
            ESCALATE_JOB,
            {"alert": str(alert.pk)},
            run_after=now + escalate_after,
            key=f"{ESCALATE_JOB}:{alert.pk}",
        )
        # The row is the durable record; sending straight after commit makes it "at once".
        transaction.on_commit(functools.partial(jobs.run_job_now, email_job.pk))
        _notify_in_app(
            care_team_recipients(response.client_id)
            or practice_admins(Practice.objects.get(clients__pk=response.client_id).pk),
            kinds.RISK_ALERT,
            _("A risk alert needs your attention"),
            _("A client on your caseload gave an answer that needs a prompt check."),
            alert,
        )
        audit.record(
            request,
            action="measures.alert.raise",
            object_type="riskalert",
            object_id=alert.pk,
            client_id=response.client_id,
        )
        created.append(alert)
    return created


def _notify_in_app(
    recipients: Sequence[User], kind: str, title: str, body: str, alert: RiskAlert
) -> None:
    """The inbox entry; the email itself goes out through this module's own job (above), which
    tracks ``notified_at`` and falls back to the admins."""
    path = reverse("measures_alert", kwargs={"client_id": alert.client_id, "alert_id": alert.pk})
    for user in recipients:
        notifications.notify(
            user, kind=kind, title=title, body=body, url=path, critical=True, email=False
        )


def acknowledge(request: HttpRequest, alert: RiskAlert, note: str) -> bool:
    """Close an alert with the clinician's note. False if someone else already acknowledged it."""
    note = note.strip()
    if not note:
        raise ValueError("an acknowledgement needs a note")
    with transaction.atomic():
        updated = RiskAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(),
            acknowledged_by=_user(request),
            acknowledgement_note=note,
        )
        audit.record(
            request,
            action="measures.alert.acknowledge",
            object_type="riskalert",
            object_id=alert.pk,
            client_id=alert.client_id,
            outcome=audit.Outcome.SUCCESS if updated else audit.Outcome.DENIED,
        )
    return bool(updated)


def care_team_recipients(client_id: UUID) -> list[User]:
    """Active care-team members still working at the client's practice."""
    return [
        link.user
        for link in CareTeamMember.objects.filter(
            client_id=client_id,
            user__is_active=True,
            user__membership__practice__clients__pk=client_id,
        ).select_related("user")
    ]


def practice_admins(practice_id: int) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(
            practice_id=practice_id, role=Role.ADMIN, user__is_active=True
        ).select_related("user")
    ]


def alert_url(alert: RiskAlert) -> str:
    path = reverse("measures_alert", kwargs={"client_id": alert.client_id, "alert_id": alert.pk})
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _mail(recipients: Sequence[User], subject: str, body: str) -> None:
    # One message per person: recipients never see who else was told.
    for user in recipients:
        send_mail(subject, body, None, [user.email], fail_silently=False)


def send_alert_email(alert_id: str) -> None:
    """Tell the care team at once (the practice admins if the client has no care team). The
    email names no client: it links to the alert, which needs a sign-in."""
    alert = RiskAlert.objects.select_related("client").filter(pk=alert_id).first()
    if alert is None or alert.notified_at is not None:
        return
    recipients = care_team_recipients(alert.client_id) or practice_admins(alert.client.practice_id)
    subject = _("Kithkin: a risk alert needs your attention")
    body = _(
        "A client on your caseload has given an answer that needs a prompt check.\n\n"
        "Open the alert to see it and record what you did:\n%(url)s\n\n"
        "This email leaves out the client's details on purpose. You cannot unsubscribe from "
        "risk alerts."
    ) % {"url": alert_url(alert)}
    _mail(recipients, subject, body)
    RiskAlert.objects.filter(pk=alert.pk, notified_at__isnull=True).update(
        notified_at=timezone.now()
    )
    audit.record(
        None,
        action="measures.alert.notify",
        object_type="riskalert",
        object_id=alert.pk,
        client_id=alert.client_id,
        detail={"recipients": len(recipients)},
    )


def escalate_alert(alert_id: str) -> None:
    """Tell the practice admins about an alert nobody has acknowledged in time."""
    alert = (
        RiskAlert.objects.select_related("client")
        .filter(pk=alert_id, acknowledged_at__isnull=True, escalated_at__isnull=True)
        .first()
    )
    if alert is None:
        return
    recipients = practice_admins(alert.client.practice_id)
    subject = _("Kithkin: a risk alert has not been acknowledged")
    body = _(
        "A risk alert for a client of your practice has waited longer than your practice allows "
        "without a clinician acknowledging it.\n\n"
        "Please make sure someone on the client's care team sees it now:\n%(url)s\n\n"
        "This email leaves out the client's details on purpose."
    ) % {"url": alert_url(alert)}
    # Send first, then mark: a crash in between sends twice rather than never.
    _mail(recipients, subject, body)
    _notify_in_app(
        recipients,
        kinds.ALERT_ESCALATION,
        _("A risk alert has not been acknowledged"),
        _("Please make sure someone on the client's care team sees it now."),
        alert,
    )
    RiskAlert.objects.filter(pk=alert.pk, escalated_at__isnull=True).update(
        escalated_at=timezone.now()
    )
    audit.record(
        None,
        action="measures.alert.escalate",
        object_type="riskalert",
        object_id=alert.pk,
        client_id=alert.client_id,
        detail={"recipients": len(recipients)},
    )


def open_alerts_for(user: User) -> QuerySet[RiskAlert]:
    """Open alerts for the clients on this person's care teams, oldest first."""
    return (
        RiskAlert.objects.open()
        .filter(client__in=clients_for(user, Purpose.CARE))
        .select_related("client")
        .order_by("created_at", "pk")
    )


def escalated_alerts_for_admin(user: User) -> QuerySet[RiskAlert]:
    """Open, escalated alerts in the practice this admin manages."""
    return (
        RiskAlert.objects.open()
        .filter(escalated_at__isnull=False, client__in=clients_for(user, Purpose.MANAGE))
        .select_related("client")
        .order_by("created_at", "pk")
    )


# --- read models -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InstrumentSummary:
    """One instrument on a client's measures overview."""

    instrument: Instrument
    responses: list[Response]
    latest: Response
    progress: scoring.Progress | None
    chart: charts.Chart

    @property
    def count(self) -> int:
        return len(self.responses)


@dataclass(frozen=True)
class AssignmentRow:
    assignment: Assignment
    instrument: Instrument | None
    state: DueState
    in_progress: Response | None


@dataclass
class Overview:
    summaries: list[InstrumentSummary] = field(default_factory=list)
    assignments: list[AssignmentRow] = field(default_factory=list)
    open_alerts: list[RiskAlert] = field(default_factory=list)
    unscheduled_in_progress: list[Response] = field(default_factory=list)


def _points(responses: Sequence[Response]) -> list[charts.ChartPoint]:
    return [charts.ChartPoint(r.submitted_at, r.total) for r in responses if r.submitted_at]


def summarise(chosen: Instrument, responses: list[Response], *, audience: str) -> InstrumentSummary:
    """Latest score, change from baseline and from last time, and the chart."""
    latest = responses[-1]
    progress = None
    if latest.total is not None:
        progress = scoring.progress(chosen, [r.total for r in responses[:-1]], latest.total)
    chart = charts.progress_chart(chosen, _points(responses), audience=audience)
    return InstrumentSummary(chosen, responses, latest, progress, chart)


_LIST_ONLY = (
    "id",
    "client_id",
    "assignment_id",
    "instrument_id",
    "definition_version",
    "status",
    "mode",
    "started_at",
    "updated_at",
    "submitted_at",
    "total",
    "band",
    "band_severity",
    "clinical",
    "no_score_reason",
    "score_detail",
    "scored_version",
)


def overview(client: Client, *, audience: str, now: datetime | None = None) -> Overview:
    """Everything on a client's measures page in a fixed number of queries."""
    now = now or timezone.now()
    library = installed_library()
    result = Overview()
    by_instrument: dict[str, list[Response]] = defaultdict(list)
    in_progress: dict[UUID, Response] = {}
    responses = (
        Response.objects.filter(client=client).only(*_LIST_ONLY).order_by("submitted_at", "pk")
    )
    for response in responses:
        if response.is_submitted:
            by_instrument[response.instrument_id].append(response)
        elif response.assignment_id is not None:
            in_progress[response.assignment_id] = response
        else:
            result.unscheduled_in_progress.append(response)
    for instrument_id, items in by_instrument.items():
        if instrument_id in library:
            result.summaries.append(summarise(library.get(instrument_id), items, audience=audience))
    result.summaries.sort(key=lambda s: s.latest.submitted_at or now, reverse=True)
    for assignment in (
        Assignment.objects.active()
        .filter(client=client)
        .order_by(F("next_due_at").asc(nulls_last=True), "created_at")
    ):
        result.assignments.append(
            AssignmentRow(
                assignment,
                library.get(assignment.instrument_id)
                if assignment.instrument_id in library
                else None,
                assignment.due_state(now),
                in_progress.get(assignment.pk),
            )
        )
    if audience != "client":
        result.open_alerts = list(
            RiskAlert.objects.open().filter(client=client).order_by("created_at")
        )
    return result


def history(client: Client, instrument_id: str) -> list[Response]:
    return list(
        Response.objects.submitted()
        .filter(client=client, instrument_id=instrument_id)
        .only(*_LIST_ONLY)
        .order_by("submitted_at", "pk")
    )


def due_assignments(user: User, now: datetime | None = None) -> QuerySet[Assignment]:
    """Due and overdue check-ins across this person's caseload, most overdue first."""
    return (
        Assignment.objects.due(now)
        .filter(client__in=clients_for(user, Purpose.CARE), client__discharged_at__isnull=True)
        .select_related("client")
        .order_by("next_due_at", "pk")
    )


def due_for_client(client: Client, now: datetime | None = None) -> list[Assignment]:
    return list(Assignment.objects.due(now).filter(client=client).order_by("next_due_at", "pk"))


@dataclass(frozen=True)
class LatestScore:
    instrument: Instrument
    total: float
    band: str
    submitted_at: datetime
    change: scoring.Change | None  # from baseline


@dataclass
class ClientMeasures:
    latest: list[LatestScore] = field(default_factory=list)
    open_alerts: int = 0


def caseload_measures(client_ids: Sequence[UUID]) -> dict[UUID, ClientMeasures]:
    """Latest scores, change from baseline and open alerts for a page of clients: two queries,
    whatever the number of clients or responses."""
    found: dict[UUID, ClientMeasures] = {pk: ClientMeasures() for pk in client_ids}
    if not client_ids:
        return found
    library = installed_library()
    partition = [F("client_id"), F("instrument_id")]
    latest = (
        Response.objects.submitted()
        .filter(client_id__in=client_ids, total__isnull=False)
        .annotate(
            newest=Window(RowNumber(), partition_by=partition, order_by=F("submitted_at").desc()),
            baseline=Window(
                FirstValue("total"), partition_by=partition, order_by=F("submitted_at").asc()
            ),
        )
        .filter(newest=1)
        .values_list("client_id", "instrument_id", "total", "band", "submitted_at", "baseline")
    )
    for client_id, instrument_id, total, band, submitted_at, baseline in latest:
        if instrument_id not in library or total is None or submitted_at is None:
            continue
        chosen = library.get(instrument_id)
        change = scoring.classify_change(chosen, baseline, total) if baseline is not None else None
        found[client_id].latest.append(LatestScore(chosen, total, band, submitted_at, change))
    for measures in found.values():
        measures.latest.sort(key=lambda s: s.submitted_at, reverse=True)
    counts = (
        RiskAlert.objects.open()
        .filter(client_id__in=client_ids)
        .values("client_id")
        .annotate(n=Count("pk"))
        .values_list("client_id", "n")
        .order_by()
    )
    for client_id, n in counts:
        found[client_id].open_alerts = n
    return found
