"""The change feed's and the export's HTTP endpoints (docs/api.md, "Change feed", "Export"):

- ``GET /api/v1/changes?cursor=…`` — a page of the feed for the calling developer
  (``changes.changes_page``);
- ``GET /api/v1/export`` — the developer's last export, a gzip JSON Lines download with its
  ``ETag`` (``If-None-Match`` → 304);
- ``POST /api/v1/export`` — ask for a new one (202), ``GET /api/v1/export/status`` — how it goes.

``router`` is added to ``/api/v1`` by ``portal/api.py``.
"""

from http import HTTPStatus

from django.http import JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from ninja import Field, Query, Router, Schema

from notices.api_base import APIError, ErrorOut

from . import changes, export
from .api import ERRORS, SiteOut, WorkOut
from .export_models import RegistryExport

router = Router(tags=["works registry"])


# --- The change feed -----------------------------------------------------------------------------


class ChangeOut(Schema):
    type: str = Field(description="work or site")
    public_id: str
    removed: bool = Field(
        description="true: the work is gone (its creator deleted their account), or the site is "
        "no longer verified (suspended, removed) or gone"
    )
    work: WorkOut | None = Field(
        None, description="for a work: its answer now, for your organisation; null if removed"
    )
    site: SiteOut | None = Field(
        None, description="for a site: its answer now, for your organisation; null if removed"
    )


class ChangesOut(Schema):
    results: list[ChangeOut]
    next_cursor: str = Field(description="where the next page starts: keep it, always given")
    more: bool = Field(description="true: more changes are there now, ask for the next page")
    next: str = Field(description="the next page's URL")


def _invalid_cursor() -> APIError:
    return APIError(
        HTTPStatus.BAD_REQUEST,
        "invalid_cursor",
        "The cursor is not one this API gave: use an export's cursor or a page's next_cursor.",
        fields={"cursor": ["Unknown cursor."]},
    )


@router.get(
    "/changes",
    response={200: ChangesOut, 400: ErrorOut, **ERRORS},
    url_name="changes",
    summary="The works and sites whose answer for you changed since a cursor",
)
def changes_view(
    request,
    cursor: str = Query(
        ..., description="an export's cursor (its first line), or the previous page's next_cursor"
    ),
    limit: int = Query(changes.MAX_LIMIT, ge=1, le=changes.MAX_LIMIT, description="entries a page"),
):
    """The works and sites whose answer for your organisation may have changed since
    ``cursor``, oldest change first, each with its answer now (or ``removed``), at most
    ``limit`` (1,000) a page.
    Follow ``next_cursor`` while ``more`` is true; keep the last one and ask again later."""
    if len(cursor) > 200:
        raise _invalid_cursor()
    try:
        position = changes.cursor_decode(cursor)
    except changes.CursorInvalid:
        raise _invalid_cursor() from None
    page = changes.changes_page(developer=request.developer, position=position, limit=limit)
    next_cursor = changes.cursor_encode(page.position)
    query = urlencode({"cursor": next_cursor, "limit": limit})
    return JsonResponse(
        {
            "results": page.results,
            "next_cursor": next_cursor,
            "more": page.more,
            "next": request.build_absolute_uri(f"{reverse('api-v1:changes')}?{query}"),
        }
    )


# --- The export ----------------------------------------------------------------------------------


class ExportStatusOut(Schema):
    state: str = Field(description="idle, queued (waiting for the worker) or building")
    done: int = Field(description="works written so far by the build in progress")
    total: int = Field(description="works the build in progress writes")
    requested_at: str | None
    error: str = Field(description="why the last build failed, if it did")
    ready: bool = Field(description="an export is there to download")
    built_at: str | None = Field(description="when the export there was built")
    works_count: int
    size: int = Field(description="its size in bytes (gzip)")
    etag: str = Field(description="its ETag")
    cursor: str = Field(description="where the change feed follows on from it")
    url: str = Field(description="where to download it")


def _status(request, found: RegistryExport | None) -> dict:
    url = request.build_absolute_uri(reverse("api-v1:export"))
    if found is None:
        found = RegistryExport()
    ready = found.ready
    return {
        "state": found.state,
        "done": found.done,
        "total": found.total,
        "requested_at": found.requested_at.isoformat() if found.requested_at else None,
        "error": found.error,
        "ready": ready,
        "built_at": found.built_at.isoformat() if ready else None,
        "works_count": found.works_count if ready else 0,
        "size": found.size if ready else 0,
        "etag": f'"{found.etag}"' if ready else "",
        "cursor": found.cursor if ready else "",
        "url": url,
    }


_DOWNLOAD = {
    "responses": {
        "200": {
            "description": "The export: gzip-compressed JSON Lines (a header line, then one "
            "line a work or site), with its ETag; the feed's cursor in X-Registry-Cursor too",
            "content": {"application/gzip": {"schema": {"type": "string", "format": "binary"}}},
        },
        "304": {"description": "Not modified: If-None-Match named this export's ETag"},
    }
}


@router.get(
    "/export",
    response=ERRORS,  # the 200 is the file itself, described below
    url_name="export",
    summary="Download the whole registry as your organisation sees it",
    openapi_extra=_DOWNLOAD,
)
def export_download(request):
    """The last export built for your organisation: every work and verified site with its
    answer for you, one JSON document a line after a header line (``cursor``: where to follow
    the change feed from), gzip-compressed. ``If-None-Match`` with its ETag: 304. 404 when none
    is built yet (ask for one with ``POST``)."""
    found = export.export_for(request.developer)
    response = export.export_response(request, found) if found is not None else None
    if response is None:
        raise APIError(
            HTTPStatus.NOT_FOUND,
            "not_found",
            "No export is built for your organisation yet: POST /api/v1/export asks for one, "
            "GET /api/v1/export/status says when it is ready.",
        )
    return response


@router.post(
    "/export",
    response={202: ExportStatusOut, **ERRORS},
    url_name="export",
    summary="Ask for a new export",
)
def export_ask(request):
    """Queue a new export of the registry for your organisation (the worker builds it; at most
    one build at a time: asking while one is queued or running changes nothing). 202 with its
    status; poll ``GET /api/v1/export/status`` until ``state`` is ``idle`` again."""
    found = export.export_request(developer=request.developer)
    return JsonResponse(_status(request, found), status=HTTPStatus.ACCEPTED)


@router.get(
    "/export/status",
    response={200: ExportStatusOut, **ERRORS},
    url_name="export-status",
    summary="How your organisation's export stands",
)
def export_status(request):
    """The export there (``ready``, ``built_at``, ``etag``, ``cursor``…) and the build in
    progress (``state``, ``done`` of ``total`` works)."""
    return JsonResponse(_status(request, export.export_for(request.developer)))
