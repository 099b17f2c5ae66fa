"""The evidence pack of a removal request: one ZIP with everything they may need to show what was
asked, of whom, when, and what came of it —

- ``summary.html``: the request, its works, what was asked, the two statements, and each
  developer's outcome (self-contained, every value escaped);
- ``notices/<developer>/``: each notice as sent (``notice.txt``, ``notice.html`` and its
  attachments), the reminders, any retraction, and the follow-up notices sent when the
  creator contested a "complied" (``follow-up-<n>``);
- ``contests.csv``: each developer's "complied" and what the creator made of it (issue 20);
- ``deliveries.csv``, ``answers.csv``: every delivery (with the Message-ID or webhook-id the
  developer received) and every answer (with the names of its files);
- ``answers/<developer>/``: the files staff attached to answers that arrived by other means
  (a scanned letter, an emailed reply);
- ``ledger.csv``: their consent-ledger entries touching these works, with their hashes and the
  exact hashed text, so each can be checked with nothing but a SHA-256 tool;
- ``evidence/``: the files they attached.

The ZIP is written to a temporary file (never held in memory whole) and streamed from it; files
are copied in chunks and rows are read in batches.
"""

import csv
import io
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import UTC

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from accounts import storage as stored_files
from consent.models import LedgerEntry
from notices.models import AnswerAttachment, Delivery, NoticeAnswer, NoticeAttachment
from works.csvsafe import safe_row
from works.models import Work

from .forms import ACCURACY_STATEMENT, GOOD_FAITH_STATEMENT
from .models import RemovalRequest
from .selectors import request_timeline, status_words

CHUNK = 64 * 1024
# Ledger scopes that name works: an entry of these kinds is in the pack only if it names one of
# the request's works (or all their works). Every other kind (their defaults, their credit line)
# applies to all their works, so it is in.
WORK_SCOPES = {"work", "works", "grant"}

README = """\
Evidence pack of removal request {pk}, made {made} by {site}.

summary.html      The request, its works, what was asked, the statements, each developer's outcome.
notices/          Each notice as sent to each developer (text, HTML and attachments), with any
                  reminders and retraction.
deliveries.csv    Every delivery: channel, recipient, status, attempts, when it was delivered, and
                  the Message-ID (email) or webhook-id (webhook) the developer received.
answers.csv       Every answer from the developers, with its statement and the files attached
                  to it (the "attachments" column names them inside this ZIP).
contests.csv      Each developer's "complied" and what the creator made of it: accepted, contested
                  (with the reason), asked again, or left until the time to contest it passed.
answers/          The files guild staff attached to answers that arrived by post or email,
                  one folder per developer.
ledger.csv        The creator's consent-ledger entries touching these works: {ledger_note}
evidence/         The files attached to the request.

Checking a ledger entry: its hash is SHA-256 of prev_hash, a newline, then the canonical text,
e.g.  printf '%s\\n%s' "$prev_hash" "$canonical" | sha256sum
The first entry of a chain has 64 zeros as prev_hash.
"""

LEDGER_NOTE = (
    "entries about these works (alone or among others), licences covering them, and the "
    "changes to their defaults and credit, which apply to every work. Entries about only their "
    "other works are left out, so seq numbers have gaps; each entry still checks on its own."
)


