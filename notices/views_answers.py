"""Answers to notices: the signed link in every notice email (no account), the developer
dashboard's notices, and staff's notice page where an answer that arrived by other means is
recorded.

The link page is open to whoever holds the link: a GET shows the notice and changes nothing
(mail scanners open links), answers are CSRF-protected POSTs, and every response says
``no-store``, ``no-referrer`` and ``noindex``.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import linebreaks
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.downloads import private_download
from accounts.forms import add_service_errors
from accounts.selectors import user_roles

from . import answer_links
from .access import developer_member_required, developer_of, notice_for_developer
from .forms_answers import StaffAnswerForm, answer_forms, posted_kind
from .handlers import staff_may_act, staff_may_see
from .models import AnswerAttachment, Delivery, Notice, NoticeAnswer, NoticeAttachment
from .services.answers import FINAL, answer_record

PAGE_SIZE = 25
STATES = {
    "all": "All",
    "open": "Awaiting an answer",
    "overdue": "Overdue",
    "answered": "Answered",
}
RECORDED = {
    NoticeAnswer.Kind.ACKNOWLEDGED: "Your acknowledgement is recorded.",
    NoticeAnswer.Kind.COMPLIED: "Your compliance statement is recorded.",
    NoticeAnswer.Kind.DISPUTED: "Your dispute is recorded.",
}


# --- Shared pieces -------------------------------------------------------------------------------


def _answers(notice: Notice):
    return (
        NoticeAnswer.objects.filter(notice=notice)
        .select_related("user", "api_key")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )


def _notice_context(notice: Notice, answers) -> dict:
    answers = list(answers)
    return {
        "notice": notice,
        "developer": notice.developer,
        # The caller's HTML is trusted HTML built from its own escaped templates, as in the
        # email; a text-only notice is escaped here.
        "body_html": notice.html or linebreaks(notice.text, autoescape=True),
        "notice_files": list(notice.attachments.only("pk", "filename", "content_type")),
        "answers": answers,
        "has_final_answer": any(answer.kind in FINAL for answer in answers),
        "now": timezone.now(),
        "site_name": settings.SITE_NAME,
    }


def _record_posted_answer(request, notice: Notice, *, via: str, user=None):
    """Handle the POST of one of the three answer forms. Returns ``(forms, response)``: a
    redirect once the answer is recorded (or was already), else the forms with their errors."""
    kind = posted_kind(request.POST)
    forms = answer_forms(request.POST, kind=kind)
    if kind is None:
        messages.error(request, "Choose one of the three answers below.")
        return forms, None
    form = forms[kind]
    if form.is_valid():
        try:
            answer, created = answer_record(
                notice=notice,
                kind=kind,
                statement=form.cleaned_data["statement"],
                via=via,
                user=user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            when = date_format(timezone.localtime(answer.created_at), "j F Y, H:i")
            if created:
                messages.success(request, f"{RECORDED[kind]} ({when}). Thank you.")
            else:
                messages.info(
                    request,
                    f"This answer was already recorded on {when}: it was not recorded twice.",
                )
            return forms, redirect(request.get_full_path())
    return forms, None


def _noticeprivate_download(notice: Notice, file_pk: int, **kwargs):
    attachment = get_object_or_404(
        NoticeAttachment.objects.select_related("blob"), pk=file_pk, notice=notice
    )
    return private_download(
        attachment.blob.file, attachment.filename, attachment.content_type, **kwargs
    )


# --- The signed link (anyone holding it) ---------------------------------------------------------


def link_headers(view):
    """A link page is private to whoever holds the link: never cached, never indexed, and its
    address (the token) never sent as a referrer to another site. (``same-origin``, not
    ``no-referrer``: under ``no-referrer`` browsers send ``Origin: null`` with the page's own
    form, which Django's CSRF check rightly refuses.)"""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex"
        return response

    return wrapper


def _link_refused(request, exc: answer_links.AnswerLinkError) -> HttpResponse:
    expired = isinstance(exc, answer_links.AnswerLinkExpired)
    return render(
        request,
        "notices/answers/link_refused.html",
        {
            "expired": expired,
            "message": exc.message,
            "expired_at": exc.expired_at if expired else None,
            "reply_to": (exc.notice.reply_to or settings.NOTICES_REPLY_TO) if expired else "",
        },
        status=exc.status,
    )


@link_headers
def answer_link(request, token: str):
    """GET shows the notice and its answers and changes nothing; POST records one answer
    (``via=link``) and redirects back here."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD, POST"})
    try:
        notice = answer_links.notice_for_token(token)
    except answer_links.AnswerLinkError as exc:
        return _link_refused(request, exc)
    forms = answer_forms()
    if request.method == "POST":
        forms, response = _record_posted_answer(request, notice, via=NoticeAnswer.Via.LINK)
        if response is not None:
            return response
    return render(
        request,
        "notices/answers/link.html",
        {
            **_notice_context(notice, _answers(notice)),
            "forms": forms,
            "expires_at": answer_links.link_expires_at(notice),
            "file_url_name": "answers:link-file",
            "token": token,
        },
    )


@require_GET
@link_headers
def link_file(request, token: str, file_pk: int):
    """One of the notice's own files (the caller's manifest), for whoever holds the link."""
    try:
        notice = answer_links.notice_for_token(token)
    except answer_links.AnswerLinkError as exc:
        return _link_refused(request, exc)
    return _noticeprivate_download(notice, file_pk, cache="no-store")


# --- The developer dashboard -----------------------------------------------------------------


def _state_filter(state: str, now) -> Q:
    waiting = Q(answerable=True, answered_at__isnull=True)
    if state == "open":
        return waiting & (Q(answer_due_at__isnull=True) | Q(answer_due_at__gt=now))
    if state == "overdue":
        return waiting & Q(answer_due_at__lte=now)
    if state == "answered":
        return Q(answered_at__isnull=False)
    return Q()


@never_cache  # their organisation's notices: not for shared caches
@developer_member_required
def developer_notice_list(request):
    state = request.GET.get("state") or "all"
    if state not in STATES:
        state = "all"
    now = timezone.now()
    notices = Notice.objects.filter(developer=request.developer, kind=Notice.Kind.NOTICE)
    counts = notices.aggregate(
        **{name: Count("pk", filter=_state_filter(name, now)) for name in STATES}
    )
    latest_answer = NoticeAnswer.objects.filter(notice=OuterRef("pk")).order_by(
        "-created_at", "-pk"
    )
    listed = (
        notices.filter(_state_filter(state, now))
        .annotate(
            reminder_count=Count("reminders", distinct=True),
            latest_answer_kind=Subquery(latest_answer.values("kind")[:1]),
        )
        .defer("text", "html")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    kind_labels = dict(NoticeAnswer.Kind.choices)
    for notice in page:
        notice.latest_answer_label = kind_labels.get(notice.latest_answer_kind, "")
        notice.is_late = (
            notice.answerable
            and notice.answered_at is None
            and notice.answer_due_at is not None
            and notice.answer_due_at <= now
        )
    tabs = [
        {
            "value": value,
            "label": label,
            "count": counts[value],
            "query": "" if value == "all" else f"state={value}",
            "current": value == state,
        }
        for value, label in STATES.items()
    ]
    return render(
        request,
        "notices/answers/developer_list.html",
        {
            "developer": request.developer,
            "page": page,
            "state": state,
            "tabs": tabs,
            "query": "" if state == "all" else f"state={state}",
        },
    )


def _deliveries(notice: Notice):
    """The deliveries of a notice and of its reminders, oldest first."""
    return (
        Delivery.objects.filter(Q(notice=notice) | Q(notice__reminds=notice))
        .select_related("notice")
        .order_by("created_at", "pk")
    )


@never_cache  # their organisation's notices: not for shared caches
@developer_member_required
def developer_notice(request, pk: int):
    notice = notice_for_developer(request.developer, pk)
    if notice.reminds_id:
        return redirect("answers:developer-notice", pk=notice.reminds_id)
    forms = answer_forms()
    if request.method == "POST":
        forms, response = _record_posted_answer(
            request, notice, via=NoticeAnswer.Via.DASHBOARD, user=request.user
        )
        if response is not None:
            return response
    return render(
        request,
        "notices/answers/developer_notice.html",
        {
            **_notice_context(notice, _answers(notice)),
            "forms": forms,
            "deliveries": _deliveries(notice),
            "file_url_name": "answers:notice-file",
        },
    )


# --- Staff ----------------------------------------------------------------------------------------


def staff_required(view):
    """Registry managers, superusers and guild staff; 403 for anyone else signed in. Which
    notice a guild's staff may open is decided per notice (``handlers.staff_may_act``)."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        roles = user_roles(request.user)
        if not (roles.can_manage_registry or roles.is_guild_staff):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@staff_required
