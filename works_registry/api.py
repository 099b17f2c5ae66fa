"""The works registry's HTTP endpoints (docs/api.md, "Works registry"):

- ``POST /api/v1/lookup`` — bulk lookup, ``{"items": [...]}`` answered by
  ``works_registry.lookup.lookup`` for the calling developer (the key's organisation);
- ``POST /api/v1/lookup/image`` — one image (the raw body, or the multipart field ``image``),
  hashed as uploads are (``works.fingerprints.image_phash``) and answered as one ``phash`` item;
- ``GET /api/v1/works/<public_id>`` — one work; without a key, the public decision at a low
  per-address rate (``API_RATE_LIMIT_ANONYMOUS_WORK``);
- ``POST /api/v2/query/urls/`` — the Spawning opt-out API v2 (``text/plain``, one URL a line),
  so that Spawning's own client (``datadiligence``) works against the portal by its URL alone.

``router`` is added to ``/api/v1`` and ``api_v2`` is mounted at ``/api/v2/`` by
``portal/api.py`` and ``portal/urls.py``. Answers are built as plain JSON (``JsonResponse``):
the schemas below describe them for the OpenAPI document without re-validating 10,000 entries.
"""

import io
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from ninja import Field, Router, Schema

from accounts.ratelimits import api_limit_anonymous_work
from notices.api_base import (
    APIError,
    ErrorBody,
    ErrorOut,
    api_key_check,
    body_limit,
    body_read,
    raise_if_limited,
)
from works.fingerprints import image_phash

from .lookup import lookup
from .one_work import one_work_object

MAX_ITEMS = 10_000
MAX_LOOKUP_BYTES = 32 * 2**20
MAX_URL_LINES = 10_000
MAX_URLS_BYTES = 32 * 2**20
MAX_IMAGE_BYTES = 20 * 2**20
MULTIPART_OVERHEAD = 64 * 1024  # a multipart body's boundaries and headers, beside its image
GENAI_USE = "train-genai"  # what the Spawning API's optOut/optIn answer for

router = Router(tags=["works registry"])


# --- What the API takes and shows ----------------------------------------------------------------


class DecisionOut(Schema):
    choice: str = Field(description="allow, licence or deny")
    source: str = Field(description="where the choice comes from: override, default, grant…")
    licence_ref: str = Field(description="the licence granted to you, for source grant")


class MatchOut(Schema):
    kind: str = Field(description="the item's identifier key")
    distance: int | None = Field(None, description="for phash: the distance in bits")


class SignalsOut(Schema):
    """What the work's public signals say (consent/signals/mapping.py), the same for every
    caller: computed from the public decision, whatever licences you hold."""

    content_usage: str = Field(
        description="its page's Content-Usage header (IETF aipref vocab-08), "
        'e.g. "train-ai=n, ai-use=n, search=y"'
    )
    content_signal: str = Field(
        description='Cloudflare Content Signals, e.g. "search=yes, ai-input=no, ai-train=no"'
    )
    tdm_reservation: int = Field(description="W3C TDMRep: 1 rights reserved, 0 not")
    rsl_permits: list[str] = Field(description="RSL usage tokens its free licence permits")
    rsl_prohibits: list[str] = Field(
        description="RSL usage tokens its free licence prohibits (some may be offered for pay)"
    )


class WorkOut(Schema):
    public_id: str
    url: str
    title: str
    kind: str
    status: str
    claim_state: str
    credit_name: str
    identifiers: list[str]
    decision: dict[str, DecisionOut] = Field(description="per use, for your organisation")
    signals: SignalsOut = Field(description="its public signals, the same for everyone")


class MatchedWorkOut(WorkOut):
    match: MatchOut


class SiteOut(Schema):
    """A creator's own website (a host, or a path under it), verified: they proved control."""

    public_id: str
    url: str = Field(description="the site's page on the portal")
    site_url: str = Field(description="the site's address, as its creator declared it")
    host: str = Field(description="lower-case, without www.; with a port only if not the default")
    path: str = Field(description='"/" for the whole host, else e.g. "/art"')
    status: str = Field(description="verified")
    method: str = Field(description="how control was proven: file or meta")
    verified_at: str | None
    credit_name: str
    decision: dict[str, DecisionOut] = Field(
        description="per use, for your organisation: the creator's defaults, and your licences "
        "from the creator that cover all their works"
    )
    signals: SignalsOut = Field(description="its public signals (the creator's defaults)")


