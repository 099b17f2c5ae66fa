"""A creator, in a real browser, downloads the C2PA training-mining assertion for their files —
from the snippets page (their defaults) and from a work's AI choices page (that work) — and both
pages pass an accessibility audit."""

import json
import re

from tests import factories
from tests.consent import signal_parsers as read


def test_a_creator_downloads_the_c2pa_assertion_for_their_files(
    live_server, browser_sign_in, page, audit, creator
):
    work = factories.WorkFactory(owner=creator, title="The Quiet Harbour", kind="book")
    browser_sign_in(page, creator)

    page.goto(live_server.url + "/consent/snippets/")
    audit(page)
    assert page.get_by_role("heading", name=re.compile("C2PA manifest definition")).is_visible()
    with page.expect_download() as pending:
        page.get_by_role("link", name="Download it as a file").click()
    download = pending.value
    assert download.suggested_filename == "c2pa-training-mining.json"
    with open(download.path(), "rb") as handle:
        entries = read.c2pa_training_mining(handle.read())
    assert entries["cawg.ai_generative_training"] == {"use": "notAllowed"}

    page.goto(live_server.url + f"/consent/works/{work.public_id}/")
    audit(page)
    with page.expect_download() as pending:
        page.get_by_role("link", name="Download the C2PA assertion for this work").click()
    download = pending.value
    assert download.suggested_filename == f"c2pa-training-mining-{work.public_id}.json"
    with open(download.path(), "rb") as handle:
        definition = json.load(handle)
    assert definition["assertions"][0]["label"] == "cawg.training-mining"
    assert not page.console_errors, page.console_errors
