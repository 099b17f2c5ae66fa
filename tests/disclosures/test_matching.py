"""Matching a manifest against the registry: the planted rows — a work's address written
another way, its DOI and ISBN, an address under a creator's verified site, a re-encoded copy of
an image (its pHash), a title with its author — are found, and nothing else; the report and
the exclusion list follow each creator's decision for this developer; a hostile manifest fails
with its reason and leaves no finding; cancelling stops the run; a batch costs the same queries
for 10 rows as for 1,000."""

import csv
import gzip
import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from accounts.services import profile_names_sync
from consent import services as consent_services
from disclosures import matching, reports, services
from disclosures.models import Disclosure, Finding
from tests import factories
from tests.works import files
from works import fingerprints
from works import services as work_services
from works.identifiers import normalise
from works.models import WorkFile, WorkIdentifier
from works_registry import sites_services

USES = ["train-genai", "train-ai"]


def manifest_csv(rows, header=("url", "doi", "isbn", "phash", "title", "author")) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def submit(developer, content: bytes, name="manifest.csv", uses=USES, execute=True, capture=None):
    upload = SimpleUploadedFile(name, content, content_type="text/csv")
    fields = services.Fields(name="Common Crawl subset", version="2026-11", uses=list(uses))
    disclosure, created = services.disclosure_submit(
        actor=None, developer=developer, fields=fields, manifest=upload, via="api"
    )
    assert created
    return disclosure


def run(disclosure) -> Disclosure:
    matching.disclosure_run(disclosure_id=disclosure.pk)
    return Disclosure.objects.get(pk=disclosure.pk)


@pytest.fixture
def developer(db):
    return factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")


def _identified(owner, title, scheme, value):
    work = factories.WorkFactory(owner=owner, title=title)
    WorkIdentifier.objects.create(work=work, scheme=scheme, value=normalise(scheme, value))
    return work


@pytest.fixture
def planted(creator, other_creator, tmp_path, django_capture_on_commit_callbacks):
    """The registry: works of two creators under several identifiers, a verified site, an
    image; and the manifest rows that name each of them another way."""
    by_url = _identified(creator, "Harbour at dawn", "url", "https://ada.example/harbour")
    by_doi = _identified(creator, "On tides", "doi", "10.1000/tides.42")
    by_isbn = _identified(other_creator, "Salt and Signal", "isbn", "9780306406157")
    titled = factories.WorkFactory(owner=creator, title="L'Été à Ørsted")
    profile = creator.creator_profile
    profile.pseudonyms = "A. Lovelace\nAda B."
    profile.save()
    profile_names_sync(profile=profile)
    site = sites_services.site_declare(actor=creator, address="https://ada.example/blog/")
    with transaction.atomic():
        site = sites_services.site_verify(site=site, method="file", now=timezone.now())
    photo = files.make_jpeg(tmp_path / "pier.jpg", size=(1200, 800), seed=11)
    data = photo.read_bytes()
    upload = TemporaryUploadedFile("pier.jpg", "image/jpeg", len(data), None)
    upload.write(data)
    upload.seek(0)
    with django_capture_on_commit_callbacks(execute=True):
        pictured = work_services.work_create(
            owner=creator, title="Pier", kind="photograph", upload=upload
        )
    upload.close()  # as Django closes a request's uploads (the file was moved into storage)
    assert WorkFile.objects.get(work=pictured).status == WorkFile.Status.READY
    # The dataset holds a smaller, re-compressed copy of the photograph.
    copy = io.BytesIO()
    with Image.open(photo) as image:
        image.resize((600, 400)).save(copy, "JPEG", quality=60)
    copy_phash = fingerprints.image_phash(copy, max_pixels=50_000_000)
    rows = [
        ["https://example.net/unrelated", "", "", "", "Some other book", "Someone"],
        # The address written another way (case, port, tracking, fragment): as the lookup reads it
        ["HTTPS://ADA.example:443/harbour?utm_source=feed#top", "", "", "", "", ""],
        ["", "https://doi.org/10.1000/TIDES.42", "", "", "", ""],
        ["", "", "978-0-306-40615-7", "", "", ""],
        ["https://ada.example/blog/2024/05/post.html", "", "", "", "", ""],  # under the site
        ["", "", "", f"{copy_phash:016x}", "", ""],
        ["", "", "", "", "L’ete a Orsted!", "a. lovelace"],  # title + a pseudonym
        ["", "", "", "", "L'Été à Ørsted", "Somebody Else"],  # the title, another author
        ["", "not-a-doi", "123", "zz", "", ""],  # malformed cells match nothing
        ['=HYPERLINK("http://evil")', "", "", "", "", ""],
    ]
    return {
        "rows": rows,
        "works": {
            "url": by_url,
            "doi": by_doi,
            "isbn": by_isbn,
            "title": titled,
            "phash": pictured,
        },
        "site": site,
    }


