"""Disclosures in the browser (docs/disclosures.md, "Pages").

The developer's pages, under ``/developer/disclosures/``: its organisation's disclosures, the
form for a new one (the manifest streamed in through ``uploads.py``), a disclosure's page with
its progress (polled by htmx while the worker matches), its report and the exclusion list's
downloads, and the cancel button. Only the signed-in person's own organisation is ever shown
(``developer_member_required``): anyone who acts for none gets 404, and another organisation's
disclosure is a 404 as if it did not exist.

The registry's pages, under ``/registry/<developer>/disclosures/``, for registry managers and
superusers (403 for anyone else signed in): the same list and pages for any developer, and the
form to record a disclosure a developer published, on its behalf, saying where it came from.
"""

from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import add_service_errors
from notices.access import developer_member_required
from notices.models import AIDeveloper

from . import downloads, reports, uploads
from .forms import DisclosureForm, RecordForm
from .models import Disclosure
from .services import disclosure_cancel, disclosure_submit

PAGE_SIZE = 25
DETAIL = "disclosures/detail.html"


@dataclass
class Area:
    """Where a disclosure is seen from: its developer's dashboard, or the registry."""

    developer: AIDeveloper
    registry: bool = False

    def url(self, name: str, *args) -> str:
        if self.registry:
            return reverse(f"disclosures:registry-{name}", args=[self.developer.slug, *args])
        return reverse(f"disclosures:{name}", args=args)

    def disclosure(self, pk: int) -> Disclosure:
        """One of this developer's disclosures; 404 for any other."""
        return get_object_or_404(
            Disclosure.objects.select_related("developer", "submitted_by"),
            pk=pk,
            developer=self.developer,
        )


def _developer_area(request) -> Area:
    return Area(request.developer)


def registry_manager_required(view):
    """Registry managers and superusers (403 for anyone else signed in); the developer named
    by the URL's ``slug`` becomes ``request.area``."""

    @wraps(view)
    @login_required
    def wrapper(request, slug, *args, **kwargs):
        if not request.user.can_manage_registry:
            raise PermissionDenied
        request.area = Area(get_object_or_404(AIDeveloper, slug=slug), registry=True)
        return view(request, *args, **kwargs)

    return wrapper


def _area(request) -> Area:
    return getattr(request, "area", None) or _developer_area(request)


def manifest_upload_view(view):
    """The manifest's upload handler installed before the body is read (``uploads.py``), the
    CSRF check after it (as ``works.views.imports`` does), for people already let in."""
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        handler = uploads.install(request) if request.method == "POST" else None
        request.upload_errors = handler.errors if handler else {}
        return protected(request, *args, **kwargs)

    return wrapper


# --- The list ------------------------------------------------------------------------------------


