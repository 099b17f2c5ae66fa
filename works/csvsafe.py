"""CSV the portal writes (exports, error reports, evidence packs) is safe to open in a
spreadsheet: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would
be read as a formula (CSV injection, OWASP), so it is prefixed with an apostrophe and shown as text.
"""

import csv
import io
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_row(row: Iterable) -> list[str]:
    return [safe_cell(value) for value in row]


def stream_rows(rows: Iterable[Iterable]) -> Iterator[str]:
    """Yield CSV text a row at a time (for ``StreamingHttpResponse``), every cell made safe.
    Starts with a UTF-8 byte-order mark so spreadsheet programs read the encoding right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    for row in rows:
        writer.writerow(safe_row(row))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
