"""What every manifest format shares: the error, the row, the columns we match, and the plain
bytes of a stored manifest (decompressed when it is gzip)."""

import gzip
import io
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from accounts.storage import opened

KNOWN = ("url", "sha256", "phash", "isbn", "isrc", "iswc", "doi", "title", "author")
CELL_MAX = 2_000  # characters; a longer value is absent (a cut URL or hash would mislead)
IGNORED_MAX = 50  # unknown column names listed
NAME_MAX = 100  # characters of a column name as listed
GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error)


class ManifestError(Exception):
    """The manifest cannot be read (further); ``message`` says why, for the developer."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class Row:
    number: int  # 1-based data row number (a CSV's header is not a row)
    values: dict[str, str]  # known column → value (only present, non-empty ones)
    problem: str = ""  # why this row could not be read (JSON Lines), in words; else ""


class Reader:
    """One format's reader: its columns, and its rows read from the start again each time."""

    columns: list[str]
    ignored: list[str]
    rows_total: int | None = None

    def rows(self, start_after: int, limit: int) -> Iterator[Row]:
        raise NotImplementedError


# --- Columns and values --------------------------------------------------------------------------


def column_key(name) -> str:
    return str(name).strip().lstrip("\ufeff").strip().lower()


def listed(names) -> list[str]:
    """Column names as written, trimmed, for a page: at most ``IGNORED_MAX``, each shortened
    to ``NAME_MAX`` characters."""
    shown = []
    for name in names:
        text = str(name).strip()
        if text and len(shown) < IGNORED_MAX:
            shown.append(text if len(text) <= NAME_MAX else text[: NAME_MAX - 1] + "…")
    return shown


def positions_of(names: list, how: str) -> tuple[dict[str, int], list[str]]:
    """Known column → its position among ``names``, and the unknown names; refuses a file with
    no known column (``how`` introduces the names it has), or one that names a known column
    twice (``url`` and ``URL``)."""
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for position, name in enumerate(names):
        key = column_key(name)
        if key in KNOWN:
            if key in positions:
                twice = ", ".join(listed(n for n in names if column_key(n) == key))
                raise ManifestError(
                    f"The column “{key}” is named twice ({twice}): keep one and upload the "
                    "manifest again."
                )
            positions[key] = position
        elif key:
            unknown.append(name)
    if not positions:
        seen = listed(names)[:10]
        found = f" Its {how}: {', '.join(seen)}." if seen else ""
        raise ManifestError(
            f"This manifest names none of the columns we match: {', '.join(KNOWN)}.{found}"
        )
    return positions, listed(unknown)


def value_of(value) -> str | None:
    """A cell as text, stripped — a string, or a whole number written out; ``None`` when it is
    empty, longer than ``CELL_MAX`` characters or anything else."""
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        return None
    return text if text and len(text) <= CELL_MAX else None


def too_many(limit: int) -> ManifestError:
    return ManifestError(
        f"This manifest has more than {limit:,} rows: the first {limit:,} were read, the rest "
        f"were not. Split it into manifests of at most {limit:,} rows each."
    )


# --- Bytes ---------------------------------------------------------------------------------------


def read_fully(stream, size: int) -> bytes:
    """Up to ``size`` bytes: fewer only at the end of the file."""
    parts, left = [], size
    while left:
        part = stream.read(left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


class Prefixed(io.RawIOBase):
    """Bytes already read from a forward-only stream, followed by the rest of it (wrap it in
    ``io.BufferedReader``)."""

    def __init__(self, head: bytes, rest):
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        return self._rest.readinto(buffer)


@contextmanager
def plain(source, storage, compressed: bool) -> Iterator[BinaryIO]:
    """The stored manifest's bytes from the start, decompressed, read forward once."""
    with opened(source, storage=storage) as raw:
        if compressed:
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield unzipped
        else:
            yield raw


def gzip_error(exc: Exception, after_row: int = 0) -> ManifestError:
    """The gzip reader's failure (``GZIP_ERRORS``) in the developer's words, naming the last
    row read."""
    where = f" after row {after_row:,}" if after_row else ""
    if isinstance(exc, EOFError):
        return ManifestError(
            f"The gzip file ends early (truncated){where}: upload the complete file again."
        )
    return ManifestError(
        f"The gzip data is damaged{where} ({exc}): compress the manifest again and upload it."
    )


@contextmanager
def gzip_errors():
    try:
        yield
    except GZIP_ERRORS as exc:
        raise gzip_error(exc) from None
