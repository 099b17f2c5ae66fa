"""A developer's "complied" is not the last word (issue 20): the creator accepts or contests it
from their request's page; their guild's staff ask the developer again from the review page.

Access: the request's creator (or staff who filed it under their mandate) accept and contest
(``request_for_creator``: 404 for anyone else); staff who moderate the request ask again
(``request_for_moderator``: 404 for anyone else, 403 without a staff role). The services check
both again."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.forms import add_service_errors

from .. import contests
from ..access import request_for_creator, request_for_moderator
from ..forms import ContestForm
from ..forms_staff import AskAgainForm
from ..models import ComplianceContest
from .staff_review import staff_required


def _contest_of(removal, contest_pk) -> ComplianceContest:
    return get_object_or_404(
        ComplianceContest.objects.select_related("developer", "answer", "notice"),
        pk=contest_pk,
        request=removal,
    )


def _refused(request, url, exc):
    messages.error(request, " ".join(exc.messages) if hasattr(exc, "messages") else str(exc))
    return redirect(url)


@login_required
@require_POST
def compliance_accept(request, pk, contest_pk):
    removal = request_for_creator(request.user, pk)
    contest = _contest_of(removal, contest_pk)
    try:
        contests.compliance_accept(actor=request.user, contest=contest)
    except (ValidationError, PermissionDenied) as exc:
        return _refused(request, removal.get_absolute_url(), exc)
    removal.refresh_from_db()
    closed = ""
    if removal.status == removal.Status.CLOSED:
        closed = " Every developer's answer is settled: the request is closed."
    messages.success(request, f"You accepted {contest.developer.name}'s answer.{closed}")
    return redirect(removal.get_absolute_url())


@login_required
def compliance_contest(request, pk, contest_pk):
    removal = request_for_creator(request.user, pk)
    contest = _contest_of(removal, contest_pk)
    try:
        contests._check_open(removal, contest, timezone.now())
    except ValidationError as exc:
        return _refused(request, removal.get_absolute_url(), exc)
    form = ContestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            contests.compliance_contest(
                actor=request.user, contest=contest, reason=form.cleaned_data["reason"]
            )
        except PermissionDenied as exc:
            return _refused(request, removal.get_absolute_url(), exc)
        except ValidationError as exc:
            add_service_errors(form, exc)  # shown on the form; nothing was changed
        else:
            messages.success(
                request,
                f"You contested {contest.developer.name}'s answer. The request is back with "
                "your guild's staff, who can ask the developer again.",
            )
            return redirect(removal.get_absolute_url())
    return render(
        request,
        "removals/contest.html",
        {"removal": removal, "contest": contest, "form": form},
        status=400 if form.errors else 200,
    )


@staff_required
@require_POST
def ask_again(request, pk, contest_pk):
    removal = request_for_moderator(request.user, pk)
    contest = _contest_of(removal, contest_pk)
    url = redirect("removals-staff:review", pk=removal.pk).url
    form = AskAgainForm(request.POST)
    if not form.is_valid():
        return _refused(request, url, ValidationError(form.errors["note"]))
    try:
        notice = contests.compliance_ask_again(
            actor=request.user, contest=contest, note=form.cleaned_data["note"]
        )
    except (ValidationError, PermissionDenied) as exc:
        return _refused(request, url, exc)
    messages.success(
        request,
        f"{contest.developer.name} is asked again: a new notice is on its way, due by "
        f"{timezone.localtime(notice.answer_due_at):%-d %B %Y}. The creator is told.",
    )
    return redirect(url)
