"""Disclosures over the API (docs/api.md, "Disclosures"; docs/disclosures.md), a django-ninja
router that ``portal/api.py`` adds to ``/api/v1/``:

- ``POST /api/v1/disclosures`` — a new disclosure: multipart fields and the file ``manifest``,
  streamed to a temporary file (``uploads.py``: never in memory, refused at the first chunk past
  ``DISCLOSURE_MAX_MANIFEST_BYTES``), then kept by ``services.disclosure_submit``; 201, or 200
  with the disclosure the same file made before;
- ``GET /api/v1/disclosures`` — the organisation's, newest first, a page at a time;
- ``GET /api/v1/disclosures/<id>`` — one, with its compliance report once matched;
- ``GET /api/v1/disclosures/<id>/exclusions`` — the exclusion list, JSON Lines or CSV,
  streamed (``downloads.py``);
- ``POST /api/v1/disclosures/<id>/cancel``.

A key sees its own organisation's disclosures only: any other is a 404, as if it did not exist.
"""

from datetime import date, datetime
from http import HTTPStatus
from typing import Literal

from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.db.models import Q
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils.http import urlencode
from ninja import Field, Query, Router, Schema, Status

from consent.vocabulary import Use
from notices.api_base import APIError, ErrorOut, cursor_decode, cursor_encode

from . import downloads, reports, uploads
from .forms import DisclosureForm
from .models import Disclosure
from .services import disclosure_cancel, disclosure_submit

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
FIELDS = ("name", "version", "uses", "models", "period_start", "period_end", "summary_url")

router = Router(tags=["disclosures"])


# --- What the API takes and shows ----------------------------------------------------------------


class ManifestOut(Schema):
    name: str = Field(description="the file's name as sent")
    size: int = Field(description="bytes")
    sha256: str = Field(description="its SHA-256: the same file sent again is this disclosure")
    format: str = Field(description="csv, jsonl or parquet, once the worker has read it; else ''")
    compressed: bool = Field(description="gzip-compressed")
    deleted_at: datetime | None = Field(
        description="when the file was deleted (kept DISCLOSURE_MANIFEST_DAYS; findings stay)"
    )


class LinksOut(Schema):
    self: str
    exclusions: str = Field(description="the exclusion list (JSON Lines, or CSV)")


class DisclosureOut(Schema):
    id: int
    url: str
    name: str
    version: str
    uses: list[str] = Field(description="the uses the dataset is for")
    models: str
    period_start: date | None
    period_end: date | None
    summary_url: str
    via: str = Field(description="api, dashboard, or registry (recorded by a registry manager)")
    source: str = Field(description="where a registry manager found it; else ''")
    state: str = Field(description="queued, running, done, failed or cancelled")
    cancel_requested: bool
    rows_read: int = Field(description="rows of the manifest matched so far")
    rows_total: int | None = Field(description="its rows, when the format tells (Parquet)")
    rows_matched: int = Field(description="rows that matched a work or a verified site")
    findings_count: int = Field(description="(row, work or site) pairs found, once finished")
    columns: list[str] = Field(description="the known columns the manifest has")
    ignored_columns: list[str] = Field(description="its other columns, not read")
    error: str = Field(description="why it failed, in words; else ''")
    manifest: ManifestOut
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    links: LinksOut


class ReportOut(Schema):
    """Matched rows by the decision in force for your organisation and every use of the
    disclosure, your licences included; a row counts once, by its strictest finding."""

    rows_read: int
    rows_total: int | None
    rows_matched: int
    rows_denied: int = Field(description="a use is not allowed")
    rows_licence_only: int = Field(description="a use is allowed only under a licence")
    rows_allowed: int = Field(description="every use freely allowed to you")
    rows_to_exclude: int = Field(description="denied + licence only: the exclusion list's rows")


class DisclosureDetailOut(DisclosureOut):
    report: ReportOut | None = Field(description="once the state is done; else null")


class DisclosureListOut(Schema):
    results: list[DisclosureOut]
    next_cursor: str | None
    next: str | None


