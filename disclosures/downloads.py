"""The exclusion list as a download, for the API and the disclosure's page alike: JSON Lines
(one object a row, ``reports.EXCLUSION_FIELDS``) or CSV (a header, then one row a finding, every
cell made safe for spreadsheets by ``works.csvsafe``), streamed from ``reports.exclusions`` — a
chunk of findings at a time, never the whole list in memory."""

import json
from collections.abc import Iterator

from django.http import StreamingHttpResponse

from works.csvsafe import stream_rows

from .models import Disclosure
from .reports import EXCLUSION_FIELDS, exclusions

JSONL = "jsonl"
CSV = "csv"
FORMATS = (JSONL, CSV)
CONTENT_TYPES = {JSONL: "application/x-ndjson", CSV: "text/csv; charset=utf-8"}
LINES_PER_WRITE = 500  # JSON Lines joined before they are sent


def _jsonl(disclosure: Disclosure) -> Iterator[str]:
    lines = []
    for row in exclusions(disclosure):
        lines.append(json.dumps(row, ensure_ascii=False) + "\n")
        if len(lines) >= LINES_PER_WRITE:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def _csv_rows(disclosure: Disclosure) -> Iterator[list]:
    yield EXCLUSION_FIELDS
    for row in exclusions(disclosure):
        yield [
            "true" if value is True else "false" if value is False else value
            for value in (row[name] for name in EXCLUSION_FIELDS)
        ]


def filename(disclosure: Disclosure, fmt: str) -> str:
    return f"disclosure-{disclosure.pk}-exclusions.{fmt}"


def exclusions_response(disclosure: Disclosure, fmt: str) -> StreamingHttpResponse:
    """The exclusion list of a disclosure whose matching is done, streamed as an attachment."""
    content = stream_rows(_csv_rows(disclosure)) if fmt == CSV else _jsonl(disclosure)
    response = StreamingHttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename(disclosure, fmt)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
