"""Disclosures in the browser (docs/disclosures.md, "Pages"): the developer's list, form and a
disclosure's page with its live progress, report and exclusion list downloads; the registry
manager's pages and the form recording a disclosure on a developer's behalf — with who may see
what."""

import csv
import io
import json
import re
import uuid
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from disclosures.models import Disclosure
from disclosures.views import duration_words, time_left
from tests import factories
from tests.disclosures.planted import DENIED_ISBN, FORMULA_TITLE, csv_bytes, manifest_file

LIST = reverse("disclosures:list")
CREATE = reverse("disclosures:create")


def _detail(pk):
    return reverse("disclosures:detail", args=[pk])


def _developer_urls(pk) -> dict[str, str]:
    return {
        "detail": _detail(pk),
        "progress": reverse("disclosures:progress", args=[pk]),
        "exclusions": reverse("disclosures:exclusions", args=[pk]) + "?format=csv",
    }


def _form(**overrides) -> dict:
    data = {
        "name": "WebText-EU",
        "version": "v3",
        "uses": ["train-ai"],
        "models": "Example-7B",
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        "summary_url": "https://example-ai.example/summary",
        "manifest": manifest_file(),
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def _disclosure(developer, **fields) -> Disclosure:
    defaults = {
        "name": "Crawl 2026",
        "uses": ["train-ai"],
        "via": "api",
        "manifest_name": "crawl.csv",
        "manifest_sha256": uuid.uuid4().hex * 2,
        "manifest_size": 1234,
    }
    return Disclosure.objects.create(developer=developer, **{**defaults, **fields})


def _body(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8-sig")


@pytest.fixture
def matched(member, developer, planted, django_capture_on_commit_callbacks):
    """The planted manifest disclosed from the dashboard and matched (eagerly)."""
    with django_capture_on_commit_callbacks(execute=True):
        response = member.post(CREATE, _form())
    assert response.status_code == HTTPStatus.FOUND, response.content[:1000]
    disclosure = Disclosure.objects.get(developer=developer)
    assert disclosure.state == "done", disclosure.error
    return disclosure


# --- The developer's pages -----------------------------------------------------------------------


def test_a_member_discloses_a_dataset_from_the_dashboard(member, developer, developer_key):
    page = member.get(CREATE)
    assert page.status_code == HTTPStatus.OK
    assert 'enctype="multipart/form-data"' in page.content.decode()

    response = member.post(CREATE, _form(uses=["train-ai", "search"]))

    disclosure = Disclosure.objects.get(developer=developer)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == _detail(disclosure.pk)
    assert disclosure.via == "dashboard" and disclosure.submitted_by == developer_key[2]
    assert disclosure.uses == ["train-ai", "search"] and disclosure.version == "v3"
    followed = member.get(response["Location"]).content.decode()
    assert "is kept and queued for matching" in followed
    assert "Waiting for the worker" in followed


def test_the_same_file_again_opens_the_disclosure_it_made(member, developer):
    first = member.post(CREATE, _form())
    again = member.post(CREATE, _form(name="Other"))

    assert again["Location"] == first["Location"]
    assert Disclosure.objects.filter(developer=developer).count() == 1
    assert "disclosed already" in member.get(again["Location"]).content.decode()


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"name": None}, "name", "Name the dataset."),
        ({"uses": None}, "uses", "at least one"),
        ({"uses": ["train-ai", "mining"]}, "uses", "mining is not one of the uses"),
        ({"period_end": "2025-12-31"}, "period_end", "The period ends before it starts."),
        ({"manifest": None}, "manifest", "Choose the manifest file."),
        ({"manifest": manifest_file(b"")}, "manifest", "The manifest is empty."),
    ],
)
def test_bad_input_is_shown_beside_its_field_and_nothing_is_kept(member, overrides, field, message):
    response = member.post(CREATE, _form(**overrides))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    assert message in page
    assert f'id="id_{field}_error"' in page  # the error, tied to its field
    assert re.search(f'aria-describedby="[^"]*id_{field}_error', page)
    assert "<title>Error:" in page
    assert not Disclosure.objects.exists()