def test_the_planted_rows_are_found_and_nothing_else(planted, developer):
    disclosure = run(submit(developer, manifest_csv(planted["rows"])))

    assert disclosure.state == Disclosure.State.DONE, disclosure.error
    assert disclosure.rows_read == 10
    found = {
        (f.row, f.kind, f.work_id or f.site_id, f.weak)
        for f in Finding.objects.filter(disclosure=disclosure)
    }
    works, site = planted["works"], planted["site"]
    assert found == {
        (2, "url", works["url"].pk, False),
        (3, "doi", works["doi"].pk, False),
        (4, "isbn", works["isbn"].pk, False),
        (5, "site", site.pk, False),
        (6, "phash", works["phash"].pk, False),
        (7, "title", works["title"].pk, True),
    }
    assert disclosure.rows_matched == 6 and disclosure.findings_count == 6
    row_2 = Finding.objects.get(disclosure=disclosure, row=2)
    assert row_2.value == "HTTPS://ADA.example:443/harbour?utm_source=feed#top"  # as written
    assert set(disclosure.columns) == {"url", "doi", "isbn", "phash", "title", "author"}


def test_the_report_and_exclusion_list_follow_each_creators_decision(
    planted, developer, creator, other_creator
):
    works = planted["works"]
    # Every AI use denied by default; one work freely allowed for both uses; one licensed only.
    consent_services.override_set(
        actor=creator, work=works["doi"], choices={"train-genai": "allow", "train-ai": "allow"}
    )
    consent_services.override_set(
        actor=other_creator,
        work=works["isbn"],
        choices={"train-genai": "licence", "train-ai": "licence"},
    )
    disclosure = run(submit(developer, manifest_csv(planted["rows"])))

    assert reports.report(disclosure) == {
        "rows_read": 10,
        "rows_total": None,
        "rows_matched": 6,
        "rows_denied": 4,  # url, site, phash, title
        "rows_licence_only": 1,  # isbn
        "rows_allowed": 1,  # doi
        "rows_to_exclude": 5,
    }
    listed = {
        (e["row"], e["public_id"], e["decision"], e["weak"]) for e in reports.exclusions(disclosure)
    }
    assert listed == {
        (2, works["url"].public_id, "denied", False),
        (4, works["isbn"].public_id, "licence", False),
        (5, planted["site"].public_id, "denied", False),
        (6, works["phash"].public_id, "denied", False),
        (7, works["title"].public_id, "denied", True),
    }

    # The creator licenses this developer: that work leaves the list at the next read.
    consent_services.grant_create(
        actor=other_creator,
        owner=other_creator,
        developer=developer,
        uses=USES,
        licence_ref="L-2026-7",
        starts_on=date(2026, 1, 1),
        works=[works["isbn"]],
    )
    assert 4 not in {e["row"] for e in reports.exclusions(disclosure)}
    assert reports.report(disclosure)["rows_allowed"] == 2

    # A finding the creator dismissed ("not my work") counts nowhere.
    Finding.objects.filter(disclosure=disclosure, row=7).update(state=Finding.State.DISMISSED)
    assert 7 not in {e["row"] for e in reports.exclusions(disclosure)}
    assert reports.report(disclosure)["rows_matched"] == 5


def test_a_resumed_run_finds_the_same_and_nothing_twice(planted, developer, settings):
    settings.DISCLOSURE_BATCH_ROWS = 3
    disclosure = submit(developer, manifest_csv(planted["rows"]))
    # A first worker matches one batch, then dies holding the lease.
    token = matching.claim(disclosure.pk)
    from disclosures.manifests import manifest_open

    with manifest_open(disclosure.manifest) as manifest:
        first = next(matching._batches(manifest.rows(), 3))
    matching._write_batch(disclosure.pk, token, first)
    Disclosure.objects.filter(pk=disclosure.pk).update(lease_until=timezone.now())
    # Its batch is written; the next worker goes on from row 4 once the lease has ended.
    assert Disclosure.objects.get(pk=disclosure.pk).rows_read == 3
    resumed = run(disclosure)

    assert resumed.state == Disclosure.State.DONE and resumed.attempts == 2
    assert resumed.findings_count == 6
    assert Finding.objects.filter(disclosure=resumed).count() == 6


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"colour,shape\nred,round\n", "none of the columns"),
        (
            gzip.compress(manifest_csv([["https://ada.example/harbour"]] * 50, ("url",)))[:-20],
            "gzip",
        ),
    ],
)
def test_a_hostile_manifest_fails_with_its_reason_and_leaves_no_finding(
    planted, developer, content, message
):
    disclosure = run(submit(developer, content))

    assert disclosure.state == Disclosure.State.FAILED
    assert message in disclosure.error
    assert not Finding.objects.filter(disclosure=disclosure).exists()


