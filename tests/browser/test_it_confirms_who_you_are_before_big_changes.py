"""In a real browser, the two changes that are hard to undo ask the person to confirm who they
are first, and a stranger gets nowhere.

- Changing the sign-in address: from Settings, the person types their password again (and a code
  when enrolled), asks for a new address, and a link goes to that address only. Opening it in
  the same session shows a "Use this address" button; one click changes the address and the old
  address is told. A stranger signed in elsewhere who opens the same link is refused, and
  nothing changes.
- Erasing a client's record: the practice admin says why, then confirms who they are (password
  and code) before the erasure page opens, comes back to it, types the client's name and the
  record is gone. An admin of another practice, even after confirming who they are, finds no
  such page.

Every page on the way passes an axe check; the client's pages fit a phone."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import Client, EmailChange, NetworkMember, Role, User
from kithkin.audit.models import AuditEvent, Outcome
from kithkin.audit.services import verify_chain
from kithkin.privacy import registry
from kithkin.privacy.models import ErasureRecord, ErasureRequest
from tests import factories
from tests.browser.conftest import NO_CHROMIUM

if not Path("/usr/bin/chromium").exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)

from playwright.sync_api import Page, Route, ViewportSize, expect

from tests.accounts.mfa_helpers import device_of, unused_code, wrong_code
from tests.browser.test_it_enrols_staff_in_mfa import password_step, sign_out
from tests.browser.test_it_follows_the_risk_path import (
    DESK,
    PHONE,
    assert_accessible,
    fits_the_phone,
)
from tests.browser.test_it_signs_in_each_role import sign_in
from tests.conftest import World
from tests.factories import PASSWORD
from tests.privacy.privacy_data import fill_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_ADDRESS = "my.new.address@example.org"
REASON = "Asked by the client in writing"
# Who changes their address, and on what screen: a client without an app (password only) on her
# phone, and a clinician, who as staff always has one (password and code), at a desk.
PEOPLE: dict[str, tuple[Callable[[World], User], ViewportSize]] = {
    "client-on-a-phone": (lambda w: w.client_a_user, PHONE),
    "clinician-at-a-desk": (lambda w: w.clinician, DESK),
}


@contextmanager
def another_browser(page: Page) -> Iterator[Page]:
    """A second person at their own computer: a fresh browser context on the same live server,
    sharing no cookies, so the first person's session (and its recent confirmation) is left as
    it is. Like the ``page`` fixture, it lets nothing leave the machine."""
    browser = page.context.browser
    assert browser is not None
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    context = browser.new_context(base_url=origin, viewport=DESK)
    foreign: list[str] = []

    def guard(route: Route) -> None:
        if route.request.url.startswith(origin):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    try:
        other = context.new_page()
        other.set_default_timeout(15_000)
        yield other
    finally:
        context.close()
    assert not foreign, f"the second browser asked another origin for {foreign}"


def follow(page: Page, act: Callable[[], Any]) -> None:
    """Do what leads to another page and wait until that page has loaded. (A bare
    ``wait_for_load_state`` after a key press can return at once, the page being left still
    counting as loaded.)"""
    with page.expect_navigation():
        act()


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def confirm_who_i_am(page: Page, user: User, *, with_code: bool) -> None:
    """The "Confirm it's you" page, from the keyboard: the password, a code when enrolled, Enter.
    The code is one the app has not given yet this session (each code works once)."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it's you")
    page.get_by_label("Your password").fill(PASSWORD)
    if with_code:
        page.get_by_label("6-digit code or a recovery code").fill(unused_code(device_of(user)))
    follow(page, lambda: page.keyboard.press("Enter"))


def link_in(message: Any) -> str:
    """The path and query of the confirmation link in an email. The email names the configured
    site address; the test opens the same path on the live server."""
    found = re.search(r"https?://\S+(/settings/email/confirm/\?t=\S+)", str(message.body))
    assert found, message.body
    return found.group(1)


# ------------------------------------------------------------------------------ email change


