"""The ZIP import, run by the worker: each file of the archive becomes a work, through the same
pipeline as a single upload (type by content, the family's size limit, the storage allowance,
``check_name`` and ``check_structure``, SHA-256, then the image worker's thumbnail and
perceptual hash), optionally described by a metadata CSV keyed by file name.

Refused before anything is unpacked: more entries than ``WORKS_IMPORT_ZIP_MAX_ENTRIES`` (read
from the end-of-archive record, before Python builds its list of entries) and an oversized
table of contents (the whole archive); absolute paths, drive letters and ``..`` (an entry);
encrypted entries; archives inside the archive (by name or by content); entries whose declared
size is over their family's limit or that are compressed more than 100 to 1. Declared sizes can
lie, so each entry is unpacked in 1 MiB chunks into a temporary file and stopped as soon as it
passes its limit. Directories and the litter of file managers (``__MACOSX/``, ``.DS_Store``,
``Thumbs.db``, ``._*``) are skipped.

Each entry is one transaction (its work, or its error, with the job's counters); a re-run
skips the entries already counted, and a file the owner already has (same SHA-256), or whose
metadata identifiers she already registered, matches that work instead of duplicating it.
"""

import hashlib
import os
import re
import struct
import zipfile
import zlib
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat

from .. import services
from ..filetypes import SNIFF_BYTES, sniff
from ..models import ImportJob, ImportRowError, Work, WorkFile, WorkIdentifier
from .csvfiles import (
    ImportFileError,
)
from .jobs import advance
from .rows import Row, parse_row
from .zip_metadata import Metadata, entry_path, read_metadata, report_column

CHUNK = 1 << 20
MAX_RATIO = 100  # unpacked / packed, for entries over RATIO_FROM bytes
RATIO_FROM = 1 << 20
DIRECTORY_BYTES_PER_ENTRY = 4096  # a generous table-of-contents record (name, extras)
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

NOT_ZIP = (
    "This file is not a ZIP archive we can read: it may be damaged or incomplete. Make the "
    "archive again and import it."
)
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


class EntryRefused(Exception):
    """This entry is not imported; the message says why, for the error report."""


def run_zip(job: ImportJob, token: int) -> None:
    with default_storage.open(job.source.name, "rb") as binary:
        raw = getattr(binary, "file", binary)
        _check_directory(raw)
        try:
            archive = zipfile.ZipFile(raw)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise ImportFileError(NOT_ZIP) from None
        with archive:
            infos = archive.infolist()
            limit = settings.WORKS_IMPORT_ZIP_MAX_ENTRIES
            if len(infos) > limit:
                raise _too_many(len(infos), limit)
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
            quota = services.quota_left(user=job.owner)
            for index, (number, info) in enumerate(entries):
                if index < done:  # counted by an earlier run of this job
                    continue
                quota -= import_entry(
                    job, token, archive, number, info, metadata.rows.get(number), quota
                )


def _too_many(count: int, limit: int) -> ImportFileError:
    return ImportFileError(
        f"This archive has {count:,} entries: an import takes at most {limit:,}. Split it "
        "into several archives and import each."
    )


def _check_directory(f) -> None:
    """The entry count and table-of-contents size from the end-of-archive record (ZIP64 too),
    checked before ``zipfile`` reads the table into memory."""
    f.seek(0, os.SEEK_END)
    size = f.tell()
    span = min(size, 22 + 0xFFFF)
    f.seek(size - span)
    tail = f.read(span)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        raise ImportFileError(NOT_ZIP)
    entries, directory_size = struct.unpack_from("<HI", tail, at + 10)
    if (entries == 0xFFFF or directory_size == 0xFFFFFFFF) and tail[at - 20 : at - 16] == (
        b"PK\x06\x07"
    ):
        (offset,) = struct.unpack_from("<Q", tail, at - 20 + 8)
        f.seek(offset)
        record = f.read(56)
        if record[:4] == b"PK\x06\x06" and len(record) == 56:
            entries, directory_size = struct.unpack_from("<QQ", record, 32)
    limit = settings.WORKS_IMPORT_ZIP_MAX_ENTRIES
    if entries > limit:
        raise _too_many(entries, limit)
    if directory_size > max(limit, 1) * DIRECTORY_BYTES_PER_ENTRY:
        raise ImportFileError(
            "This archive's table of contents is too large to be read safely. Make the "
            "archive again with shorter file names, or split it."
        )
    f.seek(0)


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


def import_entry(job, token, archive, number, info, meta, quota: int) -> int:
    """Import one entry; returns the bytes it added to the owner's storage."""
    upload = None
    try:
        _check_entry(info)
        upload = _unpack(archive, info, quota)
        row = _row(number, info, upload.filetype, meta)
        return _store(job, token, row, upload)
    except EntryRefused as exc:
        with transaction.atomic():
            ImportRowError.objects.create(
                job=job, row=number, column=report_column(entry_path(info)), message=str(exc)
            )
            advance(job, token, processed=1, errors=1)
        return 0
    finally:
        if upload is not None:
            upload.close()  # deletes the temporary file, unless storage moved it


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


def _too_big(family: str, family_limit: int, quota: int) -> str:
    if quota < family_limit:
        return (
            "This file would take you over your storage allowance: you have "
            f"{filesizeformat(max(quota, 0))} left."
        )
    return (
        f"This {family} file is too large: the limit for {family} files is "
        f"{filesizeformat(family_limit)}."
    )


def _unpack(archive, info, quota: int) -> TemporaryUploadedFile:
    """The entry, vetted as the upload handler vets an upload: type from the first bytes, the
    family's limit (and the allowance) enforced while unpacking, SHA-256 on the way."""
    name = PurePosixPath(entry_path(info)).name
    try:
        stream = archive.open(info)
    except NotImplementedError:
        raise EntryRefused(DAMAGED.format(reason="an unsupported compression method")) from None
    except (zipfile.BadZipFile, RuntimeError, OSError) as exc:
        raise EntryRefused(DAMAGED.format(reason=exc)) from None
    upload = None
    try:
        with stream:
            head = b""
            while len(head) < SNIFF_BYTES and (more := stream.read(SNIFF_BYTES - len(head))):
                head += more
            if head.startswith(ARCHIVE_MAGIC) or head[257:262] == b"ustar":
                raise EntryRefused(NESTED)
            try:
                filetype = sniff(head)
            except ValidationError as exc:
                raise EntryRefused(NESTED if exc.code == "zip" else exc.messages[0]) from None
            family_limit = settings.WORKS_MAX_BYTES[filetype.family]
            limit = min(family_limit, quota)
            if info.file_size > limit:
                raise EntryRefused(_too_big(filetype.family, family_limit, quota))
            upload = TemporaryUploadedFile(name, filetype.mime, 0, None)
            hasher = hashlib.sha256()
            size = 0
            chunk = head
            while chunk:
                size += len(chunk)
                if size > limit:  # the declared size lied
                    raise EntryRefused(_too_big(filetype.family, family_limit, quota))
                hasher.update(chunk)
                upload.write(chunk)
                chunk = stream.read(CHUNK)
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


def _store(job, token, row: Row, upload) -> int:
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
