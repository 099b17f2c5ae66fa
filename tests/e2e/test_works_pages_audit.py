"""The works pages a creator and their guild's staff use, in a real browser on a phone-sized
screen, each passing an axe-core audit: the list with filters, the public page, the claim
queue and the review where staff verify."""

import re

from django.utils import timezone

from tests import factories
from tests.e2e.menu import open_menu


def test_creator_and_staff_pages_pass_an_accessibility_audit(
    live_server, browser_sign_in, page, audit, creator, guild_staff
):
    novel = factories.WorkFactory(owner=creator, title="The Quiet Harbour", kind="book", year=2019)
    factories.WorkIdentifierFactory(work=novel, scheme="isbn", value="9780306406157")
    factories.WorkFactory(owner=creator, title="Low Tide", kind="poem")
    novel.claim_requested_at = timezone.now()
    novel.save()
    novel.evidence.create(statement="Harbour Press contract 2018-44", added_by=creator)

    browser_sign_in(page, creator)
    page.goto(live_server.url + "/works/")
    audit(page)
    page.get_by_label(re.compile("^search", re.I)).fill("9780306406157")
    page.get_by_role("button", name=re.compile("filter|search", re.I)).first.click()
    page.wait_for_url(re.compile(r"q=9780306406157"))
    assert page.get_by_role("link", name="The Quiet Harbour").is_visible()
    assert page.get_by_text("Low Tide").count() == 0
    audit(page)
    page.get_by_role("link", name="The Quiet Harbour").click()
    audit(page)
    page.goto(live_server.url + f"/w/{novel.public_id}/")
    audit(page)
    open_menu(page)  # "Sign out" is in the folded menu on a phone
    page.get_by_role("button", name=re.compile("sign out", re.I)).first.click()

    browser_sign_in(page, guild_staff)
    page.goto(live_server.url + "/works/claims/")
    audit(page)
    page.get_by_role("link", name=re.compile("The Quiet Harbour")).click()
    audit(page)
    page.get_by_label(re.compile("verify", re.I)).check()
    page.get_by_role("button", name=re.compile("record|decide|save", re.I)).click()
    page.wait_for_url(re.compile("/works/claims/$"))
    novel.refresh_from_db()
    assert novel.claim_state == "verified"
    assert not page.console_errors, page.console_errors
