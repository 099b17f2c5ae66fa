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
