"""Auto-assignment: an escalated ticket goes to the available agent with the least work."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from .models import ACTIVE_STATUSES, AgentProfile, EventKind, Status, Ticket, TicketEvent

_NEVER = datetime.datetime.min.replace(tzinfo=datetime.UTC)


def _open_load(user_ids: list[int]) -> dict[int, int]:
    rows = (
        Ticket.objects.filter(assigned_to__in=user_ids, status__in=ACTIVE_STATUSES)
        .values("assigned_to")
        .annotate(n=Count("id"))
    )
    return {row["assigned_to"]: row["n"] for row in rows}


def assign_least_loaded(ticket: Ticket) -> Ticket:
    """Assign an escalated ticket, or leave it in the unassigned queue if nobody is available.

    Locking every available agent's profile row serialises concurrent assignments, so two
    escalations at the same moment cannot both read the same loads and pick the same agent.
    """
    from .lifecycle import assign

    with transaction.atomic():
        profiles = list(
            AgentProfile.objects.select_for_update()
            .filter(available=True, user__is_active=True)
            .order_by("pk")
        )
        if not profiles:
            TicketEvent.objects.create(
                ticket=ticket, kind=EventKind.QUEUED, note="no agent available"
            )
            return ticket
        loads = _open_load([p.user_id for p in profiles])
        chosen = min(
            profiles,
            key=lambda p: (loads.get(p.user_id, 0), p.last_assigned_at or _NEVER, p.pk),
        )
        chosen.last_assigned_at = timezone.now()
        chosen.save(update_fields=["last_assigned_at"])
        return assign(ticket, chosen.user)


def assign_waiting_tickets() -> int:
    """Assign the unassigned queue, oldest escalation first; returns how many were assigned."""
    assigned = 0
    waiting = Ticket.objects.filter(status=Status.ESCALATED, assigned_to=None).order_by(
        "escalated_at", "pk"
    )
    for ticket_id in waiting.values_list("pk", flat=True):
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update().get(pk=ticket_id)
            if ticket.status != Status.ESCALATED or ticket.assigned_to_id is not None:
                continue  # someone took it meanwhile
            if assign_least_loaded(ticket).assigned_to_id is None:
                break  # nobody available any more
            assigned += 1
    return assigned


def set_availability(agent: AbstractBaseUser, available: bool) -> AgentProfile:
    """Agents mark themselves available or away; becoming available drains the queue."""
    profile, _ = AgentProfile.objects.get_or_create(user=agent)
    profile.available = available
    profile.save(update_fields=["available"])
    if available:
        # Runs at once outside a transaction, after the commit inside one.
        transaction.on_commit(assign_waiting_tickets)
    return profile