@pytest.mark.parametrize("person", PEOPLE)
def test_it_changes_the_email_only_when_the_new_address_confirms_it_and_never_for_a_stranger(
    page: Page, world: World, person: str
) -> None:
    choose, viewport = PEOPLE[person]
    user = choose(world)
    old_address = user.email
    enrolled = person == "clinician-at-a-desk"
    page.set_viewport_size(viewport)

    # 1. From Settings to the email page: it asks who she is first, and says where it returns.
    sign_in(page, user)
    follow(page, page.get_by_role("link", name="Settings", exact=True).click)
    expect(page.get_by_text(f"You sign in as {old_address}.")).to_be_visible()
    assert_accessible(page, "the settings page")
    follow(page, page.get_by_role("link", name="Change your email address").click)
    assert path_of(page) == reverse("reauth")
    assert parse_qs(urlsplit(page.url).query)["next"] == [reverse("email_change")]
    assert_accessible(page, "the confirm-it's-you page")
    assert fits_the_phone(page), "the confirm-it's-you page scrolls sideways"
    if enrolled:
        expect(page.get_by_label("6-digit code or a recovery code")).to_be_visible()
    else:
        expect(page.get_by_label("6-digit code or a recovery code")).to_have_count(0)

    # A wrong password keeps her here, with words she can act on.
    page.get_by_label("Your password").fill("not my password at all")
    if enrolled:
        page.get_by_label("6-digit code or a recovery code").fill(wrong_code(device_of(user)))
    follow(page, page.get_by_role("button", name="Continue").click)
    assert path_of(page) == reverse("reauth")
    expect(page.get_by_text("That did not match. Check your password")).to_be_visible()

    # 2. The right password (and code): back to the page she asked for.
    confirm_who_i_am(page, user, with_code=enrolled)
    assert path_of(page) == reverse("email_change")
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your email address")
    assert_accessible(page, "the email page")
    assert fits_the_phone(page), "the email page scrolls sideways"

    # 3. The new address: a link goes there and only there; nothing changes yet.
    mail.outbox.clear()
    page.get_by_label("New email address").fill(NEW_ADDRESS)
    follow(page, page.get_by_role("button", name="Send the link").click)
    assert path_of(page) == reverse("settings")
    expect(page.get_by_text("We sent a link to the new address.")).to_be_visible()
    expect(page.get_by_text(f"You sign in as {old_address}.")).to_be_visible()
    user.refresh_from_db()
    assert user.email == old_address
    [message] = mail.outbox
    assert message.to == [NEW_ADDRESS]
    assert message.subject == "Confirm your new Kithkin email address"
    link = link_in(message)
    assert NEW_ADDRESS not in link and old_address not in link

    # 4. A stranger, signed in at her own computer, who has the link: refused, nothing changes.
    stranger = world.stranger
    with another_browser(page) as theirs:
        sign_in(theirs, stranger)
        theirs.goto(link)
        expect(theirs.get_by_text("This link is not valid for your account.")).to_be_visible()
        expect(theirs.get_by_role("button", name="Use this address")).to_have_count(0)
        expect(theirs.get_by_text(NEW_ADDRESS)).to_have_count(0)
        assert_accessible(theirs, "the refused link page")
        # With no button to press, she sends the link's token as the button would, from her
        # own signed-in browser (its cookies, a valid form token): refused all the same.
        form_token = theirs.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
        assert form_token
        forced = theirs.request.post(
            reverse("email_change_confirm"),
            form={"csrfmiddlewaretoken": form_token, "t": parse_qs(urlsplit(link).query)["t"][0]},
        )
        assert forced.status == 200
        assert "This link is not valid for your account." in forced.text()
    stranger.refresh_from_db()
    user.refresh_from_db()
    assert stranger.email != NEW_ADDRESS and user.email == old_address
    assert EmailChange.objects.get(user=user).is_open
    assert AuditEvent.objects.filter(
        action="account.email_change", outcome="denied", actor_id=stranger.pk
    ).exists()

    # 5. She opens the link in her own session: a button, and opening alone changes nothing (so
    # a mail scanner following it cannot).
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your new email address")
    expect(
        page.get_by_text(f"you will sign in as {NEW_ADDRESS} instead of {old_address}")
    ).to_be_visible()
    assert_accessible(page, "the confirm-new-address page")
    assert fits_the_phone(page), "the confirm-new-address page scrolls sideways"
    user.refresh_from_db()
    assert user.email == old_address
    assert mail.outbox == [message]

    # 6. One click: the address is changed, and the old address is told (without the new one).
    follow(page, page.get_by_role("button", name="Use this address").click)
    assert path_of(page) == reverse("settings")
    expect(page.get_by_text("Your email address is changed.")).to_be_visible()
    expect(page.get_by_text(f"You sign in as {NEW_ADDRESS}.")).to_be_visible()
    assert_accessible(page, "the settings page after the change")
    assert fits_the_phone(page), "the settings page scrolls sideways"
    user.refresh_from_db()
    assert user.email == NEW_ADDRESS
    told = mail.outbox[1:]
    assert [m.to for m in told] == [[old_address]]
    assert told[0].subject == "Your Kithkin email address was changed"
    assert NEW_ADDRESS not in str(told[0].body)

    # 7. The link works once.
    page.goto(link)
    expect(page.get_by_text("This link has already been used")).to_be_visible()
    expect(page.get_by_role("button", name="Use this address")).to_have_count(0)

    # 8. Signing in: the old address no longer opens the account; the new one does.
    sign_out(page)
    password_step(page, old_address)
    assert path_of(page) == reverse("login")
    expect(page.get_by_text("do not match an account")).to_be_visible()
    password_step(page, NEW_ADDRESS)
    # Past the password: home for the client, the code step for the clinician (a third code
    # within the same minute is not one a test can count on having).
    assert path_of(page) == (reverse("mfa_verify") if enrolled else reverse("home"))


