"""Server-rendered SVG charts for the admin and the portal (no JavaScript, no CDN): bars and lines with axes."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

# The admin's status colours (console.admin_base badge tones), readable on light and dark themes.
COLOURS = {
    "succeeded": "#1a7f37",
    "failed": "#cf222e",
    "pending": "#bf8700",
    "cancelled": "#8c959f",
    "p50": "#0969da",
    "p90": "#8250df",
    "p99": "#cf222e",
    "rate": "#1a7f37",
}
WIDTH, HEIGHT = 760, 200
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 12, 28


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: Sequence[float | None]


def nice_ceiling(value: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    ceiling: float = next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)
    return ceiling


def axis_top(value: float) -> tuple[float, int]:
    """The axis maximum and its number of gridline steps, each step round (0, 10, 20, 30, 40, 50)."""
    if value <= 0:
        return 4.0, 4
    return min((steps * nice_ceiling(value / steps), steps) for steps in (4, 5))


def stacked_bars(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    every: int = 1,
    width: int = WIDTH,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
) -> SafeString:
    """One bar per label, the series stacked bottom up; a <title> per segment for the tooltip."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(labels))]
    top, steps = axis_top(max(totals, default=0))
    plot_w, plot_h = width - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    parts = [_frame(title, width), *_y_axis(top, steps, fmt, width)]
    for i, label in enumerate(labels):
        x, base = LEFT + i * slot + slot * 0.15, 0.0
        for one in series:
            value = one.values[i] or 0
            if value:
                height = value / top * plot_h
                y = TOP + plot_h - base - height
                tip = escape(f"{label}: {fmt(value)} {one.label}")
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" '
                    f'fill="{COLOURS.get(one.key, "#57606a")}"><title>{tip}</title></rect>'
                )
                base += height
        if i % every == 0:
            parts.append(_x_label(LEFT + i * slot + slot / 2, label))
    parts.append("</svg>")
    return mark_safe("".join(str(part) for part in parts))


def lines(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    top: float | None = None,
    width: int = WIDTH,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
) -> SafeString:
    """One polyline per series (gaps where a value is None), a dot and tooltip at every point."""
    values = [v for s in series for v in s.values if v is not None]
    top, steps = (top, 4) if top else axis_top(max(values, default=0))
    plot_w, plot_h = width - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    parts = [_frame(title, width), *_y_axis(top, steps, fmt, width)]
    for i, label in enumerate(labels):
        parts.append(_x_label(LEFT + i * slot + slot / 2, label))
    for one in series:
        colour = COLOURS.get(one.key, "#57606a")
        points = [
            (LEFT + i * slot + slot / 2, TOP + plot_h - min(v, top) / top * plot_h, v, labels[i])
            for i, v in enumerate(one.values)
            if v is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, value, label in points:
            tip = escape(f"{label}: {one.label} {fmt(value)}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{tip}</title></circle>')
    parts.append("</svg>")
    return mark_safe("".join(str(part) for part in parts))


def bars(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    key: str = "failed",
    width: int = WIDTH,
    label_chars: int = 36,
    fmt: Callable[[float], str] = lambda v: f"{v:,.0f}",
) -> SafeString:
    """One horizontal bar per (label, value), largest first as given; the value at the bar's end.

    The aria-label carries every label and value, so a screen reader hears the numbers, not only the title."""
    row, label_w = 26, min(label_chars * 7, width // 2)
    height = TOP + BOTTOM // 2 + row * max(len(items), 1)
    top = max((value for _, value in items), default=0) or 1
    plot_w = width - label_w - RIGHT - 48  # room for the value after the longest bar
    summary = f"{title}: " + "; ".join(f"{label}: {fmt(value)}" for label, value in items)
    parts = [
        f'<svg class="hl-chart hl-bars" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(summary)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(items):
        y = TOP + i * row
        shown = label if len(label) <= label_chars else label[: label_chars - 1] + "…"
        length = max(value / top * plot_w, 1)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row / 2 + 4:.1f}" text-anchor="end" class="hl-axis">'
            f"<title>{escape(label)}</title>{escape(shown)}</text>"
            f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{COLOURS.get(key, "#57606a")}"><title>{escape(f"{label}: {fmt(value)}")}</title></rect>'
            f'<text x="{label_w + length + 6:.1f}" y="{y + row / 2 + 4:.1f}" class="hl-axis">'
            f"{escape(fmt(value))}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def milliseconds(value: float) -> str:
    return f"{value / 1000:g} s" if value >= 1000 else f"{value:,.0f} ms"


def legend(series: Sequence[Series]) -> SafeString:
    return format_html(
        '<ul class="hl-legend">{}</ul>',
        mark_safe(
            "".join(
                str(
                    format_html(
                        '<li><span style="background:{}"></span>{}</li>', COLOURS.get(s.key, "#57606a"), s.label
                    )
                )
                for s in series
            )
        ),
    )


def _frame(title: str, width: int) -> str:
    return (
        f'<svg class="hl-chart" viewBox="0 0 {width} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>'
    )


def _y_axis(top: float, steps: int, fmt: Callable[[float], str], width: int) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = []
    for step in range(steps + 1):
        value = top * step / steps
        y = TOP + plot_h - plot_h * step / steps
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="hl-grid"/>')
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="hl-axis">{escape(fmt(value))}</text>'
        )
    return parts


def _x_label(x: float, label: str) -> str:
    return f'<text x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle" class="hl-axis">{escape(label)}</text>'
