"""Training examples made directly, with the times a test needs."""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from tests.factories import MessageFactory, TicketFactory
from tickets.models import Role, Ticket
from training.models import ExampleSource, ReviewState, TrainingExample

T0 = timezone.make_aware(datetime(2026, 1, 5, 9, 0))


def requester():
    """One requester for many tickets: the factory's password hashing costs half a second."""
    user, _ = get_user_model().objects.get_or_create(username="requester")
    return user


def make_example(
    *,
    day: int = 0,
    ticket: Ticket | None = None,
    question: str = "How do I reset my VPN?",
    draft: str = "Reboot.",
    correction: str = "Open Settings > VPN and press Reset.",
    state: str = ReviewState.APPROVED,
    reason: str = "wrong",
    version=None,
    agent=None,
    context: list | None = None,
    confidence: float | None = 0.4,
) -> TrainingExample:
    when = T0 + timedelta(days=day)
    if ticket is None:
        ticket = TicketFactory(requester=requester())
        Ticket.objects.filter(pk=ticket.pk).update(created_at=when)
    question_message = MessageFactory(ticket=ticket, role=Role.USER, body=question)
    answer = MessageFactory(ticket=ticket, role=Role.AGENT, author=agent, body=correction)
    example = TrainingExample.objects.create(
        ticket=ticket,
        question_message=question_message,
        answer_message=answer,
        context=context or [],
        question=question,
        draft=draft,
        correction=correction,
        model_version=version,
        confidence=confidence,
        agent=agent,
        reason=reason,
        source=ExampleSource.LOW_CONFIDENCE,
        review_state=state,
    )
    TrainingExample.objects.filter(pk=example.pk).update(created_at=when)
    example.refresh_from_db()
    return example
