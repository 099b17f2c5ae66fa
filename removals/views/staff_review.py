"""The guild staff's side of removal requests: the moderation queue, the review page and its
decisions, and the files reviewers open.

Who sees what (``removals.access``): staff of any guild the creator is a verified member of, or
superusers when they have none; never their own requests. Lists refuse people without a staff
role (403); a request outside someone's queue does not exist for them (404).
"""

from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
)
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from accounts.downloads import private_download, stored_image
from accounts.forms import add_service_errors
from accounts.models import GuildMembership
from accounts.selectors import user_roles
from notices.models import AIDeveloper, Delivery, Notice, NoticeAnswer
from works.access import conflicts_handled_by
from works.conflicts import blocked_work_ids, match_phrase
from works.models import Conflict, Work, WorkIdentifier
from works.selectors import claim_deciders

from .. import contests, letters, services, stats
from ..access import reached_staff_filter, request_for_moderator
from ..forms_staff import ApproveForm, CloseForm, InfoForm, RejectForm
from ..manifest import grants_by_developer, manifest_build
from ..models import RemovalEvent, RemovalRequest

Status = RemovalRequest.Status
PAGE_SIZE = 25
WORKS_PAGE_SIZE = 50
HISTORY_LIMIT = 20
DECIDED = [Status.APPROVED, Status.REJECTED, Status.CLOSED, Status.RETRACTED]
TABS = {
    # A contested answer (issue 20) is back with the staff: waiting, by its first submission.
    "waiting": ("Waiting for a decision", [*RemovalRequest.OPEN_FOR_REVIEW, Status.CONTESTED]),
    "sent-back": ("Sent back to the creator", [Status.NEEDS_INFO]),
    "decided": ("Decided", DECIDED),
}


