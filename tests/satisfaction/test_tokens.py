"""The rating links' signed tokens: they name the ticket and its requester, and expire."""

import time

import pytest
from django.core import signing

from satisfaction.tokens import BadRatingLink, RatingLink, make_token, rating_path, read_token
from tests.satisfaction.helpers import resolved_by_ai

pytestmark = pytest.mark.django_db


def test_it_reads_back_the_ticket_and_requester_it_names():
    ticket = resolved_by_ai()

    assert read_token(make_token(ticket)) == RatingLink(ticket.pk, ticket.requester_id)


def test_an_altered_token_is_refused():
    token = make_token(resolved_by_ai())
    payload, _, signature = token.rpartition(":")

    with pytest.raises(BadRatingLink):
        read_token(f"{payload}:{signature[:-2]}xx")
    with pytest.raises(BadRatingLink):
        read_token("not-a-token")


def test_a_token_signed_for_another_purpose_is_refused():
    ticket = resolved_by_ai()
    other = signing.dumps({"t": ticket.pk, "u": ticket.requester_id}, salt="unsubscribe")

    with pytest.raises(BadRatingLink):
        read_token(other)


def test_a_token_expires_after_the_configured_days(settings, monkeypatch):
    settings.CSAT_LINK_MAX_AGE_DAYS = 30
    token = make_token(resolved_by_ai())
    now = time.time()

    monkeypatch.setattr(signing.time, "time", lambda: now + 29 * 24 * 3600)
    assert read_token(token)
    monkeypatch.setattr(signing.time, "time", lambda: now + 31 * 24 * 3600)
    with pytest.raises(BadRatingLink):
        read_token(token)


def test_the_path_carries_the_token_and_the_score_to_preselect():
    ticket = resolved_by_ai()

    path = rating_path(ticket, 4)

    assert path.startswith("/satisfaction/rate/") and path.endswith("/?score=4")
    token = path.removeprefix("/satisfaction/rate/").removesuffix("/?score=4")
    assert read_token(token).ticket_id == ticket.pk
