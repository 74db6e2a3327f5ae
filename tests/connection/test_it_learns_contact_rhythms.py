"""Each relationship's natural interval is learned from synthetic contact logs: robust to a long
gap, counted by day, trusted only from 3 contact days; drifting is judged against it, or against
the wished rhythm until it is trusted; never for a not-safe person or someone off the map."""

from __future__ import annotations

import datetime
import uuid
import zoneinfo
from collections.abc import Sequence

import pytest
from django.utils import timezone

from kithkin.connection import rhythm
from kithkin.connection.rhythm import Basis, Status
from tests import factories
from tests.conftest import World
from tests.connection.rhythm_data import NOW, contacts_days_ago, weekly_friend

UTC = datetime.UTC
TODAY = NOW.date()
PERSON, CLIENT = uuid.uuid4(), uuid.uuid4()


def _moments(*days_ago: float) -> list[datetime.datetime]:
    return [NOW - datetime.timedelta(days=d) for d in days_ago]


def _assess(days_ago: Sequence[float], wished: int | None = None) -> rhythm.PersonRhythm:
    return rhythm.assess(PERSON, CLIENT, _moments(*days_ago), wished, today=TODAY, zone=UTC)


def test_it_learns_a_regular_weekly_rhythm() -> None:
    state = _assess([3 + 7 * n for n in range(10)])
    assert state.learned_days == 7
    assert state.basis is Basis.LEARNED
    assert state.days_since == 3
    assert state.status is Status.STEADY


def test_one_long_gap_does_not_change_the_learned_interval() -> None:
    # Weekly, then ten weeks away (an illness), then weekly again.
    recent = [2 + 7 * n for n in range(5)]
    earlier = [recent[-1] + 70 + 7 * n for n in range(5)]
    state = _assess(recent + earlier)
    assert rhythm.intervals(rhythm.contact_days(_moments(*(recent + earlier)), UTC)).count(70) == 1
    assert state.learned_days == 7
    # Irregular, every 8 to 12 days, with one gap of 90: the median stays at 9.
    irregular = [1, 9, 21, 30, 38, 128, 140, 149]
    gaps = rhythm.intervals(rhythm.contact_days(_moments(*irregular), UTC))
    assert gaps == [9, 12, 90, 8, 9, 12, 8]
    assert _assess(irregular).learned_days == 9


def test_two_gaps_take_the_lower_middle() -> None:
    # Three contacts: gaps of 7 and 60. The long one may be the exception; it never sets the
    # rhythm alone.
    assert _assess([5, 12, 72]).learned_days == 7


def test_it_trusts_the_interval_only_from_three_contact_days() -> None:
    assert _assess([]).learned_days is None
    assert _assess([4]).learned_days is None
    two = _assess([4, 11])
    assert two.learned_days is None and two.contact_days == 2
    assert two.status is Status.UNKNOWN  # nothing learned and nothing wished
    assert _assess([4, 11, 18]).learned_days == 7


def test_contacts_on_the_same_day_count_once() -> None:
    # Three calls on one day and one a week before: two contact days, not enough.
    same_day = _assess([2, 2.1, 2.2, 9])
    assert same_day.contact_days == 2
    assert same_day.learned_days is None
    # Five contacts over three days a week apart: every week, not "every 0 days".
    assert _assess([2, 2.1, 9, 9.1, 16]).learned_days == 7


def test_days_are_counted_in_the_clients_time_zone() -> None:
    auckland = zoneinfo.ZoneInfo("Pacific/Auckland")  # UTC+13 in March
    # 10:00 and 12:00 UTC on 1 March are 23:00 on 1 March and 01:00 on 2 March in Auckland.
    first = datetime.datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    second = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert len(rhythm.contact_days([first, second], UTC)) == 1
    assert len(rhythm.contact_days([first, second], auckland)) == 2


def test_it_uses_the_wish_until_a_rhythm_is_learned() -> None:
    wished_only = _assess([10], wished=7)
    assert wished_only.basis is Basis.WISHED
    assert wished_only.expected_days == 7
    assert not wished_only.drifting  # every 7 days: drifting from day 11
    assert _assess([11], wished=7).drifting
    # Two contacts are not a rhythm yet: the wish decides.
    assert _assess([11, 13], wished=7).basis is Basis.WISHED


