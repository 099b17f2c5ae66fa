"""Issue 19 in a real browser, as a creator on a phone: the search finds "Ødegård" when they type
"odegard"; the dashboard's "possible conflicts" count leads to the works in conflict; the list
filters by AI choice; a finished import lists its errors in a table; the public page says
"default" where the creator chose nothing. axe-core on every page, and the pages fit at 390 and
1280 px."""

import re

from accounts.folding import fold_title
from consent import services as consent_services
from tests import factories
from works.models import Conflict, ImportJob, ImportRowError


def _work(owner, title, **fields):
    return factories.WorkFactory(owner=owner, title=title, title_folded=fold_title(title), **fields)


def _titles(page) -> set[str]:
    return set(page.locator(".work-list h2 a").all_inner_texts())


def test_search_conflicts_and_ai_choices_from_the_list(
    live_server, browser_sign_in, page, audit, fits, creator, other_creator
):
    odegard = _work(creator, "Ødegård: Songs of the Fjord")
    tide = _work(creator, "Tidewater")
    _work(creator, "Low Tide")
    consent_services.override_set(
        actor=creator, work=odegard, choices={"train-genai": "allow", "train-ai": "allow"}
    )
    Conflict.objects.create(
        work_a=tide, work_b=_work(other_creator, "Tidewater (Bob)"), matches=[{"kind": "isbn"}]
    )

    browser_sign_in(page, creator)
    audit(page)
    # The dashboard's count of possible conflicts is a link to those works.
    page.get_by_role("link", name="1", exact=True).and_(
        page.locator("dd a[href*='conflict=open']")
    ).click()
    page.wait_for_url(re.compile(r"/works/\?conflict=open"))
    assert _titles(page) == {"Tidewater"}
    assert page.get_by_text("Possible conflict", exact=True).is_visible()
    assert page.get_by_label("Conflicts").input_value() == "open"
    audit(page)
    fits(page, 390)

    # The search ignores accents: "odegard" finds "Ødegård".
    page.goto(live_server.url + "/works/")
    page.get_by_label(re.compile("^search", re.I)).fill("odegard")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"q=odegard"))
    assert _titles(page) == {"Ødegård: Songs of the Fjord"}
    audit(page)

    # The AI choice filter, combined with the search cleared: training generative AI allowed.
    page.get_by_label(re.compile("^search", re.I)).fill("")
    page.get_by_label("AI use").select_option(label="Training generative AI")
    page.get_by_label("AI choice").select_option(label="Allowed")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"ai_choice=allow"))
    assert _titles(page) == {"Ødegård: Songs of the Fjord"}
    assert page.get_by_text("1 work matches your filters.").is_visible()
    page.get_by_label("AI choice").select_option(label="Default (no choice for the work)")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"ai_choice=default"))
    assert _titles(page) == {"Tidewater", "Low Tide"}
    audit(page)
    fits(page, 390)
    fits(page, 1280)

    # A choice without its use: the form says what is missing, next to the field.
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_label("AI use").select_option(value="")
    page.get_by_role("button", name="Filter").click()
    page.get_by_text("Choose the AI use this choice is about.").wait_for()
    assert page.get_by_label("AI use").get_attribute("aria-invalid") == "true"
    audit(page)

    # The public page of a work with no choices says "default".
    page.goto(live_server.url + f"/w/{tide.public_id}/")
    assert page.get_by_text("Not allowed (default)").first.is_visible()
    audit(page)
    fits(page, 390)
    assert not page.console_errors, page.console_errors


def test_an_import_with_errors_lists_them_in_a_table(
    live_server, browser_sign_in, page, audit, fits, creator
):
    job = ImportJob.objects.create(
        owner=creator,
        kind="csv",
        original_name="catalogue.csv",
        size=4000,
        status="done",
        total_rows=80,
        processed_rows=80,
        created_count=20,
        error_count=60,
    )
    ImportRowError.objects.bulk_create(
        ImportRowError(
            job=job,
            row=n + 2,
            column="isbn",
            message=f"“97803064061{n:02d}” is not a valid ISBN: its check digit is wrong.",
        )
        for n in range(60)
    )
    browser_sign_in(page, creator)
    page.goto(live_server.url + f"/works/imports/{job.pk}/")
    table = page.get_by_role("table", name=re.compile("The first 50 of 60 errors"))
    assert table.is_visible()
    assert table.locator("tbody tr").count() == 50
    first = table.locator("tbody tr").first.locator("td").all_inner_texts()
    assert first[:2] == ["2", "isbn"] and "check digit" in first[2]
    assert page.get_by_role("link", name="Download the error report").is_visible()
    assert page.get_by_text("uploaded and queued").count() == 0
    audit(page)
    fits(page, 390)
    fits(page, 1280)
    assert not page.console_errors, page.console_errors
