"""Curate the seed CSV and/or UDC dialogues into train/validation/test chat JSONL."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from training.pipeline.curation import curate_to_dir
from training.pipeline.datasets import register_curated_splits


class Command(BaseCommand):
    help = "Filter, de-duplicate and split question/answer pairs into chat JSONL splits."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed-csv", help="distilled prompt,response CSV of the seed")
        parser.add_argument("--dialogues-csv", help="UDC rows: ,dialogueID,date,from,to,text")
        parser.add_argument("--chat-jsonl", help="chat JSONL, e.g. the distill command's output")
        parser.add_argument("--out", required=True, help="folder for the splits and report.json")
        parser.add_argument("--limit", type=int, default=0, help="rows read per source (0 = all)")
        parser.add_argument("--seed", type=int, default=69, help="seed of the split shuffle")

    def handle(self, *args: object, **options: Any) -> None:
        if not (options["seed_csv"] or options["dialogues_csv"] or options["chat_jsonl"]):
            raise CommandError("Give --seed-csv, --dialogues-csv or --chat-jsonl")
        report = curate_to_dir(
            options["out"],
            seed_csv=options["seed_csv"],
            dialogues_csv=options["dialogues_csv"],
            chat_jsonl=options["chat_jsonl"],
            limit=options["limit"],
            seed=options["seed"],
        )
        self.stdout.write(json.dumps(report, indent=2))
        for dataset in register_curated_splits(options["out"]):
            self.stdout.write(f"Registered dataset {dataset}")
