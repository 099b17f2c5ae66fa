"""Catalogue imports: the creator's list of imports, the upload form, a job's page with its
progress (polled by htmx while the worker runs), the per-row error report and the CSV template.
Every job is its owner's alone: another creator gets a 404."""

from http import HTTPStatus

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET

from .. import imports
from ..csvsafe import stream_rows
from ..models import ImportJob, Work
from ..uploads import install_handler, upload_allowance_take
from .progress import upload_redirects

PAGE_SIZE = 25
ERRORS_SHOWN = 50  # on the job's page; the CSV report has them all


class ImportForm(forms.Form):
    kind = forms.ChoiceField(
        label="What are you importing?",
        choices=ImportJob.Kind.choices,
        initial=ImportJob.Kind.CSV,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label="File",
        help_text="A CSV file (UTF-8 or Windows-1252, commas or semicolons), or a ZIP archive.",
    )


def _max_bytes() -> dict[str, int]:
    return {
        "csv": settings.WORKS_IMPORT_CSV_MAX_BYTES,
        "archive": settings.WORKS_IMPORT_ZIP_MAX_BYTES,
    }


def import_upload_view(view):
    """As ``catalogue.upload_view``, with the import's policy: a CSV (up to
    ``WORKS_IMPORT_CSV_MAX_BYTES``) or a ZIP archive (up to ``WORKS_IMPORT_ZIP_MAX_BYTES``),
    decided from the content while it streams in. The storage allowance applies to the files
    unpacked from an archive, by the worker, not to the archive itself."""
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
            limits = _max_bytes()
            handler = install_handler(
                request,
                quota_left=max(limits.values()) + 1,
                max_bytes=limits,
                accept=imports.accept_upload,
            )
        request.upload_errors = handler.errors if handler else {}
        return protected(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    return wrapper


@login_required
@require_GET
def import_list(request):
    page = Paginator(imports.jobs_for_owner(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "works/imports/list.html", {"page": page})


@import_upload_view
def import_create(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        valid = form.is_valid()
        if "file" in request.upload_errors:  # refused while streaming: say why, not "required"
            form.errors["file"] = form.error_class([request.upload_errors["file"]])
            valid = False
        if valid:
            try:
                job = imports.job_create(
                    owner=request.user,
                    upload=form.cleaned_data["file"],
                    kind=form.cleaned_data["kind"],
                )
            except ValidationError as exc:
                form.add_error("file", exc.messages)
            else:
                # No flash message: the job's page says where the import stands, and its
                # polled panel changes as the worker goes ("uploaded and queued" would stay
                # on screen after the import had finished).
                return redirect("works:import-detail", pk=job.pk)
    status = HTTPStatus.BAD_REQUEST if form.errors else HTTPStatus.OK
    return render(
        request,
        "works/imports/create.html",
        {
            "form": form,
            "columns": COLUMN_HELP,
            "kinds": Work.Kind.choices,
            "csv_max": filesizeformat(settings.WORKS_IMPORT_CSV_MAX_BYTES),
            "zip_max": filesizeformat(settings.WORKS_IMPORT_ZIP_MAX_BYTES),
            "max_rows": settings.WORKS_IMPORT_MAX_ROWS,
            "max_entries": settings.WORKS_ZIP_MAX_ENTRIES,
        },
        status=status,
    )


COLUMN_HELP = [
    ("title", "Required. The work's title."),
    ("kind", "Required. One of the kinds below, by its name or its label."),
    ("year", "The year the work was made or published."),
    ("description", "A few words about the work."),
    ("co_creators", "Anyone who made it with you, and their part."),
    ("isbn", "One or more ISBNs (10 or 13 digits), separated by spaces or commas."),
    ("isrc", "One or more ISRCs, separated by spaces or commas."),
    ("iswc", "One or more ISWCs, separated by spaces or commas."),
    ("doi", "One or more DOIs, separated by spaces."),
    ("urls", "Web addresses where the work is published, separated by spaces."),
]


def _detail_context(job):
    """The job, and once it has finished its first ``ERRORS_SHOWN`` errors in file order with
    how many there are in all (two queries at most; none of the errors while it runs, so
    polling stays cheap)."""
    errors, error_total = [], 0
    if job.finished:
        errors = list(
            job.row_errors.order_by("row", "pk").values("row", "column", "message")[
                : ERRORS_SHOWN + 1
            ]
        )
        error_total = len(errors) if len(errors) <= ERRORS_SHOWN else job.row_errors.count()
        errors = errors[:ERRORS_SHOWN]
    return {
        "job": job,
        "has_report": bool(errors),
        "errors": errors,
        "error_total": error_total,
        "errors_shown": ERRORS_SHOWN,
    }


@login_required
@require_GET
def import_detail(request, pk):
    job = imports.job_for_owner(request.user, pk)
    return render(request, "works/imports/detail.html", _detail_context(job))


@login_required
@require_GET
def import_progress(request, pk):
    """The progress panel alone, for htmx to poll while the worker runs."""
    job = imports.job_for_owner(request.user, pk)
    return render(request, "works/imports/detail.html#progress", _detail_context(job))


def _csv_response(rows, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(stream_rows(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def import_errors(request, pk):
    job = imports.job_for_owner(request.user, pk)
    return _csv_response(imports.report_rows(job), f"import-{job.pk}-errors.csv")


@login_required
@require_GET
def import_template(request):
    return _csv_response(imports.TEMPLATE_ROWS, "works-import-template.csv")
