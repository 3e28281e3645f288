"""Least-loaded auto-assignment, its queue, and its safety under concurrent escalations."""

import pytest
from django.db import connection

from tests.concurrency import run_at_once
from tests.factories import AgentFactory, TicketFactory
from tickets import lifecycle
from tickets.models import AgentProfile, EscalationReason, EventKind, Status, Ticket


@pytest.fixture(autouse=True)
def _no_model(settings):
    settings.ASSISTANT_ENABLED = False


@pytest.mark.django_db
def test_it_assigns_the_agent_with_the_fewest_open_tickets(user):
    busy, idle = AgentFactory(), AgentFactory()
    for _ in range(2):
        TicketFactory(assigned_to=busy, status=Status.ASSIGNED)

    ticket = lifecycle.open_ticket(user, "Cannot log in")

    ticket.refresh_from_db()
    assert ticket.assigned_to == idle


@pytest.mark.django_db
def test_it_breaks_ties_by_least_recently_assigned(user):
    first, second = AgentFactory(), AgentFactory()
    one = lifecycle.open_ticket(user, "one")
    lifecycle.resolve(one)  # back to zero open tickets each, but `first` was assigned last
    two = lifecycle.open_ticket(user, "two")

    one.refresh_from_db()
    two.refresh_from_db()
    assert {one.assigned_to, two.assigned_to} == {first, second}


@pytest.mark.django_db
def test_it_queues_tickets_when_nobody_is_available_and_assigns_when_someone_is(
    user, django_capture_on_commit_callbacks
):
    away = AgentFactory()
    AgentProfile.objects.filter(user=away).update(available=False)

    ticket = lifecycle.open_ticket(user, "Email bounces")
    ticket.refresh_from_db()
    assert ticket.status == Status.ESCALATED and ticket.assigned_to is None

    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.set_availability(away, True)

    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED and ticket.assigned_to == away


@pytest.mark.django_db
def test_it_skips_agents_who_are_away(user):
    away, present = AgentFactory(), AgentFactory()
    lifecycle.set_availability(away, False)

    ticket = lifecycle.open_ticket(user, "Slow laptop")

    ticket.refresh_from_db()
    assert ticket.assigned_to == present


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_escalations_spread_evenly_with_none_lost(user):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are the point of this test: it runs on PostgreSQL")
    agents = [AgentFactory() for _ in range(4)]
    tickets = [TicketFactory(requester=user, status=Status.OPEN) for _ in range(20)]
    errors = run_at_once(
        lambda ticket: lifecycle.escalate(ticket, EscalationReason.USER_REQUEST), tickets
    )

    assert errors == []
    loads = {a.pk: Ticket.objects.filter(assigned_to=a).count() for a in agents}
    assert sorted(loads.values()) == [5, 5, 5, 5]
    assert Ticket.objects.filter(status=Status.ASSIGNED).count() == 20
    assigned_events = sum(t.events.filter(kind=EventKind.ASSIGNED).count() for t in tickets)
    assert assigned_events == 20  # none assigned twice
