"""Have a teacher LM answer dialogue questions into a resumable chat JSONL."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from training.pipeline.distillation import DEFAULT_MAX_NEW_TOKENS, DistillConfig, distill


class Command(BaseCommand):
    help = "Distil a teacher's answers; rerun to resume after an interruption."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--teacher", required=True, help="folder of a HF causal LM")
        parser.add_argument("--prompts", required=True, help="UDC dialogues CSV or chat JSONL")
        parser.add_argument("--out", required=True, help="chat JSONL to append to")
        parser.add_argument("--batch-size", type=int, default=8)
        parser.add_argument("--max-new-tokens", type=int, default=DEFAULT_MAX_NEW_TOKENS)
        parser.add_argument("--limit", type=int, default=0, help="questions in all (0 = all)")
        parser.add_argument("--prompt-format", default="auto")

    def handle(self, *args: object, **options: Any) -> None:
        config = DistillConfig(
            teacher_path=options["teacher"],
            prompts_path=options["prompts"],
            out_path=options["out"],
            batch_size=options["batch_size"],
            max_new_tokens=options["max_new_tokens"],
            limit=options["limit"],
            prompt_format=options["prompt_format"],
        )
        self.stdout.write(json.dumps(distill(config)))
