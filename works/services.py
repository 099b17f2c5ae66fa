"""Every write to works, their files and their claims.

Each service runs in one transaction with the acting user; side effects (the worker's image
processing, emails) leave through ``transaction.on_commit``. Uploaded files arrive already
vetted while streaming (``works.uploads``): type by content, size within limits, SHA-256.
"""

import logging
import re
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import BigIntegerField, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts import broker, mail
from accounts import storage as stored_files
from accounts.acting import capacity
from accounts.folding import fold_title
from accounts.models import User
from accounts.services import audit_record
from accounts.storage import StoredFiles

from . import fingerprints
from .access import can_verify_claim
from .conflicts import conflicts_detect
from .filetypes import check_name, check_structure, sniff
from .identifiers import normalise, normalise_typed_url
from .listeners import works_changed
from .models import PHASH_BLOCK_BITS, ClaimEvidence, Work, WorkFile, WorkIdentifier, phash_blocks

logger = logging.getLogger(__name__)

SCHEMES = [choice.value for choice in WorkIdentifier.Scheme]
_PHASH_BLOCK_FIELDS = [f"phash_b{i}" for i in range(len(PHASH_BLOCK_BITS))]
WORK_FIELDS = ["title", "kind", "year", "description", "co_creators"]


# --- Identifiers -------------------------------------------------------------------------------

_SPLIT = {"url": re.compile(r"\s+"), "default": re.compile(r"[\s,;]+")}


def identifiers_parse(*, scheme: str, text: str) -> list[str]:
    """Several values of one scheme typed in one field (spaces, commas or new lines between
    them; only white space between URLs), each normalised and validated — a web address may be
    typed without ``https://``. Raises ``ValidationError`` with one message for every value
    that is wrong, naming it — and, when the text has several lines, its line ("Line 3: …")."""
    splitter = _SPLIT["url"] if scheme == "url" else _SPLIT["default"]
    lines = (text or "").splitlines() or [""]
    values: list[str] = []
    errors: list[str] = []
    for number, line in enumerate(lines, start=1):
        for raw in splitter.split(line):
            if not raw:
                continue
            try:
                value = normalise_typed_url(raw) if scheme == "url" else normalise(scheme, raw)
            except ValidationError as exc:
                shown = raw if len(raw) <= 60 else raw[:57] + "…"
                where = f"Line {number}: " if len(lines) > 1 else ""
                errors.append(f"{where}“{shown}”: {exc.messages[0]}")
                continue
            if value not in values:
                values.append(value)
    if errors:
        raise ValidationError(errors)
    return values


def _identifiers_to_set(
    work: Work, identifiers: dict[str, list[str]]
) -> tuple[dict[str, list[str]], list[WorkIdentifier]]:
    """Toward making the work's identifiers exactly ``identifiers`` (normalised): deletes the
    ones not wanted; returns the old set and the rows still to add (unsaved)."""
    current: dict[str, list[str]] = {scheme: [] for scheme in SCHEMES}
    for ident in work.identifiers.all():
        current[ident.scheme].append(ident.value)
    wanted = {scheme: list(identifiers.get(scheme, [])) for scheme in SCHEMES}
    to_add: list[WorkIdentifier] = []
    for scheme in SCHEMES:
        gone = set(current[scheme]) - set(wanted[scheme])
        if gone:
            work.identifiers.filter(scheme=scheme, value__in=gone).delete()
        to_add.extend(
            WorkIdentifier(work=work, scheme=scheme, value=value)
            for value in wanted[scheme]
            if value not in current[scheme]
        )
    return current, to_add


def identifiers_add(
    *, actor: User, identifiers: Iterable[WorkIdentifier], works: Iterable[Work] = ()
) -> None:
    """The one way works gain identifiers — the edit form (``work_update``), a CSV import's
    batch, a ZIP import's metadata. ``identifiers`` are unsaved rows (their work may be one the
    caller has just bulk-created); one a work already has is skipped. Then every work that
    gained one, with ``works`` (works the caller created or changed), goes through
    ``conflicts_detect`` in the caller's transaction, in one batch: another creator's work
    holding one of them becomes a conflict for staff."""
    rows = list(identifiers)
    WorkIdentifier.objects.bulk_create(rows, ignore_conflicts=True)
    checked = {work.pk: work for work in works}
    gained = {row.work_id for row in rows} - set(checked)  # set by bulk_create from row.work
    if gained:
        checked |= {work.pk: work for work in Work.objects.filter(pk__in=sorted(gained))}
    if checked:
        conflicts_detect(works=list(checked.values()), actor=actor)
        works_changed(checked.values())


