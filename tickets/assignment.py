"""Auto-assignment: who gets an escalated ticket, the available agent with the least work.

It chooses; the lifecycle assigns (`lifecycle.assign_least_loaded`), as it writes every status.
"""

import datetime

from django.contrib.auth.models import User
from django.db.models import Count
from django.utils import timezone

from .models import ACTIVE_STATUSES, AgentProfile, Ticket

_NEVER = datetime.datetime.min.replace(tzinfo=datetime.UTC)


def _open_load(user_ids: list[int]) -> dict[int, int]:
    rows = (
        Ticket.objects.filter(assigned_to__in=user_ids, status__in=ACTIVE_STATUSES)
        .values("assigned_to")
        .annotate(n=Count("id"))
    )
    return {row["assigned_to"]: row["n"] for row in rows}


def choose_agent() -> User | None:
    """The available agent with the fewest open tickets (ties: assigned least recently), or
    None when nobody is available; stamps the chosen agent's last assignment.

    Call it inside the transaction that assigns the ticket. Locking every available agent's
    profile row until that transaction ends serialises concurrent assignments, so two
    escalations at the same moment cannot both read the same loads and pick the same agent.
    """
    profiles = list(
        AgentProfile.objects.select_for_update()
        .filter(available=True, user__is_active=True)
        .order_by("pk")
    )
    if not profiles:
        return None
    loads = _open_load([p.user_id for p in profiles])
    chosen = min(
        profiles,
        key=lambda p: (loads.get(p.user_id, 0), p.last_assigned_at or _NEVER, p.pk),
    )
    chosen.last_assigned_at = timezone.now()
    chosen.save(update_fields=["last_assigned_at"])
    return chosen.user


def record_availability(agent: User, available: bool) -> AgentProfile:
    """Whether `choose_agent` may choose the agent (see `lifecycle.set_availability`)."""
    profile, _ = AgentProfile.objects.get_or_create(user=agent)
    profile.available = available
    profile.save(update_fields=["available"])
    return profile
