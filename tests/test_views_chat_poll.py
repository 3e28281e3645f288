"""The chat's poll: only what is newer than the chat shows, each message once, then it stops."""

import html
import re

import pytest
from django.urls import reverse
from django_htmx.http import HTMX_STOP_POLLING

from tests.factories import MessageFactory, ModelVersionFactory, TicketFactory
from tickets import lifecycle
from tickets.models import AnswerRequest, AnswerStatus, Message, Role, Status, Ticket

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
POLLER = re.compile(r'<div id="chat-poll" class="chat-poll"([^>]*)>')


@pytest.fixture(autouse=True)
def _no_model(settings):
    settings.ASSISTANT_ENABLED = False


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def _poller(markup: str) -> str:
    """The attributes of the (one) poller in a page or a poll's answer."""
    found = POLLER.findall(markup)
    assert len(found) == 1, found
    return found[0]


def _poll_url(markup: str) -> str:
    return html.unescape(re.search(r'hx-get="([^"]+)"', _poller(markup)).group(1))


def _article_ids(markup: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<article id="m(\d+)"', markup)]


def _visible_ids(ticket: Ticket) -> list[int]:
    return list(ticket.messages.visible_to_requester().values_list("pk", flat=True))


def _awaiting_ticket(user) -> tuple[Ticket, AnswerRequest]:
    """A question the assistant is still writing the answer to, as the worker leaves it."""
    version = ModelVersionFactory(name="smollm2-base", is_default=True)
    ticket = TicketFactory(requester=user, status=Status.AWAITING_ASSISTANT)
    question = MessageFactory(ticket=ticket, body="Excel crashes on start")
    request = AnswerRequest.objects.create(ticket=ticket, question=question, model_version=version)
    return ticket, request


def _answer(ticket: Ticket, request: AnswerRequest, body: str) -> Message:
    answer = Message.objects.create(
        ticket=ticket, role=Role.ASSISTANT, body=body, confidence=0.9, passed_gate=True
    )
    AnswerRequest.objects.filter(pk=request.pk).update(status=AnswerStatus.DONE, answer=answer)
    lifecycle.record_answered(ticket)
    return answer


def test_it_delivers_messages_added_between_polls_exactly_once_and_in_order(signed_in, user, agent):
    ticket = lifecycle.open_ticket(user, "Need a new monitor")  # no model: with an agent
    page = signed_in.get(ticket.get_absolute_url()).content.decode()
    shown = _article_ids(page)
    url = _poll_url(page)

    for bodies in (["first reply"], ["second reply", "third reply"], []):
        for body in bodies:
            lifecycle.agent_reply(ticket, agent, body)
        response = signed_in.get(url, headers=HTMX)
        if not bodies:
            assert response.status_code == 204
            break
        polled = response.content.decode()
        assert response.status_code == 200
        assert [m.body for m in Message.objects.filter(pk__in=_article_ids(polled))] == bodies
        shown += _article_ids(polled)  # what hx-swap="beforeend" leaves in the list
        url = _poll_url(polled)

    assert shown == _visible_ids(ticket)
    assert len(shown) == len(set(shown)) == 5


def test_it_answers_a_poll_with_nothing_new_with_an_empty_204(signed_in, user, agent):
    ticket = lifecycle.open_ticket(user, "Need a new monitor")
    url = _poll_url(signed_in.get(ticket.get_absolute_url()).content.decode())

    response = signed_in.get(url, headers=HTMX)

    assert response.status_code == 204
    assert response.content == b""


def test_it_appends_newer_messages_and_leaves_the_ticket_bar_alone_while_it_is_unchanged(
    signed_in, user, agent
):
    ticket = lifecycle.open_ticket(user, "Need a new monitor")
    url = _poll_url(signed_in.get(ticket.get_absolute_url()).content.decode())
    lifecycle.agent_reply(ticket, agent, "A new one is on its way.")

    response = signed_in.get(url, headers=HTMX)

    polled = response.content.decode()
    assert "A new one is on its way." in polled
    assert "Need a new monitor" not in polled  # shown already: not sent again
    assert 'id="ticket-bar"' not in polled
    assert 'hx-swap="beforeend"' in _poller(polled)
    assert 'hx-swap-oob="true"' in _poller(polled)
    assert 'hx-trigger="every 5s"' in _poller(polled)


def test_it_sends_the_ticket_bar_once_the_ticket_changed(signed_in, user, agent):
    ticket = lifecycle.open_ticket(user, "Need a new monitor")
    url = _poll_url(signed_in.get(ticket.get_absolute_url()).content.decode())
    lifecycle.unassign(ticket, actor=agent)  # back to the queue: same messages, new state

    polled = signed_in.get(url, headers=HTMX).content.decode()

    assert _article_ids(polled) == []
    assert '<div id="ticket-bar" class="ticket-bar" hx-swap-oob="true">' in polled
    assert "Waiting for a person from support." in polled


def test_it_polls_fast_and_shows_typing_while_the_assistant_answers(signed_in, user):
    ticket, _ = _awaiting_ticket(user)

    page = signed_in.get(ticket.get_absolute_url()).content.decode()

    assert 'hx-trigger="every 2s"' in _poller(page)
    assert "The assistant is typing" in page


def test_it_polls_slowly_while_people_hold_the_ticket(signed_in, user, agent):
    ticket = lifecycle.open_ticket(user, "Need a new monitor")

    page = signed_in.get(ticket.get_absolute_url()).content.decode()

    assert 'hx-trigger="every 5s"' in _poller(page)
    assert "The assistant is typing" not in page


def test_it_stops_polling_with_the_answer_once_it_is_in(signed_in, user):
    ticket, request = _awaiting_ticket(user)
    url = _poll_url(signed_in.get(ticket.get_absolute_url()).content.decode())
    _answer(ticket, request, "Open it in **safe mode**.")

    response = signed_in.get(url, headers=HTMX)

    polled = response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).status == Status.ANSWERED
    assert response.status_code == HTMX_STOP_POLLING
    assert "<strong>safe mode</strong>" in polled
    assert "Answered by the assistant" in polled  # the bar, out of band
    assert "hx-trigger" not in _poller(polled)
    assert "The assistant is typing" not in polled


