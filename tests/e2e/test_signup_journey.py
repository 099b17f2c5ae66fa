"""A new creator, in a real browser on a phone-sized screen: signs up, follows the link in the
verification email actually sent over SMTP, signs in, fills in their profile and claims their
guild membership — and every page they see passes an accessibility audit."""

import re

import pytest

from accounts.models import CreatorProfile, GuildMembership
from tests.e2e.menu import open_menu
from tests.services import wait_for

PASSWORD = "a long and private pass phrase 2026"


@pytest.fixture
def smtp_mail(settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    return smtp_server


def test_new_creator_signs_up_verifies_signs_in_and_claims_membership(
    live_server, page, audit, smtp_mail, wggb, settings
):
    settings.SITE_URL = live_server.url  # account emails link to SITE_URL (issue 19)
    page.goto(live_server.url + "/")
    audit(page)
    page.get_by_role("link", name=re.compile("sign up", re.I)).first.click()
    audit(page)
    page.get_by_label(re.compile("^email", re.I)).fill("nora@example.org")
    page.get_by_label(re.compile("^password$", re.I)).fill(PASSWORD)
    page.get_by_label(re.compile("password \\(again\\)", re.I)).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("sign up", re.I)).click()
    page.wait_for_url(re.compile("confirm-email"))
    audit(page)

    message = wait_for(lambda: smtp_mail.messages, what="the verification email")[0]
    assert message["To"] == "nora@example.org"
    body = message.get_body(("plain",)).get_content()
    assert "Hello from the Creator Consent Portal!" in body
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", body).group(0)
    assert link.startswith(live_server.url + "/")
    page.goto(link)
    audit(page)
    page.get_by_role("button", name=re.compile("confirm", re.I)).click()
    # Confirming signs them in (ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION) — sign out and back in,
    # as they would on another day.
    page.wait_for_url(re.compile("/dashboard/"))
    audit(page)
    open_menu(page)  # "Sign out" is in the folded menu on a phone
    page.get_by_role("button", name=re.compile("sign out", re.I)).first.click()
    if "logout" in page.url:
        audit(page)
        page.get_by_role("button", name=re.compile("sign out", re.I)).last.click()
    page.goto(live_server.url + "/accounts/login/")
    audit(page)
    page.get_by_label(re.compile("^email", re.I)).fill("nora@example.org")
    page.get_by_label(re.compile("^password", re.I)).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.wait_for_url(re.compile("/dashboard/"))

    open_menu(page)  # the navigation is folded on a phone
    page.get_by_role("link", name=re.compile("^profile$", re.I)).first.click()
    audit(page)
    page.get_by_label(re.compile("credit name", re.I)).fill("Nora N. Novelist")
    page.get_by_label(re.compile("ISNI", re.I)).fill("0000 0001 2103 2684")  # a typo
    page.get_by_role("button", name=re.compile("save", re.I)).click()
    # Said twice: in the summary at the top (a link to the field, focused) and by the field.
    summary = page.get_by_role("link", name=re.compile("ISNI: .*check digit does not match"))
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('error-summary')") or (
        page.evaluate("document.activeElement.getAttribute('role')") == "alert"
    )
    error = page.locator("li", has_text=re.compile("check digit does not match")).last
    assert error.is_visible()
    audit(page)
    page.get_by_label(re.compile("ISNI", re.I)).fill("0000 0001 2103 2683")
    page.get_by_role("button", name=re.compile("save", re.I)).click()
    page.get_by_text("Your profile is saved.").wait_for()

    page.goto(live_server.url + "/me/memberships/claim/")
    audit(page)
    page.get_by_label(re.compile("guild", re.I)).select_option(label=wggb.name)
    page.get_by_label(re.compile("membership number", re.I)).fill("WG-2026-17")
    page.get_by_role("button", name=re.compile("claim", re.I)).click()
    page.wait_for_url(re.compile("/dashboard/"))
    assert page.get_by_text("Awaiting verification").first.is_visible()
    audit(page)

    assert (
        CreatorProfile.objects.get(user__email="nora@example.org").credit_name == "Nora N. Novelist"
    )
    claim = GuildMembership.objects.get(user__email="nora@example.org")
    assert (claim.guild, claim.status, claim.membership_number) == (wggb, "claimed", "WG-2026-17")
    assert not page.console_errors, page.console_errors  # e.g. CSP violations
    assert len(audit.pages) >= 9
