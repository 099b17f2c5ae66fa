"""Recompute the stored perceptual hashes from the originals, after the hashing steps changed
(docs/fingerprints.md, "When the algorithm changes"). Run by ``manage.py recompute_phashes``.

Files are taken in batches by primary key (keyset: no OFFSET, no long transaction). Each batch
decodes its originals outside any transaction, then in one transaction writes the hashes that
differ — conditionally, so a file replaced or refused meanwhile is left alone — with an audit
row each, and runs conflict detection for those works: an image that now sits within the
distance of another creator's is reported as when it was uploaded."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import storage as stored_files
from accounts.models import User
from accounts.services import audit_record

from . import fingerprints
from .conflicts import conflicts_detect
from .models import PHASH_BLOCK_BITS, Work, WorkFile, phash_blocks

_BLOCK_FIELDS = [f"phash_b{i}" for i in range(len(PHASH_BLOCK_BITS))]


@dataclass
class RehashResult:
    checked: int = 0
    changed: int = 0
    unreadable: int = 0  # original missing or no longer decodable: left as it was


def work_files_rehash(
    *, actor: User | None = None, batch_size: int = 200, dry_run: bool = False, progress=None
) -> RehashResult:
    """Recompute every ready image's pHash; store those that changed (unless ``dry_run``).
    ``progress(result)`` is called after each batch."""
    result = RehashResult()
    files = WorkFile.objects.filter(status=WorkFile.Status.READY, phash__isnull=False).exclude(
        original=""
    )
    last = 0
    while batch := list(
        files.filter(pk__gt=last)
        .order_by("pk")
        .only("pk", "work_id", "original", "phash")[:batch_size]
    ):
        last = batch[-1].pk
        changed = {}
        for work_file in batch:
            result.checked += 1
            try:
                with stored_files.seekable(work_file.original) as source:
                    fresh = fingerprints.image_fingerprint(
                        source,
                        max_pixels=settings.WORKS_IMAGE_MAX_PIXELS,
                        thumb_size=settings.WORKS_THUMBNAIL_SIZE,
                    ).phash
            except (OSError, ValidationError):  # StorageUnavailable is an OSError too
                result.unreadable += 1
                continue
            if fingerprints.to_signed64(fresh) != work_file.phash:
                changed[work_file] = fresh
        result.changed += len(changed)
        if changed and not dry_run:
            _store(changed, actor=actor)
        if progress:
            progress(result)
    return result


def _store(changed: dict[WorkFile, int], *, actor: User | None) -> None:
    with transaction.atomic():
        works = []
        for work_file, fresh in changed.items():
            updated = WorkFile.objects.filter(
                pk=work_file.pk,
                status=WorkFile.Status.READY,
                original=work_file.original.name,
                phash=work_file.phash,
            ).update(
                phash=fingerprints.to_signed64(fresh),
                **dict(zip(_BLOCK_FIELDS, phash_blocks(fresh), strict=True)),
            )
            if updated:
                works.append(work_file.work_id)
                audit_record(
                    actor=actor,
                    action="work_file.rehash",
                    obj=work_file,
                    before={"phash": f"{fingerprints.to_unsigned64(work_file.phash):016x}"},
                    after={"phash": f"{fresh:016x}"},
                    reason="pHash recomputed: the hashing steps changed",
                )
        conflicts_detect(works=Work.objects.filter(pk__in=works), actor=actor)
