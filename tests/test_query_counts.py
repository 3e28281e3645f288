"""The pages people load all day run a fixed number of queries, however many tickets exist."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import AgentFactory, ModelVersionFactory, UserFactory
from tickets.models import Message, MessageRating, Role, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _add_tickets(owner, agent, count: int, version) -> Ticket:
    """bulk_create `count` tickets with a conversation each; returns the newest one."""
    statuses = [Status.ASSIGNED, Status.ESCALATED, Status.ANSWERED, Status.RESOLVED]
    tickets = Ticket.objects.bulk_create(
        Ticket(
            subject=f"Problem {n}",
            requester=owner,
            status=statuses[n % len(statuses)],
            assigned_to=agent if n % 2 else None,
            escalation_reason="low_confidence" if n % 3 else "",
        )
        for n in range(count)
    )
    messages = []
    for ticket in tickets:
        messages += [
            Message(ticket=ticket, author=owner, role=Role.USER, body="It broke"),
            Message(
                ticket=ticket,
                role=Role.ASSISTANT,
                body="Try **this**",
                model_version=version,
                confidence=0.9,
                passed_gate=True,
            ),
            Message(ticket=ticket, author=agent, role=Role.AGENT, body="Fixed it"),
        ]
    saved = Message.objects.bulk_create(messages)
    MessageRating.objects.bulk_create(
        MessageRating(message=m, user=owner, helpful=True) for m in saved if m.role != Role.USER
    )
    return tickets[-1]


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _measure(client, owner, agent, ticket: Ticket) -> dict[str, int]:
    client.force_login(owner)
    counts = {
        "list": _count(client, reverse("tickets:list")),
        "list_page_2": _count(client, reverse("tickets:list") + "?page=2"),
        "chat": _count(client, ticket.get_absolute_url()),
    }
    client.force_login(agent)
    counts["changelist"] = _count(client, reverse("admin:tickets_ticket_changelist"))
    counts["changelist_mine"] = _count(
        client, reverse("admin:tickets_ticket_changelist") + "?assigned=me"
    )
    return counts


def test_it_runs_the_same_queries_with_10_and_with_1000_tickets(client):
    owner = UserFactory(username="owner")
    agent = AgentFactory(username="busy-agent")
    version = ModelVersionFactory(name="smollm2-base")

    newest = _add_tickets(owner, agent, 30, version)
    few = _measure(client, owner, agent, newest)
    newest = _add_tickets(owner, agent, 970, version)
    many = _measure(client, owner, agent, newest)

    assert Ticket.objects.count() == 1000
    assert few == many


def test_it_runs_the_same_queries_for_a_short_and_a_long_conversation(client):
    owner = UserFactory(username="owner")
    agent = AgentFactory(username="busy-agent")
    version = ModelVersionFactory(name="smollm2-base")
    ticket = _add_tickets(owner, agent, 1, version)
    client.force_login(owner)

    short = _count(client, ticket.get_absolute_url())
    for _ in range(20):
        Message.objects.bulk_create(
            [
                Message(ticket=ticket, author=owner, role=Role.USER, body="more"),
                Message(ticket=ticket, author=agent, role=Role.AGENT, body="answer"),
            ]
        )
    long = _count(client, ticket.get_absolute_url())

    assert short == long


def _confirm_resolved_tickets() -> None:
    """The requester pressed "This solved it" on every resolved ticket without a record yet."""
    confirmed = TicketEvent.objects.filter(to_status=Status.RESOLVED).values("ticket")
    TicketEvent.objects.bulk_create(
        TicketEvent(ticket=t, actor_id=t.requester_id, kind="resolved", to_status=Status.RESOLVED)
        for t in Ticket.objects.filter(status=Status.RESOLVED).exclude(pk__in=confirmed)
    )


def test_it_runs_the_same_queries_on_the_dashboard_with_30_and_with_1000_tickets(client, manager):
    owner = UserFactory(username="owner")
    agent = AgentFactory(username="busy-agent")
    version = ModelVersionFactory(name="smollm2-base")
    client.force_login(manager)
    dashboard = reverse("training:dashboard")

    _add_tickets(owner, agent, 30, version)
    _confirm_resolved_tickets()
    few = _count(client, dashboard)
    _add_tickets(owner, agent, 970, version)
    _confirm_resolved_tickets()
    many = _count(client, dashboard)

    assert Ticket.objects.count() == 1000
    assert TicketEvent.objects.filter(to_status=Status.RESOLVED).count() == 249  # n % 4 == 3
    assert few == many
