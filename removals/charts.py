"""Small server-rendered SVG charts for the staff dashboard: no JavaScript, no library.

Each function returns safe markup (every label is escaped by ``format_html``) for an ``<svg
role="img">`` with a ``<title>`` and a ``<desc>``, and a ``<title>`` on every bar segment and
point, so a screen reader or a mouse pointer gets each figure. Pages put a data table with the
same figures next to each chart. Colours are SVG presentation attributes (the content security
policy forbids inline styles), each at least 3:1 against white; series differ by more than
colour (line dashes, marker shapes).
"""

import math
from dataclasses import dataclass

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

INK = "#1c1b22"
INK_MUTED = "#5a5763"
GRID = "#d6d2c8"
# Blue, dark amber, red and grey: each ≥ 3:1 on white, told apart by lightness too.
PALETTE = ["#1f4f8f", "#8a5a00", "#b42318", "#5a5763"]
DASHES = ["", "6 4", "2 3", "8 3 2 3"]


# Text sizes in the chart's own units, and the sizes notices.css draws the axes' labels at on
# a phone (under 40rem), where a chart 480 units wide is scaled to about 330 px: at 11 units a
# label would be 7.5 px tall there.
AXIS_FONT, AXIS_FONT_PHONE = 11, 16
LABEL_GAP = 10  # the least room between two labels on one line, in chart units


def _text_width(text: str, font_size: float) -> float:
    """A generous estimate of ``text``'s width in the system sans-serif at ``font_size``."""
    return len(text) * 0.62 * font_size


def _fit(text: str, font_size: float, room: float) -> str:
    """``text`` shortened with an ellipsis so it fits ``room`` (the full text is in the
    chart's ``<title>`` elements and its table)."""
    if _text_width(text, font_size) <= room:
        return text
    keep = max(int(room / (0.62 * font_size)) - 1, 1)
    return text[:keep].rstrip() + "…"


def _axis_labels(labels: list[str], xs: list[float], *, y: float) -> SafeString:
    """Labels under an axis at ``xs``, as many as fit without running together: every
    ``every``-th one from the last (the latest month is always named), and of those only every
    ``phone``-th on a phone, where the others are ``axis-label-minor`` (hidden by notices.css)
    and every label is drawn larger."""
    if not labels:
        return mark_safe("")
    room = (xs[-1] - xs[0]) / max(len(labels) - 1, 1) or float("inf")
    widest = max(len(label) for label in labels) * "0"
    every = max(1, math.ceil((_text_width(widest, AXIS_FONT) + LABEL_GAP) / room))
    phone = max(1, math.ceil((_text_width(widest, AXIS_FONT_PHONE) + LABEL_GAP) / room))
    phone = every * math.ceil(phone / every)
    parts = []
    for index, (label, x) in enumerate(zip(labels, xs, strict=True)):
        from_last = len(labels) - 1 - index
        if from_last % every:
            continue
        parts.append(
            format_html(
                '<text class="axis-label{}" x="{}" y="{}" text-anchor="middle" font-size="{}"'
                ' fill="{}">{}</text>',
                " axis-label-minor" if from_last % phone else "",
                f"{x:.1f}",
                y,
                AXIS_FONT,
                INK_MUTED,
                label,
            )
        )
    return mark_safe("".join(parts))


def _axis_room(labels: list[str]) -> float:
    """Room to leave beside the plot for half the widest label centred on its last point."""
    widest = max([len(label) for label in labels] + [1]) * "0"
    return _text_width(widest, AXIS_FONT_PHONE) / 2 + 4


# Point markers of the series in turn (x, y, colour, inner markup such as a <title>).
MARKERS = [
    '<circle cx="{}" cy="{}" r="4" fill="{}">{}</circle>',
    '<rect x="{}" y="{}" width="8" height="8" fill="{}" transform="translate(-4 -4)">{}</rect>',
]


@dataclass(frozen=True)
class Segment:
    label: str
    value: int


