"""A creator's "Found in datasets" (docs/disclosures.md, "Found in datasets (creators)"): the
findings about their own works and sites in a disclosed dataset — matched by the real engine
from a real manifest — with the developer, the dataset and how it matched; confirming and
dismissing one (htmx swaps the row; without JavaScript the page comes back) or several at once;
a dismissal leaving the developer's exclusion list for that creator only; "Ask for removal"
drafting a request of exactly those works and that developer, with the matched rows as
evidence; the count on their dashboard; and who sees nothing."""

import csv
import io
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.storage import opened
from disclosures import creator as findings_side
from disclosures import matching, reports, services
from disclosures.creator import PAGE_SIZE
from disclosures.models import Disclosure, Finding
from removals import services as removal_services
from removals.models import RemovalRequest
from tests import factories
from tests.storage import download
from works.identifiers import normalise
from works.models import Work, WorkIdentifier
from works_registry import sites_services

LIST = reverse("findings:list")
SELECTED = reverse("findings:selected")
ALICE_ISBN = "9780306406157"
SHARED_ISBN = "9781861972712"  # claimed by both creators: a row with a finding for each
BOB_ISBN = "9780262033848"
BOB_SECRET_URL = "https://bob.example/unpublished-demo.mp3"
UNRELATED = "https://example.net/someone-else-entirely"


def _confirm(finding):
    return reverse("findings:confirm", args=[finding.pk])


def _dismiss(finding):
    return reverse("findings:dismiss", args=[finding.pk])


def manifest(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["url", "isbn", "title", "author"])
    writer.writerows(rows)
    return buffer.getvalue().encode()


