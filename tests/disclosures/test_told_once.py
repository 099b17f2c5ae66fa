"""Told once: when matching of a disclosure ends, each creator with findings in it gets one
email — the developer, the dataset, how many of their works, the strongest matches (addresses
and identifiers before an image before a title with its author) and a link to their findings —
never one per work, never twice; a later re-match that adds findings sends one more naming only
the new ones; nothing is sent for a failed or cancelled run, nor from inside the matching
transaction; a run whose telling was lost is told by the sweep."""

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import OutboundEmail
from disclosures import matching, notify, services
from disclosures.models import Announcement, Disclosure, Finding
from tests import factories
from tests.works import files
from works import fingerprints
from works import services as work_services
from works.identifiers import normalise
from works.models import WorkFile, WorkIdentifier

HEADER = ("url", "isbn", "phash", "title", "author")


def manifest(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode()


def submit(developer, content: bytes, name="Common Crawl subset") -> Disclosure:
    upload = SimpleUploadedFile("manifest.csv", content, content_type="text/csv")
    fields = services.Fields(name=name, version="2026-11", uses=["train-genai"])
    disclosure, created = services.disclosure_submit(
        actor=None, developer=developer, fields=fields, manifest=upload, via="api"
    )
    assert created
    return disclosure


def identified(owner, title, scheme, value):
    work = factories.WorkFactory(owner=owner, title=title)
    WorkIdentifier.objects.create(work=work, scheme=scheme, value=normalise(scheme, value))
    return work


@pytest.fixture
def developer(db):
    return factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Match a disclosure as the worker does, then let its transaction's after-commit work
    (telling the creators, waking the mail worker: eager here) happen."""

    def _run(disclosure):
        with django_capture_on_commit_callbacks(execute=True):
            matching.disclosure_run(disclosure_id=disclosure.pk)
        return Disclosure.objects.get(pk=disclosure.pk)

    return _run


@pytest.fixture
def photograph(creator, tmp_path, django_capture_on_commit_callbacks):
    """A photograph of the creator's, processed (its pHash known); and the pHash of a smaller,
    re-compressed copy of it, as a dataset would hold."""
    photo = files.make_jpeg(tmp_path / "pier.jpg", size=(1200, 800), seed=11)
    data = photo.read_bytes()
    upload = TemporaryUploadedFile("pier.jpg", "image/jpeg", len(data), None)
    upload.write(data)
    upload.seek(0)
    with django_capture_on_commit_callbacks(execute=True):
        work = work_services.work_create(
            owner=creator, title="Pier at Night", kind="photograph", upload=upload
        )
    upload.close()
    assert WorkFile.objects.get(work=work).status == WorkFile.Status.READY
    copy = io.BytesIO()
    with Image.open(photo) as image:
        image.resize((600, 400)).save(copy, "JPEG", quality=60)
    return work, f"{fingerprints.image_phash(copy, max_pixels=50_000_000):016x}"


@pytest.fixture
def found(creator, other_creator, photograph):
    """Seven works of the creator and one of the other creator, and the manifest rows naming
    them: the creator's by title and author (first in the file), by pHash, by ISBN twice (two
    rows, one work), by address and by three more ISBNs; the other creator's by ISBN."""
    photo, copy_phash = photograph
    creator.creator_profile.credit_name = "Alice Author"
    creator.creator_profile.save()
    from accounts.services import profile_names_sync

    profile_names_sync(profile=creator.creator_profile)
    titled = factories.WorkFactory(owner=creator, title="The Long Shore")
    isbn = identified(creator, "Salt and Signal", "isbn", "9780306406157")
    url = identified(creator, "Harbour at Dawn", "url", "https://alice.example/harbour")
    extra = [
        identified(creator, f"Book {n}", "isbn", value)
        for n, value in enumerate(["9781861972712", "9780262033848", "9783161484100"], 1)
    ]
    bobs = identified(other_creator, "Bass Lines", "isbn", "9780131103627")
    rows = [
        ["", "", "", "The Long Shore", "Alice Author"],
        ["", "", copy_phash, "", ""],
        ["", "978-0-306-40615-7", "", "", ""],
        ["https://example.net/unrelated", "", "", "Unrelated", "Nobody"],
        ["", "9780306406157", "", "", ""],
        ["HTTPS://alice.example/harbour#top", "", "", "", ""],
        *[["", e.identifiers.get().value, "", "", ""] for e in extra],
        ["", "9780131103627", "", "", ""],
    ]
    return {
        "rows": rows,
        "title": titled,
        "phash": photo,
        "isbn": isbn,
        "url": url,
        "extra": extra,
        "bobs": bobs,
    }


