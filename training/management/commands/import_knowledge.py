"""Import knowledge: folders of Markdown articles, and CSV / chat JSONL question-answer
pairs as solved cases (redacted). Safe to run again: what is already there is skipped.

    python manage.py import_knowledge knowledge/starter
    python manage.py import_knowledge ../shared/data/curated/train.jsonl
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from knowledge.importing import ImportReport, count_items, import_articles, import_cases


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="article folders, .csv or .jsonl files")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args: object, **options: Any) -> None:
        from tqdm import tqdm

        paths = [Path(p) for p in options["paths"]]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CommandError(f"Not found: {', '.join(missing)}")
        report = ImportReport()
        redact = _redactor()
        with tqdm(total=count_items(paths), disable=options["quiet"], unit="item") as bar:
            for path in paths:
                if path.is_dir():
                    import_articles(path, report, bar.update)
                elif path.suffix in (".csv", ".jsonl"):
                    import_cases(path, report, redact, bar.update)
                else:
                    report.skipped[f"{path.name}: not a folder, .csv or .jsonl"] += 1
        self.stdout.write(json.dumps(report.as_dict(), indent=2))


def _redactor():
    """The export's redaction, so imported cases hold no secrets either (why this command
    lives on the training side: knowledge never imports training)."""
    from training.feedback.redaction import RedactionReport, redact

    report = RedactionReport()
    return lambda text: redact(text, report)
