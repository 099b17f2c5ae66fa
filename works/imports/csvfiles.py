"""Reading the CSV files creators import: what an upload may be, the encoding and the delimiter,
the header, and the records one at a time (never the whole file in memory).

Encodings: UTF-8 with a byte-order mark, UTF-8, or Windows-1252 (what Excel writes as "CSV" on
Windows). The sample at the start decides between UTF-8 and Windows-1252; the counting pass
reads the whole file and falls back to Windows-1252 if UTF-8 fails further on. Delimiter: a
comma or a semicolon (what spreadsheets write where the comma is the decimal mark), whichever
the header line has more of.
"""

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from ..filetypes import FileType, sniff
from ..filetypes.formats import TXT
from ..models import Work

WORK_COLUMNS = ("title", "kind", "year", "description", "co_creators")
IDENTIFIER_COLUMNS = ("isbn", "isrc", "iswc", "doi", "urls")
CSV_COLUMNS = WORK_COLUMNS + IDENTIFIER_COLUMNS
SCHEME_OF_COLUMN = {"isbn": "isbn", "isrc": "isrc", "iswc": "iswc", "doi": "doi", "urls": "url"}
# What people write instead of our column names.
ALIASES = {
    "url": "urls",
    "co_creator": "co_creators",
    "cocreators": "co_creators",
    "filename": "file",
    "file_name": "file",
    "path": "file",
}
SAMPLE_BYTES = 64 * 1024
UTF8, UTF8_BOM, CP1252 = "utf-8", "utf-8-sig", "cp1252"
ENCODING_LABELS = {UTF8: "UTF-8", UTF8_BOM: "UTF-8", CP1252: "Windows-1252"}

CSV_FILE = FileType("csv", "csv", "text/csv", (".csv", ".txt"), "a CSV file")
ZIP_ARCHIVE = FileType("archive", "zip", "application/zip", (".zip",), "a ZIP archive")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


class ImportFileError(Exception):
    """The whole file cannot be imported; the message says why, for the creator."""


# --- What an import upload may be --------------------------------------------------------------


def accept_upload(head: bytes) -> FileType:
    """The upload policy of the import form: a ZIP archive by its signature, or text a CSV
    can be (UTF-8 or Windows-1252, no control characters). Raises ``ValidationError``."""
    if head[:4] in _ZIP_MAGIC:
        return ZIP_ARCHIVE
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ValidationError(
            "This CSV file is in UTF-16. Save it as “CSV UTF-8” (in Excel: Save As, then "
            "CSV UTF-8) and upload it again.",
            code="utf16",
        )
    try:
        filetype = sniff(head)
    except ValidationError as exc:
        if exc.code == "not_utf8":  # Windows-1252 text: the worker reads it
            return CSV_FILE
        if exc.code == "empty":
            raise
        raise ValidationError(
            "This is not a CSV file or a ZIP archive. Export your catalogue from your "
            "spreadsheet as CSV, or put your files in a ZIP archive.",
            code="not_csv",
        ) from None
    if filetype is TXT:
        return CSV_FILE
    raise ValidationError(
        f"This file is {filetype.label}, not a CSV file or a ZIP archive. To register one "
        "file, use “Register a work”; to import many, put them in a ZIP archive.",
        code="not_csv",
    )


# --- Encoding, delimiter, records --------------------------------------------------------------


def detect_encoding(binary) -> str:
    """From the first ``SAMPLE_BYTES``: a UTF-8 byte-order mark, else strict UTF-8 (a
    character cut by the sample's end is not an error), else Windows-1252."""
    binary.seek(0)
    sample = binary.read(SAMPLE_BYTES)
    binary.seek(0)
    if sample.startswith(codecs.BOM_UTF8):
        return UTF8_BOM
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError("This file is in UTF-16: save it as “CSV UTF-8” and import it again.")
    try:
        codecs.getincrementaldecoder(UTF8)().decode(sample, final=len(sample) < SAMPLE_BYTES)
    except UnicodeDecodeError:
        return CP1252
    return UTF8


def detect_delimiter(binary, encoding: str) -> str:
    """``;`` when the header line has more semicolons than commas, else ``,``."""
    binary.seek(0)
    sample = binary.read(SAMPLE_BYTES)
    binary.seek(0)
    text = sample.decode(encoding, errors="replace")
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def text_of(binary, encoding: str) -> io.TextIOWrapper:
    binary.seek(0)
    raw = getattr(binary, "file", binary)  # Django's File wraps the real file object
    return io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")


