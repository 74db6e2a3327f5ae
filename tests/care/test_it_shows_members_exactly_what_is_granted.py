"""The consent property: whatever sequence of grants and revocations the client makes, for any of
her members, a member sees exactly what is granted to them now: on the circle page, in each
session summary and its PDF, on each of their actions, and in every count; and never what is not
shareable at all (clinician notes, check-in answers, other people's actions)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from kithkin.care import consent
from kithkin.care.models import ActionStatus
from kithkin.security.models import ThrottleCounter
from tests.care import circle_data
from tests.care.circle_data import Circle
from tests.conftest import World, signed_in

NEVER = (
    circle_data.NOTE_CANARY,
    circle_data.RESPONSE_CANARY,
    circle_data.OTHER_ACTION_CANARY,
    circle_data.CLINICIAN_ACTION_CANARY,
)
CHECKIN_SENTENCE = "check-ins in the last 4 weeks"

choices = st.fixed_dictionaries({key: st.booleans() for key in consent.SHAREABLE_KEYS})


class ConsentMachine(RuleBasedStateMachine):
    circle: Circle

    def __init__(self) -> None:
        super().__init__()
        # Each run starts from a known decision: nothing shared with either member.
        self.granted = {
            "member": dict.fromkeys(consent.SHAREABLE_KEYS, False),
            "other": dict.fromkeys(consent.SHAREABLE_KEYS, False),
        }
        consent.decide(None, self.circle.member)
        consent.decide(None, self.circle.other_member)
        self.http: HttpClient = signed_in(self.circle.world.member)

    @rule(who=st.sampled_from(["member", "other"]), chosen=choices)
    def client_decides(self, who: str, chosen: dict[str, bool]) -> None:
        member = self.circle.member if who == "member" else self.circle.other_member
        consent.decide(None, member, **chosen)
        self.granted[who] = dict(chosen)

    @rule(who=st.sampled_from(["member", "other"]))
    def client_stops_sharing(self, who: str) -> None:
        member = self.circle.member if who == "member" else self.circle.other_member
        consent.decide(None, member)
        self.granted[who] = dict.fromkeys(consent.SHAREABLE_KEYS, False)

    # --- what the member sees, checked after every step ---------------------------------------

    @invariant()
    def the_circle_page_shows_exactly_the_grant(self) -> None:
        granted = self.granted["member"]
        client = self.circle.client
        page = self.http.get(reverse("circle", kwargs={"client_id": client.pk}))
        assert page.status_code == 200
        html = page.content.decode()
        for canary in NEVER:
            assert canary not in html
        assert (circle_data.GOAL_TITLE in html) is granted["goals"]
        assert (circle_data.SUMMARY_TEXT in html) is granted["session_summaries"]
        assert (circle_data.MEMBER_ACTION in html) is granted["own_actions"]
        assert (circle_data.DONE_ACTION in html) is granted["own_actions"]
        assert (CHECKIN_SENTENCE in html) is granted["checkin_summary"]
        # Counts: one update link per open action of theirs, none when not shared.
        open_actions = 1 if granted["own_actions"] else 0
        assert html.count('class="button" href="/circles/') == open_actions
        assert (("share anything with you here yet") in html) is (not any(granted.values()))

    @invariant()
    def each_session_summary_and_its_pdf_follow_the_grant(self) -> None:
        shared = self.granted["member"]["session_summaries"]
        kwargs = {"client_id": self.circle.client.pk, "session_id": self.circle.held.pk}
        summary = self.http.get(reverse("circle_session", kwargs=kwargs))
        assert summary.status_code == (200 if shared else 404)
        html = summary.content.decode()
        for canary in NEVER:
            assert canary not in html
        if shared:
            assert circle_data.SUMMARY_TEXT in html
            # The summary lists the member's own agreed actions only if those are shared too.
            own = self.granted["member"]["own_actions"]
            assert (circle_data.MEMBER_ACTION in html) is own
        # The machine fetches this PDF after every step, far past the export rate limit (tested
        # in tests/security): the count starts again so that the grant alone decides.
        ThrottleCounter.objects.all().delete()
        pdf = self.http.get(reverse("circle_session_pdf", kwargs=kwargs))
        assert pdf.status_code == (200 if shared else 404)

    @invariant()
    def each_action_page_follows_the_grant(self) -> None:
        own = self.granted["member"]["own_actions"]
        client_id = self.circle.client.pk
        mine = self.http.get(
            reverse(
                "circle_action",
                kwargs={"client_id": client_id, "action_id": self.circle.member_action.pk},
            )
        )
        assert mine.status_code == (200 if own else 404)
        for action in (self.circle.other_action, self.circle.clinician_action):
            theirs = self.http.get(
                reverse("circle_action", kwargs={"client_id": client_id, "action_id": action.pk})
            )
            assert theirs.status_code == 404

    @invariant()
    def the_scope_agrees_with_the_pages(self) -> None:
        scope = consent.scope_of(self.circle.member)
        granted = self.granted["member"]
        assert scope.goals().count() == (1 if granted["goals"] else 0)
        assert scope.sessions().count() == (1 if granted["session_summaries"] else 0)
        assert scope.actions().count() == (2 if granted["own_actions"] else 0)
        assert scope.actions().filter(status=ActionStatus.OPEN).count() == (
            1 if granted["own_actions"] else 0
        )
        assert (scope.checkin_summary() is not None) is granted["checkin_summary"]


@pytest.fixture
def circle(world: World) -> Iterator[Circle]:
    built = circle_data.build_circle(world)
    ConsentMachine.circle = built
    yield built
    del ConsentMachine.circle


def test_it_shows_a_member_exactly_what_is_granted_after_any_sequence(circle: Circle) -> None:
    run_state_machine_as_test(
        ConsentMachine,
        settings=settings(
            max_examples=12,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
