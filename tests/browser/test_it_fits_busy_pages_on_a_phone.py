"""In a real browser at 390x844: the busiest pages fit a phone. The snapshots list (client and
clinician), the support map (drawn to the phone's width, with a larger view that scrolls inside
its own region), the client's keeping-in-touch page, the care plan review's action tables and
the clinician's caseload never scroll the page sideways; their key columns ("How it's going",
"Open alerts", "Past their date") are on screen, each cell labelled when a table stacks into
cards (`table--stack`, kithkin.css); every page passes axe; a clinician of another practice is
refused the client's snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from django.utils import timezone

from kithkin.measures.models import RiskAlert
from kithkin.network.models import Category, Group, GroupKind, Person, Ring, Snapshot
from kithkin.network.snapshots import take_snapshot
from tests.browser.conftest import NO_CHROMIUM

if not Path("/usr/bin/chromium").exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

from playwright.sync_api import Locator, Page, ViewportSize, expect

from tests.browser.test_it_follows_the_risk_path import switch_user
from tests.browser.test_it_signs_in_each_role import describe, serious_violations, sign_in
from tests.care.circle_data import build_circle
from tests.conftest import World
from tests.factories import all_answers, contact, person_of, submitted_response, tie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 390, "height": 844}
DESK: ViewportSize = {"width": 1280, "height": 900}
# A map that reaches every sector, with long names, so the drawing and its labels are wide.
PEOPLE = [
    ("Jordan Blake", Ring.INNER, Category.FRIEND),
    ("Robin Hart", Ring.MIDDLE, Category.FAMILY),
    ("Maya Fernández-Oduya", Ring.INNER, Category.FAMILY),
    ("Sam Sunday", Ring.OUTER, Category.WORK),
    ("Dr Okafor", Ring.OUTER, Category.PROFESSIONAL),
    ("Lee from choir", Ring.MIDDLE, Category.COMMUNITY),
    ("Priya", Ring.INNER, Category.PARTNER),
    ("Aunt Josephine", Ring.OUTER, Category.FAMILY),
]


@dataclass
class Busy:
    client_id: UUID

    def url(self, where: str) -> str:
        base = f"/clients/{self.client_id}/"
        return {
            "snapshots": f"{base}network/snapshots/",
            "map": f"{base}network/",
            "keeping in touch": f"{base}connection/rhythm/",
            "care review": f"{base}care/review/",
            "caseload": "/",
        }[where]


@pytest.fixture
def busy(world: World) -> Busy:
    """Client A with a full map, months of contacts (one relationship drifting), snapshots with
    long labels, a goal with actions for four people, and an open risk alert."""
    client = world.client_a
    now = timezone.now()
    people: dict[str, Person] = {}
    for name, ring, category in PEOPLE:
        people[name] = person_of(
            client, name, ring=ring, category=category, wished_rhythm_days=7, helps_safe=True
        )
    person_of(client, "Rob", ring=Ring.OUTER, category=Category.PARTNER, not_safe=True)
    tie(people["Jordan Blake"], people["Robin Hart"])
    tie(people["Robin Hart"], people["Maya Fernández-Oduya"])
    group = Group.objects.create(client=client, name="Choir", kind=GroupKind.CLUB)
    group.members.set([people["Lee from choir"], people["Sam Sunday"]])
    for weeks in range(13):  # weekly for months, nothing for 25 days: drifting
        contact(people["Jordan Blake"], occurred_at=now - timedelta(days=25 + 7 * weeks))
    for day in range(2, 90, 4):  # every four days, still going: steady
        contact(people["Robin Hart"], occurred_at=now - timedelta(days=day, hours=2))
    for label in ("after the first session with the whole family", "", "before the move"):
        take_snapshot(client, world.clinician, reason=Snapshot.Reason.REVIEW, label=label)
    build_circle(world)  # a goal with actions for the client, two members and the clinician
    response = submitted_response(client, "phq9", all_answers("phq9", 2))
    RiskAlert.objects.create(
        client=client,
        response=response,
        instrument_id="phq9",
        rule_id="phq9_item9",
        item_id="9",
        value=2,
        severity="high",
    )
    return Busy(client.pk)


def open_page(page: Page, busy: Busy, where: str) -> None:
    response = page.goto(busy.url(where))
    assert response is not None and response.status == 200, where
    page.wait_for_load_state("load")  # styles applied: an unstyled page is wider


def assert_fits(page: Page, what: str) -> None:
    widths: dict[str, int] = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, view: window.innerWidth})"
    )
    assert widths["scroll"] <= widths["view"], (
        f"{what} is {widths['scroll']}px wide on a {widths['view']}px screen"
    )


def assert_accessible(page: Page, what: str) -> None:
    violations = serious_violations(page)
    assert not violations, f"axe found serious problems on {what}:\n" + describe(violations)


def assert_on_screen(page: Page, target: Locator, what: str) -> None:
    """Visible, inside the viewport sideways, and not clipped by a scrolling box: the page is
    scrolled down to it (never sideways, nor any box inside), and the point at its centre is
    the element itself."""
    expect(target).to_be_visible()
    seen = target.evaluate(
        """e => {
            const before = e.getBoundingClientRect();
            window.scrollTo(0, window.scrollY + before.top - window.innerHeight / 3);
            const r = e.getBoundingClientRect();
            const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
            return {left: r.left, right: r.right, width: r.width, view: window.innerWidth,
                    hit: !!hit && (hit === e || e.contains(hit))};
        }"""
    )
    assert seen["width"] > 0 and seen["left"] >= 0, (what, seen)
    assert seen["right"] <= seen["view"], f"{what} is off-screen: {seen}"
    assert seen["hit"], f"{what} is hidden behind or clipped by something: {seen}"


def assert_labelled(cell: Locator, label: str) -> None:
    """A stacked cell shows its column's name before its value (the ::before of data-label)."""
    assert cell.get_attribute("data-label") == label
    before = cell.evaluate("e => getComputedStyle(e, '::before').content")
    assert before not in ("none", "normal", ""), before
    assert label in before or "attr(" in before, before


