"""Real headless Chromium (Debian's, no browser download) driven by Playwright, against
pytest-django's live server; axe-core audits every page a test visits."""

import os
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}


def pytest_collection_modifyitems(items):
    # pytest calls this hook with every collected item, not only this folder's.
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module. Playwright's sync API runs an event loop in this thread,
    beside which Django's ORM refuses to run unless told the test knows what it is doing; the
    permission lasts exactly as long as Playwright does."""
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()


@pytest.fixture
def audit():
    """``audit(page)`` fails the test on any serious or critical axe-core violation."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    audited = []

    def _audit(page):
        results = axe.run(page, options=AXE_OPTIONS)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] if node["target"] else "?" for node in v["nodes"][:3])
            for v in results.response["violations"]
            if v["impact"] in {"serious", "critical"}
        ]
        assert not bad, f"axe-core on {page.url}:\n" + "\n".join(bad)
        audited.append(page.url)

    _audit.pages = audited
    return _audit


@pytest.fixture
def browser_sign_in(live_server):
    """``browser_sign_in(page, user)``: sign in through the real form, as a person would, and
    land on the dashboard; ``browser_sign_in.out(page)`` signs out again."""
    import re

    from tests.factories import PASSWORD

    def _sign_in(page, user):
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label(re.compile("^email", re.I)).fill(user.email)
        page.get_by_label(re.compile("^password", re.I)).fill(PASSWORD)
        page.get_by_role("button", name=re.compile("sign in", re.I)).click()
        page.wait_for_url(re.compile("/dashboard/"))

    def _sign_out(page):
        from tests.e2e.menu import open_menu

        open_menu(page)  # "Sign out" is in the folded menu on a phone
        page.get_by_role("button", name=re.compile("sign out", re.I)).first.click()

    _sign_in.out = _sign_out
    return _sign_in


WIDER_THAN_VIEWPORT = """() => {
    const width = document.documentElement.clientWidth;
    const wide = [];
    for (const el of document.querySelectorAll('body *')) {
        const box = el.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;
        if (box.right > width + 1 || box.left < -1) {
            let clipped = false;  // inside a container that scrolls or clips on purpose
            for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
                const style = getComputedStyle(up);
                if (['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)) {
                    clipped = true;
                    break;
                }
            }
            const own = getComputedStyle(el);
            if (!clipped && own.position !== 'fixed' && !el.closest('.visually-hidden, .sr-only')) {
                const tag = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                    + (el.className && typeof el.className === 'string'
                        ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
                wide.push(`${tag} ${Math.round(box.left)}..${Math.round(box.right)}`);
            }
        }
    }
    return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 10)};
}"""


@pytest.fixture
def fits():
    """``fits(page, width)`` resizes the page to ``width`` CSS pixels (1280: a laptop, 390: a
    phone) and fails the test if the page scrolls sideways or any element reaches past the
    viewport's edges (a table inside a container that scrolls on purpose is allowed)."""

    def _fits(page, width: int, height: int = 900):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(50)
        found = page.evaluate(WIDER_THAN_VIEWPORT)
        assert found["scroll"] <= found["width"] and not found["wide"], (
            f"{page.url} at {width} px: page {found['scroll']} px wide in a {found['width']} px "
            f"viewport; elements past the edge: {found['wide']}"
        )

    return _fits
