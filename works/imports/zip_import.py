"""The ZIP import, run by the worker: each file of the archive becomes a work, through the same
pipeline as a single upload (type by content, the family's size limit, the storage allowance,
``check_name`` and ``check_structure``, SHA-256, then the image worker's thumbnail and
perceptual hash), optionally described by a metadata CSV keyed by file name.

Refused before anything is unpacked: more entries than ``WORKS_ZIP_MAX_ENTRIES`` (read from the
end-of-archive record, before Python builds its list of entries), an oversized table of
contents, and entries that share or overlap their data (each entry's span, from its local header
through its compressed data, must stand alone and before the table of contents: zip bombs list
the same bytes many times) — the whole archive (``zip_layout``); absolute paths, drive letters
and ``..`` (an entry); encrypted entries; archives inside the archive (by name or by content);
entries whose declared size is over their family's limit or that are compressed more than
100 to 1. Declared sizes can lie, so each entry is unpacked in 1 MiB chunks into a temporary
file and stopped as soon as it passes its limit. Directories and the litter of file managers
(``__MACOSX/``, ``.DS_Store``, ``Thumbs.db``, ``._*``) are skipped.

Each import has a budget of unpacked bytes (``Budget``): at most ``WORKS_ZIP_MAX_UNPACKED_BYTES``
in all, and never more than the owner's remaining storage allowance plus the files the archive
matches — every byte that comes out counts, the files already stored and only matched too, and
files refused after unpacking. An entry whose declared size would pass it stops the import
(``BudgetReached``, the job's error) before it is unpacked, unless it would not fit their storage
anyway: then it alone is refused, as before.

Each entry is one transaction (its work, or its error, with the job's counters); a re-run
skips the entries already counted, and a file the owner already has (same SHA-256), or whose
metadata identifiers they already registered, matches that work instead of duplicating it.
"""

import hashlib
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat

from accounts import storage as stored_files

from .. import services
from ..filetypes import SNIFF_BYTES, sniff
from ..models import ImportJob, ImportRowError, Work, WorkFile, WorkIdentifier
from ..uploads import over_quota_message
from .csvfiles import (
    ImportFileError,
)
from .jobs import advance
from .rows import Row, parse_row
from .zip_layout import NOT_ZIP, check_directory, check_spans, too_many
from .zip_metadata import Metadata, entry_path, read_metadata, report_column

CHUNK = 1 << 20
MAX_RATIO = 100  # unpacked / packed, for entries over RATIO_FROM bytes
RATIO_FROM = 1 << 20
METADATA_NAME = "metadata.csv"
JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
ARCHIVE_EXTENSIONS = {
    ".zip", ".7z", ".rar", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".cab", ".iso",
}  # fmt: skip
ARCHIVE_MAGIC = (
    b"\x1f\x8b",  # gzip
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",  # zstandard
    b"MSCF",  # cabinet
)
KIND_OF_FAMILY = {
    "image": Work.Kind.PHOTOGRAPH,
    "audio": Work.Kind.RECORDING,
    "video": Work.Kind.VIDEO,
    "text": Work.Kind.OTHER,
}

OUTSIDE = (
    "Refused: this path points outside the archive (an absolute path, a drive letter or “..”)."
)
NESTED = "Refused: archives inside the archive are not imported. Unpack it and add its files."
ENCRYPTED = "Refused: this entry is encrypted. Make the archive again without a password."
STRAY_CSV = (
    "Not imported: a CSV file is read only as the archive's metadata, which must be the one "
    f"CSV file at the top of the archive or be named {METADATA_NAME}."
)
DAMAGED = "This entry is damaged and could not be unpacked ({reason})."
BOMB = (
    "Refused: this entry unpacks to {unpacked} from {packed}, more than {ratio} times its "
    "packed size, as zip bombs do."
)


OVER_TOTAL = (
    "The import stopped at entry {number:,} ({path}): an import unpacks at most {total}, and "
    "this archive unpacks to more. {done} Split the archive and import the rest."
)
OVER_QUOTA = (
    "The import stopped at entry {number:,} ({path}): an import unpacks no more than your "
    "remaining storage allowance ({quota}) plus the files it finds you already stored — files "
    "it refuses after unpacking count too — and this archive needs more. {done} Free some "
    "space, or take the files refused in the report out of the archive, and import the rest."
)


class EntryRefused(Exception):
    """This entry is not imported; the message says why, for the error report."""


class BudgetReached(ImportFileError):
    """The import stops here: the job fails with this message; what it imported stays."""


