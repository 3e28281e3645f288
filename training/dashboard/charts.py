"""The dashboard's charts as inline SVG strings, so the page needs no JavaScript and no CDN.

Plain data in, SVG out: nothing here reads the database.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#417690", "#e0883b", "#5b9a68", "#b8504a", "#8c6bb1", "#999999")


@dataclass
class Box:
    width: int = 640
    height: int = 240
    left: int = 48
    right: int = 16
    top: int = 16
    bottom: int = 40

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom

    def y(self, value: float, top_value: float) -> float:
        return self.top + self.plot_h * (1 - (value / top_value if top_value else 0))


# --- the dashboard's five charts -----------------------------------------------------------


def timeline_chart(timeline: list[dict[str, Any]]) -> SafeString:
    return lines(
        "Tickets over time",
        [row["period"] for row in timeline],
        {
            "tickets": [row["total"] for row in timeline],
            "auto-resolved": [row["auto"] for row in timeline],
            "escalated": [row["escalated"] for row in timeline],
        },
    )


def reasons_chart(reasons: list[dict[str, Any]]) -> SafeString:
    return horizontal_bars(
        "Escalations by reason",
        [(row["reason"], row["rate"] * 100) for row in reasons],
        fmt="{:.1f}%",
    )


def gate_chart(distribution: dict[str, list[int]]) -> SafeString:
    return grouped_bars(
        "Confidence of answers: passed the gate or escalated",
        bin_labels(len(distribution["passed"])),
        {"passed gate": distribution["passed"], "escalated": distribution["escalated"]},
    )


def thumbs_chart(distribution: dict[str, list[int]]) -> SafeString:
    return grouped_bars(
        "Confidence of rated answers: thumbs up or down",
        bin_labels(len(distribution["thumbs_up"])),
        {"thumbs up": distribution["thumbs_up"], "thumbs down": distribution["thumbs_down"]},
    )


def calibration_chart(table: list[dict[str, Any]], bins: int) -> SafeString:
    return lines(
        "Calibration: confidence against outcome",
        bin_labels(bins),
        {
            "share thumbs-up": _by_bin(table, "thumbs_up", bins),
            "share not escalated": _by_bin(table, "not_escalated", bins),
            "perfect calibration": [(i + 0.5) / bins for i in range(bins)],
        },
        top_value=1.0,
        fmt="{:.2f}",
    )


def bin_labels(bins: int) -> list[str]:
    return [f"{i / bins:.1f}" for i in range(bins)]


def _by_bin(table: list[dict[str, Any]], key: str, bins: int) -> list[float | None]:
    """The table has rows only for bins with answers; the others are gaps in the line."""
    values: list[float | None] = [None] * bins
    for row in table:
        values[min(int(row["center"] * bins), bins - 1)] = row[key]
    return values


# --- satisfaction --------------------------------------------------------------------------


def csat_chart(periods: list[dict[str, Any]]) -> SafeString:
    """The share of satisfied ratings (4 or 5) per period, the assistant's against people's;
    a period without ratings on one side is a gap in its line."""
    return lines(
        "CSAT over time: share of ratings 4 or 5",
        [row["period"] for row in periods],
        {
            "resolved by the assistant": [row["ai"] for row in periods],
            "resolved by people": [row["people"] for row in periods],
        },
        top_value=1.0,
        fmt="{:.0%}",
    )


# --- kinds of chart ------------------------------------------------------------------------


def grouped_bars(
    title: str, labels: list[str], series: Mapping[str, Sequence[float]], box: Box | None = None
) -> SafeString:
    """Bars side by side per label, one colour per series."""
    box = box or Box()
    top_value = _nice_top(max([v for values in series.values() for v in values] + [1]))
    slot = box.plot_w / max(len(labels), 1)
    bar_w = slot * 0.8 / max(len(series), 1)
    parts = _axes(box, top_value)
    for s, (name, values) in enumerate(series.items()):
        for i, value in enumerate(values):
            x = box.left + i * slot + slot * 0.1 + s * bar_w
            y = box.y(value, top_value)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{box.top + box.plot_h - y:.1f}" fill="{PALETTE[s % len(PALETTE)]}">'
                f"<title>{escape(name)} {escape(labels[i])}: {value:g}</title></rect>"
            )
    parts += _x_labels(box, labels, slot)
    parts += _legend(box, list(series))
    return _svg(box, title, parts)


def lines(
    title: str,
    labels: list[str],
    series: dict[str, list[float | None]],
    top_value: float | None = None,
    fmt: str = "{:g}",
    box: Box | None = None,
) -> SafeString:
    """One polyline per series over evenly spaced labels; gaps where a value is None."""
    box = box or Box()
    numbers = [v for values in series.values() for v in values if v is not None]
    top_value = top_value or _nice_top(max(numbers + [1]))
    slot = box.plot_w / max(len(labels), 1)
    parts = _axes(box, top_value, fmt)
    for s, (name, values) in enumerate(series.items()):
        colour = PALETTE[s % len(PALETTE)]
        points = [
            (box.left + i * slot + slot / 2, box.y(v, top_value))
            for i, v in enumerate(values)
            if v is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        parts += [
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(name)}'
            "</title></circle>"
            for x, y in points
        ]
    parts += _x_labels(box, labels, slot)
    parts += _legend(box, list(series))
    return _svg(box, title, parts)


def horizontal_bars(title: str, rows: list[tuple[str, float]], fmt: str = "{:g}") -> SafeString:
    height = 24 * max(len(rows), 1) + 16
    box = Box(height=height, left=170, right=64, bottom=8)  # room for the value after a bar
    top_value = max([v for _, v in rows] + [1])
    parts = []
    for i, (label, value) in enumerate(rows):
        y = box.top + i * 24
        width = box.plot_w * value / top_value
        parts.append(
            f'<text x="{box.left - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{box.left}" y="{y}" width="{width:.1f}" height="16" fill="{PALETTE[0]}"/>'
            f'<text x="{box.left + width + 4:.1f}" y="{y + 13}">{escape(fmt.format(value))}</text>'
        )
    if not rows:
        parts.append(f'<text x="{box.left}" y="{box.top + 12}" fill="#777">none</text>')
    return _svg(box, title, parts)


# --- pieces --------------------------------------------------------------------------------


def _svg(box: Box, title: str, body: list[str]) -> SafeString:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {box.width} {box.height}" '
        f'width="{box.width}" height="{box.height}" role="img" aria-label="{escape(title)}" '
        'font-family="sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>"
    )
    return mark_safe(head + "".join(body) + "</svg>")  # every label went through escape()


def _nice_top(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above `value`: round ticks."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _axes(box: Box, top_value: float, fmt: str = "{:g}") -> list[str]:
    parts = []
    for step in range(5):
        value = top_value * step / 4
        y = box.y(value, top_value)
        parts.append(
            f'<line x1="{box.left}" x2="{box.width - box.right}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ddd"/>'
            f'<text x="{box.left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">'
            f"{escape(fmt.format(value))}</text>"
        )
    return parts


def _legend(box: Box, names: list[str]) -> list[str]:
    parts = []
    x = box.left
    for i, name in enumerate(names):
        parts.append(
            f'<rect x="{x}" y="{box.height - 12}" width="10" height="10" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{x + 14}" y="{box.height - 3}">{escape(name)}</text>'
        )
        x += 18 + 7 * len(name)
    return parts


def _x_labels(box: Box, labels: list[str], slot: float) -> list[str]:
    every = max(1, len(labels) // 12)  # at most a dozen labels fit under the axis
    return [
        f'<text x="{box.left + i * slot + slot / 2:.1f}" y="{box.top + box.plot_h + 14:.1f}" '
        f'text-anchor="middle" fill="#555">{escape(label)}</text>'
        for i, label in enumerate(labels)
        if i % every == 0
    ]


# --- service levels ------------------------------------------------------------------------


def sla_times_chart(timeline: list[dict[str, Any]]) -> SafeString:
    return lines(
        "First response and resolution, business hours",
        [row["period"] for row in timeline],
        {
            "first response median": [row["first_response"]["median_h"] for row in timeline],
            "first response p90": [row["first_response"]["p90_h"] for row in timeline],
            "resolution median": [row["resolution"]["median_h"] for row in timeline],
            "resolution p90": [row["resolution"]["p90_h"] for row in timeline],
        },
        fmt="{:.1f}",
    )


def sla_attainment_chart(timeline: list[dict[str, Any]]) -> SafeString:
    def percent(value: float | None) -> float | None:
        return value * 100 if value is not None else None

    return lines(
        "SLA targets met, %",
        [row["period"] for row in timeline],
        {
            "first response": [percent(row["first_response_attainment"]) for row in timeline],
            "resolution": [percent(row["resolution_attainment"]) for row in timeline],
        },
        top_value=100.0,
        fmt="{:.0f}",
    )


def resolver_chart(timeline: list[dict[str, Any]]) -> SafeString:
    return grouped_bars(
        "Resolved by the AI alone or by people",
        [row["period"] for row in timeline],
        {
            "AI alone": [row["ai"] for row in timeline],
            "people": [row["people"] for row in timeline],
        },
    )
