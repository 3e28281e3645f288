import pytest

from tests.factories import MessageFactory, ModelVersionFactory
from tickets import lifecycle
from tickets.models import CorrectionReason, MessageRating, Role
from tickets.signals import message_rated
from training.models import ExampleSource, ReviewState, TrainingExample

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_model(settings):
    settings.ASSISTANT_ENABLED = False


@pytest.fixture
def ticket(user, agent):
    ticket = lifecycle.open_ticket(user, "My VPN drops every hour")
    MessageFactory(ticket=ticket, role=Role.AGENT, author=agent, body="Which client do you use?")
    MessageFactory(ticket=ticket, role=Role.USER, author=user, body="OpenVPN on Ubuntu 22.04")
    return ticket


def _draft(ticket, *, visible: bool, confidence: float, version=None):
    return MessageFactory(
        ticket=ticket,
        role=Role.ASSISTANT,
        author=None,
        body="Restart the computer.",
        visible_to_user=visible,
        confidence=confidence,
        passed_gate=visible,
        model_version=version or ModelVersionFactory(),
    )


def test_it_records_a_hidden_low_confidence_draft_with_its_correction(ticket, agent):
    draft = _draft(ticket, visible=False, confidence=0.31)

    reply = lifecycle.agent_reply(ticket, agent, "Set keepalive 10 60 in the config.")

    example = TrainingExample.objects.get()
    assert example.question == "OpenVPN on Ubuntu 22.04"
    assert example.context == [
        {"role": "user", "content": "My VPN drops every hour"},
        {"role": "assistant", "content": "Which client do you use?"},
    ]
    assert example.draft == "Restart the computer."
    assert example.draft_message == draft
    assert example.answer_message == reply
    assert example.correction == "Set keepalive 10 60 in the config."
    assert example.model_version == draft.model_version
    assert example.confidence == pytest.approx(0.31)
    assert example.agent == agent
    assert example.source == ExampleSource.LOW_CONFIDENCE
    assert example.reason == CorrectionReason.OTHER
    assert example.review_state == ReviewState.PENDING


def test_it_keeps_the_reason_the_agent_gave_for_an_explicit_draft(ticket, agent):
    draft = _draft(ticket, visible=True, confidence=0.9)

    lifecycle.agent_reply(ticket, agent, "Better answer", draft=draft, reason="incomplete")

    example = TrainingExample.objects.get()
    assert example.reason == CorrectionReason.INCOMPLETE
    assert example.source == ExampleSource.ANSWER


def test_it_records_an_agent_reply_without_draft(ticket, agent):
    lifecycle.agent_reply(ticket, agent, "Try the other server.")

    example = TrainingExample.objects.get()
    assert example.draft == ""
    assert example.draft_message is None
    assert example.reason == CorrectionReason.NO_DRAFT
    assert example.source == ExampleSource.NO_DRAFT


def test_it_ignores_a_hidden_draft_from_an_earlier_question(user, agent):
    ticket = lifecycle.open_ticket(user, "First question")
    _draft(ticket, visible=False, confidence=0.2)
    MessageFactory(ticket=ticket, role=Role.USER, author=user, body="Second question")

    lifecycle.agent_reply(ticket, agent, "Answer to the second")

    example = TrainingExample.objects.get()
    assert example.question == "Second question"
    assert example.source == ExampleSource.NO_DRAFT


def test_it_marks_a_draft_the_user_rated_down_as_thumbs_down(ticket, user, agent):
    draft = _draft(ticket, visible=True, confidence=0.8)
    MessageRating.objects.create(message=draft, user=user, helpful=False)

    lifecycle.agent_reply(ticket, agent, "Real fix", draft=draft, reason="wrong")

    assert TrainingExample.objects.get().source == ExampleSource.THUMBS_DOWN


def test_it_relabels_an_example_when_the_thumbs_down_comes_later(ticket, user, agent):
    draft = _draft(ticket, visible=True, confidence=0.8)
    lifecycle.agent_reply(ticket, agent, "Real fix", draft=draft, reason="wrong")

    message_rated.send(sender=MessageRating, message=draft, user=user, helpful=False)

    assert TrainingExample.objects.get().source == ExampleSource.THUMBS_DOWN


def test_it_records_nothing_when_the_reply_answers_no_question(agent, user):
    ticket = lifecycle.open_ticket(user, "Hello")
    ticket.messages.all().delete()

    lifecycle.agent_reply(ticket, agent, "Anything else?")

    assert not TrainingExample.objects.exists()
