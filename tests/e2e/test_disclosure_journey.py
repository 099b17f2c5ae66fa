"""The whole path of a disclosure, in a real browser with real parts.

A developer uploads a dataset's manifest from its dashboard; a real Celery worker process
matches it and sends the creator one email through the real mail path (the outbox, then SMTP to
aiosmtpd); the creator follows the email's link to their findings, confirms two, dismisses one
as not their work, and asks for the removal of the two confirmed: the removal request draft holds
exactly those two works and that developer. The dismissed row has left the developer's exclusion
list (fetched again from the developer's page). The creator's guild staff see the counts. axe-core
audits every page on the way, on a phone's screen.
"""

import json
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from disclosures.models import Disclosure, Finding
from removals.models import RemovalRequest
from tests import factories
from tests.services import wait_for
from works.models import WorkIdentifier

pytestmark = pytest.mark.worker

WORKER_TIMEOUT = 60  # seconds: the worker starts, matches the manifest, sends the email
DATASET = "WebText-EU"
BOOKS = {  # title → ISBN, all three in the manifest
    "The Long Shore": "9780306406157",
    "Salt and Signal": "9781861972712",
    "Not Really Mine": "9780262033848",
}


@pytest.fixture
def journey_worker(request, live_server, monkeypatch, settings):
    """A real worker whose emails link to this live server: ``SITE_URL`` is in the environment
    it inherits (set before it starts) and in this process's settings."""
    monkeypatch.setenv("SITE_URL", live_server.url)
    settings.SITE_URL = live_server.url
    return request.getfixturevalue("celery_worker")


def _context_page(browser):
    """A page in a fresh browser context (its own cookies), phone-sized like ``page``."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _sign_in(page, live_server, user, landing):
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label(re.compile("^email", re.I)).fill(user.email)
    page.get_by_label(re.compile("^password", re.I)).fill(factories.PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.wait_for_url(re.compile(landing))


def named(action: str, finding) -> re.Pattern:
    """A finding's button, by its accessible name ("Confirm: row 2 of WebText-EU")."""
    return re.compile(rf"^{action}\s*: row {finding.row} of {re.escape(DATASET)}$")


def _log(worker) -> str:
    return worker.log().decode(errors="replace")[-3000:]


def _excluded_rows(page, live_server, disclosure) -> set[int]:
    """The rows of the exclusion list, as the developer's page downloads it (JSON Lines)."""
    url = live_server.url + reverse("disclosures:exclusions", args=[disclosure.pk])
    response = page.request.get(url + "?format=jsonl")
    assert response.ok, response.status
    return {json.loads(line)["row"] for line in response.text().splitlines() if line.strip()}


