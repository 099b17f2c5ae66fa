"""A ZIP archive's layout, checked before anything of it is unpacked: the end-of-archive record
(the entry count and the table of contents' size, ZIP64 too, read before ``zipfile`` builds
its list) and the entries' spans (no two may share or overlap their data). See
docs/imports.md, "ZIP of files"."""

import os
import struct

from django.conf import settings

from .csvfiles import ImportFileError

DIRECTORY_BYTES_PER_ENTRY = 4096  # a generous table-of-contents record (name, extras)
LOCAL_HEADER = b"PK\x03\x04"
LOCAL_HEADER_SIZE = 30

NOT_ZIP = (
    "This file is not a ZIP archive we can read: it may be damaged or incomplete. Make the "
    "archive again and import it."
)
SHARED = (
    "This archive is refused: some of its entries share or overlap their data, as zip bombs "
    "built to unpack the same bytes again and again do. Make the archive again with an ordinary "
    "ZIP tool and import it."
)


def too_many(count: int, limit: int) -> ImportFileError:
    return ImportFileError(
        f"This archive has {count:,} entries: an import takes at most {limit:,}. Split it "
        "into several archives and import each."
    )


def check_directory(f) -> None:
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
    limit = settings.WORKS_ZIP_MAX_ENTRIES
    if entries > limit:
        raise too_many(entries, limit)
    if directory_size > max(limit, 1) * DIRECTORY_BYTES_PER_ENTRY:
        raise ImportFileError(
            "This archive's table of contents is too large to be read safely. Make the "
            "archive again with shorter file names, or split it."
        )
    f.seek(0)


def check_spans(f, infos, directory_start: int) -> None:
    """Each entry's span — its local header (whose own name and extra-field lengths count),
    then its compressed data — must overlap no other entry's and end before the table of
    contents; else the archive is refused whole. An entry without a local header is left to
    ``zipfile``, which refuses to unpack it (damaged)."""
    spans = []
    for info in infos:
        f.seek(info.header_offset)
        header = f.read(LOCAL_HEADER_SIZE)
        if len(header) < LOCAL_HEADER_SIZE or header[:4] != LOCAL_HEADER:
            continue
        name_length, extra_length = struct.unpack_from("<HH", header, 26)
        start = info.header_offset
        data = start + LOCAL_HEADER_SIZE + name_length + extra_length
        spans.append((start, data + info.compress_size))
    spans.sort()
    end = 0
    for start, stop in spans:
        if start < end:
            raise ImportFileError(SHARED)
        end = stop
    if end > directory_start:
        raise ImportFileError(SHARED)
    f.seek(0)