def test_a_manifest_over_the_row_limit_is_stopped_and_shows_no_finding(
    planted, developer, settings
):
    settings.DISCLOSURE_MAX_ROWS = 5
    settings.DISCLOSURE_BATCH_ROWS = 2
    disclosure = run(submit(developer, manifest_csv(planted["rows"])))

    assert disclosure.state == Disclosure.State.FAILED
    assert "more than 5" in disclosure.error
    assert not Finding.objects.filter(disclosure=disclosure).exists()
    assert disclosure.rows_matched == 0


def test_cancelling_stops_the_run_at_its_next_batch(planted, developer, settings):
    settings.DISCLOSURE_BATCH_ROWS = 2
    disclosure = submit(developer, manifest_csv(planted["rows"]))
    token = matching.claim(disclosure.pk)
    services.disclosure_cancel(actor=None, disclosure=disclosure)
    with pytest.raises(matching.Cancelled):
        matching._write_batch(disclosure.pk, token, [])
    Disclosure.objects.filter(pk=disclosure.pk).update(lease_until=timezone.now())

    stopped = run(disclosure)

    assert stopped.state == Disclosure.State.CANCELLED


def test_a_queued_disclosure_cancelled_never_runs(planted, developer):
    disclosure = submit(developer, manifest_csv(planted["rows"]))
    services.disclosure_cancel(actor=None, disclosure=disclosure)

    assert matching.disclosure_run(disclosure_id=disclosure.pk) is None
    assert Disclosure.objects.get(pk=disclosure.pk).state == Disclosure.State.CANCELLED


def test_a_batch_costs_the_same_queries_for_10_rows_as_for_1000(
    planted, django_assert_max_num_queries
):
    from disclosures.manifests import Row

    def rows(n):
        return [
            Row(
                number=i,
                values={
                    "url": f"https://site{i}.example/x",
                    "doi": f"10.1000/x{i}",
                    "isbn": "9780306406157",
                    "title": f"T{i}",
                    "author": "A",
                },
            )
            for i in range(1, n + 1)
        ]

    with django_assert_max_num_queries(12) as small:
        matching.match_rows(rows(10))
    with django_assert_max_num_queries(len(small.captured_queries)):
        matching.match_rows(rows(1000))


def test_a_work_registered_later_is_found_by_the_daily_rematch(planted, developer, creator):
    disclosure = run(submit(developer, manifest_csv(planted["rows"])))
    before = set(Finding.objects.filter(disclosure=disclosure).values_list("row", "work_id"))
    # A day later a creator registers a work under the unrelated row's address.
    later = _identified(creator, "Some other book", "url", "https://example.net/unrelated")
    day_after = timezone.now() + timedelta(days=1, minutes=1)

    # The sweep queues it (tasks run at once in tests); the run adds only the new pair.
    assert matching.disclosures_rematch(now=day_after) == 1

    disclosure.refresh_from_db()
    assert disclosure.state == Disclosure.State.DONE
    after = set(Finding.objects.filter(disclosure=disclosure).values_list("row", "work_id"))
    assert after - before == {(1, later.pk)}
    assert disclosure.findings_count == 7
    # Nothing registered since: the next run reads nothing and adds nothing.
    assert matching.disclosure_rematch(disclosure_id=disclosure.pk, now=day_after) == 0
    assert matching.disclosures_rematch(now=day_after) == 0  # matched within the last day


def test_the_same_file_sent_again_after_a_failure_is_matched_again(planted, developer, settings):
    settings.DISCLOSURE_MAX_ROWS = 5
    content = manifest_csv(planted["rows"])
    failed = run(submit(developer, content))
    assert failed.state == Disclosure.State.FAILED
    settings.DISCLOSURE_MAX_ROWS = 1_000

    again, created = services.disclosure_submit(
        actor=None,
        developer=developer,
        fields=services.Fields(name="Common Crawl subset", uses=USES),
        manifest=SimpleUploadedFile("manifest.csv", content, content_type="text/csv"),
        via="api",
    )

    assert not created and again.pk == failed.pk
    assert again.state == Disclosure.State.QUEUED and again.error == ""
    assert run(again).state == Disclosure.State.DONE
    assert Finding.objects.filter(disclosure=again).count() == 6
