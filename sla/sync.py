"""Keeps each ticket's clock row (TicketSla) in step with its messages, events and policy."""

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tickets.models import EventKind, Message, Role, Status, Ticket, TicketEvent

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
_Turn = tuple[str, datetime]  # a visible message: (role, created_at)
_Event = tuple[str, str, int | None, datetime]  # (kind, to_status, actor_id, created_at)
# What a recomputation writes: every column of the clock row but its ticket.
_CLOCK_COLUMNS = [f.name for f in TicketSla._meta.concrete_fields if not f.primary_key]

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
    recompute_many([ticket_id], now)
    return TicketSla.objects.filter(ticket_id=ticket_id).first()


def recompute_many(ticket_ids: Iterable[int], now: datetime | None = None) -> None:
    """Rebuild these tickets' clocks: one read each of tickets, turns and events, and one
    write for all (an answer job stores 32 answers at once; one ticket at a time cost
    about 5 ms each). Tickets that are gone are left out."""
    now = now or timezone.now()
    tickets = Ticket.objects.in_bulk(list(ticket_ids))
    if not tickets:
        return
    turns, events = _happenings(list(tickets))
    policies: dict[tuple[int, str], SlaPolicy | None] = {}
    clocks = []
    for ticket in tickets.values():
        key = (ticket.priority, ticket.category)
        if key not in policies:
            policies[key] = policy_for(*key)
        fields = _fields(
            ticket, policies[key], turns.get(ticket.pk, []), events.get(ticket.pk, []), now
        )
        clocks.append(TicketSla(ticket_id=ticket.pk, **fields, computed_at=now))
    _save(clocks)


def _fields(
    ticket: Ticket,
    policy: SlaPolicy | None,
    turns: list[_Turn],
    events: list[_Event],
    now: datetime,
) -> dict[str, object]:
    fields: dict[str, object] = {"policy": policy}
    if policy is None:
        return (
            fields
            | _clock_fields(Clock())
            | {"unassigned_since": None, "unassigned_alert_at": None}
        )
    days = calendar_of(policy.calendar)
    targets = Targets(
        first_response=policy.first_response_minutes,
        next_response=policy.next_response_minutes,
        resolution=policy.resolution_minutes,
    )
    escalated, history = _history(ticket, turns, events)
    clock = compute(ticket.created_at, history, days, targets, now)
    return fields | _clock_fields(clock) | _unassigned_fields(ticket, escalated, days)


def _happenings(ticket_ids: list[int]) -> tuple[dict[int, list[_Turn]], dict[int, list[_Event]]]:
    """The visible turns and the status events of these tickets, by ticket."""
    turns: dict[int, list[_Turn]] = {}
    rows = Message.objects.filter(
        ticket_id__in=ticket_ids, visible_to_user=True, role__in=list(_TURNS)
    ).values_list("ticket_id", "role", "created_at")
    for ticket_id, role, at in rows:
        turns.setdefault(ticket_id, []).append((role, at))
    events: dict[int, list[_Event]] = {}
    found = TicketEvent.objects.filter(
        ticket_id__in=ticket_ids, to_status__in=_EVENT_STATUSES
    ).values_list("ticket_id", "kind", "to_status", "actor_id", "created_at")
    for ticket_id, kind, to_status, actor_id, at in found:
        events.setdefault(ticket_id, []).append((kind, to_status, actor_id, at))
    return turns, events


def _save(clocks: list[TicketSla]) -> None:
    """Write the clocks in one statement: an upsert (INSERT ... ON CONFLICT DO UPDATE, on
    SQLite and PostgreSQL alike) creates a ticket's first clock and updates the others.
    (bulk_update's CASE per field and row took 0.2 s for 32 clocks, more than a query each.)"""
    TicketSla.objects.bulk_create(
        clocks, update_conflicts=True, unique_fields=["ticket"], update_fields=_CLOCK_COLUMNS
    )


def _history(
    ticket: Ticket, turns: list[_Turn], events: list[_Event]
) -> tuple[list[datetime], list[tuple[datetime, Happening]]]:
    """(times the ticket became escalated, the happenings the clock reads)."""
    history: list[tuple[datetime, Happening]] = [(at, _TURNS[Role(role)]) for role, at in turns]
    escalated: list[datetime] = []
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
        try:
            recompute_many(sorted(self.ticket_ids))
            return
        except Exception:
            log.exception("Could not recompute the SLA clocks together; one at a time")
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
    recompute_many(ids)
    return ids[-1] if ids else None
