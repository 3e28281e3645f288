"""Who resolved a ticket (tickets.outcomes)."""

import pytest

from tests.factories import AgentFactory, TicketFactory, UserFactory
from tickets import lifecycle
from tickets.models import Message, Role, Ticket
from tickets.outcomes import with_resolver

pytestmark = pytest.mark.django_db


def _answered_ticket() -> Ticket:
    requester = UserFactory()
    ticket = TicketFactory(requester=requester)
    Message.objects.create(ticket=ticket, author=requester, role=Role.USER, body="VPN drops")
    Message.objects.create(ticket=ticket, role=Role.ASSISTANT, body="Reconnect the VPN client.")
    return ticket


def _resolved_by_ai(ticket: Ticket) -> bool:
    return with_resolver(Ticket.objects.filter(pk=ticket.pk)).get().resolved_by_ai


def test_it_credits_the_ai_when_the_user_confirms_the_answer():
    ticket = _answered_ticket()
    lifecycle.mark_solved(ticket, ticket.requester)
    assert _resolved_by_ai(ticket) is True


def test_it_credits_people_once_an_agent_replied():
    ticket = _answered_ticket()
    agent = AgentFactory()
    lifecycle.assign(ticket, agent)
    lifecycle.agent_reply(ticket, agent, "Reinstall the client.")
    lifecycle.resolve(ticket, ticket.requester)
    assert _resolved_by_ai(ticket) is False


def test_it_credits_people_when_an_agent_resolved_it_without_a_reply():
    ticket = _answered_ticket()
    lifecycle.resolve(ticket, AgentFactory())
    assert _resolved_by_ai(ticket) is False


def test_it_credits_people_for_an_escalated_ticket():
    ticket = _answered_ticket()
    lifecycle.escalate(ticket, "user_request")
    lifecycle.resolve(ticket, ticket.requester)
    assert _resolved_by_ai(ticket) is False