def test_drifting_needs_half_as_long_again_and_three_days() -> None:
    assert rhythm.drift_after(1) == 4  # every day: drifting from day 4, not day 2
    assert rhythm.drift_after(2) == 5
    assert rhythm.drift_after(7) == 11
    assert rhythm.drift_after(14) == 22
    assert rhythm.drift_after(30) == 46
    weekly = [7 * n for n in range(1, 9)]
    assert not _assess([d + 3 for d in weekly]).drifting  # last contact 10 days ago
    assert _assess([d + 4 for d in weekly]).drifting  # 11 days ago
    assert _assess([d + 14 for d in weekly]).status is Status.DRIFTING


def test_a_learned_rhythm_wins_over_the_wish() -> None:
    # Usually every 14 days, wished every 7, last contact 12 days ago: steady by the learned
    # rhythm (drifting from day 22), although past the wish.
    state = _assess([12, 26, 40, 54], wished=7)
    assert state.learned_days == 14 and state.wished_days == 7
    assert state.basis is Basis.LEARNED
    assert not state.drifting


def test_without_any_contact_nothing_drifts() -> None:
    state = _assess([], wished=7)
    assert state.days_since is None
    assert state.status is Status.UNKNOWN


def test_it_keeps_to_the_most_recent_intervals() -> None:
    # Monthly for years, then weekly for the last twelve weeks: the rhythm is weekly now.
    weekly = [1 + 7 * n for n in range(13)]
    monthly = [weekly[-1] + 30 * n for n in range(1, 20)]
    assert _assess(weekly + monthly).learned_days == 7


@pytest.mark.django_db
def test_the_loader_reads_only_safe_people_on_the_map(world: World) -> None:
    sam = weekly_friend(world.client_a, "Sam", last=3)
    unsafe = weekly_friend(world.client_a, "Rex", last=30, not_safe=True)
    gone = weekly_friend(world.client_a, "Gone", last=30)
    gone.removed_at = NOW
    gone.save(update_fields=["removed_at"])
    theirs = weekly_friend(world.client_b, "Bo", last=30)
    people = rhythm.safe_people([world.client_a.pk])
    assert {p.person_id for p in people} == {sam.pk}
    states = rhythm.load(people, zones={world.client_a.pk: UTC}, now=NOW)
    assert set(states) == {sam.pk}
    assert states[sam.pk].learned_days == 7 and not states[sam.pk].drifting
    assert unsafe.pk not in states and theirs.pk not in states


@pytest.mark.django_db
def test_the_page_loader_lists_drifting_people_first(world: World) -> None:
    steady = weekly_friend(world.client_a, "Steady", last=2)
    drifting = weekly_friend(world.client_a, "Drifting", last=25)
    wished = factories.person_of(world.client_a, "Wished", wished_rhythm_days=14)
    contacts_days_ago(wished, [30])
    newcomer = factories.person_of(world.client_a, "Newcomer")
    factories.person_of(world.client_a, "Not safe", not_safe=True)
    rows = rhythm.for_client(world.client_a, now=NOW)
    names = [row.person.name for row in rows]
    assert names[:2] == ["Drifting", "Wished"]
    assert set(names) == {"Steady", "Drifting", "Wished", "Newcomer"}
    by_name = {row.person.name: row for row in rows}
    assert by_name["Drifting"].usually == "every week"
    assert by_name["Drifting"].since == "4 weeks ago"
    assert by_name["Wished"].usually == "" and by_name["Wished"].wished == "every 2 weeks"
    assert by_name["Newcomer"].rhythm.status is Status.UNKNOWN
    assert {steady.pk, drifting.pk, wished.pk, newcomer.pk} == {row.person.pk for row in rows}


def test_it_words_rhythms_as_people_say_them() -> None:
    assert rhythm.every_text(1) == "every day"
    assert rhythm.every_text(7) == "every week"
    assert rhythm.every_text(14) == "every 2 weeks"
    assert rhythm.every_text(10) == "every 10 days"
    assert rhythm.every_text(30) == "every month"
    assert rhythm.span_text(1) == "1 day"
    assert rhythm.span_text(13) == "13 days"
    assert rhythm.span_text(21) == "3 weeks"
    assert rhythm.span_text(75) == "2 months"
    assert timezone.is_aware(NOW)