# --- Works -------------------------------------------------------------------------------------


def _require_owner(actor: User, work: Work) -> None:
    if actor.pk != work.owner_id:
        raise PermissionDenied("Only the creator who registered a work changes it.")


def work_create(
    *,
    owner: User,
    title: str,
    kind: str,
    year: int | None = None,
    description: str = "",
    co_creators: str = "",
    identifiers: dict[str, list[str]] | None = None,
    upload: UploadedFile | None = None,
) -> Work:
    with StoredFiles() as stored, transaction.atomic():
        return _work_create(
            owner=owner,
            fields={
                "title": title,
                "kind": kind,
                "year": year,
                "description": description,
                "co_creators": co_creators,
            },
            identifiers=identifiers or {},
            upload=upload,
            stored=stored,
        )


def _work_create(*, owner, fields, identifiers, upload, stored, detect_conflicts=True) -> Work:
    """``detect_conflicts=False`` is for a batch (an import), which then calls
    ``conflicts.conflicts_detect`` once for all its works."""
    title, kind, year = fields["title"], fields["kind"], fields["year"]
    description, co_creators = fields["description"], fields["co_creators"]
    work = Work(
        owner=owner,
        title=title.strip(),
        title_folded=fold_title(title),
        kind=kind,
        year=year,
        description=description.strip(),
        co_creators=co_creators.strip(),
    )
    work.full_clean()
    work.save()
    WorkIdentifier.objects.bulk_create(_identifiers_to_set(work, identifiers)[1])
    if upload is not None:
        _attach_file(actor=owner, work=work, upload=upload, stored=stored)
    if detect_conflicts:  # identifiers and the file's SHA-256; an image's pHash comes later
        conflicts_detect(works=[work], actor=owner)
    works_changed([work])
    audit_record(
        actor=owner,
        action="work.create",
        obj=work,
        after={"title": work.title, "kind": work.kind, **_identifier_summary(identifiers)},
    )
    return work


def _identifier_summary(identifiers: dict[str, list[str]]) -> dict[str, str]:
    return {scheme: " ".join(values) for scheme, values in identifiers.items() if values}


@transaction.atomic
def work_update(
    *, actor: User, work: Work, identifiers: dict[str, list[str]] | None = None, **fields
) -> Work:
    _require_owner(actor, work)
    work = Work.objects.select_for_update().get(pk=work.pk)
    before = {name: getattr(work, name) for name in WORK_FIELDS}
    for name, value in fields.items():
        if name not in WORK_FIELDS:
            raise TypeError(f"unknown work field {name!r}")
        setattr(work, name, value.strip() if isinstance(value, str) else value)
    work.title_folded = fold_title(work.title)
    work.full_clean()
    work.save()
    after = {name: getattr(work, name) for name in WORK_FIELDS}
    if identifiers is not None:
        old, to_add = _identifiers_to_set(work, identifiers)
        before |= _identifier_summary(old)
        after |= _identifier_summary(identifiers)
        identifiers_add(actor=actor, identifiers=to_add, works=[work])
    if before != after:
        audit_record(actor=actor, action="work.update", obj=work, before=before, after=after)
        works_changed([work])
    return work


@transaction.atomic
def work_set_status(*, actor: User, work: Work, archived: bool) -> Work:
    """Archive or restore. A work with history is archived, never erased: its record, claim
    and (later) decisions and signals stay."""
    _require_owner(actor, work)
    work = Work.objects.select_for_update().get(pk=work.pk)
    status = Work.Status.ARCHIVED if archived else Work.Status.ACTIVE
    if work.status != status:
        before = work.status
        work.status = status
        work.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="work.status",
            obj=work,
            before={"status": before},
            after={"status": status},
        )
        works_changed([work])
    return work


# --- Files -------------------------------------------------------------------------------------


