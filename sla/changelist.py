"""The SLA column and filter of the tickets changelist: time left (or overdue) for the next
due target, read from the clock row joined to each ticket (no query per row)."""

from datetime import datetime, timedelta

from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from tickets.models import Ticket

from .models import NOTHING_DUE, AlertTarget, TicketSla

SOON = timedelta(hours=1)

# The tickets' queryset joins its clock row: the column then reads it with no query.
CLOCK_RELATION = "sla"


def clock_of(ticket: Ticket) -> TicketSla | None:
    try:
        return ticket.sla
    except ObjectDoesNotExist:
        return None


def span(delta: timedelta) -> str:
    """A duration as people say it at a glance: 3d 4h, 2h 05m, 12m."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def describe(clock: TicketSla | None, now: datetime) -> tuple[str, str, str]:
    """(text, css class, tooltip) for a ticket's clock."""
    if clock is None or clock.policy_id is None:
        return "–", "sla-none", "No SLA policy applies"
    if clock.next_due_at is None:
        if clock.paused_since is not None:
            return "paused", "sla-paused", "Waiting on the user"
        missed = clock.breached_at is not None
        return ("missed", "sla-missed", "A target was missed") if missed else ("met", "sla-met", "")
    target = AlertTarget(clock.next_target).label if clock.next_target else "Next target"
    due = timezone.localtime(clock.next_due_at).strftime("%Y-%m-%d %H:%M")
    left = clock.next_due_at - now
    if left < timedelta(0):
        return f"overdue {span(left)}", "sla-overdue", f"{target} was due {due}"
    css = "sla-soon" if left <= SOON else "sla-ok"
    return f"{span(left)} left", css, f"{target} due {due}"


@admin.display(description="SLA", ordering=f"{CLOCK_RELATION}__urgency")
def sla_due(ticket: Ticket) -> SafeString:
    text, css, tip = describe(clock_of(ticket), timezone.now())
    return format_html('<span class="{}" title="{}">{}</span>', css, tip, text)


def sorts_by_clock(request: HttpRequest, model_admin: "admin.ModelAdmin[Ticket]") -> bool:
    """Whether the changelist is sorted by the SLA column (its ?o= names the column's index,
    counted as the changelist counts: the action checkbox first when there are actions)."""
    columns = list(model_admin.get_list_display(request))
    if model_admin.get_actions(request):
        columns = ["action_checkbox", *columns]
    if sla_due not in columns:
        return False
    index = str(columns.index(sla_due))
    return index in (part.lstrip("-") for part in request.GET.get(ORDER_VAR, "").split("."))


def with_clocks(
    request: HttpRequest, model_admin: "admin.ModelAdmin[Ticket]", tickets: QuerySet[Ticket]
) -> QuerySet[Ticket]:
    """The tickets with their clock rows joined. Sorted by the SLA column, the tickets with
    something due, most urgent first: filtering on the urgency index lets the database walk
    it in order instead of sorting every ticket (under a millisecond instead of 300 ms at
    100,000 tickets); paused and finished tickets have nothing due and are left out."""
    # The changelist skips list_select_related once a select_related is set: name both.
    related = model_admin.list_select_related
    named = list(related) if isinstance(related, list | tuple) else []
    joined = tickets.select_related(*named, CLOCK_RELATION)
    if sorts_by_clock(request, model_admin):
        return joined.filter(**{f"{CLOCK_RELATION}__urgency__lt": NOTHING_DUE})
    return joined


class SlaFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "sla"

    def lookups(
        self, request: HttpRequest, model_admin: "admin.ModelAdmin[Ticket]"
    ) -> list[tuple[str, str]]:
        return [
            ("breached", "Breached"),
            ("soon", "Due within the hour"),
            ("paused", "Paused: waiting on the user"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        now = timezone.now()
        due = f"{CLOCK_RELATION}__next_due_at"
        if self.value() == "breached":
            # A missed target on record, or one overdue that the sweep has not marked yet.
            return queryset.filter(
                Q(**{f"{CLOCK_RELATION}__breached_at__isnull": False}) | Q(**{f"{due}__lt": now})
            )
        if self.value() == "soon":
            return queryset.filter(**{f"{due}__gte": now, f"{due}__lt": now + SOON})
        if self.value() == "paused":
            return queryset.filter(
                **{f"{CLOCK_RELATION}__paused_since__isnull": False, f"{due}__isnull": True}
            )
        return queryset
