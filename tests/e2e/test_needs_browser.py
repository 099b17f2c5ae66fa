"""Issue 20 in Chromium with the demo accounts (``seed_demo``): each role signs in through the
real form, lands on its own dashboard with "Needs you" first, and every item opens the page
where it is acted on. axe-core on every page; the dashboards fit 1280 and 390 px."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from portal.management.commands.seed_demo import PASSWORD

pytestmark = pytest.mark.browser

# email → (where signing in lands, the panel's items: (key, the heading of the page it opens))
ROLES = {
    "ada@demo.example": (
        "/dashboard/",
        [
            ("overdue", "My novels in training datasets"),
            ("conflicts", "My works"),
            ("findings", "Found in datasets"),
        ],
    ),
    "staff.wggb@demo.example": (
        "/dashboard/staff/",
        [
            ("overdue-notices", "Overdue answers"),
            ("work-claims", "Claims to verify"),
            ("removal-requests", "Removal requests"),
        ],
    ),
    "admin@demo.example": ("/dashboard/admin/", [("conflicts", "Conflicting claims")]),
    "dev@demo.example": ("/developer/", [("notice", "Removal request")]),
}


def _sign_in(page, live_server, email):
    page.context.clear_cookies()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label(re.compile("^email", re.I)).fill(email)
    page.get_by_label(re.compile("^password", re.I)).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.wait_for_load_state()


def test_each_demo_role_lands_on_its_dashboard_and_every_need_opens_its_page(
    live_server, page, audit, fits
):
    call_command("seed_demo", stdout=StringIO())
    for email, (landing, items) in ROLES.items():
        _sign_in(page, live_server, email)
        page.wait_for_url(live_server.url + landing)
        panel = page.locator("section.needs")
        first = page.locator("main h2").first
        assert first.inner_text().startswith("Needs you"), email
        keys = panel.locator("li.need").evaluate_all("els => els.map(e => e.dataset.need)")
        assert keys == [key for key, _ in items], (email, keys)
        audit(page)
        fits(page, 1280)
        fits(page, 390)
        for key, heading in items:
            page.goto(live_server.url + landing)
            link = panel.locator(f"li[data-need='{key}'] a")
            href = link.get_attribute("href")
            link.click()
            page.wait_for_load_state()
            assert page.url.endswith(href), (email, key, page.url)
            assert heading in page.locator("h1").first.inner_text(), (email, key)
            audit(page)


def test_a_creator_opens_a_complied_answer_from_needs_you_and_finds_accept_and_contest(
    live_server, page, audit, fits, browser_sign_in, creator, guild_staff, settings
):
    """A developer reported it complied: the creator's panel says by when to accept or contest,
    and the item opens the request's page at that answer, with its two buttons."""
    from notices.services import answer_record
    from removals import services as removals
    from tests import factories

    settings.NOTICES_WEBHOOK_KEY = "dGVzdC1vbmx5LXdlYmhvb2sta2V5LTMyLWJ5dGVzISE="
    settings.REMOVALS_CONTEST_DAYS = 30
    labs = factories.AIDeveloperFactory(name="Example AI Labs")
    factories.DeveloperContactFactory(developer=labs)
    request = removals.draft_create(actor=creator, creator=creator, title="My novels")
    removals.draft_update(
        actor=creator,
        request=request,
        works=[factories.WorkFactory(owner=creator)],
        developers=[labs],
        asks=["cease"],
        where_used="https://dataset.example/books3",
    )
    removals.request_submit(actor=creator, request=request, good_faith=True, accurate=True)
    (notice,) = removals.request_approve(actor=guild_staff, request=request)
    answer, _ = answer_record(notice=notice, kind="complied", statement="Removed.", via="link")
    contest = answer.compliance_contest

    browser_sign_in(page, creator)
    page.wait_for_url(live_server.url + "/dashboard/")
    item = page.locator("section.needs li[data-need='complied']")
    assert item.count() == 1
    link = item.get_by_role("link")
    assert re.match(
        r"Example AI Labs reported they complied with “My novels” — "
        r"accept or contest by \d+ \w+ \d{4}$",
        link.inner_text(),
    )
    # The generic "answered" item does not repeat it.
    assert page.locator("section.needs li[data-need='answer']").count() == 0
    audit(page)
    fits(page, 390)

    link.click()
    page.wait_for_url(re.compile(rf"/requests/{request.pk}/#contest-{contest.pk}$"))
    answer_item = page.locator(f"#contest-{contest.pk}")
    accept = answer_item.get_by_role("button", name="Accept Example AI Labs's answer")
    contest_link = answer_item.get_by_role("link", name=re.compile("^Contest it"))
    assert accept.is_visible() and contest_link.is_visible()
    audit(page)
    fits(page, 390)
