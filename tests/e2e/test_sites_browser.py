"""A creator, in a real browser, adds their site, publishes its token on it (a real HTTP server on
loopback), checks it and sees it verified; its public page then says whose it is, and the
registry answers for its pages. axe-core audits every page they visit."""

import re

from tests.e2e.menu import open_menu
from tests.works_registry.test_sites_proof import serving
from works_registry.lookup import lookup
from works_registry.models import Site


def test_a_creator_adds_their_site_and_sees_it_verified(
    live_server, browser_sign_in, page, audit, creator, settings
):
    with serving(settings) as site_server:
        browser_sign_in(page, creator)
        open_menu(page)  # the navigation is folded on a phone
        page.get_by_role("link", name="Profile", exact=True).click()
        page.get_by_role("link", name="Add my site").click()
        page.wait_for_url(re.compile(r"/sites/$"))
        audit(page)

        # A private name first: a clear error, nothing added.
        page.get_by_label("Your site's address").fill("http://printer.local/")
        page.get_by_role("button", name="Add this site").click()
        page.get_by_text(re.compile("private name", re.I)).first.wait_for()
        assert not Site.objects.exists()
        audit(page)

        page.get_by_label("Your site's address").fill(site_server.url + "/")
        page.get_by_role("button", name="Add this site").click()
        page.wait_for_url(re.compile(r"/sites/[A-Za-z0-9]{16}/$"))
        assert page.get_by_text("Waiting for proof").first.is_visible()
        audit(page)

        # They copy the token into their home page's <head>, then check.
        token = page.get_by_label("Your site's token").input_value()
        assert page.get_by_text(f'<meta name="creator-consent" content="{token}">').is_visible()
        site_server.publish_meta(token)
        page.get_by_role("button", name="Check now").click()
        status = page.locator("#site-status")
        status.get_by_text(re.compile("the token was found in a meta tag", re.I)).wait_for()
        assert status.get_by_text("Verified", exact=True).is_visible()
        audit(page)

        site = Site.objects.get()
        assert site.status == Site.Status.VERIFIED and site.method == "meta"
        [result] = lookup([{"url": site_server.url + "/poems/low-tide"}])
        assert [entry["site"]["public_id"] for entry in result["sites"]] == [site.public_id]

        page.get_by_role("link", name="public page").click()
        page.wait_for_url(re.compile(rf"/s/{site.public_id}/$"))
        assert page.get_by_text("The site of Alice Author").is_visible()
        assert token not in page.content()
        audit(page)
    # The one refused submission answered 400, as the portal's forms do; nothing else failed.
    refused = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    assert page.console_errors == [refused], page.console_errors


def test_a_superuser_resolves_a_site_conflict_from_the_queue(
    live_server, browser_sign_in, page, audit, creator, other_creator, superuser
):
    from django.db import transaction
    from django.utils import timezone

    from works_registry import sites_services
    from works_registry.models import SiteConflict

    for owner, address in ((other_creator, "https://ada.example/"), (creator, "ada.example/art")):
        site = sites_services.site_declare(actor=owner, address=address)
        with transaction.atomic():
            sites_services.site_verify(site=site, method="file", now=timezone.now())
    conflict = SiteConflict.objects.get()

    browser_sign_in(page, superuser)
    page.goto(live_server.url + "/works/conflicts/")
    audit(page)
    page.get_by_role("link", name=f"Site conflict {conflict.pk}").click()
    page.wait_for_url(re.compile(rf"/sites/conflicts/{conflict.pk}/$"))
    audit(page)
    page.get_by_role("radio", name=re.compile("second site .* stands", re.I)).check()
    page.get_by_label("Reason").fill("Their portfolio, linked from their guild profile.")
    page.get_by_role("button", name="Resolve the conflict").click()
    page.wait_for_url(re.compile(r"/works/conflicts/$"))
    page.get_by_text(f"Site conflict {conflict.pk} is resolved").wait_for()
    audit(page)
    conflict.refresh_from_db()
    assert conflict.resolution == "b_stands"
    assert conflict.site_a.status == Site.Status.REMOVED
    assert not page.console_errors, page.console_errors
