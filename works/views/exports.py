"""The creator's catalogue as a download: CSV (safe to open in a spreadsheet) or JSON.

Both are streamed as they are read from the database, in pieces of about ``PIECE_SIZE``
characters (one write to the socket per piece rather than one per work)."""

import json
from collections.abc import Iterable, Iterator
from itertools import chain

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from ..csvsafe import stream_rows
from ..exports import STATUSES, catalogue_rows, columns

PIECE_SIZE = 64 * 1024


def _pieces(texts: Iterable[str]) -> Iterator[str]:
    buffer, size = [], 0
    for text in texts:
        buffer.append(text)
        size += len(text)
        if size >= PIECE_SIZE:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


def _download(texts: Iterable[str], *, content_type: str, extension: str):
    response = StreamingHttpResponse(_pieces(texts), content_type=content_type)
    filename = f"catalogue-{timezone.localdate():%Y-%m-%d}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _status(request) -> str | None:
    """The ``?status=`` asked for (``all`` when absent), or None when it is not one we know."""
    status = request.GET.get("status") or "all"
    return status if status in STATUSES else None


def _bad_status():
    return HttpResponseBadRequest(
        "status must be one of: " + ", ".join(STATUSES), content_type="text/plain; charset=utf-8"
    )


@login_required
@require_GET
def export_csv(request):
    status = _status(request)
    if status is None:
        return _bad_status()
    rows = catalogue_rows(request.user, status=status)
    lines = stream_rows(chain([columns()], (row.values() for row in rows)))
    return _download(lines, content_type="text/csv; charset=utf-8", extension="csv")


def _json_document(head: dict, rows: Iterable[dict]) -> Iterator[str]:
    """``head`` with a ``"works"`` list after it, written one work at a time."""
    opening = json.dumps(head, ensure_ascii=False)
    yield opening[:-1] + ', "works": ['
    separator = "\n"
    for row in rows:
        yield separator + json.dumps(row, ensure_ascii=False)
        separator = ",\n"
    yield "\n]}\n"


@login_required
@require_GET
def export_json(request):
    status = _status(request)
    if status is None:
        return _bad_status()
    profile = getattr(request.user, "creator_profile", None)
    head = {
        "exported_at": timezone.now().isoformat(),
        "creator": {
            "credit_name": (profile.credit_name or profile.display_name) if profile else "",
        },
    }
    document = _json_document(head, catalogue_rows(request.user, status=status))
    return _download(document, content_type="application/json; charset=utf-8", extension="json")
