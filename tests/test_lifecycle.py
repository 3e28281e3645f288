import pytest

from tickets import lifecycle
from tickets.models import EscalationReason, Status, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_model(settings):
    settings.ASSISTANT_ENABLED = False


def test_it_escalates_new_ticket_to_an_agent_when_there_is_no_model(user, agent):
    ticket = lifecycle.open_ticket(user, "My VPN drops every hour")

    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED
    assert ticket.assigned_to == agent
    assert ticket.escalation_reason == EscalationReason.NO_MODEL
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == ["opened", "escalated", "assigned"]


def test_it_refuses_illegal_transitions(user):
    ticket = lifecycle.open_ticket(user, "Laptop will not boot")
    lifecycle.close(ticket)
    with pytest.raises(lifecycle.IllegalTransition):
        lifecycle.resolve(ticket)
