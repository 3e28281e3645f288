"""Promote a candidate version to active (or roll back to the previous one)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.models import ModelVersion
from training.releases.promotion import PromotionRefused, promote, rollback


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", nargs="?", help="the candidate version's name")
        parser.add_argument("--override", default="", help="reason to promote without a pass")
        parser.add_argument("--rollback", action="store_true", help="back to the previous one")

    def handle(self, *args: object, **options: Any) -> None:
        try:
            if options["rollback"]:
                promotion = rollback(None)
            else:
                if not options["name"]:
                    raise CommandError("Name the version to promote, or pass --rollback.")
                version = ModelVersion.objects.filter(name=options["name"]).first()
                if version is None:
                    raise CommandError(f"No model version named {options['name']!r}")
                promotion = promote(version, None, override_reason=options["override"])
        except PromotionRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"{promotion.version.name} is now active."))
