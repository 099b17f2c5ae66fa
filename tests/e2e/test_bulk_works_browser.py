"""Issue 20 in Chromium: a creator ticks some works and archives them, then sets an AI choice for
every work matching a search (more than a page: the server re-selects them), each confirmed on a
page that says how many; guild staff search their claims queue (accents ignored) and verify the
ticked claims with one reason. axe-core on every page; the pages fit at 390 and 1280 px."""

import re

from django.utils import timezone

from accounts.folding import fold_title
from accounts.services import profile_update
from consent.models import Preference
from tests import factories
from works.models import Work


def _many(owner, n, prefix):
    return Work.objects.bulk_create(
        Work(
            owner=owner,
            title=f"{prefix} {i:03}",
            title_folded=fold_title(f"{prefix} {i:03}"),
            kind="poem",
        )
        for i in range(n)
    )


def test_a_creator_archives_ticked_works_and_sets_a_choice_for_all_matching(
    live_server, browser_sign_in, page, audit, fits, creator
):
    _many(creator, 60, "Sea poem")  # more than one page of 50
    factories.WorkFactory(owner=creator, title="Tidewater", title_folded="tidewater")
    factories.WorkFactory(owner=creator, title="Low Tide", title_folded="low tide")
    browser_sign_in(page, creator)
    page.goto(live_server.url + "/works/?q=tide")
    page.get_by_label("Select “Tidewater”").check()
    page.get_by_label("Action").select_option(label="Archive")
    audit(page)
    fits(page, 390)
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("1 work ticked.").wait_for()
    audit(page)
    fits(page, 390)
    page.get_by_role("button", name="Archive 1 work").click()
    page.wait_for_url(re.compile(r"/works/\?q=tide$"))
    assert page.get_by_text("1 work archived.").is_visible()
    assert page.locator(".work-list h2 a").all_inner_texts() == ["Low Tide"]
    assert Work.objects.get(title="Tidewater").status == "archived"
    audit(page)

    # Every work matching "sea poem": 60, over two pages; "Select all on this page" (JS) ticks 50.
    page.goto(live_server.url + "/works/?q=sea+poem")
    page.get_by_label("Select all 50 on this page").check()
    assert page.locator("input[name=work]:checked").count() == 50
    page.get_by_label("All 60 works matching your filters, on every page").check()
    page.get_by_label("Action").select_option(label="Set an AI choice")
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("60 works: every work matching your filters.").wait_for()
    page.get_by_role("group", name="Which use").get_by_label("Training generative AI").check()
    page.get_by_role("group", name="Your choice").get_by_label("Allowed", exact=True).check()
    audit(page)
    fits(page, 390)
    fits(page, 1280)
    page.get_by_role("button", name="Set the choice for 60 works").click()
    page.wait_for_url(re.compile(r"/works/\?q=sea\+poem$"))
    assert page.get_by_text("is saved for 60 works").is_visible()
    assert Preference.objects.filter(use="train-genai", choice="allow").count() == 60
    audit(page)
    fits(page, 1280)


def test_staff_search_the_queue_and_verify_ticked_claims(
    live_server, browser_sign_in, page, audit, fits, creator, guild_staff
):
    profile_update(actor=creator, profile=creator.creator_profile, display_name="Åsa Ødegård")
    now = timezone.now()
    for title in ("The Quiet Harbour", "Harbour Lights"):
        factories.WorkFactory(
            owner=creator, title=title, title_folded=fold_title(title), claim_requested_at=now
        )
    someone = factories.UserFactory(email="zed@example.org")
    factories.MembershipFactory(
        user=someone, guild=guild_staff.staff_appointments.first().guild, verified=True
    )
    factories.WorkFactory(owner=someone, title="Unrelated", claim_requested_at=now)

    browser_sign_in(page, guild_staff)
    page.goto(live_server.url + "/works/claims/")
    page.get_by_label("Search", exact=True).fill("odegard")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"q=odegard"))
    assert page.get_by_text("2 claims awaiting a decision, matching “odegard”").is_visible()
    assert page.get_by_role("link", name="Unrelated").count() == 0
    audit(page)
    fits(page, 390)
    fits(page, 1280)

    page.get_by_label("Select all 2 on this page").check()
    page.get_by_role("button", name="Verify the ticked claims").click()
    page.get_by_text("Say how you checked these claims").first.wait_for()  # no reason: refused
    audit(page)
    assert not Work.objects.filter(claim_state="verified").exists()
    page.get_by_label("Reason", exact=True).fill("Checked against the publisher's catalogue")
    page.get_by_role("button", name="Verify the ticked claims").click()
    page.get_by_text("2 claims verified.").wait_for()
    assert Work.objects.filter(claim_state="verified").count() == 2
    assert page.get_by_text("No claim waiting for you matches “odegard”.").is_visible()
    audit(page)
    fits(page, 390)
