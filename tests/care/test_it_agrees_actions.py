"""Actions agreed in a session: each has an owner (the client, a member or a clinician), a due
date not in the past and optionally a goal, and queues a reminder for the day before at 09:00 in
the owner's time zone. The client marks her own actions; the care team any; bad input is named."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone

from kithkin.audit.models import AuditEvent
from kithkin.care import sessions
from kithkin.care.models import Action, ActionStatus, Goal, NetworkSession, OwnerKind
from kithkin.jobs.models import Job
from tests.care.session_data import (
    action_of,
    member_record,
    session_of,
    session_url,
    today_for,
    url,
)
from tests.conftest import World, signed_in

pytestmark = pytest.mark.django_db


def _add(world: World, session: NetworkSession, **data: Any) -> Any:
    posted = {
        "title": "Call Alex on Friday evening",
        "owner": f"member:{member_record(world).pk}",
        "due_on": (today_for(world.clinician) + timedelta(days=5)).isoformat(),
        "goal": "",
        **data,
    }
    return signed_in(world.clinician).post(
        session_url("care_session_action_add", world, session), posted
    )


def test_it_agrees_an_action_for_a_member(world: World) -> None:
    world.member.time_zone = "America/New_York"
    world.member.save(update_fields=["time_zone"])
    session = session_of(world)
    goal = Goal.objects.create(client=world.client_a, title="Feel less alone in the evenings")
    due_on = timezone.localdate() + timedelta(days=5)

    response = _add(world, session, goal=str(goal.pk), due_on=due_on.isoformat())

    assert response.status_code == 302
    action = Action.objects.get(session=session)
    assert action.owner_kind == OwnerKind.MEMBER
    assert action.owner == world.member
    assert action.owner_member == member_record(world)
    assert action.goal == goal
    assert action.due_on == due_on
    assert action.status == ActionStatus.OPEN
    job = Job.objects.get(key=f"care.action_reminder:{action.pk}")
    new_york = zoneinfo.ZoneInfo("America/New_York")
    expected = datetime.combine(due_on - timedelta(days=1), time(9), tzinfo=new_york)
    assert job.run_after == expected.astimezone(UTC)
    assert job.payload == {"id": str(action.pk), "due_on": due_on.isoformat()}
    assert AuditEvent.objects.filter(action="care.action.create", object_id=str(action.pk)).exists()


@pytest.mark.parametrize("kind", ["client", "clinician"])
def test_it_lets_the_client_or_a_clinician_own_an_action(world: World, kind: str) -> None:
    session = session_of(world)
    owner = "client" if kind == "client" else f"clinician:{world.clinician.pk}"
    assert _add(world, session, owner=owner).status_code == 302
    action = Action.objects.get(session=session)
    assert action.owner_kind == kind
    assert action.owner == (world.client_a_user if kind == "client" else world.clinician)
    assert action.owner_member is None


def test_it_reminds_at_once_when_the_day_before_has_passed(world: World) -> None:
    session = session_of(world)
    before = timezone.now()
    _add(world, session, due_on=today_for(world.clinician).isoformat())
    job = Job.objects.get(kind="care.action_reminder")
    assert before <= job.run_after <= timezone.now()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"owner": ""}, "every action needs an owner"),
        ({"owner": "member:999999"}, "Choose who will do this from the list"),
        ({"owner": "clinician:COLLEAGUE"}, "Choose who will do this from the list"),
        ({"due_on": "YESTERDAY"}, "The due date is in the past"),
        ({"due_on": ""}, "Choose the date it is due"),
        ({"title": ""}, "Say what will be done"),
        ({"goal": "ELSEWHERE"}, "current goals, or none"),
    ],
)
def test_it_names_what_is_wrong(world: World, data: dict[str, str], message: str) -> None:
    session = session_of(world)
    elsewhere = Goal.objects.create(client=world.client_b, title="Someone else's goal")
    swaps = {
        "clinician:COLLEAGUE": f"clinician:{world.colleague.pk}",
        "YESTERDAY": (today_for(world.clinician) - timedelta(days=1)).isoformat(),
        "ELSEWHERE": str(elsewhere.pk),
    }
    response = _add(world, session, **{k: swaps.get(v, v) for k, v in data.items()})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Action.objects.exists()
    assert not Job.objects.filter(kind="care.action_reminder").exists()


def test_the_service_refuses_a_past_due_date_and_an_unknown_owner(world: World) -> None:
    from tests.care.session_data import request_as

    session = session_of(world)
    request = request_as(world.clinician)
    with pytest.raises(sessions.SessionError, match="in the past"):
        sessions.add_action(
            request,
            session,
            title="x",
            owner_key="client",
            due_on=timezone.localdate() - timedelta(days=1),
        )
    with pytest.raises(sessions.SessionError, match="needs an owner"):
        sessions.add_action(request, session, title="x", owner_key="", due_on=timezone.localdate())
    assert not Action.objects.exists()


def test_the_client_marks_her_own_action(world: World) -> None:
    session = session_of(world, status="held", starts_at=timezone.now() - timedelta(days=1))
    mine = action_of(world, session, kind=OwnerKind.CLIENT, title="Go to the Tuesday group")
    theirs = action_of(world, session, kind=OwnerKind.MEMBER, title="Drive to the group")
    http = signed_in(world.client_a_user)
    mine_url = url("care_action", world, action_id=mine.pk)

    response = http.post(mine_url, {"status": "not_possible", "note": ""})
    assert "saying why it was not possible" in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == ActionStatus.OPEN

    response = http.post(mine_url, {"status": "done", "note": "Went twice"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == ActionStatus.DONE
    assert mine.status_note == "Went twice"
    assert mine.status_by == world.client_a_user
    assert AuditEvent.objects.filter(
        action="care.action.status", object_id=str(mine.pk), detail__status="done"
    ).exists()

    # She sees every action of her case, but changes only her own.
    listing = http.get(url("care_actions", world)).content.decode()
    assert "Go to the Tuesday group" in listing and "Drive to the group" in listing
    theirs_url = url("care_action", world, action_id=theirs.pk)
    assert http.get(theirs_url).status_code == 404
    assert http.post(theirs_url, {"status": "done"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ActionStatus.OPEN


def test_the_care_team_marks_any_action_not_possible_with_a_note(world: World) -> None:
    action = action_of(world, session_of(world))
    http = signed_in(world.clinician)
    response = http.post(
        url("care_action", world, action_id=action.pk),
        {"status": "not_possible", "note": "Mel was away that week"},
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == ActionStatus.NOT_POSSIBLE
    assert action.status_note == "Mel was away that week"


def test_it_filters_actions_and_marks_late_ones_gently(world: World) -> None:
    session = session_of(world, status="held", starts_at=timezone.now() - timedelta(days=10))
    action_of(world, session, title="Late one", due_on=timezone.localdate() - timedelta(days=3))
    action_of(world, session, title="Finished one", status=ActionStatus.DONE)
    http = signed_in(world.clinician)
    everything = http.get(url("care_actions", world)).content.decode()
    assert "Late one" in everything and "Finished one" in everything
    assert "Past its date" in everything
    assert "badge--warn" in everything
    done = http.get(url("care_actions", world), {"status": "done"}).content.decode()
    assert "Finished one" in done and "Late one" not in done
    assert http.get(url("care_actions", world), {"status": "nonsense"}).status_code == 200


def test_it_adds_no_action_to_a_cancelled_session(world: World) -> None:
    session = session_of(world, status="cancelled")
    response = _add(world, session)
    assert response.status_code == 302
    assert not Action.objects.exists()


@pytest.mark.parametrize("who", ["colleague", "admin", "member", "client_b_user", "stranger"])
def test_it_refuses_strangers(world: World, who: str) -> None:
    session = session_of(world)
    action = action_of(world, session, title="Somebody's action")
    http = signed_in(getattr(world, who))
    assert http.get(session_url("care_session_action_add", world, session)).status_code == 404
    assert http.get(url("care_actions", world)).status_code == 404
    page = http.get(url("care_action", world, action_id=action.pk))
    assert page.status_code == 404
    assert "Somebody's action" not in page.content.decode()
    response = http.post(url("care_action", world, action_id=action.pk), {"status": "done"})
    assert response.status_code == 404
    action.refresh_from_db()
    assert action.status == ActionStatus.OPEN
    before = Action.objects.count()
    response = http.post(
        session_url("care_session_action_add", world, session),
        {"title": "x", "owner": "client", "due_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 404
    assert Action.objects.count() == before


def test_the_client_cannot_agree_actions_herself(world: World) -> None:
    session = session_of(world)
    http = signed_in(world.client_a_user)
    response = http.post(
        session_url("care_session_action_add", world, session),
        {"title": "x", "owner": "client", "due_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 404
    assert not Action.objects.exists()