ERRORS = {401: ErrorOut, 404: ErrorOut, 405: ErrorOut, 429: ErrorOut}

_SUBMIT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["name", "uses", "manifest"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string", "maxLength": 200},
                        "version": {"type": "string", "maxLength": 100},
                        "uses": {
                            "type": "array",
                            "items": {"type": "string", "enum": list(Use.values)},
                            "minItems": 1,
                            "description": "repeat the field, or separate the uses by commas",
                        },
                        "models": {"type": "string", "maxLength": 2000},
                        "period_start": {"type": "string", "format": "date"},
                        "period_end": {"type": "string", "format": "date"},
                        "summary_url": {"type": "string", "format": "uri", "maxLength": 500},
                        "manifest": {"type": "string", "format": "binary"},
                    },
                }
            }
        },
    }
}
_EXCLUSIONS_200 = {
    "responses": {
        "200": {
            "description": "The exclusion list: one row a finding whose work or site is not "
            "freely allowed for every use of the disclosure (fields: "
            + ", ".join(reports.EXCLUSION_FIELDS)
            + ")",
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    }
}


def _url(request, name: str, *args) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


def _disclosure_json(request, disclosure: Disclosure) -> dict:
    pk = disclosure.pk
    return {
        "id": pk,
        "url": _url(request, "api-v1:disclosure", pk),
        "name": disclosure.name,
        "version": disclosure.version,
        "uses": list(disclosure.uses),
        "models": disclosure.models_text,
        "period_start": disclosure.period_start,
        "period_end": disclosure.period_end,
        "summary_url": disclosure.summary_url,
        "via": disclosure.via,
        "source": disclosure.source,
        "state": disclosure.state,
        "cancel_requested": disclosure.cancel_requested,
        "rows_read": disclosure.rows_read,
        "rows_total": disclosure.rows_total,
        "rows_matched": disclosure.rows_matched,
        "findings_count": disclosure.findings_count,
        "columns": list(disclosure.columns),
        "ignored_columns": list(disclosure.ignored_columns),
        "error": disclosure.error,
        "manifest": {
            "name": disclosure.manifest_name,
            "size": disclosure.manifest_size,
            "sha256": disclosure.manifest_sha256,
            "format": disclosure.manifest_format,
            "compressed": disclosure.manifest_compressed,
            "deleted_at": disclosure.manifest_deleted_at,
        },
        "created_at": disclosure.created_at,
        "started_at": disclosure.started_at,
        "finished_at": disclosure.finished_at,
        "links": {
            "self": _url(request, "api-v1:disclosure", pk),
            "exclusions": _url(request, "api-v1:disclosure-exclusions", pk),
        },
    }


def _detail_json(request, disclosure: Disclosure) -> dict:
    done = disclosure.state == Disclosure.State.DONE
    return {
        **_disclosure_json(request, disclosure),
        "report": reports.report(disclosure) if done else None,
    }


def _not_found() -> APIError:
    return APIError(
        HTTPStatus.NOT_FOUND, "not_found", "Your organisation has no disclosure with this id."
    )


def _for_key(request, pk: int) -> Disclosure:
    disclosure = (
        Disclosure.objects.filter(developer=request.developer, pk=pk)
        .select_related("developer")
        .first()
    )
    if disclosure is None:
        raise _not_found()
    return disclosure


# --- Submitting ----------------------------------------------------------------------------------


def _too_large() -> APIError:
    return APIError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large", uploads.too_large_message())


def _invalid(fields: dict[str, list[str]]) -> APIError:
    return APIError(
        HTTPStatus.BAD_REQUEST, "invalid", "The disclosure has invalid fields.", fields=fields
    )


def _uses(values: list[str]) -> list[str]:
    """``uses`` repeated, or separated by commas (or both)."""
    return [use.strip() for value in values for use in value.split(",") if use.strip()]


def _form(request) -> tuple[DisclosureForm, uploads.ManifestUploadHandler]:
    """The multipart body read into the form, the manifest streamed to a temporary file."""
    if request.content_type != "multipart/form-data":
        raise APIError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the disclosure as multipart/form-data: its fields, and the file as the field "
            "“manifest”.",
        )
    if uploads.declared_too_large(request):  # refused before anything is read
        raise _too_large()
    handler = uploads.install(request)
    try:
        data, files = request.POST.copy(), request.FILES
    except (
        MultiPartParserError,
        RequestDataTooBig,
        TooManyFieldsSent,
        TooManyFilesSent,
        BadRequest,
        SuspiciousOperation,
    ):
        raise APIError(
            HTTPStatus.BAD_REQUEST, "invalid", "The multipart body cannot be read."
        ) from None
    if handler.too_large:
        raise _too_large()
    unknown = sorted({*data.keys(), *files.keys()} - {*FIELDS, uploads.FIELD})
    if unknown:
        raise _invalid({name[:100]: ["Unknown field."] for name in unknown[:20]})
    data.setlist("uses", _uses(data.getlist("uses")))
    return DisclosureForm(data, files), handler


