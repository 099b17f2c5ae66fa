"""The notices part of the JSON API (mounted at ``/api/v1/``), for AI developers' systems.

Every call is authenticated by one of the organisation's API keys, sent as
``Authorization: Bearer <key>`` (or ``Authorization: API <key>``, the form of the Spawning API
that pipelines may already speak). Nothing else authenticates: no cookie, no session, so there
is no CSRF to guard against. A key sees its own organisation's notices only; any other notice is
a 404, as if it did not exist.

Errors are JSON, ``{"error": {"code": "...", "message": "...", "fields": {...}}}`` (``fields``
only for invalid input), and no response is ever cached. Every call counts against its client's
address, then its key (``accounts.ratelimits``): over either limit it gets a 429. See docs/api.md.
"""

import base64
import binascii
import json
from functools import wraps
from http import HTTPStatus

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.csrf import csrf_exempt

from accounts.ratelimits import Limited, api_limit_ip, api_limit_key

from .models import APIKey, Notice, NoticeAnswer
from .services.answers import answer_record, answerable_notice
from .services.apikeys import api_key_authenticate

MAX_BODY_BYTES = 64 * 1024
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
AUTH_SCHEMES = ("bearer", "api")  # case-insensitive, as HTTP authentication schemes are
REALM = 'Bearer realm="api"'
STATES = ("open", "answered", "overdue")
ANSWER_FIELDS = ("answer", "statement")


class APIError(Exception):
    """An error answered as JSON: ``{"error": {"code", "message"[, "fields"]}}``."""

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
        error = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        response = JsonResponse({"error": error}, status=self.status)
        for name, value in self.headers.items():
            response[name] = value
        return response


def _authenticate(request) -> APIKey:
    header = request.headers.get("Authorization", "").strip()
    if not header:
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
    if key is None:
        raise APIError(
            HTTPStatus.UNAUTHORIZED,
            "invalid_key",
            "The API key is malformed, unknown or revoked. "
            "Send it as “Authorization: Bearer <key>”.",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    return key


def _rate_limited(limited: Limited | None) -> None:
    if limited is not None:
        raise APIError(
            HTTPStatus.TOO_MANY_REQUESTS,
            "rate_limited",
            limited.message,
            headers={"Retry-After": str(limited.retry_after)},
        )


def api_endpoint(*methods: str):
    """An API view: counts the call against its client's address (before anything else, so a
    flood of bad keys is stopped too), answers only ``methods`` (405 with ``Allow`` otherwise),
    authenticates the key (``request.api_key``, ``request.developer``) and counts the call
    against it (429 with ``Retry-After`` over either limit), turns ``APIError`` into its JSON
    answer, and marks every response ``Cache-Control: no-store``. CSRF-exempt: no cookie
    counts."""

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                _rate_limited(api_limit_ip(request))
                if request.method not in methods:
                    raise APIError(
                        HTTPStatus.METHOD_NOT_ALLOWED,
                        "method_not_allowed",
                        f"{request.method} is not allowed here: use {' or '.join(methods)}.",
                        headers={"Allow": ", ".join(methods)},
                    )
                request.api_key = _authenticate(request)
                _rate_limited(api_limit_key(request.api_key.pk))
                request.developer = request.api_key.developer
                response = view(request, *args, **kwargs)
            except APIError as exc:
                response = exc.response()
            response["Cache-Control"] = "no-store"
            return response

        return wrapper

    return decorator


def _json_body(request) -> dict:
    """The request's body as a JSON object, or an ``APIError`` (415, or 400)."""
    if request.content_type != "application/json":
        raise APIError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON, with “Content-Type: application/json”.",
        )
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    too_large = APIError(
        HTTPStatus.BAD_REQUEST,
        "body_too_large",
        f"The body is over {MAX_BODY_BYTES // 1024} KiB.",
    )
    if length > MAX_BODY_BYTES:  # refused before it is read
        raise too_large
    body = request.body
    if len(body) > MAX_BODY_BYTES:
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


def _url(request, name: str, *args) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


# --- What the API shows ---------------------------------------------------------------------------


def _answer_json(request, answer: NoticeAnswer) -> dict:
    return {
        "id": answer.pk,
        "notice": answer.notice_id,
        "answer": answer.kind,
        "statement": answer.statement,
        "via": answer.via,
        "received_by": answer.received_by,
        "created_at": answer.created_at,
        "url": _url(request, "notices-api:notice-answer", answer.notice_id, answer.pk),
    }


