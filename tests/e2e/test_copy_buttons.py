"""Copy buttons (issue 20) beside a new API key, the snippets for a creator's own website and a
work's SHA-256, in real Chromium: a click puts the exact text on the clipboard (read back with
navigator.clipboard.readText()) and says "Copied" in a status region; when the clipboard is
refused the text is selected instead and the status says how to copy it; without JavaScript no
dead button is shown. axe-core on every page."""

import re
from urllib.parse import urlencode

from django.urls import reverse

from tests import factories
from works.models import WorkFile

SHA = "3f" * 32
REFUSE_CLIPBOARD = """navigator.clipboard.writeText = () =>
    Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError'));"""


def _clipboard(page, live_server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)


def _read_clipboard(page) -> str:
    return page.evaluate("() => navigator.clipboard.readText()")


def _status_of(button):
    return button.locator("xpath=following-sibling::*[@role='status']")


def test_a_works_sha256_is_copied_and_said_copied(
    live_server, page, audit, fits, browser_sign_in, creator
):
    work = _work_with_file(creator)
    _clipboard(page, live_server)
    browser_sign_in(page, creator)
    page.goto(live_server.url + reverse("works:detail", args=[work.public_id]))
    button = page.get_by_role("button", name="Copy the SHA-256 hash")
    status = _status_of(button)
    assert status.inner_text() == ""
    button.click()
    page.get_by_role("status").filter(has_text="Copied").wait_for()
    assert _read_clipboard(page) == SHA
    assert status.is_visible() and status.inner_text() == "Copied"
    audit(page)
    fits(page, 390)
    fits(page, 1280)
    assert not page.console_errors, page.console_errors


def test_each_snippet_has_its_own_copy_button(live_server, page, audit, browser_sign_in, creator):
    _clipboard(page, live_server)
    browser_sign_in(page, creator)
    page.goto(live_server.url + reverse("consent:snippets"))
    audit(page)
    snippets = page.locator("section.snippet pre")
    buttons = page.locator("section.snippet button[data-copy]")
    assert snippets.count() >= 3 and buttons.count() == snippets.count()
    for index in (0, snippets.count() - 1):
        pre, button = snippets.nth(index), buttons.nth(index)
        heading = pre.locator("xpath=preceding-sibling::h2").inner_text()
        # "Copy" to the eye; for a screen reader, which snippet it copies.
        assert page.get_by_role("button", name=f"Copy {heading}", exact=True).count() == 1
        button.click()
        _status_of(button).filter(has_text="Copied").wait_for()
        assert _read_clipboard(page) == pre.text_content()
    audit(page)


def test_a_new_api_key_is_copied(live_server, page, audit):
    developer = factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")
    dana = factories.DeveloperMemberFactory(
        developer=developer, user__email="dana@example-ai.example"
    ).user
    keys_url = reverse("apikeys:developer-keys")
    _clipboard(page, live_server)
    page.goto(f"{live_server.url}{reverse('account_login')}?{urlencode({'next': keys_url})}")
    page.get_by_label(re.compile("^email", re.I)).fill(dana.email)
    page.get_by_label(re.compile("^password", re.I)).fill(factories.PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.wait_for_url(re.compile("/developer/keys/$"))
    page.get_by_label("Name of the key").fill("Ingest pipeline")
    page.get_by_role("button", name="Create the key").click()
    page.wait_for_load_state()
    if "reauthenticate" in page.url:  # the password is asked for again before a key is made
        page.get_by_label(re.compile("^password", re.I)).fill(factories.PASSWORD)
        page.get_by_role("button", name=re.compile("confirm", re.I)).click()
    page.get_by_role("heading", name="Your new key “Ingest pipeline”").wait_for()
    audit(page)
    clear = page.locator("#new-key").inner_text().strip()
    assert clear.startswith("ccp_")

    page.get_by_role("button", name="Copy the key").click()
    page.get_by_role("status").filter(has_text="Copied").wait_for()
    assert _read_clipboard(page) == clear

    assert not page.console_errors, page.console_errors


def _work_with_file(creator):
    work = factories.WorkFactory(owner=creator, title="Harbour Cover", kind="image")
    WorkFile.objects.create(
        work=work,
        status=WorkFile.Status.READY,
        original_name="harbour-cover.png",
        size=1234,
        sha256=SHA,
        family="image",
        format="png",
        mime="image/png",
    )
    return work


def test_where_the_clipboard_is_refused_the_hash_is_selected(
    live_server, page, audit, browser_sign_in, creator
):
    work = _work_with_file(creator)
    page.add_init_script(REFUSE_CLIPBOARD)
    browser_sign_in(page, creator)
    page.goto(live_server.url + reverse("works:detail", args=[work.public_id]))
    button = page.get_by_role("button", name="Copy the SHA-256 hash")
    button.click()
    status = _status_of(button)
    status.filter(has_text="Selected").wait_for()
    assert status.inner_text() == "Selected: press Ctrl+C to copy"
    assert page.evaluate("() => window.getSelection().toString()") == SHA
    audit(page)


def test_without_javascript_there_is_no_dead_copy_button(
    live_server, browser, browser_sign_in, creator
):
    work = _work_with_file(creator)
    context = browser.new_context(java_script_enabled=False)
    try:
        bare = context.new_page()
        browser_sign_in(bare, creator)
        bare.goto(live_server.url + reverse("works:detail", args=[work.public_id]))
        assert bare.get_by_text(SHA).is_visible()  # selected and copied by hand, as before
        assert bare.locator("button[data-copy]").count() == 1
        assert not bare.locator("button[data-copy]").is_visible()
    finally:
        context.close()
