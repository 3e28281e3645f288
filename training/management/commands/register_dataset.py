"""Register a chat JSONL file already on the workers' disk (e.g. distilled teacher data to
replay), so managers can pick it in the admin."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from training.pipeline.datasets import InvalidDataset, register_dataset
from training.pipeline.models import DatasetSplit


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="chat JSONL file")
        parser.add_argument("--split", choices=DatasetSplit.values, default=DatasetSplit.ALL)
        parser.add_argument("--name", default="", help="name shown in the admin")

    def handle(self, *args: object, **options: Any) -> None:
        try:
            dataset = register_dataset(
                options["path"], split=options["split"], name=options["name"]
            )
        except InvalidDataset as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Registered {dataset} at {dataset.path}"))
