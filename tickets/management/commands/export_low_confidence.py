"""Export the answers the gate held back, in the seed chatbot's low_confidence_log.csv layout."""

import csv
import sys
from collections.abc import Iterator

from django.core.management.base import BaseCommand, CommandParser

from tickets.models import Message, Role

# The seed wrote these columns, in this order; its retraining scripts read them.
SEED_COLUMNS = ["prompt", "response", "confidence"]


def weak_answers() -> Iterator[tuple[str, str, float | None]]:
    """(question, draft, confidence) for every answer below its version's threshold."""
    drafts = (
        Message.objects.filter(role=Role.ASSISTANT, passed_gate=False)
        .order_by("created_at", "pk")
        .values_list("ticket_id", "pk", "body", "confidence")
    )
    for ticket_id, draft_id, body, confidence in drafts.iterator(chunk_size=2000):
        question = (
            Message.objects.filter(ticket_id=ticket_id, role=Role.USER, pk__lt=draft_id)
            .order_by("-pk")
            .values_list("body", flat=True)
            .first()
        )
        yield question or "", body, confidence


class Command(BaseCommand):
    help = "Write low-confidence answers as CSV (prompt, response, confidence), like the seed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default="-", help="CSV path, or - for standard output")

    def handle(self, *args: object, out: str, **options: object) -> None:
        stream = sys.stdout if out == "-" else open(out, "w", newline="", encoding="utf-8")  # noqa: SIM115
        try:
            writer = csv.writer(stream)
            writer.writerow(SEED_COLUMNS)
            rows = 0
            for question, draft, confidence in weak_answers():
                writer.writerow([question, draft, f"{confidence:.4f}"])
                rows += 1
        finally:
            if stream is not sys.stdout:
                stream.close()
        if out != "-":
            self.stdout.write(f"{rows} low-confidence answers written to {out}")
