"""The withdrawal signal: contact in the last 4 weeks at half or less of the client's own
baseline (with a minimum baseline), or a reliable rise in loneliness; stored per client, kept
while it holds, cleared when it no longer does, and shown on the care team's caseload in a
constant number of queries."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import Client, Role
from kithkin.connection import withdrawal
from kithkin.connection.models import WithdrawalReason, WithdrawalSignal
from kithkin.measures import services as measures
from kithkin.measures.library import Instrument, ReliableChangeParams
from kithkin.network.models import Person
from tests import factories
from tests.conftest import World, signed_in
from tests.connection.rhythm_data import contacts_days_ago

HOME = reverse("home")
DROPPED = WithdrawalReason.CONTACT_DROPPED
LONELIER = WithdrawalReason.LONELIER


def _ucla3_with_reliability() -> Instrument:
    """UCLA-3 as a practice might install it with test-retest data: a rise of 2 is reliable
    (1.96 x 1.5 x sqrt(2) x sqrt(1 - .8) = 1.86)."""
    params = ReliableChangeParams(r=0.8, r_source="test", sd=1.5, sd_source="test")
    return dataclasses.replace(measures.instrument("ucla3"), reliable_change=params)


@pytest.fixture
def reliable_ucla3(monkeypatch: pytest.MonkeyPatch) -> Instrument:
    chosen = _ucla3_with_reliability()
    monkeypatch.setattr(withdrawal, "loneliness_instrument", lambda: chosen)
    return chosen


# --- the rules -----------------------------------------------------------------------------


def test_contact_falling_by_half_against_the_baseline_is_a_signal() -> None:
    # 24 contacts in the 12 weeks before: 8 per 4 weeks.
    assert withdrawal.baseline_per_period(24) == 8
    assert withdrawal.contact_dropped(4, 24)  # exactly half
    assert withdrawal.contact_dropped(0, 24)
    assert not withdrawal.contact_dropped(5, 24)
    assert not withdrawal.contact_dropped(20, 24)


def test_a_small_baseline_is_never_a_signal() -> None:
    # 9 contacts in 12 weeks (3 per 4 weeks): too few to tell a drop from chance.
    assert not withdrawal.contact_dropped(0, 9)
    assert not withdrawal.contact_dropped(0, 0)
    assert not withdrawal.contact_dropped(1, 3)
    # The minimum itself: 12 contacts in 12 weeks, 4 per 4 weeks.
    assert withdrawal.contact_dropped(2, 12)


def test_a_reliable_rise_in_loneliness_is_a_signal() -> None:
    ucla3 = _ucla3_with_reliability()
    assert withdrawal.loneliness_rise(ucla3, first=4, previous=4, latest=6) == 4
    # From the previous score, when the first was already high.
    assert withdrawal.loneliness_rise(ucla3, first=7, previous=3, latest=6) == 3
    assert withdrawal.loneliness_rise(ucla3, first=4, previous=5, latest=5) is None
    assert withdrawal.loneliness_rise(ucla3, first=7, previous=None, latest=4) is None  # better
    assert withdrawal.loneliness_rise(ucla3, first=None, previous=None, latest=9) is None


def test_without_reliability_data_loneliness_gives_no_signal() -> None:
    # The shipped UCLA-3 records no test-retest r or reference SD (instruments.md), so without a
    # practice sample to stand in for the reference SD this rule stays silent rather than guess.
    shipped = measures.instrument("ucla3")
    assert shipped.reliable_change is None
    assert withdrawal.loneliness_rise(shipped, first=3, previous=3, latest=9) is None
    assert withdrawal.loneliness_rise(None, first=3, previous=3, latest=9) is None


def test_the_practice_sample_sets_the_threshold_jacobson_truax_worked_example() -> None:
    # Thirty first scores, half 3 and half 7: mean 5, sample SD sqrt(30 x 4 / 29) = 2.034.
    # With the UCLA-3's alpha of .72: 1.96 x 2.034 x sqrt(2) x sqrt(.28) = 2.983.
    shipped = measures.instrument("ucla3")
    assert shipped.internal_consistency is not None
    alpha = shipped.internal_consistency.alpha
    assert alpha == 0.72
    threshold = withdrawal.sample_rci([3.0] * 15 + [7.0] * 15, alpha)
    assert threshold == pytest.approx(2.983, abs=0.001)
    assert withdrawal.loneliness_rise(shipped, 4, 4, 7, threshold) == 4  # a rise of 3
    assert withdrawal.loneliness_rise(shipped, 4, 4, 6, threshold) is None  # a rise of 2
    assert withdrawal.loneliness_rise(shipped, 8, 8, 3, threshold) is None  # better, not worse
    # Too small a sample stands in for nothing.
    assert withdrawal.sample_rci([3.0] * 14 + [7.0] * 15, alpha) is None


# --- computed and stored -------------------------------------------------------------------


def _withdrawing(client: Client, now: datetime.datetime, *, recent: int = 1) -> Person:
    """Two contacts a week for the 12 weeks before the last 4 (24 in all), then ``recent``."""
    sam = factories.person_of(client, "Sam")
    kit = factories.person_of(client, "Kit")
    contacts_days_ago(sam, [29 + 7 * n for n in range(12)], now=now)
    contacts_days_ago(kit, [31 + 7 * n for n in range(12)], now=now)
    contacts_days_ago(sam, [3 + n for n in range(recent)], now=now)
    return sam


def _lonelier(client: Client, now: datetime.datetime, latest_days_ago: int = 2) -> None:
    for days, value in ((120, 1), (60, 1), (latest_days_ago, 2)):
        factories.submitted_response(
            client,
            "ucla3",
            factories.all_answers("ucla3", value),
            when=now - datetime.timedelta(days=days),
        )


@pytest.mark.django_db
def test_it_stores_the_signal_and_clears_it_when_contact_returns(world: World) -> None:
    now = timezone.now()
    sam = _withdrawing(world.client_a, now)
    _withdrawing(world.client_b, now, recent=6)  # 6 against 8: not half
    stored = withdrawal.refresh([world.client_a.pk, world.client_b.pk], now)
    assert stored.raised == 1
    signal = WithdrawalSignal.objects.get()
    assert signal.client == world.client_a
    assert signal.reasons == [DROPPED]
    assert (signal.recent_contacts, signal.baseline_contacts) == (1, 8.0)
    assert signal.reason_labels == ["Contact has dropped"]
    first_seen = signal.detected_at

    # Still holding a day later: the first detection time is kept.
    later = now + datetime.timedelta(days=1)
    withdrawal.refresh([world.client_a.pk], later)
    signal.refresh_from_db()
    assert signal.detected_at == first_seen

    # Back in touch: three more contacts make 4 in the last 4 weeks (half of 8 is still a
    # signal), a fourth clears it.
    contacts_days_ago(sam, [0.5, 1.5, 2.5], now=later)
    assert withdrawal.refresh([world.client_a.pk], later).kept == 1
    contacts_days_ago(sam, [0.1], now=later)
    assert withdrawal.refresh([world.client_a.pk], later).cleared == 1
    assert not WithdrawalSignal.objects.exists()


def _ucla3(client: Client, total: int, when: datetime.datetime) -> None:
    """A UCLA-3 response with this total (3 to 9; each item 1 to 3)."""
    items = [1, 1, 1]
    for position in range(total - 3):
        items[position % 3] += 1
    answers = {str(n + 1): float(value) for n, value in enumerate(items)}
    factories.submitted_response(client, "ucla3", answers, when=when)  # type: ignore[arg-type]


@pytest.mark.django_db
def test_the_shipped_ucla3_signals_a_rise_against_the_practices_own_sample(world: World) -> None:
    now = timezone.now()
    clinician = world.clinician
    # Thirty other clients of the practice, each with a first score of 3 or 7, and a later one
    # that does not count: only first scores make the sample.
    for n in range(30):
        other = factories.client_of(world.practice, clinician, display_name=f"Client {n}")
        _ucla3(other, 3 if n % 2 else 7, now - datetime.timedelta(days=200))
        _ucla3(other, 9, now - datetime.timedelta(days=100))
    _ucla3(world.client_a, 4, now - datetime.timedelta(days=90))
    _ucla3(world.client_a, 7, now - datetime.timedelta(days=2))  # a rise of 3: reliable
    _ucla3(world.client_b, 4, now - datetime.timedelta(days=90))
    _ucla3(world.client_b, 6, now - datetime.timedelta(days=2))  # a rise of 2: not
    # The stranger's practice has one client: its rise of 6 has no sample to be judged by, and
    # the first practice's sample is not lent to it.
    _ucla3(world.other_client, 3, now - datetime.timedelta(days=90))
    _ucla3(world.other_client, 9, now - datetime.timedelta(days=2))

    thresholds = withdrawal.practice_thresholds(withdrawal.loneliness_instrument())
    assert set(thresholds) == {world.practice.pk}
    # Clients A and B's first scores (4 and 4) join the sample: 32 scores, mean 4.94, SD 1.983,
    # so 1.96 x 1.983 x sqrt(2) x sqrt(.28) = 2.908.
    assert thresholds[world.practice.pk] == pytest.approx(2.908, abs=0.001)
    withdrawal.refresh([world.client_a.pk, world.client_b.pk, world.other_client.pk], now)
    signal = WithdrawalSignal.objects.get()
    assert signal.client == world.client_a and signal.reasons == [LONELIER]
    assert (signal.loneliness_before, signal.loneliness_after) == (4, 7)


@pytest.mark.django_db
def test_it_signals_a_reliable_rise_in_loneliness(world: World, reliable_ucla3: Instrument) -> None:
    now = timezone.now()
    _lonelier(world.client_a, now)  # 3, 3, then 6
    withdrawal.refresh([world.client_a.pk, world.client_b.pk], now)
    signal = WithdrawalSignal.objects.get()
    assert signal.client == world.client_a
    assert signal.reasons == [LONELIER]
    assert (signal.loneliness_before, signal.loneliness_after) == (3, 6)


@pytest.mark.django_db
def test_an_old_loneliness_score_is_not_a_current_signal(
    world: World, reliable_ucla3: Instrument
) -> None:
    now = timezone.now()
    _lonelier(world.client_a, now, latest_days_ago=130)
    withdrawal.refresh([world.client_a.pk], now)
    assert not WithdrawalSignal.objects.exists()


@pytest.mark.django_db
def test_both_reasons_together(world: World, reliable_ucla3: Instrument) -> None:
    now = timezone.now()
    _withdrawing(world.client_a, now, recent=0)
    _lonelier(world.client_a, now)
    withdrawal.refresh([world.client_a.pk], now)
    assert WithdrawalSignal.objects.get().reasons == [DROPPED, LONELIER]


# --- on the caseload -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_caseload_shows_the_signal_calmly_with_a_link(world: World) -> None:
    now = timezone.now()
    _withdrawing(world.client_a, now)
    withdrawal.refresh([world.client_a.pk], now)
    body = signed_in(world.clinician).get(HOME).content.decode()
    rhythm_url = reverse("connection_rhythm", kwargs={"client_id": world.client_a.pk})
    assert "Keeping in touch" in body
    assert (
        f'<a href="{rhythm_url}"><span class="badge badge--warn">Contact has dropped</span>'
    ) in body
    # The rhythm page explains it to the care team.
    page = signed_in(world.clinician).get(rhythm_url).content.decode()
    assert "Worth a conversation" in page
    assert "1 contact logged in the last 4 weeks, against about 8 in a usual 4 weeks" in page
    # The client's own page does not show the care team's signal.
    own = signed_in(world.client_a_user).get(rhythm_url).content.decode()
    assert "Contact has dropped" not in own and "Worth a conversation" not in own


@pytest.mark.django_db
def test_strangers_never_see_the_signal(world: World) -> None:
    now = timezone.now()
    _withdrawing(world.client_a, now)
    withdrawal.refresh([world.client_a.pk], now)
    for user in (world.colleague, world.stranger, world.admin, world.member):
        body = signed_in(user).get(HOME).content.decode()
        assert "Contact has dropped" not in body


def _queries(world: World, size: int) -> int:
    now = timezone.now()
    clinician = factories.staff(world.practice, Role.CLINICIAN, display_name=f"Size {size}")
    clients = []
    for index in range(size):
        client = factories.client_of(world.practice, clinician, display_name=f"W{size} {index}")
        _withdrawing(client, now)
        clients.append(client.pk)
    withdrawal.refresh(clients, now)
    http = signed_in(clinician)
    http.get(HOME)  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = http.get(HOME)
    assert response.content.decode().count("Contact has dropped</span>") == size
    return len(queries)


@pytest.mark.django_db
def test_the_signal_adds_a_constant_number_of_queries(world: World) -> None:
    assert _queries(world, 2) == _queries(world, 12)
