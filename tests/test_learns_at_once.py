"""Learned at once: an approved correction becomes a solved case that the worker indexes, and
the next user asking the same in other words is answered with it in the prompt, with no
retraining. Real worker, real Redis, real MiniLM and the real SmolLM2."""

import pytest
from django.urls import reverse

from knowledge.models import CaseSource, SolvedCase
from tests.feedback.helpers import make_example
from tests.live import wait_until
from tickets.models import Message, Role, Status, Ticket
from training.feedback.review import set_state
from training.models import ReviewState

pytestmark = [pytest.mark.slow]

MODEL_WAIT_S = 420  # two shared cores; a broken path still fails, later


def _answer(ticket_id: int) -> Message | None:
    ticket = Ticket.objects.get(pk=ticket_id)
    if ticket.status in (Status.OPEN, Status.AWAITING_ASSISTANT):
        return None
    return Message.objects.filter(ticket=ticket, role=Role.ASSISTANT).first()


def test_an_approved_correction_grounds_the_next_answer_to_the_same_question(
    start_worker, smollm2, client, user, manager
):
    start_worker(queues="inference,default")
    example = make_example(
        state=ReviewState.PENDING,
        question="The badge printer on floor 3 prints blank labels",
        correction="Run `labelctl reset --tray 2` on the print server, then print a test label.",
    )

    set_state([example], ReviewState.APPROVED, manager)  # commits: the index task is sent

    case = SolvedCase.objects.get(source=CaseSource.CORRECTION)
    wait_until(
        lambda: SolvedCase.objects.filter(pk=case.pk).exclude(embedding=None).exists(),
        120,
        "the worker to index the new case",
    )
    client.force_login(user)
    client.post(
        reverse("tickets:new"),
        {
            "body": "the label printer on the third floor gives me empty badges",
            "category": "general",
        },
    )
    ticket_id = Ticket.objects.filter(requester=user).latest("pk").pk

    answer = wait_until(lambda: _answer(ticket_id), MODEL_WAIT_S, "the grounded answer")

    notes = answer.retrieval["notes"]
    assert {"kind": "case", "id": case.pk} == {k: notes[0][k] for k in ("kind", "id")}
    assert notes[0]["score"] > 0.6 and answer.body.strip()
    # A case informs the answer but is never shown as a source to another user.
    assert answer.sources == []
