from http import HTTPStatus

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from accounts.downloads import private_download, stored_image
from accounts.forms import add_service_errors
from accounts.selectors import user_roles

from .. import bulk, pending, selectors, services
from ..access import work_for_owner, work_for_owner_or_reviewer, work_for_reviewer
from ..conflicts import conflict_notes
from ..duplicates import work_duplicates
from ..forms import (
    ClaimDecisionForm,
    ClaimRequestForm,
    FileForm,
    WorkFilterForm,
    WorkForm,
)
from ..forms_register import WorkRegisterForm
from ..models import ClaimEvidence, Work
from ..uploads import install_handler, upload_allowance_take
from .progress import upload_redirects

PAGE_SIZE = 50


# --- Uploads: the vetting handler must be in place before anything reads request.POST, so
# these views are csrf_exempt on the outside and csrf_protect on the inside (Django's documented
# pattern for changing upload handlers). -----------------------------------------------------------


def upload_view(view):
    """Login, an hourly upload allowance, the streaming vetting handler, then CSRF."""
    protected = csrf_protect(upload_redirects(view))  # upload.js follows redirects itself

    @login_required
    @csrf_exempt
    def wrapper(request, *args, **kwargs):
        handler = None
        if request.method == "POST":
            if not upload_allowance_take(request.user):
                return render(
                    request, "works/too_many_uploads.html", status=HTTPStatus.TOO_MANY_REQUESTS
                )
            handler = install_handler(request, quota_left=services.quota_left(user=request.user))
        request.upload_errors = handler.errors if handler else {}
        return protected(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    return wrapper


def _upload_errors(request, form, mapping: dict[str, str]) -> None:
    """Errors the streaming handler found (the refused file never reached ``request.FILES``)."""
    for upload_field, form_field in mapping.items():
        if upload_field in request.upload_errors:
            form.add_error(form_field, request.upload_errors[upload_field])


# --- The creator's works -----------------------------------------------------------------------


@login_required
@require_GET
def work_list(request):
    filters = WorkFilterForm(request.GET or None)
    valid = filters.is_valid()
    data = filters.cleaned_data if valid else {}
    works = selectors.with_open_conflict_flag(selectors.works_matching(request.user, data))
    page = Paginator(works, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "works/list.html",
        {
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "filtered": valid and filters.narrows,
            # The bulk AI-choice page repeats the search, kind, claim and status only.
            "bulk_applies": not (valid and filters.beyond_search),
            "has_any_works": page.paginator.count > 0
            or Work.objects.filter(owner=request.user).exists(),
            # The bulk form (works/bulk.py): its actions, and whether "all matching" can be
            # re-selected (the filters are valid).
            "bulk_actions": bulk.actions(),
            "bulk_matching": valid or not filters.is_bound,
        },
    )


@upload_view
def work_create(request):
    form = WorkRegisterForm(request.POST or None, request.FILES or None, owner=request.user)
    duplicates = None
    if request.method == "POST":
        _upload_errors(request, form, {"file": "file"})
        if form.is_valid():
            if not form.cleaned_data["register_anyway"]:
                duplicates = work_duplicates(
                    owner=request.user, identifiers=form.identifiers, sha256=form.sha256
                )
            if not duplicates:
                try:
                    work = pending.work_register(
                        owner=request.user,
                        fields=form.work_fields,
                        identifiers=form.identifiers,
                        upload=form.cleaned_data.get("file"),
                        kept=form.kept,
                    )
                except ValidationError as exc:
                    add_service_errors(form, _on_file(exc))
                else:
                    messages.success(request, f"“{work.title}” is registered.")
                    return redirect(work.get_absolute_url())
        _keep_chosen_file(request, form)
    return render(
        request, "works/form.html", {"form": form, "work": None, "duplicates": duplicates}
    )


def _on_file(exc: ValidationError) -> ValidationError:
    """A service's error that names no field is about the file."""
    return exc if hasattr(exc, "error_dict") else ValidationError({"file": exc.messages})


def _keep_chosen_file(request, form) -> None:
    """The form is shown again: keep a newly chosen, acceptable file so that sending the form
    again without choosing it registers the work with it (works/pending.py)."""
    upload = form.files.get("file")
    if upload is None or form.has_error("file"):
        if form.has_error("file"):
            form.show_kept(None)
        return
    try:
        kept = pending.pending_upload_keep(owner=request.user, upload=upload)
    except ValidationError as exc:
        form.add_error("file", exc.messages)
        form.show_kept(None)
        return
    if form.kept is not None:  # the new choice replaces the file kept before
        pending.pending_upload_discard(pending=form.kept)
    form.show_kept(kept)


@login_required
def work_detail(request, public_id):
    work = work_for_owner(request.user, public_id)
    return render(request, "works/detail.html", _detail_context(work))


def _detail_context(work, **extra):
    return {
        "work": work,
        # Lazy: one query, and none when only the file panel is rendered (htmx polling).
        "conflicts": SimpleLazyObject(lambda: conflict_notes(work)),
        "file": getattr(work, "file", None),
        "identifiers": work.identifiers.all(),
        "evidence": work.evidence.all(),
        # Who verified or rejected the claim: their guild's staff, or a portal administrator.
        "claim_by": SimpleLazyObject(lambda: selectors.claim_deciders([work]).get(work.pk)),
        "file_form": extra.pop("file_form", FileForm()),
        "claim_form": extra.pop("claim_form", ClaimRequestForm()),
        **extra,
    }


@login_required
@require_GET
def work_file_status(request, public_id):
    """The file panel alone, for htmx to poll while the worker processes an image."""
    work = work_for_owner(request.user, public_id)
    return render(request, "works/detail.html#file-panel", _detail_context(work))


@login_required
def work_edit(request, public_id):
    work = work_for_owner(request.user, public_id)
    form = WorkForm(request.POST or None, initial=WorkForm.initial_for(work))
    if request.method == "POST" and form.is_valid():
        try:
            services.work_update(
                actor=request.user, work=work, identifiers=form.identifiers, **form.work_fields
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your changes are saved.")
            return redirect(work.get_absolute_url())
    return render(request, "works/form.html", {"form": form, "work": work})


@upload_view
@require_POST
def work_file_upload(request, public_id):
    work = work_for_owner(request.user, public_id)
    form = FileForm(request.POST, request.FILES)
    _upload_errors(request, form, {"file": "file"})
    if form.is_valid():
        try:
            services.work_file_attach(
                actor=request.user, work=work, upload=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            messages.success(request, "The file is uploaded.")
            return redirect(work.get_absolute_url())
    return render(
        request,
        "works/detail.html",
        _detail_context(work, file_form=form),
        status=HTTPStatus.BAD_REQUEST,
    )


@login_required
@require_POST
def work_set_status(request, public_id):
    work = work_for_owner(request.user, public_id)
    archived = request.POST.get("archived") == "1"
    services.work_set_status(actor=request.user, work=work, archived=archived)
    messages.success(request, "The work is archived." if archived else "The work is active again.")
    return redirect(work.get_absolute_url())


@upload_view
@require_POST
def claim_request(request, public_id):
    work = work_for_owner(request.user, public_id)
    form = ClaimRequestForm(request.POST, request.FILES)
    _upload_errors(request, form, {"evidence": "evidence"})
    if form.is_valid():
        try:
            services.claim_request(
                actor=request.user,
                work=work,
                url=form.cleaned_data["url"],
                statement=form.cleaned_data["statement"],
                evidence_file=form.cleaned_data.get("evidence"),
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, "Your claim is sent to your guild's staff for verification.")
            return redirect(work.get_absolute_url())
    return render(
        request,
        "works/detail.html",
        _detail_context(work, claim_form=form),
        status=HTTPStatus.BAD_REQUEST,
    )


# --- Private files: the owner, and the staff verifying their claim -------------------------------


@login_required
@require_GET
def original_download(request, public_id):
    work = work_for_owner_or_reviewer(request.user, public_id)
    work_file = getattr(work, "file", None)
    if work_file is None:
        raise Http404
    return private_download(work_file.original, work_file.original_name, work_file.mime)


@login_required
@require_GET
@cache_control(private=True, max_age=3600)
def thumbnail(request, public_id):
    work = work_for_owner_or_reviewer(request.user, public_id)
    work_file = getattr(work, "file", None)
    if work_file is None or not work_file.thumbnail:
        raise Http404
    return stored_image(work_file.thumbnail)


@login_required
@require_GET
def evidence_download(request, public_id, pk):
    work = work_for_owner_or_reviewer(request.user, public_id)
    evidence = get_object_or_404(ClaimEvidence, pk=pk, work=work)
    return private_download(evidence.file, evidence.file_name, evidence.file_mime)


# --- Staff: verifying claims -------------------------------------------------------------------


class ClaimSearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=300)


@login_required
@require_http_methods(["GET", "POST"])
def claim_queue(request):
    """The claims waiting for them, oldest first, searchable by title or creator; POST verifies
    the ticked claims with one reason (``bulk.claims_verify_selected``), only their queue's."""
    roles = user_roles(request.user)
    if not (roles.is_guild_staff or roles.is_superuser):
        raise PermissionDenied
    search = ClaimSearchForm(request.GET or None)
    q = search.cleaned_data["q"] if search.is_valid() else ""
    ticked, reason, error, status = [], "", None, HTTPStatus.OK
    if request.method == "POST":
        ticked, reason = request.POST.getlist("work"), request.POST.get("reason", "")
        try:
            verified = bulk.claims_verify_selected(actor=request.user, ids=ticked, reason=reason)
        except ValidationError as exc:
            error, status = exc, HTTPStatus.BAD_REQUEST
        else:
            n = len(verified)
            plural = "s" if n != 1 else ""
            messages.success(request, f"{n} claim{plural} verified. Each creator is told by email.")
            return redirect(request.get_full_path())
    page = Paginator(selectors.claim_queue(request.user, q=q), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    errors = getattr(error, "error_dict", {}) if error else {}
    return render(
        request,
        "works/claim_queue.html",
        {
            "page": page,
            "search": search,
            "q": q,
            "query": query.urlencode(),
            "ticked": set(ticked),
            "reason": reason,
            "reason_errors": [m for e in errors.get("reason", []) for m in e.messages],
            "selection_errors": error.messages if error and not errors else [],
        },
        status=status,
    )


@login_required
def claim_review(request, public_id):
    work = work_for_reviewer(request.user, public_id)
    form = ClaimDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.claim_decide(
                actor=request.user,
                work=work,
                verify=form.cleaned_data["decision"] == "verify",
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Decision recorded for “{work.title}”.")
            return redirect("works:claim-queue")
    work.claim_by = selectors.claim_deciders([work]).get(work.pk)
    return render(
        request,
        "works/claim_review.html",
        {
            "work": work,
            "form": form,
            "identifiers": work.identifiers.all(),
            "evidence": work.evidence.all(),
            "memberships": work.owner.memberships.select_related("guild"),
            "other_works": Work.objects.filter(owner=work.owner).exclude(pk=work.pk).count(),
        },
    )


# --- Public ------------------------------------------------------------------------------------


@require_safe  # GET and HEAD: crawlers probe with HEAD for the signal headers
def public_work(request, public_id):
    work = get_object_or_404(
        Work.objects.select_related("owner", "owner__creator_profile"), public_id=public_id
    )
    profile = getattr(work.owner, "creator_profile", None)
    return render(
        request,
        "works/public.html",
        {
            "work": work,
            "credit_name": (profile.credit_name or profile.display_name) if profile else "",
            "identifiers": work.identifiers.all(),
        },
    )
