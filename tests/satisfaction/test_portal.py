"""Rating in the portal: the resolved ticket's chat shows the 1-5 choice and comment box, one
partial (satisfaction/rate.html#rating_form) for the page and its htmx swap."""

import pytest
from django.template.loader import get_template
from django.test import Client
from django.urls import reverse

from satisfaction.models import Channel, Rating
from tests.factories import UserFactory
from tests.satisfaction.helpers import answered_ticket, rate, resolved_by_ai
from tickets import lifecycle

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
BLOCK = 'class="csat"'


def _rate_url(ticket) -> str:
    return reverse("satisfaction:rate", args=[ticket.pk])


def test_a_resolved_tickets_page_asks_for_a_rating(client: Client):
    ticket = resolved_by_ai()
    client.force_login(ticket.requester)

    html = client.get(ticket.get_absolute_url()).content.decode()

    assert BLOCK in html
    assert html.count('type="radio" name="score"') == 5
    assert 'name="comment"' in html
    assert f'hx-post="{_rate_url(ticket)}"' in html


def test_a_ticket_still_worked_on_or_closed_unresolved_asks_nothing(client: Client):
    working = answered_ticket()
    closed = lifecycle.close(answered_ticket())
    client.force_login(working.requester)

    for ticket in (working, closed):
        assert BLOCK not in client.get(ticket.get_absolute_url()).content.decode()


def test_this_solved_it_brings_the_rating_into_the_chat_at_once(client: Client):
    ticket = answered_ticket()
    client.force_login(ticket.requester)

    response = client.post(reverse("tickets:mark_solved", args=[ticket.pk]), headers=HTMX)

    assert BLOCK in response.content.decode()


def test_rating_with_htmx_records_and_swaps_in_the_thanks(client: Client):
    ticket = resolved_by_ai()
    client.force_login(ticket.requester)

    response = client.post(_rate_url(ticket), {"score": "4", "comment": "Fast"}, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith(f'<div id="csat-{ticket.pk}" {BLOCK}')
    assert "Thank you for your rating!" in html and "<strong>4 of 5</strong>" in html
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment, rating.channel) == (4, "Fast", Channel.PORTAL)


def test_rating_without_javascript_goes_back_to_the_chat_which_shows_it(client: Client):
    ticket = resolved_by_ai()
    client.force_login(ticket.requester)

    response = client.post(_rate_url(ticket), {"score": "5"}, follow=True)

    assert response.redirect_chain == [(ticket.get_absolute_url(), 302)]
    html = response.content.decode()
    assert "Thank you for your rating." in html  # the flash
    assert "<strong>5 of 5</strong>" in html and 'name="score"' not in html


def test_a_second_rating_says_already_rated_and_changes_nothing(client: Client):
    ticket = resolved_by_ai()
    rate(ticket, 1)
    client.force_login(ticket.requester)

    swapped = client.post(_rate_url(ticket), {"score": "5"}, headers=HTMX)
    reloaded = client.post(_rate_url(ticket), {"score": "5"}, follow=True)

    assert "You have already rated this ticket" in swapped.content.decode()
    assert "You have already rated this ticket." in reloaded.content.decode()
    assert list(Rating.objects.values_list("score", flat=True)) == [1]


def test_a_missing_score_keeps_the_form_with_the_reason(client: Client):
    ticket = resolved_by_ai()
    client.force_login(ticket.requester)

    response = client.post(_rate_url(ticket), {"comment": "kept"}, headers=HTMX)

    html = response.content.decode()
    assert "Please choose a score from 1 to 5." in html
    assert ">\nkept</textarea>" in html
    assert not Rating.objects.exists()


def test_another_users_ticket_is_not_found_and_anonymous_visitors_sign_in(client: Client):
    ticket = resolved_by_ai()

    anonymous = client.post(_rate_url(ticket), {"score": "5"})
    client.force_login(UserFactory())
    stranger = client.post(_rate_url(ticket), {"score": "5"})

    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert stranger.status_code == 404
    assert not Rating.objects.exists()


def test_a_comment_too_long_is_refused_with_the_reason_and_kept(client: Client):
    ticket = resolved_by_ai()
    client.force_login(ticket.requester)

    response = client.post(_rate_url(ticket), {"score": "4", "comment": "x" * 2001}, headers=HTMX)

    html = response.content.decode()
    assert "Please keep your comment under 2000 characters." in html
    assert "maxlength" not in html and "x" * 2001 in html
    assert not Rating.objects.exists()


def test_rating_takes_no_get(client: Client):
    ticket = resolved_by_ai()
    client.force_login(ticket.requester)

    assert client.get(_rate_url(ticket)).status_code == 405


def test_the_chat_block_and_the_links_page_are_one_partial():
    partial = get_template("satisfaction/rate.html#rating_form")

    assert partial.origin.name.endswith("templates/satisfaction/rate.html")
