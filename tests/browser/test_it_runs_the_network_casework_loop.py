"""In a real browser, the whole network casework loop: the clinician writes a problem and a goal
followed by a PHQ-9 target, chooses a key contact from the map (never the person marked not
safe) and invites them by email; the contact accepts on a phone and finds the circle page; the
client, on her phone, lets them see goals, session summaries and their own actions; the
clinician books a session (the invitation carries a calendar file), writes down a problem and an
attributed solution, agrees an action owned by the new member for the goal, records who came
and wraps up with a shared summary; the member marks the action done with a note; the client
sees it done on her progress page. A colleague off the care team and a member with no grants
see none of it. Every page passes an axe check; the member's and client's pages fit a phone."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from django.core import mail
from django.utils import timezone

from kithkin.accounts.models import NetworkMember, User
from kithkin.care.models import (
    Action,
    ActionStatus,
    AgendaStep,
    ConsentGrant,
    Contribution,
    Goal,
    Indicator,
    KeyContact,
    NetworkSession,
    OwnerKind,
    Participant,
    Problem,
    SessionStatus,
)
from tests.browser.conftest import NO_CHROMIUM

if not Path("/usr/bin/chromium").exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

from playwright.sync_api import Locator, Page, ViewportSize, expect

from tests.browser.test_it_signs_in_each_role import describe, serious_violations, sign_in
from tests.conftest import World
from tests.factories import all_answers, person_of, submitted_response

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 390, "height": 844}
DESK: ViewportSize = {"width": 1280, "height": 900}

CONTACT_NAME = "Jordan Lee"
CONTACT_EMAIL = "jordan.lee@example.org"
CONTACT_PASSWORD = "amber kettle orchard lantern"
UNSAFE_NAME = "Rex Hart"
PROBLEM = "Evenings alone are when the urge to drink is strongest."
GOAL = "Spend three evenings a week with people who help"
RAISED = "Tuesday evenings are the hardest now that the group has stopped."
SOLVED = "I can come round on Tuesdays after work and we cook together."
ACTION = "Cook with Alex on Tuesday evening"
SUMMARY = "We agreed Tuesday evenings together and talked about what helps."
NEXT_PLAN = "See how the Tuesdays went and plan the weekends."
PRIVATE = "Private: Alex seemed tired; ask about sleep next time."
DONE_NOTE = "We made soup and watched a film."


def assert_accessible(page: Page, what: str) -> None:
    violations = serious_violations(page)
    assert not violations, f"axe found serious problems on {what}:\n" + describe(violations)


def assert_fits_the_phone(page: Page, what: str) -> None:
    page.wait_for_load_state("load")  # styles applied: an unstyled page is wider
    widths: dict[str, int] = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, view: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["view"], (
        f"{what} is {widths['scroll']}px wide on a {widths['view']}px phone"
    )


def switch_user(page: Page, viewport: ViewportSize) -> None:
    page.context.clear_cookies()
    page.set_viewport_size(viewport)


def click(page: Page, locator: Locator) -> None:
    """Click and wait for the page it leads to."""
    locator.click()
    page.wait_for_load_state("load")


def local_now(user: User) -> datetime:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(user.time_zone))


def test_it_runs_the_network_casework_loop(page: Page, world: World) -> None:
    client = world.client_a
    # Data the issue does not ask to be typed: the people on her map, and a check-in four weeks
    # ago so the goal's PHQ-9 target has a score to show.
    person_of(client, CONTACT_NAME)
    person_of(client, UNSAFE_NAME, not_safe=True)
    submitted_response(
        client, "phq9", all_answers("phq9", 2), when=timezone.now() - timedelta(weeks=4)
    )
    mail.outbox.clear()

    # --- 1. The clinician writes the plan and invites a key contact ---------------------------
    sign_in(page, world.clinician)
    page.goto(f"/clients/{client.pk}/")
    assert_accessible(page, "the client overview")
    click(page, page.get_by_role("link", name="Open the case plan"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Case plan: Alex Rivers")
    assert_accessible(page, "the case plan (empty)")

    click(page, page.get_by_role("link", name="Add a problem"))
    assert_accessible(page, "the add-a-problem page")
    page.get_by_label("The problem").fill(PROBLEM)
    click(page, page.get_by_role("button", name="Save"))
    problem = Problem.objects.get(client=client)
    assert problem.text == PROBLEM

    click(page, page.get_by_role("link", name="Add a goal").first)
    assert_accessible(page, "the add-a-goal page")
    page.get_by_label("The goal:").fill(GOAL)
    page.get_by_label("The problem it answers").select_option(str(problem.pk))
    click(page, page.get_by_role("button", name="Add the goal"))
    goal = Goal.objects.get(client=client)
    assert (goal.title, goal.problem_id) == (GOAL, problem.pk)

    # Straight on to how the goal is followed: a PHQ-9 score of 9 or less.
    expect(page.get_by_role("heading", name="Follow a goal's progress")).to_be_visible()
    assert_accessible(page, "the indicator page")
    page.get_by_role("radio", name="A questionnaire score").check()
    page.get_by_label("Questionnaire:").select_option("phq9")
    page.get_by_label("Target score").fill("9")
    click(page, page.get_by_role("button", name="Add", exact=True))
    indicator = Indicator.objects.get(goal=goal)
    assert (indicator.instrument_id, indicator.target_score) == ("phq9", 9)
    expect(page.get_by_role("heading", level=1)).to_have_text(GOAL)
    assert_accessible(page, "the goal page")

    click(
        page,
        page.get_by_role("navigation", name="Casework").get_by_role("link", name="Key contacts"),
    )
    expect(page.get_by_role("heading", name="People on the map")).to_be_visible()
    assert_accessible(page, "the key contacts page")
    # The person marked not safe is never offered, not even named.
    expect(page.get_by_role("button", name=f"Choose {UNSAFE_NAME}")).to_have_count(0)
    assert UNSAFE_NAME not in page.content()
    click(page, page.get_by_role("button", name=f"Choose {CONTACT_NAME}"))
    contact = KeyContact.objects.get(client=client)
    assert contact.person.name == CONTACT_NAME
    expect(page.get_by_role("heading", level=1)).to_contain_text(CONTACT_NAME)
    assert_accessible(page, "a key contact's page")

    click(page, page.get_by_role("link", name="Invite by email"))
    assert_accessible(page, "the invitation page")
    expect(page.get_by_label("Their name")).to_have_value(CONTACT_NAME)
    page.get_by_label("Their email address").fill(CONTACT_EMAIL)
    click(page, page.get_by_role("button", name="Send the invitation"))
    expect(page.get_by_text(f"Invitation sent to {CONTACT_EMAIL}")).to_be_visible()
    [invitation_email] = [m for m in mail.outbox if m.to == [CONTACT_EMAIL]]
    body = str(invitation_email.body)
    link = re.search(r"/invite/[^/\s]+/", body)
    assert link is not None, body
    # The email says nothing about the client's care.
    assert PROBLEM not in body and GOAL not in body

    # --- 2. The contact accepts, on a phone, and finds the circle -----------------------------
    switch_user(page, PHONE)
    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="Welcome to Kithkin")).to_be_visible()
    assert_accessible(page, "the invitation acceptance page")
    assert_fits_the_phone(page, "the invitation acceptance page")
    page.get_by_label("Your name").fill(CONTACT_NAME)
    page.get_by_label("Choose a password").fill(CONTACT_PASSWORD)
    page.get_by_label("Type the password again").fill(CONTACT_PASSWORD)
    click(page, page.get_by_role("button", name="Create my account"))
    expect(
        page.get_by_role("heading", name="You are part of Alex's support circle")
    ).to_be_visible()
    member_user = User.objects.get(email=CONTACT_EMAIL)
    member = NetworkMember.objects.get(client=client, user=member_user)
    contact.refresh_from_db()
    assert contact.network_member == member, "the member_joined signal did not link the contact"
    assert_accessible(page, "the new member's home page")
    assert_fits_the_phone(page, "the new member's home page")

    click(page, page.get_by_role("link", name="Open Alex's circle"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Alex's circle")
    expect(page.get_by_text("hasn't chosen to share anything with you here yet")).to_be_visible()
    assert_accessible(page, "the circle page (nothing shared)")
    assert_fits_the_phone(page, "the circle page (nothing shared)")

    # --- 3. The client decides what the new member may see ------------------------------------
    switch_user(page, PHONE)
    sign_in(page, world.client_a_user)
    click(page, page.get_by_role("link", name="What you share, and with whom"))
    expect(page.get_by_role("heading", level=1)).to_have_text("What you share")
    assert_accessible(page, "the client's sharing page")
    assert_fits_the_phone(page, "the client's sharing page")
    choices = page.get_by_role("region", name=CONTACT_NAME)
    for label in ("Goals", "Session summaries", "Their own actions"):
        choices.get_by_label(label, exact=True).check()
    click(page, page.get_by_role("button", name="Save my choices"))
    expect(
        page.get_by_text(f"The change shows from their very next visit: {CONTACT_NAME}")
    ).to_be_visible()
    grant = ConsentGrant.objects.latest_per_member().get(member=member)
    assert (grant.goals, grant.session_summaries, grant.own_actions, grant.checkin_summary) == (
        True,
        True,
        True,
        False,
    )
    # The other member, who was not touched, still has nothing.
    assert not ConsentGrant.objects.filter(member__user=world.member).exists()

    # --- 4. The clinician books, runs and wraps up a network session ---------------------------
    switch_user(page, DESK)
    sign_in(page, world.clinician)
    page.goto(f"/clients/{client.pk}/")
    click(page, page.get_by_role("link", name="Network sessions"))
    assert_accessible(page, "the sessions list (empty)")
    click(page, page.get_by_role("link", name="Book a session"))
    assert_accessible(page, "the booking page")
    page.get_by_role("radio", name="Substance use: preventing relapse").check()
    # An hour ahead in the clinician's own zone: invitations go out only for a future session.
    starts = (local_now(world.clinician) + timedelta(hours=1)).replace(second=0, microsecond=0)
    page.get_by_label("Date and time").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Place").fill("Harbour Practice, room 2")
    # Everyone who can take part starts ticked; this session is for Alex, Jordan and Cleo.
    page.get_by_label("Mel Member (network member)").uncheck()
    expect(page.get_by_label(f"{CONTACT_NAME} (network member)")).to_be_checked()
    expect(page.get_by_label("Alex Rivers (client)")).to_be_checked()
    mail.outbox.clear()
    click(page, page.get_by_role("button", name="Book and send invitations"))
    session = NetworkSession.objects.get(client=client)
    assert session.starts_at == starts
    assert set(Participant.objects.filter(session=session).values_list("user_id", flat=True)) == {
        world.client_a_user.pk,
        member_user.pk,
        world.clinician.pk,
    }
    # Everyone invited is emailed a calendar file; the member's names the client by first name.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [world.client_a_user.email, CONTACT_EMAIL, world.clinician.email]
    )
    [member_invite] = [m for m in mail.outbox if m.to == [CONTACT_EMAIL]]
    [(filename, calendar, mimetype)] = member_invite.attachments
    assert filename.endswith(".ics") and mimetype == "text/calendar"
    invite = icalendar.Calendar.from_ical(calendar)
    assert invite["METHOD"] == "REQUEST"
    [event] = invite.walk("VEVENT")
    assert event.decoded("DTSTART") == starts
    assert "Alex Rivers" not in member_invite.body
    expect(page.get_by_role("heading", level=1)).to_have_text("Network session: Alex Rivers")
    assert_accessible(page, "the session page (planned)")

    # Step 2 and 3 of the agenda: a problem raised by Alex, and Jordan's answer to it.
    said = page.locator("#contribute")
    said.get_by_label("Step").select_option(AgendaStep.PROBLEM.value)
    said.get_by_label("Said by").select_option(label="Alex Rivers")
    said.get_by_label("What was said").fill(RAISED)
    click(page, said.get_by_role("button", name="Add to the agenda"))
    raised = Contribution.objects.get(session=session, step=AgendaStep.PROBLEM)
    said = page.locator("#contribute")
    said.get_by_label("Step").select_option(AgendaStep.SOLUTION.value)
    said.get_by_label("Said by").select_option(label=CONTACT_NAME)
    said.get_by_label("What was said").fill(SOLVED)
    said.get_by_label("Answers the problem").select_option(str(raised.pk))
    click(page, said.get_by_role("button", name="Add to the agenda"))
    solution = Contribution.objects.get(session=session, step=AgendaStep.SOLUTION)
    assert (solution.said_by, solution.problem) == (member_user, raised)
    problems = page.get_by_role("region", name="2 Problems raised")
    expect(problems.get_by_text(RAISED)).to_be_visible()
    expect(problems.get_by_text("— Alex Rivers")).to_be_visible()
    solutions = page.get_by_role("region", name="3 Solutions brainstormed")
    expect(solutions.get_by_text(SOLVED)).to_be_visible()
    expect(solutions.get_by_text(f"— {CONTACT_NAME}")).to_be_visible()

    # Step 4: an action owned by the new member, due in three days, for the goal.
    click(page, page.get_by_role("link", name="Agree an action"))
    assert_accessible(page, "the agree-an-action page")
    due_on = local_now(world.clinician).date() + timedelta(days=3)
    page.get_by_label("What will be done").fill(ACTION)
    page.get_by_label("Who will do it").select_option(label=f"{CONTACT_NAME} (network member)")
    page.get_by_label("Due on").fill(due_on.isoformat())
    page.get_by_label("Goal it supports").select_option(str(goal.pk))
    click(page, page.get_by_role("button", name="Save", exact=True))
    action = Action.objects.get(client=client)
    assert (action.title, action.owner_kind, action.owner_member, action.due_on, action.goal) == (
        ACTION,
        OwnerKind.MEMBER,
        member,
        due_on,
        goal,
    )
    expect(page.get_by_role("region", name="4 Actions agreed").get_by_text(ACTION)).to_be_visible()

    # Who came, and a private note that must never reach anyone outside the care team.
    for name in ("Alex Rivers", CONTACT_NAME, "Cleo Clinician"):
        page.get_by_role("group", name=name).get_by_label("Came", exact=True).check()
    click(page, page.get_by_role("button", name="Save attendance"))
    assert set(
        Participant.objects.filter(session=session, attended=True).values_list("user_id", flat=True)
    ) == {world.client_a_user.pk, member_user.pk, world.clinician.pk}
    page.get_by_label("Private note:").fill(PRIVATE)
    click(page, page.get_by_role("button", name="Save the note"))
    expect(page.get_by_text(PRIVATE)).to_be_visible()
    assert_accessible(page, "the session page (during the session)")

    # A session can be marked held only once it has begun; rather than wait an hour, move its
    # start into the past directly (the booking form rightly refuses a time that has passed).
    NetworkSession.objects.filter(pk=session.pk).update(
        starts_at=timezone.now() - timedelta(minutes=5)
    )
    click(page, page.get_by_role("link", name="Wrap up", exact=True))
    assert_accessible(page, "the wrap-up page")
    page.get_by_label("Summary for everyone").fill(SUMMARY)
    page.get_by_label("Plan for the next session").fill(NEXT_PLAN)
    page.get_by_label("The session took place: mark it as held").check()
    click(page, page.get_by_role("button", name="Save", exact=True))
    session.refresh_from_db()
    assert (session.status, session.shared_summary, session.next_plan) == (
        SessionStatus.HELD,
        SUMMARY,
        NEXT_PLAN,
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Network session: Alex Rivers")
    assert_accessible(page, "the session page (held)")

    # --- 5. The member sees the action and the summary, and marks the action done --------------
    switch_user(page, PHONE)
    sign_in(page, member_user, password=CONTACT_PASSWORD)
    click(page, page.get_by_role("link", name="Open Alex's circle"))
    mine = page.get_by_role("region", name="What you agreed to do")
    expect(mine.get_by_text(ACTION, exact=True)).to_be_visible()
    expect(
        page.get_by_role("region", name="What Alex is working towards").get_by_text(GOAL)
    ).to_be_visible()
    meetings = page.get_by_role("region", name="Past meetings")
    expect(meetings.get_by_text(SUMMARY)).to_be_visible()
    assert PRIVATE not in page.content() and PROBLEM not in page.content()
    assert_accessible(page, "the circle page (shared)")
    assert_fits_the_phone(page, "the circle page (shared)")

    click(page, meetings.get_by_role("link").first)
    expect(page.get_by_text(SUMMARY)).to_be_visible()
    assert PRIVATE not in page.content()
    assert_accessible(page, "the member's session summary")
    assert_fits_the_phone(page, "the member's session summary")
    page.go_back()
    page.wait_for_load_state("load")

    click(page, page.get_by_role("link", name=re.compile(f"^Update\\W+{re.escape(ACTION)}$")))
    expect(page.get_by_role("heading", level=1)).to_have_text(ACTION)
    expect(page.get_by_text(f"It helps with: {GOAL}")).to_be_visible()
    assert_accessible(page, "the member's action page")
    assert_fits_the_phone(page, "the member's action page")
    page.get_by_label("I did it").check()
    page.get_by_label("A note").fill(DONE_NOTE)
    click(page, page.get_by_role("button", name="Save", exact=True))
    expect(
        page.get_by_text("Thank you. Alex and the care team can see your update.")
    ).to_be_visible()
    done = page.get_by_role("region", name="What you agreed to do")
    expect(done.get_by_text("Nothing to do right now.")).to_be_visible()
    expect(done.get_by_text("Done", exact=True)).to_be_visible()
    action.refresh_from_db()
    assert (action.status, action.status_note, action.status_by) == (
        ActionStatus.DONE,
        DONE_NOTE,
        member_user,
    )
    assert_accessible(page, "the circle page after the update")
    assert_fits_the_phone(page, "the circle page after the update")

    # --- 6. The client sees the progress ------------------------------------------------------
    switch_user(page, PHONE)
    sign_in(page, world.client_a_user)
    click(page, page.get_by_role("link", name="Your goals and network meetings"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My plan")
    assert PRIVATE not in page.content()
    assert_accessible(page, "the client's plan")
    assert_fits_the_phone(page, "the client's plan")
    click(page, page.get_by_role("link", name="My progress"))
    expect(page.get_by_role("heading", level=1)).to_have_text("How things are going")
    for_goal = page.get_by_role("region", name=GOAL)
    row = for_goal.get_by_role("row", name=re.compile(CONTACT_NAME))
    # Agreed, done, not possible, still to do, past their date.
    expect(row.get_by_role("cell")).to_have_text(["1", "1", "0", "0", "0"])
    assert PRIVATE not in page.content()
    assert_accessible(page, "the client's progress page")
    assert_fits_the_phone(page, "the client's progress page")

    # --- 7. Nobody else sees any of it ---------------------------------------------------------
    session_url = f"/clients/{client.pk}/care/sessions/{session.pk}/"
    switch_user(page, DESK)
    sign_in(page, world.colleague)
    response = page.goto(session_url)
    assert response is not None and response.status == 404
    assert "Alex" not in page.content() and SUMMARY not in page.content()

    # A member of Alex's network who was not invited and is shown nothing.
    switch_user(page, PHONE)
    sign_in(page, world.member)
    page.goto(f"/circles/{client.pk}/")
    expect(page.get_by_text("hasn't chosen to share anything with you here yet")).to_be_visible()
    for secret in (ACTION, GOAL, SUMMARY, PRIVATE):
        assert secret not in page.content(), f"a member with no grants sees {secret!r}"
    for url in (
        f"/circles/{client.pk}/sessions/{session.pk}/",
        f"/circles/{client.pk}/actions/{action.pk}/",
        session_url,
    ):
        response = page.goto(url)
        assert response is not None and response.status == 404, url
