"""The AI choices as one grid (issue 20): the five uses × allowed / not allowed / only under
licence (and a work's "follow my default") in one table that a laptop shows whole, each row a
radio group a keyboard works with arrow keys, and stacked groups on a phone. Real Chromium,
axe-core on every page."""

import re

from consent import decisions, selectors, services
from tests import factories

USES = ["train-genai", "train-ai", "ai-input", "search", "style"]
# Measured before the grid (one fieldset per use, each choice with its sentence), at 1280 px.
HEIGHT_BEFORE = {"defaults": 3175, "work": 3061}

GRID_BOX = """() => {
    const grid = document.querySelector('.choice-grid');
    const save = grid.closest('form').querySelector('button[type=submit]');
    const g = grid.getBoundingClientRect(), s = save.getBoundingClientRect();
    return {top: g.top + scrollY, bottom: g.bottom + scrollY, saveBottom: s.bottom + scrollY,
            page: document.documentElement.scrollHeight, scrolled: scrollY};
}"""
# Where each row's radios sit: one table means every row's n-th radio in the same column.
RADIO_COLUMNS = """() => [...document.querySelectorAll('fieldset.use-row')].map(
    row => [...row.querySelectorAll('input[type=radio]')].map(
        r => Math.round(r.getBoundingClientRect().left)))"""


def _focused(page) -> dict:
    return page.evaluate(
        "() => ({name: document.activeElement.name || '', value: document.activeElement.value,"
        " tag: document.activeElement.tagName})"
    )


def _tab_to(page, name, limit=60):
    """Press Tab (and nothing else) until the radio group ``name`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page)["name"] == name:
            return
    raise AssertionError(f"Tab never reached {name}")


def _meaning(page, name):
    """The sentence the grid shows for the row ``name`` (only the checked choice's is shown)."""
    row = page.locator("fieldset.use-row", has=page.locator(f'input[name="{name}"]'))
    shown = row.locator(".choice-meaning:visible")
    assert shown.count() == 1
    return shown.inner_text()


def test_defaults_grid_with_the_keyboard_only(live_server, page, audit, browser_sign_in, creator):
    browser_sign_in(page, creator)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + "/consent/")
    audit(page)
    licence_terms = page.locator("#licence-terms")
    assert not licence_terms.is_visible()  # nothing is "only under licence" yet

    # Tab into the first row: the focus lands on its checked radio (Not allowed).
    page.locator("h1").click()  # a starting point above the grid; from here on, keys only
    _tab_to(page, "defaults-train_genai")
    assert _focused(page)["value"] == "deny"
    # Arrow keys move within the row's radio group, and check what they reach.
    page.keyboard.press("ArrowRight")
    assert _focused(page) == {"name": "defaults-train_genai", "value": "licence", "tag": "INPUT"}
    assert "only under a licence" in _meaning(page, "defaults-train_genai")
    assert licence_terms.is_visible()
    assert "do not say where AI developers ask for a licence" in licence_terms.inner_text()
    # Tab leaves the group for the next row (not the next radio of the same row).
    page.keyboard.press("Tab")
    assert _focused(page) == {"name": "defaults-train_ai", "value": "deny", "tag": "INPUT"}
    page.keyboard.press("ArrowLeft")
    assert _focused(page)["value"] == "allow"
    assert _meaning(page, "defaults-train_ai").startswith("Once saved:")
    page.keyboard.press("Tab")
    assert _focused(page)["name"] == "defaults-ai_input"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    assert _focused(page) == {"name": "defaults-search", "value": "allow", "tag": "INPUT"}
    page.keyboard.press("Tab")
    assert _focused(page) == {"name": "defaults-style", "value": "deny", "tag": "INPUT"}
    page.keyboard.press("Tab")  # below the grid, what "only under licence" needs
    assert page.evaluate("document.activeElement.textContent").startswith("Say where to ask")
    page.keyboard.press("Tab")
    assert _focused(page)["tag"] == "BUTTON"
    page.keyboard.press("Space")
    page.get_by_text(re.compile("Saved — a receipt")).wait_for()
    audit(page)

    saved = {use: d.choice for use, d in decisions.defaults_for(creator).items()}
    assert saved == {
        "train-genai": "licence",
        "train-ai": "allow",
        "ai-input": "licence",
        "search": "allow",
        "style": "deny",
    }
    # The page shows them back, as what is in effect now.
    assert _meaning(page, "defaults-train_ai").startswith("Now:")
    assert page.locator('input[name="defaults-ai_input"][value="licence"]').is_checked()


