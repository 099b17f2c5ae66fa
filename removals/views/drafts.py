"""A draft (or a request sent back for more information): one page of sections saved by every
button on it — so nothing they typed is lost, with or without JavaScript — then a review page
showing what will be sent, where they confirm the two statements and submit."""

from datetime import timedelta
from http import HTTPStatus
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from accounts.forms import add_service_errors
from accounts.models import Guild
from notices.access import developer_of
from works.models import Work
from works.selectors import works_for_owner
from works.services import quota_left
from works.uploads import install_handler, upload_allowance_take

from .. import letters, selectors, services
from ..access import creator_guild_ids, request_for_creator
from ..forms import DraftForm, SubmitForm, evidence_accept, evidence_limits
from ..manifest import grants_by_developer, manifest_build
from ..models import RemovalRequest

SEARCH_PAGE_SIZE = 20
CHOSEN_PAGE_SIZE = 25
DRAFTS_SHOWN = 10  # on the new-request page: the newest drafts, to carry on one


@login_required
@require_http_methods(["GET", "POST"])
def request_create(request):
    """GET: what a removal request is and a button that starts a draft (with the creator's
    drafts, to carry on one instead); POST: start it. The people of an AI developer file no
    removal requests (their dashboard is the developer's): 403."""
    if developer_of(request.user) is not None:
        raise PermissionDenied
    if request.method == "GET":
        drafts = selectors.requests_for_creator(request.user).filter(
            status=RemovalRequest.Status.DRAFT
        )
        return render(request, "removals/new.html", {"drafts": drafts[:DRAFTS_SHOWN]})
    removal = services.draft_create(actor=request.user, creator=request.user)
    messages.success(request, "A new draft is started. Nothing is sent until you submit it.")
    return redirect("removals:edit", pk=removal.pk)


def with_evidence_uploads(view):
    """Login, then the streaming vetting handler for evidence files (a refused file is dropped
    as it arrives, never stored), then CSRF — Django's documented order for changing upload
    handlers. Evidence is a file they store: it counts in the creator's storage allowance and
    each file takes one from their hourly upload allowance (a save without a file takes none)."""
    protected = csrf_protect(view)

    @login_required
    @csrf_exempt
    def wrapper(request, pk, *args, **kwargs):
        handler = None
        if request.method == "POST":
            creator = request_for_creator(request.user, pk).creator  # 404 before reading
            handler = install_handler(
                request,
                quota_left=quota_left(user=creator),
                max_bytes=evidence_limits(),
                accept=evidence_accept,
                allowance=lambda: upload_allowance_take(creator),
            )
        request.upload_errors = handler.errors if handler else {}
        return protected(request, pk, *args, **kwargs)

    wrapper.__name__ = view.__name__
    return wrapper


def _editable_or_redirect(request, removal):
    if removal.status in RemovalRequest.EDITABLE:
        return None
    messages.info(
        request,
        f"This request is {removal.get_status_display().lower()}: it can no longer be changed.",
    )
    return redirect(removal.get_absolute_url())


def _works_light(queryset):
    """What ``draft_update`` checks of a work (owner, status), without files or identifiers."""
    return (
        queryset.select_related(None)
        .prefetch_related(None)
        .order_by()
        .only("pk", "public_id", "owner_id", "status", "title")
    )


def _edit_url(removal, *, q: str = "", anchor: str = "") -> str:
    url = reverse("removals:edit", args=[removal.pk])
    if q:
        url += "?" + urlencode({"q": q})
    return url + (f"#{anchor}" if anchor else "")


class _Done:
    def __init__(self, message: str, url: str, level=messages.SUCCESS):
        self.message, self.url, self.level = message, url, level


def _button(post) -> tuple[str, str]:
    """Which button was pressed, and its value."""
    for name in ("remove_work", "remove_evidence"):
        if post.get(name):
            return name, post[name]
    return post.get("action") or "save", ""


