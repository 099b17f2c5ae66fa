"""Issue 19 in a real browser: a form with errors opens with "There is a problem", focused and
in view, its links jumping to the fields; a chosen file survives an error elsewhere; the
licence form's "From" date shows; the bulk apply's missing confirmation is said where it is
seen. axe-core on every page, and the pages fit a phone and a laptop."""

import re

from django.urls import reverse
from django.utils import timezone

from consent.models import Preference
from tests import factories
from tests.factories import PASSWORD
from tests.works import files
from works.models import Work

FOCUSED = "() => { const el = document.activeElement; return el ? (el.id || el.tagName) : null; }"
IN_VIEW = """el => { const box = el.getBoundingClientRect();
    return box.top >= -1 && box.bottom <= window.innerHeight + 1 && box.left >= -1
        && box.right <= window.innerWidth + 1; }"""


def test_a_chosen_file_is_kept_and_the_summary_leads_to_the_field(
    live_server, browser_sign_in, page, audit, fits, creator, tmp_path
):
    pdf = files.make_pdf(tmp_path / "tide-tables.pdf")
    browser_sign_in(page, creator)
    page.goto(live_server.url + reverse("works:create"))
    audit(page)
    page.get_by_label(re.compile("^kind", re.I)).select_option("book")
    page.get_by_label(re.compile("^web addresses", re.I)).fill("https://ok.example/\nftp://no")
    page.get_by_label(re.compile("^file", re.I)).set_input_files(str(pdf))
    page.get_by_role("button", name="Register the work").click()  # no title
    # The file goes up with upload.js (XMLHttpRequest): the page is replaced, not navigated.
    summary = page.get_by_role("alert").filter(has_text="There is a problem")
    summary.wait_for()
    assert summary.is_visible()
    assert page.evaluate(FOCUSED) == "error-summary"  # focus is on the summary
    assert summary.evaluate(IN_VIEW)
    kept = page.locator("#id_file_kept")
    assert re.fullmatch(
        r"Kept: tide-tables\.pdf \(.+\) — choose another to replace it\.", kept.inner_text()
    )
    audit(page)
    fits(page, 1280)
    fits(page, 390)

    # The link jumps to the web addresses field and focuses it.
    page.get_by_role("link", name=re.compile("^Web addresses: Line 2")).click()
    assert page.evaluate(FOCUSED) == "id_url"
    assert page.locator("#id_url").evaluate(IN_VIEW)
    page.locator("#id_url").fill("https://ok.example/")
    page.get_by_role("link", name=re.compile("^Title")).click()
    assert page.evaluate(FOCUSED) == "id_title"
    page.keyboard.type("Tide Tables")
    page.get_by_role("button", name="Register the work").click()  # the file is not chosen again
    page.wait_for_url(re.compile(r"/works/(?!new/)[^/]+/$"))
    audit(page)
    assert page.get_by_text("tide-tables.pdf").first.is_visible()
    work = Work.objects.get()
    assert work.title == "Tide Tables" and work.file.original_name == "tide-tables.pdf"
    assert not page.console_errors, page.console_errors


def test_a_possible_duplicate_is_linked_and_can_be_registered_anyway(
    live_server, browser_sign_in, page, audit, fits, creator
):
    existing = factories.WorkFactory(owner=creator, title="Tidewater", kind="book")
    factories.WorkIdentifierFactory(work=existing, scheme="isbn", value="9780306406157")
    browser_sign_in(page, creator)
    page.goto(live_server.url + reverse("works:create"))
    page.get_by_label(re.compile("^title", re.I)).fill("Tidewater, paperback")
    page.get_by_label(re.compile("^kind", re.I)).select_option("book")
    page.get_by_label(re.compile("^ISBN", re.I)).fill("0-306-40615-2")
    page.get_by_role("button", name="Register the work").first.click()
    page.wait_for_load_state()
    box = page.locator("#duplicates")
    assert page.evaluate(FOCUSED) == "duplicates" and box.evaluate(IN_VIEW)
    assert box.get_by_role("link", name="Tidewater").get_attribute("href") == (
        existing.get_absolute_url()
    )
    audit(page)
    fits(page, 390)
    box.get_by_label(re.compile("^Register anyway")).check()
    box.get_by_role("button", name="Register the work").click()
    page.wait_for_url(re.compile(r"/works/(?!new/)[^/]+/$"))
    assert Work.objects.filter(title="Tidewater, paperback").exists()
    audit(page)


def test_the_licence_forms_from_date_is_visible(
    live_server, browser_sign_in, page, audit, fits, creator
):
    factories.AIDeveloperFactory(name="Example AI Labs", slug="example-ai-labs")
    browser_sign_in(page, creator)
    page.goto(live_server.url + reverse("consent:grant-create"))
    if "reauthenticate" in page.url:  # allauth asks for the password again first
        page.get_by_label(re.compile("^password", re.I)).fill(PASSWORD)
        page.get_by_role(
            "button", name=re.compile("confirm|continue|re-?authenticate", re.I)
        ).click()
        page.wait_for_url(re.compile("/grants/new/"))
    starts = page.get_by_label("From", exact=True)
    assert starts.input_value() == timezone.localdate().isoformat()
    audit(page)
    fits(page, 1280)
    fits(page, 390)


def test_bulk_apply_without_the_box_says_so_in_view(
    live_server, browser_sign_in, page, audit, creator
):
    Work.objects.bulk_create(
        Work(owner=creator, title=f"Poem {i}", kind="poem") for i in range(2004)
    )
    browser_sign_in(page, creator)
    page.goto(
        live_server.url + reverse("consent:bulk") + "?scope=all&use=train-genai&choice=licence"
    )
    audit(page)
    page.get_by_role("button", name="Apply to 2004 works").click()
    page.wait_for_load_state()
    summary = page.locator("#confirm-errors")
    assert summary.is_visible()
    assert page.evaluate(FOCUSED) == "confirm-errors"
    assert summary.evaluate(IN_VIEW)  # seen without scrolling
    audit(page)
    page.get_by_role("link", name=re.compile("^Yes, make this change")).click()
    assert page.evaluate(FOCUSED) == "confirm_confirm"
    assert page.locator("#confirm_confirm").evaluate(IN_VIEW)
    assert not Preference.objects.exists()