def disclose(developer, rows, *, name="WebText-EU", version="2026-11", uses=None, summary=""):
    """A disclosure submitted as the developer would and matched by the real engine."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    fields = services.Fields(
        name=name,
        version=version,
        uses=uses or ["train-genai", "train-ai"],
        summary_url=summary,
    )
    disclosure, _ = services.disclosure_submit(
        actor=None,
        developer=developer,
        fields=fields,
        manifest=SimpleUploadedFile("manifest.csv", manifest(rows), content_type="text/csv"),
        via="api",
    )
    matching.disclosure_run(disclosure_id=disclosure.pk)
    disclosure.refresh_from_db()
    assert disclosure.state == Disclosure.State.DONE, disclosure.error
    return disclosure


def _work(owner, title, isbn=None):
    work = factories.WorkFactory(owner=owner, title=title)
    if isbn:
        WorkIdentifier.objects.create(work=work, scheme="isbn", value=normalise("isbn", isbn))
    return work


@pytest.fixture
def developer(db):
    return factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")


@pytest.fixture
def other_developer(db):
    return factories.AIDeveloperFactory(name="Other Models Inc", slug="other-models")


@pytest.fixture
def found(creator, other_creator, developer):
    """Alice's works by ISBN, by title and author, a shared ISBN, their verified site; Bob's work by
    ISBN and by an address; all found in one disclosure among an unrelated row."""
    works = {
        "isbn": _work(creator, "On Tides", ALICE_ISBN),
        "title": _work(creator, "The Quiet Harbour"),
        "shared": _work(creator, "Salt and Signal", SHARED_ISBN),
        "bob": _work(other_creator, "Bass Lines", BOB_ISBN),
        "bob_shared": _work(other_creator, "Salt & Signal (score)", SHARED_ISBN),
    }
    WorkIdentifier.objects.create(
        work=works["bob"], scheme="url", value=normalise("url", BOB_SECRET_URL)
    )
    site = sites_services.site_declare(actor=creator, address="https://alice.example/blog/")
    from django.db import transaction

    with transaction.atomic():
        site = sites_services.site_verify(site=site, method="file", now=timezone.now())
    rows = [
        [UNRELATED, "", "Some other book", "Someone"],  # row 1: nobody's
        ["", "978-0-306-40615-7", "", ""],  # row 2: Alice, ISBN
        ["", SHARED_ISBN, "", ""],  # row 3: Alice and Bob, the same ISBN
        ["", BOB_ISBN, "", ""],  # row 4: Bob
        ["", "", "the quiet harbour", "ALICE AUTHOR"],  # row 5: Alice, title + author (weak)
        ["https://alice.example/blog/2026/post.html", "", "", ""],  # row 6: Alice's site
        [BOB_SECRET_URL, "", "", ""],  # row 7: Bob, by address
    ]
    disclosure = disclose(developer, rows, summary="https://example-ai.example/training-summary")
    mine = {f.row: f for f in Finding.objects.filter(disclosure=disclosure, work__owner=creator)}
    mine[6] = Finding.objects.get(disclosure=disclosure, site=site)
    return {"disclosure": disclosure, "works": works, "site": site, "mine": mine}


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- The page -----------------------------------------------------------------------------------


def test_the_creator_sees_each_of_their_findings_with_the_developer_dataset_and_match(
    found, creator
):
    page = _signed_in(creator).get(LIST)
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert set(f.pk for f in page.context["page"]) == {f.pk for f in found["mine"].values()}
    assert sorted(f.row for f in page.context["page"]) == [2, 3, 5, 6]
    for text in (
        "Example AI Ltd",
        "WebText-EU",
        "version 2026-11",
        "Training generative AI",
        "On Tides",
        "The Quiet Harbour",
        "Salt and Signal",
        "https://alice.example/blog",
        "978-0-306-40615-7",
        "Title and author",
        "Weaker evidence",
        "Address under the creator&#x27;s verified site",
        "New",
    ):
        assert text in html, text
    # Nothing of the rest of the manifest: not Bob's works, rows or values, not the other rows.
    for text in ("Bass Lines", "Salt &amp; Signal (score)", BOB_ISBN, BOB_SECRET_URL, UNRELATED):
        assert text not in html, text
    assert "row 1<" not in html and "row 4<" not in html and "row 7<" not in html


def test_another_creator_sees_only_their_own_findings(found, other_creator):
    page = _signed_in(other_creator).get(LIST)
    html = page.content.decode()
    assert sorted(f.row for f in page.context["page"]) == [3, 4, 7]
    for text in ("On Tides", "The Quiet Harbour", "alice.example", "978-0-306-40615-7"):
        assert text not in html, text


def test_an_image_match_shows_its_distance_in_bits(creator, developer):
    work = _work(creator, "Pier at dusk")
    disclosure = factories_disclosure(developer)
    Finding.objects.create(
        disclosure=disclosure, row=12, work=work, kind="phash", value="c3a1f0e4d2b69587", distance=3
    )
    html = _signed_in(creator).get(LIST).content.decode()
    assert "Image (perceptual hash)" in html and "3 bits apart" in html


def factories_disclosure(developer, state=Disclosure.State.DONE, **fields) -> Disclosure:
    """A disclosure row without a manifest run (for findings written directly)."""
    values = {
        "name": "Crawl 2026",
        "version": "v1",
        "uses": ["train-ai"],
        "via": "api",
        "manifest_name": "m.csv",
        "manifest_sha256": f"{Disclosure.objects.count():064x}",
        "manifest_size": 10,
        "state": state,
    }
    values.update(fields)
    return Disclosure.objects.create(developer=developer, **values)


def test_findings_of_a_disclosure_not_done_are_neither_shown_nor_decided(creator, developer):
    work = _work(creator, "Half Matched")
    for state in (Disclosure.State.RUNNING, Disclosure.State.FAILED, Disclosure.State.CANCELLED):
        disclosure = factories_disclosure(developer, state=state, name=f"Set {state}")
        finding = Finding.objects.create(
            disclosure=disclosure, row=1, work=work, kind="isbn", value="x"
        )
        client = _signed_in(creator)
        assert "Half Matched" not in client.get(LIST).content.decode()
        assert client.post(_confirm(finding)).status_code == HTTPStatus.NOT_FOUND
        assert client.post(SELECTED, {"action": "remove", "finding": [finding.pk]}).status_code == (
            HTTPStatus.NOT_FOUND
        )
        finding.refresh_from_db()
        assert finding.state == Finding.State.NEW
    assert not RemovalRequest.objects.exists()


def test_the_filters_narrow_by_developer_dataset_match_and_state(
    found, creator, other_creator, other_developer
):
    later = disclose(
        other_developer,
        [["", ALICE_ISBN, "", ""], ["", BOB_ISBN, "", ""]],
        name="Books3-redux",
        version="",
        uses=["ai-input"],
    )
    client = _signed_in(creator)

    def rows(**params):
        page = client.get(LIST, params)
        assert page.status_code == HTTPStatus.OK
        return sorted((f.disclosure_id, f.row) for f in page.context["page"])

    first = found["disclosure"].pk
    assert rows() == [(first, 2), (first, 3), (first, 5), (first, 6), (later.pk, 1)]
    assert rows(developer=other_developer.pk) == [(later.pk, 1)]
    assert rows(dataset=first) == [(first, 2), (first, 3), (first, 5), (first, 6)]
    assert rows(kind="title") == [(first, 5)]
    assert rows(kind="site") == [(first, 6)]
    found["mine"][3].state = Finding.State.DISMISSED
    found["mine"][3].save()
    assert rows(state="dismissed") == [(first, 3)]
    assert rows(state="new", developer=found["disclosure"].developer_id) == [
        (first, 2),
        (first, 5),
        (first, 6),
    ]
    # The choices name only datasets with the creator's findings; another value is ignored.
    page = client.get(LIST)
    choices = dict(page.context["filters"].fields["dataset"].choices)
    assert set(choices) == {"", first, later.pk}
    bobs_only = disclose(other_developer, [["", BOB_ISBN, "", ""]], name="Bob Only Set")
    page = client.get(LIST, {"dataset": bobs_only.pk})
    assert "Bob Only Set" not in page.content.decode()
    assert "Select a valid choice" in page.content.decode()
    assert len(page.context["page"].object_list) == 5


def test_the_page_holds_20_findings_and_pages_on(creator, developer):
    disclosure = factories_disclosure(developer)
    works = Work.objects.bulk_create(
        Work(owner=creator, title=f"Poem {n}", title_folded=f"poem {n}", kind="text")
        for n in range(120)
    )
    Finding.objects.bulk_create(
        Finding(disclosure=disclosure, row=n + 1, work=w, kind="isbn", value=f"v{n}")
        for n, w in enumerate(works)
    )
    client = _signed_in(creator)
    first = client.get(LIST)
    assert len(first.context["page"].object_list) == PAGE_SIZE == 20
    assert [f.row for f in first.context["page"]][:3] == [1, 2, 3]
    assert "120 findings" in first.content.decode()
    last = client.get(LIST, {"page": 6})
    assert [f.row for f in last.context["page"]] == list(range(101, 121))


def _many(owner, developer, n):
    disclosure = factories_disclosure(developer, name=f"Set of {n}")
    works = Work.objects.bulk_create(
        Work(owner=owner, title=f"Work {n}-{i}", title_folded=f"work {n} {i}", kind="text")
        for i in range(n)
    )
    Finding.objects.bulk_create(
        Finding(disclosure=disclosure, row=i + 1, work=w, kind="isbn", value=f"97800000{i:05d}")
        for i, w in enumerate(works)
    )


def test_the_page_costs_the_same_queries_at_10_and_at_1000_findings(
    creator, other_creator, developer, django_assert_max_num_queries
):
    _many(creator, developer, 10)
    _many(other_creator, developer, 1000)
    small, large = _signed_in(creator), _signed_in(other_creator)
    with CaptureQueriesContext(connection) as at_10:
        assert small.get(LIST).status_code == HTTPStatus.OK
    with CaptureQueriesContext(connection) as at_1000:
        page = large.get(LIST, {"state": "new"})
    assert page.context["page"].paginator.count == 1000
    assert len(at_10.captured_queries) == len(at_1000.captured_queries)
    with django_assert_max_num_queries(len(at_10.captured_queries)):
        large.get(LIST, {"page": 20})
    assert len(at_10.captured_queries) <= 12


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's query plan")
def test_the_counts_read_the_creators_findings_through_indexes(creator, other_creator, developer):
    """The page's and the dashboard's counts never scan the findings table, nor all the findings
    of a disclosure (other creators' rows, millions in a large manifest): they read the indexes
    of the creator's works and sites alone — by state too, for the new ones."""
    _many(creator, developer, 30)
    _many(other_creator, developer, 300)
    client = _signed_in(creator)

    def count_plan(url, params) -> str:
        with CaptureQueriesContext(connection) as captured:
            client.get(url, params)
        [sql] = [
            q["sql"]
            for q in captured.captured_queries
            if q["sql"].startswith("SELECT COUNT(*)") and "disclosures_finding" in q["sql"]
        ]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return " | ".join(str(row[-1]) for row in cursor.fetchall())

    every = count_plan(LIST, {})
    assert "SCAN disclosures_finding" not in every, every
    assert "disclosures_finding USING COVERING INDEX finding_work (work_id=?)" in every, every
    assert "disclosures_finding USING COVERING INDEX finding_site (site_id=?)" in every, every
    assert "disclosure_id=?" not in every, every
    for plan in (count_plan(LIST, {"state": "new"}), count_plan(reverse("portal:dashboard"), {})):
        assert "SCAN disclosures_finding" not in plan, plan
        assert "COVERING INDEX finding_work (work_id=? AND state=?)" in plan, plan
        assert "COVERING INDEX finding_site (site_id=? AND state=?)" in plan, plan


# --- Confirm and dismiss ------------------------------------------------------------------------


def test_confirming_with_htmx_swaps_the_row_in_place(found, creator):
    finding = found["mine"][2]
    response = _signed_in(creator).post(_confirm(finding), HTTP_HX_REQUEST="true")
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li class="finding" id="finding-{finding.pk}"')
    assert "Confirmed." in html and "<html" not in html
    assert "It is my work" not in html and "Not my work" in html  # now it can only be dismissed
    finding.refresh_from_db()
    assert finding.state == Finding.State.CONFIRMED and finding.decided_at is not None
    audit = AuditEvent.objects.get(action="finding.confirm")
    assert (audit.actor, audit.object_id, audit.before, audit.after["state"]) == (
        creator,
        str(finding.pk),
        {"state": "new"},
        "confirmed",
    )


def test_dismissing_without_javascript_returns_to_the_filtered_page(found, creator):
    finding = found["mine"][5]
    back = f"{LIST}?kind=title&page=1"
    response = _signed_in(creator).post(_dismiss(finding), {"next": back}, follow=True)
    assert response.redirect_chain[0][0] == f"{back}#finding-{finding.pk}"
    assert "dismissed as not your work" in response.content.decode()
    finding.refresh_from_db()
    assert finding.state == Finding.State.DISMISSED
    # A "next" that leaves the page is not followed.
    response = _signed_in(creator).post(_confirm(finding), {"next": "https://evil.example/"})
    assert response.url == f"{LIST}#finding-{finding.pk}"


def test_a_dismissal_leaves_the_exclusion_list_for_that_creator_only(found, creator, other_creator):
    disclosure = found["disclosure"]

    def excluded():
        return sorted((e["row"], e["public_id"]) for e in reports.exclusions(disclosure))

    alice, bob = found["works"]["shared"], found["works"]["bob_shared"]
    before = excluded()
    assert (3, alice.public_id) in before and (3, bob.public_id) in before
    _signed_in(creator).post(_dismiss(found["mine"][3]))
    after = excluded()
    assert (3, alice.public_id) not in after
    assert (3, bob.public_id) in after  # Bob's finding on the same row stays
    assert set(before) - set(after) == {(3, alice.public_id)}
    assert reports.report(disclosure)["rows_matched"] == 6  # row 3 still matched (Bob's work)
    bobs = Finding.objects.get(disclosure=disclosure, row=3, work=bob)
    assert bobs.state == Finding.State.NEW and bobs.decided_at is None
    # Changing their mind puts it back.
    _signed_in(creator).post(_confirm(found["mine"][3]))
    assert excluded() == before


def test_several_ticked_findings_are_confirmed_or_dismissed_at_once(found, creator):
    client = _signed_in(creator)
    picked = [found["mine"][2].pk, found["mine"][5].pk]
    response = client.post(SELECTED, {"action": "confirm", "finding": picked}, follow=True)
    assert "2 findings confirmed." in response.content.decode()
    states = dict(Finding.objects.filter(pk__in=picked).values_list("pk", "state"))
    assert set(states.values()) == {"confirmed"}
    response = client.post(SELECTED, {"action": "dismiss", "finding": picked[:1]}, follow=True)
    assert "1 finding dismissed as not your work." in response.content.decode()
    assert Finding.objects.get(pk=picked[0]).state == "dismissed"
    assert AuditEvent.objects.filter(action__startswith="finding.").count() == 3


# --- Ask for removal ----------------------------------------------------------------------------


def test_ask_for_removal_drafts_a_request_of_exactly_those_works_and_that_developer(
    found, creator, developer
):
    mine = found["mine"]
    mine[3].state = Finding.State.CONFIRMED  # confirmed before: it stays confirmed
    mine[3].save()
    client = _signed_in(creator)
    picked = [mine[2].pk, mine[3].pk, mine[5].pk, mine[6].pk]  # two ISBNs, a title, a site
    response = client.post(SELECTED, {"action": "remove", "finding": picked})
    request = RemovalRequest.objects.get()
    assert response.url == reverse("removals:edit", args=[request.pk])
    works = found["works"]
    assert set(request.works.all()) == {works["isbn"], works["shared"], works["title"]}
    assert list(request.developers.all()) == [developer] and not request.all_developers
    assert (request.creator, request.status) == (creator, RemovalRequest.Status.DRAFT)
    assert request.asks == ["cease", "datasets", "models"]  # a dataset for training
    where = request.where_used
    for text in (
        "WebText-EU",
        "version 2026-11",
        "https://example-ai.example/training-summary",
        "row 2: ISBN: 978-0-306-40615-7",
        f"row 3: ISBN: {SHARED_ISBN}",
        "row 5: Title and author (weaker evidence): the quiet harbour — ALICE AUTHOR",
    ):
        assert text in where, text
    for text in ("row 1", "row 4", "row 6", "row 7", BOB_ISBN, "Bass Lines", UNRELATED):
        assert text not in where, text
    # Every finding used is confirmed; the site's is left as it was.
    states = dict(Finding.objects.filter(pk__in=picked).values_list("row", "state"))
    assert states == {2: "confirmed", 3: "confirmed", 5: "confirmed", 6: "new"}
    # The draft's page opens with the message, and the evidence file lists the matched rows.
    page = client.get(response.url)
    html = page.content.decode()
    assert "naming 3 works" in html and "about your sites left out" in html
    evidence = request.evidence.get()
    assert evidence.filename == "found-in-datasets-example-ai.txt"
    got = download(client, reverse("removals:evidence", args=[request.pk, evidence.pk]))
    rows = list(csv.DictReader(io.StringIO(got.body.decode("utf-8-sig"))))
    assert [(r["row"], r["match"], r["work"]) for r in rows] == [
        ("2", "isbn", "On Tides"),
        ("3", "isbn", "Salt and Signal"),
        ("5", "title", "The Quiet Harbour"),
    ]
    assert {r["dataset"] for r in rows} == {"WebText-EU"}
    # The existing request flow takes it from there.
    removal_services.request_submit(actor=creator, request=request, good_faith=True, accurate=True)
    request.refresh_from_db()
    assert request.status == RemovalRequest.Status.SUBMITTED


def test_findings_of_two_developers_make_no_request(found, creator, other_developer):
    other = disclose(other_developer, [["", ALICE_ISBN, "", ""]], name="Books3-redux")
    theirs = Finding.objects.get(disclosure=other)
    client = _signed_in(creator)
    response = client.post(
        SELECTED, {"action": "remove", "finding": [found["mine"][2].pk, theirs.pk]}, follow=True
    )
    html = response.content.decode()
    assert "come from 2 developers (Example AI Ltd, Other Models Inc)" in html
    assert "Nothing was changed." in html
    assert not RemovalRequest.objects.exists()
    assert set(Finding.objects.filter(work__owner=creator).values_list("state", flat=True)) == {
        "new"
    }


def test_a_removal_request_is_refused_for_sites_only_dismissed_or_archived(found, creator):
    client = _signed_in(creator)
    mine = found["mine"]

    def ask(*findings):
        response = client.post(
            SELECTED, {"action": "remove", "finding": [f.pk for f in findings]}, follow=True
        )
        return response.content.decode()

    assert "These findings are about your sites" in ask(mine[6])
    mine[2].state = Finding.State.DISMISSED
    mine[2].save()
    assert "You said 1 of these finding is not your work" not in ask(mine[2], mine[3])
    assert "You said 1 of these findings is not your work" in ask(mine[2], mine[3])
    Work.objects.filter(pk=found["works"]["title"].pk).update(status=Work.Status.ARCHIVED)
    assert "archived works cannot be named" in ask(mine[5])
    assert not RemovalRequest.objects.exists()
    # An archived work among active ones is left out, and the creator is told.
    html = ask(mine[3], mine[5])
    request = RemovalRequest.objects.get()
    assert list(request.works.all()) == [found["works"]["shared"]]
    assert "Archived works left out: “The Quiet Harbour”" in html


def test_a_creator_out_of_storage_still_gets_the_draft_with_the_rows_named(
    found, creator, settings
):
    settings.WORKS_STORAGE_QUOTA = 0
    response = _signed_in(creator).post(
        SELECTED, {"action": "remove", "finding": [found["mine"][2].pk]}, follow=True
    )
    request = RemovalRequest.objects.get()
    assert not request.evidence.exists()
    assert "row 2: ISBN: 978-0-306-40615-7" in request.where_used
    assert "could not be attached as a file" in response.content.decode()


def test_many_rows_fit_the_request_and_every_one_is_in_the_evidence(creator, developer):
    disclosure = factories_disclosure(developer, name="Big Crawl")
    works = Work.objects.bulk_create(
        Work(owner=creator, title=f"Essay {n} " + "x" * 150, title_folded=f"essay {n}", kind="text")
        for n in range(200)
    )
    Finding.objects.bulk_create(
        Finding(
            disclosure=disclosure,
            row=n + 1,
            work=w,
            kind="url",
            value="https://a.example/" + "y" * 280,
        )
        for n, w in enumerate(works)
    )
    findings = findings_side.findings_by_ids(creator, [f.pk for f in Finding.objects.all()])
    drafted = findings_side.removal_draft_from_findings(actor=creator, findings=findings)
    assert drafted.works == 200
    request = drafted.request
    assert len(request.where_used) <= removal_services.TEXT_MAX
    assert "more rows: every matched row is in the attached file" in request.where_used
    with opened(request.evidence.get().file) as stored:
        lines = stored.read().decode("utf-8-sig").splitlines()
    assert len(lines) == 201


# --- The dashboard ------------------------------------------------------------------------------


def test_the_dashboard_counts_new_findings_and_links_to_them(
    found, creator, django_assert_max_num_queries
):
    client = _signed_in(creator)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("portal:dashboard"))
    html = page.content.decode()
    assert "4 new findings in datasets" in html
    assert f'href="{LIST}?state=new"' in html
    client.post(SELECTED, {"action": "confirm", "finding": [found["mine"][2].pk]})
    assert "3 new findings in datasets" in client.get(reverse("portal:dashboard")).content.decode()


