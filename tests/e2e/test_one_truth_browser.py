"""Issue 19 in a real browser: guild staff see a claim awaiting verification as such on the
review page and approve; the creator's request page then names who approved it and who verified
the claims. Both pages pass axe-core and fit a phone and a laptop."""

import re

from removals import services
from tests import factories
from works import services as works_services


def _submitted_request(creator, developer):
    waiting = factories.WorkFactory(owner=creator, title="The Lighthouse")
    factories.WorkFactory(owner=creator, title="Salt and Signal")
    works_services.claim_request(actor=creator, work=waiting, statement="My publisher's page")
    removal = services.draft_create(actor=creator, creator=creator, title="My novels")
    services.draft_update(
        actor=creator,
        request=removal,
        works=list(creator.works.all()),
        developers=[developer],
        asks=["cease"],
        where_used="https://dataset.example/books3",
    )
    services.request_submit(actor=creator, request=removal, good_faith=True, accurate=True)
    return removal


def test_staff_see_the_claim_awaiting_and_the_creator_sees_who_approved(
    live_server, browser_sign_in, page, audit, fits, creator, guild_staff, settings
):
    settings.NOTICES_WEBHOOK_KEY = "dGVzdC1vbmx5LXdlYmhvb2sta2V5LTMyLWJ5dGVzISE="
    developer = factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")
    factories.DeveloperContactFactory(developer=developer, email="legal@example-ai.example")
    removal = _submitted_request(creator, developer)

    browser_sign_in(page, guild_staff)
    page.goto(f"{live_server.url}/review/{removal.pk}/")
    row = page.get_by_role("row", name=re.compile("The Lighthouse"))
    assert row.get_by_text("Awaiting verification").is_visible()
    assert row.get_by_text("Self-declared").count() == 0
    audit(page)
    fits(page, 390)
    fits(page, 1280)
    page.get_by_role("button", name="Approve and send the notices").click()
    page.wait_for_load_state()
    page.get_by_text(re.compile("Approved")).first.wait_for()
    removal.refresh_from_db()
    assert removal.status == removal.Status.APPROVED
    browser_sign_in.out(page)

    browser_sign_in(page, creator)
    page.goto(f"{live_server.url}/requests/{removal.pk}/")
    assert page.get_by_text("Approved by Writers' Guild of Great Britain staff").is_visible()
    works = page.locator(".request-works")
    assert works.get_by_text("by Writers' Guild of Great Britain staff").count() == 2
    assert works.get_by_text("Awaiting verification").count() == 0
    audit(page)
    fits(page, 390)
    fits(page, 1280)