# Apps above ``works`` that store files for a creator (removal evidence) add what they hold to
# their storage here, registered from their ``AppConfig.ready``: ``works`` imports none of them.
_storage_counters: list[Callable[[int], QuerySet]] = []


def register_storage_counter(counter: Callable[[int], QuerySet]) -> None:
    """``counter(user_id)`` → a queryset of one row and one column, the bytes of the files that
    app stores for them
    (``….filter(…).order_by().values(<owner id>).annotate(t=Sum(…)).values("t")``);
    ``storage_used`` reads every counter in its one query."""
    if counter not in _storage_counters:
        _storage_counters.append(counter)


def _sum_of(queryset, field: str, owner: str):
    return queryset.order_by().values(owner).annotate(total=Sum(field)).values("total")


def storage_used(*, user: User) -> int:
    """Bytes every file they store takes — their works' files, claim evidence, and what other
    apps register (removal evidence) — from the sizes recorded when they were stored, summed
    in one query."""
    mine = {"work__owner_id": user.pk}
    parts = [
        _sum_of(WorkFile.objects.filter(**mine), "size", "work__owner_id"),
        _sum_of(ClaimEvidence.objects.filter(**mine), "file_size", "work__owner_id"),
        *(counter(user.pk) for counter in _storage_counters),
    ]
    totals = {
        f"part_{i}": Coalesce(Subquery(part, output_field=BigIntegerField()), Value(0))
        for i, part in enumerate(parts)
    }
    row = User.objects.filter(pk=user.pk).annotate(**totals).values_list(*totals).first()
    return sum(row or ())


def quota_left(*, user: User) -> int:
    return settings.WORKS_STORAGE_QUOTA - storage_used(user=user)


def vet_upload(upload: UploadedFile, *, allowed_families: set[str] | None = None):
    """Checks an upload the streaming handler has not made: a name that disguises its content,
    and the structure of the file (truncation, corruption, pixel count before decoding).
    Returns (filetype, metadata). Raises ``ValidationError`` saying why."""
    filetype = getattr(upload, "filetype", None)
    if filetype is None:  # not streamed through VettingUploadHandler (e.g. a script's file)
        upload.seek(0)
        filetype = sniff(upload.read(8192))
        upload.seek(0)
    if allowed_families and filetype.family not in allowed_families:
        raise ValidationError("Evidence can be a PDF, a text document or an image.")
    check_name(filetype, upload.name or "")
    path = upload.temporary_file_path() if hasattr(upload, "temporary_file_path") else None
    if path is None:
        raise ValidationError("The upload could not be read: please try again.")
    metadata = check_structure(filetype, path, max_pixels=settings.WORKS_IMAGE_MAX_PIXELS)
    return filetype, metadata


def _sha256_of(upload: UploadedFile) -> str:
    digest = getattr(upload, "sha256", None)
    return digest or fingerprints.sha256_file(upload.temporary_file_path())


def _attach_file(*, actor: User, work: Work, upload: UploadedFile, stored: StoredFiles) -> WorkFile:
    filetype, metadata = vet_upload(upload)
    old = WorkFile.objects.filter(work=work).first()
    if old is not None:
        _discard_stored(old)
        old.delete()
    is_image = filetype.family == "image"
    work_file = WorkFile(
        work=work,
        status=WorkFile.Status.PROCESSING if is_image else WorkFile.Status.READY,
        original_name=(upload.name or "upload")[:255],
        size=upload.size,
        sha256=_sha256_of(upload),
        family=filetype.family,
        format=filetype.format,
        mime=filetype.mime,
        width=metadata.get("width"),
        height=metadata.get("height"),
        uploaded_by=actor,
        processed_at=None if is_image else timezone.now(),
    )
    upload.seek(0)
    work_file.original.save(f"upload{filetype.extensions[0]}", upload, save=False)
    stored.names.append(work_file.original.name)
    work_file.save()
    if is_image:
        transaction.on_commit(lambda: _enqueue_processing(work_file.pk), robust=True)
    return work_file


def _enqueue_processing(file_id: int) -> None:
    from .tasks import work_file_process

    # Bounded to about a second and never raises: if the broker is down the sweep queues it.
    broker.publish(work_file_process, args=(file_id,))