def _notices(developer) -> QuerySet[Notice]:
    """The organisation's notices, each with the answer state of the notice it is about (a
    reminder's is its notice's), in one query."""
    return (
        Notice.objects.filter(developer=developer)
        .annotate(
            due=Coalesce("answer_due_at", "reminds__answer_due_at"),
            answered=Coalesce("answered_at", "reminds__answered_at"),
            marked_overdue=Coalesce("overdue_at", "reminds__overdue_at"),
        )
        .order_by("-created_at", "-pk")
    )


def _state_filter(state: str, now) -> Q:
    if state == "answered":
        return Q(answered__isnull=False)
    waiting = Q(answerable=True, answered__isnull=True)
    if state == "overdue":
        return waiting & (Q(marked_overdue__isnull=False) | Q(due__lt=now))
    return waiting & Q(marked_overdue__isnull=True) & (Q(due__isnull=True) | Q(due__gte=now))


def _is_overdue(notice: Notice, now) -> bool:
    """The same test as ``_state_filter("overdue")``, on a row of ``_notices``."""
    if not notice.answerable or notice.answered is not None:
        return False
    return notice.marked_overdue is not None or (notice.due is not None and notice.due < now)


def _notice_json(request, notice: Notice, now) -> dict:
    return {
        "id": notice.pk,
        "kind": notice.kind,
        "reminds": notice.reminds_id,
        "topic": notice.topic,
        "subject": notice.subject,
        "created_at": notice.created_at,
        "answerable": notice.answerable,
        "answer_due_at": notice.due,
        "answered_at": notice.answered,
        "overdue": _is_overdue(notice, now),
        "url": _url(request, "notices-api:notice-detail", notice.pk),
    }


def _notice_for_key(request, pk: int) -> Notice:
    notice = _notices(request.developer).select_related("reminds").filter(pk=pk).first()
    if notice is None:
        raise APIError(
            HTTPStatus.NOT_FOUND, "not_found", "Your organisation has no notice with this id."
        )
    return notice


def _answers(notice: Notice) -> QuerySet[NoticeAnswer]:
    """The answers about ``notice`` (a reminder's are its notice's), oldest first."""
    return NoticeAnswer.objects.filter(notice_id=answerable_notice(notice).pk).order_by(
        "created_at", "pk"
    )


# --- Cursor pagination ---------------------------------------------------------------------------