def test_a_manifest_over_the_limit_is_refused_while_it_streams(member, settings):
    settings.DISCLOSURE_MAX_MANIFEST_BYTES = 100_000
    big = csv_bytes([["url"]] + [[f"https://example.com/{i:08d}"] for i in range(5_000)])

    response = member.post(CREATE, _form(manifest=manifest_file(big)))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "The manifest is too large: the limit is 97.7\xa0KB." in response.content.decode()
    assert not Disclosure.objects.exists()


def test_html_in_the_name_is_shown_as_text(member, developer):
    disclosure = _disclosure(developer, name="<script>alert(1)</script>")

    for url in (LIST, _detail(disclosure.pk)):
        page = member.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_list_shows_the_organisations_disclosures_only(member, developer, other_developer):
    _disclosure(developer, name="Ours", state="running", rows_read=2500, rows_matched=7)
    _disclosure(other_developer, name="Theirs")

    page = member.get(LIST).content.decode()

    assert "Ours" in page and "Theirs" not in page
    assert "2,500" in page and "Matching" in page


def test_a_matched_disclosure_shows_its_report_and_both_downloads(member, matched, planted):
    page = member.get(_detail(matched.pk)).content.decode()

    assert "Compliance report" in page
    assert "hx-get" not in page  # finished: no more polling
    for label, count in (("Rows matched", 4), ("Not allowed", 2), ("Only under licence", 1)):
        assert f"<dt>{label}</dt><dd>{count}</dd>" in page, label
    assert "<dt>Allowed</dt><dd>1</dd>" in page
    assert '<figure class="report-chart">' in page and "Not allowed: 2 (50.0%)" in page
    assert "3 rows</strong> to take out" in page
    assert "<code>caption</code>" in page  # the ignored column

    csv_link = reverse("disclosures:exclusions", args=[matched.pk]) + "?format=csv"
    jsonl_link = reverse("disclosures:exclusions", args=[matched.pk]) + "?format=jsonl"
    assert csv_link in page and jsonl_link in page
    rows = list(csv.reader(io.StringIO(_body(member.get(csv_link)))))
    assert [row[0] for row in rows] == ["row", "1", "4", "5"]
    assert rows[1][1] == DENIED_ISBN and rows[1][6] == planted["denied"].public_id
    assert rows[3][1].startswith("'" + FORMULA_TITLE)
    lines = [json.loads(line) for line in _body(member.get(jsonl_link)).splitlines()]
    assert [line["public_id"] for line in lines] == [
        planted["denied"].public_id,
        planted["licence"].public_id,
        planted["formula"].public_id,
    ]
    assert planted["allowed"].public_id not in _body(member.get(csv_link))


def test_a_running_disclosure_shows_its_progress_and_polls(member, developer):
    disclosure = _disclosure(
        developer,
        state="running",
        rows_read=250_000,
        rows_total=1_000_000,
        rows_matched=1_234,
        started_at=timezone.now() - timedelta(seconds=60),
    )

    page = member.get(_detail(disclosure.pk)).content.decode()
    panel = member.get(reverse("disclosures:progress", args=[disclosure.pk])).content.decode()

    for html in (page, panel):
        assert 'max="1000000" value="250000"' in html
        assert "250,000 of 1,000,000 rows (25%)" in html
        assert "<dd>1,234</dd>" in html
        assert "about 3 minutes" in html  # 750,000 rows left at 250,000 a minute
        assert f'hx-get="{reverse("disclosures:progress", args=[disclosure.pk])}"' in html
        assert "Cancel matching" in html
    assert "<h1>" not in panel  # the panel alone


def test_the_time_left_comes_from_the_pace_so_far():
    now = timezone.now()
    disclosure = Disclosure(
        state="running", rows_read=100, rows_total=1100, started_at=now - timedelta(seconds=10)
    )
    assert time_left(disclosure, now) == timedelta(seconds=100)
    disclosure.rows_total = None
    assert time_left(disclosure, now) is None
    assert duration_words(timedelta(seconds=20)) == "less than a minute"
    assert duration_words(timedelta(minutes=61)) == "about 1 hour"
    assert duration_words(timedelta(minutes=150)) == "about 2.5 hours"


