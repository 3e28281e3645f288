"""Evaluate a model version on a test split and store the report for the admin."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.models import ModelVersion
from training.pipeline.evaluation import (
    DEFAULT_GOOD_BAR,
    DEFAULT_TARGET_ACCURACY,
    evaluate_version,
    summary_of,
)


class Command(BaseCommand):
    help = "Loss, perplexity, ROUGE-L and the confidence gate's quality on a test split."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: object):
        # --version names a model version here, not Django's version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--version", required=True, help="name of the ModelVersion")
        parser.add_argument("--test", required=True, help="chat JSONL test split")
        parser.add_argument("--limit", type=int, default=0, help="test rows (0 = all)")
        parser.add_argument("--good-bar", type=float, default=DEFAULT_GOOD_BAR)
        parser.add_argument("--target-accuracy", type=float, default=DEFAULT_TARGET_ACCURACY)
        parser.add_argument(
            "--out", default=None, help="report folder (default MODELS_DIR/reports/<version>)"
        )

    def handle(self, *args: object, **options: Any) -> None:
        version = ModelVersion.objects.filter(name=options["version"]).first()
        if version is None:
            raise CommandError(f"No model version named {options['version']!r}")
        report = evaluate_version(
            version,
            options["test"],
            limit=options["limit"],
            good_bar=options["good_bar"],
            target_accuracy=options["target_accuracy"],
            out_dir=options["out"],
        )
        self.stdout.write(json.dumps(summary_of(report), indent=2))
        self.stdout.write(f"Report: {version.evaluation['report']}")
