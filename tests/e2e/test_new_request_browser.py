"""`/requests/new/` in a real browser (issue 19): the page passes axe-core, fits a phone and a
laptop, and its button opens a new draft."""

import re

from removals.models import RemovalRequest

NEW = "/requests/new/"


def test_in_a_browser_the_page_reads_well_and_its_button_opens_the_draft(
    live_server, browser_sign_in, page, audit, fits, creator
):
    browser_sign_in(page, creator)
    page.goto(live_server.url + NEW)
    assert page.get_by_role("heading", name="New removal request").is_visible()
    audit(page)
    fits(page, 390)
    fits(page, 1280)

    page.get_by_role("button", name="Start a new draft").click()

    page.wait_for_url(re.compile(r"/requests/\d+/edit/$"))
    audit(page)
    assert RemovalRequest.objects.get(creator=creator).status == RemovalRequest.Status.DRAFT