def _cursor_encode(notice: Notice) -> str:
    raw = json.dumps([notice.created_at.isoformat(), notice.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_decode(cursor: str):
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
    except (binascii.Error, ValueError, TypeError):
        raise invalid from None
    if created is None or timezone.is_naive(created) or not isinstance(pk, int):
        raise invalid
    return created, pk


def _limit(value: str | None) -> int:
    if value in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        raise APIError(
            HTTPStatus.BAD_REQUEST,
            "invalid",
            "The query has invalid parameters.",
            fields={"limit": [f"A whole number from 1 to {MAX_LIMIT}."]},
        )
    return limit


# --- Endpoints ----------------------------------------------------------------------------------


@api_endpoint("GET")
def notice_list(request):
    """The organisation's notices, newest first, a page at a time (``?cursor=``, ``?limit=``),
    optionally only those ``?state=open|answered|overdue``."""
    now = timezone.now()
    limit = _limit(request.GET.get("limit"))
    state = request.GET.get("state", "")
    if state and state not in STATES:
        raise APIError(
            HTTPStatus.BAD_REQUEST,
            "invalid",
            "The query has invalid parameters.",
            fields={"state": [f"One of {', '.join(STATES)}."]},
        )
    notices = _notices(request.developer)
    if state:
        notices = notices.filter(_state_filter(state, now))
    cursor = request.GET.get("cursor", "")
    if cursor:
        created, pk = _cursor_decode(cursor)
        notices = notices.filter(Q(created_at__lt=created) | Q(created_at=created, pk__lt=pk))
    page = list(notices[: limit + 1])
    next_cursor = next_url = None
    if len(page) > limit:
        page = page[:limit]
        next_cursor = _cursor_encode(page[-1])
        query = {"cursor": next_cursor, "limit": limit, **({"state": state} if state else {})}
        next_url = f"{_url(request, 'notices-api:notice-list')}?{urlencode(query)}"
    return JsonResponse(
        {
            "results": [_notice_json(request, notice, now) for notice in page],
            "next_cursor": next_cursor,
            "next": next_url,
        }
    )


@api_endpoint("GET")
def notice_detail(request, pk: int):
    """One notice: its text, its attachments (metadata) and the answers about it."""
    now = timezone.now()
    notice = _notice_for_key(request, pk)
    rows = notice.attachments.annotate(size=F("blob__size"), sha256=F("blob__sha256")).values(
        "pk", "filename", "content_type", "size", "sha256"
    )
    attachments = [
        {
            **{name: value for name, value in row.items() if name != "pk"},
            "url": _url(request, "notices-api:notice-attachment", notice.pk, row["pk"]),
        }
        for row in rows
    ]
    return JsonResponse(
        {
            **_notice_json(request, notice, now),
            "text": notice.text,
            "attachments": attachments,
            "answers": [_answer_json(request, answer) for answer in _answers(notice)],
            "answers_url": _url(request, "notices-api:notice-answers", notice.pk),
        }
    )


def _answer_input(data: dict) -> tuple[str, str]:
    fields: dict[str, list[str]] = {}
    for name in sorted(set(data) - set(ANSWER_FIELDS)):
        fields[name] = ["Unknown field."]
    kinds = ", ".join(NoticeAnswer.Kind.values)
    kind = data.get("answer")
    if kind is None:
        fields["answer"] = [f"Required: one of {kinds}."]
    elif not isinstance(kind, str) or kind not in NoticeAnswer.Kind.values:
        fields["answer"] = [f"Unknown answer: one of {kinds}."]
    statement = data.get("statement")
    if statement is None:
        statement = ""
    elif not isinstance(statement, str):
        fields["statement"] = ["A string."]
    if fields:
        raise APIError(
            HTTPStatus.BAD_REQUEST, "invalid", "The answer has invalid fields.", fields=fields
        )
    return kind, statement


@api_endpoint("GET", "POST")
def notice_answers(request, pk: int):
    """GET: the answers about the notice, oldest first. POST: record an answer — 201 with it,
    or 200 with the first one when the same answer was already recorded."""
    notice = _notice_for_key(request, pk)
    if request.method == "GET":
        return JsonResponse(
            {"results": [_answer_json(request, answer) for answer in _answers(notice)]}
        )
    kind, statement = _answer_input(_json_body(request))
    try:
        answer, created = answer_record(
            notice=notice,
            kind=kind,
            statement=statement,
            via=NoticeAnswer.Via.API,
            api_key=request.api_key,
        )
    except ValidationError as exc:
        raise APIError(HTTPStatus.BAD_REQUEST, "rejected", " ".join(exc.messages)) from None
    except PermissionDenied:  # the key was revoked meanwhile
        raise APIError(
            HTTPStatus.NOT_FOUND, "not_found", "Your organisation has no notice with this id."
        ) from None
    body = _answer_json(request, answer)
    response = JsonResponse(body, status=HTTPStatus.CREATED if created else HTTPStatus.OK)
    if created:
        response["Location"] = body["url"]
    return response


@api_endpoint("GET")
def notice_answer(request, pk: int, answer_pk: int):
    """One answer about the notice (where ``Location`` points after a POST)."""
    notice = _notice_for_key(request, pk)
    answer = _answers(notice).filter(pk=answer_pk).first()
    if answer is None:
        raise APIError(HTTPStatus.NOT_FOUND, "not_found", "This notice has no answer with this id.")
    return JsonResponse(_answer_json(request, answer))


@api_endpoint("GET")
def notice_attachment(request, pk: int, attachment_pk: int):
    """One attachment of one of the organisation's notices, as it was sent (the works' CSV or
    JSON manifest); its SHA-256 in ``X-Content-SHA256``."""
    notice = _notice_for_key(request, pk)
    attachment = notice.attachments.select_related("blob").filter(pk=attachment_pk).first()
    if attachment is None:
        raise APIError(HTTPStatus.NOT_FOUND, "not_found", "This notice has no such attachment.")
    response = HttpResponse(attachment.content, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(True, attachment.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Content-SHA256"] = attachment.blob.sha256
    return response
