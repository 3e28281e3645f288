"""The dashboard's figures: each is one aggregate query, so the page costs the same whatever
the number of tickets."""

import math
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Cast, Floor, Least, TruncDate, TruncWeek
from django.utils import timezone

from assistant.models import ModelVersion
from satisfaction.models import SATISFIED_SCORES, Rating
from sla.models import TicketSla
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
from tickets.outcomes import BY_PEOPLE, with_resolver
from tickets.roles import AGENTS

from ..releases.models import ShadowComparison

BINS = 10  # confidence bins of width 0.1
FINISHED_STATUSES = (Status.RESOLVED, Status.CLOSED)


# --- outcomes of tickets -------------------------------------------------------------------


def quiet_since() -> datetime:
    """Answers older than this with no reply count as solved: the user had time to say otherwise."""
    return timezone.now() - timedelta(days=settings.AUTO_RESOLVE_QUIET_DAYS)


def _tickets_in(since: datetime) -> QuerySet[Ticket]:
    """Tickets opened since `since`, with what the outcome rules below read about each."""
    ticket = OuterRef("pk")
    answers = Message.objects.filter(ticket=ticket, role=Role.ASSISTANT, visible_to_user=True)
    questions = Message.objects.filter(ticket=ticket, role=Role.USER)
    events = TicketEvent.objects.filter(ticket=ticket)
    return with_resolver(Ticket.objects.filter(created_at__gte=since)).annotate(
        last_answer=Subquery(answers.order_by("-created_at").values("created_at")[:1]),
        last_question=Subquery(questions.order_by("-created_at").values("created_at")[:1]),
        # "This solved it" (lifecycle.mark_solved) resolves the ticket with its requester as actor.
        confirmed=Exists(events.filter(to_status=Status.RESOLVED, actor=OuterRef("requester"))),
        reopened=Exists(events.filter(to_status=Status.REOPENED)),
    )


_ESCALATED = Q(escalated_at__isnull=False)
# A reopened ticket that is open again is no longer solved, whoever confirmed it before.
_CONFIRMED = Q(confirmed=True, status__in=FINISHED_STATUSES)


def _went_quiet(since: datetime) -> Q:
    """The assistant had the last word, before `since`."""
    no_reply = Q(last_question__isnull=True) | Q(last_question__lt=F("last_answer"))
    return Q(last_answer__lt=since) & no_reply


def auto_resolved(quiet: datetime) -> Q:
    """Solved by the assistant alone: the user said so, or stayed quiet after the answer
    since `quiet`. An answer nobody replied to yet may still be abandoned, so it waits."""
    answered = Q(last_answer__isnull=False)
    return answered & ~BY_PEOPLE & (_CONFIRMED | _went_quiet(quiet))


def still_open(quiet: datetime) -> Q:
    """Still with the assistant and not solved yet: counted neither as solved nor as failed."""
    return Q(status__in=ACTIVE_STATUSES) & ~(BY_PEOPLE | auto_resolved(quiet))


def outcome_totals(since: datetime) -> dict[str, Any]:
    """Counts and rates of outcomes; the auto-resolution rate is over decided tickets only."""
    quiet = quiet_since()
    totals = _tickets_in(since).aggregate(
        total=Count("pk"),
        auto=Count("pk", filter=auto_resolved(quiet)),
        still_open=Count("pk", filter=still_open(quiet)),
        escalated=Count("pk", filter=_ESCALATED),
        reopened_count=Count("pk", filter=Q(reopened=True)),
    )
    total = totals["total"] or 0
    decided = total - totals["still_open"]
    totals["decided"] = decided
    totals["auto_rate"] = totals["auto"] / decided if decided else None
    totals["escalation_rate"] = totals["escalated"] / total if total else None
    totals["reopen_rate"] = totals["reopened_count"] / total if total else None
    return totals


def escalations_by_reason(since: datetime, total: int) -> list[dict[str, Any]]:
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


