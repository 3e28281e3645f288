"""Resolved tickets to rate: by the assistant alone or by people."""

from django.contrib.auth.models import User

from satisfaction.models import Channel, Rating
from satisfaction.ratings import record_rating
from tests.factories import AgentFactory, TicketFactory
from tests.feedback.helpers import requester
from tickets import lifecycle
from tickets.models import Message, Role, Status, Ticket

ANSWER = "Reconnect the VPN client, then sign in again."


def answered_ticket(user: User | None = None) -> Ticket:
    """A question and the assistant's shown answer, as the answer job leaves them."""
    user = user or requester()
    ticket = TicketFactory(requester=user, status=Status.ANSWERED)
    Message.objects.create(ticket=ticket, author=user, role=Role.USER, body="My VPN drops")
    Message.objects.create(ticket=ticket, role=Role.ASSISTANT, body=ANSWER)
    return ticket


def resolved_by_ai(user: User | None = None) -> Ticket:
    """The requester pressed "This solved it" after the assistant's answer."""
    ticket = answered_ticket(user)
    return lifecycle.mark_solved(ticket, ticket.requester)


def resolved_by_people(user: User | None = None, agent: User | None = None) -> Ticket:
    """An agent took the ticket, replied and resolved it."""
    ticket = answered_ticket(user)
    agent = agent or AgentFactory()
    lifecycle.assign(ticket, agent, actor=agent)
    lifecycle.agent_reply(ticket, agent, "I reset your VPN profile: try again now.")
    return lifecycle.resolve(ticket, agent)


def rating_of_a_resolved_ticket(score: int = 4, *, by_ai: bool = True) -> Rating:
    ticket = resolved_by_ai() if by_ai else resolved_by_people()
    result = record_rating(ticket, ticket.requester, score, comment="Quick and clear.")
    assert result.rating is not None
    return result.rating


def rate(ticket: Ticket, score: int, channel: Channel = Channel.PORTAL) -> Rating:
    result = record_rating(ticket, ticket.requester, score, channel=channel)
    assert result.recorded and result.rating is not None
    return result.rating
