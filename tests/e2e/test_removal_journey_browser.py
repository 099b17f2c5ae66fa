"""The whole path of a removal request, in a real browser with real parts.

A creator files a request for two of their works against two AI developers; the staff of their
guild approve it; a real Celery worker process delivers the two notices to a real SMTP server
(aiosmtpd); one developer opens the link read out of the email it received and disputes the
notice; the creator sees the dispute on their timeline and downloads the evidence pack, whose
ZIP holds the summary, both notices, their deliveries and the dispute. Their request page and
the staff's review page pass the accessibility audit.
"""

import csv
import io
import re
import zipfile

import pytest
from playwright.sync_api import expect

from notices.models import Delivery, NoticeAnswer
from removals.models import RemovalRequest
from tests import factories
from tests.e2e.menu import open_menu
from tests.services import wait_for

pytestmark = pytest.mark.worker

WORKER_TIMEOUT = 60  # seconds: the worker starts, then sends two notices (and their emails)
REASON = "We never trained on these books: our crawler honours the site's robots.txt."
WHERE = "https://dataset.example/books3 lists both novels."


@pytest.fixture
def journey_worker(request, live_server, monkeypatch, settings):
    """A real worker whose emails link to this live server: ``SITE_URL`` is in the environment
    it inherits (set before it starts) and in this process's settings."""
    monkeypatch.setenv("SITE_URL", live_server.url)
    settings.SITE_URL = live_server.url
    return request.getfixturevalue("celery_worker")


@pytest.fixture
def developers(db):
    made = []
    for name, slug in (("Example AI Ltd", "example-ai"), ("Other Models Inc", "other-models")):
        developer = factories.AIDeveloperFactory(name=name, slug=slug)
        factories.DeveloperContactFactory(developer=developer, email=f"legal@{slug}.example")
        made.append(developer)
    return made


