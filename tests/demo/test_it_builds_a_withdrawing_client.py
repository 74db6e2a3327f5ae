"""The demo's withdrawing client: Lars Jensen, on clinician@'s first caseload page, has a steady
12-week baseline and then half or less of it in the last 4 weeks, with a weekly relationship gone
quiet for 3 weeks or more; the signal is there as soon as the demo is built and still holds after
a sweep, and his caseload row shows it to his clinician (not to a stranger)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from kithkin.accounts import homes
from kithkin.accounts.models import Client, User
from kithkin.connection import rhythm, sweep, withdrawal
from kithkin.connection.models import WithdrawalReason, WithdrawalSignal
from kithkin.demo import generator
from kithkin.network.models import Contact, Person
from tests.conftest import World, signed_in

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def lars() -> Client:
    return Client.objects.get(practice__name=generator.PRACTICE_NAME, display_name="Lars Jensen")


@pytest.mark.django_db
def test_it_builds_lars_withdrawing_with_a_signal_that_a_sweep_keeps(world: World) -> None:
    generator.build_demo(clients=40, now=NOW)
    client = lars()
    # The build itself computed it: the caseload shows it before any worker has run.
    built = withdrawal.signal_for(client)
    assert built is not None and built.reasons == [WithdrawalReason.CONTACT_DROPPED]

    contacts = Contact.objects.filter(client=client)
    split = NOW - withdrawal.RECENT
    recent = contacts.filter(occurred_at__gte=split, occurred_at__lte=NOW).count()
    baseline = contacts.filter(
        occurred_at__gte=split - withdrawal.BASELINE, occurred_at__lt=split
    ).count()
    per_period = baseline / 3
    assert per_period >= withdrawal.MIN_BASELINE
    assert recent <= per_period / 2

    # Steady through the baseline: contact in every one of its 4-week periods.
    for period in range(3):
        end = split - withdrawal.RECENT * period
        assert contacts.filter(occurred_at__gte=end - withdrawal.RECENT, occurred_at__lt=end)

    result = sweep.run(now=NOW)
    assert result.signals_kept >= 1
    signal = WithdrawalSignal.objects.get(client=client)
    assert signal.reasons == [WithdrawalReason.CONTACT_DROPPED]
    assert signal.detected_at == built.detected_at
    assert signal.recent_contacts == recent
    assert signal.baseline_contacts == pytest.approx(round(per_period, 2))


@pytest.mark.django_db
def test_it_gives_lars_a_weekly_relationship_that_is_drifting(world: World) -> None:
    generator.build_demo(clients=40, now=NOW)
    client = lars()
    rows = {row.person.name: row for row in rhythm.for_client(client, now=NOW)}
    ioana = rows["Ioana Popescu"]  # only safe people are listed
    assert not Person.objects.get(pk=ioana.person.pk).not_safe
    state = ioana.rhythm
    assert state.learned_days is not None and 5 <= state.learned_days <= 9  # about weekly
    assert state.contact_days >= 8  # for months
    assert state.days_since is not None and state.days_since >= 21
    assert state.drifting


@pytest.mark.django_db
def test_it_shows_the_signal_on_the_first_caseload_page_to_his_clinician_only(
    world: World,
) -> None:
    generator.build_demo(clients=40, now=NOW)
    client = lars()
    clinician = User.objects.get(email=generator.CLINICIAN_EMAIL)
    page = homes.caseload_page(clinician, 1)
    rows = {row.client_id: row for row in page.object_list}
    assert rows[client.pk].withdrawal == (str(WithdrawalReason.CONTACT_DROPPED.label),)

    rhythm_url = reverse("connection_rhythm", kwargs={"client_id": client.pk})
    home = signed_in(clinician).get(reverse("home"))
    assert rhythm_url in home.content.decode()
    assert signed_in(world.stranger).get(rhythm_url).status_code == 404