def work_file_attach(*, actor: User, work: Work, upload: UploadedFile) -> WorkFile:
    """Upload (or replace) a work's file. Replacing the file of a verified claim sends the
    claim back to self-declared: what staff verified is no longer what is on record."""
    _require_owner(actor, work)
    with StoredFiles() as stored, transaction.atomic():
        return _work_file_attach(actor=actor, work=work, upload=upload, stored=stored)


def _work_file_attach(*, actor, work, upload, stored) -> WorkFile:
    work = Work.objects.select_for_update().get(pk=work.pk)
    work_file = _attach_file(actor=actor, work=work, upload=upload, stored=stored)
    conflicts_detect(works=[work], actor=actor)  # the same file (SHA-256) as another creator's
    if work.claim_state == Work.Claim.VERIFIED:
        work.claim_state = Work.Claim.SELF_DECLARED
        work.claim_requested_at = None
        work.claim_decided_at = None
        work.claim_decided_by = None
        work.save()
        audit_record(
            actor=actor,
            action="claim.reset",
            obj=work,
            before={"claim_state": "verified"},
            after={"claim_state": "self_declared"},
            reason="The work's file was replaced.",
        )
        works_changed([work])
    audit_record(
        actor=actor,
        action="work.file",
        obj=work,
        after={"file": work_file.original_name, "sha256": work_file.sha256, "size": work_file.size},
    )
    return work_file


def _discard_stored(work_file: WorkFile) -> None:
    """Delete a file's stored original and thumbnail once the transaction commits."""
    names = [f.name for f in (work_file.original, work_file.thumbnail) if f]
    storage = work_file.original.storage

    def delete():
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete, robust=True)


def work_file_process(*, file_id: int) -> WorkFile | None:
    """The worker's part: decode the image once in full (catching truncation and corruption),
    make the thumbnail and the perceptual hash. A file that fails is removed and the reason
    kept for the creator. Idempotent: a file no longer processing is left alone."""
    work_file = WorkFile.objects.filter(pk=file_id, status=WorkFile.Status.PROCESSING).first()
    if work_file is None:
        return None
    try:
        # StorageUnavailable leaves: the task tries again later (works/tasks.py), then gives up
        # with a reason (work_file_unreadable).
        with stored_files.seekable(work_file.original) as source:
            result = fingerprints.image_fingerprint(
                source,
                max_pixels=settings.WORKS_IMAGE_MAX_PIXELS,
                thumb_size=settings.WORKS_THUMBNAIL_SIZE,
            )
    except FileNotFoundError:
        return _work_file_fail(
            file_id,
            "The uploaded file was lost before it could be processed: please upload it again.",
        )
    except ValidationError as exc:
        return _work_file_fail(file_id, exc.messages[0])
    thumbnail_name = work_file.thumbnail.field.generate_filename(work_file, "thumb.jpg")
    stored = work_file.thumbnail.storage.save(thumbnail_name, ContentFile(result.thumbnail))
    blocks = dict(zip(_PHASH_BLOCK_FIELDS, phash_blocks(result.phash), strict=True))
    with transaction.atomic():
        # Conditional: only a file still processing becomes ready (a concurrent run may have
        # won). The hash's blocks are the near-match index (see works/conflicts/index.py).
        updated = WorkFile.objects.filter(pk=file_id, status=WorkFile.Status.PROCESSING).update(
            status=WorkFile.Status.READY,
            width=result.width,
            height=result.height,
            phash=fingerprints.to_signed64(result.phash),
            **blocks,
            thumbnail=stored,
            processed_at=timezone.now(),
        )
        if updated:  # now the image can be compared with other creators' images
            conflicts_detect(works=Work.objects.filter(pk=work_file.work_id))
    if not updated:  # another worker finished it first
        work_file.thumbnail.storage.delete(stored)
    work_file.refresh_from_db()
    return work_file


UNREADABLE = (
    "This file could not be read back from the file store to be processed, after several "
    "tries: please upload it again."
)


def work_file_unreadable(*, file_id: int, reason: str) -> WorkFile | None:
    """The worker could not read the stored file after its last try: refuse it with the
    reason, rather than leave it "processing"."""
    logger.warning("work file %s unreadable from storage: %s", file_id, reason)
    return _work_file_fail(file_id, UNREADABLE)


