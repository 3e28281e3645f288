"""Erase a ticket and its training examples; name the earlier exports that held it."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tickets.models import Ticket
from training.feedback.erasure import erase_ticket


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ticket_id", type=int)

    def handle(self, *args: object, **options: Any) -> None:
        try:
            erasure = erase_ticket(options["ticket_id"])
        except Ticket.DoesNotExist as exc:
            raise CommandError(str(exc)) from None
        held = list(erasure.exports.values_list("pk", "path"))
        self.stdout.write(self.style.SUCCESS(f"Ticket #{erasure.ticket_id} erased."))
        for export_id, path in held:
            self.stdout.write(f"  earlier export {export_id} held it: {path}")
        if not held:
            self.stdout.write("  no earlier export held it.")
