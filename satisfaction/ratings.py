"""The rules of a satisfaction rating: which tickets may be rated, by whom, and recording it
once (the unique constraint decides a race between two tabs, or the portal and an e-mail)."""

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q, TextChoices
from django.utils import timezone

from tickets.models import Status, Ticket
from tickets.outcomes import with_resolver

from .models import COMMENT_MAX_CHARS, Channel, Rating, Score


class Outcome(TextChoices):
    RECORDED = "recorded", "Thank you for your rating."
    ALREADY_RATED = "already_rated", "You have already rated this ticket."
    NOT_RESOLVED = "not_resolved", "This ticket is not resolved: you can rate it once it is."


@dataclass(frozen=True)
class RatingResult:
    outcome: Outcome
    rating: Rating | None  # the rating the ticket has now (the earlier one if already rated)

    @property
    def recorded(self) -> bool:
        return self.outcome is Outcome.RECORDED


class NotTheRequester(Exception):
    """Only the person who asked for help rates how it went."""


def is_rateable(ticket: Ticket) -> bool:
    """Resolved, or closed after being resolved: a ticket reopened since is being worked on
    again, and one closed without a resolution (a duplicate, spam) had no service to rate."""
    if ticket.status == Status.RESOLVED:
        return True
    return (
        ticket.status == Status.CLOSED and ticket.events.filter(to_status=Status.RESOLVED).exists()
    )


def _resolved_by_ai(ticket: Ticket) -> bool:
    # A Q, not a keyword: the type checker knows the model's fields, not with_resolver's.
    by_ai = with_resolver(Ticket.objects.filter(pk=ticket.pk)).filter(Q(resolved_by_ai=True))
    return by_ai.exists()


def rating_of(ticket: Ticket) -> Rating | None:
    return Rating.objects.filter(ticket=ticket).first()


def record_rating(
    ticket: Ticket,
    user: User,
    score: int,
    *,
    comment: str = "",
    channel: Channel = Channel.PORTAL,
) -> RatingResult:
    """Record the requester's rating of a resolved ticket, or say why not. A second rating
    never replaces the first: "already rated", and the first one stands."""
    if user.pk != ticket.requester_id:
        raise NotTheRequester(f"user {user.pk} did not open ticket #{ticket.pk}")
    if score not in Score.values:
        raise ValueError(f"a rating is 1 to 5, not {score!r}")
    earlier = rating_of(ticket)
    if earlier is not None:
        return RatingResult(Outcome.ALREADY_RATED, earlier)
    if not is_rateable(ticket):
        return RatingResult(Outcome.NOT_RESOLVED, None)
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives a loser
            rating = Rating.objects.create(
                ticket=ticket,
                requester=user,
                score=score,
                comment=comment.strip()[:COMMENT_MAX_CHARS],
                resolved_by_ai=_resolved_by_ai(ticket),
                resolved_at=ticket.resolved_at or timezone.now(),
                channel=channel,
            )
    except IntegrityError:
        # Another request rated it between our check and our insert.
        return RatingResult(Outcome.ALREADY_RATED, rating_of(ticket))
    return RatingResult(Outcome.RECORDED, rating)