def _context_page(browser):
    """A page in a fresh browser context (its own cookies), phone-sized like ``page``."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _csv_rows(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))


def _log(worker) -> str:
    return worker.log().decode(errors="replace")[-3000:]


def test_a_request_goes_from_the_creator_through_their_guild_to_a_developers_dispute(
    live_server,
    journey_worker,
    smtp_server,
    browser,
    page,
    audit,
    browser_sign_in,
    creator,
    guild_staff,
    developers,
    tmp_path,
):
    example, other = developers
    factories.WorkFactory(owner=creator, title="The Lighthouse Keeper")
    factories.WorkFactory(owner=creator, title="Salt and Signal")
    factories.WorkFactory(owner=creator, title="A Book of Soups")  # not in the request

    # 1. They file the request.
    browser_sign_in(page, creator)
    open_menu(page)  # the navigation is folded on a phone
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Removal requests").click()
    page.wait_for_url(re.compile("/requests/$"))
    page.get_by_role("button", name="New removal request").click()
    page.wait_for_url(re.compile(r"/requests/\d+/edit/"))
    removal = RemovalRequest.objects.get(creator=creator)

    page.get_by_label("Name of the request (optional)").fill("My novels")
    page.get_by_label("Search your works").fill("Signal")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_label(re.compile("^Salt and Signal")).check()
    page.get_by_role("button", name="Add the ticked works").click()
    expect(page.get_by_text("1 work added.")).to_be_visible()
    page.get_by_label("Search your works").fill("Lighthouse")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("button", name="Select all 1 matching work").click()
    expect(page.get_by_role("heading", name="In this request (2)")).to_be_visible()

    page.get_by_label("Example AI Ltd").check()
    page.get_by_label("Other Models Inc").check()
    page.get_by_label("Stop using the works").check()
    page.get_by_label("Remove them from training datasets").check()
    page.get_by_label("Where you believe your works were used").fill(WHERE)
    page.get_by_role("button", name="Save and review before submitting").click()
    page.wait_for_url(re.compile(rf"/requests/{removal.pk}/submit/$"))
    summary = page.get_by_role("region", name="What will be sent")
    expect(summary.get_by_text("Example AI Ltd, Other Models Inc")).to_be_visible()
    chosen = summary.get_by_role("listitem")
    expect(chosen.filter(has_text="The Lighthouse Keeper")).to_have_count(1)
    expect(chosen.filter(has_text="Salt and Signal")).to_have_count(1)
    expect(summary.get_by_text("A Book of Soups")).to_have_count(0)

    page.get_by_label("I confirm the good-faith statement").check()
    page.get_by_label("I confirm the information is accurate").check()
    page.get_by_role("button", name="Submit the request").click()
    page.wait_for_url(re.compile(rf"/requests/{removal.pk}/$"))
    expect(page.get_by_text(re.compile("Your request is submitted"))).to_be_visible()
    removal.refresh_from_db()
    assert removal.status == RemovalRequest.Status.SUBMITTED
    assert sorted(w.title for w in removal.works.all()) == [
        "Salt and Signal",
        "The Lighthouse Keeper",
    ]

    # 2. Their guild's staff approve it, in a browser of their own.
    staff_page = _context_page(browser)
    try:
        browser_sign_in(staff_page, guild_staff)
        open_menu(staff_page)  # the navigation is folded on a phone
        staff_page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Requests to review"
        ).click()
        staff_page.wait_for_url(re.compile("/review/$"))
        staff_page.get_by_role("link", name=re.compile(rf"My novels #{removal.pk}")).click()
        staff_page.wait_for_url(re.compile(rf"/review/{removal.pk}/$"))
        expect(
            staff_page.get_by_role("heading", name=re.compile("My novels"), level=1)
        ).to_be_visible()
        audit(staff_page)
        approve = staff_page.get_by_role("form", name="Approve")
        expect(approve).to_be_visible()
        for box in approve.get_by_role("checkbox").all():
            box.check()  # whatever the form asks to be acknowledged (none without a licence)
        staff_page.get_by_role("button", name="Approve and send the notices").click()
        expect(
            staff_page.get_by_text(re.compile("Approved: 2 notices will go out"))
        ).to_be_visible()
        audit(staff_page)
    finally:
        staff_page.context.close()
    removal.refresh_from_db()
    assert removal.status == RemovalRequest.Status.APPROVED

    # 3. The worker delivers one notice to each developer's contact over SMTP.
    contacts = {"legal@example-ai.example", "legal@other-models.example"}

    def notices_received():
        got = [m for m in smtp_server.messages if m["To"] in contacts]
        return got if len(got) >= 2 else None

    try:
        received = wait_for(notices_received, timeout=WORKER_TIMEOUT, what="both notice emails")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nworker log:\n{_log(journey_worker)}") from None
    assert sorted(m["To"] for m in received) == sorted(contacts)  # one each, no copy
    subject = f"Removal request {removal.pk}: 2 works by Alice Author"
    assert [m["Subject"] for m in received] == [subject, subject]
    wait_for(
        lambda: (
            Delivery.objects.filter(
                notice__topic=removal.topic, status=Delivery.Status.DELIVERED
            ).count()
            == 2
        ),
        timeout=WORKER_TIMEOUT,
        what="both deliveries to be recorded as delivered",
    )
    assert len(notices_received()) == 2  # both recorded as delivered: no copy came after

    # 4. Example AI opens the link from its email, with no account, and disputes.
    email = next(m for m in received if m["To"] == "legal@example-ai.example")
    text = email.get_body(("plain",)).get_content()
    link = re.search(r"Answer this notice: (\S+)", text).group(1)
    assert link.startswith(live_server.url + "/answer/")
    developer_page = _context_page(browser)
    try:
        developer_page.goto(link)
        expect(developer_page.get_by_role("heading", name=subject, level=1)).to_be_visible()
        developer_page.get_by_label("Reason for the dispute").fill(REASON)
        developer_page.get_by_role("button", name="Dispute the notice").click()
        expect(developer_page.get_by_text(re.compile("Your dispute is recorded"))).to_be_visible()
    finally:
        developer_page.context.close()
    answer = NoticeAnswer.objects.get(notice__topic=removal.topic)
    assert (answer.notice.developer_id, answer.kind) == (example.pk, "disputed")

    # They are emailed at the steps they left ticked (all of them, by default).
    def creator_subjects():
        return [m["Subject"] for m in smtp_server.messages if m["To"] == creator.email]

    wanted = [
        "Your removal request is approved: notices are on their way",
        "Example AI Ltd answered your removal request",
    ]
    try:
        wait_for(
            lambda: all(any(s.endswith(w) for s in creator_subjects()) for w in wanted),
            timeout=WORKER_TIMEOUT,
            what="their emails about the approval and the answer",
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {creator_subjects()}\n{_log(journey_worker)}") from None

    # 5. They see the dispute on their timeline, and both deliveries.
    page.reload()
    lanes = page.get_by_role("region", name="Each developer")
    for developer in (example, other):
        lane = lanes.get_by_role("listitem").filter(
            has=page.get_by_role("heading", name=developer.name, level=3)
        )
        steps = lane.get_by_role("list", name=f"Timeline of {developer.name}")
        expect(steps.get_by_text("Delivered by email")).to_be_visible()
    disputed = lanes.get_by_role("list", name="Timeline of Example AI Ltd")
    expect(disputed.get_by_text("Disputed", exact=True)).to_be_visible()
    expect(disputed.get_by_text(REASON)).to_be_visible()
    expect(
        lanes.get_by_role("list", name="Timeline of Other Models Inc").get_by_text("Disputed")
    ).to_have_count(0)
    audit(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("Download the evidence pack")).first.click()
    download = download_info.value
    assert download.suggested_filename == f"removal-request-{removal.pk}-evidence-pack.zip"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    with zipfile.ZipFile(saved) as archive:
        names = set(archive.namelist())
        assert "summary.html" in names
        assert {"notices/example-ai/notice.txt", "notices/other-models/notice.txt"} <= names
        summary_html = archive.read("summary.html").decode()
        assert "The Lighthouse Keeper" in summary_html and "Salt and Signal" in summary_html
        deliveries = _csv_rows(archive, "deliveries.csv")
        assert sorted((d["recipient"], d["status"].lower()) for d in deliveries) == [
            ("legal@example-ai.example", "delivered"),
            ("legal@other-models.example", "delivered"),
        ]
        answers = _csv_rows(archive, "answers.csv")
        assert len(answers) == 1
        assert answers[0]["kind"].lower() == "disputed" and answers[0]["statement"] == REASON
        assert answers[0]["developer"] == "Example AI Ltd"
    assert not page.console_errors, page.console_errors
