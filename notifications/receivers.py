"""The triggers: which of the helpdesk's events tell whom.

Each receiver notes what happened while the ticket's transaction runs and tells people once
it commits (nothing is said about work that was rolled back, and a failure here never undoes
the ticket's own change). Nobody is told about their own action.
"""

import logging
from collections.abc import Callable
from functools import partial

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from tickets.models import EventKind, Message, Role, Status, Ticket, TicketEvent
from tickets.signals import agent_replied, ticket_changed_hands

from .api import notify
from .content import excerpt
from .models import Event

log = logging.getLogger(__name__)

_ASSIGNMENTS = (EventKind.ASSIGNED, EventKind.REASSIGNED)


@receiver(post_save, sender=TicketEvent, dispatch_uid="notifications.ticket_event")
def _on_ticket_event(sender: type, instance: TicketEvent, created: bool, **kwargs: object) -> None:
    """Assignments (auto-assignment, take, reassign) and resolutions, from the audit trail
    that every transition writes."""
    if not created:
        return
    if instance.kind in _ASSIGNMENTS and instance.ticket.assigned_to_id is not None:
        # The ticket in hand is the one just assigned: its assignee is this event's.
        after_commit(tell_assignee, instance.pk, instance.ticket.assigned_to_id)
    elif instance.to_status == Status.RESOLVED:
        after_commit(tell_requester_resolved, instance.pk)


@receiver(post_save, sender=Message, dispatch_uid="notifications.user_message")
def _on_message(sender: type, instance: Message, created: bool, **kwargs: object) -> None:
    """The requester wrote on a ticket a person holds (a reply to a resolved one reopens it
    with its agent)."""
    if not created or instance.role != Role.USER:
        return  # before reading the ticket: every other message is saved without a query more
    ticket = instance.ticket
    if ticket.assigned_to_id is not None and ticket.status != Status.CLOSED:
        after_commit(tell_assignee_of_user_reply, instance.pk, ticket.assigned_to_id)


@receiver(agent_replied, dispatch_uid="notifications.agent_replied")
def _on_agent_reply(sender: type, message: Message, **kwargs: object) -> None:
    after_commit(tell_requester_of_reply, message.pk)


@receiver(ticket_changed_hands, dispatch_uid="notifications.ticket_changed_hands")
def _on_changed_hands(
    sender: type, ticket: Ticket, previous: User, actor: User | None, **kwargs: object
) -> None:
    """The agent who held a ticket hears that a colleague has it now (a takeover, or a
    manager's reassignment), unless they gave it away themselves."""
    if actor is None or actor.pk != previous.pk:
        after_commit(tell_previous_holder, ticket.pk, previous.pk)


def after_commit(tell: Callable[..., None], *args: int) -> None:
    transaction.on_commit(partial(_safely, tell, *args))


def _safely(tell: Callable[..., None], *args: int) -> None:
    # A notification that cannot be made must not fail the request that made the change.
    try:
        tell(*args)
    except Exception:
        log.exception("Could not notify (%s%s)", tell.__name__, args)


# --- who is told what --------------------------------------------------------


def tell_assignee(event_id: int, assignee_id: int) -> None:
    event = TicketEvent.objects.select_related("ticket").get(pk=event_id)
    if event.actor_id == assignee_id:
        return  # they took it themselves
    assignee = User.objects.get(pk=assignee_id)
    by = event.actor.get_full_name() or event.actor.get_username() if event.actor else ""
    notify(
        Event.TICKET_ASSIGNED,
        assignee,
        ticket=event.ticket,
        key=f"assigned:{event.pk}",
        context={"by": by},
    )


def tell_previous_holder(ticket_id: int, previous_id: int) -> None:
    ticket = Ticket.objects.select_related("assigned_to").get(pk=ticket_id)
    holder = ticket.assigned_to
    if holder is None or holder.pk == previous_id or ticket.assigned_at is None:
        return  # it came back to them, or went back to the queue, before this ran
    notify(
        Event.TICKET_TAKEN,
        User.objects.get(pk=previous_id),
        ticket=ticket,
        # One handover, one notification: the assignment's time names it.
        key=f"taken:{ticket.pk}:{ticket.assigned_at.isoformat()}",
        context={"to": holder.get_full_name() or holder.get_username()},
    )


def tell_requester_resolved(event_id: int) -> None:
    event = TicketEvent.objects.select_related("ticket__requester").get(pk=event_id)
    ticket = event.ticket
    if event.actor_id == ticket.requester_id:
        return  # "this solved it": the user knows
    notify(Event.TICKET_RESOLVED, ticket.requester, ticket=ticket, key=f"resolved:{event.pk}")


def tell_assignee_of_user_reply(message_id: int, assignee_id: int) -> None:
    message = Message.objects.select_related("ticket").get(pk=message_id)
    if message.author_id == assignee_id:
        return
    assignee = User.objects.get(pk=assignee_id)
    notify(
        Event.USER_REPLIED,
        assignee,
        ticket=message.ticket,
        key=f"user-replied:{message.pk}",
        context={"excerpt": excerpt(message.body)},
    )


def tell_requester_of_reply(message_id: int) -> None:
    message = Message.objects.select_related("ticket__requester", "author").get(pk=message_id)
    # Only what the user may read: internal notes and hidden drafts never reach them.
    if message.role != Role.AGENT or not message.visible_to_user:
        return
    ticket: Ticket = message.ticket
    if message.author_id == ticket.requester_id:
        return
    author = message.author
    notify(
        Event.AGENT_REPLIED,
        ticket.requester,
        ticket=ticket,
        key=f"agent-replied:{message.pk}",
        context={
            "excerpt": excerpt(message.body),
            "agent_name": (author.first_name or author.get_username()) if author else "",
        },
    )
