"""A practice admin sets the crisis resources clients see and when unacknowledged alerts escalate;
nobody else can, and another practice's admin only ever sees their own practice's settings."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from kithkin.accounts.models import Role, User
from kithkin.audit.models import AuditEvent, Outcome
from kithkin.measures import services
from kithkin.measures.models import PracticeMeasuresSettings
from tests import factories
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db

URL = reverse("measures_settings")
OUR_TEXT = "Harbour duty line: 0100 000 0000, open at any hour."


def _post(user: User, **data: Any) -> Any:
    return signed_in(user).post(URL, {"crisis_resources": "", "escalate_after_minutes": "", **data})


def test_it_shows_the_default_text_and_delay(world: World) -> None:
    response = signed_in(world.admin).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    first_line = services.default_crisis_resources().splitlines()[0]
    assert escape(first_line) in body
    assert "This is Kithkin's default text." in body
    assert f"installation's default ({settings.MEASURES_ALERT_ESCALATION_MINUTES} minutes)" in body


def test_it_saves_the_practices_own_text_and_delay(world: World) -> None:
    response = _post(world.admin, crisis_resources=f"  {OUR_TEXT}  ", escalate_after_minutes="30")
    assert response.status_code == 302
    saved = PracticeMeasuresSettings.objects.get(practice=world.practice)
    assert (saved.crisis_resources, saved.escalate_after_minutes) == (OUR_TEXT, 30)
    assert saved.updated_by == world.admin
    assert services.crisis_resources(world.practice) == OUR_TEXT
    body = signed_in(world.admin).get(URL).content.decode()
    assert OUR_TEXT in body
    assert "after 30 minutes is emailed" in body
    assert AuditEvent.objects.filter(
        action="measures.settings.update", object_id=str(world.practice.pk)
    ).exists()


def test_it_goes_back_to_the_defaults_when_left_blank(world: World) -> None:
    _post(world.admin, crisis_resources=OUR_TEXT, escalate_after_minutes="30")
    assert _post(world.admin).status_code == 302
    saved = PracticeMeasuresSettings.objects.get(practice=world.practice)
    assert (saved.crisis_resources, saved.escalate_after_minutes) == ("", None)
    assert services.crisis_resources(world.practice) == services.default_crisis_resources()


@pytest.mark.parametrize(
    ("minutes", "message"),
    [
        ("4", "The minutes must be from 5 to 10080 (one week)."),
        ("10081", "The minutes must be from 5 to 10080 (one week)."),
        ("soon", "Enter the minutes as a whole number."),
    ],
)
def test_it_refuses_a_delay_out_of_range_naming_the_field(
    world: World, minutes: str, message: str
) -> None:
    response = _post(world.admin, escalate_after_minutes=minutes)
    assert response.status_code == 200
    assert f"Tell the practice admins after (minutes): {message}" in response.content.decode()
    assert not PracticeMeasuresSettings.objects.exists()


@pytest.mark.parametrize("who", ["clinician", "colleague", "client_a_user", "member", "stranger"])
def test_it_refuses_anyone_who_is_not_a_practice_admin(world: World, who: str) -> None:
    user = getattr(world, who)
    assert signed_in(user).get(URL).status_code == 403
    assert _post(user, crisis_resources="Changed").status_code == 403
    assert not PracticeMeasuresSettings.objects.exists()
    assert AuditEvent.objects.filter(actor_id=user.pk, outcome=Outcome.DENIED).count() == 2


def test_it_shows_another_practices_admin_only_their_own_settings(world: World) -> None:
    _post(world.admin, crisis_resources=OUR_TEXT, escalate_after_minutes="30")
    stranger_admin = factories.staff(world.other_practice, Role.ADMIN)
    body = signed_in(stranger_admin).get(URL).content.decode()
    assert OUR_TEXT not in body
    assert "Harbour Practice" not in body
    assert "Elsewhere Clinic" in body
    _post(stranger_admin, crisis_resources="Theirs", escalate_after_minutes="15")
    ours = PracticeMeasuresSettings.objects.get(practice=world.practice)
    assert (ours.crisis_resources, ours.escalate_after_minutes) == (OUR_TEXT, 30)
    theirs = PracticeMeasuresSettings.objects.get(practice=world.other_practice)
    assert (theirs.crisis_resources, theirs.escalate_after_minutes) == ("Theirs", 15)


def test_it_is_linked_from_the_admins_home(world: World) -> None:
    assert URL in signed_in(world.admin).get(reverse("home")).content.decode()
    assert URL not in signed_in(world.clinician).get(reverse("home")).content.decode()
