"""What every endpoint of the portal's JSON API shares, whatever app serves it (docs/api.md):

- ``APIError``: an error answered as ``{"error": {"code", "message"[, "fields"]}}``
  (``ErrorOut``, its schema for the OpenAPI document);
- ``api_key_check(request)``: the one key check — the ``Authorization: Bearer <key>`` (or
  ``API <key>``) header read, the key authenticated, and the call counted against its address
  and (a valid key) against the key, both in one round trip, the address's limit judged
  first. ``/api/v1``, ``/api/v2`` and the consent digest exports use
  it; it runs once a request whoever calls it first;
- ``APIKeyAuth``: that check as a django-ninja auth class (``request.auth`` is the ``APIKey``;
  ``request.api_key`` and ``request.developer`` are set too);
- ``JSONBodyParser`` and ``body_limit``: request bodies are JSON objects sent as
  ``application/json`` (415 otherwise), 64 KiB at most unless an endpoint says otherwise;
- ``validation_error_fields``: pydantic's complaints as the API's ``fields``.

The notices app owns API keys, so the key check lives beside them; the NinjaAPI itself is put
together in ``portal/api.py``.
"""

import base64
import binascii
import json
import re
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from ninja import Schema
from ninja.decorators import decorate_view
from ninja.parser import Parser
from ninja.security import HttpBearer

from accounts.ratelimits import Limited, api_limit_ip, api_limit_ip_and_key, api_limit_key

from .models import APIKey
from .services.apikeys import api_key_authenticate

AUTH_SCHEMES = ("bearer", "api")  # case-insensitive, as HTTP authentication schemes are
REALM = 'Bearer realm="api"'
DEFAULT_MAX_BODY_BYTES = 64 * 1024


class APIError(Exception):
    """An error answered as JSON: ``{"error": {"code", "message"[, "fields"]}}``, never
    cached."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields, self.headers = fields, headers or {}

    def response(self) -> JsonResponse:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        response = JsonResponse({"error": error}, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        response["Cache-Control"] = "no-store"
        return response


class ErrorBody(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] | None = None


class ErrorOut(Schema):
    """Every error, for the OpenAPI document: a stable ``code``, a sentence for people, and for
    invalid input the fields at fault."""

    error: ErrorBody


def raise_if_limited(limited: Limited | None) -> None:
    """A limit that was hit, as the API's 429 ``rate_limited`` with ``Retry-After``."""
    if limited is not None:
        raise APIError(
            HTTPStatus.TOO_MANY_REQUESTS,
            "rate_limited",
            limited.message,
            headers={"Retry-After": str(limited.retry_after)},
        )


def api_limit_address(request) -> None:
    """Count the call against its client's address, once a request (``APIError`` 429 over the
    limit). The API's middleware calls it first of all for every path under ``/api/``."""
    if getattr(request, "_api_address_counted", False):
        return
    request._api_address_counted = True
    raise_if_limited(api_limit_ip(request))


def api_key_check(request) -> APIKey:
    """The one key check: the request's API key, authenticated and counted (its address first,
    then the key), or an ``APIError`` (401 ``missing_key``/``invalid_key``, 429). Done once a
    request: a second call answers the same."""
    outcome = getattr(request, "_api_key_outcome", None)
    if outcome is None:
        try:
            outcome = _key_check(request)
        except APIError as exc:
            outcome = exc
        request._api_key_outcome = outcome
    if isinstance(outcome, APIError):
        raise outcome
    return outcome


