"""SLA warnings, breach alerts and unassigned-wait alerts: found, claimed once, then told.

Each occasion (ticket, target, kind, due time) is one SlaAlert row, inserted in the same
transaction as the notifications it sends: a second beat, a retry or a restart finds the
row and sends nothing; a crash before the commit leaves neither, and the next run sends.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.formats import date_format

from access.matrix import MANAGERS
from notifications.api import notify
from notifications.models import Event

from .models import AlertKind, AlertTarget, SlaAlert, TicketSla
from .sync import recompute_many

log = logging.getLogger(__name__)

_EVENTS = {AlertKind.WARNING: Event.SLA_WARNING, AlertKind.BREACH: Event.SLA_BREACHED}


@dataclass(frozen=True)
class Occasion:
    ticket_id: int
    target: AlertTarget
    kind: AlertKind
    due_at: datetime

    @property
    def key(self) -> str:
        # In microseconds, as the row's due_at: two waits begun within a second are two
        # occasions (given back to the queue at once after a take).
        due = round(self.due_at.timestamp() * 1_000_000)
        return f"sla-{self.kind}:{self.ticket_id}:{self.target}:{due}"


def pending_targets(clock: TicketSla) -> list[tuple[AlertTarget, datetime]]:
    """The targets still ahead of the desk on this clock, with their due times."""
    found: list[tuple[AlertTarget, datetime]] = []
    if clock.waiting_since is not None:
        if clock.next_response_due is not None:
            found.append((AlertTarget.NEXT_RESPONSE, clock.next_response_due))
        elif clock.first_response_at is None and clock.first_response_due is not None:
            found.append((AlertTarget.FIRST_RESPONSE, clock.first_response_due))
    if clock.resolved_at is None and clock.resolution_due is not None:
        found.append((AlertTarget.RESOLUTION, clock.resolution_due))
    if clock.unassigned_alert_at is not None:
        found.append((AlertTarget.UNASSIGNED, clock.unassigned_alert_at))
    return found


def occasions_of(clock: TicketSla, now: datetime) -> list[Occasion]:
    """What this clock calls for now: a breach once due, a warning within the lead time
    before (none once due: the breach says it); a long unassigned wait at its time."""
    lead = timedelta(seconds=settings.SLA_WARNING_LEAD_S)
    found = []
    for target, due in pending_targets(clock):
        if due <= now:
            found.append(Occasion(clock.ticket_id, target, AlertKind.BREACH, due))
        elif due <= now + lead and target is not AlertTarget.UNASSIGNED:
            found.append(Occasion(clock.ticket_id, target, AlertKind.WARNING, due))
    return found


def _candidates(now: datetime) -> set[int]:
    """Tickets with a target in the alert window that has not had its alert yet (by the
    stored clocks; each is recomputed before anything is sent)."""
    window = now + timedelta(seconds=settings.SLA_WARNING_LEAD_S)
    by_target = {
        AlertTarget.FIRST_RESPONSE: (
            "first_response_due",
            Q(waiting_since__isnull=False, first_response_at__isnull=True),
        ),
        AlertTarget.NEXT_RESPONSE: ("next_response_due", Q(waiting_since__isnull=False)),
        AlertTarget.RESOLUTION: ("resolution_due", Q(resolved_at__isnull=True)),
        AlertTarget.UNASSIGNED: ("unassigned_alert_at", Q()),
    }
    ids: set[int] = set()
    for target, (field, pending) in by_target.items():
        alerted = SlaAlert.objects.filter(
            ticket=OuterRef("ticket"), target=target, due_at=OuterRef(field)
        )
        breach_sent = Exists(alerted.filter(kind=AlertKind.BREACH))
        warning_sent = Exists(alerted.filter(kind=AlertKind.WARNING))
        until = now if target is AlertTarget.UNASSIGNED else window
        due = Q(**{f"{field}__lte": now})
        rows = TicketSla.objects.filter(pending, **{f"{field}__lte": until}).filter(
            ~breach_sent & (due | ~warning_sent)
        )
        ids.update(rows.values_list("ticket_id", flat=True))
    return ids


def send_due_alerts(now: datetime | None = None) -> dict[str, int]:
    """Send every warning and alert due now; returns how many occasions of each kind."""
    now = now or timezone.now()
    sent = {AlertKind.WARNING.value: 0, AlertKind.BREACH.value: 0}
    candidates = sorted(_candidates(now))
    # Clocks rebuilt together first (one read of the tickets' history, one write), then
    # read back in one query: a sweep may find hundreds of tickets near a due time.
    recompute_many(candidates, now)
    clocks = TicketSla.objects.in_bulk(candidates)
    for ticket_id in candidates:
        if ticket_id not in clocks:
            continue  # the ticket is gone
        for occasion in occasions_of(clocks[ticket_id], now):
            if _claim_and_tell(occasion, now):
                sent[occasion.kind] += 1
    return sent


def _claim_and_tell(occasion: Occasion, now: datetime) -> bool:
    """Insert the occasion's row and tell its people in one transaction; False if another
    run has the row already."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                alert = SlaAlert.objects.create(
                    ticket_id=occasion.ticket_id,
                    target=occasion.target,
                    kind=occasion.kind,
                    due_at=occasion.due_at,
                )
        except IntegrityError:
            return False  # sent by another run: a retry, a restart or a second beat
        clock = TicketSla.objects.select_related("ticket__assigned_to").get(
            ticket_id=occasion.ticket_id
        )
        people = recipients(clock, occasion.target)
        event = (
            Event.UNASSIGNED_WAITING
            if occasion.target is AlertTarget.UNASSIGNED
            else _EVENTS[occasion.kind]
        )
        context = _context(clock, occasion, now)
        for person in people:
            notify(event, person, ticket=clock.ticket, key=occasion.key, context=context)
        alert.recipients = len(people)
        alert.save(update_fields=["recipients"])
        if occasion.kind is AlertKind.BREACH and occasion.target is not AlertTarget.UNASSIGNED:
            TicketSla.objects.filter(
                Q(breached_at__isnull=True) | Q(breached_at__gt=occasion.due_at),
                ticket_id=occasion.ticket_id,
            ).update(breached_at=occasion.due_at)
    log.info("SLA %s sent for %s to %d people", occasion.kind, occasion.key, len(people))
    return True


def recipients(clock: TicketSla, target: AlertTarget) -> list[User]:
    """The assigned agent (not for the unassigned queue, which has none) and the managers."""
    people: dict[int, User] = {}
    agent = clock.ticket.assigned_to
    if agent is not None and agent.is_active and target is not AlertTarget.UNASSIGNED:
        people[agent.pk] = agent
    managers = get_user_model().objects.filter(groups__name=MANAGERS, is_active=True)
    for manager in managers.order_by("pk"):
        people.setdefault(manager.pk, manager)
    return list(people.values())


def _context(clock: TicketSla, occasion: Occasion, now: datetime) -> dict[str, str]:
    if occasion.target is AlertTarget.UNASSIGNED:
        since = clock.unassigned_since or occasion.due_at
        minutes = int((now - since).total_seconds() // 60)
        return {"waiting": f"{minutes} minutes"}
    local = timezone.localtime(occasion.due_at)
    return {
        "target": occasion.target.label,
        "due_at": date_format(local, "DATETIME_FORMAT"),
    }