def _form_errors(form: DisclosureForm, handler) -> dict[str, list[str]]:
    errors = {field: list(messages) for field, messages in form.errors.items()}
    if uploads.FIELD in handler.errors:  # refused while streaming: say why, not "required"
        errors[uploads.FIELD] = [handler.errors[uploads.FIELD]]
    return errors


@router.post(
    "/disclosures",
    response={
        200: DisclosureOut,
        201: DisclosureOut,
        400: ErrorOut,
        413: ErrorOut,
        415: ErrorOut,
        **ERRORS,
    },
    url_name="disclosure-list",
    summary="Disclose a dataset: its fields and its manifest",
    openapi_extra=_SUBMIT_BODY,
)
def disclosure_create(request, response: HttpResponse):
    """A new disclosure, as ``multipart/form-data``: ``name``, ``uses`` (at least one, the field
    repeated or the uses separated by commas), optionally ``version``, ``models``,
    ``period_start`` and ``period_end`` (YYYY-MM-DD), ``summary_url``, and the file
    ``manifest`` — CSV, JSON Lines or Parquet, gzip-compressed or not, up to
    ``DISCLOSURE_MAX_MANIFEST_BYTES`` (413 ``too_large`` past it). 201 with the new disclosure
    (and ``Location``), queued for matching; 200 with the disclosure your organisation made
    with the very same file (its SHA-256) before, unchanged."""
    form, handler = _form(request)
    valid = form.is_valid()
    errors = _form_errors(form, handler)
    if not valid or errors:
        raise _invalid(errors)
    upload = form.cleaned_data[uploads.FIELD]
    try:
        disclosure, created = disclosure_submit(
            actor=None,
            developer=request.developer,
            fields=form.fields_value(),
            manifest=upload,
            via=Disclosure.Via.API,
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise _invalid({f: list(m) for f, m in exc.message_dict.items()}) from None
        raise APIError(HTTPStatus.BAD_REQUEST, "rejected", " ".join(exc.messages)) from None
    finally:
        upload.close()  # the temporary file, moved into the folder storage or not
    body = _disclosure_json(request, disclosure)
    if created:
        response["Location"] = body["url"]
    return Status(HTTPStatus.CREATED if created else HTTPStatus.OK, body)


# --- Reading -------------------------------------------------------------------------------------


@router.get(
    "/disclosures",
    response={200: DisclosureListOut, 400: ErrorOut, **ERRORS},
    url_name="disclosure-list",
    summary="Your organisation's disclosures",
)
def disclosure_list(
    request,
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="disclosures a page"),
    cursor: str = Query("", max_length=200, description="the previous page's next_cursor"),
):
    """Your organisation's disclosures, newest first, a page at a time (each without its
    report: ``GET /api/v1/disclosures/<id>`` has it)."""
    disclosures = Disclosure.objects.filter(developer=request.developer).order_by(
        "-created_at", "-pk"
    )
    if cursor:
        created, pk = cursor_decode(cursor)
        disclosures = disclosures.filter(
            Q(created_at__lt=created) | Q(created_at=created, pk__lt=pk)
        )
    page = list(disclosures[: limit + 1])
    next_cursor = next_url = None
    if len(page) > limit:
        page = page[:limit]
        next_cursor = cursor_encode(page[-1])
        query = urlencode({"cursor": next_cursor, "limit": limit})
        next_url = f"{_url(request, 'api-v1:disclosure-list')}?{query}"
    return {
        "results": [_disclosure_json(request, disclosure) for disclosure in page],
        "next_cursor": next_cursor,
        "next": next_url,
    }