# --- Who sees what, and bad input ---------------------------------------------------------------


def test_another_creator_gets_404_for_every_action_on_a_finding_not_theirs(found, other_creator):
    alice = found["mine"][2]
    client = _signed_in(other_creator)
    bobs = Finding.objects.get(disclosure=found["disclosure"], row=4)
    assert client.post(_confirm(alice)).status_code == HTTPStatus.NOT_FOUND
    assert client.post(_dismiss(alice)).status_code == HTTPStatus.NOT_FOUND
    for action in ("confirm", "dismiss", "remove"):
        response = client.post(SELECTED, {"action": action, "finding": [bobs.pk, alice.pk]})
        assert response.status_code == HTTPStatus.NOT_FOUND
    alice.refresh_from_db()
    bobs.refresh_from_db()
    assert (alice.state, bobs.state) == ("new", "new")
    assert not RemovalRequest.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="finding.").exists()


@pytest.mark.parametrize("who", ["guild_staff", "other_guild_staff", "charlie", "superuser"])
def test_staff_and_others_see_none_of_a_creators_findings(found, who, request):
    user = request.getfixturevalue(who)
    client = _signed_in(user)
    page = client.get(LIST)
    assert page.status_code == HTTPStatus.OK
    assert page.context["page"].paginator.count == 0
    html = page.content.decode()
    assert "On Tides" not in html and "WebText-EU" not in html
    assert client.post(_confirm(found["mine"][2])).status_code == HTTPStatus.NOT_FOUND
    response = client.post(SELECTED, {"action": "remove", "finding": [found["mine"][2].pk]})
    assert response.status_code == HTTPStatus.NOT_FOUND