class NotAMatch(Exception):
    """An entry unpacked past the budget only because it might have been a file they stored."""


@dataclass
class Budget:
    """What one run of an import may still unpack. ``total`` is ``WORKS_ZIP_MAX_UNPACKED_BYTES``,
    ``quota`` their storage allowance left when the run began. Every byte unpacked counts
    (``unpacked``); those of files that matched one they had stored take no new space, so
    ``unpacked`` stays within ``min(total, quota + matched)``."""

    total: int
    quota: int
    unpacked: int = 0
    matched: int = 0
    stored: int = 0

    @property
    def storage_left(self) -> int:
        return self.quota - self.stored

    @property
    def room(self) -> int:
        return min(self.total, self.quota + self.matched) - self.unpacked


def _done(index: int) -> str:
    if index == 0:
        return "Nothing was imported."
    if index == 1:
        return "The file before it is done."
    return f"The {index:,} files before it are done."


def run_zip(job: ImportJob, token: int) -> None:
    # zipfile needs a seekable file: on a bucket, a temporary copy removed at the end.
    with stored_files.seekable(job.source) as raw:
        check_directory(raw)
        try:
            archive = zipfile.ZipFile(raw)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise ImportFileError(NOT_ZIP) from None
        with archive:
            infos = archive.infolist()
            limit = settings.WORKS_ZIP_MAX_ENTRIES
            if len(infos) > limit:
                raise too_many(len(infos), limit)
            check_spans(raw, infos, archive.start_dir)
            metadata_info = _metadata_entry(infos)
            entries = [
                (number, info)
                for number, info in enumerate(infos, start=1)
                if info is not metadata_info and not _skipped(info)
            ]
            metadata = Metadata()
            if metadata_info is not None:
                number = infos.index(metadata_info) + 1
                metadata = read_metadata(archive, metadata_info, number, entries)
            if job.total_rows is None:
                with transaction.atomic():
                    ImportRowError.objects.bulk_create(
                        ImportRowError(job=job, row=row, column=column, message=message)
                        for row, column, message in metadata.problems
                    )
                    advance(job, token, total_rows=len(entries))
            done = ImportJob.objects.values_list("processed_rows", flat=True).get(pk=job.pk)
            budget = Budget(
                total=settings.WORKS_ZIP_MAX_UNPACKED_BYTES,
                quota=services.quota_left(user=job.owner),
            )
            for index, (number, info) in enumerate(entries):
                if index < done:  # counted by an earlier run of this job
                    continue
                import_entry(
                    job, token, archive, number, info, metadata.rows.get(number), budget, index
                )


# --- Entries -----------------------------------------------------------------------------------


def _skipped(info: zipfile.ZipInfo) -> bool:
    """Folders and the litter of file managers: not works, not errors."""
    path = entry_path(info)
    if info.is_dir() or path.endswith("/"):
        return True
    parts = path.split("/")
    name = parts[-1]
    return "__MACOSX" in parts or name.lower() in JUNK_NAMES or name.startswith("._")


def _metadata_entry(infos) -> zipfile.ZipInfo | None:
    """``metadata.csv`` at the top of the archive (or in its single top folder), else the one
    CSV file at the top."""
    files = [info for info in infos if not _skipped(info)]
    named = [i for i in files if PurePosixPath(entry_path(i)).name.lower() == METADATA_NAME]
    named = [i for i in named if entry_path(i).count("/") <= 1 and not _outside(entry_path(i))]
    if named:
        return min(named, key=lambda i: entry_path(i).count("/"))
    top = [i for i in files if "/" not in entry_path(i) and entry_path(i).lower().endswith(".csv")]
    return top[0] if len(top) == 1 else None


def _outside(path: str) -> bool:
    return (
        "\x00" in path
        or path.startswith("/")
        or re.match(r"[A-Za-z]:", path) is not None
        or ".." in path.split("/")
    )


def import_entry(job, token, archive, number, info, meta, budget: Budget, index: int) -> None:
    """Import one entry within the budget (``BudgetReached`` stops the import before it is
    unpacked)."""
    upload = None
    try:
        _check_entry(info)
        cap, may_store = _cap(job, number, info, budget, index)
        upload = _unpack(archive, info, cap, budget)
        row = _row(number, info, upload.filetype, meta)
        added = _store(job, token, row, upload, may_store=may_store)
        if added:
            budget.stored += added
        else:
            budget.matched += upload.size
    except NotAMatch:
        raise _over_quota(number, info, budget, index) from None
    except EntryRefused as exc:
        with transaction.atomic():
            ImportRowError.objects.create(
                job=job, row=number, column=report_column(entry_path(info)), message=str(exc)
            )
            advance(job, token, processed=1, errors=1)
    finally:
        if upload is not None:
            upload.close()  # deletes the temporary file, unless storage moved it


