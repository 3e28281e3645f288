import pytest

from tickets import lifecycle
from tickets.models import EscalationReason, EventKind, Status, TicketEvent

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
    assert kinds == [EventKind.OPENED, EventKind.ESCALATED, EventKind.ASSIGNED]


def test_it_refuses_illegal_transitions(user):
    ticket = lifecycle.open_ticket(user, "Laptop will not boot")
    lifecycle.close(ticket)
    with pytest.raises(lifecycle.IllegalTransition):
        lifecycle.resolve(ticket)


def test_event_kinds_keep_the_values_stored_rows_have():
    assert EventKind.values == [
        "opened",
        "status",
        "answered",
        "escalated",
        "queued",
        "assigned",
        "reassigned",
        "unassigned",
        "agent_reply",
        "resolved",
        "closed",
        "model_chosen",
        "note",
        "taken_over",
    ]


def test_every_audit_row_of_a_ticket_life_has_a_known_kind(user, agent):
    from tests.factories import AgentFactory, ModelVersionFactory

    other = AgentFactory()
    ticket = lifecycle.open_ticket(user, "Monitor flickers")
    lifecycle.choose_model(ticket, ModelVersionFactory(), user)
    lifecycle.assign(ticket, other, actor=other)
    lifecycle.unassign(ticket, actor=other)
    lifecycle.agent_reply(ticket, agent, "Try another cable.")
    lifecycle.resolve(ticket, agent)
    lifecycle.post_user_message(ticket, user, "It is back")
    lifecycle.close(ticket, agent)

    events = TicketEvent.objects.filter(ticket=ticket)
    for event in events:
        event.full_clean()  # the field's choices accept it
    assert set(events.values_list("kind", flat=True)) >= {
        EventKind.OPENED,
        EventKind.MODEL_CHOSEN,
        EventKind.REASSIGNED,
        EventKind.UNASSIGNED,
        EventKind.AGENT_REPLY,
        EventKind.RESOLVED,
        EventKind.STATUS,
        EventKind.CLOSED,
    }


@pytest.mark.django_db
def test_a_message_on_a_ticket_people_hold_gets_a_draft_only_the_agent_sees(settings, agent):
    from tests.factories import ModelVersionFactory, UserFactory
    from tickets import answering
    from tickets.models import AnswerRequest, Message, Role, Status

    settings.ASSISTANT_ENGINE = "tests.fake_engine.DeterministicEngine"
    settings.ASSISTANT_ENABLED = True
    ModelVersionFactory(gate_threshold=0.0).make_default()
    requester = UserFactory()
    ticket = lifecycle.open_ticket(requester, "[fail] vpn down")
    answering.answer_request(AnswerRequest.objects.get(ticket=ticket).pk, worker_id="t:1")
    ticket.refresh_from_db()
    lifecycle.agent_reply(ticket, agent, "Which VPN client do you use?")

    lifecycle.post_user_message(ticket, requester, "The Cisco one")
    request = AnswerRequest.objects.filter(ticket=ticket).latest("pk")
    answering.answer_request(request.pk, worker_id="t:1")

    ticket.refresh_from_db()
    draft = Message.objects.filter(ticket=ticket, role=Role.ASSISTANT).latest("pk")
    assert ticket.status in (Status.ASSIGNED, Status.ESCALATED)
    assert not draft.visible_to_user and "Cisco" in draft.body