def test_a_works_grid_with_the_keyboard_only(live_server, page, audit, browser_sign_in, creator):
    work = factories.WorkFactory(owner=creator, title="Low Tide", kind="poem")
    browser_sign_in(page, creator)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + f"/consent/works/{work.public_id}/")
    audit(page)
    page.locator("h1").click()
    _tab_to(page, "train_genai")
    assert _focused(page)["value"] == "default"  # follows the default: nothing of its own
    page.keyboard.press("ArrowRight")  # Allowed
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert _focused(page)["name"] == "ai_input"
    page.keyboard.press("ArrowLeft")  # from "follow my default", round to Only under licence
    assert _focused(page)["value"] == "licence"
    assert page.locator("#licence-terms").is_visible()
    for _ in range(4):  # search, style, the licence terms' link, Save
        page.keyboard.press("Tab")
    assert _focused(page)["tag"] == "BUTTON"
    page.keyboard.press("Enter")
    page.get_by_text(re.compile("Saved — a receipt")).wait_for()
    audit(page)
    assert selectors.overrides_for(work) == {"train-genai": "allow", "ai-input": "licence"}


def test_the_grid_fits_a_laptop_screen_and_stacks_on_a_phone(
    live_server, page, audit, fits, browser_sign_in, creator
):
    work = factories.WorkFactory(owner=creator, title="The Quiet Harbour", kind="book")
    browser_sign_in(page, creator)
    for which, url, columns in [
        ("defaults", "/consent/", 3),
        ("work", f"/consent/works/{work.public_id}/", 4),
    ]:
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(live_server.url + url)
        audit(page)
        fits(page, 1280, 800)
        box = page.evaluate(GRID_BOX)
        # Much shorter than the page of one fieldset per use, and the grid with its Save button
        # is on the first screen as the page loads: all five uses and the button, no scrolling.
        assert box["page"] < HEIGHT_BEFORE[which] * 0.7, box
        assert box["scrolled"] == 0 and box["saveBottom"] <= 800, (which, box)
        page.locator(".choice-grid").scroll_into_view_if_needed()
        page.evaluate("() => document.querySelector('.choice-grid').scrollIntoView()")
        assert page.get_by_role("button", name=re.compile("^Save")).first.is_visible()
        # One table: every row's radios in the same columns, the column heads above them.
        lefts = page.evaluate(RADIO_COLUMNS)
        assert len(lefts) == 5 and all(len(row) == columns for row in lefts)
        assert all(row == lefts[0] for row in lefts), lefts
        assert len(set(lefts[0])) == columns
        head = page.locator(".choice-grid-head")
        assert head.is_visible() and "Not allowed" in head.inner_text()
        # Each row is still a group named by its use, each radio named by its choice.
        group = page.get_by_role("group", name="Training any AI model")
        assert group.get_by_role("radio", name=re.compile("^Not allowed")).count() == 1

        # A phone: stacked groups, every choice named in words, nothing sideways.
        page.set_viewport_size({"width": 390, "height": 844})
        fits(page, 390, 844)
        assert not head.is_visible()
        assert group.get_by_text("Only under licence (with payment and credit)").is_visible()
        lefts = page.evaluate(RADIO_COLUMNS)
        assert all(len(set(row)) == 1 for row in lefts), lefts  # one under the other
        audit(page)
    assert not page.console_errors, page.console_errors


def _save_bottom_on_load(page, url) -> dict:
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(url)
    return page.evaluate(GRID_BOX)


def test_staff_acting_for_a_member_see_the_grid_and_save_on_the_first_screen(
    live_server, page, audit, fits, browser_sign_in, creator, wggb, guild_staff
):
    # The acting banner sits above the grid: still all five uses and Save without scrolling.
    services.mandate_grant(creator=creator, guild=wggb)
    work = factories.WorkFactory(owner=creator, title="The Quiet Harbour", kind="book")
    browser_sign_in(page, guild_staff)
    for which, url in [
        ("member defaults", f"/consent/members/{creator.ref}/"),
        ("member work", f"/consent/members/{creator.ref}/works/{work.public_id}/"),
    ]:
        box = _save_bottom_on_load(page, live_server.url + url)
        assert page.get_by_text("You are changing Alice Author’s choices").is_visible()
        audit(page)
        assert box["scrolled"] == 0 and box["saveBottom"] <= 800, (which, box)
        fits(page, 1280, 800)
        fits(page, 390, 844)
        audit(page)
    assert not page.console_errors, page.console_errors
