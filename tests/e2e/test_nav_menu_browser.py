"""The main navigation in Chromium (issue 20): under 700 px it folds behind a "Menu" button
(aria-expanded, aria-controls) that opens it, Escape closes it and gives the focus back, and the
focus goes from the button into the links; without JavaScript every link is shown. At 1280 px
the staff menu (a superuser who is also guild staff and a registry manager: the longest) fits one
row, their creator pages folded into "My pages"."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.factories import PASSWORD

# Each top-level item of the main navigation, with the top edge of its box.
ROW = """() => [...document.querySelectorAll('#site-nav-list > li')].map(
    (li) => [li.textContent.trim().split(/\\s+/).slice(0, 3).join(' '),
             Math.round(li.getBoundingClientRect().top)])"""


def nav(page):
    return page.get_by_role("navigation", name="Main")


def test_on_a_phone_the_menu_opens_from_its_button_and_escape_closes_it(
    live_server, browser_sign_in, page, audit, fits, creator
):
    browser_sign_in(page, creator)  # the page fixture is 390 px wide
    menu = nav(page).get_by_role("button", name="Menu")
    works = nav(page).get_by_role("link", name="My works")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    assert menu.get_attribute("aria-controls") == "site-nav-list"
    expect(works).to_be_hidden()
    audit(page)
    fits(page, 390, 844)

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(works).to_be_visible()
    audit(page)  # open, over the page
    fits(page, 390, 844)
    # Focus order: from the button into the list, first link first.
    menu.focus()
    page.keyboard.press("Tab")
    expect(nav(page).get_by_role("link", name="My dashboard")).to_be_focused()
    page.keyboard.press("Tab")
    expect(works).to_be_focused()

    page.keyboard.press("Escape")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()
    expect(works).to_be_hidden()

    menu.press("Enter")  # the keyboard opens it too
    expect(works).to_be_visible()
    works.click()
    page.wait_for_url(re.compile("/works/$"))
    expect(nav(page).get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")
    assert not page.console_errors, page.console_errors


def test_at_700_px_and_wider_there_is_no_menu_button(
    live_server, browser_sign_in, page, audit, fits, creator
):
    browser_sign_in(page, creator)
    page.set_viewport_size({"width": 700, "height": 800})
    expect(nav(page).get_by_role("button", name="Menu")).to_be_hidden()
    expect(nav(page).get_by_role("link", name="My works")).to_be_visible()
    fits(page, 700, 800)
    page.set_viewport_size({"width": 699, "height": 800})
    expect(nav(page).get_by_role("button", name="Menu")).to_be_visible()
    expect(nav(page).get_by_role("link", name="My works")).to_be_hidden()


def test_without_javascript_every_link_is_shown(live_server, browser, creator):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label(re.compile("^email", re.I)).fill(creator.email)
        page.get_by_label(re.compile("^password", re.I)).fill(PASSWORD)
        page.get_by_role("button", name=re.compile("sign in", re.I)).click()
        page.wait_for_url(re.compile("/dashboard/"))
        expect(nav(page).get_by_role("button", name="Menu")).to_be_hidden()
        expect(nav(page).get_by_role("link", name="My works")).to_be_visible()
        expect(nav(page).get_by_role("button", name="Sign out")).to_be_visible()
    finally:
        context.close()


@pytest.fixture
def busiest_staff(superuser, wggb):
    """A superuser with a creator profile, guild staff and a registry manager: every item."""
    factories.CreatorProfileFactory(user=superuser, display_name="Root Staff")
    factories.StaffAppointmentFactory(user=superuser, guild=wggb)
    superuser.is_registry_manager = True
    superuser.save()
    return superuser


def test_the_staff_menu_fits_one_row_at_1280_px(
    live_server, browser_sign_in, page, audit, fits, busiest_staff
):
    browser_sign_in(page, busiest_staff)
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(nav(page).get_by_role("button", name="Menu")).to_be_hidden()
    items = page.evaluate(ROW)
    assert len(items) >= 10, items
    assert len({item[1] for item in items}) == 1, items  # one row
    fits(page, 1280)
    audit(page)

    mine = nav(page).get_by_role("button", name="My pages")
    works = nav(page).get_by_role("link", name="My works")
    expect(mine).to_have_attribute("aria-controls", "nav-creator-pages")
    expect(works).to_be_hidden()
    mine.click()
    expect(mine).to_have_attribute("aria-expanded", "true")
    expect(works).to_be_visible()
    fits(page, 1280)
    audit(page)
    page.keyboard.press("Escape")
    expect(works).to_be_hidden()
    expect(mine).to_be_focused()
    mine.click()
    page.get_by_role("heading", level=1).first.click()  # a click elsewhere closes it
    expect(works).to_be_hidden()
    mine.click()
    works.click()
    page.wait_for_url(re.compile("/works/$"))
    audit(page)

    # On a phone the same links are in the one menu, the creator pages listed in it.
    page.set_viewport_size({"width": 390, "height": 844})
    nav(page).get_by_role("button", name="Menu").click()
    expect(nav(page).get_by_role("link", name="Requests to review")).to_be_visible()
    expect(nav(page).get_by_role("link", name="My works")).to_be_visible()
    expect(nav(page).get_by_role("button", name="My pages")).to_be_hidden()
    fits(page, 390, 844)
    audit(page)
    assert not page.console_errors, page.console_errors


def test_guild_staff_menu_fits_one_row_at_1280_px(
    live_server, browser_sign_in, page, fits, guild_staff
):
    factories.CreatorProfileFactory(user=guild_staff, display_name="Wendy Staff")
    browser_sign_in(page, guild_staff)
    page.set_viewport_size({"width": 1280, "height": 900})
    items = page.evaluate(ROW)
    assert len({item[1] for item in items}) == 1, items
    fits(page, 1280)


def test_signed_out_the_two_links_stay_in_view_on_a_phone(live_server, page, audit, fits):
    page.goto(live_server.url + "/")
    expect(nav(page).get_by_role("button", name="Menu")).to_have_count(0)
    expect(nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    expect(nav(page).get_by_role("link", name="Sign up")).to_be_visible()
    audit(page)
    fits(page, 390, 844)
