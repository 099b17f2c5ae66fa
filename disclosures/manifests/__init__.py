"""Reading an AI developer's dataset manifest (docs/manifests.md): CSV, JSON Lines or Parquet,
optionally gzip-compressed, streamed a row at a time — never the whole file in memory.

    with manifest_open(disclosure.manifest) as manifest:   # a FieldFile, or a stored name
        manifest.format, manifest.compressed, manifest.columns, manifest.ignored,
        manifest.rows_total
        for row in manifest.rows(start_after=rows_already_read):
            row.number, row.values, row.problem

What the file is comes from its bytes, never its name: gzip by its magic bytes ``1f 8b``; then
Parquet when it starts (and ends) with ``PAR1``, JSON Lines when its first non-blank character
is ``{``, else CSV (UTF-8, with or without a byte-order mark; the delimiter — comma, semicolon,
tab or ``|`` — is the one that splits the first row into the most columns).

The columns matched are ``KNOWN`` (names trimmed, any case: LAION writes ``URL``); the others
are ignored and listed. Every value is text, stripped, never evaluated; an empty one, or one
longer than ``CELL_MAX`` characters, is absent. Rows are numbered from 1 as the data runs (a
CSV's header is not a row; blank lines are skipped and not counted), so ``rows(start_after=n)``
goes on exactly after row ``n``: it reads from the start again, skipping without building rows
(a Parquet file skips whole row groups unread).

What makes the file unreadable raises ``ManifestError`` with a message for the developer, from
``manifest_open`` or where the reading reaches it: not UTF-8 (naming the row and the byte; such
a file is refused, not read as Windows-1252 as creators' imports are, because the rows before
the bad byte may already be matched and one forward pass cannot go back), a truncated or damaged
gzip, a Parquet file that is not one, binary data, an empty file, no known column, a line longer
than ``LINE_MAX`` bytes, and more than ``DISCLOSURE_MAX_ROWS`` rows (raised on reading the row
after the limit, the rows before it read). A JSON Lines line that is not a JSON object is a row
with a ``problem``, not an error. The file store's own failures pass through as they are
(``StorageUnavailable``, ``FileNotFoundError``: accounts/storage.py).

CSV and JSON Lines are read in one forward pass from ``accounts.storage.opened`` each time
``rows()`` is called, the stream closed when the rows end or the manifest closes. Parquet needs a
seekable file (``accounts.storage.seekable``: a bucket's object copied to a temporary file),
made once and kept until the manifest closes — hence the ``with``.

The CSV files the portal writes escape formula-like cells with ``works.csvsafe``.
"""

import codecs
import gzip
import io
import weakref
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models.fields.files import FieldFile

from accounts.storage import CHUNK, opened

from .base import CELL_MAX, KNOWN, ManifestError, Prefixed, Reader, Row, gzip_errors, read_fully
from .parquet import MAGIC as PARQUET_MAGIC
from .parquet import ParquetReader
from .text import LINE_MAX, CsvReader, JsonLinesReader

__all__ = ["CELL_MAX", "KNOWN", "LINE_MAX", "Manifest", "ManifestError", "Row", "manifest_open"]

HEAD_BYTES = 64 * 1024  # what the format and the delimiter are told from
GZIP_MAGIC = b"\x1f\x8b"
OTHER_PACKAGES = {
    b"PK\x03\x04": "a ZIP archive",
    b"PK\x05\x06": "a ZIP archive",
    b"BZh": "bzip2-compressed",
    b"\xfd7zXZ\x00": "xz-compressed",
    b"(\xb5/\xfd": "Zstandard-compressed",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
}
WHITESPACE = b" \t\r\n\x0b\x0c"


@dataclass(eq=False)
class Manifest:
    """An open manifest: what it is, and its rows. Close it (``with``) when done."""

    format: str  # "csv" | "jsonl" | "parquet"
    compressed: bool
    columns: list[str]  # known columns present, lower-case
    ignored: list[str]  # unknown column names as written (at most 50)
    rows_total: int | None  # when cheaply known (Parquet's metadata), else None
    _reader: Reader = field(repr=False)
    _stack: ExitStack = field(default_factory=ExitStack, repr=False)
    _open_rows: weakref.WeakSet = field(default_factory=weakref.WeakSet, repr=False)
    _closed: bool = field(default=False, repr=False)

    def rows(self, start_after: int = 0) -> Iterator[Row]:
        """The rows numbered above ``start_after``, in order; raises ``ManifestError`` where the
        file stops being readable, or on reading row ``DISCLOSURE_MAX_ROWS`` + 1."""
        if self._closed:
            raise ValueError("This manifest is closed.")
        limit = getattr(settings, "DISCLOSURE_MAX_ROWS", 10_000_000)
        rows = self._reader.rows(max(start_after, 0), limit)
        self._open_rows.add(rows)
        return rows

    def close(self) -> None:
        for rows in list(self._open_rows):
            rows.close()
        self._stack.close()
        self._closed = True

    def __enter__(self) -> "Manifest":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def manifest_open(source: FieldFile | str, *, storage=None) -> Manifest:
    """Open a stored manifest (a ``FieldFile``, or a name in ``storage``, by default the default
    storage): tell its format and read its columns. Raises ``ManifestError`` when it is not a
    manifest we can read. Use the result as a context manager."""
    stack = ExitStack()
    try:
        with opened(source, storage=storage) as raw:
            magic = read_fully(raw, 8)
            refuse_other_packages(magic)
            compressed = magic.startswith(GZIP_MAGIC)
            stream = io.BufferedReader(Prefixed(magic, raw), CHUNK)
            if compressed:
                stream = gzip.GzipFile(fileobj=stream, mode="rb")
            with gzip_errors():
                head = read_fully(stream, HEAD_BYTES)
            kind = kind_of(head, compressed)
            if kind == "parquet":
                reader = ParquetReader(source, storage, compressed, stack)
            elif kind == "jsonl":
                reader = JsonLinesReader(source, storage, compressed, head, stream)
            else:
                reader = CsvReader(source, storage, compressed, head, stream)
    except BaseException:
        stack.close()
        raise
    return Manifest(
        format=kind,
        compressed=compressed,
        columns=reader.columns,
        ignored=reader.ignored,
        rows_total=reader.rows_total,
        _reader=reader,
        _stack=stack,
    )


def refuse_other_packages(magic: bytes) -> None:
    for start, what in OTHER_PACKAGES.items():
        if magic.startswith(start):
            raise ManifestError(
                f"This file is {what}. Upload the manifest itself — CSV, JSON Lines or "
                "Parquet — or compressed with gzip."
            )


def kind_of(head: bytes, compressed: bool) -> str:
    """The format of the (decompressed) file from its first bytes, or a refusal."""
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if not head.strip(WHITESPACE) and len(head) < HEAD_BYTES:
        where = "the gzip file holds" if compressed else "it has"
        raise ManifestError(f"The manifest is empty: {where} no column names and no rows.")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ManifestError(
            "This manifest is in UTF-16. Save it as UTF-8 (in Excel: Save As, then "
            "“CSV UTF-8”) and upload it again."
        )
    if b"\x00" in head:
        raise ManifestError(
            "This file holds binary data: it is not a CSV, JSON Lines or Parquet manifest."
        )
    text = head.removeprefix(codecs.BOM_UTF8).lstrip(WHITESPACE)
    if text.startswith(b"{"):
        return "jsonl"
    if text.startswith(b"["):
        raise ManifestError(
            "This looks like one JSON array. Write the manifest as JSON Lines instead: one "
            'JSON object per line, such as {"url": "https://…"}.'
        )
    return "csv"