def over_time(since: datetime, weekly: bool) -> list[dict[str, Any]]:
    trunc = TruncWeek("created_at") if weekly else TruncDate("created_at")
    rows = (
        _tickets_in(since)
        .annotate(period=trunc)
        .values("period")
        .annotate(
            total=Count("pk"),
            auto=Count("pk", filter=auto_resolved(quiet_since())),
            escalated=Count("pk", filter=_ESCALATED),
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


# --- satisfaction --------------------------------------------------------------------------

# The two sides the CSAT figures compare, by Rating.resolved_by_ai (tickets.outcomes' rule,
# as it stood when the requester rated).
RESOLVERS = {True: "the assistant", False: "people"}


def csat(since: datetime, weekly: bool) -> dict[str, Any]:
    """Ratings of the tickets resolved since `since`, the assistant's and people's side by
    side: count, mean score and share satisfied (4 or 5: the usual CSAT), in all
    (`by_resolver`) and per day or week of resolution (`periods`), from one query."""
    trunc = TruncWeek("resolved_at") if weekly else TruncDate("resolved_at")
    rows = (
        Rating.objects.filter(resolved_at__gte=since)
        .annotate(period=trunc)
        .values("period", "resolved_by_ai")
        .annotate(
            n=Count("pk"),
            points=Sum("score"),
            satisfied=Count("pk", filter=Q(score__in=SATISFIED_SCORES)),
        )
        .order_by("period")
    )
    totals = {by_ai: {"count": 0, "points": 0, "satisfied": 0} for by_ai in RESOLVERS}
    periods: dict[str, dict[str, Any]] = {}
    for row in rows:
        side = totals[row["resolved_by_ai"]]
        side["count"] += row["n"]
        side["points"] += row["points"]
        side["satisfied"] += row["satisfied"]
        label = row["period"].strftime("%Y-%m-%d") if row["period"] else ""
        period = periods.setdefault(
            label, {"period": label, "ai": None, "people": None, "ai_count": 0, "people_count": 0}
        )
        name = "ai" if row["resolved_by_ai"] else "people"
        period[name] = row["satisfied"] / row["n"]
        period[f"{name}_count"] = row["n"]
    return {
        "by_resolver": [
            _csat_row(name, by_ai, **totals[by_ai]) for by_ai, name in RESOLVERS.items()
        ],
        "periods": list(periods.values()),
    }


def _csat_row(name: str, by_ai: bool, count: int, points: int, satisfied: int) -> dict[str, Any]:
    return {
        "resolver": name,
        "by_ai": by_ai,
        "count": count,
        "satisfied": satisfied,
        "mean": points / count if count else None,
        "satisfied_share": satisfied / count if count else None,
    }


def reopen_rate(since: datetime) -> dict[str, Any]:
    """Of the tickets resolved since `since`, how many were reopened afterwards. A ticket is
    reopened only from resolved (tickets.lifecycle), so a reopening since then follows a
    resolution; each ticket counts once, however often it went back and forth."""
    ticket = OuterRef("pk")
    events = TicketEvent.objects.filter(ticket=ticket, created_at__gte=since)
    # The Exists goes in the count's filter itself: as an annotation read only by that filter,
    # Django 5.2 left it out of the inner query it builds here, and nothing counted as reopened.
    figures = Ticket.objects.filter(Exists(events.filter(to_status=Status.RESOLVED))).aggregate(
        resolved=Count("pk"),
        reopened=Count("pk", filter=Exists(events.filter(to_status=Status.REOPENED))),
    )
    resolved = figures["resolved"]
    figures["rate"] = figures["reopened"] / resolved if resolved else None
    return figures


# --- confidence of answers -----------------------------------------------------------------


def _confidence_bin(field: str) -> Least:
    return Least(Cast(Floor(F(field) * BINS), IntegerField()), BINS - 1)


def _answers_in(since: datetime) -> QuerySet[Message]:
    return Message.objects.filter(
        role=Role.ASSISTANT, confidence__isnull=False, created_at__gte=since
    ).annotate(bin=_confidence_bin("confidence"))


def confidence_distribution(since: datetime) -> dict[str, list[int]]:
    """Answers per confidence bin: passed the gate / escalated, thumbs up / down."""
    series = {name: [0] * BINS for name in ("passed", "escalated", "thumbs_up", "thumbs_down")}
    # "bin" is _answers_in's annotation, which the QuerySet[Message] it returns cannot name.
    for row in _answers_in(since).values("bin", "passed_gate").annotate(n=Count("pk")):  # type: ignore[misc]
        name = "passed" if row["passed_gate"] else "escalated"
        series[name][_clamp(row["bin"])] += row["n"]
    rated = (
        MessageRating.objects.filter(
            message__role=Role.ASSISTANT,
            message__confidence__isnull=False,
            message__created_at__gte=since,
        )
        .annotate(bin=_confidence_bin("message__confidence"))
        .values("bin", "helpful")
        .annotate(n=Count("pk"))
    )
    for row in rated:
        series["thumbs_up" if row["helpful"] else "thumbs_down"][_clamp(row["bin"])] += row["n"]
    return series


def calibration(since: datetime) -> list[dict[str, Any]]:
    """Per confidence bin: mean confidence, share thumbs-up (of rated), share whose ticket
    was not escalated after the answer."""
    not_escalated_after = Q(ticket__escalated_at__isnull=True) | Q(
        ticket__escalated_at__lt=F("created_at")
    )
    rows = (
        _answers_in(since)
        .values("bin")  # type: ignore[misc]  # _answers_in's annotation, as above
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


def _clamp(bin_index: int | None) -> int:
    return min(max(int(bin_index or 0), 0), BINS - 1)


# --- people and versions -------------------------------------------------------------------


def workload(since: datetime) -> list[dict[str, Any]]:
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


def versions_overview() -> list[dict[str, Any]]:
    versions = list(ModelVersion.objects.order_by("-is_default", "stage", "name"))
    latest: dict[int, ShadowComparison] = {}
    for found in ShadowComparison.objects.select_related("active").order_by("-created_at"):
        latest.setdefault(found.candidate_id, found)
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


# --- service levels ------------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile: a value that occurred, no interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _times(values: list[float]) -> dict[str, float | None]:
    """Median and p90 of business minutes, in hours."""
    median, p90 = _percentile(values, 0.5), _percentile(values, 0.9)
    return {
        "median_h": median / 60 if median is not None else None,
        "p90_h": p90 / 60 if p90 is not None else None,
    }


def _attainment(met: list[bool]) -> float | None:
    return sum(met) / len(met) if met else None


def _sla_rows(since: datetime) -> list[tuple[Any, ...]]:
    """One row per ticket opened since `since` with its clock's outcome. Percentiles take
    the values themselves (SQLite has no percentile function), one query for all of them."""
    return list(
        TicketSla.objects.filter(ticket__created_at__gte=since).values_list(
            "ticket__created_at",
            "first_response_minutes",
            "resolution_minutes",
            "first_response_met",
            "resolution_met",
        )
    )


def _sla_summary(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    first = [r[1] for r in rows if r[1] is not None]
    resolution = [r[2] for r in rows if r[2] is not None]
    first_met = [r[3] for r in rows if r[3] is not None]
    resolution_met = [r[4] for r in rows if r[4] is not None]
    return {
        "first_response": _times(first),
        "resolution": _times(resolution),
        "first_response_attainment": _attainment(first_met),
        "resolution_attainment": _attainment(resolution_met),
        "attainment": _attainment(first_met + resolution_met),
        "measured": len(first_met) + len(resolution_met),
    }


def sla_figures(since: datetime, weekly: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """First-response and resolution times (business hours, median and p90) and the share
    of targets met, over the tickets opened since `since`, and the same per day (or week)
    of opening: one query for both."""
    rows = _sla_rows(since)
    return _sla_summary(rows), _sla_over_time(rows, weekly)


def _sla_over_time(rows: list[tuple[Any, ...]], weekly: bool) -> list[dict[str, Any]]:
    periods: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        opened = timezone.localtime(row[0]).date()
        start = opened - timedelta(days=opened.weekday()) if weekly else opened
        periods.setdefault(start.strftime("%Y-%m-%d"), []).append(row)
    return [{"period": period, **_sla_summary(periods[period])} for period in sorted(periods)]


def resolutions_over_time(since: datetime, weekly: bool) -> list[dict[str, Any]]:
    """Finished tickets opened per period, resolved by the AI alone or by people
    (tickets.outcomes owns the rule)."""
    trunc = TruncWeek("created_at") if weekly else TruncDate("created_at")
    finished = Ticket.objects.filter(created_at__gte=since, status__in=FINISHED_STATUSES)
    rows = (
        with_resolver(finished)
        .annotate(period=trunc)
        .values("period")
        .annotate(
            ai=Count("pk", filter=Q(resolved_by_ai=True)),
            people=Count("pk", filter=Q(resolved_by_ai=False)),
        )
        .order_by("period")
    )
    return [
        {
            "period": row["period"].strftime("%Y-%m-%d") if row["period"] else "",
            "ai": row["ai"],
            "people": row["people"],
        }
        for row in rows
    ]