def staff_required(view):
    """Guild staff and superusers; 403 for anyone else signed in."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        roles = user_roles(request.user)
        if not (roles.is_guild_staff or roles.is_superuser):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _waiting(since, now) -> str:
    if since is None:
        return ""
    days = (now - since).days
    if days < 1:
        return "less than a day"
    return f"{days} day{'' if days == 1 else 's'}"


def _count_of(through, **filters):
    return Subquery(
        through.objects.filter(removalrequest_id=OuterRef("pk"), **filters)
        .order_by()
        .values("removalrequest_id")
        .annotate(n=Count("*"))
        .values("n"),
        output_field=IntegerField(),
    )


# --- The queue -----------------------------------------------------------------------------------


@staff_required
@require_GET
def queue(request):
    """Requests waiting for a decision, oldest first; those sent back to the creator; and the
    decided ones, latest first. A constant number of queries a page."""
    show = request.GET.get("show") or "waiting"
    if show not in TABS:
        show = "waiting"
    scope = stats.requests_in_scope(request.user)
    counts = scope.aggregate(
        **{key: Count("pk", filter=Q(status__in=states)) for key, (_, states) in TABS.items()}
    )
    rows = (
        scope.filter(status__in=TABS[show][1])
        .select_related(
            "creator__creator_profile", "reviewer__creator_profile", "decided_by__creator_profile"
        )
        .annotate(
            works_count=_count_of(RemovalRequest.works.through),
            developers_count=_count_of(RemovalRequest.developers.through),
            asked_at=Subquery(
                RemovalEvent.objects.filter(
                    request=OuterRef("pk"), action=RemovalEvent.Action.INFO_REQUESTED
                )
                .order_by("-at", "-pk")
                .values("at")[:1]
            ),
        )
        .prefetch_related(
            Prefetch("developers", queryset=AIDeveloper.objects.only("pk", "name").order_by("name"))
        )
    )
    if show == "decided":
        rows = rows.order_by("-decided_at", "-pk")
    elif show == "sent-back":
        rows = rows.order_by("-updated_at", "-pk")
    else:
        rows = rows.order_by("submitted_at", "pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for row in page:
        row.waiting = _waiting(row.submitted_at, now)
        row.developer_names = [d.name for d in row.developers.all()]
    return render(
        request,
        "removals/staff/queue.html",
        {
            "page": page,
            "show": show,
            "tabs": [(key, label, counts[key]) for key, (label, _) in TABS.items()],
            "query": f"show={show}",
        },
    )


# --- The review page -----------------------------------------------------------------------------


def _moderated(request, pk) -> RemovalRequest:
    obj = request_for_moderator(request.user, pk)
    return (
        RemovalRequest.objects.select_related(
            "creator__creator_profile",
            "filed_by__creator_profile",
            "mandate__guild",
            "reviewer__creator_profile",
            "decided_by__creator_profile",
        )
        .filter(pk=obj.pk)
        .get()
    )


def _work_page(request, obj, blocked_ids: set[int]):
    works = (
        obj.works.select_related("file")
        .prefetch_related(
            Prefetch("identifiers", queryset=WorkIdentifier.objects.order_by("scheme", "value"))
        )
        .order_by("title", "pk")
    )
    page = Paginator(works, WORKS_PAGE_SIZE).get_page(request.GET.get("works_page"))
    ids = [w.pk for w in page]
    conflicts = list(
        Conflict.objects.filter(
            Q(work_a_id__in=ids) | Q(work_b_id__in=ids), status=Conflict.Status.OPEN
        )
        .select_related("work_a", "work_b")
        .order_by("created_at", "pk")
    )
    mine = set(
        Conflict.objects.filter(pk__in=[c.pk for c in conflicts])
        .filter(conflicts_handled_by(request.user))
        .values_list("pk", flat=True)
    )
    by_work: dict[int, list[dict]] = {}
    for conflict in conflicts:
        for work, other in ((conflict.work_a, conflict.work_b), (conflict.work_b, conflict.work_a)):
            if work.pk not in ids:
                continue
            blocking = (
                conflict.block_lifted_at is None
                and other.claim_state == Work.Claim.VERIFIED
                and other.created_at < work.created_at
            )
            by_work.setdefault(work.pk, []).append(
                {
                    "conflict": conflict,
                    "matched": match_phrase(conflict.matches),
                    "blocking": blocking,
                    "lifted": conflict.block_lifted_at is not None,
                    "other_verified": other.claim_state == Work.Claim.VERIFIED,
                    "other_earlier": other.created_at < work.created_at,
                    "handled_here": conflict.pk in mine,
                }
            )
    deciders = claim_deciders(page)  # who verified each claim: their guild's staff, or an admin
    for work in page:
        work.claim_by = deciders.get(work.pk)
        work.open_conflicts = by_work.get(work.pk, [])
        work.blocked = work.pk in blocked_ids
        file = getattr(work, "file", None)
        work.phash_hex = (
            f"{file.phash & 0xFFFFFFFFFFFFFFFF:016x}"
            if file is not None and file.phash is not None
            else ""
        )
    return page


def _notices(obj):
    """The request's notices, each with ``removal_overdue``: past its deadline without a final
    answer (``stats.overdue_filter`` — an acknowledgement alone does not answer a removal)."""
    return list(
        Notice.objects.filter(topic=obj.topic, kind=Notice.Kind.NOTICE)
        .annotate(removal_overdue=ExpressionWrapper(stats.overdue_filter(), BooleanField()))
        .select_related("developer")
        .prefetch_related(
            Prefetch("deliveries", queryset=Delivery.objects.order_by("created_at", "pk")),
            Prefetch("answers", queryset=NoticeAnswer.objects.order_by("created_at", "pk")),
        )
        .order_by("developer__name", "created_at", "pk")
    )


def _letter_preview(request, obj, developers, grants, work_ids):
    """The letter one addressed developer would get if the request were approved now by this
    reviewer (their guild writes as their agent only under their mandate)."""
    if not developers:
        return None
    chosen = request.GET.get("letter")
    developer = next((d for d in developers if str(d.pk) == chosen), developers[0])
    guild = services.reviewing_guild(obj, request.user)
    agent = services.agent_guild(obj, guild)
    letter = letters.removal_letter(
        request=obj,
        developer=developer,
        manifest=manifest_build(work_ids),
        grants=grants.get(developer.pk, []),
        guild=guild,
        agent=agent,
        legal_basis=letters.legal_basis(guild),
        due=timezone.now() + timedelta(days=obj.answer_due_days),
    )
    return {"developer": developer, "letter": letter, "guild": guild, "agent": agent}


def _review_context(request, obj, *, forms=None, action_errors=None) -> dict:
    forms = forms or {}
    open_for_review = obj.status in RemovalRequest.OPEN_FOR_REVIEW
    all_works = list(obj.works.only("pk", "title", "claim_state", "created_at"))
    work_ids = [w.pk for w in all_works]
    claims = dict.fromkeys(Work.Claim.values, 0)
    for work in all_works:
        claims[work.claim_state] = claims.get(work.claim_state, 0) + 1
    claim_summary = [
        f"{claims[state]} {label.lower()}" for state, label in Work.Claim.choices if claims[state]
    ]
    blocked_ids = blocked_work_ids(all_works)
    sent = obj.status in (Status.APPROVED, Status.CLOSED, Status.RETRACTED)
    notices = _notices(obj) if sent else []
    if notices:  # who was notified (a retraction is a second notice to the same developer)
        developers = list({n.developer_id: n.developer for n in notices}.values())
    else:
        developers = services.addressed_developers(obj)
    grants = (
        grants_by_developer(
            owner_id=obj.creator_id,
            work_ids=work_ids,
            developer_ids=[d.pk for d in developers],
        )
        if developers and open_for_review
        else {}
    )
    grant_rows = [(d, grants[d.pk]) for d in developers if grants.get(d.pk)]
    history = (
        RemovalRequest.objects.filter(creator_id=obj.creator_id)
        .filter(reached_staff_filter())  # not their drafts, nor what they withdrew unread
        .exclude(pk=obj.pk)
        .select_related("decided_by__creator_profile")
        .annotate(works_count=_count_of(RemovalRequest.works.through))
        .order_by("-created_at", "-pk")[:HISTORY_LIMIT]
    )
    context = {
        "obj": obj,
        "open_for_review": open_for_review,
        "works_page": _work_page(request, obj, blocked_ids),
        "work_count": len(all_works),
        "claim_summary": claim_summary,
        "self_declared": claims[Work.Claim.SELF_DECLARED],
        "blocked_count": len(blocked_ids),
        "problems": services.approval_problems(obj) if open_for_review else [],
        "developers": developers,
        "grant_rows": grant_rows,
        "notices": notices,
        "evidence": list(obj.evidence.all()),
        "events": obj.events.select_related("actor__creator_profile", "developer"),
        "memberships": GuildMembership.objects.filter(user_id=obj.creator_id)
        .select_related("guild")
        .order_by("guild__name"),
        "history": history,
        "preview": _letter_preview(request, obj, developers, grants, work_ids)
        if open_for_review
        else None,
        "action_errors": action_errors or [],
        "approve_form": forms.get("approve") or ApproveForm(grants_warning=bool(grant_rows)),
        "reject_form": forms.get("reject") or RejectForm(),
        "info_form": forms.get("info") or InfoForm(),
        "close_form": forms.get("close") or CloseForm(),
        # Developers' "complied" and what the creator made of them (issue 20).
        "contests": contests.contests_for_request(obj),
    }
    return context


@login_required
@require_GET
def review(request, pk):
    obj = _moderated(request, pk)
    return render(request, "removals/staff/review.html", _review_context(request, obj))


def _render_refused(request, obj, *, form_key=None, form=None, exc=None):
    errors = []
    if exc is not None:
        if form is not None and hasattr(exc, "error_dict"):
            add_service_errors(form, exc)
        else:
            errors = list(exc.messages)
    forms = {form_key: form} if form_key else {}
    return render(
        request,
        "removals/staff/review.html",
        _review_context(request, obj, forms=forms, action_errors=errors),
    )


@login_required
@require_POST
def review_start(request, pk):
    obj = _moderated(request, pk)
    try:
        services.review_start(actor=request.user, request=obj)
    except ValidationError as exc:
        return _render_refused(request, obj, exc=exc)
    messages.success(request, "You are reviewing this request: the other staff see it.")
    return redirect("removals-staff:review", pk=obj.pk)


@login_required
@require_POST
def approve(request, pk):
    obj = _moderated(request, pk)
    grants = grants_by_developer(
        owner_id=obj.creator_id,
        work_ids=list(obj.works.values_list("pk", flat=True)),
        developer_ids=[d.pk for d in services.addressed_developers(obj)],
    )
    form = ApproveForm(request.POST, grants_warning=any(grants.values()))
    if not form.is_valid():
        return _render_refused(request, obj, form_key="approve", form=form)
    try:
        notices = services.request_approve(
            actor=request.user,
            request=obj,
            note=form.cleaned_data["note"],
            grants_acknowledged=form.cleaned_data.get("grants_seen", False),
        )
    except ValidationError as exc:
        return _render_refused(request, obj, form_key="approve", form=form, exc=exc)
    count = len(notices)
    messages.success(
        request,
        f"Approved: {count} notice{'' if count == 1 else 's'} will go out, one to each "
        "developer. The creator is told.",
    )
    return redirect("removals-staff:review", pk=obj.pk)


@login_required
@require_POST
def reject(request, pk):
    obj = _moderated(request, pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _render_refused(request, obj, form_key="reject", form=form)
    try:
        services.request_reject(actor=request.user, request=obj, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        return _render_refused(request, obj, form_key="reject", form=form, exc=exc)
    messages.success(request, "Rejected. The creator is emailed your reason.")
    return redirect("removals-staff:review", pk=obj.pk)


@login_required
@require_POST
def ask_info(request, pk):
    obj = _moderated(request, pk)
    form = InfoForm(request.POST)
    if not form.is_valid():
        return _render_refused(request, obj, form_key="info", form=form)
    try:
        services.info_request(
            actor=request.user, request=obj, question=form.cleaned_data["question"]
        )
    except ValidationError as exc:
        return _render_refused(request, obj, form_key="info", form=form, exc=exc)
    messages.success(
        request,
        "Sent back to the creator with your question. It returns to the queue when they answer.",
    )
    return redirect("removals-staff:review", pk=obj.pk)


@login_required
@require_POST
def close(request, pk):
    obj = _moderated(request, pk)
    form = CloseForm(request.POST)
    if not form.is_valid():
        return _render_refused(request, obj, form_key="close", form=form)
    try:
        services.request_close(actor=request.user, request=obj, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        return _render_refused(request, obj, form_key="close", form=form, exc=exc)
    messages.success(request, "The request is closed. The creator sees your reason.")
    return redirect("removals-staff:review", pk=obj.pk)


@login_required
@require_GET
def evidence(request, pk, evidence_pk):
    obj = request_for_moderator(request.user, pk)
    item = get_object_or_404(obj.evidence, pk=evidence_pk)
    return private_download(item.file, item.filename, item.content_type)


@login_required
@require_GET
@cache_control(private=True, max_age=3600)
def thumbnail(request, pk, public_id):
    """A work's thumbnail for the moderators of a request naming it (its claim need not have
    been sent for verification)."""
    obj = request_for_moderator(request.user, pk)
    work = get_object_or_404(obj.works.select_related("file"), public_id=public_id)
    work_file = getattr(work, "file", None)
    if work_file is None or not work_file.thumbnail:
        raise Http404
    return stored_image(work_file.thumbnail)


# --- Overdue notices -----------------------------------------------------------------------------
