"""A developer, in a real browser, opens the registry export from the dashboard, asks for a new
one (the worker builds it: eagerly, in the server's process, as the tests run tasks), sees it
ready and downloads it — a gzip file whose header carries the feed's cursor. axe-core audits
every page on the way."""

import gzip
import json
import re

import pytest

from tests import factories
from works import services as works

pytestmark = pytest.mark.browser


def test_a_developer_builds_and_downloads_the_registry_export(live_server, page, audit, creator):
    works.work_create(owner=creator, title="The Long Shore", kind="book")
    developer = factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")
    member = factories.DeveloperMemberFactory(developer=developer).user

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label(re.compile("^email", re.I)).fill(member.email)
    page.get_by_label(re.compile("^password", re.I)).fill(factories.PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.wait_for_url(re.compile(r"/developer/$"))  # the people of a developer land there
    page.get_by_role("link", name=re.compile("whole registry", re.I)).click()
    page.wait_for_url(re.compile(r"/developer/registry-export/$"))
    assert page.get_by_text("No export has been built for Example AI Ltd yet.").is_visible()
    audit(page)

    page.get_by_role("button", name="Build a new export").click()
    page.wait_for_url(re.compile(r"/developer/registry-export/$"))
    download_button = page.get_by_role("link", name="Download the export")
    download_button.wait_for()
    audit(page)

    with page.expect_download() as waiting:
        download_button.click()
    download = waiting.value
    assert re.fullmatch(r"registry-example-ai-\d{8}T\d{6}Z\.jsonl\.gz", download.suggested_filename)
    with open(download.path(), "rb") as raw:
        lines = gzip.decompress(raw.read()).decode().splitlines()
    header = json.loads(lines[0])
    assert header["works_count"] == 1 and header["cursor"]
    assert json.loads(lines[1])["work"]["title"] == "The Long Shore"
    assert page.console_errors == []
