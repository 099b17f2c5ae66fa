"""Staff pages for conflicts between two creators' works: the queue, one conflict with both
works side by side, resolving it, lifting its block, and both works' files for that conflict.
Only the staff a conflict is routed to see it (others get 404); the two creators never do."""

from http import HTTPStatus

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from accounts.downloads import private_download, stored_image
from accounts.forms import add_service_errors
from accounts.models import GuildMembership
from accounts.selectors import user_roles

from .. import conflicts
from ..access import conflict_for_handler, conflict_work_for_handler
from ..forms_conflicts import ConflictLiftBlockForm, ConflictResolveForm
from ..identifiers import display as identifier_display

PAGE_SIZE = 25
DETAIL = "works/conflicts/detail.html"
KIND_LABELS = {
    "isbn": "ISBN",
    "isrc": "ISRC",
    "iswc": "ISWC",
    "doi": "DOI",
    "url": "Web address",
    "sha256": "Same file (SHA-256)",
    "phash": "Similar image (perceptual hash)",
}

__all__ = [
    "conflict_queue",
    "conflict_detail",
    "conflict_resolve",
    "conflict_lift_block",
    "conflict_file",
]


@login_required
@require_GET
def conflict_queue(request):
    roles = user_roles(request.user)
    if not (roles.is_guild_staff or roles.is_superuser):
        raise PermissionDenied
    resolved = request.GET.get("show") == "resolved"
    page = Paginator(conflicts.conflict_queue(request.user, resolved=resolved), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for conflict in page:
        conflict.matched = conflicts.match_phrase(conflict.matches)
    return render(
        request,
        "works/conflicts/queue.html",
        {"page": page, "resolved": resolved, "query": "show=resolved" if resolved else ""},
    )


def _matches(conflict) -> list[dict]:
    rows = []
    for match in conflict.matches:
        kind = match.get("kind", "")
        row = {"kind": kind, "label": KIND_LABELS.get(kind, kind)}
        if kind == "phash":
            row["value"] = f"{match.get('value', '')} and {match.get('value_b', '')}"
            row["distance"] = match.get("distance")
        elif kind == "sha256":
            row["value"] = match.get("value", "")
        else:
            row["value"] = identifier_display(kind, match.get("value", ""))
        rows.append(row)
    return rows


def _detail_context(conflict, **forms) -> dict:
    matched = {(m["kind"], m["value"]) for m in conflict.matches if m.get("kind") != "phash"}
    guilds: dict[int, list[str]] = {}
    for user_id, name in (
        GuildMembership.objects.filter(
            user_id__in=[conflict.work_a.owner_id, conflict.work_b.owner_id],
            status=GuildMembership.Status.VERIFIED,
        )
        .order_by("guild__name")
        .values_list("user_id", "guild__name")
    ):
        guilds.setdefault(user_id, []).append(name)
    sides = []
    for side, work, heading in (
        ("a", conflict.work_a, "First registration"),
        ("b", conflict.work_b, "Second registration"),
    ):
        sides.append(
            {
                "side": side,
                "heading": heading,
                "work": work,
                "file": getattr(work, "file", None),
                "identifiers": [
                    {"ident": ident, "matched": (ident.scheme, ident.value) in matched}
                    for ident in work.identifiers.all()
                ],
                "guilds": guilds.get(work.owner_id, []),
            }
        )
    route, _ = conflicts.conflict_route(conflict)
    return {
        "conflict": conflict,
        "sides": sides,
        "matches": _matches(conflict),
        "routed_to_guild": route == "guild",
        "blocked_work": conflicts.conflict_blocked_work(conflict, ignore_lift=True),
        "resolve_form": forms.get("resolve_form") or ConflictResolveForm(conflict=conflict),
        "lift_form": forms.get("lift_form") or ConflictLiftBlockForm(),
    }


@login_required
@require_GET
def conflict_detail(request, pk):
    conflict = conflict_for_handler(request.user, pk)
    return render(request, DETAIL, _detail_context(conflict))


@login_required
@require_POST
def conflict_resolve(request, pk):
    conflict = conflict_for_handler(request.user, pk)
    form = ConflictResolveForm(request.POST, conflict=conflict)
    if form.is_valid():
        try:
            conflicts.conflict_resolve(
                actor=request.user,
                conflict=conflict,
                resolution=form.cleaned_data["resolution"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Conflict {conflict.pk} is resolved; both creators are told."
            )
            return redirect("works:conflict-queue")
    return render(
        request, DETAIL, _detail_context(conflict, resolve_form=form), status=HTTPStatus.BAD_REQUEST
    )


@login_required
@require_POST
def conflict_lift_block(request, pk):
    conflict = conflict_for_handler(request.user, pk)
    form = ConflictLiftBlockForm(request.POST)
    if form.is_valid():
        try:
            conflicts.conflict_lift_block(
                actor=request.user, conflict=conflict, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The block is lifted.")
            return redirect("works:conflict-detail", pk=conflict.pk)
    return render(
        request, DETAIL, _detail_context(conflict, lift_form=form), status=HTTPStatus.BAD_REQUEST
    )


@login_required
@require_GET
@cache_control(private=True, no_store=True)
def conflict_file(request, pk, side, kind):
    """Side ``a`` or ``b``, its ``thumbnail`` or ``original``: for the staff handling it."""
    work = conflict_work_for_handler(request.user, pk, side)
    work_file = getattr(work, "file", None)
    if work_file is None:
        raise Http404
    if kind == "original":
        return private_download(work_file.original, work_file.original_name, work_file.mime)
    if kind != "thumbnail" or not work_file.thumbnail:
        raise Http404
    return stored_image(work_file.thumbnail)
