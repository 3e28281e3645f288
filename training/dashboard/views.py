"""The managers' dashboard page: figures from queries, drawn by charts, in the admin's frame."""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import user_passes_test
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from tickets.roles import is_manager

from . import charts, queries

DEFAULT_DAYS = 30
MAX_DAYS = 366
WEEKLY_AFTER_DAYS = 62  # longer ranges are drawn per week: daily bars would be slivers


def _is_manager(user: Any) -> bool:
    return user.is_active and user.is_staff and is_manager(user)


def _days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", DEFAULT_DAYS))
    except ValueError:
        return DEFAULT_DAYS
    return min(max(days, 1), MAX_DAYS)


def dashboard_context(days: int) -> dict[str, Any]:
    since = timezone.now() - timedelta(days=days)
    weekly = days > WEEKLY_AFTER_DAYS
    totals = queries.outcome_totals(since)
    reasons = queries.escalations_by_reason(since, totals["total"])
    distribution = queries.confidence_distribution(since)
    table = queries.calibration(since)
    return {
        "days": days,
        "weekly": weekly,
        "totals": totals,
        "quiet_days": settings.AUTO_RESOLVE_QUIET_DAYS,
        "reasons": reasons,
        "calibration_table": table,
        "workload": queries.workload(since),
        "versions": queries.versions_overview(),
        "satisfaction": satisfaction_figures(since, weekly),
        "charts": {
            "timeline": charts.timeline_chart(queries.over_time(since, weekly)),
            "reasons": charts.reasons_chart(reasons),
            "gate": charts.gate_chart(distribution),
            "thumbs": charts.thumbs_chart(distribution),
            "calibration": charts.calibration_chart(table, queries.BINS),
        },
        "sla": sla_context(since, weekly),
    }


def sla_context(since: datetime, weekly: bool) -> dict[str, Any]:
    """The service-level block: times, attainment, and who resolved, over time."""
    totals, timeline = queries.sla_figures(since, weekly)
    return {
        "totals": totals,
        "charts": {
            "times": charts.sla_times_chart(timeline),
            "attainment": charts.sla_attainment_chart(timeline),
            "resolvers": charts.resolver_chart(queries.resolutions_over_time(since, weekly)),
        },
    }


def satisfaction_figures(since: datetime, weekly: bool) -> dict[str, Any]:
    """CSAT of the tickets the assistant resolved against those people resolved, and how
    many resolved tickets were reopened."""
    figures = queries.csat(since, weekly)
    return {
        "by_resolver": figures["by_resolver"],
        "reopens": queries.reopen_rate(since),
        "chart": charts.csat_chart(figures["periods"]),
    }


@require_GET
@user_passes_test(_is_manager, login_url="admin:login")
def dashboard(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "Managers' dashboard",
        **dashboard_context(_days(request)),
    }
    return TemplateResponse(request, "training/dashboard.html", context)