def assert_not_clipped(table: Locator, what: str) -> None:
    """The table is no wider than its frame: nothing hides behind a sideways scroll."""
    sizes = table.evaluate("t => ({table: t.scrollWidth, frame: t.parentElement.clientWidth})")
    assert sizes["table"] <= sizes["frame"], f"{what} is clipped: {sizes}"


# --- 1. snapshots --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["client", "clinician"])
def test_it_fits_the_snapshots_page_on_a_phone(
    page: Page, world: World, busy: Busy, who: str
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, world.client_a_user if who == "client" else world.clinician)
    open_page(page, busy, "snapshots")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Snapshots of")
    assert_fits(page, f"the snapshots page for the {who}")
    table = page.locator("table.table--stack")
    assert_not_clipped(table, "the snapshots table")
    # The radios to compare with are reachable, labelled and on screen, as is the button.
    newest = table.locator("tbody tr").first
    with_cell = newest.locator("td[data-label='With']")
    assert_labelled(with_cell, "With")
    assert_on_screen(page, with_cell.locator("input[type=radio]"), "the 'With' radio")
    expect(newest.get_by_role("radio", name="Compare with")).to_be_checked()
    assert_on_screen(page, page.get_by_role("button", name="Compare"), "the Compare button")
    assert_accessible(page, f"the snapshots page for the {who}")


def test_it_refuses_a_stranger_the_clients_snapshots(page: Page, world: World, busy: Busy) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, world.stranger)
    response = page.goto(busy.url("snapshots"))
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1, name="We could not find that page")).to_be_visible()
    for secret in ("Jordan", "Alex Rivers", "Snapshots of", "after the first session"):
        expect(page.locator("body")).not_to_contain_text(secret)
    assert_fits(page, "the not-found page")


# --- 2. the support map ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["client", "clinician"])
def test_it_draws_the_whole_map_to_the_phones_width(
    page: Page, world: World, busy: Busy, who: str
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, world.client_a_user if who == "client" else world.clinician)
    open_page(page, busy, "map")
    drawing = page.locator("svg.sociogram").first
    expect(drawing).to_be_visible()
    expect(drawing).to_have_attribute("viewBox", "-170 -40 1340 1080")
    assert_fits(page, f"the map page for the {who}")

    # The whole drawing fits its region: no sector hidden, no name cut, nothing to scroll.
    region = page.get_by_role("region", name="Map drawing")
    fit = region.evaluate(
        """r => { const b = r.getBoundingClientRect();
                  const s = r.querySelector('svg.sociogram').getBoundingClientRect();
                  const cut = [...r.querySelectorAll('text')]
                      .filter(t => { const e = t.getBoundingClientRect();
                                     return e.left < b.left - 1 || e.right > b.right + 1; })
                      .map(t => t.textContent);
                  return {svg: s.width, scroll: r.scrollWidth, client: r.clientWidth, cut}; }"""
    )
    assert fit["scroll"] <= fit["client"], f"the drawing scrolls inside its region: {fit}"
    assert fit["svg"] >= 300, f"the drawing is too small: {fit}"
    assert not fit["cut"], f"names or sectors cut at the edge: {fit}"
    assert_on_screen(page, drawing.locator("a.sociogram__node").first, "a person on the map")

    # A larger view on request, from the keyboard, where names are readable: it scrolls
    # inside its region, never the page.
    zoom = page.get_by_role("checkbox", name="Show the map larger")
    zoom.focus()
    outline = zoom.evaluate(
        "e => { const s = getComputedStyle(e); return s.outlineStyle + ' ' + s.outlineWidth; }"
    )
    page.keyboard.press("Space")
    expect(zoom).to_be_checked()
    larger = region.evaluate("r => ({scroll: r.scrollWidth, client: r.clientWidth})")
    assert larger["scroll"] > larger["client"] * 1.5, larger
    assert_fits(page, f"the map page shown larger for the {who}")
    label_px = drawing.locator("text.sociogram__label").first.evaluate(
        "t => t.getBoundingClientRect().height"
    )
    assert label_px >= 11, f"names are drawn {label_px}px high in the larger view"
    page.keyboard.press("Space")
    expect(zoom).not_to_be_checked()
    assert not outline.startswith("none"), f"the focused checkbox shows no outline: {outline}"
    assert_accessible(page, f"the map page for the {who}")


