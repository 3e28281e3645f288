"""A real Celery worker against real Redis: answers settle even when things go wrong.

The deterministic engine stands in for the model here (its "[slow]" and "[fail]" markers make
faults happen on cue); tests/test_end_to_end.py runs the same path with the real model.
"""

import os
import signal

import pytest
from kombu.exceptions import OperationalError

from tests.factories import ModelVersionFactory
from tests.live import wait_until
from tickets import answering, lifecycle, tasks
from tickets.enqueue import ANSWER_TASK
from tickets.models import AnswerRequest, AnswerStatus, EscalationReason, Status, Ticket

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

FAKE = "tests.fake_engine.DeterministicEngine"


@pytest.fixture
def version(transactional_db, settings):
    settings.ASSISTANT_ENABLED = True
    return ModelVersionFactory(is_default=True)


def _settled(ticket: Ticket) -> Ticket | None:
    ticket.refresh_from_db()
    return ticket if ticket.status not in (Status.OPEN, Status.AWAITING_ASSISTANT) else None


def test_it_answers_through_a_real_worker(start_worker, version, user):
    start_worker(ASSISTANT_ENGINE=FAKE)

    ticket = lifecycle.open_ticket(user, "How do I map a network drive?")

    wait_until(lambda: _settled(ticket), 30, "the answer")
    assert ticket.status == Status.ANSWERED
    assert ticket.messages.filter(role="assistant", visible_to_user=True).count() == 1


def test_it_settles_a_ticket_when_the_worker_is_killed_mid_generation(start_worker, version, user):
    start_worker(ASSISTANT_ENGINE=FAKE, FAKE_ENGINE_SLOW_S="6")
    ticket = lifecycle.open_ticket(user, "[slow] Outlook hangs")
    request = AnswerRequest.objects.get(ticket=ticket)

    running = wait_until(
        lambda: AnswerRequest.objects.filter(pk=request.pk, status=AnswerStatus.RUNNING).first(),
        30,
        "the worker to claim the answer",
    )
    pool_child_pid = int(running.claimed_by.rpartition(":")[2])
    os.kill(pool_child_pid, signal.SIGKILL)

    wait_until(lambda: _settled(ticket), 60, "the ticket to settle after the kill")
    request.refresh_from_db()
    assert ticket.status == Status.ANSWERED
    assert request.attempts == 2  # redelivered by the late ack, claimed again
    assert ticket.messages.filter(role="assistant").count() == 1


def test_it_escalates_when_the_time_limit_is_hit(start_worker, version, user, agent, monkeypatch):
    # The limits travel in the message, from the sender's task definition.
    monkeypatch.setattr(tasks.answer_pending, "soft_time_limit", 2)
    monkeypatch.setattr(tasks.answer_pending, "time_limit", 8)
    monkeypatch.setattr(tasks.answer_pending, "_exec_options", None)  # Celery caches them
    start_worker(
        ASSISTANT_ENGINE=FAKE,
        FAKE_ENGINE_SLOW_S="30",
        ANSWER_SOFT_TIME_LIMIT_S="2",
        ANSWER_HARD_TIME_LIMIT_S="8",
    )
    ticket = lifecycle.open_ticket(user, "[slow] Teams crashes")

    wait_until(lambda: _settled(ticket), 40, "the timeout escalation")
    assert ticket.status == Status.ASSIGNED
    assert ticket.escalation_reason == EscalationReason.TIMEOUT


def test_it_escalates_when_generation_raises(start_worker, version, user, agent):
    start_worker(ASSISTANT_ENGINE=FAKE)
    ticket = lifecycle.open_ticket(user, "[fail] Blue screen")

    wait_until(lambda: _settled(ticket), 30, "the error escalation")
    assert ticket.escalation_reason == EscalationReason.MODEL_ERROR


def test_it_escalates_when_the_model_cannot_load(start_worker, version, user, agent):
    start_worker()  # the real engine, and the version's base path does not exist
    ticket = lifecycle.open_ticket(user, "Where is my home folder?")

    wait_until(lambda: _settled(ticket), 60, "the load-failure escalation")
    assert ticket.escalation_reason == EscalationReason.MODEL_ERROR


def test_a_message_posted_while_redis_is_down_is_kept_and_answered_later(
    start_worker, version, user, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr("celery.Celery.send_task", broker_down)
        ticket = lifecycle.open_ticket(user, "Printer offline")
    request = AnswerRequest.objects.get(ticket=ticket)
    assert request.status == AnswerStatus.PENDING and request.enqueued_at is None

    start_worker(ASSISTANT_ENGINE=FAKE)
    later = request.created_at + answering.timezone.timedelta(seconds=61)
    assert answering.sweep_stale(now=later)["requeued"] == 1

    wait_until(lambda: _settled(ticket), 30, "the swept answer")
    assert ticket.status == Status.ANSWERED


def test_enqueueing_to_an_unreachable_broker_fails_fast_and_cleanly(version, user, settings):
    from helpdesk.celery import app
    from tests.live import free_port

    with (
        app.connection_for_write(f"redis://127.0.0.1:{free_port()}/0") as conn,
        pytest.raises(OperationalError),
    ):
        app.send_task(ANSWER_TASK, args=[1], retry=False, connection=conn)
