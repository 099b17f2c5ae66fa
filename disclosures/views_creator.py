"""The creator's "Found in datasets" pages (namespace ``findings``): the findings about their own
works and sites, filtered and paginated; confirming or dismissing one (htmx swaps the row in
place; without JavaScript the form posts and the page comes back) or several ticked at once; and
"Ask for removal", which drafts a removal request from the ticked findings.

A finding that is not the signed-in creator's — another creator's, one that does not exist, one
of a disclosure still matching or failed — is a 404 on every action, and never shown."""

from functools import wraps
from itertools import groupby
from operator import attrgetter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from notices.access import developer_of

from . import creator
from .forms_creator import FindingFilterForm
from .models import Finding

LIST = "disclosures/creator/list.html"
by_disclosure = attrgetter("disclosure_id")
DECISION_WORDS = {
    Finding.State.CONFIRMED: "confirmed",
    Finding.State.DISMISSED: "dismissed as not your work",
}


def creator_page(view):
    """Signed in; the people of an AI developer, who are not creators here, go to their
    organisation's dashboard (as the creator's dashboard sends them)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "GET" and developer_of(request.user) is not None:
            return redirect("developer:home")
        return view(request, *args, **kwargs)

    return wrapped


def _back(request) -> str:
    """Where a form posted from the page returns: the page with its filters and page number."""
    url = request.POST.get("next") or ""
    home = reverse("findings:list")
    if url.startswith(home) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return home


def _ids(values) -> list[int]:
    try:
        return [int(value) for value in values]
    except (TypeError, ValueError):
        raise Http404("No such finding among yours.") from None


def _own(request, ids) -> list[Finding]:
    findings = creator.findings_by_ids(request.user, ids)
    if findings is None:
        raise Http404("No such finding among yours.")
    return findings


@creator_page
@require_GET
def finding_list(request):
    disclosures = creator.disclosures_for_creator(request.user)
    filters = FindingFilterForm(request.GET or None, disclosures=disclosures)
    filters.is_valid()
    chosen = filters.filters
    page = creator.findings_page(request.user, request.GET.get("page"), **chosen)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        LIST,
        {
            "page": page,
            # The page's findings under their dataset (they come newest dataset first).
            "groups": [
                (rows[0].disclosure, rows)
                for rows in (
                    list(group) for _, group in groupby(page.object_list, key=by_disclosure)
                )
            ],
            "filters": filters,
            "filtered": any(chosen.values()),
            "query": query.urlencode(),
            "has_any": bool(disclosures),
            "next": request.get_full_path(),
            "selection_max": creator.SELECTION_MAX,
        },
    )


def _decide(request, pk: int, state: str):
    findings = _own(request, [pk])
    try:
        creator.findings_decide(actor=request.user, findings=findings, state=state)
    except PermissionDenied:
        raise Http404("No such finding among yours.") from None
    finding = findings[0]
    if request.htmx:
        return render(
            request,
            LIST + "#finding",
            {"finding": finding, "next": _back(request), "decided": True},
        )
    messages.success(
        request, f"Row {finding.row} of {finding.disclosure}: {DECISION_WORDS[state]}."
    )
    return redirect(_back(request) + f"#finding-{finding.pk}")


@login_required
@require_POST
def finding_confirm(request, pk):
    return _decide(request, pk, Finding.State.CONFIRMED)


@login_required
@require_POST
def finding_dismiss(request, pk):
    return _decide(request, pk, Finding.State.DISMISSED)


@login_required
@require_POST
def findings_selected(request):
    """The buttons under the ticked findings: confirm them, dismiss them, or ask for removal."""
    action = request.POST.get("action")
    if action not in ("confirm", "dismiss", "remove"):
        messages.error(request, "Choose what to do with the ticked findings.")
        return redirect(_back(request))
    ids = _ids(request.POST.getlist("finding"))
    if not ids:
        messages.error(request, "Tick the findings first: nothing was changed.")
        return redirect(_back(request))
    if len(set(ids)) > creator.SELECTION_MAX:
        messages.error(
            request,
            f"Choose at most {creator.SELECTION_MAX} findings at once: nothing was changed.",
        )
        return redirect(_back(request))
    findings = _own(request, ids)
    try:
        if action == "remove":
            drafted = creator.removal_draft_from_findings(actor=request.user, findings=findings)
        else:
            state = Finding.State.CONFIRMED if action == "confirm" else Finding.State.DISMISSED
            changed = creator.findings_decide(actor=request.user, findings=findings, state=state)
    except PermissionDenied:
        raise Http404("No such finding among yours.") from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages) + " Nothing was changed.")
        return redirect(_back(request))
    if action != "remove":
        words = DECISION_WORDS[state]
        if changed:
            messages.success(request, f"{changed} finding{'s' if changed != 1 else ''} {words}.")
        else:
            messages.info(request, f"Those findings were already {words}.")
        return redirect(_back(request))
    notes = [
        f"A removal request draft to {drafted.developer.name} is ready, naming "
        f"{drafted.works} work{'s' if drafted.works != 1 else ''}. Check it, then submit it to "
        "your guild: nothing is sent until you do."
    ]
    if drafted.sites_left_out:
        notes.append(
            f"{drafted.sites_left_out} finding{'s' if drafted.sites_left_out != 1 else ''} about "
            "your sites left out: a request names works (your sites' pages follow your AI "
            "choices)."
        )
    if drafted.archived_left_out:
        notes.append(
            "Archived works left out: "
            + ", ".join(f"“{t}”" for t in drafted.archived_left_out)
            + "."
        )
    if not drafted.evidence_attached:
        notes.append(
            "The list of matched rows could not be attached as a file (your storage allowance is "
            "full): the rows are named under “Where they were used”."
        )
    messages.success(request, " ".join(notes))
    return redirect("removals:edit", pk=drafted.request.pk)