# --- 3. tables that stack on a phone ------------------------------------------------------


def test_it_fits_keeping_in_touch_on_a_phone(page: Page, world: World, busy: Busy) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, world.client_a_user)
    open_page(page, busy, "keeping in touch")
    expect(page.get_by_role("heading", level=1, name="Keeping in touch")).to_be_visible()
    assert_fits(page, "the keeping in touch page")
    table = page.get_by_role("table")
    assert_not_clipped(table, "the keeping in touch table")
    caption = table.locator("caption")
    expect(caption).to_contain_text("1 relationship has gone longer than usual")
    assert_on_screen(page, caption, "the table's caption")
    wraps = caption.evaluate("c => c.scrollWidth <= c.clientWidth")
    assert wraps, "the caption is cut"
    jordan = table.get_by_role("row").filter(has_text="Jordan Blake")
    going = jordan.locator("td").last
    assert_labelled(going, "How it's going")
    expect(going).to_contain_text("It's been a while")
    assert_on_screen(page, going, "Jordan's 'How it's going' cell")
    assert_on_screen(page, going.locator(".badge"), "Jordan's 'It's been a while'")
    robin = table.get_by_role("row").filter(has_text="Robin Hart")
    expect(robin.locator("td").last).to_contain_text("Steady")
    assert_accessible(page, "the client's keeping in touch page")


@pytest.mark.parametrize("size", ["phone", "desk"])
def test_it_fits_the_care_reviews_action_tables(
    page: Page, world: World, busy: Busy, size: str
) -> None:
    page.set_viewport_size(PHONE if size == "phone" else DESK)
    sign_in(page, world.clinician)
    open_page(page, busy, "care review")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Progress review")
    assert_fits(page, f"the care review on a {size}")
    goal_table = page.get_by_role("table", name="Actions for this goal, by person")
    assert_not_clipped(goal_table, f"the goal's actions table on a {size}")
    other = goal_table.get_by_role("row").filter(has_text="Olive Other")
    overdue = other.locator("td[data-label='Past their date']")
    assert_labelled(overdue, "Past their date")
    expect(overdue).to_contain_text("1")
    assert_on_screen(page, overdue, f"the 'Past their date' cell on a {size}")
    people_table = page.get_by_role("table", name="Actions agreed and done, by person")
    assert_not_clipped(people_table, f"the actions by person table on a {size}")
    assert_accessible(page, f"the care review on a {size}")


def test_it_fits_the_caseload_on_a_phone(page: Page, world: World, busy: Busy) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, world.clinician)
    open_page(page, busy, "caseload")
    expect(page.get_by_role("heading", name="Your caseload")).to_be_visible()
    assert_fits(page, "the caseload")
    table = page.get_by_role("region", name="Your caseload").get_by_role("table")
    assert_not_clipped(table, "the caseload table")
    alex = table.get_by_role("row").filter(has_text="Alex Rivers")
    alerts = alex.locator("td[data-label='Open alerts']")
    assert_labelled(alerts, "Open alerts")
    assert_on_screen(page, alerts.get_by_role("link", name="1 open alert"), "Alex's open alert")
    assert_accessible(page, "the caseload on a phone")

    # The same table is still a table at a desk: headings on top, one row per client.
    switch_user(page)
    page.set_viewport_size(DESK)
    sign_in(page, world.clinician)
    header = page.get_by_role("columnheader", name="Open alerts")
    assert_on_screen(page, header, "the 'Open alerts' heading at a desk")
