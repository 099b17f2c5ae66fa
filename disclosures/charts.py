"""A server-rendered SVG chart of counts over time (guild staff's disclosure pages): the drawing
conventions and helpers of ``removals.charts`` — ``<svg role="img">`` with a ``<title>`` and a
``<desc>``, a ``<title>`` on every point, colours at least 3:1 on white, series told apart by
dashes and marker shapes too, every label escaped — on a scale of counts instead of
percentages. Pages put a table of the same figures next to it."""

import math

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from removals.charts import (
    AXIS_FONT,
    AXIS_FONT_PHONE,
    DASHES,
    GRID,
    INK_MUTED,
    MARKERS,
    PALETTE,
    Series,
    _axis_labels,
    _axis_room,
    _legend,
    _svg_open,
    _text_width,
)


def _nice_top(biggest: float) -> tuple[int, int]:
    """A round top for the scale and its step: 4 steps of 1, 2, 2.5 or 5 × 10ⁿ."""
    if biggest <= 4:
        return 4, 1
    raw = biggest / 4
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * power
        if step >= raw:
            step = max(int(math.ceil(step)), 1)
            return step * 4, step
    return int(raw) * 4, int(raw)  # not reached


def count_lines(
    labels: list[str],
    series: list[Series],
    *,
    chart_id: str,
    title: str,
    desc: str,
    width: int = 480,
    height: int = 220,
) -> SafeString:
    """Lines of counts over ``labels`` (weeks or months), from 0 to a round top; every point
    has a ``<title>`` with its figure; the series' names make a legend under the chart."""
    plot_height = height
    height += 28
    values = [v for line in series for v in line.values if v is not None]
    scale, step_value = _nice_top(max(values + [0]))
    # Room left of the plot for the top count and under it for the labels, at a phone's sizes.
    left, top, bottom = 8 + _text_width(f"{scale:,}", AXIS_FONT_PHONE), 16, plot_height - 30
    right = width - _axis_room(labels)
    parts = [_svg_open(chart_id, width, height, title, desc)]
    for tick in range(0, scale + 1, step_value):
        y = bottom - (bottom - top) * tick / scale
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"></line>'
                '<text class="axis-label" x="{}" y="{}" text-anchor="end" font-size="{}"'
                ' fill="{}">{}</text>',
                f"{left:.1f}",
                f"{right:.1f}",
                f"{y:.1f}",
                f"{y:.1f}",
                GRID,
                f"{left - 6:.1f}",
                f"{y + 4:.1f}",
                AXIS_FONT,
                INK_MUTED,
                f"{tick:,}",
            )
        )
    step = (right - left) / max(len(labels) - 1, 1)
    # As many labels as fit without running together, the latest always (fewer on a phone).
    xs = [left + i * step for i in range(len(labels))] if len(labels) > 1 else [(left + right) / 2]
    parts.append(_axis_labels(labels, xs[: len(labels)], y=plot_height - 8))
    for s_index, line in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        points = []
        for index, value in enumerate(line.values):
            if value is None:
                continue
            x = left + index * step if len(labels) > 1 else (left + right) / 2
            y = bottom - (bottom - top) * min(value, scale) / scale
            points.append((x, y, labels[index], value))
        if len(points) > 1:
            parts.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"'
                    ' stroke-dasharray="{}"></polyline>',
                    " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points),
                    colour,
                    DASHES[s_index % len(DASHES)] or "none",
                )
            )
        for x, y, label, value in points:
            point_title = format_html("<title>{}, {}: {}</title>", line.label, label, f"{value:,}")
            parts.append(
                format_html(
                    MARKERS[s_index % len(MARKERS)], f"{x:.1f}", f"{y:.1f}", colour, point_title
                )
            )
    parts.append(
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"></line>',
            f"{left:.1f}",
            f"{right:.1f}",
            bottom,
            bottom,
            INK_MUTED,
        )
    )
    parts.append(_legend([line.label for line in series], y=height - 8, lines=True))
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))
