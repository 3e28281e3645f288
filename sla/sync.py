"""Keeps each ticket's clock row (TicketSla) in step with its messages, events and policy."""

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets.models import EventKind, Role, Status, Ticket

from . import calendar as business
from .clock import Clock, Happening, Targets, compute
from .models import NOTHING_DUE, BusinessCalendar, SlaPolicy, TicketSla

log = logging.getLogger(__name__)

# Visible messages that are turns of the conversation (system notices are not), by who.
_TURNS = {
    Role.USER: Happening.USER_WROTE,
    Role.ASSISTANT: Happening.RESPONDED,  # visible only when it passed the gate
    Role.AGENT: Happening.RESPONDED,
}
_EVENT_STATUSES = (Status.ESCALATED, Status.RESOLVED, Status.CLOSED, Status.REOPENED)

# Calendars by (pk, updated_at): hours and holidays are read again only after a change.
_calendars: dict[tuple[int, datetime], business.Calendar] = {}


def calendar_of(found: BusinessCalendar) -> business.Calendar:
    key = (found.pk, found.updated_at)
    if key not in _calendars:
        if len(_calendars) > 100:
            _calendars.clear()
        _calendars[key] = found.to_calendar()
    return _calendars[key]


def policy_for(priority: int, category: str) -> SlaPolicy | None:
    """The category's own policy for the priority, else the priority's general one."""
    return (
        SlaPolicy.objects.select_related("calendar")
        .filter(priority=priority, category__in=[category, ""])
        .order_by("-category")
        .first()
    )


def recompute(ticket_id: int, now: datetime | None = None) -> TicketSla | None:
    """Rebuild the ticket's clock from its history; None if the ticket is gone."""
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return None
    now = now or timezone.now()
    policy = policy_for(ticket.priority, ticket.category)
    fields: dict[str, object] = {"policy": policy}
    if policy is not None:
        days = calendar_of(policy.calendar)
        targets = Targets(
            first_response=policy.first_response_minutes,
            next_response=policy.next_response_minutes,
            resolution=policy.resolution_minutes,
        )
        escalated, history = _history(ticket)
        clock = compute(ticket.created_at, history, days, targets, now)
        fields |= _clock_fields(clock)
        fields |= _unassigned_fields(ticket, escalated, days)
    else:
        fields |= _clock_fields(Clock()) | {"unassigned_since": None, "unassigned_alert_at": None}
    if not TicketSla.objects.filter(ticket_id=ticket.pk).update(**fields, computed_at=now):
        TicketSla.objects.get_or_create(ticket_id=ticket.pk, defaults=fields)
    return TicketSla.objects.get(ticket_id=ticket.pk)


def _history(ticket: Ticket) -> tuple[list[datetime], list[tuple[datetime, Happening]]]:
    """(times the ticket became escalated, the happenings the clock reads)."""
    history: list[tuple[datetime, Happening]] = []
    turns = ticket.messages.filter(visible_to_user=True, role__in=list(_TURNS)).values_list(
        "role", "created_at"
    )
    history += [(at, _TURNS[Role(role)]) for role, at in turns]
    escalated: list[datetime] = []
    events = ticket.events.filter(to_status__in=_EVENT_STATUSES).values_list(
        "kind", "to_status", "actor_id", "created_at"
    )
    for kind, to_status, actor_id, at in events:
        if to_status == Status.ESCALATED:
            escalated.append(at)
            # The user asked for a person, or the assistant handed over: the user waits.
            # An agent taking a ticket on their own does not make anyone wait.
            if kind == EventKind.ESCALATED and actor_id in (None, ticket.requester_id):
                history.append((at, Happening.ESCALATED))
        elif to_status == Status.REOPENED:
            history.append((at, Happening.REOPENED))
        else:
            history.append((at, Happening.FINISHED))
    return escalated, history


def _clock_fields(clock: Clock) -> dict[str, object]:
    return {
        "first_response_due": clock.first_response_due,
        "first_response_at": clock.first_response_at,
        "next_response_due": clock.next_response_due,
        "resolution_due": clock.resolution_due,
        "resolved_at": clock.resolved_at,
        "waiting_since": clock.waiting_since,
        "paused_since": clock.paused_since,
        "next_due_at": clock.next_due_at,
        "urgency": clock.next_due_at or NOTHING_DUE,
        "next_target": clock.next_target,
        "breached_at": clock.breached_at,
        "first_response_minutes": clock.first_response_minutes,
        "resolution_minutes": clock.resolution_minutes,
        "first_response_met": clock.first_response_met,
        "resolution_met": clock.resolution_met,
    }


def _unassigned_fields(
    ticket: Ticket, escalated: list[datetime], days: business.Calendar
) -> dict[str, object]:
    """An escalated ticket nobody holds waits unassigned since it last became escalated;
    the managers hear of it after SLA_UNASSIGNED_ALERT_MINUTES business minutes."""
    if ticket.status != Status.ESCALATED or ticket.assigned_to_id is not None or not escalated:
        return {"unassigned_since": None, "unassigned_alert_at": None}
    since = max(escalated)
    return {
        "unassigned_since": since,
        "unassigned_alert_at": business.add_business_minutes(
            days, since, settings.SLA_UNASSIGNED_ALERT_MINUTES
        ),
    }


# --- after commit, once per ticket per transaction ----------------------------------------


class _Recompute:
    """The on-commit callback of one transaction: every ticket it touched, once."""

    def __init__(self) -> None:
        self.ticket_ids: set[int] = set()
        self.ran = False

    def __call__(self) -> None:
        self.ran = True
        for ticket_id in sorted(self.ticket_ids):
            try:
                recompute(ticket_id)
            except Exception:
                # A clock is derived data: the next change or the alert sweep rebuilds it.
                log.exception("Could not recompute the SLA clock of ticket #%s", ticket_id)


def schedule_recompute(ticket_ids: Iterable[int]) -> None:
    """Recompute these tickets' clocks after the current transaction commits (at once
    outside one); a transaction that saves ten messages recomputes its ticket once."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _, callback, _ in connection.run_on_commit:
            if isinstance(callback, _Recompute) and not callback.ran:
                callback.ticket_ids.update(ticket_ids)
                return
    pending = _Recompute()
    pending.ticket_ids.update(ticket_ids)
    transaction.on_commit(pending)


# --- every open ticket, after a policy or calendar change ---------------------------------

RECOMPUTE_TASK = "sla.tasks.recompute_clocks"
# Tickets per task run: about 5 ms each, so a run stays seconds, far inside the default
# queue's limit, and the next chunk goes as a task of its own.
RECOMPUTE_CHUNK = 500


def enqueue_recompute_all() -> None:
    from helpdesk.celery import app

    try:
        app.send_task(RECOMPUTE_TASK, kwargs={"after_id": 0})
    except Exception:
        log.exception("Could not enqueue the recomputation of the SLA clocks")


def recompute_chunk(after_id: int) -> int | None:
    """Recompute the next chunk of unfinished tickets after `after_id`; the last id done,
    or None when none are left."""
    ids = list(
        Ticket.objects.filter(pk__gt=after_id)
        .exclude(status__in=(Status.RESOLVED, Status.CLOSED))
        .order_by("pk")
        .values_list("pk", flat=True)[:RECOMPUTE_CHUNK]
    )
    for ticket_id in ids:
        recompute(ticket_id)
    return ids[-1] if ids else None
