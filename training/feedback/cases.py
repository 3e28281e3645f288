"""Solved cases from the feedback loop: an approved correction becomes a case at once, and
so does the agent's answer of a resolved ticket unless a reviewer rejected it. Stored
redacted, like an export; a rejected or reopened example takes its case away."""

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from knowledge.models import CaseSource, SolvedCase
from tickets.models import Status

from .models import ReviewState, TrainingExample
from .redaction import RedactionReport, redact


def case_key(example: TrainingExample) -> str:
    return f"example:{example.pk}"


def wanted_source(example: TrainingExample) -> str | None:
    """Which kind of case the example makes now, or None for no case."""
    if example.review_state == ReviewState.APPROVED:
        return CaseSource.CORRECTION
    if example.review_state == ReviewState.PENDING and example.ticket.status in (
        Status.RESOLVED,
        Status.CLOSED,
    ):
        return CaseSource.RESOLVED
    return None


def sync_cases(examples: Iterable[TrainingExample]) -> None:
    """Make each example's case match its state: created, rewritten or removed."""
    for example in examples:
        _sync(example)


def _sync(example: TrainingExample) -> None:
    source = wanted_source(example)
    key = case_key(example)
    with transaction.atomic():
        stale = SolvedCase.objects.filter(source_key=key)
        if source is None:
            stale.delete()
            return
        stale.exclude(source=source).delete()
        report = RedactionReport()
        question, answer = redact(example.question, report), redact(example.correction, report)
        case = SolvedCase.objects.filter(source=source, source_key=key).first()
        if case is not None and (case.question, case.answer) == (question, answer):
            return
        # A new or rewritten case is embedded again after commit (embedding None).
        SolvedCase.objects.update_or_create(
            source=source,
            source_key=key,
            defaults={
                "ticket": example.ticket,
                "question": question,
                "answer": answer,
                "embedding": None,
            },
        )


def on_ticket_resolved(sender: Any, ticket: Any, **kwargs: Any) -> None:
    sync_cases(TrainingExample.objects.filter(ticket=ticket).select_related("ticket"))