def to(address):
    return [m for m in mail.outbox if m.to == [address]]


def text(message) -> str:
    return message.body


def test_each_creator_is_told_once_with_the_strongest_matches_first(
    found, developer, creator, other_creator, run, settings
):
    settings.SITE_URL = "https://portal.example"
    disclosure = run(submit(developer, manifest(found["rows"])))
    assert disclosure.state == Disclosure.State.DONE

    # One email each — the creator's seven works in eight rows make one email, not eight.
    assert len(to(creator.email)) == 1
    assert len(to(other_creator.email)) == 1
    assert len(mail.outbox) == 2
    message = to(creator.email)[0]
    assert message.subject.endswith(
        "Your works found in Example AI Ltd's dataset “Common Crawl subset 2026-11”"
    )
    body = text(message)
    assert "Seven of your works are in a dataset Example AI Ltd disclosed" in body
    assert "“Common Crawl subset”, version 2026-11, for training generative AI." in body
    assert "8 rows of its manifest name them" in body
    # The five strongest: identifiers and addresses, then the image, never the title match
    # (sixth by strength) — whatever order the rows came in.
    listed = [line for line in body.splitlines() if line.startswith("- ")]
    assert listed == [
        "- “Salt and Signal”: found by its ISBN",
        "- “Book 1”: found by its ISBN",
        "- “Book 2”: found by its ISBN",
        "- “Book 3”: found by its ISBN",
        "- “Harbour at Dawn”: found by its address",
    ]
    assert "and 2 more on the page." in body
    assert "Pier at Night" not in body and "The Long Shore" not in body
    assert "Bass Lines" not in body  # never another creator's work
    assert "https://portal.example/" in body
    html = message.alternatives[0][0]
    assert "Salt and Signal" in html and "Bass Lines" not in html

    bob = text(to(other_creator.email)[0])
    assert "One of your works is in a dataset Example AI Ltd disclosed" in bob
    assert "- “Bass Lines”: found by its ISBN" in bob
    assert "Salt and Signal" not in bob

    # Recorded: every finding points to the email that told of it.
    assert not Finding.objects.filter(disclosure=disclosure, announcement__isnull=True).exists()
    told = Announcement.objects.get(disclosure=disclosure, creator=creator)
    assert (told.works_count, told.findings_count) == (7, 8)
    assert told.message_id == OutboundEmail.objects.get(to=creator.email).message_id


def test_an_image_comes_before_a_title_match(creator, developer, photograph, run):
    photo, copy_phash = photograph
    factories.WorkFactory(owner=creator, title="The Long Shore")
    rows = [["", "", "", "The Long Shore", "Alice Author"], ["", "", copy_phash, "", ""]]
    run(submit(developer, manifest(rows)))

    listed = [line for line in text(to(creator.email)[0]).splitlines() if line.startswith("- ")]
    assert listed == [
        "- “Pier at Night”: found by a copy of the image (its perceptual hash)",
        "- “The Long Shore”: found by its title and your name (weaker evidence: please check)",
    ]


def test_the_link_opens_the_creators_findings_page(found, developer, creator, run, settings):
    from django.urls import reverse

    settings.SITE_URL = "https://portal.example"
    run(submit(developer, manifest(found["rows"])))
    wanted = reverse("findings:list")
    assert f"https://portal.example{wanted}" in text(to(creator.email)[0])


