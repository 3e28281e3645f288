"""Which of the assistant's answers a low satisfaction rating speaks against: a label for
the gate's training data (training/pipeline/gate.py reads it)."""

from django.db.models import Exists, OuterRef, Q, Subquery

from tickets.models import Message, Role

from .models import LOW_SCORES, Rating


def rated_low(answer: OuterRef) -> Exists:
    """Whether `answer` (a reference to an assistant Message) ended a ticket the assistant
    resolved alone and its requester then rated 1 or 2.

    The answer a low rating speaks against is the last one the requester saw before the
    resolution they rated: the one that was taken to solve the ticket. The earlier ones were
    followed by the requester's own word, which says they did not settle it either way.
    A ticket people resolved says nothing about the assistant's answers, however rated.
    """
    last_shown = (
        Message.objects.filter(
            ticket=OuterRef("ticket"),
            role=Role.ASSISTANT,
            visible_to_user=True,
            created_at__lte=OuterRef("resolved_at"),
        )
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    low = Rating.objects.filter(score__in=LOW_SCORES, resolved_by_ai=True)
    # A Q, not a keyword: the type checker knows the model's fields, not the annotation.
    return Exists(low.annotate(ended_on=Subquery(last_shown)).filter(Q(ended_on=answer)))