def records(text: Iterable[str], delimiter: str) -> Iterator[list[str]]:
    return csv.reader(text, delimiter=delimiter)


def data_rows(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of each record after the header, numbered as a spreadsheet shows
    them (the header is row 1); blank records are skipped but keep their number."""
    for number, record in enumerate(reader, start=2):
        if any(cell.strip() for cell in record):
            yield number, record


def csv_problem(exc: Exception, line: int | None = None) -> ImportFileError:
    where = f" near line {line:,}" if line else ""
    return ImportFileError(
        f"The file could not be read as CSV{where} ({exc}). Check it opens in a spreadsheet, "
        "then export it as CSV again."
    )


def count_rows(binary, *, encoding: str, delimiter: str, limit: int) -> tuple[int, str]:
    """The number of data rows, reading the file once; stops early past ``limit``. Returns
    (rows, encoding): UTF-8 that fails further on is read again as Windows-1252."""
    try:
        return _count(binary, encoding, delimiter, limit), encoding
    except UnicodeDecodeError:
        if encoding == CP1252:
            raise _not_text() from None
    try:
        return _count(binary, CP1252, delimiter, limit), CP1252
    except UnicodeDecodeError:
        raise _not_text() from None


def _count(binary, encoding, delimiter, limit) -> int:
    text = text_of(binary, encoding)
    reader = records(text, delimiter)
    count = 0
    try:
        next(reader, None)
        for _ in data_rows(reader):
            count += 1
            if count > limit:
                break
    except csv.Error as exc:
        raise csv_problem(exc, reader.line_num) from None
    finally:
        text.detach()
    return count


def _not_text() -> ImportFileError:
    return ImportFileError(
        "This file is neither UTF-8 nor Windows-1252 text. Save it as “CSV UTF-8” (in Excel: "
        "Save As, then CSV UTF-8) and import it again."
    )


# --- Header ------------------------------------------------------------------------------------


def column_key(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff").strip().lower())
    return ALIASES.get(key, key)


@dataclass
class Header:
    columns: dict[str, int]  # our column name → position in the record
    unknown: list[str]  # names as written, ignored

    def cells(self, record: list[str]) -> dict[str, str]:
        return {
            name: unescape(record[i]) if i < len(record) else "" for name, i in self.columns.items()
        }


def parse_header(record: list[str] | None, *, known: Iterable[str], required: Iterable[str]):
    if not record or not any(cell.strip() for cell in record):
        raise ImportFileError(
            "The file is empty. Its first row must name the columns: download the template "
            "to start from."
        )
    known = tuple(known)
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for position, name in enumerate(record):
        key = column_key(name)
        if not key:
            continue
        if key not in known:
            unknown.append(name.strip())
            continue
        if key in columns:
            raise ImportFileError(f"The column “{key}” appears twice in the first row.")
        columns[key] = position
    missing = [name for name in required if name not in columns]
    if missing:
        named = " and ".join(f"“{name}”" for name in missing)
        raise ImportFileError(
            f"The first row has no {named} column. The first row must name the columns "
            f"({', '.join(known)}); download the template to start from."
        )
    return Header(columns=columns, unknown=unknown)


def unescape(cell: str) -> str:
    """Undo the apostrophe the portal's own CSV puts before a formula-like cell, so a file
    exported from here imports as it was typed."""
    if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@"):
        return cell[1:]
    return cell


# --- The template ------------------------------------------------------------------------------

TEMPLATE_ROWS = [
    CSV_COLUMNS,
    (
        "The Quiet Harbour",
        "book",
        "2019",
        "A novel about a lighthouse keeper.",
        "Ben Cover (cover illustration)",
        "978-0-306-40615-7",
        "",
        "",
        "",
        "https://alice.example/harbour https://publisher.example/books/quiet-harbour",
    ),
    (
        "Low Tide (live)",
        "Sound recording",
        "2021",
        "",
        "",
        "",
        "GB-AAA-21-00001",
        "",
        "10.1000/182",
        "https://alice.example/low-tide",
    ),
]


def kinds_help() -> str:
    return ", ".join(value for value, _ in Work.Kind.choices)
