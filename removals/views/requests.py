"""The creator's list of removal requests and the page of one request: its timeline, and the
steps they may take from it (withdraw, retract, record matching deny choices)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from consent.vocabulary import Use
from notices.models import AIDeveloper
from works.selectors import claim_deciders

from .. import contests, selectors, services
from ..access import request_for_creator
from ..forms import RetractForm, WithdrawForm
from ..models import RemovalRequest

Status = RemovalRequest.Status
LIST_PAGE_SIZE = 20
WORKS_PAGE_SIZE = 50


@login_required
@require_GET
def request_list(request):
    page = Paginator(selectors.requests_for_creator(request.user), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "removals/list.html",
        {"page": page, "rows": [(r, selectors.STATUS_TONE[r.status]) for r in page]},
    )


def _use_words(uses: list[str]) -> list[str]:
    labels = [Use(use).label if use in Use.values else use for use in uses]
    return [label[:1].lower() + label[1:] for label in labels]


def request_context(removal: RemovalRequest, user, *, works_page=None) -> dict:
    """What their request page shows."""
    timeline = selectors.request_timeline(removal)
    works = Paginator(selectors.request_works(removal), WORKS_PAGE_SIZE).get_page(works_page)
    works.object_list = list(works.object_list)
    deciders = claim_deciders(works.object_list)
    for work in works.object_list:
        work.claim_by = deciders.get(work.pk)
    approved = removal.status in (Status.APPROVED, Status.CLOSED)
    deny = selectors.deny_preview(removal) if approved else ([], 0, 0)
    return {
        "removal": removal,
        "timeline": timeline,
        "works": works,
        "evidence": list(removal.evidence.all()),
        "tone": selectors.STATUS_TONE[removal.status],
        "status_words": selectors.status_words(removal),
        "question": selectors.latest_question(removal),
        "acting_for": user.pk != removal.creator_id,
        "can_edit": removal.status in RemovalRequest.EDITABLE,
        "can_withdraw": removal.status in services.TRANSITIONS["withdraw"],
        "can_retract": removal.status in services.TRANSITIONS["retract"],
        "deny_uses": _use_words(deny[0]),
        "deny_works": deny[1],
        "deny_to_change": deny[2],
        "is_owner": user.pk == removal.creator_id,
        # Developers' "complied", to accept or contest (issue 20).
        "contests": contests.contests_for_request(removal),
    }


@login_required
@require_GET
def request_detail(request, pk):
    removal = request_for_creator(request.user, pk)
    return render(
        request,
        "removals/detail.html",
        request_context(removal, request.user, works_page=request.GET.get("works")),
    )


def _refused(request, removal, exc):
    messages.error(request, " ".join(exc.messages) if hasattr(exc, "messages") else str(exc))
    return redirect(removal.get_absolute_url())


@login_required
def request_withdraw(request, pk):
    removal = request_for_creator(request.user, pk)
    if removal.status not in services.TRANSITIONS["withdraw"]:
        messages.error(
            request,
            f"A request that is {removal.get_status_display().lower()} cannot be withdrawn"
            + (": retract it instead." if removal.status == Status.APPROVED else "."),
        )
        return redirect(removal.get_absolute_url())
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_withdraw(
                actor=request.user, request=removal, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, PermissionDenied) as exc:
            return _refused(request, removal, exc)
        messages.success(request, "The request is withdrawn. No notice was sent.")
        return redirect(removal.get_absolute_url())
    return render(
        request,
        "removals/withdraw.html",
        {"removal": removal, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def request_retract(request, pk):
    removal = request_for_creator(request.user, pk)
    if removal.status not in services.TRANSITIONS["retract"]:
        messages.error(
            request,
            f"A request that is {removal.get_status_display().lower()} cannot be retracted: "
            "only an approved request whose notices went out can be.",
        )
        return redirect(removal.get_absolute_url())
    notified = services.notified_developer_ids(removal)
    form = RetractForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            sent = services.request_retract(
                actor=request.user, request=removal, reason=form.cleaned_data["reason"]
            )
        except (ValidationError, PermissionDenied) as exc:
            return _refused(request, removal, exc)
        messages.success(
            request,
            f"The request is retracted. A retraction notice is on its way to "
            f"{len(sent)} developer{'s' if len(sent) != 1 else ''}.",
        )
        return redirect(removal.get_absolute_url())
    developers = AIDeveloper.objects.filter(pk__in=notified).order_by("name")
    return render(
        request,
        "removals/retract.html",
        {"removal": removal, "form": form, "developers": developers, "count": len(notified)},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def deny_overrides(request, pk):
    removal = request_for_creator(request.user, pk)
    uses, total, to_change = (
        selectors.deny_preview(removal)
        if removal.status in (Status.APPROVED, Status.CLOSED)
        else ([], 0, 0)
    )
    if not uses:
        messages.error(
            request,
            "Only an approved request that asks developers to stop or remove can be recorded "
            "in your AI preferences.",
        )
        return redirect(removal.get_absolute_url())
    try:
        services.deny_overrides_record(actor=request.user, request=removal)
    except (ValidationError, PermissionDenied) as exc:
        return _refused(request, removal, exc)
    words = ", ".join(_use_words(uses))
    if to_change:
        messages.success(
            request,
            f"Recorded: your AI preferences now say no to {words} for {to_change} "
            f"work{'s' if to_change != 1 else ''} (of {total} in this request). "
            "You can see each change in your consent history.",
        )
    else:
        messages.info(
            request,
            f"Nothing to change: your AI preferences already said no to {words} for all "
            f"{total} works of this request.",
        )
    return redirect(removal.get_absolute_url())
