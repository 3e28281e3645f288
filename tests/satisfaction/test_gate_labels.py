"""A low rating (1-2) of a ticket the assistant resolved alone is a negative label for the
gate's training data: the answer that ended the ticket comes out of label_desk as bad."""

import pytest

from tests.factories import AgentFactory, ModelVersionFactory
from tests.feedback.helpers import requester
from tests.gate.test_desk_labels import Desk
from tickets import lifecycle
from tickets.models import MessageRating, Role, Status
from training.pipeline.gate import label_desk

from .helpers import rate

pytestmark = pytest.mark.django_db


def _answered_for_a_requester(desk: Desk, question: str):
    """An answered ticket whose requester is a portal user (who may mark it solved and rate it)."""
    answer = desk.answered(question)
    ticket = answer.ticket
    ticket.requester = requester()
    ticket.status = Status.ANSWERED
    ticket.save()
    return answer, ticket


def _resolved_by_its_requester(desk: Desk, question: str):
    answer, ticket = _answered_for_a_requester(desk, question)
    lifecycle.mark_solved(ticket, ticket.requester)
    ticket.refresh_from_db()
    return answer, ticket


def _labels(version) -> dict[str, tuple[bool, str]]:
    return {a.question: (a.good, a.source) for a in label_desk(version, good_bar=0.6)}


def test_a_low_rating_of_a_ticket_the_assistant_resolved_labels_its_answer_bad():
    version = ModelVersionFactory()
    desk = Desk(version)
    _, low = _resolved_by_its_requester(desk, "rated 2")
    rate(low, 2)
    _, high = _resolved_by_its_requester(desk, "rated 5")
    rate(high, 5)
    _resolved_by_its_requester(desk, "not rated")

    assert _labels(version) == {
        "rated 2": (False, "low_rating"),
        "rated 5": (True, "resolved"),
        "not rated": (True, "resolved"),
    }


def test_it_outweighs_a_thumbs_up_on_the_same_answer():
    version = ModelVersionFactory()
    desk = Desk(version)
    answer, ticket = _resolved_by_its_requester(desk, "liked, then rated 1")
    MessageRating.objects.create(message=answer, user=ticket.requester, helpful=True)
    rate(ticket, 1)

    assert _labels(version) == {"liked, then rated 1": (False, "low_rating")}


def test_only_the_answer_that_ended_the_ticket_is_labelled():
    version = ModelVersionFactory()
    desk = Desk(version)
    first, ticket = _answered_for_a_requester(desk, "first try")
    desk._at(ticket.messages.create(role=Role.USER, body="second try"))
    desk._at(
        ticket.messages.create(
            role=Role.ASSISTANT,
            body="Restart it.",
            model_version=version,
            retrieval=first.retrieval,
            confidence_scores=first.confidence_scores,
            token_count=3,
        )
    )
    lifecycle.mark_solved(ticket, ticket.requester)
    ticket.refresh_from_db()
    rate(ticket, 2)

    assert _labels(version) == {"second try": (False, "low_rating")}


def test_a_low_rating_of_a_ticket_people_resolved_leaves_the_answers_label_alone():
    version = ModelVersionFactory()
    desk = Desk(version)
    _, ticket = _answered_for_a_requester(desk, "people fixed it")
    lifecycle.resolve(ticket, AgentFactory())  # an agent's action: people's resolution
    ticket.refresh_from_db()
    before = _labels(version)
    rate(ticket, 1)

    assert _labels(version) == before == {"people fixed it": (True, "resolved")}
