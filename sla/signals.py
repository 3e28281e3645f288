"""Receivers that keep the clocks current: a ticket's message, event or own row changed, or
the policies and calendars they are measured by."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from tickets.models import Message, Ticket, TicketEvent

from .models import BusinessCalendar, SlaPolicy
from .sync import enqueue_recompute_all, schedule_recompute


@receiver(post_save, sender=Message, dispatch_uid="sla.message_saved")
@receiver(post_save, sender=TicketEvent, dispatch_uid="sla.event_saved")
def _history_changed(sender: type, instance: Message | TicketEvent, **kwargs: Any) -> None:
    schedule_recompute([instance.ticket_id])


@receiver(post_save, sender=Ticket, dispatch_uid="sla.ticket_saved")
def _ticket_changed(sender: type, instance: Ticket, **kwargs: Any) -> None:
    # Priority and category pick the policy; assignment ends a wait in the unassigned queue.
    schedule_recompute([instance.pk])


@receiver(post_save, sender=SlaPolicy, dispatch_uid="sla.policy_saved")
@receiver(post_save, sender=BusinessCalendar, dispatch_uid="sla.calendar_saved")
def _targets_changed(sender: type, instance: SlaPolicy | BusinessCalendar, **kwargs: Any) -> None:
    # New targets or hours move the due times of every ticket still open.
    transaction.on_commit(enqueue_recompute_all)
