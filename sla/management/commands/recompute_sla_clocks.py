"""Compute the SLA clock of every ticket (tickets from before the sla app have none)."""

from typing import Any

from django.core.management.base import BaseCommand

from sla.sync import RECOMPUTE_CHUNK, recompute_many
from tickets.models import Ticket


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        done, after = 0, 0
        tickets = Ticket.objects.order_by("pk").values_list("pk", flat=True)
        while chunk := list(tickets.filter(pk__gt=after)[:RECOMPUTE_CHUNK]):
            recompute_many(chunk)
            done, after = done + len(chunk), chunk[-1]
        self.stdout.write(f"{done} clocks computed")
