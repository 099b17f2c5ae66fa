"""Developers' answers to notices.

``answer_record`` is the one way an answer is written, whatever brought it: the signed link in
the email (no account), the developer dashboard, the API (an organisation's key), or staff
recording an answer that arrived by other means (an email reply, a letter). Every answer keeps
its time and actor; the first one sets ``Notice.answered_at``, which stops the reminders and the
overdue escalation (``deadlines.open_notices``). The caller whose topic it is hears of each new
answer through its registered handler (``handlers.register_answer_handler``), inside the same
transaction.

Staff may attach files to the answer they record (a scanned letter, a saved email): each is
checked before anything is written — its size (``NOTICES_ANSWER_ATTACHMENT_MAX_BYTES``) and its
type, decided by its content, never its name (PDF, PNG, JPEG or UTF-8 text such as a saved
``.eml``) — and stored with the answer in the same transaction: if a file cannot be stored,
the answer is not recorded either.
"""

import codecs
import hashlib
import os
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, SuspiciousFileOperation, ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from accounts.models import User
from accounts.services import audit_record

from ..access import developer_of
from ..handlers import answer_handler_for, staff_may_act
from ..models import AnswerAttachment, APIKey, Notice, NoticeAnswer

STATEMENT_MAX = 10_000
FINAL = (NoticeAnswer.Kind.COMPLIED, NoticeAnswer.Kind.DISPUTED)


def answer_fingerprint(kind: str, statement: str) -> str:
    return hashlib.sha256(f"{kind}\n{statement}".encode()).hexdigest()


def _normalise(statement: str) -> str:
    lines = [" ".join(line.split()) for line in (statement or "").strip().splitlines()]
    return "\n".join(lines).strip()


def answerable_notice(notice: Notice) -> Notice:
    """The notice an answer is about: a reminder's answer belongs to the notice it reminds of."""
    return notice.reminds if notice.reminds_id else notice


def _check_actor(notice: Notice, via: str, user: User | None, api_key: APIKey | None) -> None:
    if via == NoticeAnswer.Via.LINK:
        return  # whoever holds the signed link for this notice
    if via == NoticeAnswer.Via.DASHBOARD:
        own = developer_of(user)
        if own is None or own.pk != notice.developer_id:
            raise PermissionDenied("Only the organisation's people answer from its dashboard.")
        return
    if via == NoticeAnswer.Via.API:
        if api_key is None or api_key.revoked_at or api_key.developer_id != notice.developer_id:
            raise PermissionDenied("This key does not belong to the notice's organisation.")
        return
    if via == NoticeAnswer.Via.STAFF:
        if not staff_may_act(user, notice):
            raise PermissionDenied(
                "Only registry managers, superusers and the staff the notice names as contact "
                "record answers."
            )
        return
    raise ValueError(f"Unknown way of answering: {via!r}")


# --- Files attached by staff ---------------------------------------------------------------------

MAX_ATTACHMENTS = 10
FILENAME_MAX = 100
HEAD_BYTES = 1024

PDF, PNG, JPEG, TEXT = "application/pdf", "image/png", "image/jpeg", "text/plain; charset=utf-8"
# The extensions a name may have for each type; a name claiming another type's extension is a
# disguise and is refused. A text file keeps its name only with a harmless extension (a
# downloaded ``.bat`` or ``.js`` of text would run when opened): otherwise ``.txt`` is added.
EXTENSIONS = {PDF: (".pdf",), PNG: (".png",), JPEG: (".jpg", ".jpeg", ".jpe")}
TEXT_EXTENSIONS = (".txt", ".eml", ".text", ".log", ".csv", ".md")
TYPE_LABELS = {PDF: "a PDF", PNG: "a PNG image", JPEG: "a JPEG image", TEXT: "plain text"}
MARKUP_EXTENSIONS = (".html", ".htm", ".xhtml", ".shtml", ".svg", ".svgz", ".xml", ".xsl")
# Text may hold tabs, line ends and form feeds; any other control character means binary.
_CONTROL = {chr(c) for c in range(32) if c not in (9, 10, 12, 13)} | {"\x7f"}


@dataclass(frozen=True)
class CheckedFile:
    upload: object
    filename: str
    content_type: str
    size: int
    sha256: str


def _size_label(size: int) -> str:
    from django.template.defaultfilters import filesizeformat

    return filesizeformat(size).replace("\xa0", " ")


def _chunks(upload):
    upload.seek(0)
    if hasattr(upload, "chunks"):
        yield from upload.chunks()
    else:
        while chunk := upload.read(64 * 1024):
            yield chunk