class SiteMatchOut(Schema):
    site: SiteOut
    match: MatchOut = Field(description='{"kind": "site"}')


class ResultOut(Schema):
    """One item's answer: ``matched``, ``works``, ``truncated`` (and, for a ``url`` no work
    answers but a creator's verified site covers, ``sites``) — or ``error`` alone."""

    matched: bool | None = None
    works: list[MatchedWorkOut] | None = None
    truncated: bool | None = None
    sites: list[SiteMatchOut] | None = Field(
        None, description="only for a url covered by a verified site and answered by no work"
    )
    error: ErrorBody | None = None


class LookupIn(Schema):
    """Up to 10,000 items, each an object with one key: url, sha256, phash, isbn, isrc, iswc or
    doi. A wrong item is answered with its own error; the others are answered."""

    model_config = {"extra": "forbid"}

    items: list[Any] = Field(description='e.g. [{"isbn": "9780306406157"}, {"url": "https://…"}]')


class LookupOut(Schema):
    results: list[ResultOut]


ERRORS = {401: ErrorOut, 404: ErrorOut, 405: ErrorOut, 429: ErrorOut}


# --- Bulk lookup ---------------------------------------------------------------------------------


@router.post(
    "/lookup",
    response={200: LookupOut, 400: ErrorOut, 413: ErrorOut, 415: ErrorOut, **ERRORS},
    url_name="lookup",
    summary="Look works up in bulk by any identifier",
)
@body_limit(MAX_LOOKUP_BYTES)
def lookup_view(request, data: LookupIn):
    """What creators want for the works registered under each item's identifier, for your
    organisation: one result per item, in the request's order (docs/api.md)."""
    if len(data.items) > MAX_ITEMS:
        raise _too_many(MAX_ITEMS, "items")
    return JsonResponse({"results": lookup(data.items, developer=request.developer)})


def _too_many(limit: int, what: str) -> APIError:
    return APIError(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        "too_many_items",
        f"At most {limit:,} {what} a request: split them into several requests.",
    )


# --- Image lookup -------------------------------------------------------------------------------

_IMAGE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "image/*": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {"image": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


@router.post(
    "/lookup/image",
    response={200: ResultOut, 400: ErrorOut, 413: ErrorOut, 415: ErrorOut, **ERRORS},
    url_name="lookup-image",
    summary="Look one image up by its perceptual hash",
    openapi_extra=_IMAGE_BODY,
)
def lookup_image_view(request):
    """One image — the raw body with its ``image/*`` type, or the multipart field ``image`` —
    of 20 MiB at most, decoded under the limits of uploads (but at most
    ``WORKS_REGISTRY_IMAGE_MAX_PIXELS``: it is decoded in the web process) and hashed as the
    portal hashes them; answered as one lookup item ``{"phash": …}`` would be
    (docs/api.md)."""
    image = _image_file(request)
    try:
        value = image_phash(image, max_pixels=settings.WORKS_REGISTRY_IMAGE_MAX_PIXELS)
    except ValidationError as exc:
        raise APIError(HTTPStatus.BAD_REQUEST, "invalid_image", " ".join(exc.messages)) from None
    finally:
        image.close()
    [result] = lookup([{"phash": f"{value:016x}"}], developer=request.developer)
    return JsonResponse(result)


def _image_too_large() -> APIError:
    return APIError(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        "too_large",
        "The image is over 20 MiB: send a smaller copy, or its pHash to /api/v1/lookup.",
    )


def _image_file(request):
    """The request's image as an open binary file, or an ``APIError`` (413 over 20 MiB, 415
    for another type, 400 ``invalid`` without the multipart field, ``invalid_image`` when
    empty). The size is checked on ``Content-Length`` before anything is read."""
    content_type = request.content_type or ""
    if content_type.startswith("image/"):
        try:
            body = body_read(request, MAX_IMAGE_BYTES)
        except RequestDataTooBig:
            raise _image_too_large() from None
        if not body:
            raise APIError(
                HTTPStatus.BAD_REQUEST, "invalid_image", "The body is empty: send the image."
            )
        return io.BytesIO(body)
    if content_type != "multipart/form-data":
        raise APIError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the image as the body with its type (“Content-Type: image/jpeg”…), or as the "
            "field “image” of a multipart/form-data body.",
        )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_IMAGE_BYTES + MULTIPART_OVERHEAD:
        raise _image_too_large()
    try:
        upload = request.FILES.get("image")
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
    if upload is None:
        raise APIError(
            HTTPStatus.BAD_REQUEST,
            "invalid",
            "Send the image as the field “image”.",
            fields={"image": ["Required."]},
        )
    if upload.size > MAX_IMAGE_BYTES:
        upload.close()
        raise _image_too_large()
    if not upload.size:
        raise APIError(
            HTTPStatus.BAD_REQUEST, "invalid_image", "The field “image” is empty: send the image."
        )
    return upload