# ------------------------------------------------------------------------------ erasure


def rows_of(client_pk: Any) -> dict[str, int]:
    """How many rows each table of the privacy registry holds for a client."""
    return {table.label: table.rows_of(client_pk).count() for table in registry.tables()}


def test_it_asks_the_admin_who_she_is_before_erasing_a_record_and_refuses_another_practice(
    page: Page, world: World
) -> None:
    # A record in every table for both clients of the practice; Alex left care nine years ago,
    # so no retention rule stands in the way and only the confirmation does.
    client = world.client_a
    fill_record(world.client_b, world.colleague, "b")
    canaries = fill_record(client, world.clinician, "a")
    ErasureRequest.objects.all().delete()  # the builder's request; the admin makes her own
    Client.objects.filter(pk=client.pk).update(
        discharged_at=timezone.now() - timedelta(days=365 * 9)
    )
    client_pk, client_name = client.pk, client.display_name
    client_user = world.client_a_user
    identifying = [client_name, client_user.email, *canaries.all]
    others_before = rows_of(world.client_b.pk)
    admin = world.admin
    erase_path = reverse("privacy_client_erase", kwargs={"client_id": client_pk})
    confirm_path = reverse("privacy_client_erase_confirm", kwargs={"client_id": client_pk})

    # 1. The admin finds the client from the practice page and chooses to erase the record.
    sign_in(page, admin)
    follow(page, page.get_by_role("link", name="Practice", exact=True).click)
    assert_accessible(page, "the practice page")
    follow(page, page.get_by_role("link", name=client_name).click)
    expect(page.get_by_role("heading", level=1)).to_have_text(client_name)
    assert_accessible(page, "the client overview")
    follow(page, page.get_by_role("link", name="Erase record").click)
    assert path_of(page) == erase_path
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Erase the record of {client_name}")
    assert_accessible(page, "the erasure request page")

    # 2. She says why; before the page that erases opens, she is asked who she is.
    page.get_by_label("Why is the record to be erased?").fill(REASON)
    follow(page, page.get_by_role("button", name="Continue").click)
    assert path_of(page) == reverse("reauth")
    assert parse_qs(urlsplit(page.url).query)["next"] == [confirm_path]
    expect(page.get_by_text(client_name)).to_have_count(0)
    assert_accessible(page, "the confirm-it's-you page before erasing")
    assert ErasureRequest.objects.filter(client_id=client_pk, requested_by=admin).count() == 1

    # 3. Meanwhile an admin of another practice, at her own computer, tries the same pages: not
    # found, not even a question about who she is (which would tell her the record exists); and
    # confirming who she is opens nothing either.
    elsewhere = factories.staff(world.other_practice, Role.ADMIN, display_name="Eve Elsewhere")
    with another_browser(page) as theirs:
        sign_in(theirs, elsewhere)
        for path in (confirm_path, erase_path):
            response = theirs.goto(path)
            assert response is not None and response.status == 404, path
            assert path_of(theirs) == path
            expect(theirs.get_by_role("heading", level=1)).to_have_text(
                "We could not find that page"
            )
            expect(theirs.get_by_text(client_name)).to_have_count(0)
        assert_accessible(theirs, "the not-found page")
        theirs.goto(f"{reverse('reauth')}?next={confirm_path}")
        confirm_who_i_am(theirs, elsewhere, with_code=True)
        assert path_of(theirs) == confirm_path
        expect(theirs.get_by_role("heading", level=1)).to_have_text("We could not find that page")
        expect(theirs.get_by_text(client_name)).to_have_count(0)
        expect(theirs.get_by_role("button", name="Erase the record")).to_have_count(0)
    assert Client.objects.filter(pk=client_pk).exists()
    assert ErasureRequest.objects.filter(client_id=client_pk).count() == 1

    # 4. The admin confirms who she is (password and code) and is back on the erasure page.
    confirm_who_i_am(page, admin, with_code=True)
    assert path_of(page) == confirm_path
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm erasure")
    expect(page.get_by_text(REASON)).to_be_visible()
    assert_accessible(page, "the erasure confirmation page")

    # 5. A name that does not match erases nothing; the right one (any case) erases the record.
    confirm_name = page.get_by_label(re.compile("^Type the client.s full name"))
    confirm_name.fill("Someone Else")
    follow(page, page.get_by_role("button", name="Erase the record").click)
    mismatch = "The name you typed does not match the client's name. Nothing was erased."
    expect(page.get_by_text(mismatch, exact=True)).to_be_visible()
    assert Client.objects.filter(pk=client_pk).exists()
    assert_accessible(page, "the erasure page with an error")
    confirm_name.fill(client_name.upper())
    follow(page, lambda: page.keyboard.press("Enter"))
    assert path_of(page) == reverse("privacy_practice")
    record = ErasureRecord.objects.get()
    expect(
        page.get_by_text(f"The record was erased. Erasure reference: {record.pk}.")
    ).to_be_visible()
    expect(page.get_by_role("cell", name=admin.display_name)).to_be_visible()
    expect(page.get_by_text(client_name)).to_have_count(0)
    assert_accessible(page, "the privacy page after the erasure")

    # 6. The record is gone, row by row, and the other client's is whole; what is kept names no
    # one, and the audit trail is unbroken.
    assert {label: n for label, n in rows_of(client_pk).items() if n} == {}
    assert rows_of(world.client_b.pk) == others_before
    assert not Client.objects.filter(pk=client_pk).exists()
    assert not User.objects.filter(pk=client_user.pk).exists()
    assert not NetworkMember.objects.filter(client_id=client_pk).exists()
    assert record.client_ref == str(client_pk)
    assert record.erased_by == admin and record.account_deleted
    assert record.reason == REASON and not record.within_retention
    assert client_name not in json.dumps(record.rows_deleted)
    assert verify_chain().ok
    for event in AuditEvent.objects.all():
        kept = json.dumps(event.payload(), default=str)
        assert not [value for value in identifying if value in kept], event.action
    assert AuditEvent.objects.filter(action="privacy.erase", outcome=Outcome.SUCCESS).count() == 1
    assert AuditEvent.objects.filter(
        action="account.reauth", outcome=Outcome.SUCCESS, actor_id=admin.pk
    ).exists()