TOOK_TOO_LONG = (
    "This file took too long to process: it may be damaged or built to overload the site. "
    "Please try another copy."
)


def work_file_took_too_long(*, file_id: int) -> WorkFile | None:
    """The worker stopped processing the file at ``WORKS_PROCESSING_TIME_LIMIT``: refuse it, so
    the sweep does not queue it again and again."""
    return _work_file_fail(file_id, TOOK_TOO_LONG)


def _work_file_fail(file_id: int, message: str) -> WorkFile | None:
    """Refuse a file the worker could not process: remove what was stored, keep the reason."""
    with transaction.atomic():
        work_file = (
            WorkFile.objects.select_for_update()
            .filter(pk=file_id, status=WorkFile.Status.PROCESSING)
            .first()
        )
        if work_file is None:
            return None
        _discard_stored(work_file)
        WorkFile.objects.filter(pk=file_id).update(
            status=WorkFile.Status.FAILED,
            error=message,
            original="",
            thumbnail="",
            sha256="",
            phash=None,
            **dict.fromkeys(_PHASH_BLOCK_FIELDS),
            processed_at=timezone.now(),
        )
    work_file.refresh_from_db()
    return work_file


def work_files_sweep(*, now=None) -> int:
    """Queue again every image still processing after ``WORKS_PROCESSING_RETRY_AFTER``: its
    broker message may have been lost (broker down at upload, worker killed)."""
    from .tasks import work_file_process

    now = now or timezone.now()
    give_up = now - timedelta(seconds=settings.WORKS_PROCESSING_GIVE_UP_AFTER)
    for file_id in WorkFile.objects.filter(
        status=WorkFile.Status.PROCESSING, uploaded_at__lt=give_up
    ).values_list("pk", flat=True)[:1000]:
        _work_file_fail(file_id, "This file could not be processed: please try another copy.")
    cutoff = now - timedelta(seconds=settings.WORKS_PROCESSING_RETRY_AFTER)
    ids = list(
        WorkFile.objects.filter(
            status=WorkFile.Status.PROCESSING, uploaded_at__lt=cutoff
        ).values_list("pk", flat=True)[:1000]
    )
    for file_id in ids:
        work_file_process.delay(file_id)
    return len(ids)


# --- Claims ------------------------------------------------------------------------------------


def claim_request(
    *,
    actor: User,
    work: Work,
    url: str = "",
    statement: str = "",
    evidence_file: UploadedFile | None = None,
) -> Work:
    """The creator asks their guild to verify that the work is theirs, with evidence."""
    _require_owner(actor, work)
    with StoredFiles() as stored, transaction.atomic():
        return _claim_request(
            actor=actor,
            work=work,
            url=url,
            statement=statement,
            evidence_file=evidence_file,
            stored=stored,
        )


def _claim_request(*, actor, work, url, statement, evidence_file, stored) -> Work:
    work = Work.objects.select_for_update().get(pk=work.pk)
    if work.claim_state == Work.Claim.VERIFIED:
        raise ValidationError("This claim is already verified.")
    url, statement = url.strip(), statement.strip()
    if not (url or statement or evidence_file):
        raise ValidationError(
            "Attach some evidence: a file, a link, or a statement "
            "(for example from your publisher)."
        )
    evidence = ClaimEvidence(work=work, url=url, statement=statement, added_by=actor)
    if evidence_file is not None:
        filetype, _ = vet_upload(evidence_file, allowed_families={"text", "image"})
        evidence.file_name = (evidence_file.name or "evidence")[:255]
        evidence.file_mime = filetype.mime
        evidence.file_size = evidence_file.size
        evidence_file.seek(0)
        evidence.file.save(f"evidence{filetype.extensions[0]}", evidence_file, save=False)
        stored.names.append(evidence.file.name)
    evidence.full_clean(exclude=["file"])
    evidence.save()
    if not work.claim_pending:  # more evidence for a waiting claim keeps its place in the queue
        work.claim_requested_at = timezone.now()
    asked_again = work.claim_state != Work.Claim.SELF_DECLARED  # a rejected claim
    work.claim_state = Work.Claim.SELF_DECLARED
    work.claim_decided_at = None
    work.claim_decided_by = None
    work.claim_reason = ""
    work.save()
    if asked_again:
        works_changed([work])
    audit_record(
        actor=actor, action="claim.request", obj=work, after={"evidence": str(evidence)[:200]}
    )
    return work