def test_a_developers_people_see_none_of_a_creators_findings(found, developer):
    member = factories.DeveloperMemberFactory(developer=developer).user
    client = _signed_in(member)
    response = client.get(LIST)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("developer:home")
    assert client.post(_dismiss(found["mine"][2])).status_code == HTTPStatus.NOT_FOUND
    response = client.post(SELECTED, {"action": "dismiss", "finding": [found["mine"][2].pk]})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert Finding.objects.get(pk=found["mine"][2].pk).state == "new"


def test_anonymous_visitors_are_sent_to_sign_in(found):
    client = Client()
    finding = found["mine"][2]
    for method, url in (
        ("get", LIST),
        ("post", _confirm(finding)),
        ("post", _dismiss(finding)),
        ("post", SELECTED),
    ):
        response = getattr(client, method)(url)
        assert response.status_code == HTTPStatus.FOUND
        assert response.url.startswith(reverse("account_login"))
    assert Finding.objects.get(pk=finding.pk).state == "new"


def test_bad_selections_are_refused_with_a_message_and_change_nothing(found, creator):
    client = _signed_in(creator)
    mine = found["mine"][2]
    missing = Finding.objects.order_by("-pk").first().pk + 100
    assert client.post(_confirm(mine).replace(str(mine.pk), str(missing))).status_code == 404
    assert client.post(SELECTED, {"action": "confirm", "finding": [missing]}).status_code == 404
    assert client.post(SELECTED, {"action": "confirm", "finding": ["x1"]}).status_code == 404
    assert client.get(_confirm(mine)).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    response = client.post(SELECTED, {"action": "confirm"}, follow=True)
    assert "Tick the findings first: nothing was changed." in response.content.decode()
    response = client.post(SELECTED, {"action": "delete", "finding": [mine.pk]}, follow=True)
    assert "Choose what to do with the ticked findings." in response.content.decode()
    too_many = list(range(1, creator_selection_max() + 2))
    response = client.post(SELECTED, {"action": "confirm", "finding": too_many}, follow=True)
    assert "Choose at most 500 findings at once" in response.content.decode()
    assert Finding.objects.get(pk=mine.pk).state == "new"
    assert not AuditEvent.objects.filter(action__startswith="finding.").exists()


def creator_selection_max() -> int:
    return findings_side.SELECTION_MAX
