"""Bulk work (issue 20): the works list's actions on many works, confirmed on a page that says
how many. (The staff's bulk verification is the claim queue's POST: ``catalogue.claim_queue``.)"""

from http import HTTPStatus

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.forms import add_service_errors

from .. import bulk
from ..forms import WorkFilterForm

SAMPLE = 5  # titles named on the confirmation page


def _list_url(query: str) -> str:
    url = reverse("works:list")
    return f"{url}?{query}" if query else url


def _refused(request, query: str, exc: ValidationError):
    for message in exc.messages:
        messages.error(request, message)
    return redirect(_list_url(query))


@login_required
@require_POST
def work_bulk(request):
    """POST from the works list (its filters in the query string): which works and which
    action → the confirmation page (how many, the action's fields); POST again with
    ``confirm`` → the action, in one request and one transaction, then back to the list (or
    where the action leads: the removal request's draft)."""
    owner = request.user
    query = request.GET.urlencode()
    filters = WorkFilterForm(request.GET or None)
    filters_data = {}
    if filters.is_bound:
        filters_data = filters.cleaned_data if filters.is_valid() else None
    form = bulk.BulkForm(request.POST)
    if not form.is_valid():
        errors = [m for field in form.errors.values() for m in field]
        return _refused(request, query, ValidationError(errors))
    try:
        selection = bulk.selection_resolve(
            owner=owner,
            matching=form.matching,
            ids=form.cleaned_data["work"],
            filters=filters_data,
        )
    except ValidationError as exc:
        return _refused(request, query, exc)
    action = form.chosen_action
    fields = bulk.action_form(action, owner, request.POST if "confirm" in request.POST else None)
    status = HTTPStatus.OK
    if "confirm" in request.POST:
        if fields.is_valid():
            try:
                done = bulk.bulk_run(
                    actor=request.user,
                    owner=owner,
                    action=action,
                    selection=selection,
                    data=fields.cleaned_data,
                )
            except ValidationError as exc:
                add_service_errors(fields, exc)
            else:
                messages.success(request, done.message)
                return redirect(done.url or _list_url(query))
        status = HTTPStatus.BAD_REQUEST
    sample = list(selection.works.order_by("title", "pk").values_list("title", flat=True)[:SAMPLE])
    return render(
        request,
        "works/bulk_confirm.html",
        {
            "form": form,
            "fields": fields,
            "action": action,
            "selection": selection,
            "confirm_label": action.confirm.format(
                count=f"{selection.count:,} work{'s' if selection.count != 1 else ''}"
            ),
            "sample": sample,
            "more": selection.count - len(sample),
            "query": query,
            "list_url": _list_url(query),
            "ticked": [] if selection.matching else form.cleaned_data["work"],
        },
        status=status,
    )
