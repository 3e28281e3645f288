"""The managers' dashboard: quality of the assistant and the desk, drawn as inline SVG.

Every figure is one aggregate query (a dozen in all, whatever the number of tickets); the
charts are SVG strings built here, so the page needs no JavaScript and no CDN.
"""

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import user_passes_test
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet
from django.db.models.functions import Cast, Floor, Least, TruncDate, TruncWeek
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from assistant.models import ModelVersion
from tickets.models import (
    ACTIVE_STATUSES,
    EscalationReason,
    Message,
    MessageRating,
    Role,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.roles import AGENTS, is_manager

from ..releases.models import ShadowComparison

BINS = 10  # confidence bins of width 0.1
DEFAULT_DAYS = 30
MAX_DAYS = 366
WEEKLY_AFTER_DAYS = 62  # longer ranges are drawn per week: daily bars would be slivers
PALETTE = ("#417690", "#e0883b", "#5b9a68", "#b8504a", "#8c6bb1", "#999999")


def _is_manager(user: Any) -> bool:
    return user.is_active and user.is_staff and is_manager(user)


# --- figures -----------------------------------------------------------------------------


def _tickets_in(since: Any) -> QuerySet[Ticket]:
    answered = Message.objects.filter(
        ticket=OuterRef("pk"), role=Role.ASSISTANT, visible_to_user=True
    )
    reopened = TicketEvent.objects.filter(ticket=OuterRef("pk"), to_status=Status.REOPENED)
    return Ticket.objects.filter(created_at__gte=since).annotate(
        answered=Exists(answered), reopened=Exists(reopened)
    )


_AUTO = Q(answered=True, escalated_at__isnull=True, reopened=False)


def outcome_totals(since: Any) -> dict[str, Any]:
    """Auto-resolved: answered by the assistant, never escalated, never reopened."""
    totals = _tickets_in(since).aggregate(
        total=Count("pk"),
        auto=Count("pk", filter=_AUTO),
        escalated=Count("pk", filter=Q(escalated_at__isnull=False)),
        reopened_count=Count("pk", filter=Q(reopened=True)),
    )
    total = totals["total"] or 0
    totals["auto_rate"] = totals["auto"] / total if total else None
    totals["escalation_rate"] = totals["escalated"] / total if total else None
    return totals


def escalations_by_reason(since: Any, total: int) -> list[dict[str, Any]]:
    rows = (
        Ticket.objects.filter(created_at__gte=since, escalated_at__isnull=False)
        .values("escalation_reason")
        .annotate(n=Count("pk"))
        .order_by("-n")
    )
    labels = dict(EscalationReason.choices)
    return [
        {
            "reason": labels.get(row["escalation_reason"], row["escalation_reason"] or "unknown"),
            "count": row["n"],
            "rate": row["n"] / total if total else 0.0,
        }
        for row in rows
    ]


def _answers_in(since: Any) -> QuerySet[Message]:
    bin_expr = Least(Cast(Floor(F("confidence") * BINS), IntegerField()), BINS - 1)
    return Message.objects.filter(
        role=Role.ASSISTANT, confidence__isnull=False, created_at__gte=since
    ).annotate(bin=bin_expr)


def confidence_distribution(since: Any) -> dict[str, list[int]]:
    """Answers per confidence bin: passed the gate / escalated, thumbs up / down."""
    series = {name: [0] * BINS for name in ("passed", "escalated", "thumbs_up", "thumbs_down")}
    for row in _answers_in(since).values("bin", "passed_gate").annotate(n=Count("pk")):
        name = "passed" if row["passed_gate"] else "escalated"
        series[name][_clamp(row["bin"])] += row["n"]
    rated = (
        MessageRating.objects.filter(
            message__role=Role.ASSISTANT,
            message__confidence__isnull=False,
            message__created_at__gte=since,
        )
        .annotate(bin=Least(Cast(Floor(F("message__confidence") * BINS), IntegerField()), BINS - 1))
        .values("bin", "helpful")
        .annotate(n=Count("pk"))
    )
    for row in rated:
        series["thumbs_up" if row["helpful"] else "thumbs_down"][_clamp(row["bin"])] += row["n"]
    return series


def calibration(since: Any) -> list[dict[str, Any]]:
    """Per confidence bin: mean confidence, share thumbs-up (of rated), share whose ticket
    was not escalated after the answer."""
    not_escalated_after = Q(ticket__escalated_at__isnull=True) | Q(
        ticket__escalated_at__lt=F("created_at")
    )
    rows = (
        _answers_in(since)
        .values("bin")
        .annotate(
            # Distinct: the join with ratings repeats an answer once per rating.
            n=Count("pk", distinct=True),
            kept=Count("pk", filter=not_escalated_after, distinct=True),
            up=Count("ratings", filter=Q(ratings__helpful=True)),
            rated=Count("ratings"),
        )
        .order_by("bin")
    )
    table = []
    for row in rows:
        low = _clamp(row["bin"]) / BINS
        table.append(
            {
                "bin": f"{low:.1f}–{low + 1 / BINS:.1f}",
                "center": low + 0.5 / BINS,
                "answers": row["n"],
                "not_escalated": row["kept"] / row["n"] if row["n"] else None,
                "thumbs_up": row["up"] / row["rated"] if row["rated"] else None,
                "rated": row["rated"],
            }
        )
    return table


def workload(since: Any) -> list[dict[str, Any]]:
    """Per agent: tickets in hand now, replies and resolutions in the period."""
    users = (
        get_user_model()
        .objects.filter(Q(groups__name=AGENTS) | Q(assigned_tickets__isnull=False))
        .distinct()
    )
    open_now = Count(
        "assigned_tickets",
        filter=Q(assigned_tickets__status__in=ACTIVE_STATUSES),
        distinct=True,
    )
    rows = users.annotate(open_now=open_now).values("pk", "username", "open_now")
    replies = dict(
        Message.objects.filter(role=Role.AGENT, created_at__gte=since)
        .values_list("author")
        .annotate(n=Count("pk"))
    )
    resolved = dict(
        TicketEvent.objects.filter(kind="resolved", created_at__gte=since, actor__isnull=False)
        .values_list("actor")
        .annotate(n=Count("pk"))
    )
    table = [
        {
            "agent": row["username"],
            "open_now": row["open_now"],
            "replies": replies.get(row["pk"], 0),
            "resolved": resolved.get(row["pk"], 0),
        }
        for row in rows
    ]
    return sorted(table, key=lambda r: (-r["open_now"], r["agent"]))


def over_time(since: Any, weekly: bool) -> list[dict[str, Any]]:
    trunc = TruncWeek("created_at") if weekly else TruncDate("created_at")
    rows = (
        _tickets_in(since)
        .annotate(period=trunc)
        .values("period")
        .annotate(
            total=Count("pk"),
            auto=Count("pk", filter=_AUTO),
            escalated=Count("pk", filter=Q(escalated_at__isnull=False)),
        )
        .order_by("period")
    )
    return [
        {
            "period": row["period"].strftime("%Y-%m-%d") if row["period"] else "",
            "total": row["total"],
            "auto": row["auto"],
            "escalated": row["escalated"],
        }
        for row in rows
    ]


def versions_overview() -> list[dict[str, Any]]:
    versions = list(ModelVersion.objects.order_by("-is_default", "stage", "name"))
    latest: dict[int, ShadowComparison] = {}
    for comparison in ShadowComparison.objects.select_related("active").order_by("-created_at"):
        latest.setdefault(comparison.candidate_id, comparison)
    rows = []
    for version in versions:
        comparison = latest.get(version.pk)
        rows.append(
            {
                "version": version,
                "evaluation": _evaluation_summary(version.evaluation or {}),
                "comparison": comparison,
                "shadow": _shadow_summary(comparison),
            }
        )
    return rows


def _evaluation_summary(evaluation: dict[str, Any]) -> str:
    summary = evaluation.get("summary", evaluation)
    parts = []
    for key, value in summary.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            parts.append(f"{key} {value:.3g}")
    return ", ".join(parts[:6]) or "not evaluated"


def _shadow_summary(comparison: ShadowComparison | None) -> str:
    if comparison is None:
        return "no comparison"
    report = comparison.report
    verdict = "not worse" if comparison.candidate_not_worse else "worse"
    cand = report.get("candidate", {}).get("similarity_mean")
    act = report.get("active", {}).get("similarity_mean")
    if cand is None or act is None:
        return f"{verdict} than {comparison.active}"
    return f"{verdict} than {comparison.active}: similarity {cand:.2f} vs {act:.2f}"


def _clamp(bin_index: int | None) -> int:
    return min(max(int(bin_index or 0), 0), BINS - 1)


# --- charts ------------------------------------------------------------------------------


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


def grouped_bars(
    title: str, labels: list[str], series: dict[str, list[float]], box: Box | None = None
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


def _x_labels(box: Box, labels: list[str], slot: float) -> list[str]:
    every = max(1, len(labels) // 12)  # at most a dozen labels fit under the axis
    return [
        f'<text x="{box.left + i * slot + slot / 2:.1f}" y="{box.top + box.plot_h + 14:.1f}" '
        f'text-anchor="middle" fill="#555">{escape(label)}</text>'
        for i, label in enumerate(labels)
        if i % every == 0
    ]


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


# --- the page ------------------------------------------------------------------------------


def _days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", DEFAULT_DAYS))
    except ValueError:
        return DEFAULT_DAYS
    return min(max(days, 1), MAX_DAYS)


def dashboard_context(days: int) -> dict[str, Any]:
    since = timezone.now() - timedelta(days=days)
    weekly = days > WEEKLY_AFTER_DAYS
    totals = outcome_totals(since)
    reasons = escalations_by_reason(since, totals["total"])
    distribution = confidence_distribution(since)
    table = calibration(since)
    timeline = over_time(since, weekly)
    bin_labels = [f"{i / BINS:.1f}" for i in range(BINS)]
    return {
        "days": days,
        "weekly": weekly,
        "totals": totals,
        "reasons": reasons,
        "calibration_table": table,
        "workload": workload(since),
        "versions": versions_overview(),
        "charts": {
            "timeline": lines(
                "Tickets over time",
                [row["period"] for row in timeline],
                {
                    "tickets": [row["total"] for row in timeline],
                    "auto-resolved": [row["auto"] for row in timeline],
                    "escalated": [row["escalated"] for row in timeline],
                },
            ),
            "reasons": horizontal_bars(
                "Escalations by reason",
                [(row["reason"], row["rate"] * 100) for row in reasons],
                fmt="{:.1f}%",
            ),
            "gate": grouped_bars(
                "Confidence of answers: passed the gate or escalated",
                bin_labels,
                {"passed gate": distribution["passed"], "escalated": distribution["escalated"]},
            ),
            "thumbs": grouped_bars(
                "Confidence of rated answers: thumbs up or down",
                bin_labels,
                {
                    "thumbs up": distribution["thumbs_up"],
                    "thumbs down": distribution["thumbs_down"],
                },
            ),
            "calibration": lines(
                "Calibration: confidence against outcome",
                bin_labels,
                {
                    "share thumbs-up": _by_bin(table, "thumbs_up"),
                    "share not escalated": _by_bin(table, "not_escalated"),
                    "perfect calibration": [(i + 0.5) / BINS for i in range(BINS)],
                },
                top_value=1.0,
                fmt="{:.2f}",
            ),
        },
    }


def _by_bin(table: list[dict[str, Any]], key: str) -> list[float | None]:
    values: list[float | None] = [None] * BINS
    for row in table:
        values[min(int(row["center"] * BINS), BINS - 1)] = row[key]
    return values


@require_GET
@user_passes_test(_is_manager, login_url="admin:login")
def dashboard(request: HttpRequest) -> HttpResponse:
    from django.contrib import admin

    context = {
        **admin.site.each_context(request),
        "title": "Managers' dashboard",
        **dashboard_context(_days(request)),
    }
    return TemplateResponse(request, "training/dashboard.html", context)
