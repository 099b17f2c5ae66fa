"""CSV and JSON Lines manifests: UTF-8 text read a line at a time in one forward pass (a bucket's
stream is not seekable), each line at most ``LINE_MAX`` bytes and decoded on its own, so a byte
that is not UTF-8 is named with its row."""

import codecs
import csv
import io
import json
from collections.abc import Iterator

from accounts.storage import CHUNK

from .base import (
    GZIP_ERRORS,
    KNOWN,
    ManifestError,
    Prefixed,
    Reader,
    Row,
    column_key,
    gzip_error,
    gzip_errors,
    plain,
    positions_of,
    too_many,
    value_of,
)

LINE_MAX = 1 << 20  # bytes of one line
DELIMITERS = (",", ";", "\t", "|")
JSONL_SAMPLE = 100  # lines whose keys are the columns of a JSON Lines file


class LineProblem(Exception):
    def __init__(self, what: str):
        self.what = what


def lines(binary) -> Iterator[str]:
    """The text lines of a UTF-8 stream (a byte-order mark dropped), line ends kept."""
    first = True
    while line := binary.readline(LINE_MAX + 1):
        if len(line) > LINE_MAX:
            raise LineProblem(f"is longer than {LINE_MAX:,} bytes")
        if first:
            line, first = line.removeprefix(codecs.BOM_UTF8), False
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LineProblem(
                f"is not UTF-8 text (byte 0x{line[exc.start]:02X} at position {exc.start + 1} "
                "of its line)"
            ) from None


def line_error(problem: LineProblem, row: str) -> ManifestError:
    fix = (
        "Save the manifest as UTF-8 and upload it again."
        if "UTF-8" in problem.what
        else "Put each row on a line of its own."
    )
    return ManifestError(f"{row} {problem.what}. {fix}")


# --- CSV -----------------------------------------------------------------------------------------


def blank(record: list[str]) -> bool:
    """An empty line (or one of spaces): skipped, not counted. ``,,`` is a row with no values."""
    return not record or (len(record) == 1 and not record[0].strip())


def delimiter_of(head: bytes) -> str:
    """The delimiter that splits the first non-blank line into the most columns (ties: in the
    order of ``DELIMITERS``)."""
    text = head.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")
    line = next((line for line in text.splitlines() if line.strip()), "")
    counts = [len(next(csv.reader([line], delimiter=d), [])) for d in DELIMITERS]
    return DELIMITERS[counts.index(max(counts))]


class CsvReader(Reader):
    def __init__(self, source, storage, compressed: bool, head: bytes, stream):
        """``stream``: the manifest's plain bytes after ``head``, which were read from it."""
        self.source, self.storage, self.compressed = source, storage, compressed
        self.delimiter = delimiter_of(head)
        with gzip_errors():
            header = self._header(io.BufferedReader(Prefixed(head, stream), CHUNK))
        self.positions, self.ignored = positions_of(header, "first row reads")
        self.columns = list(self.positions)

    def _records(self, binary) -> Iterator[list[str]]:
        return csv.reader(lines(binary), delimiter=self.delimiter)

    def _header(self, binary) -> list[str]:
        try:
            for record in self._records(binary):
                if not blank(record):
                    return record
        except LineProblem as problem:
            raise line_error(problem, "The first row (the column names)") from None
        except csv.Error as exc:
            raise ManifestError(f"The first row (the column names) is not CSV ({exc}).") from None
        raise ManifestError("The manifest is empty: it has no column names and no rows.")

    def rows(self, start_after: int, limit: int) -> Iterator[Row]:
        positions = list(self.positions.items())
        with plain(self.source, self.storage, self.compressed) as binary:
            number, header = 0, True
            try:
                for record in self._records(binary):
                    if blank(record):
                        continue
                    if header:
                        header = False
                        continue
                    number += 1
                    if number > limit:
                        raise too_many(limit)
                    if number <= start_after:
                        continue
                    values = {}
                    for name, position in positions:
                        if position < len(record) and (text := value_of(record[position])):
                            values[name] = text
                    yield Row(number, values)
            except LineProblem as problem:
                raise line_error(problem, f"Row {number + 1:,}") from None
            except csv.Error as exc:
                raise ManifestError(
                    f"Row {number + 1:,} could not be read as CSV ({exc})."
                ) from None
            except GZIP_ERRORS as exc:
                raise gzip_error(exc, number) from None


# --- JSON Lines ----------------------------------------------------------------------------------


def nonblank(binary) -> Iterator[str]:
    """The non-blank lines; one that cannot be read raises ``ManifestError`` naming its row."""
    number = 0
    try:
        for line in lines(binary):
            if line.strip():
                number += 1
                yield line
    except LineProblem as problem:
        raise line_error(problem, f"Row {number + 1:,}") from None


def json_object(text: str) -> dict | str:
    """The line's JSON object, or why it is not one (a row problem, in words)."""
    try:
        record = json.loads(text)
    except (ValueError, RecursionError):
        return "This line is not valid JSON."
    if not isinstance(record, dict):
        return "This line is JSON but not an object ({…})."
    return record


class JsonLinesReader(Reader):
    """Its columns are the keys of the first ``JSONL_SAMPLE`` lines' objects; every row is
    read for every known key, whatever its spelling (``URL``)."""

    def __init__(self, source, storage, compressed: bool, head: bytes, stream):
        self.source, self.storage, self.compressed = source, storage, compressed
        keys: dict[str, str] = {}  # each key of the sampled objects as first written, in order
        objects = 0
        with gzip_errors():
            binary = io.BufferedReader(Prefixed(head, stream), CHUNK)
            for number, text in enumerate(nonblank(binary), start=1):
                record = json_object(text)
                if isinstance(record, dict):
                    objects += 1
                    for key in record:
                        keys.setdefault(column_key(key), key)
                if number == JSONL_SAMPLE:
                    break
        if not objects:
            raise ManifestError(
                "The first lines of this file are not JSON objects: JSON Lines has one object "
                'per line, such as {"url": "https://…"}.'
            )
        positions, self.ignored = positions_of(list(keys.values()), "first objects' keys are")
        self.columns = list(positions)

    def rows(self, start_after: int, limit: int) -> Iterator[Row]:
        with plain(self.source, self.storage, self.compressed) as binary:
            number = 0
            try:
                for text in nonblank(binary):
                    number += 1
                    if number > limit:
                        raise too_many(limit)
                    if number <= start_after:
                        continue
                    record = json_object(text)
                    if isinstance(record, str):
                        yield Row(number, {}, record)
                        continue
                    values = {}
                    for key, value in record.items():
                        name = column_key(key)
                        if name in KNOWN and name not in values and (cell := value_of(value)):
                            values[name] = cell
                    yield Row(number, values)
            except GZIP_ERRORS as exc:
                raise gzip_error(exc, number) from None
