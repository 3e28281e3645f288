"""Receivers that keep the clocks current: a ticket's message, event or own row changed."""

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from tickets.models import Message, Ticket, TicketEvent

from .sync import schedule_recompute


@receiver(post_save, sender=Message, dispatch_uid="sla.message_saved")
@receiver(post_save, sender=TicketEvent, dispatch_uid="sla.event_saved")
def _history_changed(sender: type, instance: Message | TicketEvent, **kwargs: Any) -> None:
    schedule_recompute([instance.ticket_id])


@receiver(post_save, sender=Ticket, dispatch_uid="sla.ticket_saved")
def _ticket_changed(sender: type, instance: Ticket, **kwargs: Any) -> None:
    # Priority and category pick the policy; assignment ends a wait in the unassigned queue.
    schedule_recompute([instance.pk])
