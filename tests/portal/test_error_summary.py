"""Issue 19: a form that comes back with errors opens with "There is a problem" — one link per
error to its field, the box focusable (static/js/forms.js focuses it) — and each field in error
says so (aria-invalid) and points at its message (aria-describedby). The same box on every form
a creator fills in: register and edit a work, grant a licence, bulk apply, a removal draft, the
profile."""

import re
from datetime import date
from http import HTTPStatus

import pytest
from django.urls import reverse

from consent.models import LicenceGrant, Preference
from removals import services as removals
from tests import factories
from tests.htmltree import parse
from works.models import Work


def summary(response):
    """The error summary of a page: (its element, [(link target, text)])."""
    soup = parse(response.content)
    box = soup.find(data_error_summary=True)
    assert box is not None, "no error summary on the page"
    assert box["role"] == "alert" and box["tabindex"] == "-1"
    links = [(a["href"], a.text()) for a in box.find_all("a")]
    return soup, box, links


def assert_field_in_error(soup, field_id):
    field = soup.by_id(field_id)
    assert field is not None, f"no element #{field_id}"
    assert field.get("aria-invalid") == "true"
    described = field.get("aria-describedby", "").split()
    assert f"{field_id}_error" in described
    assert soup.by_id(f"{field_id}_error") is not None


def test_register_a_work_sums_up_every_error_with_links_to_the_fields(client, creator):
    client.force_login(creator)
    response = client.post(
        reverse("works:create"), {"title": " ", "kind": "", "isbn": "978-0-306-40615-8"}
    )
    assert response.status_code == HTTPStatus.OK
    soup, box, links = summary(response)
    assert box.find("h2").text() == "There is a problem"
    targets = [href for href, _ in links]
    assert targets == ["#id_title", "#id_kind", "#id_isbn"]
    assert "check digit" in links[2][1]
    for field_id in ["id_title", "id_kind", "id_isbn"]:
        assert_field_in_error(soup, field_id)
    # The box comes first in the form, before any field.
    form = soup.find("form", class_="work-form")
    first = next(el for el in form.iter() if el is box or "field" in el.get("class", "").split())
    assert first is box
    assert not Work.objects.exists()


def test_a_page_without_errors_has_no_summary(client, creator):
    client.force_login(creator)
    page = client.get(reverse("works:create")).content.decode()
    assert "data-error-summary" not in page
    # The script that focuses the box is on every page, from a file (no inline script: CSP).
    assert re.search(r'<script src="[^"]*/js/forms\.js" defer>', page)


def test_edit_a_work_sums_up_its_errors(client, creator):
    work = factories.WorkFactory(owner=creator, title="Tidewater")
    client.force_login(creator)
    response = client.post(
        reverse("works:edit", args=[work.public_id]), {"title": "Tidewater", "kind": "nope"}
    )
    soup, _, links = summary(response)
    assert [href for href, _ in links] == ["#id_kind"]
    assert_field_in_error(soup, "id_kind")


def test_grant_a_licence_sums_up_its_errors_and_links_a_radio_group(client, sign_in, creator):
    labs = factories.AIDeveloperFactory(name="Example AI Labs", slug="example-ai-labs")
    sign_in(creator)
    response = client.post(
        reverse("consent:grant-create"),
        {
            "developer": labs.pk,
            "scope": "kind",
            "licence_ref": "",
            "starts_on": "2027-02-01",
            "ends_on": "2027-01-01",
        },
    )
    assert response.status_code == HTTPStatus.OK
    soup, _, links = summary(response)
    targets = [href for href, _ in links]
    # A group of boxes links to its first box; every other field to itself.
    assert targets == ["#id_uses_0", "#id_kind", "#id_licence_ref", "#id_ends_on"]
    assert soup.by_id("id_uses_0") is not None
    assert_field_in_error(soup, "id_licence_ref")
    assert not LicenceGrant.objects.exists()
    # What was typed is kept, the dates in the form a date field takes.
    assert soup.by_id("id_starts_on")["value"] == "2027-02-01"
    assert soup.by_id("id_ends_on")["value"] == "2027-01-01"


def test_the_licence_forms_from_date_shows_today(client, sign_in, creator):
    sign_in(creator)
    soup = parse(client.get(reverse("consent:grant-create")).content)
    starts = soup.by_id("id_starts_on")
    assert starts["type"] == "date"
    assert date.fromisoformat(starts["value"])  # yyyy-mm-dd, not 07/12/2026


def test_bulk_apply_without_the_box_says_so_at_the_top_and_changes_nothing(client, creator):
    Work.objects.bulk_create(Work(owner=creator, title=f"Poem {i}", kind="poem") for i in range(3))
    client.force_login(creator)
    response = client.post(
        reverse("consent:bulk"), {"scope": "all", "use": "train-genai", "choice": "licence"}
    )
    soup, box, links = summary(response)
    assert box.find("h2").text() == "Nothing was changed"
    assert [href for href, _ in links] == ["#confirm_confirm"]
    assert links[0][1].startswith("Yes, make this change to these works:")
    # At the top: before the first step's heading, not below the preview.
    order = [el["id"] for el in soup.find_all(id=True)]
    assert order.index("confirm-errors") < order.index("choose-heading")
    assert_field_in_error(soup, "confirm_confirm")
    assert not Preference.objects.exists()


def test_a_removal_draft_sums_up_its_errors(client, creator):
    removal = removals.draft_create(actor=creator, creator=creator)
    client.force_login(creator)
    response = client.post(
        reverse("removals:edit", args=[removal.pk]),
        {"title": "x" * 201, "asks": ["nonsense"], "action": "save"},
    )
    soup, box, links = summary(response)
    assert box.find("h2").text() == "Nothing was changed: please check"
    assert [href for href, _ in links] == ["#id_title", "#id_asks"]
    assert soup.by_id("id_asks") is not None
    assert_field_in_error(soup, "id_title")


def test_the_profile_sums_up_its_errors(client, creator):
    client.force_login(creator)
    response = client.post(reverse("accounts:profile"), {"isni": "0000 0001 2103 2684"})
    soup, _, links = summary(response)
    assert [href for href, _ in links] == ["#id_isni"]
    assert_field_in_error(soup, "id_isni")


@pytest.mark.parametrize("name", ["works:create", "accounts:profile", "consent:bulk"])
def test_anonymous_visitors_are_sent_to_sign_in(client, db, name):
    response = client.post(reverse(name), {})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_login"))
