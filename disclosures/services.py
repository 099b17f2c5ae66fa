"""Every write to disclosures: submitting one (by the developer, or recorded by a registry
manager from a public source), cancelling one. Matching is ``matching.py``'s."""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from consent.vocabulary import Use
from notices.models import AIDeveloper

from .matching import enqueue
from .models import Disclosure, Finding

CHUNK = 1 << 20


@dataclass
class Fields:
    name: str
    uses: list[str]
    version: str = ""
    models_text: str = ""
    period_start: date | None = None
    period_end: date | None = None
    summary_url: str = ""
    source: str = ""


def _check(fields: Fields) -> None:
    errors = {}
    if not fields.name.strip():
        errors["name"] = "Name the dataset."
    uses = [u for u in fields.uses if u]
    if not uses:
        errors["uses"] = "Say which uses the dataset is for: at least one."
    elif unknown := [u for u in uses if u not in Use.values]:
        errors["uses"] = (
            f"{', '.join(unknown)[:100]} is not one of the uses: {', '.join(Use.values)}."
        )
    if fields.period_start and fields.period_end and fields.period_end < fields.period_start:
        errors["period_end"] = "The period ends before it starts."
    if errors:
        raise ValidationError(errors)


def _digest(upload: UploadedFile) -> str:
    digest = getattr(upload, "sha256", None)
    if digest:
        return digest
    hasher = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks(CHUNK):
        hasher.update(chunk)
    upload.seek(0)
    return hasher.hexdigest()


def disclosure_submit(
    *,
    actor: User | None,
    developer: AIDeveloper,
    fields: Fields,
    manifest: UploadedFile,
    via: str,
) -> tuple[Disclosure, bool]:
    """Keep the manifest privately and queue its matching. ``(disclosure, created)``: the same
    developer sending the same file (its SHA-256) again gets the disclosure it made then —
    matched again from the start if that one failed or was cancelled."""
    _check(fields)
    if via == Disclosure.Via.REGISTRY and not fields.source.strip():
        raise ValidationError({"source": "Say where the manifest was published."})
    size = manifest.size or 0
    if size == 0:
        raise ValidationError({"manifest": "The manifest is empty."})
    if size > settings.DISCLOSURE_MAX_MANIFEST_BYTES:
        raise ValidationError(
            {
                "manifest": "The manifest is too large: the limit is "
                f"{filesizeformat(settings.DISCLOSURE_MAX_MANIFEST_BYTES)}."
            }
        )
    digest = _digest(manifest)
    existing = Disclosure.objects.filter(developer=developer, manifest_sha256=digest).first()
    if existing is not None:
        if existing.state in {Disclosure.State.FAILED, Disclosure.State.CANCELLED}:
            return _requeue(existing, manifest=manifest, actor=actor), False
        return existing, False
    disclosure = Disclosure(
        developer=developer,
        name=fields.name.strip()[:200],
        version=fields.version.strip()[:100],
        uses=[u for u in Use.values if u in fields.uses],
        models_text=fields.models_text.strip(),
        period_start=fields.period_start,
        period_end=fields.period_end,
        summary_url=fields.summary_url.strip(),
        source=fields.source.strip(),
        via=via,
        submitted_by=actor,
        manifest_name=(manifest.name or "manifest")[:255],
        manifest_sha256=digest,
        manifest_size=size,
    )
    manifest.seek(0)
    # Written before the row: a failed write leaves no row; a row that fails (the same file
    # sent twice at once) deletes what was written.
    disclosure.manifest.save(f"{uuid.uuid4().hex}", manifest, save=False)
    try:
        with transaction.atomic():
            disclosure.save()
            audit_record(
                actor=actor,
                action="disclosure.submit",
                obj=disclosure,
                after={"developer": developer.slug, "name": disclosure.name, "sha256": digest},
                reason=fields.source.strip()[:500],
            )
            transaction.on_commit(lambda: enqueue(disclosure.pk), robust=True)
    except IntegrityError:
        disclosure.manifest.storage.delete(disclosure.manifest.name)
        existing = Disclosure.objects.filter(developer=developer, manifest_sha256=digest).first()
        if existing is None:
            raise
        return existing, False
    except BaseException:
        disclosure.manifest.storage.delete(disclosure.manifest.name)
        raise
    return disclosure, True


def _requeue(disclosure: Disclosure, *, manifest: UploadedFile, actor) -> Disclosure:
    """The same file sent again after its disclosure failed or was cancelled: matched again
    from the start (a failed run left no finding), with the file kept anew if it was deleted."""
    stored = ""
    if not disclosure.manifest or not disclosure.manifest.storage.exists(disclosure.manifest.name):
        manifest.seek(0)
        stored = disclosure.manifest.storage.save(
            disclosure.manifest.field.generate_filename(disclosure, uuid.uuid4().hex), manifest
        )
    try:
        with transaction.atomic():
            updated = Disclosure.objects.filter(
                pk=disclosure.pk, state__in=[Disclosure.State.FAILED, Disclosure.State.CANCELLED]
            ).update(
                state=Disclosure.State.QUEUED,
                rows_read=0,
                rows_matched=0,
                findings_count=0,
                attempts=0,
                error="",
                lease_until=None,
                cancel_requested=False,
                started_at=None,
                finished_at=None,
                **({"manifest": stored, "manifest_deleted_at": None} if stored else {}),
            )
            if updated:
                Finding.objects.filter(disclosure=disclosure).delete()
                audit_record(actor=actor, action="disclosure.resubmit", obj=disclosure)
                transaction.on_commit(lambda: enqueue(disclosure.pk), robust=True)
            elif stored:
                transaction.on_commit(lambda: disclosure.manifest.storage.delete(stored))
    except BaseException:
        if stored:
            disclosure.manifest.storage.delete(stored)
        raise
    return Disclosure.objects.get(pk=disclosure.pk)


def disclosure_cancel(*, actor: User | None, disclosure: Disclosure) -> Disclosure:
    """Stop matching: a queued disclosure at once, a running one at its next batch."""
    with transaction.atomic():
        disclosure = Disclosure.objects.select_for_update().get(pk=disclosure.pk)
        if disclosure.finished:
            return disclosure
        if disclosure.state == Disclosure.State.QUEUED:
            disclosure.state = Disclosure.State.CANCELLED
            disclosure.finished_at = timezone.now()
        disclosure.cancel_requested = True
        disclosure.save(update_fields=["state", "finished_at", "cancel_requested"])
        audit_record(actor=actor, action="disclosure.cancel", obj=disclosure)
    return disclosure


def manifests_expire(*, now=None) -> int:
    """Delete the manifests kept longer than ``DISCLOSURE_MANIFEST_DAYS`` (findings stay)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.DISCLOSURE_MANIFEST_DAYS)
    expired = list(
        Disclosure.objects.filter(created_at__lt=cutoff, manifest_deleted_at__isnull=True)
        .exclude(state__in=[Disclosure.State.QUEUED, Disclosure.State.RUNNING])
        .exclude(manifest="")[:500]
    )
    for disclosure in expired:
        name = disclosure.manifest.name
        Disclosure.objects.filter(pk=disclosure.pk).update(manifest="", manifest_deleted_at=now)
        disclosure.manifest.storage.delete(name)
    return len(expired)