def test_a_disclosed_dataset_reaches_the_creator_who_confirms_dismisses_and_asks_for_removal(
    live_server,
    journey_worker,
    smtp_server,
    browser,
    page,
    audit,
    creator,
    guild_staff,
    tmp_path,
):
    works = {}
    for title, isbn in BOOKS.items():
        works[title] = factories.WorkFactory(owner=creator, title=title, kind="book")
        WorkIdentifier.objects.create(work=works[title], scheme="isbn", value=isbn)
    factories.WorkFactory(owner=creator, title="A Book of Soups")  # not in the dataset
    developer = factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")
    member = factories.DeveloperMemberFactory(developer=developer).user
    manifest = tmp_path / "webtext.csv"
    manifest.write_text(
        "url,isbn\n"
        + "".join(f"https://books.example/{n},{isbn}\n" for n, isbn in enumerate(BOOKS.values()))
        + "https://books.example/other,9783161484100\n"  # nobody's
    )

    # 1. The developer discloses the dataset from its dashboard.
    developer_page = _context_page(browser)
    try:
        _sign_in(developer_page, live_server, member, r"/developer/$")
        developer_page.get_by_role("link", name="All disclosures").click()
        developer_page.get_by_role("link", name="New disclosure").click()
        developer_page.wait_for_url(re.compile(r"/developer/disclosures/new/$"))
        developer_page.get_by_label("Dataset name").fill(DATASET)
        developer_page.get_by_label("Training generative AI").check()
        developer_page.get_by_label("Manifest file").set_input_files(str(manifest))
        developer_page.get_by_role("button", name="Disclose and match").click()
        developer_page.wait_for_url(re.compile(r"/developer/disclosures/\d+/$"))
        disclosure = Disclosure.objects.get(developer=developer)

        # 2. The real worker matches it…
        try:
            wait_for(
                lambda: Disclosure.objects.get(pk=disclosure.pk).state == Disclosure.State.DONE,
                timeout=WORKER_TIMEOUT,
                what="the worker to match the manifest",
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nworker log:\n{_log(journey_worker)}") from None
        developer_page.reload()
        developer_page.get_by_role("heading", name="Compliance report").wait_for()
        audit(developer_page)
        assert _excluded_rows(developer_page, live_server, disclosure) == {1, 2, 3}

        # 3. …and the creator gets one email, through the outbox and SMTP.
        def creator_emails():
            return [m for m in smtp_server.messages if m["To"] == creator.email]

        try:
            received = wait_for(creator_emails, timeout=WORKER_TIMEOUT, what="the creator's email")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nworker log:\n{_log(journey_worker)}") from None
        email = received[0]
        assert email["Subject"].endswith(
            f"Your works found in Example AI Ltd's dataset “{DATASET}”"
        )
        text = email.get_body(("plain",)).get_content()
        assert "Three of your works are in a dataset Example AI Ltd disclosed" in text
        assert "- “The Long Shore”: found by its ISBN" in text
        assert "A Book of Soups" not in text
        link = re.search(rf"{re.escape(live_server.url)}/\S*", text).group(0)
        assert link == live_server.url + reverse("findings:list")

        # 4. The creator opens the link, signs in, and decides.
        page.goto(link)
        page.get_by_label(re.compile("^email", re.I)).fill(creator.email)
        page.get_by_label(re.compile("^password", re.I)).fill(factories.PASSWORD)
        page.get_by_role("button", name=re.compile("sign in", re.I)).click()
        page.wait_for_url(re.compile(re.escape(reverse("findings:list")) + "$"))
        expect(page.get_by_role("heading", name="Found in datasets", level=1)).to_be_visible()
        audit(page)
        findings = {
            f.work.title: f
            for f in Finding.objects.filter(disclosure=disclosure).select_related("work")
        }
        assert set(findings) == set(BOOKS)
        for title in ("The Long Shore", "Salt and Signal"):
            finding = findings[title]
            page.get_by_role("button", name=named("Confirm", finding)).click()
            expect(page.locator(f"#finding-{finding.pk}").get_by_text("Confirmed.")).to_be_visible()
        dismissed = findings["Not Really Mine"]
        page.get_by_role("button", name=named("Not my work", dismissed)).click()
        expect(
            page.locator(f"#finding-{dismissed.pk}").get_by_text(re.compile("Dismissed"))
        ).to_be_visible()
        audit(page)
        states = dict(Finding.objects.filter(disclosure=disclosure).values_list("row", "state"))
        assert states == {
            findings["The Long Shore"].row: "confirmed",
            findings["Salt and Signal"].row: "confirmed",
            dismissed.row: "dismissed",
        }

        # 5. "Ask for removal" with the two confirmed ticked: a draft with exactly those.
        for title in ("The Long Shore", "Salt and Signal"):
            page.get_by_label(
                re.compile(rf"^Tick\s*row {findings[title].row}\s*of {DATASET}$")
            ).check()
        page.get_by_role("button", name="Ask for removal").click()
        page.wait_for_url(re.compile(r"/requests/\d+/edit/"))
        draft = RemovalRequest.objects.get(creator=creator)
        assert draft.status == RemovalRequest.Status.DRAFT
        assert sorted(w.title for w in draft.works.all()) == ["Salt and Signal", "The Long Shore"]
        assert list(draft.developers.all()) == [developer]
        assert not draft.all_developers
        expect(page.get_by_role("heading", name="In this request (2)")).to_be_visible()
        audit(page)

        # 6. The dismissed row has left the developer's exclusion list.
        assert _excluded_rows(developer_page, live_server, disclosure) == {
            findings["The Long Shore"].row,
            findings["Salt and Signal"].row,
        }
    finally:
        developer_page.context.close()

    # 7. The creator's guild staff see the counts (the draft is the creator's alone).
    staff_page = _context_page(browser)
    try:
        _sign_in(staff_page, live_server, guild_staff, r"/dashboard/")
        staff_page.goto(live_server.url + reverse("portal:staff-dashboard"))
        staff_page.get_by_role("link", name="Members' works in datasets").click()
        staff_page.wait_for_url(re.compile(re.escape(reverse("disclosures-staff:list")) + "$"))
        row = staff_page.get_by_role("row").filter(has_text=DATASET)
        expect(row.get_by_role("cell")).to_have_text(
            ["Example AI Ltd", re.compile(r"\d"), "2", "1", "2", "1", "0"]
        )
        audit(staff_page)
        row.get_by_role("link", name=DATASET).click()
        staff_page.wait_for_url(re.compile(r"/review/disclosures/\d+/$"))
        expect(staff_page.get_by_role("heading", name=DATASET, level=1)).to_be_visible()
        audit(staff_page)
    finally:
        staff_page.context.close()
    assert len([m for m in smtp_server.messages if m["To"] == creator.email]) == 1  # once
    assert not page.console_errors, page.console_errors