def _key_check(request) -> APIKey:
    header = request.headers.get("Authorization", "").strip()
    if not header:
        api_limit_address(request)
        raise APIError(
            HTTPStatus.UNAUTHORIZED,
            "missing_key",
            "Send one of your organisation's API keys: “Authorization: Bearer <key>”.",
            headers={"WWW-Authenticate": REALM},
        )
    parts = header.split()
    key = None
    if len(parts) == 2 and parts[0].lower() in AUTH_SCHEMES:
        key = api_key_authenticate(parts[1])
    # The address and (a valid) key counted together, in one round trip, the address judged
    # first — unless the address was counted already for this request.
    if getattr(request, "_api_address_counted", False):
        raise_if_limited(api_limit_key(key.pk) if key is not None else None)
    else:
        request._api_address_counted = True
        raise_if_limited(api_limit_ip_and_key(request, key.pk if key is not None else None))
    if key is None:
        raise APIError(
            HTTPStatus.UNAUTHORIZED,
            "invalid_key",
            "The API key is malformed, unknown or revoked. "
            "Send it as “Authorization: Bearer <key>”.",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    request.api_key, request.developer = key, key.developer
    return key


class APIKeyAuth(HttpBearer):
    """django-ninja's auth for an endpoint that needs an API key: ``api_key_check``. The
    OpenAPI document shows it as HTTP bearer; ``Authorization: API <key>`` works too."""

    def __call__(self, request) -> APIKey:
        return api_key_check(request)

    def authenticate(self, request, token):  # pragma: no cover - __call__ does it all
        return api_key_check(request)


# --- Request bodies ------------------------------------------------------------------------------


def body_limit(max_bytes: int):
    """Give one endpoint a body limit other than 64 KiB (put it under the ``@router.post``).

    A limit over Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is honoured too: django-ninja looks at
    ``request.body`` before the parser does, so a JSON body of a caller whose key has passed
    (the middleware checks a key sent) is read here first, under this limit (``body_read``);
    without a key the call is refused (401) before any body is read."""

    def decorator(run):
        def wrapper(request, *args, **kwargs):
            request.api_max_body_bytes = max_bytes
            if (
                max_bytes > (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
                and getattr(request, "api_key", None) is not None
                and request.content_type == "application/json"
            ):
                try:
                    body_read(request, max_bytes)
                except RequestDataTooBig:
                    return body_too_large(max_bytes).response()
            return run(request, *args, **kwargs)

        return wrapper

    return decorate_view(decorator)


class JSONBodyParser(Parser):
    """Bodies are JSON objects sent as ``application/json``: 415 for another type, 400
    ``body_too_large`` (checked on ``Content-Length`` before reading, then on what was read),
    ``malformed_json``, or ``invalid`` for JSON that is not an object. Query strings: a
    parameter given empty counts as not given."""

    def parse_body(self, request) -> dict:
        if request.content_type != "application/json":
            raise APIError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as JSON, with “Content-Type: application/json”.",
            )
        limit = getattr(request, "api_max_body_bytes", DEFAULT_MAX_BODY_BYTES)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        too_large = body_too_large(limit)
        if length > limit:  # refused before it is read
            raise too_large
        try:
            body = body_read(request, limit)
        except RequestDataTooBig:
            raise too_large from None
        if len(body) > limit:
            raise too_large
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise APIError(
                HTTPStatus.BAD_REQUEST, "malformed_json", "The body is not valid JSON (UTF-8)."
            ) from None
        if not isinstance(data, dict):
            raise APIError(HTTPStatus.BAD_REQUEST, "invalid", "The body must be a JSON object.")
        return data

    def parse_querydict(self, data, list_fields, request) -> dict:
        parsed = super().parse_querydict(data, list_fields, request)
        return {name: value for name, value in parsed.items() if value not in ("", [])}


def body_too_large(limit: int) -> APIError:
    return APIError(HTTPStatus.BAD_REQUEST, "body_too_large", f"The body is over {_size(limit)}.")


def body_read(request, limit: int) -> bytes:
    """The request's body, at most ``limit`` bytes (``RequestDataTooBig`` over it). Over
    Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (which guards every form of the site, 2.5 MiB) the
    stream is read here, under this endpoint's own limit, so that one endpoint may take more
    without raising the limit for all."""
    if hasattr(request, "_body") or limit <= (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0):
        return request.body
    if getattr(request, "_read_started", False):
        return request.body  # Django's own error for a stream already read
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:  # refused before it is read
        raise RequestDataTooBig(f"The body is over {limit} bytes.")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise RequestDataTooBig(f"The body is over {limit} bytes.")
    request._body = body
    return body


def _size(n: int) -> str:
    return f"{n // 2**20} MiB" if n >= 2**20 and n % 2**20 == 0 else f"{n // 1024} KiB"


# --- Validation errors ---------------------------------------------------------------------------

_QUOTED = re.compile(r"'([^']*)'")


def _choices(expected: str) -> str:
    return ", ".join(_QUOTED.findall(expected)) or expected


def _message(error: dict, field: str) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return "Required."
    if kind == "extra_forbidden":
        return "Unknown field."
    if kind in ("literal_error", "enum"):
        return f"Unknown {field}: one of {_choices(str(ctx.get('expected', '')))}."
    if kind in ("string_type", "string_unicode"):
        return "A string."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "A whole number."
    if kind in ("bool_parsing", "bool_type"):
        return "true or false."
    if kind == "greater_than_equal":
        return f"At least {ctx.get('ge')}."
    if kind == "less_than_equal":
        return f"At most {ctx.get('le')}."
    message = str(error.get("msg") or "Invalid.")
    return message if message.endswith(".") else message + "."


def validation_error_fields(errors: list[dict]) -> dict[str, list[str]]:
    """pydantic's errors as ``{field: [sentence, …]}``. A field is named by its path inside
    the body or query (``items.3.url``), without django-ninja's own wrapping."""
    fields: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        # ninja's loc: ("body", <parameter name>, field, …) or ("query", field, …).
        if loc[:1] == ["body"]:
            loc = loc[2:]
        elif loc[:1] in (["query"], ["path"], ["header"], ["cookie"], ["form"], ["file"]):
            loc = loc[1:]
        field = ".".join(loc) or "body"
        message = _message(error, loc[-1] if loc else field)
        fields.setdefault(field, [])
        if message not in fields[field]:
            fields[field].append(message)
    return fields


# --- Cursor pagination (every list of the API: newest first, by creation time and id) -----------


def cursor_encode(obj) -> str:
    """The cursor after ``obj`` (anything with ``created_at`` and ``pk``): opaque to callers."""
    raw = json.dumps([obj.created_at.isoformat(), obj.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str):
    """``(created_at, pk)`` of a cursor this API gave, or a 400 ``invalid_cursor``."""
    invalid = APIError(
        HTTPStatus.BAD_REQUEST,
        "invalid_cursor",
        "The cursor is not one this API gave: use the “next” link of the previous page.",
        fields={"cursor": ["Unknown cursor."]},
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, pk = json.loads(raw)
        created = parse_datetime(created)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise invalid from None
    if created is None or timezone.is_naive(created) or not isinstance(pk, int):
        raise invalid
    return created, pk