@transaction.atomic
def claim_decide(*, actor: User, work: Work, verify: bool, reason: str = "") -> Work:
    """Staff of a guild the creator is a verified member of (or a superuser, when they have no
    verified membership) verify or reject their claim — never their own works."""
    work = Work.objects.select_for_update().select_related("owner").get(pk=work.pk)
    if not can_verify_claim(actor, work):
        raise PermissionDenied("You cannot decide this claim.")
    if not work.claim_pending:
        raise ValidationError("This claim is not awaiting a decision.")
    reason = reason.strip()
    if not verify and not reason:
        raise ValidationError(
            {"reason": "Say why the claim is rejected: the creator will read it."}
        )
    work.claim_state = Work.Claim.VERIFIED if verify else Work.Claim.REJECTED
    work.claim_decided_by = actor
    work.claim_decided_at = timezone.now()
    work.claim_reason = reason
    work.save()
    audit_record(
        actor=actor,
        action="claim.verify" if verify else "claim.reject",
        obj=work,
        before={"claim_state": "self_declared"},
        after={"claim_state": work.claim_state},
        reason=reason,
    )
    works_changed([work])
    mail.queue_templated(
        "works/email/claim_decided",
        [work.owner.email],
        {
            "work": work,
            "work_url": f"{settings.SITE_URL}{reverse('works:detail', args=[work.public_id])}",
            # Who decided: their guild's staff, or a portal administrator (issue 19).
            "by": capacity(member_id=work.owner_id, actor_id=actor.pk, at=work.claim_decided_at),
        },
    )
    return work


def claims_verify_many(
    *, actor: User, works, reason: str = "", access_checked: bool = False, notify: bool = True
) -> list[Work]:
    """Verify, in one go, the self-declared claims among ``works`` of one creator — the claim
    check staff make while reviewing their removal request. The same rule as ``claim_decide``
    (staff of their guild, or a superuser when they have none; never their own); one audit row and
    one email for all of them. Returns the works verified.

    ``access_checked``: the caller has already decided that ``actor`` may vouch for them — the
    moderator approving their removal request (``removals.access.can_moderate``), which includes
    the superuser deciding a request stranded because their guilds' only staff are themselves or
    whoever filed it. Nobody ever verifies their own claims.

    ``notify=False``: the caller tells them itself (a removal request's approval says it in the
    same email as the approval)."""
    works = list(works)
    owners = {w.owner_id for w in works}
    if not works:
        return []
    if len(owners) != 1:
        raise ValidationError("Claims are verified one creator at a time.")
    if actor.pk == works[0].owner_id or not (access_checked or can_verify_claim(actor, works[0])):
        raise PermissionDenied("You cannot decide these claims.")
    ids = [w.pk for w in works if w.claim_state == Work.Claim.SELF_DECLARED]
    if not ids:
        return []
    now = timezone.now()
    targets = list(
        Work.objects.select_for_update().filter(pk__in=ids, claim_state=Work.Claim.SELF_DECLARED)
    )
    Work.objects.filter(pk__in=[w.pk for w in targets]).update(
        claim_state=Work.Claim.VERIFIED,
        claim_decided_by=actor,
        claim_decided_at=now,
        claim_requested_at=Coalesce("claim_requested_at", Value(now)),
        claim_reason=reason.strip(),
    )
    if not targets:
        return []
    works_changed(targets)
    audit_record(
        actor=actor,
        action="claim.verify_many",
        obj=targets[0].owner,
        before={"claim_state": "self_declared", "works": [w.public_id for w in targets]},
        after={"claim_state": "verified"},
        reason=reason.strip(),
    )
    owner = targets[0].owner
    if not notify:
        return targets
    mail.queue_templated(
        "works/email/claims_verified",
        [owner.email],
        {
            "works": targets,
            "works_url": f"{settings.SITE_URL}{reverse('works:list')}",
            "by": capacity(member_id=owner.pk, actor_id=actor.pk, at=now),
        },
    )
    return targets
