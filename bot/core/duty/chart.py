"""Duty hours per week as an SVG bar chart: drawn on the server, no JavaScript, readable by a screen reader.

A pure function of its bars: the same bars give the same picture. The picture is accessible on its own (`role="img"`,
a `<title>` and a `<desc>` that says every bar's value), and the page shows the same numbers as a table next to it.
Only SVG presentation attributes and classes are used, no `style`, so it renders under a Content-Security-Policy
that forbids inline styles. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 720
HEIGHT = 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 12, 16, 40


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar (e.g. "3 Nov")
    hours: float  # may be negative (time subtracted): drawn as an empty bar, said as it is


def hours_text(hours: float) -> str:
    """`12.5 h`, `0 h`, `-1.25 h` (at most two decimals, none when whole)."""
    text = f"{hours:.2f}".rstrip("0").rstrip(".")
    return f"{'0' if text in ('-0', '') else text} h"


def _nice_top(value: float) -> float:
    """The axis' top: the smallest of 1, 2, 2.5, 5 × 10^n at or above `value` (at least 1 hour)."""
    if value <= 1:
        return 1.0
    scale = 1.0
    while scale * 10 < value:
        scale *= 10
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * scale >= value:
            return step * scale
    return 10 * scale  # pragma: no cover (the loop above always returns)


def weekly_hours_svg(bars: Sequence[Bar], title: str, *, chart_id: str = "duty-chart") -> str:
    """The chart as an inline `<svg>` element. `chart_id` names its title and description (unique per page)."""
    ident = escape(chart_id, quote=True)
    top = _nice_top(max((b.hours for b in bars), default=0.0))
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    said = "; ".join(f"{b.label}: {hours_text(b.hours)}" for b in bars) or "no weeks"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%"'
        f' role="img" aria-labelledby="{ident}-title {ident}-desc">',
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(said)}</desc>',
    ]
    # Grid lines and their hours: 0, a quarter, half, three quarters and the top.
    for i in range(5):
        value = top * i / 4
        y = _TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line class="chart-grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"'
            ' stroke="currentColor" stroke-opacity="0.2"/>'
        )
        parts.append(
            f'<text class="chart-axis" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11"'
            f' fill="currentColor">{escape(hours_text(value))}</text>'
        )
    if bars:
        slot = plot_w / len(bars)
        width = max(1.0, slot * 0.7)
        for i, bar in enumerate(bars):
            x = _LEFT + slot * i + (slot - width) / 2
            height = plot_h * max(0.0, bar.hours) / top
            y = _TOP + plot_h - height
            parts.append(
                f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}"'
                f' fill="#5865f2"><title>{escape(bar.label)}: {escape(hours_text(bar.hours))}</title></rect>'
            )
            parts.append(
                f'<text class="chart-label" x="{x + width / 2:.1f}" y="{HEIGHT - _BOTTOM + 16}" text-anchor="middle"'
                f' font-size="11" fill="currentColor">{escape(bar.label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
