"""``manage.py recompute_phashes`` brings stored hashes made by older hashing steps to the
current ones, in batches, with an audit row and conflict detection; a dry run stores nothing."""

import io
from http import HTTPStatus

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse

from accounts.models import AuditEvent
from tests.works import files
from works.conflicts import phash_matches
from works.fingerprints import to_signed64, to_unsigned64
from works.models import Conflict, WorkFile, phash_blocks


@pytest.fixture
def uploaded(client, tmp_path, django_capture_on_commit_callbacks):
    """``uploaded(user, seed)``: a work with a processed photograph (a JPEG, or a PNG of the
    same picture), registered through the form."""

    def _uploaded(user, seed, make=files.make_jpeg):
        client.force_login(user)
        suffix = "png" if make is files.make_png else "jpg"
        path = make(tmp_path / f"photo{seed}.{suffix}", size=(1200, 800), seed=seed)
        with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("works:create"),
                {"title": f"Photo {seed}", "kind": "photograph", "file": handle},
            )
        assert response.status_code == HTTPStatus.FOUND
        return WorkFile.objects.get(work__title=f"Photo {seed}", work__owner=user)

    return _uploaded


def _store_old_hash(work_file, value):
    """As a file hashed by earlier steps would be stored: another hash, its blocks with it."""
    WorkFile.objects.filter(pk=work_file.pk).update(
        phash=to_signed64(value),
        **{f"phash_b{i}": b for i, b in enumerate(phash_blocks(value))},
    )


def _run(*args):
    out = io.StringIO()
    call_command("recompute_phashes", *args, stdout=out)
    return out.getvalue()


def test_stale_hashes_are_recomputed_and_found_again(creator, uploaded):
    files_ = [uploaded(creator, seed) for seed in (1, 2, 3)]
    current = to_unsigned64(files_[0].phash)
    _store_old_hash(files_[0], current ^ 0b1111_0000_1111)  # 8 bits off: no longer found
    assert phash_matches(current) == []

    out = _run("--batch-size", "2")

    assert "3 images checked, 1 changed, 0 unreadable" in out
    files_[0].refresh_from_db()
    assert to_unsigned64(files_[0].phash) == current
    assert [f.pk for f, _ in phash_matches(current)] == [files_[0].pk]
    event = AuditEvent.objects.get(action="work_file.rehash")
    assert event.object_id == str(files_[0].pk) and event.after == {"phash": f"{current:016x}"}


def test_a_dry_run_counts_and_stores_nothing(creator, uploaded):
    work_file = uploaded(creator, 4)
    stale = to_unsigned64(work_file.phash) ^ 0xFF
    _store_old_hash(work_file, stale)

    out = _run("--dry-run")

    assert "1 images checked, 1 would change" in out
    work_file.refresh_from_db()
    assert to_unsigned64(work_file.phash) == stale
    assert not AuditEvent.objects.filter(action="work_file.rehash").exists()


def test_a_missing_original_is_counted_and_left_alone(creator, uploaded):
    work_file = uploaded(creator, 5)
    before = work_file.phash
    default_storage.delete(work_file.original.name)

    out = _run()

    assert "1 images checked, 0 changed, 1 unreadable" in out
    work_file.refresh_from_db()
    assert work_file.phash == before


def test_a_recomputed_hash_near_another_creators_image_opens_a_conflict(
    creator, other_creator, uploaded, django_capture_on_commit_callbacks
):
    mine = uploaded(creator, 6)
    theirs = uploaded(other_creator, 6, make=files.make_png)  # the same picture, other bytes
    Conflict.objects.all().delete()  # as if it had been hashed far apart when uploaded
    _store_old_hash(theirs, to_unsigned64(theirs.phash) ^ ((1 << 64) - 1))

    with django_capture_on_commit_callbacks(execute=True):
        _run()

    assert {(c.work_a_id, c.work_b_id) for c in Conflict.objects.all()} in (
        {(mine.work_id, theirs.work_id)},
        {(theirs.work_id, mine.work_id)},
    )
