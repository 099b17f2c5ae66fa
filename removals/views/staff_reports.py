"""The guild staff's reports on removal requests: overdue notices, the legal wording of the
letters, and the dashboard (with its CSV). Access as in ``staff_review``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.forms import add_service_errors
from works.csvsafe import stream_rows

from .. import charts, letter_templates, letters, stats
from ..forms_staff import LegalWordingForm
from ..models import RemovalRequest
from .staff_review import staff_required

OVERDUE_PAGE_SIZE = 100


@staff_required
@require_GET
def overdue(request):
    """Notices past their deadline without a final answer (complied or disputed; an
    acknowledgement alone is not one), for the requests the user moderates, grouped by
    developer, with when each was acknowledged. Constant queries a page."""
    notices = stats.with_acknowledgement(
        stats.overdue_notices(stats.requests_in_scope(request.user))
    )
    page = Paginator(notices, OVERDUE_PAGE_SIZE).get_page(request.GET.get("page"))
    request_ids = {stats.request_id_of(n) for n in page}
    requests = RemovalRequest.objects.select_related("creator__creator_profile").in_bulk(
        [pk for pk in request_ids if pk is not None]
    )
    now = timezone.now()
    for notice in page:
        notice.request = requests.get(stats.request_id_of(notice))
        notice.days_overdue = max((now - notice.answer_due_at).days, 0)
    return render(request, "removals/staff/overdue.html", {"page": page})


# --- Legal wording -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def letter(request):
    """Superusers edit the portal's default wording; guild staff their own guild's."""
    guilds = letter_templates.editable_guilds(request.user)
    may_default = letter_templates.can_edit_wording(request.user, None)
    if not guilds and not may_default:
        raise PermissionDenied
    wanted = request.POST.get("guild") or request.GET.get("guild") or ""
    if wanted == "":
        guild = None if may_default else guilds[0]
    elif wanted == "default":
        if not may_default:
            raise Http404("Only superusers edit the portal's wording.")
        guild = None
    else:
        guild = next((g for g in guilds if str(g.pk) == wanted), None)
        if guild is None:
            raise Http404("You do not edit this guild's wording.")
    wording = letter_templates.wording_for(guild)
    form = LegalWordingForm(request.POST or None, initial={"legal_basis": wording.text})
    if request.method == "POST":
        if request.POST.get("action") == "reset" and guild is not None:
            try:
                dropped = letter_templates.legal_wording_reset(actor=request.user, guild=guild)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"{guild.name}'s letters use the portal's wording again."
                    if dropped
                    else f"{guild.name} had no wording of its own.",
                )
                return redirect(f"{reverse('removals-staff:letter')}?guild={guild.pk}")
        elif form.is_valid():
            try:
                letter_templates.legal_wording_set(
                    actor=request.user, guild=guild, text=form.cleaned_data["legal_basis"]
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                whose = guild.name if guild else "The portal's"
                messages.success(
                    request,
                    f"{whose} legal wording is saved: notices approved from now on use it.",
                )
                suffix = f"?guild={guild.pk}" if guild else "?guild=default"
                return redirect(f"{reverse('removals-staff:letter')}{suffix}")
    return render(
        request,
        "removals/staff/letter.html",
        {
            "form": form,
            "guild": guild,
            "guilds": guilds,
            "may_default": may_default,
            "wording": wording,
            "builtin": letters.DEFAULT_LEGAL_BASIS,
        },
    )


# --- Dashboard -----------------------------------------------------------------------------------


def _percent(rate):
    return None if rate is None else rate * 100


def _dashboard(request):
    requests = stats.requests_in_scope(request.user, everything_for_superusers=True)
    return stats.developer_figures(requests)


@staff_required
@require_GET
def dashboard(request):
    data = _dashboard(request)
    chosen = request.GET.get("developer") or ""
    focus = next((d for d in data.developers if d.slug == chosen), data.overall)
    month_labels = [m.strftime("%b %y") for m in data.months]
    rows = [
        charts.BarRow(
            row.label,
            [charts.Segment(label, row.buckets[key]) for key, label in stats.AGE_BUCKETS],
        )
        for row in data.open_requests
    ]
    focus_months = [focus.months[m] for m in data.months]
    for developer in data.developers:
        developer.spark = charts.sparkline(
            [_percent(developer.months[m].answer_rate) for m in data.months],
            label=f"{developer.name}: answer rate by month",
        )
    return render(
        request,
        "removals/staff/stats.html",
        {
            "data": data,
            "focus": focus,
            "focus_rows": list(zip(data.months, focus_months, strict=True)),
            "chosen": chosen,
            "age_buckets": stats.AGE_BUCKETS,
            "state_chart": charts.stacked_bars(
                rows,
                chart_id="open-chart",
                title="Open removal requests by state and age",
                desc=(
                    f"{data.open_total} open requests. Each bar is a state, split by how long "
                    "ago the request was submitted. The table below gives the figures."
                ),
                legend=[label for _, label in stats.AGE_BUCKETS],
            ),
            "overdue_chart": charts.stacked_bars(
                [
                    charts.BarRow(row.name, [charts.Segment("Overdue notices", row.count)])
                    for row in data.overdue[:15]
                ],
                chart_id="overdue-chart",
                title="Overdue notices by developer",
                desc=f"{data.overdue_total} notices are overdue. The table gives the figures.",
            )
            if data.overdue
            else None,
            "rate_chart": charts.rate_lines(
                month_labels,
                [
                    charts.Series("Answer rate", [_percent(f.answer_rate) for f in focus_months]),
                    charts.Series(
                        "Compliance rate", [_percent(f.compliance_rate) for f in focus_months]
                    ),
                ],
                chart_id="rate-chart",
                title=f"Answer and compliance rates by month: {focus.name}",
                desc=(
                    "Of the notices sent each month, the share answered and the share the "
                    "developer reports it complied with. The table below gives the figures."
                ),
            ),
        },
    )


@staff_required
@require_GET
def dashboard_csv(request):
    data = _dashboard(request)
    response = StreamingHttpResponse(
        stream_rows(stats.csv_rows(data)), content_type="text/csv; charset=utf-8"
    )
    filename = f"removal-answers-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