@dataclass(frozen=True)
class BarRow:
    label: str
    segments: list[Segment]

    @property
    def total(self) -> int:
        return sum(s.value for s in self.segments)


@dataclass(frozen=True)
class Series:
    label: str
    values: list[float | None]  # None: no figure for that point (nothing was sent)


def _svg_open(chart_id: str, width: int, height: int, title: str, desc: str) -> SafeString:
    return format_html(
        '<svg viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc" '
        'focusable="false" class="chart" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
        width,
        height,
        chart_id,
        chart_id,
        chart_id,
        title,
        chart_id,
        desc,
    )


def _legend(labels: list[str], *, y: int, lines: bool = False) -> SafeString:
    """A row of keys drawn inside the chart (it scales with it; the chart's title and the
    table carry the same words for assistive technology)."""
    parts, x = [], 8.0
    for index, label in enumerate(labels):
        colour = PALETTE[index % len(PALETTE)]
        if lines:
            parts.append(
                format_html(
                    '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="2.5"'
                    ' stroke-dasharray="{}"></line>',
                    f"{x:.1f}",
                    f"{x + 26:.1f}",
                    y - 4,
                    y - 4,
                    colour,
                    DASHES[index % len(DASHES)] or "none",
                )
            )
            marker = MARKERS[index % len(MARKERS)]
            parts.append(format_html(marker, f"{x + 13:.1f}", y - 4, colour, ""))
            key_w = 32
        else:
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="12" height="12" rx="2" fill="{}"></rect>',
                    f"{x:.1f}",
                    y - 10,
                    colour,
                )
            )
            key_w = 18
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="14" fill="{}">{}</text>',
                f"{x + key_w:.1f}",
                y,
                INK_MUTED,
                label,
            )
        )
        x += key_w + 7.6 * len(label) + 18
    return mark_safe("".join(parts))


def stacked_bars(
    rows: list[BarRow],
    *,
    chart_id: str,
    title: str,
    desc: str,
    width: int = 480,
    legend: list[str] | None = None,
) -> SafeString:
    """Horizontal bars, one per row with its label above it, split into coloured segments
    (e.g. requests of a state, by age), with a legend of the segments under them when given."""
    left, label_h, bar_h, gap, top = 4, 20, 20, 12, 4
    biggest = max([row.total for row in rows] + [1])
    # Room after the longest bar for its total (16 units a character, as drawn).
    right = width - 10 - _text_width(str(biggest), 16)
    row_h = label_h + bar_h + gap
    bars_end = top + len(rows) * row_h
    height = bars_end + (26 if legend else 0)
    parts = [_svg_open(chart_id, width, height, title, desc)]
    for index, row in enumerate(rows):
        y = top + index * row_h
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="16" fill="{}">{}</text>',
                left,
                y + 15,
                INK,
                _fit(row.label, 16, width - 2 * left),
            )
        )
        bar_y = y + label_h
        x = float(left)
        for s_index, segment in enumerate(row.segments):
            if not segment.value:
                continue
            w = (right - left) * segment.value / biggest
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}: {} — {}</title></rect>",
                    f"{x:.1f}",
                    bar_y,
                    f"{max(w, 1):.1f}",
                    bar_h,
                    PALETTE[s_index % len(PALETTE)],
                    row.label,
                    segment.label,
                    segment.value,
                )
            )
            x += w
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="16" fill="{}">{}</text>',
                f"{x + 6:.1f}",
                bar_y + 15,
                INK_MUTED,
                row.total,
            )
        )
    if legend:
        parts.append(_legend(legend, y=height - 6))
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))


