"""The rules of a rating (satisfaction.ratings): which tickets, by whom, recorded once, with
who resolved the ticket and when."""

import pytest
from django.db import IntegrityError, transaction

from satisfaction import ratings
from satisfaction.models import Channel, Rating
from satisfaction.ratings import NotTheRequester, Outcome, is_rateable, record_rating
from tests.factories import UserFactory
from tests.satisfaction.helpers import answered_ticket, rate, resolved_by_ai, resolved_by_people
from tickets import lifecycle

pytestmark = pytest.mark.django_db


def test_it_records_the_score_and_comment_with_the_assistant_as_resolver():
    ticket = resolved_by_ai()

    result = record_rating(
        ticket, ticket.requester, 5, comment="  Fixed in a minute.  ", channel=Channel.EMAIL
    )

    assert result.outcome is Outcome.RECORDED
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment, rating.channel) == (5, "Fixed in a minute.", "email")
    assert rating.resolved_by_ai is True
    assert rating.requester == ticket.requester
    ticket.refresh_from_db()
    assert rating.resolved_at == ticket.resolved_at


def test_it_credits_people_when_an_agent_worked_the_ticket():
    rating = rate(resolved_by_people(), 3)

    assert rating.resolved_by_ai is False


def test_a_second_rating_is_already_rated_and_changes_nothing():
    ticket = resolved_by_ai()
    first = rate(ticket, 2)

    again = record_rating(ticket, ticket.requester, 5, comment="Actually fine")

    assert again.outcome is Outcome.ALREADY_RATED
    assert again.rating == first
    assert list(Rating.objects.filter(ticket=ticket).values_list("score", "comment")) == [(2, "")]


def test_a_rating_that_loses_a_race_is_already_rated(monkeypatch):
    ticket = resolved_by_ai()
    winner = rate(ticket, 4)
    # The loser read "not rated yet" just before the winner's insert landed.
    answers = iter([None, winner])
    monkeypatch.setattr(ratings, "rating_of", lambda ticket: next(answers))

    result = record_rating(ticket, ticket.requester, 1)

    assert result.outcome is Outcome.ALREADY_RATED
    assert result.rating == winner
    assert Rating.objects.get(ticket=ticket).score == 4


def test_the_database_holds_one_rating_per_ticket_and_scores_1_to_5():
    first = rate(resolved_by_ai(), 4)
    row = {
        "requester": first.requester,
        "resolved_by_ai": True,
        "resolved_at": first.resolved_at,
        "channel": Channel.PORTAL,
    }

    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(ticket=first.ticket, score=5, **row)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(ticket=resolved_by_ai(), score=6, **row)


def test_only_the_requester_rates():
    ticket = resolved_by_ai()

    with pytest.raises(NotTheRequester):
        record_rating(ticket, UserFactory(), 5)

    assert not Rating.objects.exists()


def test_a_score_outside_1_to_5_is_refused():
    ticket = resolved_by_ai()

    with pytest.raises(ValueError):
        record_rating(ticket, ticket.requester, 0)


def test_a_ticket_being_worked_on_is_not_rateable():
    open_ticket = answered_ticket()
    reopened = resolved_by_ai()
    lifecycle.post_user_message(reopened, reopened.requester, "It dropped again")

    for ticket in (open_ticket, reopened):
        ticket.refresh_from_db()
        result = record_rating(ticket, ticket.requester, 4)
        assert (result.outcome, result.rating) == (Outcome.NOT_RESOLVED, None)
    assert not Rating.objects.exists()


def test_a_closed_ticket_is_rateable_only_if_it_was_resolved():
    resolved_then_closed = lifecycle.close(resolved_by_ai())
    closed_unresolved = lifecycle.close(answered_ticket())

    assert is_rateable(resolved_then_closed) is True
    assert is_rateable(closed_unresolved) is False