def test_a_failed_disclosure_says_why_in_words(
    member, developer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        member.post(CREATE, _form(manifest=manifest_file(b"colour,size\nred,3\n")))
    disclosure = Disclosure.objects.get(developer=developer)

    page = member.get(_detail(disclosure.pk)).content.decode()

    assert disclosure.state == "failed" and disclosure.error
    assert "Matching stopped:" in page
    assert escape(disclosure.error) in page
    assert "Compliance report" not in page and "hx-get" not in page


def test_the_exclusion_list_waits_for_matching(member, developer):
    disclosure = _disclosure(developer, state="running")
    url = reverse("disclosures:exclusions", args=[disclosure.pk]) + "?format=csv"

    response = member.get(url)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == _detail(disclosure.pk)


def test_cancel_stops_matching(member, developer):
    disclosure = _disclosure(developer)
    cancel = reverse("disclosures:cancel", args=[disclosure.pk])

    assert member.get(cancel).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    response = member.post(cancel)

    assert response.status_code == HTTPStatus.FOUND
    disclosure.refresh_from_db()
    assert disclosure.state == "cancelled"
    assert "Matching is cancelled." in member.get(response["Location"]).content.decode()


def test_cancelling_needs_the_csrf_token(developer_key, developer):
    disclosure = _disclosure(developer)
    client = Client(enforce_csrf_checks=True)
    client.force_login(developer_key[2])

    response = client.post(reverse("disclosures:cancel", args=[disclosure.pk]))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Disclosure.objects.get(pk=disclosure.pk).state == "queued"


def test_the_form_needs_the_csrf_token(developer_key, developer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(developer_key[2])

    assert client.post(CREATE, _form()).status_code == HTTPStatus.FORBIDDEN
    assert not Disclosure.objects.exists()


def test_the_dashboard_links_to_the_disclosures(member):
    page = member.get(reverse("developer:home")).content.decode()
    assert LIST in page and CREATE in page


# --- Who sees what on the developer's pages ------------------------------------------------------


def test_anonymous_people_are_sent_to_sign_in(developer):
    disclosure = _disclosure(developer)
    client = Client()
    for url in (LIST, CREATE, *_developer_urls(disclosure.pk).values()):
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND, url
        assert response["Location"].startswith(reverse("account_login"))
    client.post(reverse("disclosures:cancel", args=[disclosure.pk]))
    client.post(CREATE, _form())
    assert Disclosure.objects.get().state == "queued"


@pytest.mark.parametrize("persona", ["creator", "guild_staff", "registry_manager", "charlie"])
def test_people_of_no_developer_get_404(request, persona, developer):
    disclosure = _disclosure(developer)
    client = Client()
    client.force_login(request.getfixturevalue(persona))

    for url in (LIST, CREATE, *_developer_urls(disclosure.pk).values()):
        assert client.get(url).status_code == HTTPStatus.NOT_FOUND, url
    assert client.post(reverse("disclosures:cancel", args=[disclosure.pk])).status_code == 404
    assert client.post(CREATE, _form()).status_code == HTTPStatus.NOT_FOUND
    assert Disclosure.objects.get().state == "queued"


def test_another_developers_disclosure_is_404_on_every_page(other_member, matched):
    for url in _developer_urls(matched.pk).values():
        assert other_member.get(url).status_code == HTTPStatus.NOT_FOUND, url
    cancel = reverse("disclosures:cancel", args=[matched.pk])
    assert other_member.post(cancel).status_code == HTTPStatus.NOT_FOUND
    assert matched.name not in other_member.get(LIST).content.decode()


# --- The registry's pages ------------------------------------------------------------------------


def _registry(name, developer, *args):
    return reverse(f"disclosures:registry-{name}", args=[developer.slug, *args])


@pytest.fixture
def manager(registry_manager):
    client = Client()
    client.force_login(registry_manager)
    return client


def test_a_registry_manager_records_a_disclosure_from_a_public_source(
    manager, registry_manager, developer, other_developer
):
    detail = manager.get(reverse("notices:developer-detail", args=[developer.slug]))
    assert _registry("create", developer) in detail.content.decode()
    form = manager.get(_registry("create", developer)).content.decode()
    assert f'<option value="{developer.slug}" selected>' in form

    response = manager.post(
        _registry("create", developer),
        _form(developer=other_developer.slug, source="https://other.example/datasets/card"),
    )

    disclosure = Disclosure.objects.get()
    assert disclosure.developer == other_developer
    assert disclosure.via == "registry" and disclosure.submitted_by == registry_manager
    assert disclosure.source == "https://other.example/datasets/card"
    assert response["Location"] == _registry("detail", other_developer, disclosure.pk)
    page = manager.get(response["Location"]).content.decode()
    assert "https://other.example/datasets/card" in page
    assert "Recorded by a registry manager" in page


def test_recording_needs_where_it_came_from(manager, developer):
    response = manager.post(_registry("create", developer), _form(developer=developer.slug))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Say where the manifest was published." in response.content.decode()
    assert not Disclosure.objects.exists()


def test_a_registry_manager_opens_any_developers_disclosures(manager, matched, developer):
    listing = manager.get(_registry("list", developer)).content.decode()
    assert matched.name in listing and _registry("detail", developer, matched.pk) in listing

    page = manager.get(_registry("detail", developer, matched.pk)).content.decode()
    assert "Compliance report" in page
    csv_url = _registry("exclusions", developer, matched.pk) + "?format=csv"
    assert csv_url in page
    assert _body(manager.get(csv_url)).startswith("row,value,match")


def test_a_disclosure_is_found_under_its_own_developer_only(manager, matched, other_developer):
    for name in ("detail", "progress", "exclusions"):
        assert manager.get(_registry(name, other_developer, matched.pk)).status_code == 404
    assert manager.post(_registry("cancel", other_developer, matched.pk)).status_code == 404


@pytest.mark.parametrize("persona", ["creator", "guild_staff", "charlie"])
def test_people_who_do_not_manage_the_registry_get_403(request, persona, developer):
    disclosure = _disclosure(developer)
    client = Client()
    client.force_login(request.getfixturevalue(persona))

    for name, args in (("list", ()), ("create", ()), ("detail", (disclosure.pk,))):
        assert client.get(_registry(name, developer, *args)).status_code == 403, name
    response = client.post(
        _registry("create", developer), _form(developer=developer.slug, source="x")
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert client.post(_registry("cancel", developer, disclosure.pk)).status_code == 403
    assert Disclosure.objects.count() == 1
    page = client.get(reverse("notices:developer-detail", args=[developer.slug]))
    assert _registry("create", developer) not in page.content.decode()


def test_a_developers_own_people_get_403_on_the_registry_side(member, developer):
    assert member.get(_registry("list", developer)).status_code == HTTPStatus.FORBIDDEN


def test_anonymous_people_are_sent_to_sign_in_on_the_registry_side(db, developer):
    response = Client().get(_registry("create", developer))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_login"))


# --- Queries ------------------------------------------------------------------------------------


def test_the_list_costs_the_same_whatever_its_length(
    member, developer, django_assert_max_num_queries
):
    for i in range(3):
        _disclosure(developer, name=f"D{i}", manifest_sha256=f"{i:064x}")
    with django_assert_max_num_queries(8) as few:
        member.get(LIST)
    baseline = len(few.captured_queries)
    for i in range(3, 25):
        _disclosure(developer, name=f"D{i}", manifest_sha256=f"{i:064x}")
    with django_assert_max_num_queries(baseline):
        assert member.get(LIST).content.decode().count("<tr>") == 26


def test_the_detail_page_costs_the_same_whatever_the_findings(
    member, matched, creator, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with django_assert_max_num_queries(16) as few:
        member.get(_detail(matched.pk))
    baseline = len(few.captured_queries)  # read now: the next request empties the log
    isbns = ["9780131103627", "9780201633610", "9780596007126", "9781449355739"]
    for number, isbn in enumerate(isbns):
        work = factories.WorkFactory(owner=creator, title=f"More {number}")
        work.identifiers.create(scheme="isbn", value=isbn)
    rows = [["isbn"]] + [[isbn] for isbn in isbns] + [[DENIED_ISBN]]
    with django_capture_on_commit_callbacks(execute=True):
        member.post(CREATE, _form(manifest=manifest_file(csv_bytes(rows))))
    bigger = Disclosure.objects.exclude(pk=matched.pk).get()
    assert bigger.findings_count == 5

    with django_assert_max_num_queries(baseline):
        page = member.get(_detail(bigger.pk)).content.decode()
    assert "<dt>Rows matched</dt><dd>5</dd>" in page