def _cap(job, number, info, budget: Budget, index: int) -> tuple[int, bool]:
    """How many bytes this entry may unpack, and whether it may be stored as a new file. An
    entry over what is left of the budget stops the import, unless it does not fit their storage
    either (refused alone, as ever) — or it may be a file they already stored (one of theirs has
    exactly its size): then it is unpacked to see, and kept only if it matches."""
    declared = info.file_size
    if budget.unpacked + declared > budget.total:
        raise BudgetReached(
            OVER_TOTAL.format(total=filesizeformat(budget.total), **_where(number, info, index))
        )
    if declared <= budget.room:
        return budget.room, True
    if WorkFile.objects.filter(work__owner_id=job.owner_id, size=declared).exists():
        return declared, False
    if declared > budget.storage_left:
        raise EntryRefused(over_quota_message(budget.storage_left))
    raise _over_quota(number, info, budget, index)


def _where(number, info, index: int) -> dict:
    return {"number": number, "path": report_column(entry_path(info)), "done": _done(index)}


def _over_quota(number, info, budget: Budget, index: int) -> BudgetReached:
    quota = filesizeformat(max(budget.quota, 0))
    return BudgetReached(OVER_QUOTA.format(quota=quota, **_where(number, info, index)))


def _check_entry(info: zipfile.ZipInfo) -> None:
    path = entry_path(info)
    if _outside(path):
        raise EntryRefused(OUTSIDE)
    if info.flag_bits & 0x1:
        raise EntryRefused(ENCRYPTED)
    name = PurePosixPath(path).name.lower()
    if os.path.splitext(name)[1] in ARCHIVE_EXTENSIONS:
        raise EntryRefused(NESTED)
    if name.endswith(".csv"):
        raise EntryRefused(STRAY_CSV)
    largest = max(settings.WORKS_MAX_BYTES.values())
    if info.file_size > largest:
        raise EntryRefused(
            f"This file is too large: {filesizeformat(info.file_size)}, and the largest "
            f"file accepted is {filesizeformat(largest)}."
        )
    if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise EntryRefused(
            BOMB.format(
                unpacked=filesizeformat(info.file_size),
                packed=filesizeformat(info.compress_size),
                ratio=MAX_RATIO,
            )
        )


def _too_big(family: str, family_limit: int) -> str:
    return (
        f"This {family} file is too large: the limit for {family} files is "
        f"{filesizeformat(family_limit)}."
    )