def _sniff(upload, filename: str, max_bytes: int) -> tuple[str, int, str]:
    """(content type, size, sha256) of an upload, decided by its content; raises
    ``ValidationError`` with a message naming the file."""
    name = f"“{filename}”"
    declared = getattr(upload, "size", None)
    limit = f"{name} is larger than {_size_label(max_bytes)}, the limit for one file."
    if declared is not None and declared > max_bytes:
        raise ValidationError(limit)
    digest, size, head = hashlib.sha256(), 0, b""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    is_text, start = True, ""
    for chunk in _chunks(upload):
        size += len(chunk)
        if size > max_bytes:
            raise ValidationError(limit)
        digest.update(chunk)
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        if is_text:
            try:
                decoded = decoder.decode(chunk)
            except UnicodeDecodeError:
                is_text = False
            else:
                if any(char in _CONTROL for char in decoded):
                    is_text = False
                if len(start) < 64:
                    start += decoded[: 64 - len(start)]
    if is_text:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            is_text = False
    if size == 0:
        raise ValidationError(f"{name} is empty.")
    if head.startswith(b"%PDF-"):
        content_type = PDF
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        content_type = PNG
    elif head.startswith(b"\xff\xd8\xff"):
        content_type = JPEG
    elif is_text:
        if start.lstrip().startswith("<"):
            raise ValidationError(
                f"{name} is HTML or other markup, which is not kept: save the email as .eml "
                "or print the page to PDF."
            )
        content_type = TEXT
    else:
        raise ValidationError(
            f"{name} is not a PDF, a PNG or JPEG image, or a text file (such as a saved "
            ".eml email), whatever its name says: it was not accepted."
        )
    extension = os.path.splitext(filename)[1].lower()
    if extension in MARKUP_EXTENSIONS:
        raise ValidationError(f"{name} is named as HTML or markup, which is not kept.")
    for other, extensions in EXTENSIONS.items():
        if extension in extensions and other != content_type:
            raise ValidationError(
                f"{name} is named like {TYPE_LABELS[other]} but its content is "
                f"{TYPE_LABELS[content_type]}: it was not accepted."
            )
    return content_type, size, digest.hexdigest()


def _safe_stem(stem: str) -> str:
    try:
        return get_valid_filename(stem.strip(". "))[:80]
    except SuspiciousFileOperation:  # nothing usable left
        return "attachment"


def attachment_filename(name: str, content_type: str) -> str:
    """A safe file name: no folders, no odd characters, at most 100 characters, and an
    extension that matches the content."""
    name = os.path.basename((name or "").replace("\\", "/")).strip()
    stem, extension = os.path.splitext(name)
    extension = extension.lower()
    if not extension.isascii() or not extension[1:].isalnum():
        stem, extension = stem + extension, ""
    stem = _safe_stem(stem)
    if content_type == TEXT:
        if extension not in TEXT_EXTENSIONS:
            stem, extension = _safe_stem(stem + extension), ".txt"
    elif extension not in EXTENSIONS[content_type]:
        extension = EXTENSIONS[content_type][0]
    return (stem + extension)[:FILENAME_MAX]


def attachments_check(attachments) -> list[CheckedFile]:
    """Check every file before anything is written; one ``ValidationError`` (on the field
    ``attachments``) lists every refusal."""
    attachments = [upload for upload in attachments or () if upload is not None]
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationError(
            {"attachments": f"Attach at most {MAX_ATTACHMENTS} files to one answer."}
        )
    max_bytes = settings.NOTICES_ANSWER_ATTACHMENT_MAX_BYTES
    checked, errors = [], []
    for upload in attachments:
        name = os.path.basename(str(getattr(upload, "name", "") or "attachment"))
        try:
            content_type, size, sha256 = _sniff(upload, name, max_bytes)
        except ValidationError as exc:
            errors.extend(exc.messages)
            continue
        checked.append(
            CheckedFile(
                upload=upload,
                filename=attachment_filename(name, content_type),
                content_type=content_type,
                size=size,
                sha256=sha256,
            )
        )
    if errors:
        raise ValidationError({"attachments": errors})
    return checked


def _store(answer: NoticeAnswer, files: list[CheckedFile], stored: list) -> list[AnswerAttachment]:
    rows = []
    for checked in files:
        attachment = AnswerAttachment(
            answer=answer,
            filename=checked.filename,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
        )
        checked.upload.seek(0)
        attachment.file.save(checked.filename, File(checked.upload), save=False)
        stored.append((attachment.file.storage, attachment.file.name))
        attachment.save(force_insert=True)
        rows.append(attachment)
    return rows


def _remove(stored: list) -> None:
    for storage, name in stored:
        try:
            storage.delete(name)
        except Exception:  # best effort: the answer was not recorded either way
            pass


