"""The withdrawal signal: a client who may be pulling away from the people around them, shown to
the care team on the caseload. The sweep computes it a batch of clients at a time and keeps one
:class:`~kithkin.connection.models.WithdrawalSignal` row per client while it holds.

The rules (docs/connection.md, "Withdrawal signal"):

- **Contact has dropped**: the client's contacts logged in the last 4 weeks are half or fewer
  of their own baseline, the average per 4 weeks over the 12 weeks before that. Only with a
  baseline of at least :data:`MIN_BASELINE` contacts per 4 weeks: from 2 contacts to 1 is not a
  signal.
- **Feeling lonelier**: the latest loneliness score (UCLA-3), submitted within the last
  :data:`SCORE_WITHIN`, is a reliable rise (Jacobson-Truax) from the client's first score or from
  their previous one. With a published test-retest r and reference SD in the definition,
  ``scoring.classify_change`` decides. Without them (the UCLA-3 publishes only its alpha), the
  reference SD is the one Jacobson & Truax (1991) name, that of the pre-treatment sample: the SD
  of the first scores of the practice's own clients, once at least :data:`PRACTICE_SAMPLE_MIN`
  have one, with the published alpha as the reliability. Below that the rule is silent.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.expressions import Window
from django.db.models.functions import FirstValue, Lead, RowNumber
from django.utils import timezone

from kithkin.accounts.models import Client
from kithkin.connection.models import WithdrawalReason, WithdrawalSignal
from kithkin.measures import scoring
from kithkin.measures import services as measures
from kithkin.measures.library import Instrument
from kithkin.measures.models import Response
from kithkin.network.models import Contact

RECENT = datetime.timedelta(weeks=4)
BASELINE = datetime.timedelta(weeks=12)
MIN_BASELINE = 4.0  # contacts per 4 weeks
DROP_SHARE = 0.5
LONELINESS_INSTRUMENT = "ucla3"
SCORE_WITHIN = datetime.timedelta(weeks=16)
# First scores a practice needs before its sample SD stands in for a published one.
PRACTICE_SAMPLE_MIN = 30


@dataclass(frozen=True)
class Finding:
    """What the rules found for one client; ``reasons`` empty means no signal."""

    client_id: UUID
    reasons: tuple[str, ...] = ()
    recent_contacts: int = 0
    baseline_contacts: float = 0.0
    loneliness_before: float | None = None
    loneliness_after: float | None = None


# --- pure rules ----------------------------------------------------------------------------


def baseline_per_period(baseline_total: int) -> float:
    """Contacts in the 12-week baseline as an average per 4 weeks."""
    return baseline_total / (BASELINE / RECENT)


def contact_dropped(recent: int, baseline_total: int) -> bool:
    average = baseline_per_period(baseline_total)
    return average >= MIN_BASELINE and recent <= average * DROP_SHARE


def reliably_worse(
    instrument: Instrument, before: float | None, after: float, threshold: float | None = None
) -> bool:
    """A reliable deterioration: by the definition's own reliable-change data when it has them,
    else by ``threshold`` (the practice-sample RCI), else never."""
    if before is None:
        return False
    if instrument.reliable_change is not None:
        change = scoring.classify_change(instrument, before, after)
        return change.classification is scoring.ReliableChange.DETERIORATED
    if threshold is None:
        return False
    worsening = after - before if instrument.direction == "higher_is_worse" else before - after
    return worsening > threshold


def loneliness_rise(
    instrument: Instrument | None,
    first: float | None,
    previous: float | None,
    latest: float,
    threshold: float | None = None,
) -> float | None:
    """The earlier score the latest one reliably rose from (the first, else the previous), or
    None when it did not."""
    if instrument is None:
        return None
    for before in (first, previous):
        if reliably_worse(instrument, before, latest, threshold):
            return before
    return None


def sample_rci(scores: Sequence[float], alpha: float) -> float | None:
    """Jacobson-Truax's 1.96 * SD * sqrt(2) * sqrt(1 - reliability), with SD the sample SD of
    the pre-treatment scores given; None below :data:`PRACTICE_SAMPLE_MIN` scores."""
    n = len(scores)
    if n < PRACTICE_SAMPLE_MIN:
        return None
    mean = sum(scores) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in scores) / (n - 1))
    return 1.96 * sd * math.sqrt(2) * math.sqrt(1 - alpha)


def practice_thresholds(instrument: Instrument | None) -> dict[int, float]:
    """Each practice's reliable-rise threshold from its own clients' first scores, when the
    definition has an alpha but no published reliable-change data. One query, for all practices:
    the sweep asks once per run."""
    if (
        instrument is None
        or instrument.reliable_change is not None
        or instrument.internal_consistency is None
    ):
        return {}
    firsts = (
        Response.objects.submitted()
        .filter(instrument_id=instrument.id, total__isnull=False)
        .annotate(
            order=Window(
                RowNumber(),
                partition_by=[F("client_id")],
                order_by=[F("submitted_at").asc(), F("pk").asc()],
            )
        )
        .filter(order=1)
        .values_list("client__practice_id", "total")
    )
    by_practice: dict[int, list[float]] = defaultdict(list)
    for practice_id, total in firsts.iterator(chunk_size=5000):
        if total is not None:
            by_practice[practice_id].append(float(total))
    alpha = instrument.internal_consistency.alpha
    found = {p: sample_rci(totals, alpha) for p, totals in by_practice.items()}
    return {p: threshold for p, threshold in found.items() if threshold is not None}


# --- loading, a batch of clients at a time -------------------------------------------------


@dataclass(frozen=True)
class Clients:
    """The clients to read: a list of ids, or (for the sweep, which reads them in primary-key
    order) the range ``after < id <= last``, which spares the database thousands of
    parameters per query and reads each index in one stretch."""

    ids: Sequence[UUID]
    after: UUID | None = None
    last: UUID | None = None

    def q(self, field: str = "client_id") -> Q:
        if self.last is None:
            return Q(**{f"{field}__in": list(self.ids)})
        bounds = Q(**{f"{field}__lte": self.last})
        return bounds if self.after is None else bounds & Q(**{f"{field}__gt": self.after})


def _clients(clients: Clients | Sequence[UUID]) -> Clients:
    return clients if isinstance(clients, Clients) else Clients(list(clients))


def loneliness_instrument() -> Instrument | None:
    return measures.instrument_or_none(LONELINESS_INSTRUMENT)


def contact_counts(
    clients: Clients | Sequence[UUID], now: datetime.datetime
) -> dict[UUID, tuple[int, int]]:
    """(last 4 weeks, the 12 weeks before) contact counts per client: one GROUP BY query."""
    split = now - RECENT
    rows = (
        Contact.objects.filter(
            _clients(clients).q(), occurred_at__gte=split - BASELINE, occurred_at__lte=now
        )
        .values("client_id")
        .annotate(
            recent=Count("pk", filter=Q(occurred_at__gte=split)),
            baseline=Count("pk", filter=Q(occurred_at__lt=split)),
        )
        .order_by()
        .values_list("client_id", "recent", "baseline")
    )
    return {client_id: (recent, baseline) for client_id, recent, baseline in rows}


@dataclass(frozen=True)
class Scores:
    first: float | None
    previous: float | None
    latest: float
    practice_id: int | None = None


def loneliness_scores(
    clients: Clients | Sequence[UUID], now: datetime.datetime
) -> dict[UUID, Scores]:
    """Each client's first, previous and latest loneliness totals, for clients whose latest one
    is recent: one query with window functions."""
    partition = [F("client_id")]
    newest_first = [F("submitted_at").desc(), F("pk").desc()]
    rows = (
        Response.objects.submitted()
        .filter(
            # By id list even in the sweep: a range on client would let SQLite's planner pick
            # the (instrument, status) index and read every loneliness score each batch.
            client_id__in=list(_clients(clients).ids),
            instrument_id=LONELINESS_INSTRUMENT,
            total__isnull=False,
            submitted_at__lte=now,
        )
        .annotate(
            newest=Window(RowNumber(), partition_by=partition, order_by=newest_first),
            previous=Window(Lead("total"), partition_by=partition, order_by=newest_first),
            first=Window(
                FirstValue("total"),
                partition_by=partition,
                order_by=[F("submitted_at").asc(), F("pk").asc()],
            ),
        )
        .filter(newest=1)
        .values_list(
            "client_id", "first", "previous", "total", "submitted_at", "client__practice_id"
        )
    )
    found: dict[UUID, Scores] = {}
    for client_id, first, previous, total, submitted_at, practice_id in rows:
        if total is not None and submitted_at is not None and submitted_at >= now - SCORE_WITHIN:
            found[client_id] = Scores(first, previous, total, practice_id)
    return found


def assess(
    client_ids: Sequence[UUID],
    *,
    now: datetime.datetime,
    instrument: Instrument | None,
    counts: Mapping[UUID, tuple[int, int]],
    scores: Mapping[UUID, Scores],
    thresholds: Mapping[int, float] | None = None,
) -> dict[UUID, Finding]:
    findings: dict[UUID, Finding] = {}
    for client_id in client_ids:
        recent, baseline = counts.get(client_id, (0, 0))
        reasons: list[str] = []
        if contact_dropped(recent, baseline):
            reasons.append(WithdrawalReason.CONTACT_DROPPED)
        before = after = None
        score = scores.get(client_id)
        if score is not None:
            threshold = (thresholds or {}).get(score.practice_id or 0)
            before = loneliness_rise(
                instrument, score.first, score.previous, score.latest, threshold
            )
            if before is not None:
                reasons.append(WithdrawalReason.LONELIER)
                after = score.latest
        findings[client_id] = Finding(
            client_id,
            tuple(str(reason) for reason in reasons),
            recent,
            round(baseline_per_period(baseline), 2),
            before,
            after,
        )
    return findings


@dataclass
class Stored:
    raised: int = 0
    kept: int = 0
    cleared: int = 0
    signalled: set[UUID] = field(default_factory=set)


def store(
    findings: Mapping[UUID, Finding],
    now: datetime.datetime,
    clients: Clients | Sequence[UUID] | None = None,
) -> Stored:
    """Write the findings for a batch of clients: a row for each signal (its first detection
    time kept while it holds), none for the rest."""
    result = Stored()
    which = _clients(clients if clients is not None else list(findings))
    with transaction.atomic():
        existing = {
            s.client_id: s
            for s in WithdrawalSignal.objects.filter(which.q())
            if s.client_id in findings
        }
        new: list[WithdrawalSignal] = []
        changed: list[WithdrawalSignal] = []
        cleared: list[int] = []
        for client_id, finding in findings.items():
            signal = existing.get(client_id)
            if not finding.reasons:
                if signal is not None:
                    cleared.append(signal.pk)
                continue
            result.signalled.add(client_id)
            values = {
                "reasons": list(finding.reasons),
                "recent_contacts": finding.recent_contacts,
                "baseline_contacts": finding.baseline_contacts,
                "loneliness_before": finding.loneliness_before,
                "loneliness_after": finding.loneliness_after,
            }
            if signal is None:
                new.append(
                    WithdrawalSignal(client_id=client_id, detected_at=now, updated_at=now, **values)
                )
            elif any(getattr(signal, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(signal, name, value)
                signal.updated_at = now
                changed.append(signal)
            else:
                result.kept += 1
        WithdrawalSignal.objects.bulk_create(new, batch_size=500)
        WithdrawalSignal.objects.bulk_update(
            changed, [*values_fields(), "updated_at"], batch_size=500
        )
        if cleared:
            WithdrawalSignal.objects.filter(pk__in=cleared).delete()
    result.raised = len(new)
    result.kept += len(changed)
    result.cleared = len(cleared)
    return result


def values_fields() -> list[str]:
    return [
        "reasons",
        "recent_contacts",
        "baseline_contacts",
        "loneliness_before",
        "loneliness_after",
    ]


def signal_for(client: Client) -> WithdrawalSignal | None:
    return WithdrawalSignal.objects.filter(client=client).first()


def refresh(
    clients: Clients | Sequence[UUID],
    now: datetime.datetime | None = None,
    thresholds: Mapping[int, float] | None = None,
) -> Stored:
    """Compute and store the signal for these clients (the sweep's step, and tests'). The
    sweep passes ``thresholds`` (:func:`practice_thresholds`), read once per run."""
    now = now or timezone.now()
    which = _clients(clients)
    instrument = loneliness_instrument()
    findings = assess(
        which.ids,
        now=now,
        instrument=instrument,
        counts=contact_counts(which, now),
        scores=loneliness_scores(which, now),
        thresholds=practice_thresholds(instrument) if thresholds is None else thresholds,
    )
    return store(findings, now, which)


def caseload_signals(client_ids: Sequence[UUID]) -> dict[UUID, tuple[str, ...]]:
    """The signal's reasons, as labels, for a page of the caseload: one query."""
    if not client_ids:
        return {}
    labels = dict(WithdrawalReason.choices)
    rows = WithdrawalSignal.objects.filter(client_id__in=client_ids).values_list(
        "client_id", "reasons"
    )
    return {
        client_id: tuple(str(labels[code]) for code in reasons if code in labels)
        for client_id, reasons in rows
    }
