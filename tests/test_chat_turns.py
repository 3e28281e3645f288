"""Messages as chat turns: one role mapping for answering and for training examples."""

import pytest

from tests.factories import MessageFactory, TicketFactory
from tickets.answering import conversation_for
from tickets.models import CHAT_ROLES, AnswerRequest, Message, Role
from training.feedback.corrections import conversation_before

pytestmark = pytest.mark.django_db


def _ticket_with_every_role():
    ticket = TicketFactory()
    MessageFactory(ticket=ticket, role=Role.USER, body="VPN drops")
    MessageFactory(ticket=ticket, role=Role.ASSISTANT, body="draft", visible_to_user=False)
    MessageFactory(ticket=ticket, role=Role.SYSTEM, body="handed to people")
    MessageFactory(ticket=ticket, role=Role.AGENT, body="Reinstall the client.")
    MessageFactory(ticket=ticket, role=Role.ASSISTANT, body="Anything else?")
    question = MessageFactory(ticket=ticket, role=Role.USER, body="Still drops")
    return ticket, question


def test_it_maps_agents_to_the_assistant_side_and_leaves_out_what_the_user_never_saw():
    ticket, _question = _ticket_with_every_role()

    turns = Message.objects.filter(ticket=ticket).as_chat()

    assert turns == [
        {"role": "user", "content": "VPN drops"},
        {"role": "assistant", "content": "Reinstall the client."},
        {"role": "assistant", "content": "Anything else?"},
        {"role": "user", "content": "Still drops"},
    ]
    assert Role.SYSTEM not in CHAT_ROLES


def test_answering_and_training_examples_see_the_same_conversation():
    ticket, question = _ticket_with_every_role()
    request = AnswerRequest.objects.create(ticket=ticket, question=question)

    assert conversation_for(request)[:-1] == conversation_before(ticket, question)
    assert conversation_for(request)[-1] == {"role": "user", "content": "Still drops"}