def _unpack(archive, info, cap: int, budget: Budget) -> TemporaryUploadedFile:
    """The entry, vetted as the upload handler vets an upload: type from the first bytes, the
    family's limit (and the budget's ``cap``) enforced while unpacking, SHA-256 on the way.
    Every byte that comes out is counted in ``budget.unpacked``."""
    name = PurePosixPath(entry_path(info)).name
    try:
        stream = archive.open(info)
    except NotImplementedError:
        raise EntryRefused(DAMAGED.format(reason="an unsupported compression method")) from None
    except (zipfile.BadZipFile, RuntimeError, OSError) as exc:
        raise EntryRefused(DAMAGED.format(reason=exc)) from None
    upload = None
    size = 0
    try:
        with stream:
            head = b""
            while len(head) < SNIFF_BYTES and (more := stream.read(SNIFF_BYTES - len(head))):
                head += more
                budget.unpacked += len(more)
            if head.startswith(ARCHIVE_MAGIC) or head[257:262] == b"ustar":
                raise EntryRefused(NESTED)
            try:
                filetype = sniff(head)
            except ValidationError as exc:
                raise EntryRefused(NESTED if exc.code == "zip" else exc.messages[0]) from None
            family_limit = settings.WORKS_MAX_BYTES[filetype.family]
            if info.file_size > family_limit:
                raise EntryRefused(_too_big(filetype.family, family_limit))
            upload = TemporaryUploadedFile(name, filetype.mime, 0, None)
            hasher = hashlib.sha256()
            chunk = head
            while chunk:
                size += len(chunk)
                if size > family_limit:  # the declared size lied
                    raise EntryRefused(_too_big(filetype.family, family_limit))
                if size > cap:  # zipfile stops at the declared size, but trust nobody
                    raise EntryRefused(over_quota_message(budget.storage_left))
                hasher.update(chunk)
                upload.write(chunk)
                chunk = stream.read(CHUNK)
                budget.unpacked += len(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        if upload is not None:
            upload.close()
        raise EntryRefused(DAMAGED.format(reason=exc)) from None
    except EntryRefused:
        if upload is not None:
            upload.close()
        raise
    upload.flush()
    upload.seek(0)
    upload.size = size
    upload.sha256 = hasher.hexdigest()
    upload.filetype = filetype
    return upload


def _row(number, info, filetype, meta) -> Row:
    """The work's fields: the metadata row's, with the file name as the title and the kind
    its family suggests when the row does not say."""
    path = PurePosixPath(entry_path(info))
    defaults = {"title": (path.stem or path.name)[:300], "kind": KIND_OF_FAMILY[filetype.family]}
    if meta is None:
        return parse_row(number, {}, defaults=defaults)
    row_number, cells = meta
    result = parse_row(number, cells, defaults=defaults)
    if isinstance(result, list):
        raise EntryRefused(
            "; ".join(
                f"metadata row {row_number:,}, {column}: {message}" for column, message in result
            )
        )
    return result


def _store(job, token, row: Row, upload, *, may_store: bool = True) -> int:
    """Match, attach or create; returns the bytes it added to their storage (0: a match). With
    ``may_store`` false (unpacked only because it might be a match), anything but a match stops
    the import."""
    owner = job.owner
    same_file = (
        WorkFile.objects.filter(work__owner_id=owner.pk, sha256=upload.sha256)
        .order_by("work_id")
        .values_list("work_id", flat=True)
        .first()
    )
    if same_file is not None:
        with transaction.atomic():
            _add_identifiers(owner, same_file, row)
            advance(job, token, processed=1, matched=1)
        return 0
    same_identifier = _work_with_identifier(owner, row)
    if same_identifier is not None and WorkFile.objects.filter(work_id=same_identifier).exists():
        with transaction.atomic():
            _add_identifiers(owner, same_identifier, row)
            advance(job, token, processed=1, matched=1)
        return 0
    if not may_store:
        raise NotAMatch
    stored: list[str] = []
    try:
        with transaction.atomic():
            if same_identifier is not None:  # registered without a file (e.g. by CSV): add it
                work = Work.objects.get(pk=same_identifier)
                work_file = services.work_file_attach(actor=owner, work=work, upload=upload)
                stored.append(work_file.original.name)
                _add_identifiers(owner, work.pk, row)
                advance(job, token, processed=1, matched=1)
            else:
                work = services.work_create(
                    owner=owner,
                    title=row.title,
                    kind=row.kind,
                    year=row.year,
                    description=row.description,
                    co_creators=row.co_creators,
                    identifiers=row.identifiers,
                    upload=upload,
                )
                stored.append(work.file.original.name)
                advance(job, token, processed=1, created=1)
    except ValidationError as exc:  # the file's name or structure (the service stored nothing)
        raise EntryRefused(" ".join(exc.messages)) from None
    except BaseException:
        for name in stored:  # rolled back after the service stored the file
            default_storage.delete(name)
        raise
    return upload.size


def _work_with_identifier(owner, row: Row) -> int | None:
    if not row.pairs:
        return None
    condition = Q()
    for scheme, value in row.pairs:
        condition |= Q(scheme=scheme, value=value)
    return (
        WorkIdentifier.objects.filter(condition, work__owner_id=owner.pk)
        .order_by("work_id")
        .values_list("work_id", flat=True)
        .first()
    )


def _add_identifiers(owner, work_id: int, row: Row) -> None:
    """The row's identifiers that none of the owner's works has yet, added to this work through
    ``services.identifiers_add`` — the path of the edit form and the CSV import, so another
    creator's work holding one of them becomes a conflict."""
    if not row.pairs:
        return
    condition = Q()
    for scheme, value in row.pairs:
        condition |= Q(scheme=scheme, value=value)
    known = set(
        WorkIdentifier.objects.filter(condition, work__owner_id=owner.pk).values_list(
            "scheme", "value"
        )
    )
    missing = [(s, v) for s, v in row.pairs if (s, v) not in known]
    services.identifiers_add(
        actor=owner,
        identifiers=[WorkIdentifier(work_id=work_id, scheme=s, value=v) for s, v in missing],
    )
