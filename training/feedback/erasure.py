"""Erasure of a ticket on request: gone from every later export, earlier exports named."""

from django.contrib.auth.models import User
from django.db import transaction

from access import events
from tickets.models import Ticket

from .models import DataExport, Erasure


def exports_holding(ticket_id: int) -> list[int]:
    """Ids of the recorded exports whose files held the ticket."""
    held = []
    for export_id, ticket_ids in DataExport.objects.values_list("pk", "ticket_ids").iterator():
        if ticket_id in set(ticket_ids or ()):
            held.append(export_id)
    return held


def erase_ticket(ticket_id: int, requested_by: User | None = None) -> Erasure:
    """Delete the ticket (its messages and training examples cascade) and record the erasure.

    The files of earlier exports are not rewritten: the Erasure row names them, so whoever
    holds a copy can be told to delete it.
    """
    with transaction.atomic():
        deleted, _ = Ticket.objects.filter(pk=ticket_id).delete()
        if not deleted:
            raise Ticket.DoesNotExist(f"Ticket #{ticket_id} does not exist")
        erasure = Erasure.objects.create(ticket_id=ticket_id, requested_by=requested_by)
        held = exports_holding(ticket_id)
        erasure.exports.set(held)
        events.ticket_erased(ticket_id, requested_by, exports=held)
    return erasure
