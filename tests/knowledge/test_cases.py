"""Solved cases follow the review: approved corrections and resolved tickets become cases at
once (redacted), rejected ones and erased tickets take theirs away."""

import pytest

from knowledge.models import CaseSource, SolvedCase
from tests.feedback.helpers import make_example
from tickets import lifecycle
from training.feedback.erasure import erase_ticket
from training.feedback.review import edit_correction, set_state
from training.models import ReviewState

pytestmark = pytest.mark.django_db


def test_an_approved_correction_becomes_a_redacted_case(manager) -> None:
    example = make_example(
        state=ReviewState.PENDING,
        question="VPN fails for bob@corp.example.com",
        correction="Reset it in Settings > VPN.",
    )

    set_state([example], ReviewState.APPROVED, manager)

    solved = SolvedCase.objects.get()
    assert (solved.source, solved.ticket_id) == (CaseSource.CORRECTION, example.ticket_id)
    assert "bob@corp.example.com" not in solved.question and solved.embedding is None
    assert solved.answer == "Reset it in Settings > VPN."


def test_a_rejected_correction_takes_its_case_away(manager) -> None:
    example = make_example(state=ReviewState.PENDING)
    set_state([example], ReviewState.APPROVED, manager)

    set_state([example], ReviewState.REJECTED, manager)

    assert not SolvedCase.objects.exists()


def test_an_edited_correction_rewrites_its_case(manager) -> None:
    example = make_example(state=ReviewState.PENDING, correction="old")
    set_state([example], ReviewState.APPROVED, manager)

    edit_correction(example, "the better answer", manager)

    assert SolvedCase.objects.get().answer == "the better answer"


def test_a_resolved_ticket_makes_a_case_of_its_unreviewed_answer(agent) -> None:
    example = make_example(state=ReviewState.PENDING)
    ticket = example.ticket
    ticket.status = "assigned"
    ticket.assigned_to = agent
    ticket.save()

    lifecycle.resolve(ticket, agent)

    assert SolvedCase.objects.get().source == CaseSource.RESOLVED


def test_a_resolved_ticket_with_a_rejected_answer_makes_none(agent, manager) -> None:
    example = make_example(state=ReviewState.REJECTED)
    ticket = example.ticket
    ticket.status = "assigned"
    ticket.save()

    lifecycle.resolve(ticket, agent)

    assert not SolvedCase.objects.exists()


def test_an_erased_ticket_takes_its_cases_with_it(manager) -> None:
    example = make_example(state=ReviewState.PENDING)
    set_state([example], ReviewState.APPROVED, manager)

    erase_ticket(example.ticket_id, requested_by=manager)

    assert not SolvedCase.objects.exists()
