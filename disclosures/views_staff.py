"""Guild staff's pages on disclosures: which disclosed datasets hold their members' works, how
many, what the members decided and how many removal requests followed, with a chart over time
(``staff_stats``). Guild staff and superusers only (403 for anyone else signed in); a disclosure
in which none of the creators they see was found does not exist for them (404)."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from removals.charts import Series
from removals.views.staff_review import staff_required

from . import charts, staff_stats

PAGE_SIZE = 25


def _chart(periods, *, chart_id: str, title: str, desc: str):
    return charts.count_lines(
        [p.label for p in periods],
        [
            Series("Works found", [p.works for p in periods]),
            Series("Removal requests that followed", [p.requests for p in periods]),
        ],
        chart_id=chart_id,
        title=title,
        desc=desc,
    )


@staff_required
@require_GET
def disclosure_list(request):
    disclosures = staff_stats.disclosures_in_scope(request.user)
    page = Paginator(disclosures, PAGE_SIZE).get_page(request.GET.get("page"))
    staff_stats.with_figures(request.user, list(page))
    months = staff_stats.monthly(request.user)
    everyone = staff_stats.sees_everyone(request.user)
    return render(
        request,
        "disclosures/staff/list.html",
        {
            "page": page,
            "everyone": everyone,
            "guilds": list(staff_stats.guilds(request.user)) if not everyone else [],
            "months": months,
            "chart": _chart(
                months,
                chart_id="found-chart",
                title="Works found in disclosed datasets, and removal requests that followed, "
                "by month",
                desc=(
                    "For each of the last 12 months: how many works of "
                    + ("the portal's creators" if everyone else "your members")
                    + " were found in datasets AI developers disclosed, and how many removal "
                    "requests naming those developers followed. The table below gives the figures."
                ),
            ),
        },
    )


@staff_required
@require_GET
def disclosure_detail(request, pk):
    disclosure = staff_stats.disclosure_for_staff(request.user, pk)
    if disclosure is None:
        raise Http404("No disclosure names works of your members.")
    periods = staff_stats.weekly(request.user, disclosure)
    weekly = periods[0].unit == "week"
    everyone = staff_stats.sees_everyone(request.user)
    return render(
        request,
        "disclosures/staff/detail.html",
        {
            "disclosure": disclosure,
            "totals": staff_stats.totals(request.user, disclosure),
            "rows": staff_stats.by_guild(request.user, disclosure),
            "everyone": everyone,
            "periods": periods,
            "weekly": weekly,
            "chart": _chart(
                periods,
                chart_id="disclosure-chart",
                title=f"{disclosure}: works found and removal requests that followed, by "
                + ("week" if weekly else "month"),
                desc=(
                    "Works found at the first match and by later re-matches, and removal "
                    "requests naming this developer created since. The table below gives the "
                    "figures."
                ),
            ),
        },
    )
