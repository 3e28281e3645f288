"""Compute the SLA clock of every ticket (tickets from before the sla app have none)."""

from typing import Any

from django.core.management.base import BaseCommand

from sla.sync import recompute
from tickets.models import Ticket


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        done = 0
        for ticket_id in Ticket.objects.order_by("pk").values_list("pk", flat=True).iterator():
            recompute(ticket_id)
            done += 1
        self.stdout.write(f"{done} clocks computed")
