"""Compare a candidate version with the active one on recent corrected tickets."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.models import ModelVersion
from training.releases.shadow import DEFAULT_LIMIT, NoActiveVersion, run_shadow_comparison


def _version(name: str) -> ModelVersion:
    try:
        return ModelVersion.objects.get(name=name)
    except ModelVersion.DoesNotExist:
        raise CommandError(f"No model version named {name!r}") from None


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--candidate", required=True, help="name of the candidate version")
        parser.add_argument("--active", help="name of the version to beat (default: default)")
        parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT)

    def handle(self, *args: object, **options: Any) -> None:
        candidate = _version(options["candidate"])
        active = _version(options["active"]) if options["active"] else None
        try:
            comparison = run_shadow_comparison(candidate, active, limit=options["limit"])
        except NoActiveVersion as exc:
            raise CommandError(str(exc)) from None
        report = comparison.report
        for side in ("candidate", "active"):
            figures = {k: v for k, v in report[side].items() if k != "gate"}
            self.stdout.write(f"{side}: {json.dumps(figures)}")
        verdict = "NOT WORSE" if comparison.candidate_not_worse else "WORSE"
        self.stdout.write(
            self.style.SUCCESS(f"comparison {comparison.pk}: candidate {verdict}: ")
            + "; ".join(report["verdict"])
        )
