"""Agents' replies become training examples: question, context, the model's draft, the fix."""

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q

from tickets.models import CorrectionReason, Message, MessageRating, Role, Ticket

from .models import ExampleSource, TrainingExample

log = logging.getLogger(__name__)


def record_correction(
    ticket: Ticket,
    answer: Message,
    draft: Message | None = None,
    reason: str = "",
) -> TrainingExample | None:
    """Keep the agent's `answer` as the better reply to the user's latest question.

    Without an explicit `draft`, a hidden low-confidence draft written after that question
    counts as the draft. Returns None when there is no user question to answer.
    """
    question = _latest_question(ticket, before=answer)
    if question is None:
        return None
    if draft is None:
        draft = _hidden_draft(ticket, after=question, before=answer)
    return TrainingExample.objects.create(
        ticket=ticket,
        question_message=question,
        draft_message=draft,
        answer_message=answer,
        context=conversation_before(ticket, question),
        question=question.body,
        draft=draft.body if draft else "",
        correction=answer.body,
        model_version_id=draft.model_version_id if draft else None,
        confidence=draft.confidence if draft else None,
        agent=answer.author if isinstance(answer.author, AbstractBaseUser) else None,
        reason=_reason_for(draft, reason),
        source=_source_for(draft),
    )


def mark_thumbs_down(message: Message) -> int:
    """A user's thumbs-down on an answer an agent already corrected re-labels its examples."""
    return (
        TrainingExample.objects.filter(draft_message=message)
        .exclude(source=ExampleSource.LOW_CONFIDENCE)
        .update(source=ExampleSource.THUMBS_DOWN)
    )


def conversation_before(ticket: Ticket, question: Message) -> list[dict[str, str]]:
    """Turns the user saw before `question`, as chat messages, oldest first (see
    `MessageQuerySet.as_chat`)."""
    return Message.objects.filter(ticket=ticket).filter(_earlier_than(question)).as_chat()


def _earlier_than(message: Message) -> Q:
    return Q(created_at__lt=message.created_at) | Q(
        created_at=message.created_at, pk__lt=message.pk
    )


def _later_than(message: Message) -> Q:
    return Q(created_at__gt=message.created_at) | Q(
        created_at=message.created_at, pk__gt=message.pk
    )


def _latest_question(ticket: Ticket, before: Message) -> Message | None:
    return (
        Message.objects.filter(ticket=ticket, role=Role.USER)
        .filter(_earlier_than(before))
        .order_by("-created_at", "-pk")
        .first()
    )


def _hidden_draft(ticket: Ticket, after: Message, before: Message) -> Message | None:
    return (
        Message.objects.filter(ticket=ticket, role=Role.ASSISTANT, visible_to_user=False)
        .filter(_later_than(after))
        .filter(_earlier_than(before))
        .order_by("-created_at", "-pk")
        .first()
    )


def _reason_for(draft: Message | None, reason: str) -> str:
    if draft is None:
        return CorrectionReason.NO_DRAFT
    if reason in CorrectionReason.values and reason != CorrectionReason.NO_DRAFT:
        return reason
    return CorrectionReason.OTHER


def _source_for(draft: Message | None) -> str:
    if draft is None:
        return ExampleSource.NO_DRAFT
    if not draft.visible_to_user or draft.passed_gate is False:
        return ExampleSource.LOW_CONFIDENCE
    if MessageRating.objects.filter(message=draft, helpful=False).exists():
        return ExampleSource.THUMBS_DOWN
    return ExampleSource.ANSWER


# --- signal receivers (connected in TrainingConfig.ready) -------------------------------


def on_agent_replied(
    sender: object,
    ticket: Ticket,
    message: Message,
    draft: Message | None = None,
    reason: str = "",
    **kwargs: object,
) -> None:
    example = record_correction(ticket, message, draft=draft, reason=reason)
    if example is not None:
        log.info("Training example %s from ticket #%s (%s)", example.pk, ticket.pk, example.source)


def on_message_rated(
    sender: object, message: Message, user: object = None, helpful: bool = True, **kwargs: object
) -> None:
    if not helpful and message.role == Role.ASSISTANT:
        mark_thumbs_down(message)
