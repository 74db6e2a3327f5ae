"""The rhythm page (the client and her care team) and the reminder settings page (the client
changes them; her care team may look): calm wording, never a not-safe person, audited, and
refused to everyone else."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kithkin.audit.models import AuditEvent
from kithkin.connection.models import NudgeSettings
from kithkin.network.models import Person
from tests import factories
from tests.conftest import World, signed_in
from tests.connection.rhythm_data import contacts_days_ago, weekly_friend

pytestmark = pytest.mark.django_db

STRANGERS = ["stranger", "colleague", "admin", "client_b_user", "member"]


def _urls(world: World) -> dict[str, str]:
    kwargs = {"client_id": world.client_a.pk}
    return {
        "rhythm": reverse("connection_rhythm", kwargs=kwargs),
        "nudges": reverse("connection_nudge_settings", kwargs=kwargs),
    }


def _map(world: World) -> dict[str, Person]:
    now = timezone.now()
    return {
        "sam": weekly_friend(world.client_a, "Sam", last=21, now=now),
        "kit": weekly_friend(world.client_a, "Kit", last=2, now=now),
        "rex": weekly_friend(world.client_a, "Rex", last=40, now=now, not_safe=True),
        "new": factories.person_of(world.client_a, "Noor"),
    }


def test_the_client_sees_her_rhythms_in_calm_words(world: World) -> None:
    _map(world)
    body = signed_in(world.client_a_user).get(_urls(world)["rhythm"]).content.decode()
    assert "Keeping in touch" in body
    assert "1 relationship has gone longer than usual without contact." in body
    assert "It's been a while" in body
    assert "Drifting" not in body
    assert "Steady" in body
    assert "Not enough contacts yet" in body
    assert "every week" in body
    assert "Rex" not in body  # not safe: never listed
    assert "Reminders to get in touch are off. You can turn them on whenever you like." in body
    assert body.index(">Sam<") < body.index(">Kit<")  # drifting first


def test_the_care_team_sees_drifting_and_the_clients_reminder_choice(world: World) -> None:
    _map(world)
    NudgeSettings.objects.create(client=world.client_a, enabled=True)
    body = signed_in(world.clinician).get(_urls(world)["rhythm"]).content.decode()
    assert "Contact rhythms" in body
    assert "Drifting" in body
    assert "Rex" not in body
    assert "Reminders to get in touch are on." in body


def test_the_rhythm_page_reads_a_constant_number_of_queries(world: World) -> None:
    http = signed_in(world.clinician)
    url = _urls(world)["rhythm"]
    http.get(url)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert http.get(url).status_code == 200
        return len(captured)

    weekly_friend(world.client_a, "One", last=3, now=timezone.now())
    few = queries()
    for n in range(8):
        weekly_friend(world.client_a, f"Person {n}", last=3 + n * 5, now=timezone.now())
    assert queries() == few


def test_the_client_turns_reminders_on_and_chooses_how(world: World) -> None:
    people = _map(world)
    url = _urls(world)["nudges"]
    http = signed_in(world.client_a_user)
    page = http.get(url).content.decode()
    assert "Send me gentle reminders to get in touch" in page
    assert "Rex" not in page  # never offered, since never nudged about
    response = http.post(
        url,
        {
            "enabled": "on",
            "quiet_start": "22:00",
            "quiet_end": "07:30",
            "weekly_cap": "3",
            "pause": "7",
            "muted": [str(people["kit"].pk)],
        },
    )
    assert response.status_code == 302
    settings = NudgeSettings.objects.get(client=world.client_a)
    assert settings.enabled and settings.weekly_cap == 3
    assert (settings.quiet_start.hour, settings.quiet_end.minute) == (22, 30)
    assert settings.snoozed_until is not None and settings.snoozed_until > timezone.now()
    assert list(settings.muted_people.all()) == [people["kit"]]
    event = AuditEvent.objects.filter(action="connection.nudges.update").get()
    assert event.client_id == str(world.client_a.pk)
    assert "Sam" not in str(event.detail) and event.detail["muted"] == 1
    page = http.get(url).content.decode()
    assert "Your reminder settings were saved." in page
    assert "Paused until" in page
    # Ending the pause.
    http.post(url, {"enabled": "on", "quiet_start": "22:00", "quiet_end": "07:30",
                    "weekly_cap": "3", "pause": "resume"})  # fmt: skip
    settings.refresh_from_db()
    assert settings.snoozed_until is None and not settings.muted_people.exists()


def test_bad_settings_are_named_and_nothing_is_saved(world: World) -> None:
    url = _urls(world)["nudges"]
    http = signed_in(world.client_a_user)
    response = http.post(url, {"enabled": "on", "quiet_start": "25:99", "quiet_end": "07:00",
                               "weekly_cap": "9"})  # fmt: skip
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a valid time." in body
    assert "Select a valid choice. 9 is not one of the available choices." in body
    assert not NudgeSettings.objects.exists()
    # A person from someone else's map cannot be muted.
    other = factories.person_of(world.client_b, "Theirs")
    http.post(url, {"quiet_start": "22:00", "quiet_end": "07:00", "weekly_cap": "2",
                    "muted": [str(other.pk)]})  # fmt: skip
    assert not NudgeSettings.objects.exists()


def test_the_care_team_may_look_but_not_change(world: World) -> None:
    NudgeSettings.objects.create(client=world.client_a, enabled=False)
    url = _urls(world)["nudges"]
    http = signed_in(world.clinician)
    page = http.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Only they can change them." in body
    assert ">Save<" not in body and "disabled" in body
    response = http.post(url, {"enabled": "on", "quiet_start": "22:00", "quiet_end": "07:00",
                               "weekly_cap": "2"})  # fmt: skip
    assert response.status_code == 403
    assert not NudgeSettings.objects.get(client=world.client_a).enabled
    assert AuditEvent.objects.filter(action="connection.nudges.update", outcome="denied").exists()


@pytest.mark.parametrize("who", STRANGERS)
@pytest.mark.parametrize("page", ["rhythm", "nudges"])
def test_strangers_are_refused(world: World, who: str, page: str) -> None:
    _map(world)
    http = signed_in(getattr(world, who))
    url = _urls(world)[page]
    assert http.get(url).status_code == 404
    assert http.post(url, {"enabled": "on"}).status_code == 404
    assert not NudgeSettings.objects.exists()


def test_a_contact_logged_ends_the_drift_on_the_page(world: World) -> None:
    people = _map(world)
    contacts_days_ago(people["sam"], [0], now=timezone.now())
    body = signed_in(world.client_a_user).get(_urls(world)["rhythm"]).content.decode()
    assert "It's been a while" not in body
    assert "Everyone is within their usual rhythm" in body
