"""Shared by the search tests: ids of what a search finds, tickets with a conversation."""

from search.tickets import search_tickets
from tests.factories import MessageFactory, TicketFactory
from tickets.models import Role, Ticket


def found(query: str, *, internal: bool = True, queryset=None) -> list[int]:
    tickets = Ticket.objects.all() if queryset is None else queryset
    return list(search_tickets(tickets, query, internal=internal).values_list("pk", flat=True))


def ticket_with(subject: str, *bodies: str, hidden: tuple[str, ...] = (), **fields) -> Ticket:
    """A ticket, its visible messages and its hidden ones (an agent's internal notes)."""
    ticket = TicketFactory(subject=subject, **fields)
    for body in bodies:
        MessageFactory(ticket=ticket, body=body)
    for body in hidden:
        MessageFactory(ticket=ticket, body=body, role=Role.AGENT, visible_to_user=False)
    return ticket
