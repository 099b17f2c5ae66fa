"""A creator, in a real browser, opens "Found in datasets" from their dashboard, confirms one
finding and dismisses another in place (htmx swaps the row; the page is not reloaded), then
ticks two and asks for their removal: the draft opens with those works and that developer.
axe-core audits each page."""

import re

from disclosures.models import Finding
from removals.models import RemovalRequest
from tests import factories
from tests.disclosures.test_creator_findings import (
    ALICE_ISBN,
    BOB_ISBN,
    SHARED_ISBN,
    _work,
    disclose,
)


def test_a_creator_confirms_dismisses_and_asks_for_removal_in_the_browser(
    live_server, browser_sign_in, page, audit, creator, other_creator
):
    developer = factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")
    tides = _work(creator, "On Tides", ALICE_ISBN)
    salt = _work(creator, "Salt and Signal", SHARED_ISBN)
    harbour = _work(creator, "The Quiet Harbour")
    _work(other_creator, "Bass Lines", BOB_ISBN)
    disclosure = disclose(
        developer,
        [
            ["", ALICE_ISBN, "", ""],
            ["", SHARED_ISBN, "", ""],
            ["", BOB_ISBN, "", ""],
            ["", "", "The Quiet Harbour", "Alice Author"],
        ],
    )
    rows = {f.row: f for f in Finding.objects.filter(disclosure=disclosure, work__owner=creator)}

    browser_sign_in(page, creator)
    page.get_by_role("link", name="3 new findings in datasets").click()
    page.wait_for_url(re.compile(r"/found-in-datasets/\?state=new$"))
    assert page.get_by_role("heading", name=re.compile("On Tides")).is_visible()
    assert page.get_by_text("Bass Lines").count() == 0
    audit(page)

    # Confirm row 1 in place: the row is swapped, the page stays (the filter form keeps "new").
    marker = page.evaluate("() => (window.__stayed = 'yes')")
    item = page.locator(f"#finding-{rows[1].pk}")
    item.get_by_role("button", name=re.compile("^Confirm")).click()
    item = page.locator(f"#finding-{rows[1].pk}")
    item.get_by_text("Confirmed.").wait_for()
    assert page.evaluate("() => window.__stayed") == marker
    # Row 4 (title and author, weaker evidence) is not theirs, they say.
    item = page.locator(f"#finding-{rows[4].pk}")
    assert item.get_by_text("Weaker evidence").is_visible()
    item.get_by_role("button", name=re.compile("^Not my work")).click()
    page.locator(f"#finding-{rows[4].pk}").get_by_text(re.compile("^Dismissed")).wait_for()
    audit(page)
    states = dict(Finding.objects.filter(work__owner=creator).values_list("row", "state"))
    assert states == {1: "confirmed", 2: "new", 4: "dismissed"}

    # Tick rows 1 and 2 and ask for their removal.
    page.get_by_label(re.compile(r"^Tick row 1 of")).check()
    page.get_by_label(re.compile(r"^Tick row 2 of")).check()
    page.get_by_role("button", name="Ask for removal").click()
    page.wait_for_url(re.compile(r"/requests/\d+/edit/$"))
    assert page.get_by_text(
        re.compile("removal request draft to Example AI Ltd is ready")
    ).is_visible()
    audit(page)
    request = RemovalRequest.objects.get()
    assert set(request.works.all()) == {tides, salt}
    assert harbour not in request.works.all()
    assert list(request.developers.all()) == [developer]
    assert page.console_errors == [], page.console_errors