def rate_lines(
    labels: list[str],
    series: list[Series],
    *,
    chart_id: str,
    title: str,
    desc: str,
    width: int = 480,
    height: int = 220,
    legend: bool = True,
) -> SafeString:
    """Lines of percentages (0–100 %) over ``labels`` (e.g. months). A missing value breaks
    the line; every point has a ``<title>`` with its figure. The series' names make a legend
    under the chart."""
    plot_height = height
    height += 28 if legend else 0
    # Room left of the plot for "100 %" and under it for the months, at a phone's sizes.
    left, top, bottom = 8 + _text_width("100 %", AXIS_FONT_PHONE), 16, plot_height - 30
    right = width - _axis_room(labels)
    parts = [_svg_open(chart_id, width, height, title, desc)]
    for tick in (0, 25, 50, 75, 100):
        y = bottom - (bottom - top) * tick / 100
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"></line>'
                '<text class="axis-label" x="{}" y="{}" text-anchor="end" font-size="{}"'
                ' fill="{}">{} %</text>',
                f"{left:.1f}",
                f"{right:.1f}",
                f"{y:.1f}",
                f"{y:.1f}",
                GRID,
                f"{left - 6:.1f}",
                f"{y + 4:.1f}",
                AXIS_FONT,
                INK_MUTED,
                tick,
            )
        )
    step = (right - left) / max(len(labels) - 1, 1)
    parts.append(
        _axis_labels(labels, [left + i * step for i in range(len(labels))], y=plot_height - 8)
    )
    for s_index, line in enumerate(series):
        colour = PALETTE[s_index % len(PALETTE)]
        points = []
        runs: list[list[str]] = [[]]
        for index, value in enumerate(line.values):
            if value is None:
                runs.append([])
                continue
            x = left + index * step
            y = bottom - (bottom - top) * max(0.0, min(value, 100.0)) / 100
            runs[-1].append(f"{x:.1f},{y:.1f}")
            points.append((x, y, labels[index], value))
        for run in runs:
            if len(run) > 1:
                parts.append(
                    format_html(
                        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"'
                        ' stroke-dasharray="{}"></polyline>',
                        " ".join(run),
                        colour,
                        DASHES[s_index % len(DASHES)] or "none",
                    )
                )
        for x, y, label, value in points:
            title = format_html("<title>{}, {}: {} %</title>", line.label, label, f"{value:.0f}")
            parts.append(
                format_html(MARKERS[s_index % len(MARKERS)], f"{x:.1f}", f"{y:.1f}", colour, title)
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
    if legend:
        parts.append(_legend([line.label for line in series], y=height - 8, lines=True))
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))


def sparkline(
    values: list[float | None], *, label: str, width: int = 120, height: int = 28
) -> SafeString:
    """A tiny line of percentages for a table cell; its ``<title>`` names every figure."""
    known = [v for v in values if v is not None]
    summary = (
        ", ".join("no notices" if v is None else f"{v:.0f} %" for v in values)
        if known
        else "no notices sent"
    )
    parts = [
        format_html(
            '<svg viewBox="0 0 {} {}" width="{}" height="{}" role="img" focusable="false" '
            'class="sparkline" xmlns="http://www.w3.org/2000/svg"><title>{}: {}</title>',
            width,
            height,
            width,
            height,
            label,
            summary,
        )
    ]
    step = (width - 4) / max(len(values) - 1, 1)
    run: list[str] = []
    runs = [run]
    for index, value in enumerate(values):
        if value is None:
            run = []
            runs.append(run)
            continue
        y = height - 2 - (height - 4) * max(0.0, min(value, 100.0)) / 100
        run.append(f"{2 + index * step:.1f},{y:.1f}")
    parts.append(
        format_html(
            '<line x1="2" x2="{}" y1="{}" y2="{}" stroke="{}"></line>',
            width - 2,
            height - 2,
            height - 2,
            GRID,
        )
    )
    for points in runs:
        if len(points) == 1:
            x, y = points[0].split(",")
            parts.append(
                format_html('<circle cx="{}" cy="{}" r="2" fill="{}"></circle>', x, y, PALETTE[0])
            )
        elif points:
            parts.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"></polyline>',
                    " ".join(points),
                    PALETTE[0],
                )
            )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))
