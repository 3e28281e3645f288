"""Fit a model version's gate on labelled answers and gate the version with it.

python manage.py fit_gate --version NAME --dataset NAME [--target-accuracy 0.8]
    [--confidence 0.95] [--limit N] [--no-desk]
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.models import ModelVersion
from jobs.models import JobStatus
from training.pipeline.evaluation import DEFAULT_CONFIDENCE, DEFAULT_TARGET_ACCURACY
from training.pipeline.gate import fit_gate_here
from training.pipeline.models import Dataset


class Command(BaseCommand):
    help = (
        "Fit a calibrated classifier of P(answer is right) for a version, on a labelled "
        "dataset it answers and the desk's outcomes, with a threshold for a target accuracy."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: object):
        # --version names a model version here, not Django's version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--version", required=True, help="name of the ModelVersion")
        parser.add_argument("--dataset", help="name of a registered labelled chat JSONL")
        parser.add_argument("--limit", type=int, default=0, help="dataset rows (0 = all)")
        parser.add_argument("--target-accuracy", type=float, default=DEFAULT_TARGET_ACCURACY)
        parser.add_argument("--confidence", type=float, default=DEFAULT_CONFIDENCE)
        parser.add_argument(
            "--no-desk", action="store_true", help="leave out the desk's own outcomes"
        )

    def handle(self, *args: object, **options: Any) -> None:
        version = ModelVersion.objects.filter(name=options["version"]).first()
        if version is None:
            raise CommandError(f"No model version named {options['version']!r}")
        dataset = None
        if options["dataset"]:
            dataset = Dataset.objects.filter(name=options["dataset"]).first()
            if dataset is None:
                raise CommandError(
                    f"No registered dataset named {options['dataset']!r} (register_dataset)"
                )
        elif options["no_desk"]:
            raise CommandError("Nothing to learn from: give --dataset, or leave the desk in.")
        if not 0 < options["target_accuracy"] <= 1 or not 0.5 <= options["confidence"] < 1:
            raise CommandError("--target-accuracy must be in (0, 1], --confidence in [0.5, 1)")
        fit = fit_gate_here(
            version,
            dataset,
            limit=options["limit"],
            desk_outcomes=not options["no_desk"],
            target_accuracy=options["target_accuracy"],
            confidence=options["confidence"],
        )
        if fit.status != JobStatus.SUCCEEDED:
            raise CommandError(f"gate fit {fit.pk} {fit.status}: {fit.error}")
        self.stdout.write(json.dumps(fit.metrics, indent=2))
        if fit.metrics.get("applied"):
            self.stdout.write(
                self.style.SUCCESS(
                    f"{version.name} is now gated by {fit.gate_path} "
                    f"(P(right) >= {fit.metrics['threshold']:.3f})"
                )
            )
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"No threshold reaches accuracy {fit.target_accuracy} at confidence "
                    f"{fit.confidence} on the held-out answers: {version.name} keeps its gate. "
                    f"The fitted gate is at {fit.gate_path}."
                )
            )
