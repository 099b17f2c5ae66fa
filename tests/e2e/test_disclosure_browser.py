"""A developer, in a real browser, discloses a dataset from the dashboard: the form (first sent
with a mistake, shown beside its field), the manifest matched (by the worker's task, eagerly in
the server's process, as the tests run tasks), the report on the disclosure's page, and the
exclusion list downloaded as CSV. axe-core audits every page on the way, on a phone's screen."""

import csv
import io
import re

import pytest

from consent.services import override_set
from tests import factories
from works.models import WorkIdentifier

pytestmark = pytest.mark.browser

DENIED_ISBN = "9780306406157"
ALLOWED_ISBN = "9781861972712"


def test_a_developer_discloses_a_dataset_and_downloads_its_exclusion_list(
    live_server, page, audit, creator, tmp_path
):
    denied = factories.WorkFactory(owner=creator, title="The Long Shore")
    WorkIdentifier.objects.create(work=denied, scheme="isbn", value=DENIED_ISBN)
    allowed = factories.WorkFactory(owner=creator, title="Free For All")
    WorkIdentifier.objects.create(work=allowed, scheme="isbn", value=ALLOWED_ISBN)
    override_set(actor=creator, work=allowed, choices={"train-ai": "allow"})
    developer = factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")
    member = factories.DeveloperMemberFactory(developer=developer).user
    manifest = tmp_path / "webtext.csv"
    manifest.write_text(f"URL,isbn\nhttps://a.example/1,{DENIED_ISBN}\n,{ALLOWED_ISBN}\n,\n")

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label(re.compile("^email", re.I)).fill(member.email)
    page.get_by_label(re.compile("^password", re.I)).fill(factories.PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.wait_for_url(re.compile(r"/developer/$"))
    page.get_by_role("link", name="All disclosures").click()
    page.wait_for_url(re.compile(r"/developer/disclosures/$"))
    audit(page)
    page.get_by_role("link", name="New disclosure").click()
    page.wait_for_url(re.compile(r"/developer/disclosures/new/$"))
    audit(page)

    page.get_by_label("Dataset name").fill("WebText-EU")
    page.get_by_label("Manifest file").set_input_files(str(manifest))
    page.get_by_role("button", name="Disclose and match").click()  # no use ticked
    error = page.get_by_text("Say which uses the dataset is for: at least one.")
    error.wait_for()
    audit(page)

    page.get_by_label("Training any AI model").check()
    page.get_by_label("Manifest file").set_input_files(str(manifest))
    page.get_by_role("button", name="Disclose and match").click()
    page.wait_for_url(re.compile(r"/developer/disclosures/\d+/$"))
    page.get_by_role("heading", name="Compliance report").wait_for()
    assert page.get_by_text("Not allowed: 1 (50.0%)").is_visible()
    audit(page)

    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download the exclusion list (CSV)").click()
    download = waiting.value
    assert re.fullmatch(r"disclosure-\d+-exclusions\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8-sig") as raw:
        rows = list(csv.reader(io.StringIO(raw.read())))
    assert [row[0] for row in rows] == ["row", "1"]
    assert rows[1][6] == denied.public_id and rows[1][7] == "denied"
    # The one error the console saw: the refused form's answer is a 400, as it should be.
    assert page.console_errors == [
        "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    ]