@router.get(
    "/disclosures/{int:pk}",
    response={200: DisclosureDetailOut, **ERRORS},
    url_name="disclosure",
    summary="One disclosure: its progress, and its compliance report once matched",
)
def disclosure_detail(request, pk: int):
    """One of your organisation's disclosures: its state and progress (``rows_read`` of
    ``rows_total`` when known), the columns read and ignored, the error in words when it
    failed, and once done its ``report``, computed from the decisions in force now."""
    return _detail_json(request, _for_key(request, pk))


@router.get(
    "/disclosures/{int:pk}/exclusions",
    response={400: ErrorOut, 409: ErrorOut, **ERRORS},  # the 200 is the list, described below
    url_name="disclosure-exclusions",
    summary="The exclusion list: the rows to take out before training",
    openapi_extra=_EXCLUSIONS_200,
)
def disclosure_exclusions(
    request,
    pk: int,
    format_: Literal[downloads.FORMATS] | None = Query(  # type: ignore[valid-type]
        None,
        alias="format",
        description="jsonl (the default) or csv; or say Accept: text/csv",
    ),
):
    """Every matched row whose work or site is not freely allowed to your organisation for
    every use of the disclosure, in row order, with its row number, the value that matched, the
    kind of match (``weak`` for title and author), the work's or site's ``public_id`` and the
    decision (``denied`` or ``licence``). JSON Lines (``application/x-ndjson``) unless
    ``format=csv`` or ``Accept: text/csv``; streamed. 409 ``not_done`` until matching is
    done."""
    disclosure = _for_key(request, pk)
    if disclosure.state != Disclosure.State.DONE:
        raise APIError(HTTPStatus.CONFLICT, "not_done", _not_done_message(disclosure))
    fmt = format_
    if fmt is None:
        preferred = request.get_preferred_type(["application/x-ndjson", "text/csv"])
        fmt = downloads.CSV if preferred == "text/csv" else downloads.JSONL
    return downloads.exclusions_response(disclosure, fmt)


def _not_done_message(disclosure: Disclosure) -> str:
    if disclosure.state == Disclosure.State.FAILED:
        return f"Matching failed, so there is no exclusion list: {disclosure.error}"
    if disclosure.state == Disclosure.State.CANCELLED:
        return "Matching was cancelled, so there is no exclusion list."
    return (
        "Matching is not done yet: the exclusion list is ready when the state is done. "
        f"{disclosure.rows_read:,} rows read so far."
    )


@router.post(
    "/disclosures/{int:pk}/cancel",
    response={200: DisclosureOut, 409: ErrorOut, **ERRORS},
    url_name="disclosure-cancel",
    summary="Stop matching a disclosure",
)
def disclosure_cancel_view(request, pk: int):
    """Stop matching: a queued disclosure is cancelled at once, a running one at its next batch
    (``cancel_requested`` is true meanwhile; its findings so far are kept but give no
    exclusion list). Cancelling a cancelled one again changes nothing; 409 ``finished`` for
    one that is done or failed."""
    disclosure = _for_key(request, pk)
    if disclosure.state in (Disclosure.State.DONE, Disclosure.State.FAILED):
        raise APIError(
            HTTPStatus.CONFLICT,
            "finished",
            f"Matching has finished ({disclosure.get_state_display().lower()}): there is "
            "nothing to cancel.",
        )
    disclosure = disclosure_cancel(actor=None, disclosure=disclosure)
    return _disclosure_json(request, disclosure)
