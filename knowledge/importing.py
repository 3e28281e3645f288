"""Importing knowledge: Markdown articles from a folder, and question-answer pairs (CSV with
prompt/response or question/answer columns, or chat JSONL) as solved cases. Resumable: an
unchanged article or an already imported pair is skipped, so a run that stopped can simply
be started again."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .articles import InvalidArticle, read_article_file, upsert_article
from .index import index_article, index_cases
from .models import CaseSource, SolvedCase
from .signals import indexing_here

CASE_BATCH = 256  # cases written and embedded together


@dataclass
class ImportReport:
    articles: int = 0
    cases: int = 0
    skipped: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {"articles": self.articles, "cases": self.cases, "skipped": dict(self.skipped)}


Redact = Callable[[str], str]
Tick = Callable[[int], object]  # its return is ignored (tqdm.update returns one)


def import_articles(folder: Path, report: ImportReport, tick: Tick = lambda n: None) -> None:
    for path in sorted(folder.rglob("*.md")):
        tick(1)
        try:
            file = read_article_file(path)
        except (InvalidArticle, UnicodeDecodeError) as exc:
            report.skipped[f"{path.name}: {exc}"] += 1
            continue
        with indexing_here():
            article, changed = upsert_article(file, origin=f"import:{path.relative_to(folder)}")
        if changed:
            index_article(article.pk)  # here and now: the command is the worker
            report.articles += 1
        else:
            report.skipped["article unchanged"] += 1


def import_cases(
    path: Path, report: ImportReport, redact: Redact, tick: Tick = lambda n: None
) -> None:
    batch: list[SolvedCase] = []
    for key, question, answer in _pairs(path, report):
        tick(1)
        batch.append(
            SolvedCase(
                source=CaseSource.IMPORTED,
                source_key=key,
                question=redact(question),
                answer=redact(answer),
            )
        )
        if len(batch) >= CASE_BATCH:
            _store(batch, report)
            batch = []
    _store(batch, report)


def _store(batch: list[SolvedCase], report: ImportReport) -> None:
    if not batch:
        return
    known = set(
        SolvedCase.objects.filter(
            source=CaseSource.IMPORTED, source_key__in=[c.source_key for c in batch]
        ).values_list("source_key", flat=True)
    )
    new = [case for case in batch if case.source_key not in known]
    report.skipped["case already imported"] += len(batch) - len(new)
    # bulk_create sends no post_save: these are embedded right here, in one batch.
    created = SolvedCase.objects.bulk_create(new)
    index_cases([case.pk for case in created])
    report.cases += len(created)


def _pairs(path: Path, report: ImportReport) -> Iterator[tuple[str, str, str]]:
    reader = _jsonl_pairs if path.suffix == ".jsonl" else _csv_pairs
    for number, question, answer in reader(path, report):
        question, answer = question.strip(), answer.strip()
        if not question or not answer:
            report.skipped["empty question or answer"] += 1
            continue
        yield f"{path.name}:{number}", question, answer


def _csv_pairs(path: Path, report: ImportReport) -> Iterator[tuple[int, str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=1):
            question = row.get("question") or row.get("prompt") or ""
            answer = row.get("answer") or row.get("response") or ""
            # The seed's prompts are wrapped as "User: ...\nAssistant:".
            question = question.removeprefix("User:").split("\nAssistant:")[0]
            yield number, question, answer


def _jsonl_pairs(path: Path, report: ImportReport) -> Iterator[tuple[int, str, str]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                messages = json.loads(line)["messages"]
                question = next(m["content"] for m in messages if m["role"] == "user")
                answer = next(m["content"] for m in reversed(messages) if m["role"] == "assistant")
            except (ValueError, KeyError, TypeError, StopIteration):
                report.skipped["not a chat line with a question and an answer"] += 1
                continue
            yield number, question, answer


def count_items(paths: list[Path]) -> int:
    """For the progress bar: articles and lines to go through."""
    total = 0
    for path in paths:
        if path.is_dir():
            total += sum(1 for _ in path.rglob("*.md"))
        else:
            with path.open(encoding="utf-8", errors="replace") as handle:
                total += sum(1 for line in handle if line.strip())
    return total
