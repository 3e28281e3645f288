"""The alert sweep: a warning before the due time, an alert at it, each once, to the
assigned agent and the managers; the managers hear of a ticket waiting unassigned."""

from datetime import timedelta

import pytest

from notifications.models import Event, Notification
from sla import alerts
from sla.models import AlertKind, AlertTarget, SlaAlert, SlaPolicy, TicketSla
from tests.factories import AgentFactory, ManagerFactory, UserFactory
from tickets import lifecycle
from tickets.models import Priority

pytestmark = pytest.mark.usefixtures("round_the_clock", "no_model")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def tiny_targets(db, settings):
    settings.SLA_WARNING_LEAD_S = 60
    SlaPolicy.objects.filter(priority=Priority.NORMAL).update(
        first_response_minutes=5, next_response_minutes=5, resolution_minutes=600
    )


def _told(event: Event) -> list[str]:
    return sorted(n.recipient.username for n in Notification.objects.filter(event=event))


def test_a_warning_then_a_breach_each_once_to_the_agent_and_the_managers(committed, tiny_targets):
    agent, manager = AgentFactory(username="ann"), ManagerFactory(username="max")
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "The VPN drops")
    due = TicketSla.objects.get(ticket=ticket).first_response_due

    assert alerts.send_due_alerts(now=due - timedelta(minutes=2)) == {"warning": 0, "breach": 0}
    assert alerts.send_due_alerts(now=due - timedelta(seconds=30))["warning"] == 1
    assert alerts.send_due_alerts(now=due - timedelta(seconds=10))["warning"] == 0
    assert alerts.send_due_alerts(now=due + timedelta(seconds=1))["breach"] == 1
    assert alerts.send_due_alerts(now=due + timedelta(minutes=1))["breach"] == 0

    assert _told(Event.SLA_WARNING) == [agent.username, manager.username]
    assert _told(Event.SLA_BREACHED) == [agent.username, manager.username]
    assert TicketSla.objects.get(ticket=ticket).breached_at == due


def test_an_answered_ticket_gets_no_alert(committed, tiny_targets):
    agent = AgentFactory()
    ManagerFactory()
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "The VPN drops")
        lifecycle.agent_reply(ticket, agent, "Update the client.")
    due = TicketSla.objects.get(ticket=ticket).first_response_due

    sent = alerts.send_due_alerts(now=due + timedelta(minutes=1))

    assert sent == {"warning": 0, "breach": 0}
    assert not Notification.objects.filter(event__in=[Event.SLA_WARNING, Event.SLA_BREACHED])


def test_a_stale_clock_is_recomputed_before_anyone_is_told(committed, tiny_targets):
    """The reply came but its recomputation never ran: the sweep reads the history again."""
    agent = AgentFactory()
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "The VPN drops")
    due = TicketSla.objects.get(ticket=ticket).first_response_due
    lifecycle.agent_reply(ticket, agent, "Update the client.")  # on-commit never runs here

    assert alerts.send_due_alerts(now=due + timedelta(minutes=1))["breach"] == 0


def test_an_occasion_claimed_by_another_run_is_not_sent_again(committed, tiny_targets):
    AgentFactory()
    ManagerFactory()
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "The VPN drops")
    due = TicketSla.objects.get(ticket=ticket).first_response_due
    SlaAlert.objects.create(
        ticket=ticket, target=AlertTarget.FIRST_RESPONSE, kind=AlertKind.BREACH, due_at=due
    )

    assert alerts.send_due_alerts(now=due + timedelta(seconds=1))["breach"] == 0
    assert not Notification.objects.filter(event=Event.SLA_BREACHED).exists()


def test_a_ticket_waiting_unassigned_alerts_the_managers_once_per_wait(
    committed, tiny_targets, settings
):
    settings.SLA_UNASSIGNED_ALERT_MINUTES = 10
    manager = ManagerFactory(username="max")
    with committed():
        ticket = lifecycle.open_ticket(UserFactory(), "Nobody is in")  # no agent available
    alert_at = TicketSla.objects.get(ticket=ticket).unassigned_alert_at

    alerts.send_due_alerts(now=alert_at + timedelta(seconds=1))
    alerts.send_due_alerts(now=alert_at + timedelta(minutes=5))

    assert _told(Event.UNASSIGNED_WAITING) == [manager.username]
    # Assigned, then given back: a new wait, a new alert.
    agent = AgentFactory(username="ann")
    with committed():
        lifecycle.assign(ticket, agent)
    with committed():
        lifecycle.unassign(ticket)
    again = TicketSla.objects.get(ticket=ticket).unassigned_alert_at
    assert again > alert_at
    alerts.send_due_alerts(now=again + timedelta(seconds=1))
    assert Notification.objects.filter(event=Event.UNASSIGNED_WAITING).count() == 2
