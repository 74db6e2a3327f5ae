"""In a real browser: the client builds her support map on a phone (quick-add → describe → map →
gaps → contact log in two taps), her clinician reviews, snapshots, compares, exports and imports
it at a desk, every network page passes an axe check, the map works from the keyboard and fits
a phone, and a colleague who is not on the care team is shown the not-found page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import pytest

from kithkin.accounts.models import User
from kithkin.network.models import Contact, Group, GroupKind, Person, Ring, Snapshot, Tie
from tests.browser.conftest import NO_CHROMIUM

if not Path("/usr/bin/chromium").exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

from playwright.sync_api import Page, ViewportSize, expect

from kithkin.network.snapshots import take_snapshot
from tests.browser.test_it_signs_in_each_role import describe, serious_violations, sign_in
from tests.conftest import World
from tests.factories import contact, person_of, tie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 390, "height": 844}
FILES = Path(__file__).resolve().parents[1] / "network" / "files"
NC_ZIP = FILES / "nc_interview.zip"
NC_CSVS = {
    kind: next((FILES / "nc_interview").glob(f"*_{kind}.csv"))
    for kind in ("attributeList_Person", "edgeList_knows", "ego")
}
NC_NAMES = {"Maria", "Tomás", "Aunt Jo", "Priya", "Mr Okafor"}


def people_by_name(world: World) -> dict[str, Person]:
    # Names are encrypted, so they cannot be filtered on in the database: compare in Python.
    return {p.name: p for p in Person.objects.on_map().filter(client=world.client_a)}


def assert_no_serious_violations(page: Page, what: str) -> None:
    violations = serious_violations(page)
    assert not violations, f"axe found serious problems on {what}:\n" + describe(violations)
    # axe only calls a reference to a missing id "incomplete", yet a screen reader then reads
    # nothing: e.g. a help text the field says describes it, but which has no id.
    dangling = page.evaluate(
        """() => [...document.querySelectorAll('[aria-describedby], [aria-labelledby]')]
            .flatMap(e => ['aria-describedby', 'aria-labelledby']
                .flatMap(a => (e.getAttribute(a) || '').split(/\\s+/).filter(Boolean)
                    .filter(id => !document.getElementById(id))
                    .map(id => `${e.tagName.toLowerCase()}#${e.id} ${a}=${id}`)))"""
    )
    assert not dangling, f"on {what}, ARIA points at ids that are not there: {dangling}"


def page_width(page: Page) -> dict[str, int]:
    # Measured once the stylesheet has loaded: on a busy machine the new page's text can be
    # found before its styles apply, and an unstyled page is wider than a phone.
    page.wait_for_load_state("load")
    widths: dict[str, int] = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, view: window.innerWidth})"
    )
    return widths


# --- 1. the client builds her map on a phone --------------------------------------------------


def test_it_lets_the_client_build_her_map_and_log_a_contact_on_a_phone(
    page: Page, world: World
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, world.client_a_user)

    page.get_by_role("link", name="Your support map").click()
    expect(page.get_by_role("heading", level=1, name="Your support map")).to_be_visible()
    expect(page.get_by_text("Your map is empty for now.")).to_be_visible()

    # Quick-add: several names at once, one per line or separated by commas.
    page.get_by_role("main").get_by_role("link", name="Add people").last.click()
    expect(page.get_by_role("heading", level=1, name="Add people")).to_be_visible()
    page.get_by_label("Names").fill("Maya\nJo, Sam")
    page.get_by_role("button", name="Add to the map").click()

    # Describe each person in turn, starting with the first of the batch.
    expect(page.get_by_text("3 people were added.")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="Maya")).to_be_visible()
    expect(page.get_by_role("link", name="Next person")).to_be_visible()
    page.get_by_label("Relationship").select_option(label="Friend")
    page.get_by_label("Inner circle").check()
    page.get_by_role("group", name="This person helps me feel…").get_by_label(
        "safe", exact=True
    ).check()
    page.get_by_label("how often I'd like to be in touch (days)").fill("7")
    page.get_by_role("button", name="Save and go to the next person").click()
    expect(page.get_by_role("heading", level=1, name="Jo")).to_be_visible()
    page.get_by_label("Relationship").select_option(label="Family")
    page.get_by_role("button", name="Save and see the map").click()

    # The map: every person drawn in the sociogram and listed in the table.
    expect(page.get_by_role("heading", level=1, name="Your support map")).to_be_visible()
    nodes = page.locator("svg.sociogram a.sociogram__node")
    expect(nodes).to_have_count(3)
    titles = {nodes.nth(i).locator("title").text_content() or "" for i in range(3)}
    for name in ("Maya", "Jo", "Sam"):
        assert any(name in title for title in titles), (name, titles)
    table = page.get_by_role("table", name="Everyone on your map")
    for name in ("Maya", "Jo", "Sam"):
        expect(table.get_by_role("link", name=name, exact=True)).to_be_visible()
    maya_row = table.get_by_role("row").filter(has=page.get_by_role("link", name="Maya"))
    expect(maya_row).to_contain_text("Inner circle")
    expect(maya_row).to_contain_text("None logged")
    expect(maya_row).to_contain_text("wish: every 7 days")

    # The gaps panel names the gap in words.
    gaps = page.get_by_role("region", name="What looks thin")
    expect(gaps).to_contain_text("Only Maya helps you feel safe.")

    # The database agrees, and the changes are attributed to the client herself.
    people = people_by_name(world)
    assert set(people) == {"Maya", "Jo", "Sam"}
    maya = people["Maya"]
    assert (maya.ring, maya.category, maya.helps_safe, maya.helps_seen) == (
        Ring.INNER,
        "friend",
        True,
        False,
    )
    assert maya.wished_rhythm_days == 7
    assert people["Jo"].category == "family"
    assert people["Sam"].ring == Ring.MIDDLE
    assert maya.created_by_id == world.client_a_user.pk
    assert maya.updated_by_id == world.client_a_user.pk

    # Two taps: her name in the map's shortcut, then "Log it now".
    shortcut = page.get_by_role("region", name="Been in touch with someone?")
    shortcut.get_by_role("link", name="Maya", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="In touch with Maya")).to_be_visible()
    page.get_by_role("button", name="Log it now").click()

    expect(page.get_by_text("Logged: in touch with Maya.")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="Maya")).to_be_visible()
    lead = page.locator(".page-header__lead")
    expect(lead).to_contain_text("within your wish of every 7 days")
    expect(lead.locator("time")).to_have_count(1)

    contacts = list(Contact.objects.filter(person=maya))
    assert len(contacts) == 1
    assert contacts[0].logged_by_id == world.client_a_user.pk
    assert Contact.objects.filter(client=world.client_a).count() == 1

    page.get_by_role("navigation", name="Support map").get_by_role("link", name="Map").click()
    maya_row = (
        page.get_by_role("table", name="Everyone on your map")
        .get_by_role("row")
        .filter(has=page.get_by_role("link", name="Maya"))
    )
    expect(maya_row).to_contain_text("within your wish of every 7 days")
    expect(maya_row).not_to_contain_text("None logged")
    assert page_width(page)["scroll"] <= PHONE["width"]


# --- 2. the clinician reviews, compares, exports and imports ------------------------------


def test_it_lets_the_clinician_snapshot_compare_export_and_import_the_map(
    page: Page, world: World
) -> None:
    maya = person_of(world.client_a, "Maya", ring=Ring.INNER, helps_safe=True)
    jo = person_of(world.client_a, "Jo", ring=Ring.MIDDLE, category="family")
    tie(maya, jo)

    sign_in(page, world.clinician)
    page.get_by_role("region", name="Your caseload").get_by_role("link", name="Alex Rivers").click()
    page.get_by_role("link", name="Open the support map").click()
    expect(page.get_by_role("heading", level=1, name="Support map: Alex Rivers")).to_be_visible()
    expect(page.locator("svg.sociogram a.sociogram__node")).to_have_count(2)
    expect(page.get_by_role("region", name="Gaps")).to_contain_text(
        "Only Maya helps the client feel safe."
    )

    subnav = page.get_by_role("navigation", name="Support map")
    subnav.get_by_role("link", name="Snapshots").click()
    expect(page.get_by_text("No snapshots yet")).to_be_visible()
    page.get_by_role("button", name="Keep a snapshot").click()
    expect(page.get_by_text("A snapshot of the map was kept.")).to_be_visible()

    # Between the two snapshots, Jo moves closer (through the person page).
    subnav.get_by_role("link", name="Map").click()
    page.get_by_role("table", name="Everyone on the client's map").get_by_role(
        "link", name="Jo", exact=True
    ).click()
    page.get_by_label("Inner circle").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved.")).to_be_visible()

    subnav.get_by_role("link", name="Snapshots").click()
    page.get_by_label("Label (optional)").first.fill("after session 4")
    page.get_by_role("button", name="Mark map as reviewed").click()
    expect(
        page.get_by_text("The map is marked as reviewed, and a snapshot of it was kept.")
    ).to_be_visible()
    snapshots = list(Snapshot.objects.filter(client=world.client_a).order_by("taken_at"))
    assert [s.reason for s in snapshots] == [Snapshot.Reason.ON_DEMAND, Snapshot.Reason.REVIEW]
    assert snapshots[1].label == "after session 4"
    assert all(s.taken_by_id == world.clinician.pk for s in snapshots)

    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", level=1, name="How the map changed")).to_be_visible()
    closer = page.get_by_role("region", name="Moved closer")
    expect(closer).to_contain_text("Jo: from the middle circle to the inner circle")

    # Export GraphML: a real download with the person in it.
    subnav.get_by_role("link", name="Import and export").click()
    page.get_by_role("link", name="Export instead").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download GraphML").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".graphml")
    assert "Alex" not in download.suggested_filename  # named by case id, never by name
    graphml = Path(download.path()).read_text(encoding="utf-8")
    assert graphml.startswith("<?xml"), graphml[:80]
    assert "Maya" in graphml and "Jo" in graphml

    # Import the hand-made Network Canvas ZIP: upload → mapping → confirm.
    page.get_by_role("link", name="Import instead").click()
    page.get_by_label("A Network Canvas ZIP, or a GraphML file").set_input_files(str(NC_ZIP))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1, name="Match the file to the map")).to_be_visible()
    expect(page.get_by_text("The file has 5 people.")).to_be_visible()
    assert Person.objects.filter(client=world.client_a).count() == 2  # nothing yet
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Import finished")).to_be_visible()
    expect(page.get_by_text("5 people added")).to_be_visible()

    people = people_by_name(world)
    assert set(people) == {"Maya", "Jo"} | NC_NAMES
    assert people["Maria"].created_by_id == world.clinician.pk
    assert Tie.objects.filter(client=world.client_a).count() == 1 + 3
    page.get_by_role("link", name="See the map").click()
    expect(page.locator("svg.sociogram a.sociogram__node")).to_have_count(7)
    expect(page.get_by_role("link", name="Aunt Jo", exact=True)).to_have_count(2)


# --- 3. accessibility: axe, keyboard, phone width -----------------------------------------


@dataclass
class Map:
    """A varied map for client A: ties, a group, contacts, a "not safe" person, two snapshots."""

    client_id: UUID
    person_id: UUID
    group_id: UUID
    older_snapshot_id: UUID
    newer_snapshot_id: UUID


@pytest.fixture
def varied_map(world: World) -> Map:
    client = world.client_a
    maya = person_of(client, "Maya", ring=Ring.INNER, helps_safe=True, helps_seen=True)
    jo = person_of(client, "Jo", ring=Ring.MIDDLE, category="family", wished_rhythm_days=7)
    sam = person_of(client, "Sam", ring=Ring.OUTER, category="work", gives_practical=True)
    person_of(client, "Rob", ring=Ring.OUTER, category="partner", not_safe=True, strain=3)
    tie(maya, jo, strength=Tie.Strength.CLOSE)
    tie(jo, sam)
    contact(maya, note="coffee")
    contact(jo, felt_seen=True, felt_safe=True)
    group = Group.objects.create(client=client, name="Choir", kind=GroupKind.CLUB)
    group.members.set([maya, sam])
    older = take_snapshot(client, world.clinician, reason=Snapshot.Reason.ON_DEMAND)
    Person.objects.filter(pk=sam.pk).update(ring=Ring.MIDDLE)
    person_of(client, "Lee", ring=Ring.MIDDLE, category="community")
    newer = take_snapshot(client, world.clinician, reason=Snapshot.Reason.REVIEW)
    return Map(client.pk, maya.pk, group.pk, older.pk, newer.pk)


def network_url(m: Map, where: str) -> str:
    base = f"/clients/{m.client_id}/network/"
    return {
        "map": base,
        "quick-add": f"{base}people/add/",
        "person": f"{base}people/{m.person_id}/",
        "contact log": f"{base}contacts/log/",
        "contact log for one person": f"{base}contacts/log/?person={m.person_id}",
        "contacts": f"{base}contacts/",
        "groups": f"{base}groups/",
        "group": f"{base}groups/{m.group_id}/",
        "snapshots": f"{base}snapshots/",
        "snapshot": f"{base}snapshots/{m.newer_snapshot_id}/",
        "snapshot diff": f"{base}snapshots/{m.older_snapshot_id}/diff/{m.newer_snapshot_id}/",
        "export": f"{base}export/",
        "import upload": f"{base}import/",
    }[where]


AXE_PAGES = [
    "map",
    "quick-add",
    "person",
    "contact log",
    "contact log for one person",
    "contacts",
    "groups",
    "group",
    "snapshots",
    "snapshot",
    "snapshot diff",
    "export",
    "import upload",
]
VIEWERS = {"client": lambda w: w.client_a_user, "clinician": lambda w: w.clinician}


def viewer(world: World, who: str) -> User:
    user: User = VIEWERS[who](world)
    return user


@pytest.mark.parametrize("who", VIEWERS)
@pytest.mark.parametrize("where", AXE_PAGES)
def test_it_passes_axe_on_each_network_page(
    page: Page, world: World, varied_map: Map, where: str, who: str
) -> None:
    sign_in(page, viewer(world, who))
    response = page.goto(network_url(varied_map, where))
    assert response is not None and response.status == 200, where
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    assert_no_serious_violations(page, f"the {where} page as the {who}")


@pytest.mark.parametrize("upload", ["zip", "csv trio"])
def test_it_passes_axe_on_the_import_mapping_screen(
    page: Page, world: World, varied_map: Map, upload: str
) -> None:
    sign_in(page, world.clinician)
    page.goto(network_url(varied_map, "import upload"))
    if upload == "zip":
        page.get_by_label("A Network Canvas ZIP, or a GraphML file").set_input_files(str(NC_ZIP))
    else:
        page.get_by_label("The attributeList CSV (the people)").set_input_files(
            str(NC_CSVS["attributeList_Person"])
        )
        page.get_by_label("The edgeList CSV (who knows whom), if you have one").set_input_files(
            str(NC_CSVS["edgeList_knows"])
        )
        page.get_by_label("The ego CSV, if you have one").set_input_files(str(NC_CSVS["ego"]))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", level=1, name="Match the file to the map")).to_be_visible()
    assert_no_serious_violations(page, f"the mapping screen (from the {upload})")
    if upload == "csv trio":
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.get_by_role("heading", level=1, name="Import finished")).to_be_visible()
        assert set(people_by_name(world)) >= NC_NAMES
        assert_no_serious_violations(page, "the import-finished page")


def test_it_passes_axe_on_a_form_showing_errors(page: Page, world: World, varied_map: Map) -> None:
    """Error messages must be tied to their fields and readable too."""
    sign_in(page, world.client_a_user)
    page.goto(network_url(varied_map, "quick-add"))
    page.get_by_label("Names").fill(" , ")  # no name in it, only a separator
    page.get_by_role("button", name="Add to the map").click()
    expect(page.get_by_role("alert")).to_contain_text("There is a problem")
    expect(page.get_by_role("alert")).to_contain_text("Write at least one name or initials.")
    expect(page.get_by_role("textbox", name="Names")).to_have_attribute("aria-invalid", "true")
    assert_no_serious_violations(page, "the quick-add page with an error")


def test_it_opens_a_person_from_the_map_with_the_keyboard(
    page: Page, world: World, varied_map: Map
) -> None:
    sign_in(page, world.client_a_user)
    page.goto(network_url(varied_map, "map"))
    expect(page.locator("svg.sociogram a.sociogram__node")).to_have_count(5)
    person_link = re.compile(r"/network/people/[0-9a-f-]{36}/$")
    reached = None
    for _step in range(80):
        page.keyboard.press("Tab")
        reached = page.evaluate(
            "() => { const a = document.activeElement;"
            " return a && a.closest('main') ? (a.getAttribute('href') || '') : ''; }"
        )
        if reached and person_link.search(reached):
            break
    else:
        pytest.fail("Tab never reached a person's link on the map page")
    assert reached is not None
    # The focused link is visibly focused, not just focused.
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return s.outlineStyle + ' ' + s.outlineWidth; }"
    )
    assert not outline.startswith("none"), outline
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(reached) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_visible()


def test_it_fits_the_map_page_on_a_phone(page: Page, world: World, varied_map: Map) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, world.client_a_user)
    page.goto(network_url(varied_map, "map"))
    expect(page.locator("svg.sociogram")).to_be_visible()
    widths = page_width(page)
    assert widths["scroll"] <= widths["view"], (
        f"the map page is {widths['scroll']}px wide on a {widths['view']}px phone"
    )
    # If the drawing is wider than the phone, it scrolls inside its own labelled region.
    region = page.get_by_role("region", name=re.compile("Map drawing"))
    expect(region).to_be_visible()
    assert region.evaluate("e => e.getBoundingClientRect().right") <= widths["view"]


# --- 4. a colleague not on the care team --------------------------------------------------


@pytest.mark.parametrize("where", ["map", "person", "snapshots", "import upload"])
def test_it_shows_a_colleague_not_on_the_care_team_the_not_found_page(
    page: Page, world: World, varied_map: Map, where: str
) -> None:
    sign_in(page, world.colleague)
    response = page.goto(network_url(varied_map, where))
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1, name="We could not find that page")).to_be_visible()
    body = page.locator("body")
    for secret in ("Maya", "Alex Rivers", "Support map"):
        expect(body).not_to_contain_text(secret)


def test_it_passes_axe_on_the_not_found_page(page: Page, world: World, varied_map: Map) -> None:
    sign_in(page, world.stranger)
    page.goto(network_url(varied_map, "map"))
    expect(page.get_by_role("heading", level=1, name="We could not find that page")).to_be_visible()
    assert_no_serious_violations(page, "the not-found page")
