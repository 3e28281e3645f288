"""On its real path: the beat on a real worker sends one warning and one breach alert for a
ticket with a one-minute target, through a real SMTP server, and nothing more after."""

from datetime import timedelta

import pytest

from sla import sync
from sla.models import SlaPolicy, TicketSla
from tests.factories import AgentFactory, ManagerFactory, UserFactory
from tests.live import wait_until
from tickets import lifecycle
from tickets.models import Message, Priority, Ticket, TicketEvent

pytestmark = pytest.mark.slow

LEAD_S = 6  # the warning's lead time
DUE_IN_S = 10  # the ticket's first response falls due this long after the worker is up


def _subjects(smtp_server, start: str) -> list[str]:
    return sorted(str(m["To"]) for m in smtp_server.messages if str(m["Subject"]).startswith(start))


def _beat_runs(worker) -> int:
    return worker.log().count("Task sla.tasks.send_sla_alerts[") // 2  # received, succeeded


def test_one_warning_and_one_breach_reach_the_agent_and_the_managers(
    start_worker, smtp_server, round_the_clock, settings
):
    settings.ASSISTANT_ENABLED = False
    SlaPolicy.objects.filter(priority=Priority.NORMAL).update(first_response_minutes=1)
    agent = AgentFactory(username="ann", email="ann@example.com")
    manager = ManagerFactory(username="max", email="max@example.com")
    worker = start_worker(
        queues=settings.DEFAULT_QUEUE,
        beat=True,
        SLA_ALERT_INTERVAL_S="1",
        SLA_WARNING_LEAD_S=str(LEAD_S),
        ASSISTANT_ENABLED="0",
    )
    ticket = lifecycle.open_ticket(UserFactory(), "The VPN drops")
    assert Ticket.objects.get(pk=ticket.pk).assigned_to == agent
    # Opened 50 s ago by its clock: the one-minute target falls due in 10 s.
    back = timedelta(seconds=60 - DUE_IN_S)
    for model, field in ((Ticket, "pk"), (Message, "ticket"), (TicketEvent, "ticket")):
        for row in model.objects.filter(**{field: ticket.pk}):
            model.objects.filter(pk=row.pk).update(created_at=row.created_at - back)
    due = sync.recompute(ticket.pk).first_response_due

    wait_until(lambda: len(_subjects(smtp_server, "SLA due soon")) == 2, 30, "the warnings")
    wait_until(lambda: len(_subjects(smtp_server, "SLA breached")) == 2, 30, "the alerts")
    runs = _beat_runs(worker)
    wait_until(lambda: _beat_runs(worker) >= runs + 3, 30, "three more beats")

    assert _subjects(smtp_server, "SLA due soon") == [agent.email, manager.email]
    assert _subjects(smtp_server, "SLA breached") == [agent.email, manager.email]
    assert TicketSla.objects.get(ticket=ticket).breached_at == due