def answer_record(
    *,
    notice: Notice,
    kind: str,
    statement: str = "",
    via: str,
    user: User | None = None,
    api_key: APIKey | None = None,
    received_by: str = "",
    attachments=(),
) -> tuple[NoticeAnswer, bool]:
    """Record an answer to ``notice`` (or to the notice a reminder reminds of). Returns
    ``(answer, created)``: posting the same answer again returns the first one, unchanged.

    Refused with ``ValidationError`` (nothing written): an unknown kind, a compliance or
    dispute without a statement, a statement over 10,000 characters, a notice that asks for
    no answer, an acknowledgement after the developer already complied or disputed, and an
    attachment that is too large or of a type not kept (``attachments_check``).

    ``attachments`` (uploaded files) are for staff only (``via=STAFF``). They are stored with
    the answer in its transaction; if one cannot be stored, nothing is recorded. When the same
    answer was already recorded, the first one stands and the files are not added to it.
    """
    notice = answerable_notice(notice)
    if kind not in NoticeAnswer.Kind.values:
        raise ValidationError(f"Unknown answer “{kind}”.")
    statement = _normalise(statement)
    if len(statement) > STATEMENT_MAX:
        raise ValidationError(f"Keep the statement under {STATEMENT_MAX:,} characters.")
    if kind == NoticeAnswer.Kind.COMPLIED and not statement:
        raise ValidationError("Say what you did to comply (the statement is sent to the creator).")
    if kind == NoticeAnswer.Kind.DISPUTED and not statement:
        raise ValidationError("Give the reason for the dispute.")
    if via == NoticeAnswer.Via.STAFF:
        received_by = " ".join((received_by or "").split())
        if not received_by:
            raise ValidationError("Say how the answer arrived (an email reply, a letter…).")
    else:
        received_by = ""
    if attachments and via != NoticeAnswer.Via.STAFF:
        raise ValueError("Only an answer recorded by staff carries attachments.")
    _check_actor(notice, via, user, api_key)
    if not notice.answerable:
        raise ValidationError("This notice asks for no answer.")
    files = attachments_check(attachments) if attachments else []

    fingerprint = answer_fingerprint(kind, statement)
    stored: list = []
    try:
        return _record(
            notice=notice,
            kind=kind,
            statement=statement,
            via=via,
            user=user,
            api_key=api_key,
            received_by=received_by,
            fingerprint=fingerprint,
            files=files,
            stored=stored,
        )
    except BaseException:
        _remove(stored)  # the transaction rolled back: no file outlives its answer
        raise


def _record(
    *, notice, kind, statement, via, user, api_key, received_by, fingerprint, files, stored
) -> tuple[NoticeAnswer, bool]:
    with transaction.atomic():
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        existing = NoticeAnswer.objects.filter(notice=locked, fingerprint=fingerprint).first()
        if existing is not None:
            return existing, False
        if (
            kind == NoticeAnswer.Kind.ACKNOWLEDGED
            and NoticeAnswer.objects.filter(notice=locked, kind__in=FINAL).exists()
        ):
            raise ValidationError(
                "This notice was already answered with compliance or a dispute; "
                "an acknowledgement would add nothing."
            )
        now = timezone.now()
        answer = NoticeAnswer(
            notice=locked,
            kind=kind,
            statement=statement,
            via=via,
            user=user if user is not None and user.is_authenticated else None,
            api_key=api_key,
            received_by=received_by,
            fingerprint=fingerprint,
            created_at=now,
        )
        try:
            with transaction.atomic():
                answer.save(force_insert=True)
        except IntegrityError:  # the same answer, posted twice at once: the first one stands
            return NoticeAnswer.objects.get(notice=locked, fingerprint=fingerprint), False
        try:
            rows = _store(answer, files, stored)
        except OSError as exc:
            raise ValidationError(
                {
                    "attachments": "The files could not be stored, so nothing was recorded. "
                    f"Try again in a moment. ({exc.strerror or exc})"
                }
            ) from exc
        if locked.answered_at is None:
            Notice.objects.filter(pk=locked.pk).update(answered_at=now)
            locked.answered_at = now
        notice.answered_at = locked.answered_at
        if via == NoticeAnswer.Via.STAFF:
            audit_record(
                actor=user,
                action="notice.answer_record",
                obj=answer,
                after={
                    "notice": locked.pk,
                    "kind": kind,
                    "received_by": received_by,
                    # The audit log keeps flat values: one line per file.
                    "attachments": "\n".join(
                        f"{row.filename} ({row.size} bytes, sha256 {row.sha256})" for row in rows
                    ),
                },
            )
        handler = answer_handler_for(locked.topic)
        if handler is not None:
            handler(answer)
    return answer, True
