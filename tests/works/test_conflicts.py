"""Conflicts between two creators' works: detection of every kind of match through the real
services (and real images), routing, resolution, the block on later actions, and emails."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from accounts.models import AuditEvent
from tests import factories
from tests.works import files
from tests.works.conflicting import (  # noqa: F401 - fixtures
    copy_as,
    fellow_fixture,
    loner_fixture,
    register,
    second_wggb_staff_fixture,
    store_hashes,
    temp_upload,
)
from works import conflicts, services
from works.models import Conflict, Work, WorkFile

# --- Detection, one kind of match at a time ----------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "typed", "stored"),
    [
        ("isbn", "978-0-306-40615-7", "9780306406157"),
        ("isrc", "GB-AYE-06-01498", "GBAYE0601498"),
        ("iswc", "T-034.524.680-1", "T0345246801"),
        ("doi", "doi:10.1000/182", "10.1000/182"),
        ("url", "https://Alice.example/harbour", "https://alice.example/harbour"),
    ],
)
def test_a_shared_identifier_records_a_conflict(creator, other_creator, scheme, typed, stored):
    first = register(creator, "Mine", **{scheme: typed})
    second = register(other_creator, "Theirs", **{scheme: typed})

    conflict = Conflict.objects.get()
    assert (conflict.work_a, conflict.work_b) == (first, second)  # earlier registration first
    assert conflict.matches == [{"kind": scheme, "value": stored}]
    assert conflict.status == Conflict.Status.OPEN


def test_the_same_file_uploaded_by_two_creators_records_a_conflict(
    creator, other_creator, tmp_path
):
    pdf = files.make_pdf(tmp_path / "manuscript.pdf")
    first = register(creator, "Manuscript", upload_path=pdf)
    second = register(other_creator, "Also a manuscript", upload_path=copy_as(pdf, "b.pdf"))

    conflict = Conflict.objects.get()
    assert (conflict.work_a, conflict.work_b) == (first, second)
    assert conflict.matches == [{"kind": "sha256", "value": first.file.sha256}]


def test_attaching_the_same_file_later_records_a_conflict(creator, other_creator, tmp_path):
    pdf = files.make_pdf(tmp_path / "manuscript.pdf")
    register(creator, "Manuscript", upload_path=pdf)
    theirs = register(other_creator, "Later upload")
    assert not Conflict.objects.exists()

    upload = temp_upload(pdf)
    try:
        services.work_file_attach(actor=other_creator, work=theirs, upload=upload)
    finally:
        upload.close()

    assert Conflict.objects.get().matches[0]["kind"] == "sha256"


def _photo(path, picture, **options):
    return files.make_jpeg(path, image=picture, **options)


def test_a_resized_recompressed_copy_of_an_image_records_a_conflict(
    creator, other_creator, tmp_path, django_capture_on_commit_callbacks
):
    picture = files.natural_image((1200, 800), seed=4)
    original = _photo(tmp_path / "original.jpg", picture, quality=90)
    copy = _photo(
        tmp_path / "copy.jpg", picture.resize((600, 400), Image.Resampling.LANCZOS), quality=60
    )
    different = _photo(tmp_path / "other.jpg", files.natural_image((1200, 800), seed=104))

    with django_capture_on_commit_callbacks(execute=True):  # the worker's processing (eager)
        first = register(creator, "Harbour at dusk", kind="photograph", upload_path=original)
    with django_capture_on_commit_callbacks(execute=True):
        second = register(other_creator, "Dusk", kind="photograph", upload_path=copy)
    with django_capture_on_commit_callbacks(execute=True):
        register(
            factories.UserFactory(), "Something else", kind="photograph", upload_path=different
        )

    assert WorkFile.objects.filter(status=WorkFile.Status.READY).count() == 3
    conflict = Conflict.objects.get()  # the different picture matched nothing
    assert (conflict.work_a, conflict.work_b) == (first, second)
    [match] = conflict.matches
    assert match["kind"] == "phash" and 0 <= match["distance"] <= 4
    first.file.refresh_from_db()
    assert match["value"] == f"{first.file.phash & (2**64 - 1):016x}"


def test_processing_stores_the_hash_blocks(creator, tmp_path, django_capture_on_commit_callbacks):
    from works.fingerprints import to_unsigned64
    from works.models import phash_blocks

    with django_capture_on_commit_callbacks(execute=True):
        work = register(
            creator, "Pier", kind="photograph", upload_path=files.make_jpeg(tmp_path / "p.jpg")
        )
    work_file = WorkFile.objects.get(work=work)
    blocks = phash_blocks(to_unsigned64(work_file.phash))
    assert [getattr(work_file, f"phash_b{i}") for i in range(5)] == list(blocks)


def test_a_creators_own_works_never_conflict(creator, tmp_path):
    pdf = files.make_pdf(tmp_path / "manuscript.pdf")
    register(creator, "Hardback", isbn="9780306406157", upload_path=pdf)
    register(creator, "Paperback", isbn="9780306406157", upload_path=copy_as(pdf, "b.pdf"))

    assert not Conflict.objects.exists()


def test_editing_identifiers_adds_matches_to_the_one_conflict(creator, other_creator):
    mine = register(creator, "Mine", isbn="9780306406157")
    theirs = register(other_creator, "Theirs", isbn="9780306406157")

    services.work_update(
        actor=other_creator,
        work=theirs,
        identifiers={"isbn": ["9780306406157"], "doi": ["10.1000/182"]},
    )
    services.work_update(
        actor=creator, work=mine, identifiers={"isbn": ["9780306406157"], "doi": ["10.1000/182"]}
    )

    conflict = Conflict.objects.get()
    assert sorted(m["kind"] for m in conflict.matches) == ["doi", "isbn"]
    assert AuditEvent.objects.filter(action="conflict.match").count() == 1


def test_a_resolved_conflict_reopens_only_for_a_new_kind_of_match(
    creator, other_creator, superuser
):
    isbns = ["9780306406157", "9783161484100"]
    services.work_create(
        owner=creator,
        title="Mine",
        kind="book",
        identifiers={"isbn": isbns, "doi": ["10.1000/182"]},
    )
    theirs = register(other_creator, "Theirs", isbn=isbns[0])
    conflict = Conflict.objects.get()
    conflicts.conflict_resolve(
        actor=superuser, conflict=conflict, resolution="not_a_conflict", reason="Two editions."
    )

    # A second ISBN is another value of a kind already decided on: the decision stands.
    services.work_update(actor=other_creator, work=theirs, identifiers={"isbn": isbns})
    conflict.refresh_from_db()
    assert conflict.status == Conflict.Status.RESOLVED

    # The same DOI is new evidence: staff look again.
    services.work_update(
        actor=other_creator, work=theirs, identifiers={"isbn": isbns, "doi": ["10.1000/182"]}
    )
    conflict.refresh_from_db()
    assert conflict.status == Conflict.Status.OPEN and conflict.resolution == ""
    assert sorted(m["kind"] for m in conflict.matches) == ["doi", "isbn", "isbn"]
    assert AuditEvent.objects.filter(action="conflict.reopen", object_id=str(conflict.pk)).exists()


# --- Batches: constant queries, one email per creator ------------------------------------------


def _batch(creator, other_creator, n):
    """``n`` works of the creator, each matching one of the other creator's works registered
    earlier: half share a URL, a DOI and a file; the others are near-identical images."""
    from works.models import WorkIdentifier

    half = n // 2
    earlier = timezone.now() - timedelta(days=1)
    theirs = Work.objects.bulk_create(
        Work(owner=other_creator, title=f"Theirs {i}", kind="book", created_at=earlier)
        for i in range(half)
    )
    mine = Work.objects.bulk_create(
        Work(owner=creator, title=f"Mine {i}", kind="book") for i in range(half)
    )
    pairs = list(enumerate(zip(mine, theirs, strict=True)))
    WorkIdentifier.objects.bulk_create(
        WorkIdentifier(work=work, scheme=scheme, value=value)
        for i, pair in pairs
        for work in pair
        for scheme, value in (("url", f"https://same.example/{i}"), ("doi", f"10.5555/{i}"))
    )
    WorkFile.objects.bulk_create(
        WorkFile(
            work=work,
            status=WorkFile.Status.READY,
            original_name="m.pdf",
            size=1,
            sha256=f"{i:064x}",
            family="text",
            format="pdf",
            mime="application/pdf",
        )
        for i, pair in pairs
        for work in pair
    )
    hashes = [(0x0123456789ABCDEF * (i + 3)) % 2**64 for i in range(n - half)]
    store_hashes(other_creator, hashes, title="Their photo")
    photos = store_hashes(creator, [h ^ 0b101 for h in hashes], title="My photo")
    return list(Work.objects.filter(pk__in=[w.pk for w in mine] + [f.work_id for f in photos]))


@pytest.mark.parametrize("n", [5, 50])
def test_batch_detection_takes_the_same_queries_for_5_or_50_works(
    creator, other_creator, n, django_assert_max_num_queries
):
    works = _batch(creator, other_creator, n)
    assert len(works) == n

    with django_assert_max_num_queries(14):  # 12, and a savepoint around the writes
        found = conflicts.conflicts_detect(works=works, actor=creator)

    assert len(found) == n
    kinds = {frozenset(m["kind"] for m in c.matches) for c in found}
    assert kinds == {frozenset({"url", "doi", "sha256"}), frozenset({"phash"})}


def test_batch_query_count_does_not_grow(creator, other_creator):
    counts = []
    for n in (5, 50):
        works = list(_batch(creator, other_creator, n))
        Conflict.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            conflicts.conflicts_detect(works=works)
        counts.append(len(queries))
        Work.objects.all().delete()
    assert counts[0] == counts[1], counts


def test_each_creator_gets_one_email_per_detection(
    creator, other_creator, mailoutbox, django_capture_on_commit_callbacks
):
    works = _batch(creator, other_creator, 40)

    with django_capture_on_commit_callbacks(execute=True):
        conflicts.conflicts_detect(works=works)

    assert sorted(m.to[0] for m in mailoutbox) == [creator.email, other_creator.email]
    to_creator = next(m for m in mailoutbox if m.to == [creator.email])
    assert "40 of your works" in to_creator.subject
    body = to_creator.body
    assert "Theirs 0" not in body and other_creator.email not in body  # nothing of the other side
    assert "Mine 0" in body and "the same web address" in body
    assert "administrators will look into it" in body  # different guilds: superusers


def test_a_single_conflict_email_says_what_matched_and_who_looks(
    creator, fellow, mailoutbox, django_capture_on_commit_callbacks
):
    register(creator, "The Quiet Harbour", isbn="9780306406157")
    with django_capture_on_commit_callbacks(execute=True):
        register(fellow, "A Harbour Story", isbn="9780306406157")

    assert len(mailoutbox) == 2
    to_creator = next(m for m in mailoutbox if m.to == [creator.email])
    assert "The Quiet Harbour" in to_creator.subject
    assert "the same ISBN" in to_creator.body
    assert "Staff of your guild will look into it" in to_creator.body
    assert "A Harbour Story" not in to_creator.body + to_creator.alternatives[0][0]
    assert fellow.email not in to_creator.body


# --- Routing and the queue -----------------------------------------------------------------------


def _conflict(owner_a, owner_b, *, isbn="9780306406157") -> Conflict:
    register(owner_a, "First", isbn=isbn)
    register(owner_b, "Second", isbn=isbn)
    return Conflict.objects.select_related("work_a", "work_b").get()


def test_a_conflict_within_one_guild_goes_to_its_staff(
    creator, fellow, wggb, guild_staff, other_guild_staff, superuser
):
    conflict = _conflict(creator, fellow)

    assert conflicts.conflict_route(conflict) == ("guild", (wggb.pk,))
    assert list(conflicts.conflict_queue(guild_staff)) == [conflict]
    assert list(conflicts.conflict_queue(other_guild_staff)) == []
    assert list(conflicts.conflict_queue(superuser)) == []


def test_a_conflict_across_guilds_goes_to_superusers_only(
    creator, other_creator, guild_staff, other_guild_staff, superuser
):
    conflict = _conflict(creator, other_creator)

    assert conflicts.conflict_route(conflict) == ("superusers", None)
    assert list(conflicts.conflict_queue(superuser)) == [conflict]
    assert list(conflicts.conflict_queue(guild_staff)) == []
    assert list(conflicts.conflict_queue(other_guild_staff)) == []


def test_a_conflict_with_a_creator_without_guild_goes_to_superusers(
    creator, loner, guild_staff, superuser
):
    conflict = _conflict(loner, creator)

    assert conflicts.conflict_route(conflict) == ("superusers", None)
    assert list(conflicts.conflict_queue(superuser)) == [conflict]
    assert list(conflicts.conflict_queue(guild_staff)) == []


def test_the_queue_lists_open_conflicts_oldest_first_in_constant_queries(
    creator, fellow, guild_staff, django_assert_max_num_queries
):
    for i in range(6):
        register(creator, f"Mine {i}", url=f"https://x.example/{i}")
        register(fellow, f"Theirs {i}", url=f"https://x.example/{i}")
    with django_assert_max_num_queries(1):
        queue = list(conflicts.conflict_queue(guild_staff))
        titles = [(c.work_a.owner.label, c.work_b.owner.label) for c in queue]
    assert len(queue) == 6 and titles[0] == ("Alice Author", "Fiona Fellow")
    assert [c.created_at for c in queue] == sorted(c.created_at for c in queue)


# --- Resolution ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolution", "a_state", "b_state"),
    [
        ("a_stands", "verified", "rejected"),
        ("b_stands", "rejected", "self_declared"),
        ("both_stand", "verified", "self_declared"),
        ("not_a_conflict", "verified", "self_declared"),
    ],
)
def test_resolving_updates_claims_records_and_tells_both_creators(
    creator,
    other_creator,
    superuser,
    resolution,
    a_state,
    b_state,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    conflict = _conflict(creator, other_creator)
    Work.objects.filter(pk=conflict.work_a_id).update(
        claim_state="verified", claim_decided_at=timezone.now()
    )

    with django_capture_on_commit_callbacks(execute=True):
        conflicts.conflict_resolve(
            actor=superuser, conflict=conflict, resolution=resolution, reason="Publisher's records."
        )

    conflict.refresh_from_db()
    assert conflict.status == "resolved" and conflict.resolution == resolution
    assert conflict.resolved_by == superuser and conflict.reason == "Publisher's records."
    a, b = Work.objects.get(pk=conflict.work_a_id), Work.objects.get(pk=conflict.work_b_id)
    assert (a.claim_state, b.claim_state) == (a_state, b_state)
    loser = {"a_stands": b, "b_stands": a}.get(resolution)
    if loser is not None:
        assert loser.claim_reason == "Publisher's records." and loser.claim_decided_by == superuser
    assert AuditEvent.objects.filter(action="conflict.resolve", actor=superuser).count() == 1
    assert sorted(m.to[0] for m in mailoutbox) == sorted([creator.email, other_creator.email])
    for message in mailoutbox:
        other = b if message.to == [creator.email] else a
        text = message.subject + message.body + message.alternatives[0][0]
        assert other.title not in text and other.owner.email not in text
        assert "Publisher's records." in text


def test_a_reason_is_required(creator, other_creator, superuser):
    conflict = _conflict(creator, other_creator)

    with pytest.raises(ValidationError) as caught:
        conflicts.conflict_resolve(
            actor=superuser, conflict=conflict, resolution="a_stands", reason="  "
        )

    assert "reason" in caught.value.message_dict
    conflict.refresh_from_db()
    assert conflict.status == "open"
    assert Work.objects.get(pk=conflict.work_b_id).claim_state == "self_declared"


def test_a_resolved_conflict_cannot_be_resolved_again(creator, other_creator, superuser):
    conflict = _conflict(creator, other_creator)
    conflicts.conflict_resolve(
        actor=superuser, conflict=conflict, resolution="both_stand", reason="Co-authors."
    )
    with pytest.raises(ValidationError):
        conflicts.conflict_resolve(
            actor=superuser, conflict=conflict, resolution="a_stands", reason="Changed my mind."
        )


def test_a_party_cannot_resolve_their_own_conflict(creator, wggb, second_wggb_staff, guild_staff):
    factories.MembershipFactory(user=guild_staff, guild=wggb, verified=True)
    conflict = _conflict(creator, guild_staff)  # staff of the guild, and the second registrant

    with pytest.raises(PermissionDenied):
        conflicts.conflict_resolve(
            actor=guild_staff, conflict=conflict, resolution="b_stands", reason="It is mine."
        )
    assert list(conflicts.conflict_queue(guild_staff)) == []

    conflicts.conflict_resolve(
        actor=second_wggb_staff, conflict=conflict, resolution="a_stands", reason="Contract."
    )


def test_staff_of_another_guild_cannot_resolve(creator, fellow, other_guild_staff, superuser):
    conflict = _conflict(creator, fellow)
    for outsider in (other_guild_staff, superuser):  # routed to the Writers' Guild only
        with pytest.raises(PermissionDenied):
            conflicts.conflict_resolve(
                actor=outsider, conflict=conflict, resolution="a_stands", reason="No."
            )


# --- Blocking ------------------------------------------------------------------------------------

VERIFIED, SELF = "verified", "self_declared"


@pytest.mark.parametrize(
    ("other_claim", "other_is_earlier", "lifted", "resolved", "blocked"),
    [
        (VERIFIED, True, False, False, True),  # the rule
        (SELF, True, False, False, False),  # other claim only self-declared
        ("rejected", True, False, False, False),
        (VERIFIED, False, False, False, False),  # other registered later
        (VERIFIED, True, True, False, False),  # staff lifted the block
        (VERIFIED, True, False, True, False),  # resolved
    ],
)
def test_a_conflict_blocks_a_work_only_when_the_other_claim_is_verified_and_earlier(
    creator, other_creator, superuser, other_claim, other_is_earlier, lifted, resolved, blocked
):
    conflict = _conflict(creator, other_creator)
    first, second = conflict.work_a, conflict.work_b
    mine, other = (second, first) if other_is_earlier else (first, second)
    Work.objects.filter(pk=other.pk).update(
        claim_state=other_claim,
        claim_decided_at=None if other_claim == SELF else timezone.now(),
    )
    if lifted:
        conflicts.conflict_lift_block(actor=superuser, conflict=conflict, reason="Urgent removal.")
    if resolved:
        conflicts.conflict_resolve(
            actor=superuser, conflict=conflict, resolution="both_stand", reason="Co-authors."
        )

    mine.refresh_from_db()
    assert conflicts.work_is_blocked(mine) is blocked
    assert list(conflicts.work_blocking_conflicts(mine)) == ([conflict] if blocked else [])
    other.refresh_from_db()
    assert conflicts.work_is_blocked(other) is False  # the earlier work is never held up


def test_lifting_a_block_needs_a_reason_and_is_recorded(creator, other_creator, superuser):
    conflict = _conflict(creator, other_creator)
    with pytest.raises(ValidationError):
        conflicts.conflict_lift_block(actor=superuser, conflict=conflict, reason="")
    conflicts.conflict_lift_block(actor=superuser, conflict=conflict, reason="Urgent.")
    conflict.refresh_from_db()
    assert conflict.block_lifted_by == superuser and conflict.block_lift_reason == "Urgent."
    assert AuditEvent.objects.filter(action="conflict.lift_block").exists()
    with pytest.raises(ValidationError):
        conflicts.conflict_lift_block(actor=superuser, conflict=conflict, reason="Again.")


def test_a_party_cannot_lift_the_block(creator, other_creator):
    conflict = _conflict(creator, other_creator)
    with pytest.raises(PermissionDenied):
        conflicts.conflict_lift_block(actor=other_creator, conflict=conflict, reason="Mine.")


# --- The distance setting ------------------------------------------------------------------------


def test_a_distance_setting_beyond_the_index_is_refused_at_use(settings, creator):
    settings.PHASH_MAX_DISTANCE = 5
    with pytest.raises(ImproperlyConfigured, match="PHASH_MAX_DISTANCE"):
        conflicts.phash_matches(12345)


def test_found_emails_are_throttled_per_creator(
    creator, other_creator, settings, mailoutbox, django_capture_on_commit_callbacks
):
    """A ZIP import creates works one service call at a time, and the worker hashes images one
    by one: each creator still gets one email per interval, not one per work."""
    settings.WORKS_CONFLICT_EMAIL_INTERVAL = 600
    for i in range(5):
        register(creator, f"Mine {i}", url=f"https://same.example/{i}")
    for i in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            register(other_creator, f"Theirs {i}", url=f"https://same.example/{i}")

    assert Conflict.objects.count() == 5
    assert sorted(m.to[0] for m in mailoutbox) == [creator.email, other_creator.email]
    assert "10 minutes" in mailoutbox[0].body
