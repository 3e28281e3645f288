"""The resolved ticket's e-mail asks for a rating: five signed links (1..5), each opening the
rating page with its score chosen; the page's form records it. Once on the real path: an
agent resolves in the admin, a real worker sends through a real SMTP server."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from notifications.api import notify
from notifications.models import Event, Notification
from notifications.tasks import send_notification_email
from satisfaction.models import Channel, Rating
from satisfaction.tokens import RatingLink, make_token, read_token
from tests.satisfaction.helpers import resolved_by_people
from tickets import lifecycle
from tickets.models import Status

LINK = re.compile(r"https?://[^\s\"<>]+/satisfaction/rate/[^/\s\"<>]+/\?score=(\d)")
WAIT_S = 60


def _links(text: str) -> dict[str, str]:
    return {match[1]: match[0] for match in LINK.finditer(text)}


def _link_of(url: str) -> RatingLink:
    return read_token(urlsplit(url).path.rstrip("/").rsplit("/", 1)[1])


def _checked_score(html: str) -> list[str]:
    return re.findall(r'<input type="radio" name="score" value="(\d)"[^>]*checked', html)


def _rate_from(url: str, score: str, comment: str) -> None:
    """What a person does with the link, in a browser that never signed in."""
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(url)
    assert page.status_code == 200 and _checked_score(page.content.decode()) == [score]
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    path = urlsplit(url).path
    sent = browser.post(path, {"score": score, "comment": comment, "csrfmiddlewaretoken": csrf})
    assert "Thank you for your rating!" in sent.content.decode()


@pytest.mark.django_db
def test_the_resolved_email_carries_five_rating_links_in_both_parts(settings, user):
    settings.SITE_URL = "https://help.example.com"
    ticket = resolved_by_people(user)
    notify(Event.TICKET_RESOLVED, ticket.requester, ticket=ticket, key="resolved:test")

    assert send_notification_email.apply(args=(Notification.objects.get().pk,)).get() is True

    [message] = mail.outbox
    text_links = _links(message.body)
    html_links = _links(message.alternatives[0][0])
    assert sorted(text_links) == sorted(html_links) == ["1", "2", "3", "4", "5"]
    assert all(url.startswith("https://help.example.com/") for url in text_links.values())
    # Each part signs its own links, a second apart at times: they name the same ticket.
    assert (
        {_link_of(url) for url in text_links.values()}
        == {_link_of(url) for url in html_links.values()}
        == {read_token(make_token(ticket))}
    )
    # Following one shows the page with its score chosen, and records nothing.
    url = urlsplit(text_links["2"])
    page = Client().get(f"{url.path}?{url.query}")
    assert _checked_score(page.content.decode()) == ["2"]
    assert not Rating.objects.exists()


@pytest.mark.slow
def test_an_agents_resolution_emails_rating_links_and_one_records_the_rating(
    smtp_server, start_worker, settings, client, user, agent
):
    settings.ASSISTANT_ENABLED = False
    start_worker(queues="default", ASSISTANT_WARM_UP="0", ASSISTANT_ENABLED="0")
    ticket = lifecycle.open_ticket(user, "The printer on floor 3 jams")
    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED and ticket.assigned_to == agent
    client.force_login(agent)

    resolved = client.post(reverse("admin:tickets_ticket_act", args=[ticket.pk, "resolve"]))

    assert resolved.status_code == 302
    # The assignment's e-mail to the agent and the resolution's to the user, in either order.
    arrived = smtp_server.wait_for(2, WAIT_S)
    [to_user] = [m for m in arrived if m["To"] == user.email]
    text = to_user.get_body(preferencelist=("plain",)).get_content()
    html = to_user.get_body(preferencelist=("html",)).get_content()
    links = _links(text)
    assert sorted(links) == ["1", "2", "3", "4", "5"] and _links(html) == links

    _rate_from(links["4"], "4", "Fixed the same day.")

    rating = Rating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment) == (4, "Fixed the same day.")
    assert rating.channel == Channel.EMAIL
    assert rating.requester == user and rating.resolved_by_ai is False
    # The link again, as a second attempt: already rated, nothing changes.
    again = Client().post(urlsplit(links["1"]).path, {"score": "1"})
    assert "You have already rated this ticket" in again.content.decode()
    assert Rating.objects.get(ticket=ticket).score == 4 and Rating.objects.count() == 1
