"""Server-rendered SVG charts for the dashboard: pure functions from numbers to markup.

No ORM, settings or clock. Every text that comes in (labels, titles, links) is escaped, so a
customer's name cannot inject markup. Bars scale to the largest value (a chart of zeros draws
flat bars, never divides by zero); negative values draw as zero-height bars with their label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape


@dataclass(frozen=True)
class Bar:
    label: str  # shown under the bar
    value: Decimal | int
    title: str  # the tooltip: the value as people read it ("$1,234.00")
    href: str = ""  # where a click on the bar goes (the list behind it)


def _number(value: Decimal | int) -> Decimal:
    return Decimal(value) if value > 0 else Decimal(0)


def bar_chart_svg(bars: Sequence[Bar], *, width: int = 480, height: int = 140, label: str) -> str:
    """Vertical bars, one per item, in order; `label` names the chart for screen readers."""
    top = max((_number(bar.value) for bar in bars), default=Decimal(0))
    plot_height = height - 20
    slot = Decimal(width) / max(len(bars), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="dashboard-chart" role="img"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' aria-label="{escape(label)}">'
    ]
    for index, bar in enumerate(bars):
        share = _number(bar.value) / top if top else Decimal(0)
        bar_height = (share * plot_height).quantize(Decimal("0.1"))
        x = (slot * index + slot * Decimal("0.1")).quantize(Decimal("0.1"))
        bar_width = (slot * Decimal("0.8")).quantize(Decimal("0.1"))
        y = Decimal(plot_height) - bar_height
        rect = (
            f'<rect x="{x}" y="{y}" width="{bar_width}" height="{bar_height}">'
            f"<title>{escape(bar.label)}: {escape(bar.title)}</title></rect>"
        )
        if bar.href:
            rect = f'<a href="{escape(bar.href)}">{rect}</a>'
        text_x = (x + bar_width / 2).quantize(Decimal("0.1"))
        parts.append(rect)
        parts.append(
            f'<text x="{text_x}" y="{height - 5}" text-anchor="middle">{escape(bar.label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def sparkline_svg(values: Sequence[int], *, width: int = 480, height: int = 80, label: str) -> str:
    """A line through the values, oldest left, scaled to the largest; `label` names it."""
    top = max(values, default=0)
    spans = max(len(values) - 1, 1)
    coordinates = []
    # Integer tenths of a pixel, rounded half up: 1,440 points cost no Decimal arithmetic.
    for index, value in enumerate(values):
        x = (index * width * 20 + spans) // (2 * spans)
        drop = (max(value, 0) * height * 20 + top) // (2 * top) if top > 0 else 0
        y = height * 10 - drop
        coordinates.append(f"{x // 10}.{x % 10},{y // 10}.{y % 10}")
    points = " ".join(coordinates)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="dashboard-chart" role="img"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' aria-label="{escape(label)}" preserveAspectRatio="none">'
        f'<polyline fill="none" stroke="currentColor" stroke-width="1" points="{points}"/>'
        "</svg>"
    )