def _name(text: str, fallback: str) -> str:
    """A safe file name inside the ZIP: no folders, no dots in front."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text or "").strip(".-")
    return cleaned[:120] or fallback


class _Names:
    """Unique names within one folder of the ZIP."""

    def __init__(self, taken=()):
        self.taken = set(taken)

    def __call__(self, name: str) -> str:
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        candidate, n = name, 1
        while candidate in self.taken:
            n += 1
            candidate = f"{stem}-{n}.{ext}" if ext else f"{stem}-{n}"
        self.taken.add(candidate)
        return candidate


def _iso(value) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else ""


def _write_csv(archive: zipfile.ZipFile, name: str, header: list[str], rows) -> int:
    count = 0
    with archive.open(name, "w") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        writer = csv.writer(text)
        writer.writerow(header)
        for row in rows:
            writer.writerow(safe_row(row))
            count += 1
        text.flush()
        text.detach()
    return count


def _copy_file(archive: zipfile.ZipFile, name: str, field_file) -> None:
    with (
        stored_files.opened(field_file) as source,
        archive.open(name, "w", force_zip64=True) as target,
    ):
        shutil.copyfileobj(source, target, CHUNK)


def _touches(payload: dict, public_ids: set[str]) -> bool:
    scope = payload.get("scope") or {}
    kind = scope.get("kind")
    if kind not in WORK_SCOPES:
        return True
    if kind == "work":
        return scope.get("work") in public_ids
    works = scope.get("works")
    if works == "all":
        return True
    return bool(public_ids.intersection(works or []))


def ledger_rows(removal: RemovalRequest, public_ids: set[str]) -> Iterator[list]:
    entries = (
        LedgerEntry.objects.filter(chain__chain_id=removal.creator.ref)
        .select_related("chain")
        .order_by("seq")
    )
    for entry in entries.iterator(chunk_size=2000):
        try:
            payload = json.loads(entry.canonical)
        except ValueError:
            payload = {}
        if not _touches(payload, public_ids):
            continue
        yield [
            str(entry.chain.chain_id),
            entry.seq,
            _iso(entry.created_at),
            payload.get("action", ""),
            entry.scope_label,
            entry.prev_hash,
            entry.hash,
            entry.canonical,
        ]


def _delivery_rows(deliveries: list[Delivery], roles: dict[int, str]) -> Iterator[list]:
    for d in deliveries:
        yield [
            d.notice.developer.name,
            roles.get(d.notice_id, "notice"),
            d.notice.subject,
            d.get_channel_display(),
            d.recipient,
            d.get_status_display(),
            d.attempts,
            _iso(d.delivered_at),
            "Message-ID" if d.channel == Delivery.Channel.EMAIL else "webhook-id",
            d.identity,
            _iso(d.created_at),
        ]


def _answer_rows(answers: list[NoticeAnswer], files: dict[int, list[str]]) -> Iterator[list]:
    for a in answers:
        yield [
            a.notice.developer.name,
            a.get_kind_display(),
            a.statement,
            a.get_via_display(),
            a.received_by,
            _iso(a.created_at),
            "; ".join(files.get(a.pk, [])),
        ]


def _contest_rows(removal: RemovalRequest, roles: dict[int, str]) -> Iterator[list]:
    """Every "complied" of the request's developers and what became of it (issue 20)."""
    contests = removal.compliance_contests.select_related("developer", "answer").order_by(
        "created_at", "pk"
    )
    for c in contests:
        yield [
            c.developer.name,
            _iso(c.answer.created_at),
            c.answer.statement,
            c.get_state_display(),
            _iso(c.window_ends_at),
            _iso(c.decided_at),
            c.reason,
            _iso(c.asked_again_at),
            roles.get(c.follow_up_id, "") if c.follow_up_id else "",
        ]


def _answer_files(answers: list[NoticeAnswer]) -> list[tuple[str, AnswerAttachment]]:
    """``(path in the ZIP, attachment)`` of every file attached to ``answers`` (one query):
    ``answers/<developer-slug>/<filename>``, unique within each developer's folder."""
    developers = {a.pk: a.notice.developer for a in answers}
    attachments = AnswerAttachment.objects.filter(answer_id__in=list(developers)).order_by(
        "answer__created_at", "answer_id", "pk"
    )
    names_per_folder: dict[str, _Names] = {}
    files = []
    for attachment in attachments:
        developer = developers[attachment.answer_id]
        folder = f"answers/{_name(developer.slug, str(developer.pk))}"
        names = names_per_folder.setdefault(folder, _Names())
        name = names(_name(attachment.filename, f"attachment-{attachment.pk}"))
        files.append((f"{folder}/{name}", attachment))
    return files


