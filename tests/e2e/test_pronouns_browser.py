"""Pronouns in a real browser (issue 19): a creator gives pronouns on the profile page, which
refuses markup with the error next to the field; the dashboard shows them; the letter preview on
the review-and-submit page of a removal request uses them where a pronoun reads naturally. Every
page passes axe-core and fits a phone and a desktop."""

import re

from accounts.models import CreatorProfile
from removals import services
from tests import factories


def test_creator_gives_pronouns_and_the_letter_preview_uses_them(
    live_server, browser_sign_in, page, audit, fits, creator
):
    developer = factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")
    factories.DeveloperContactFactory(developer=developer, email="legal@example-ai.example")
    work = factories.WorkFactory(owner=creator, title="The Lighthouse")
    draft = services.draft_create(actor=creator, creator=creator, title="My novel")
    services.draft_update(
        actor=creator, request=draft, works=[work], developers=[developer], asks=["cease"]
    )

    browser_sign_in(page, creator)
    page.goto(live_server.url + "/me/profile/")
    audit(page)
    fits(page, 390)
    pronouns = page.get_by_label("Pronouns")

    # Markup is refused, next to the field, and nothing is saved.
    pronouns.fill("<b>he</b>")
    page.get_by_role("button", name="Save my profile").click()
    assert page.get_by_text("letters, spaces and slashes only").first.is_visible()
    assert page.get_by_label("Pronouns").get_attribute("aria-invalid") == "true"
    audit(page)
    assert CreatorProfile.objects.get(user=creator).pronouns == ""

    page.get_by_label("Pronouns").fill("he/him")
    page.get_by_role("button", name="Save my profile").click()
    page.wait_for_url(re.compile(r"/me/profile/$"))
    assert page.get_by_text("Your profile is saved.").is_visible()
    assert page.get_by_label("Pronouns").input_value() == "he/him"
    assert CreatorProfile.objects.get(user=creator).pronouns == "he/him"

    page.goto(live_server.url + "/dashboard/")
    dashboard = page.locator("main").inner_text()
    assert "Pronouns" in dashboard and "he/him" in dashboard
    audit(page)

    page.goto(live_server.url + f"/requests/{draft.pk}/submit/")
    page.get_by_text("Read the notice as Example AI Ltd would receive it").click()
    letter = page.locator("pre.letter")
    letter.wait_for()
    text = letter.inner_text()
    assert "Alice Author writes to you about 1 work" in text
    assert "has checked that Alice Author is its member and verified his claims" in text
    assert "not authorised by him, his agent or the law" in text
    assert not re.search(r"\b(she|her|hers)\b", text)
    audit(page)
    fits(page, 390)
    fits(page, 1280)
    assert not page.console_errors, page.console_errors