def test_it_stops_a_poll_of_a_settled_ticket_with_an_empty_answer(signed_in, user):
    ticket, request = _awaiting_ticket(user)
    _answer(ticket, request, "Open it in safe mode.")
    settled = f"after={_visible_ids(ticket)[-1]}&seen=2&state=answered.0.0"

    response = signed_in.get(
        f"{reverse('tickets:conversation', args=[ticket.pk])}?{settled}", headers=HTMX
    )

    assert response.status_code == HTMX_STOP_POLLING
    assert response.content == b""


def test_it_resends_the_whole_list_when_a_message_below_the_cursor_shows_up_late(
    signed_in, user, agent
):
    # An id is taken before its transaction commits, so a message can appear below ids the
    # chat already has; a hidden draft made visible stands in for it here.
    ticket = lifecycle.open_ticket(user, "Need a new monitor")
    late = Message.objects.create(
        ticket=ticket, role=Role.ASSISTANT, body="the late one", visible_to_user=False
    )
    lifecycle.agent_reply(ticket, agent, "A new one is on its way.")
    url = _poll_url(signed_in.get(ticket.get_absolute_url()).content.decode())
    Message.objects.filter(pk=late.pk).update(visible_to_user=True)

    response = signed_in.get(url, headers=HTMX)

    polled = response.content.decode()
    assert response["HX-Reswap"] == "outerHTML"
    assert polled.startswith('<div id="conversation"')
    assert _article_ids(polled) == _visible_ids(ticket)
    assert late.pk in _article_ids(polled)


def test_it_resends_the_whole_list_to_a_poll_without_a_cursor(signed_in, user, agent):
    ticket = lifecycle.open_ticket(user, "Need a new monitor")

    response = signed_in.get(
        reverse("tickets:conversation", args=[ticket.pk]) + "?after=x", headers=HTMX
    )

    assert response.status_code == 200
    assert response["HX-Reswap"] == "outerHTML"
    assert _article_ids(response.content.decode()) == _visible_ids(ticket)


def test_it_moves_the_cursor_past_a_message_the_user_sent(signed_in, user, agent):
    ticket = lifecycle.open_ticket(user, "Need a new monitor")

    sent = signed_in.post(
        reverse("tickets:post_message", args=[ticket.pk]), {"body": "A 27 inch one"}, headers=HTMX
    )
    polled = signed_in.get(_poll_url(sent.content.decode()), headers=HTMX)

    assert 'hx-swap-oob="true"' in _poller(sent.content.decode())
    assert polled.status_code == 204  # the message came with the send, not again


def test_it_redirects_a_plain_get_of_the_poll_to_the_chat(signed_in, user):
    ticket = lifecycle.open_ticket(user, "Need a new monitor")

    response = signed_in.get(reverse("tickets:conversation", args=[ticket.pk]))

    assert response.status_code == 302
    assert response["Location"] == ticket.get_absolute_url()