def test_telling_again_sends_nothing_more(found, developer, creator, run):
    disclosure = run(submit(developer, manifest(found["rows"])))
    assert len(mail.outbox) == 2

    # The sweep passes, a redelivered task calls it again: nothing is left to tell.
    later = timezone.now() + timedelta(hours=1)
    assert notify.findings_announce(disclosure_id=disclosure.pk) == 0
    assert notify.findings_announce_due(now=later) == 0
    assert len(mail.outbox) == 2
    assert OutboundEmail.objects.count() == 2


def test_nothing_is_queued_inside_the_matching_transaction(
    found, developer, creator, django_capture_on_commit_callbacks
):
    disclosure = submit(developer, manifest(found["rows"]))
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        matching.disclosure_run(disclosure_id=disclosure.pk)
    # Matching committed its findings and wrote no email: the telling waits for the commit.
    assert Finding.objects.filter(disclosure=disclosure).count() == 9
    assert not OutboundEmail.objects.exists()
    assert not Announcement.objects.exists()
    for callback in after_commit:
        callback()
    assert sorted(OutboundEmail.objects.values_list("to", flat=True)) == [
        "alice@example.org",
        "bob@example.org",
    ]


def test_a_telling_lost_after_commit_is_done_by_the_sweep(
    found, developer, creator, django_capture_on_commit_callbacks
):
    disclosure = submit(developer, manifest(found["rows"]))
    with django_capture_on_commit_callbacks(execute=False):
        matching.disclosure_run(disclosure_id=disclosure.pk)  # the process dies after commit
    assert notify.findings_announce_due() == 0  # a just-finished run is left to itself
    later = timezone.now() + notify.GRACE + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert notify.findings_announce_due(now=later) == 2
    assert len(to(creator.email)) == 1


@pytest.mark.parametrize("outcome", ["failed", "cancelled"])
def test_a_run_that_did_not_finish_tells_nobody(found, developer, run, outcome):
    rows = found["rows"]
    content = manifest(rows)
    if outcome == "failed":
        content += b"\xff\xfe not UTF-8\n"  # read to the end, then refused
    disclosure = submit(developer, content)
    if outcome == "cancelled":
        Disclosure.objects.filter(pk=disclosure.pk).update(cancel_requested=True)
    disclosure = run(disclosure)

    assert disclosure.state == outcome
    assert mail.outbox == []
    assert not Announcement.objects.exists()


def test_a_rematch_email_names_only_the_new_findings(
    found, developer, creator, other_creator, run, django_capture_on_commit_callbacks
):
    disclosure = run(submit(developer, manifest(found["rows"])))
    mail.outbox.clear()
    identified(creator, "Found Later", "url", "https://example.net/unrelated")
    day_after = timezone.now() + timedelta(days=1, minutes=1)

    with django_capture_on_commit_callbacks(execute=True):
        assert matching.disclosure_rematch(disclosure_id=disclosure.pk, now=day_after) == 1
    assert len(mail.outbox) == 1  # the other creator has nothing new: no email
    message = to(creator.email)[0]
    assert message.subject.endswith(
        "More of your works found in Example AI Ltd's dataset “Common Crawl subset 2026-11”"
    )
    body = text(message)
    assert "the portal found one more of your works in a dataset Example AI Ltd disclosed" in body
    listed = [line for line in body.splitlines() if line.startswith("- ")]
    assert listed == ["- “Found Later”: found by its address"]
    assert Announcement.objects.filter(disclosure=disclosure, creator=creator).count() == 2

    # Nothing registered since: the next re-match finds nothing and tells nobody.
    with django_capture_on_commit_callbacks(execute=True):
        assert matching.disclosure_rematch(disclosure_id=disclosure.pk, now=day_after) == 0
    assert len(mail.outbox) == 1


def test_a_deactivated_account_gets_no_email(found, developer, creator, other_creator, run):
    type(creator).objects.filter(pk=creator.pk).update(is_active=False)
    disclosure = run(submit(developer, manifest(found["rows"])))

    assert to(creator.email) == []
    assert len(to(other_creator.email)) == 1
    told = Announcement.objects.get(disclosure=disclosure, creator=creator)
    assert told.message_id == ""  # recorded as handled: not told later either