def staff_notice(request, pk: int):
    notice = get_object_or_404(Notice.objects.select_related("developer", "reminds"), pk=pk)
    # Not for those it is about (their own request, one they filed): nobody records an answer
    # to their own request, whatever their role.
    if not staff_may_act(request.user, notice):
        raise Http404("No such notice among yours.")
    if notice.reminds_id:
        return redirect("answers:staff-notice", pk=notice.reminds_id)
    max_bytes = settings.NOTICES_ANSWER_ATTACHMENT_MAX_BYTES
    form = StaffAnswerForm(request.POST or None, request.FILES or None, max_bytes=max_bytes)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            answer, created = answer_record(
                notice=notice,
                kind=data["kind"],
                statement=data["statement"],
                via=NoticeAnswer.Via.STAFF,
                user=request.user,
                received_by=data["received_by"],
                attachments=data["attachments"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if created:
                files = answer.attachments.count()
                messages.success(
                    request,
                    f"The answer ({answer.get_kind_display().lower()}) is recorded as received "
                    f"by staff, with {files} attachment{'' if files == 1 else 's'}.",
                )
            else:
                when = date_format(timezone.localtime(answer.created_at), "j F Y, H:i")
                messages.info(
                    request,
                    f"This answer was already recorded on {when}: nothing was added.",
                )
            return redirect("answers:staff-notice", pk=notice.pk)
    return render(
        request,
        "notices/answers/staff_notice.html",
        {
            **_notice_context(notice, _answers(notice)),
            "form": form,
            "deliveries": _deliveries(notice),
            "file_url_name": "answers:notice-file",
            "max_bytes": max_bytes,
        },
    )


# --- Files: the notice's own, and those staff attached to an answer -----------------------------


def _may_see_notice_files(user, notice: Notice) -> bool:
    if staff_may_see(user, notice):
        return True
    own = developer_of(user)
    return own is not None and own.pk == notice.developer_id


@login_required
@require_GET
def notice_file(request, pk: int, file_pk: int):
    """A notice's own file, for its organisation's people and registry managers (404 for
    anyone else)."""
    notice = get_object_or_404(Notice, pk=pk)
    if not _may_see_notice_files(request.user, notice):
        raise Http404
    return _noticeprivate_download(notice, file_pk)


@login_required
@require_GET
def answer_file(request, pk: int):
    """A file staff attached to an answer, for the notice's organisation's people and registry
    managers (404 for anyone else). Always a download, never shown in the browser."""
    attachment = get_object_or_404(AnswerAttachment.objects.select_related("answer__notice"), pk=pk)
    if not _may_see_notice_files(request.user, attachment.answer.notice):
        raise Http404
    return private_download(attachment.file, attachment.filename, attachment.content_type)
