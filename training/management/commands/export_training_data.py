"""Export reviewed training examples, redacted, as chat JSONL or CSV split by time."""

from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from tickets.models import CorrectionReason
from training.feedback.export import FORMATS, STATES, ExportFilters, export_examples


def _moment(raw: str) -> datetime:
    moment = parse_datetime(raw)
    if moment is None:
        day = parse_date(raw)
        if day is None:
            raise CommandError(f"not a date or date-time: {raw!r}")
        moment = datetime(day.year, day.month, day.day)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = __doc__

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: object):
        # --version names a model version here, not the program's version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, type=Path, help="train file to write")
        parser.add_argument("--format", choices=FORMATS, default="jsonl")
        parser.add_argument("--since", type=_moment, help="examples created at or after")
        parser.add_argument("--until", type=_moment, help="examples created before")
        parser.add_argument("--version", dest="model_version", help="model version name")
        parser.add_argument("--reason", choices=CorrectionReason.values)
        parser.add_argument("--state", choices=STATES, default="approved")
        parser.add_argument(
            "--validation-fraction",
            type=float,
            default=0.0,
            help="latest share of rows (by ticket time) written to <out>.validation",
        )

    def handle(self, *args: object, **options: Any) -> None:
        filters = ExportFilters(
            since=options["since"],
            until=options["until"],
            version=options["model_version"],
            reason=options["reason"],
            state=options["state"],
        )
        try:
            export = export_examples(
                options["out"],
                fmt=options["format"],
                filters=filters,
                validation_fraction=options["validation_fraction"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        for split in export.redaction_report["files"]:
            self.stdout.write(f"{split['split']}: {split['rows']} rows -> {split['path']}")
        counts = ", ".join(f"{k}={v}" for k, v in export.redaction_report["counts"].items() if v)
        self.stdout.write(f"redacted: {counts or 'nothing'}")
        self.stdout.write(self.style.SUCCESS(f"export {export.pk}: {export.row_count} rows"))