# --- One work ------------------------------------------------------------------------------------


@router.get(
    "/works/{public_id}",
    response={200: WorkOut, **ERRORS},
    url_name="work",
    auth=None,
    summary="One work and what its creator wants",
)
def work_view(request, public_id: str):
    """A work as the consent digest publishes it. With your key (optional here), the decision
    for your organisation, licences included; without one, the public decision (no licence
    grant applies), at most ``API_RATE_LIMIT_ANONYMOUS_WORK`` a minute from one address."""
    developer = None
    if request.headers.get("Authorization", "").strip():
        developer = api_key_check(request).developer
    else:
        raise_if_limited(api_limit_anonymous_work(request))
    work = one_work_object(public_id, developer=developer) if len(public_id) <= 64 else None
    if work is None:
        raise APIError(HTTPStatus.NOT_FOUND, "not_found", "No work has this id.")
    return JsonResponse(work)


# --- The Spawning opt-out API v2 -----------------------------------------------------------------


class SpawningURLOut(Schema):
    url: str = Field(description="the line exactly as sent")
    optOut: bool = Field(description="training generative AI is not freely allowed to you")
    optIn: bool = Field(description="training generative AI is allowed to you")


class SpawningOut(Schema):
    urls: list[SpawningURLOut]


spawning_router = Router(tags=["Spawning-compatible"])


@spawning_router.post(
    "/query/urls/",
    response={200: SpawningOut, 400: ErrorOut, 413: ErrorOut, 415: ErrorOut, **ERRORS},
    url_name="spawning-query-urls",
    summary="Spawning opt-out API v2: which URLs are opted out",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
def spawning_query_urls(request):
    """A ``text/plain`` body, one URL a line (up to 10,000), with ``Authorization: API <key>``.
    Each line is answered in order, its ``url`` echoed as sent: ``optOut`` when training
    generative AI (``train-genai``) is not freely allowed to your organisation (denied, or
    only under licence), ``optIn`` when it is allowed; both false for a line that is malformed
    or names no registered work and no creator's verified site."""
    if request.content_type != "text/plain":
        raise APIError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the URLs one a line, with “Content-Type: text/plain”.",
        )
    try:
        body = body_read(request, MAX_URLS_BYTES)
    except RequestDataTooBig:
        raise APIError(
            HTTPStatus.BAD_REQUEST, "body_too_large", "The body is over 32 MiB."
        ) from None
    lines = body.decode("utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "":  # a final newline ends the last line
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    if len(lines) > MAX_URL_LINES:
        raise _too_many(MAX_URL_LINES, "URLs")
    results = lookup([{"url": line} for line in lines], developer=request.developer)
    return JsonResponse(
        {"urls": [_spawning(line, r) for line, r in zip(lines, results, strict=True)]}
    )


def _spawning(line: str, result: dict) -> dict:
    answers = [*(result.get("works") or ()), *(s["site"] for s in result.get("sites") or ())]
    choices = [answer["decision"][GENAI_USE]["choice"] for answer in answers]
    opt_out = any(choice != "allow" for choice in choices)
    return {"url": line, "optOut": opt_out, "optIn": bool(choices) and not opt_out}