def _apply(request, removal: RemovalRequest, form: DraftForm) -> _Done:
    """Save the sections, then do what the pressed button asks. A refusal (``ValidationError``)
    rolls everything back, the evidence file included."""
    stored = []
    try:
        with transaction.atomic():
            return _apply_in_transaction(request, removal, form, stored)
    except BaseException:
        for evidence in stored:  # the row rolled back: its file goes too
            evidence.file.storage.delete(evidence.file.name)
        raise


def _apply_in_transaction(request, removal, form, stored) -> _Done:
    actor, post = request.user, request.POST
    q = (post.get("q") or "").strip()[:300]
    upload = form.cleaned_data.get("evidence")
    added = None
    if upload is not None:
        try:
            added = services.evidence_add(
                actor=actor,
                request=removal,
                upload=upload,
                note=form.cleaned_data["evidence_note"],
            )
        except ValidationError as exc:
            raise ValidationError({"evidence": exc.messages}) from exc
        stored.append(added)
    services.draft_update(actor=actor, request=removal, **form.service_fields)
    button, value = _button(post)
    here = _edit_url(removal, q=q)
    note = f" “{added.filename}” is attached." if added else ""

    if button == "search":
        return _Done("", _edit_url(removal, q=q, anchor="works-search"), level=None)
    if button in ("add", "add_matching", "remove_work", "remove_all"):
        chosen = list(_works_light(removal.works.all()))
        if button == "add":
            ids = post.getlist("work")
            new = list(_works_light(works_for_owner(removal.creator).filter(public_id__in=ids)))
            if not new:
                raise ValidationError({None: "Tick the works to add first."})
            works = {w.pk: w for w in chosen + new}
            count = len(works) - len(chosen)
            message = f"{count} work{'s' if count != 1 else ''} added."
        elif button == "add_matching":
            matching = list(_works_light(works_for_owner(removal.creator, q=q)))
            works = {w.pk: w for w in chosen + matching}
            message = (
                f"All {len(matching)} work{'s' if len(matching) != 1 else ''} "
                + (f"matching “{q}”" if q else "in your catalogue")
                + f" are in the request ({len(works)} in all)."
            )
        elif button == "remove_work":
            gone = [w for w in chosen if w.public_id == value]
            works = {w.pk: w for w in chosen if w.public_id != value}
            message = f"“{gone[0].title}” is removed from the request." if gone else "Saved."
        else:
            works = {}
            message = "Every work is removed from the request."
        services.draft_update(actor=actor, request=removal, works=list(works.values()))
        return _Done(message + note, here + "#chosen-works")
    if button == "remove_evidence":
        evidence = get_object_or_404(removal.evidence, pk=value if value.isdigit() else 0)
        services.evidence_remove(actor=actor, evidence=evidence)
        return _Done(f"“{evidence.filename}” is removed.", here + "#evidence")
    if button == "review":
        return _Done(note.strip(), reverse("removals:submit", args=[removal.pk]))
    if upload is not None:
        return _Done(f"Saved.{note}", here + "#evidence")
    return _Done("Your draft is saved.", here)


@with_evidence_uploads
def request_edit(request, pk):
    removal = request_for_creator(request.user, pk)
    if response := _editable_or_redirect(request, removal):
        return response
    form = DraftForm(
        request.POST if request.method == "POST" else None, request.FILES or None, request=removal
    )
    if request.method == "POST":
        if "evidence" in request.upload_errors:
            form.add_error("evidence", request.upload_errors["evidence"])
        if form.is_valid():
            try:
                done = _apply(request, removal, form)
            except (ValidationError, PermissionDenied) as exc:
                add_service_errors(
                    form, exc if isinstance(exc, ValidationError) else ValidationError(str(exc))
                )
            else:
                if done.level is not None and done.message:
                    messages.add_message(request, done.level, done.message)
                return redirect(done.url)
        removal.refresh_from_db()
    q = (request.POST.get("q") if request.method == "POST" else request.GET.get("q")) or ""
    return render(
        request,
        "removals/edit.html",
        _edit_context(request, removal, form, q=q.strip()[:300]),
        status=HTTPStatus.BAD_REQUEST if form.errors else HTTPStatus.OK,
    )


