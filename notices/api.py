"""The notices part of the JSON API (a django-ninja router, mounted by ``portal/api.py`` at
``/api/v1/``), for AI developers' systems.

Every call is authenticated by one of the organisation's API keys, sent as
``Authorization: Bearer <key>`` (or ``Authorization: API <key>``, the form of the Spawning API
that pipelines may already speak): ``notices.api_base.APIKeyAuth``. Nothing else authenticates:
no cookie, no session, so there is no CSRF to guard against. A key sees its own organisation's
notices only; any other notice is a 404, as if it did not exist.

Errors are JSON, ``{"error": {"code": "...", "message": "...", "fields": {...}}}`` (``fields``
only for invalid input), and no response is ever cached. Every call counts against its client's
address, then its key (``accounts.ratelimits``): over either limit it gets a 429. See docs/api.md.
"""

import logging
from datetime import datetime
from http import HTTPStatus
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from ninja import Field, Query, Router, Schema, Status

from accounts.storage import StorageUnavailable

from .api_base import APIError, ErrorOut, cursor_decode, cursor_encode
from .models import Notice, NoticeAnswer
from .services.answers import answer_record, answerable_notice

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
STATES = ("open", "answered", "overdue")

router = Router(tags=["notices"])


# --- What the API takes and shows (the OpenAPI document's schemas) -------------------------------


class NoticeOut(Schema):
    id: int
    kind: str
    reminds: int | None
    topic: str
    subject: str
    created_at: datetime
    answerable: bool
    answer_due_at: datetime | None
    answered_at: datetime | None
    overdue: bool
    url: str


class NoticeListOut(Schema):
    results: list[NoticeOut]
    next_cursor: str | None
    next: str | None


class AttachmentOut(Schema):
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str


class AnswerOut(Schema):
    id: int
    notice: int
    answer: str
    statement: str
    via: str
    received_by: str
    created_at: datetime
    url: str


class AnswerListOut(Schema):
    results: list[AnswerOut]


class NoticeDetailOut(NoticeOut):
    text: str
    attachments: list[AttachmentOut]
    answers: list[AnswerOut]
    answers_url: str


class AnswerIn(Schema):
    """An answer to a notice. Any other field is refused."""

    model_config = {"extra": "forbid"}

    answer: Literal[tuple(NoticeAnswer.Kind.values)] = Field(  # type: ignore[valid-type]
        description="acknowledged (received, being dealt with), complied (done), or disputed"
    )
    statement: str | None = Field(
        None,
        description="For complied, what you did; for disputed, why. Under 10,000 characters.",
    )


ERRORS = {401: ErrorOut, 404: ErrorOut, 405: ErrorOut, 429: ErrorOut}
QUERY_ERRORS = {400: ErrorOut, **ERRORS}
BODY_ERRORS = {400: ErrorOut, 415: ErrorOut, **ERRORS}


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


# --- Endpoints ----------------------------------------------------------------------------------


@router.get("/notices", response={200: NoticeListOut, **QUERY_ERRORS}, url_name="notice-list")
def notice_list(
    request,
    state: Literal[STATES] | None = Query(  # type: ignore[valid-type]
        None,
        description="open (waiting for your answer, deadline not passed), answered, or "
        "overdue; without it, every notice",
    ),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="notices a page"),
    cursor: str = Query("", description="the previous page's next_cursor"),
):
    """The organisation's notices, newest first, a page at a time."""
    now = timezone.now()
    notices = _notices(request.developer)
    if state:
        notices = notices.filter(_state_filter(state, now))
    if cursor:
        created, pk = cursor_decode(cursor)
        notices = notices.filter(Q(created_at__lt=created) | Q(created_at=created, pk__lt=pk))
    page = list(notices[: limit + 1])
    next_cursor = next_url = None
    if len(page) > limit:
        page = page[:limit]
        next_cursor = cursor_encode(page[-1])
        query = {"cursor": next_cursor, "limit": limit, **({"state": state} if state else {})}
        next_url = f"{_url(request, 'notices-api:notice-list')}?{urlencode(query)}"
    return {
        "results": [_notice_json(request, notice, now) for notice in page],
        "next_cursor": next_cursor,
        "next": next_url,
    }


