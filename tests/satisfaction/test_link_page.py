"""The page an e-mail's rating link opens: no sign-in, the score preselected; only its form's
POST records (mail scanners follow links)."""

import re

import pytest
from django.test import Client

from satisfaction.models import Channel, Rating
from satisfaction.tokens import make_token, rating_path
from tests.factories import TicketFactory, UserFactory
from tests.satisfaction.helpers import answered_ticket, rate, resolved_by_ai, resolved_by_people

pytestmark = pytest.mark.django_db


def _checked_score(html: str) -> list[str]:
    return re.findall(r'<input type="radio" name="score" value="(\d)"[^>]*checked', html)


def test_following_a_link_shows_the_form_with_its_score_and_records_nothing(client: Client):
    ticket = resolved_by_ai()

    response = client.get(rating_path(ticket, 4))

    assert response.status_code == 200
    html = response.content.decode()
    assert _checked_score(html) == ["4"]
    assert 'name="comment"' in html
    assert ticket.subject in html
    assert not Rating.objects.exists()


def test_a_score_outside_1_to_5_in_the_link_preselects_nothing(client: Client):
    response = client.get(rating_path(resolved_by_ai(), 9))

    assert _checked_score(response.content.decode()) == []


def test_sending_the_form_records_the_rating_from_the_email(client: Client):
    ticket = resolved_by_people()
    client.get(rating_path(ticket, 2))  # the CSRF cookie, as a browser gets it

    response = client.post(rating_path(ticket), {"score": "2", "comment": "Took a week."})

    assert response.status_code == 200
    assert "Thank you for your rating!" in response.content.decode()
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment, rating.channel) == (2, "Took a week.", Channel.EMAIL)
    assert rating.requester == ticket.requester and rating.resolved_by_ai is False


def test_the_form_posts_with_csrf_protection_like_any_other():
    ticket = resolved_by_ai()
    browser = Client(enforce_csrf_checks=True)

    refused = browser.post(rating_path(ticket), {"score": "5"})
    page = browser.get(rating_path(ticket, 5))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    accepted = browser.post(rating_path(ticket), {"score": "5", "csrfmiddlewaretoken": token[1]})

    assert refused.status_code == 403
    assert accepted.status_code == 200 and Rating.objects.get(ticket=ticket).score == 5


def test_a_second_attempt_says_already_rated_and_changes_nothing(client: Client):
    ticket = resolved_by_ai()
    rate(ticket, 5)

    followed = client.get(rating_path(ticket, 1))
    posted = client.post(rating_path(ticket), {"score": "1", "comment": "changed my mind"})

    for response in (followed, posted):
        html = response.content.decode()
        assert "You have already rated this ticket" in html
        assert "<strong>5 of 5</strong>" in html
        assert 'name="score"' not in html
    assert list(Rating.objects.values_list("score", "comment")) == [(5, "")]


def test_a_missing_score_is_asked_for_again(client: Client):
    ticket = resolved_by_ai()

    response = client.post(rating_path(ticket), {"comment": "no score"})

    assert "Please choose a score from 1 to 5." in response.content.decode()
    assert not Rating.objects.exists()


def test_a_ticket_being_worked_on_cannot_be_rated_from_a_link(client: Client):
    ticket = answered_ticket()

    response = client.post(rating_path(ticket), {"score": "4"})

    assert "not resolved at the moment" in response.content.decode()
    assert not Rating.objects.exists()


def test_a_broken_link_or_one_naming_another_requester_is_not_found(client: Client):
    ticket = resolved_by_ai()
    token = make_token(ticket)
    mismatched = make_token(TicketFactory.build(pk=ticket.pk, requester=UserFactory()))

    for bad in (token[:-3], mismatched):
        response = client.get(f"/satisfaction/rate/{bad}/?score=5")
        assert response.status_code == 404
        assert "This rating link does not work" in response.content.decode()
    assert client.post(f"/satisfaction/rate/{token[:-3]}/", {"score": "5"}).status_code == 404
    assert not Rating.objects.exists()


def test_an_htmx_post_gets_the_rating_block_alone(client: Client):
    ticket = resolved_by_ai()

    response = client.post(rating_path(ticket), {"score": "3"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith(f'<div id="csat-{ticket.pk}" class="csat"')
    assert "<html" not in html
    assert Rating.objects.get(ticket=ticket).score == 3