def _list(request):
    area = _area(request)
    page = Paginator(
        Disclosure.objects.filter(developer=area.developer).order_by("-created_at", "-pk"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    for disclosure in page:
        disclosure.page_url = area.url("detail", disclosure.pk)
    return render(
        request,
        "disclosures/list.html",
        {"area": area, "developer": area.developer, "page": page, "new_url": area.url("create")},
    )


# --- A new one -----------------------------------------------------------------------------------


def _create(request, form_class, via: str):
    area = _area(request)
    initial = {"developer": area.developer} if form_class is RecordForm else None
    form = form_class(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        valid = form.is_valid()
        if uploads.FIELD in request.upload_errors:  # refused while streaming: say why
            form.errors[uploads.FIELD] = form.error_class(
                [request.upload_errors[uploads.FIELD]],
                renderer=form.renderer,
                field_id=form[uploads.FIELD].auto_id,  # its id, for aria-describedby
            )
            valid = False
        if valid:
            developer = form.cleaned_data.get("developer") or area.developer
            upload = form.cleaned_data[uploads.FIELD]
            try:
                disclosure, created = disclosure_submit(
                    actor=request.user,
                    developer=developer,
                    fields=form.fields_value(),
                    manifest=upload,
                    via=via,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if created:
                    messages.success(request, f"“{disclosure}” is kept and queued for matching.")
                else:
                    messages.info(
                        request,
                        f"This very manifest was disclosed already, as “{disclosure}”: here it is.",
                    )
                target = Area(developer, registry=area.registry)
                return redirect(target.url("detail", disclosure.pk))
            finally:
                upload.close()  # the temporary file, moved into the folder storage or not
    status = HTTPStatus.BAD_REQUEST if form.errors else HTTPStatus.OK
    return render(
        request,
        "disclosures/create.html",
        {
            "area": area,
            "developer": area.developer,
            "form": form,
            "record": form_class is RecordForm,
            "list_url": area.url("list"),
            "max_size": filesizeformat(settings.DISCLOSURE_MAX_MANIFEST_BYTES),
            "max_rows": settings.DISCLOSURE_MAX_ROWS,
        },
        status=status,
    )


# --- One disclosure ------------------------------------------------------------------------------


def time_left(disclosure: Disclosure, now=None) -> timedelta | None:
    """How long matching should still take, from its pace so far; None when it cannot be told
    (not running, nothing read yet, or the number of rows not known)."""
    if (
        disclosure.state != Disclosure.State.RUNNING
        or not disclosure.rows_total
        or not disclosure.rows_read
        or disclosure.started_at is None
    ):
        return None
    elapsed = ((now or timezone.now()) - disclosure.started_at).total_seconds()
    if elapsed <= 0:
        return None
    rate = disclosure.rows_read / elapsed
    left = max(disclosure.rows_total - disclosure.rows_read, 0)
    return timedelta(seconds=round(left / rate))


def duration_words(duration: timedelta) -> str:
    """A time left in words, rounded as an estimate should be."""
    seconds = duration.total_seconds()
    if seconds < 60:
        return "less than a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(seconds / 3600, 1)
    return f"about {hours:g} hour{'s' if hours != 1 else ''}"


def _rate(disclosure: Disclosure, now=None) -> int | None:
    if not disclosure.rows_read or disclosure.started_at is None:
        return None
    end = disclosure.finished_at or now or timezone.now()
    elapsed = (end - disclosure.started_at).total_seconds()
    return round(disclosure.rows_read / elapsed) if elapsed > 0 else None


def _detail_context(request, area: Area, disclosure: Disclosure) -> dict:
    report = None
    if disclosure.state == Disclosure.State.DONE:
        report = reports.report(disclosure)
        matched = report["rows_matched"] or 1
        report["shares"] = [
            ("denied", "Not allowed", report["rows_denied"], report["rows_denied"] / matched),
            (
                "licence",
                "Only under licence",
                report["rows_licence_only"],
                report["rows_licence_only"] / matched,
            ),
            ("allowed", "Allowed", report["rows_allowed"], report["rows_allowed"] / matched),
        ]
        offset = 0.0
        for index, (key, label, count, share) in enumerate(report["shares"]):
            report["shares"][index] = {
                "key": key,
                "label": label,
                "count": count,
                "percent": round(share * 100, 1),
                "x": round(offset * 100, 3),
                "width": round(share * 100, 3),
            }
            offset += share
    left = time_left(disclosure)
    percent = None
    if disclosure.rows_total:
        percent = min(100, disclosure.rows_read * 100 // disclosure.rows_total)
    return {
        "area": area,
        "developer": area.developer,
        "disclosure": disclosure,
        "report": report,
        "percent": percent,
        "time_left": left,
        "time_left_words": duration_words(left) if left is not None else "",
        "rate": _rate(disclosure),
        "urls": {
            "list": area.url("list"),
            "detail": area.url("detail", disclosure.pk),
            "progress": area.url("progress", disclosure.pk),
            "cancel": area.url("cancel", disclosure.pk),
            "csv": f"{area.url('exclusions', disclosure.pk)}?format=csv",
            "jsonl": f"{area.url('exclusions', disclosure.pk)}?format=jsonl",
        },
    }


def _detail(request, pk: int):
    area = _area(request)
    disclosure = area.disclosure(pk)
    return render(request, DETAIL, _detail_context(request, area, disclosure))


def _progress(request, pk: int):
    """The progress panel alone, for htmx to poll while the worker matches."""
    area = _area(request)
    disclosure = area.disclosure(pk)
    return render(request, f"{DETAIL}#progress", _detail_context(request, area, disclosure))


def _exclusions(request, pk: int):
    area = _area(request)
    disclosure = area.disclosure(pk)
    fmt = request.GET.get("format") or downloads.CSV
    if fmt not in downloads.FORMATS:
        raise Http404("The exclusion list comes as csv or jsonl.")
    if disclosure.state != Disclosure.State.DONE:
        messages.error(request, "The exclusion list is ready once matching is done.")
        return redirect(area.url("detail", disclosure.pk))
    return downloads.exclusions_response(disclosure, fmt)


def _cancel(request, pk: int):
    area = _area(request)
    disclosure = area.disclosure(pk)
    if disclosure.finished:
        messages.info(request, "Matching has finished already: there was nothing to cancel.")
    else:
        disclosure = disclosure_cancel(actor=request.user, disclosure=disclosure)
        if disclosure.state == Disclosure.State.CANCELLED:
            messages.success(request, "Matching is cancelled.")
        else:
            messages.success(request, "Matching stops at the end of the batch it is reading.")
    return redirect(area.url("detail", disclosure.pk))


# --- The developer's pages -----------------------------------------------------------------------


@require_GET
@never_cache
@developer_member_required
def disclosure_list(request):
    return _list(request)


@require_http_methods(["GET", "POST"])
@developer_member_required
@manifest_upload_view
def disclosure_create(request):
    return _create(request, DisclosureForm, Disclosure.Via.DASHBOARD)


@require_GET
@never_cache
@developer_member_required
def disclosure_detail(request, pk: int):
    return _detail(request, pk)


@require_GET
@never_cache
@developer_member_required
def disclosure_progress(request, pk: int):
    return _progress(request, pk)


@require_GET
@developer_member_required
def disclosure_exclusions(request, pk: int):
    return _exclusions(request, pk)


@require_POST
@developer_member_required
def disclosure_cancel_view(request, pk: int):
    return _cancel(request, pk)


# --- The registry's pages ------------------------------------------------------------------------


@require_GET
@never_cache
@registry_manager_required
def registry_list(request):
    return _list(request)


@require_http_methods(["GET", "POST"])
@registry_manager_required
@manifest_upload_view
def registry_record(request):
    return _create(request, RecordForm, Disclosure.Via.REGISTRY)


@require_GET
@never_cache
@registry_manager_required
def registry_detail(request, pk: int):
    return _detail(request, pk)


@require_GET
@never_cache
@registry_manager_required
def registry_progress(request, pk: int):
    return _progress(request, pk)


@require_GET
@registry_manager_required
def registry_exclusions(request, pk: int):
    return _exclusions(request, pk)


@require_POST
@registry_manager_required
def registry_cancel(request, pk: int):
    return _cancel(request, pk)