@router.get(
    "/notices/{int:pk}", response={200: NoticeDetailOut, **ERRORS}, url_name="notice-detail"
)
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
    return {
        **_notice_json(request, notice, now),
        "text": notice.text,
        "attachments": attachments,
        "answers": [_answer_json(request, answer) for answer in _answers(notice)],
        "answers_url": _url(request, "notices-api:notice-answers", notice.pk),
    }


@router.get(
    "/notices/{int:pk}/answers", response={200: AnswerListOut, **ERRORS}, url_name="notice-answers"
)
def notice_answers(request, pk: int):
    """The answers recorded about the notice, oldest first, whoever gave them."""
    notice = _notice_for_key(request, pk)
    return {"results": [_answer_json(request, answer) for answer in _answers(notice)]}


@router.post(
    "/notices/{int:pk}/answers",
    response={200: AnswerOut, 201: AnswerOut, **BODY_ERRORS},
    url_name="notice-answers",
)
def notice_answer_create(request, pk: int, data: AnswerIn, response: HttpResponse):
    """Answer the notice: 201 with the new answer (and ``Location``), or 200 with the answer
    first recorded when the same answer already was — so a retry records nothing twice. 400
    ``rejected`` for an answer the notice cannot take (a compliance without a statement, an
    acknowledgement after a compliance, a notice that asks for no answer)."""
    notice = _notice_for_key(request, pk)
    try:
        answer, created = answer_record(
            notice=notice,
            kind=data.answer,
            statement=data.statement or "",
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
    if created:
        response["Location"] = body["url"]
    return Status(HTTPStatus.CREATED if created else HTTPStatus.OK, body)


@router.get(
    "/notices/{int:pk}/answers/{int:answer_pk}",
    response={200: AnswerOut, **ERRORS},
    url_name="notice-answer",
)
def notice_answer(request, pk: int, answer_pk: int):
    """One answer about the notice (where ``Location`` points after a POST)."""
    notice = _notice_for_key(request, pk)
    answer = _answers(notice).filter(pk=answer_pk).first()
    if answer is None:
        raise APIError(HTTPStatus.NOT_FOUND, "not_found", "This notice has no answer with this id.")
    return _answer_json(request, answer)


@router.get(
    "/notices/{int:pk}/attachments/{int:attachment_pk}",
    response=ERRORS,  # the 200 is the file itself, described below
    url_name="notice-attachment",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The attachment's bytes as sent (JSON or CSV), its SHA-256 in "
                "X-Content-SHA256",
                "content": {"application/octet-stream": {"schema": {"type": "string"}}},
            }
        }
    },
)
def notice_attachment(request, pk: int, attachment_pk: int):
    """One attachment of one of the organisation's notices, as it was sent (the works' CSV or
    JSON manifest); its SHA-256 in ``X-Content-SHA256``. The bytes stream from the file
    storage through the portal (never a redirect to the bucket: the API promises the bytes and
    their digest); the store not answering is a 503, the file missing from it a 404."""
    notice = _notice_for_key(request, pk)
    attachment = notice.attachments.select_related("blob").filter(pk=attachment_pk).first()
    if attachment is None:
        raise APIError(HTTPStatus.NOT_FOUND, "not_found", "This notice has no such attachment.")
    blob = attachment.blob
    try:
        stream = blob.file.storage.stream(blob.file.name)
    except StorageUnavailable:
        logger.warning("Attachment %s: the file store did not answer", attachment.pk, exc_info=True)
        raise APIError(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "The file store is not answering just now, so the attachment cannot be sent. Try "
            "again in a minute.",
            headers={"Retry-After": "60"},
        ) from None
    except FileNotFoundError:
        logger.error("Attachment %s: its stored file %s is missing", attachment.pk, blob.file.name)
        raise APIError(
            HTTPStatus.NOT_FOUND,
            "attachment_file_missing",
            "This attachment's file is missing from the portal's file store; the portal's "
            "operators have been told.",
        ) from None
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["Content-Length"] = str(blob.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Content-SHA256"] = blob.sha256
    return response