def _edit_context(request, removal, form, *, q: str) -> dict:
    matching = works_for_owner(removal.creator, q=q, sort="title")
    results = Paginator(matching, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    on_page = [w.pk for w in results]
    already = set(removal.works.filter(pk__in=on_page).values_list("pk", flat=True))
    chosen = Paginator(
        removal.works.select_related("file").order_by("title", "pk"), CHOSEN_PAGE_SIZE
    ).get_page(request.GET.get("chosen"))
    query = {"q": q} if q else {}
    evidence = list(removal.evidence.all())
    return {
        "removal": removal,
        "form": form,
        "q": q,
        "results": results,
        "already": already,
        "chosen": chosen,
        "query": urlencode(query),
        "chosen_query": urlencode({**query, "page": results.number}),
        "results_query": urlencode({**query, "chosen": chosen.number}),
        "evidence": evidence,
        "evidence_left": services.EVIDENCE_MAX_FILES - len(evidence),
        "question": selectors.latest_question(removal),
        "acting_for": request.user.pk != removal.creator_id,
    }


# --- Review and submit --------------------------------------------------------------------------


def _preview_letter(removal: RemovalRequest, developers):
    """The letter the first addressed developer would receive if the request were approved
    now, signed by their guild (the one whose staff approve it signs in the end)."""
    if not developers:
        return None
    works = list(removal.works.values_list("pk", flat=True))
    if not works:
        return None
    guild_ids = creator_guild_ids(removal.creator_id)
    guild = Guild.objects.filter(pk__in=guild_ids).order_by("name").first()
    developer = developers[0]
    grants = grants_by_developer(
        owner_id=removal.creator_id, work_ids=works, developer_ids=[developer.pk]
    )
    return letters.removal_letter(
        request=removal,
        developer=developer,
        manifest=manifest_build(works),
        grants=grants[developer.pk],
        guild=guild,
        legal_basis=letters.legal_basis(guild),
        due=timezone.now() + timedelta(days=removal.answer_due_days),
    )


@login_required
def request_submit(request, pk):
    removal = request_for_creator(request.user, pk)
    if response := _editable_or_redirect(request, removal):
        return response
    needs_answer = removal.status == RemovalRequest.Status.NEEDS_INFO
    form = SubmitForm(request.POST if request.method == "POST" else None, needs_answer=needs_answer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.request_submit(
                actor=request.user,
                request=removal,
                good_faith=data["good_faith"],
                accurate=data["accurate"],
                answer=data.get("answer", ""),
            )
        except (ValidationError, PermissionDenied) as exc:
            add_service_errors(
                form, exc if isinstance(exc, ValidationError) else ValidationError(str(exc))
            )
        else:
            messages.success(
                request,
                "Your answer is sent: the request is back with your guild's staff."
                if needs_answer
                else "Your request is submitted: your guild's staff will review it. "
                "You will be emailed at the steps you chose.",
            )
            return redirect(removal.get_absolute_url())
    developers = services.addressed_developers(removal)
    works = Paginator(
        removal.works.select_related("file").order_by("title", "pk"), CHOSEN_PAGE_SIZE
    ).get_page(request.GET.get("works"))
    return render(
        request,
        "removals/submit.html",
        {
            "removal": removal,
            "form": form,
            "works": works,
            "developers": developers,
            "archived": removal.works.filter(status=Work.Status.ARCHIVED).count(),
            "evidence": list(removal.evidence.all()),
            "question": selectors.latest_question(removal),
            "letter": _preview_letter(removal, developers),
            "notify_labels": [
                label for value, label in services.NOTIFY_CHOICES if value in removal.notify_steps
            ],
            "acting_for": request.user.pk != removal.creator_id,
        },
        status=HTTPStatus.BAD_REQUEST if form.errors else HTTPStatus.OK,
    )
