"""Staff pages of the notice engine: deliveries, the failed ones and their errors, the
suppression list, and delivery rates with a chart.

Guild staff, registry managers and superusers read them — guild staff only the notices the
topic's staff-access rule lets them see (``handlers.staff_notice_filter``, one subquery, no query
per notice); "retry now" and clearing a suppression are for registry managers and superusers.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import deliveries, selectors
from .forms import DeliveryFilterForm
from .handlers import staff_may_act, staff_notice_filter
from .models import Delivery, Suppression
from .services import suppression_clear
from .views import manager_required, reader_required

PAGE_SIZE = 50
STATS_DAYS = 30


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@reader_required
def delivery_list(request):
    filters = DeliveryFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    scope = {
        "developer": data.get("developer"),
        "channel": data.get("channel", ""),
        "topic": data.get("topic", ""),
    }
    status = data.get("status", "")
    visible = staff_notice_filter(request.user, "notice__")
    page = _page(request, selectors.deliveries(status=status, visible=visible, **scope))
    counts = selectors.status_counts(selectors.deliveries(visible=visible, **scope))
    # Links to each status keep the other filters.
    base = request.GET.copy()
    base.pop("page", None)
    base.pop("status", None)
    status_links = []
    for value, label in Delivery.Status.choices:
        query = base.copy()
        query["status"] = value
        status_links.append(
            {
                "value": value,
                "label": label,
                "count": counts[value],
                "query": query.urlencode(),
                "current": value == status,
            }
        )
    return render(
        request,
        "notices/deliveries/list.html",
        {
            "filters": filters,
            "page": page,
            "status": status,
            "status_links": status_links,
            "total": sum(counts.values()),
            "all_query": base.urlencode(),
            "query": _query_without_page(request),
            "filtered": bool(status or any(scope.values())),
            "can_manage": request.user.can_manage_registry,
            "section": "failed" if status == Delivery.Status.FAILED else "list",
        },
    )


@reader_required
def delivery_detail(request, pk: int):
    delivery = selectors.delivery_detail(pk, staff_notice_filter(request.user, "notice__"))
    if delivery is None:  # or one of a notice this reader may not see
        raise Http404
    return render(
        request,
        "notices/deliveries/detail.html",
        {
            "delivery": delivery,
            "notice": delivery.notice,
            "attempts": selectors.delivery_attempts(delivery),
            "history": selectors.delivery_history(delivery),
            "suppression": selectors.active_suppression(delivery.recipient),
            "attachments": delivery.notice.attachments.only("filename", "content_type"),
            "can_manage": request.user.can_manage_registry,
            # Not on a notice about themselves (their own request): they record no answer to it.
            "can_record": staff_may_act(request.user, delivery.notice.reminds or delivery.notice),
            "can_retry": delivery.status
            not in (Delivery.Status.DELIVERED, Delivery.Status.SENDING),
            "section": "list",
        },
    )


@require_POST
@manager_required
def delivery_retry(request, pk: int):
    delivery = get_object_or_404(Delivery, pk=pk)
    try:
        deliveries.retry_now(actor=request.user, delivery=delivery)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"The notice to {delivery.recipient} is queued to be sent now.")
    return redirect("notices:delivery-detail", pk=delivery.pk)


@reader_required
def suppression_list(request):
    cleared = request.GET.get("show") == "cleared"
    return render(
        request,
        "notices/deliveries/suppressions.html",
        {
            "page": _page(
                request,
                selectors.suppressions(
                    cleared=cleared,
                    visible=staff_notice_filter(request.user, "delivery__notice__"),
                ),
            ),
            "cleared": cleared,
            "query": "show=cleared" if cleared else "",
            "can_manage": request.user.can_manage_registry,
            "section": "suppressions",
        },
    )


@require_POST
@manager_required
def suppression_clear_view(request, pk: int):
    suppression = get_object_or_404(Suppression, pk=pk)
    suppression_clear(actor=request.user, suppression=suppression)
    messages.success(
        request,
        f"{suppression.address} is off the suppression list: new notices go to it again.",
    )
    return redirect("notices:suppression-list")


# --- Rates and the chart -------------------------------------------------------------------------

# Room on the left for a count's label at the size a phone shows it (notices.css enlarges the
# labels there, the chart being scaled to less than half its width).
CHART = {"width": 720, "height": 260, "left": 72, "right": 8, "top": 20, "bottom": 40}


def _compact(value: int) -> str:
    """A count short enough for the chart's axis: 4000, 12k, 1.2M (the table has it whole)."""
    if value < 10_000:
        return str(value)
    if value < 1_000_000:
        return f"{value / 1000:.0f}k"
    return f"{value / 1_000_000:.1f}M"


def bar_chart(days: list[selectors.ChartDay]) -> dict:
    """Geometry of an SVG bar chart with two bars a day (sent, delivered), computed here so
    the template only draws it."""
    plot_w = CHART["width"] - CHART["left"] - CHART["right"]
    plot_h = CHART["height"] - CHART["top"] - CHART["bottom"]
    peak = max([1, *(d.sent for d in days), *(d.delivered for d in days)])
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.4, 1)
    baseline = CHART["top"] + plot_h

    def bar(x: float, value: int) -> dict:
        height = plot_h * value / peak
        return {"x": round(x, 1), "y": round(baseline - height, 1), "h": round(height, 1)}

    bars = []
    for i, day in enumerate(days):
        x = CHART["left"] + i * slot + slot * 0.1
        bars.append(
            {
                "day": day,
                "sent": bar(x, day.sent),
                "delivered": bar(x + bar_w, day.delivered),
                # The last day's label ends at its bars, inside the chart.
                "label_x": round(x + 2 * bar_w if i == len(days) - 1 else x + bar_w, 1),
                "label_anchor": "end" if i == len(days) - 1 else "middle",
                "show_label": i % 5 == 0 or i == len(days) - 1,
                # Hidden on a phone (notices.css), where every tenth day is labelled.
                "minor_label": i % 10 != 0 and i != len(days) - 1,
            }
        )
    ticks = sorted({0, peak // 2, peak})
    return {
        **CHART,
        "bar_w": round(bar_w, 1),
        "baseline": baseline,
        "right_edge": CHART["width"] - CHART["right"],
        "label_y": baseline + 20,
        "bars": bars,
        "ticks": [
            {
                "value": v,
                "label": _compact(v),
                "y": round(baseline - plot_h * v / peak, 1),
                "text_y": round(baseline - plot_h * v / peak + 4, 1),
            }
            for v in ticks
        ],
        "total_sent": sum(d.sent for d in days),
        "total_delivered": sum(d.delivered for d in days),
    }


@reader_required
def delivery_stats(request):
    since = timezone.now() - timedelta(days=STATS_DAYS)
    visible = staff_notice_filter(request.user, "notice__")
    days = selectors.daily_counts(days=STATS_DAYS, visible=visible)
    return render(
        request,
        "notices/deliveries/stats.html",
        {
            "rates": selectors.developer_rates(since=since, visible=visible),
            "chart": bar_chart(days),
            "days": days,
            "window_days": STATS_DAYS,
            "section": "stats",
        },
    )