def pack_build(removal: RemovalRequest):
    """The pack as an open temporary file, positioned at its start (closing it deletes it)."""
    removal = RemovalRequest.objects.select_related("creator", "creator__creator_profile").get(
        pk=removal.pk
    )
    timeline = request_timeline(removal)
    notices = timeline.notices
    roles, folders = {}, {}
    reminder_counts: dict[int, int] = {}
    again_counts: dict[int, int] = {}
    for notice in notices:
        folders[notice.pk] = f"notices/{_name(notice.developer.slug, str(notice.developer_id))}"
        if notice.kind == notice.Kind.REMINDER:
            n = reminder_counts[notice.developer_id] = (
                reminder_counts.get(notice.developer_id, 0) + 1
            )
            roles[notice.pk] = f"reminder-{n}"
        elif ":retraction:" in notice.key:
            roles[notice.pk] = "retraction"
        elif ":again:" in notice.key:  # asked again after a contest (issue 20)
            n = again_counts[notice.developer_id] = again_counts.get(notice.developer_id, 0) + 1
            roles[notice.pk] = f"follow-up-{n}"
        else:
            roles[notice.pk] = "notice"

    works = list(
        removal.works.select_related("file").prefetch_related("identifiers").order_by("title", "pk")
    )
    public_ids = {w.public_id for w in works}
    evidence = list(removal.evidence.all())

    archive_file = tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR)  # noqa: SIM115 - returned open
    try:
        with zipfile.ZipFile(archive_file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            made = timezone.now()
            archive.writestr(
                "README.txt",
                README.format(
                    pk=removal.pk,
                    made=_iso(made),
                    site=settings.SITE_NAME,
                    ledger_note=LEDGER_NOTE,
                ),
            )

            names_per_folder: dict[str, _Names] = {}
            for notice in notices:
                folder = folders[notice.pk]
                names = names_per_folder.setdefault(folder, _Names())
                role = roles[notice.pk]
                archive.writestr(f"{folder}/{names(role + '.txt')}", notice.text)
                if notice.html:
                    archive.writestr(f"{folder}/{names(role + '.html')}", notice.html)
            attachments = (
                NoticeAttachment.objects.filter(notice__in=[n.pk for n in notices])
                .select_related("blob")
                .order_by("notice_id", "pk")
                .iterator(chunk_size=20)
            )
            for attachment in attachments:
                folder = folders[attachment.notice_id]
                role = roles[attachment.notice_id]
                base = _name(attachment.filename, "attachment")
                name = base if role == "notice" else f"{role}-{base}"
                # Streamed from the file storage, where notice attachments live.
                _copy_file(
                    archive, f"{folder}/{names_per_folder[folder](name)}", attachment.blob.file
                )

            _write_csv(
                archive,
                "deliveries.csv",
                [
                    "developer",
                    "notice",
                    "subject",
                    "channel",
                    "recipient",
                    "status",
                    "attempts",
                    "delivered_at",
                    "identity_kind",
                    "identity",
                    "queued_at",
                ],
                _delivery_rows(timeline.deliveries, roles),
            )
            answer_files = _answer_files(timeline.answers)
            files_by_answer: dict[int, list[str]] = {}
            for path, attachment in answer_files:
                files_by_answer.setdefault(attachment.answer_id, []).append(path)
            _write_csv(
                archive,
                "answers.csv",
                ["developer", "kind", "statement", "via", "received_by", "time", "attachments"],
                _answer_rows(timeline.answers, files_by_answer),
            )
            for path, attachment in answer_files:
                _copy_file(archive, path, attachment.file)
            _write_csv(
                archive,
                "contests.csv",
                [
                    "developer",
                    "complied_at",
                    "statement",
                    "state",
                    "contest_until",
                    "decided_at",
                    "reason",
                    "asked_again_at",
                    "follow_up_notice",
                ],
                _contest_rows(removal, roles),
            )
            ledger_count = _write_csv(
                archive,
                "ledger.csv",
                [
                    "chain",
                    "seq",
                    "created_at",
                    "action",
                    "label",
                    "prev_hash",
                    "hash",
                    "canonical",
                ],
                ledger_rows(removal, public_ids),
            )

            evidence_names = _Names()
            evidence_files = []
            for item in evidence:
                name = evidence_names(_name(item.filename, f"evidence-{item.pk}"))
                _copy_file(archive, f"evidence/{name}", item.file)
                evidence_files.append((name, item))

            archive.writestr(
                "summary.html",
                render_to_string(
                    "removals/offline/pack_summary.html",
                    {
                        "removal": removal,
                        "status_words": status_words(removal),
                        "works": works,
                        "evidence_files": evidence_files,
                        "timeline": timeline,
                        "good_faith_statement": GOOD_FAITH_STATEMENT,
                        "accuracy_statement": ACCURACY_STATEMENT,
                        "ledger_note": LEDGER_NOTE,
                        "ledger_count": ledger_count,
                        "made": made,
                        "site_name": settings.SITE_NAME,
                        "claim_labels": dict(Work.Claim.choices),
                    },
                ),
            )
    except BaseException:
        archive_file.close()
        raise
    archive_file.seek(0)
    return archive_file
