"""The answer job with the deterministic engine: claims, batching, the gate, failures."""

import pytest
from django.db import DataError
from django.utils import timezone

from assistant.registry import get_engine
from tests.concurrency import run_at_once
from tests.factories import ModelVersionFactory
from tickets import answering, lifecycle
from tickets.models import AnswerRequest, AnswerStatus, EscalationReason, Message, Role, Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _deterministic(settings, monkeypatch):
    settings.ASSISTANT_ENGINE = "tests.fake_engine.DeterministicEngine"
    settings.ASSISTANT_ENABLED = True
    # Nothing is enqueued: the tests call the job themselves.
    monkeypatch.setattr("tickets.enqueue.enqueue_answer", lambda request_id: False)


@pytest.fixture
def version(db):
    return ModelVersionFactory(is_default=True, gate_threshold=0.75)


def _only_request(ticket) -> AnswerRequest:
    return AnswerRequest.objects.get(ticket=ticket)


def test_it_shows_a_confident_answer_with_its_scores(user, version):
    ticket = lifecycle.open_ticket(user, "How do I reset my password?")

    assert answering.answer_request(_only_request(ticket).pk, "w:1") == 1

    ticket.refresh_from_db()
    answer = Message.objects.get(ticket=ticket, role=Role.ASSISTANT)
    assert ticket.status == Status.ANSWERED
    assert answer.visible_to_user and answer.passed_gate
    assert answer.confidence == pytest.approx(0.95)
    assert set(answer.confidence_scores) >= {"mean_top_prob", "min_chosen_prob"}
    assert answer.model_version == version
    assert _only_request(ticket).status == AnswerStatus.DONE


def test_it_escalates_a_low_confidence_answer_and_keeps_the_draft(user, agent, version):
    ticket = lifecycle.open_ticket(user, "[low] Kernel panic after update")

    answering.answer_request(_only_request(ticket).pk, "w:1")

    ticket.refresh_from_db()
    draft = Message.objects.get(ticket=ticket, role=Role.ASSISTANT)
    assert ticket.status == Status.ASSIGNED
    assert ticket.assigned_to == agent
    assert ticket.escalation_reason == EscalationReason.LOW_CONFIDENCE
    assert not draft.visible_to_user and draft.passed_gate is False
    handoff = Message.objects.get(ticket=ticket, role=Role.SYSTEM)
    assert "not confident" in handoff.body


def test_it_uses_the_threshold_of_the_model_version(user, agent):
    ModelVersionFactory(is_default=True, gate_threshold=0.99)
    ticket = lifecycle.open_ticket(user, "Wifi drops")

    answering.answer_request(_only_request(ticket).pk, "w:1")

    ticket.refresh_from_db()
    assert ticket.escalation_reason == EscalationReason.LOW_CONFIDENCE


def test_an_answer_without_the_gate_score_goes_to_people(user, agent, version):
    from assistant.engine import Generation

    ticket = lifecycle.open_ticket(user, "Scanner offline")
    batch = answering.claim_batch(_only_request(ticket).pk, "w:1")
    sure_but_unscored = Generation(
        text="Restart it.", token_probs=[0.99, 0.99], scores={}, token_count=2
    )

    answering.store_batch(batch, version, [sure_but_unscored], "w:1", 0.1)

    ticket.refresh_from_db()
    assert ticket.escalation_reason == EscalationReason.LOW_CONFIDENCE
    assert Message.objects.get(ticket=ticket, role=Role.ASSISTANT).confidence == 0.0


def test_it_escalates_when_generation_fails(user, agent, version):
    ticket = lifecycle.open_ticket(user, "[fail] Printer on fire")

    assert answering.answer_request(_only_request(ticket).pk, "w:1") == 0

    ticket.refresh_from_db()
    assert ticket.status == Status.ASSIGNED
    assert ticket.escalation_reason == EscalationReason.MODEL_ERROR
    assert _only_request(ticket).status == AnswerStatus.FAILED


def test_it_is_safe_to_run_twice(user, version):
    ticket = lifecycle.open_ticket(user, "Disk full")
    request_id = _only_request(ticket).pk

    assert answering.answer_request(request_id, "w:1") == 1
    assert answering.answer_request(request_id, "w:2") == 0

    assert Message.objects.filter(ticket=ticket, role=Role.ASSISTANT).count() == 1


def test_it_batches_pending_questions_of_the_same_model(user, version, settings):
    settings.ANSWER_BATCH_SIZE = 4
    tickets = [lifecycle.open_ticket(user, f"Question {n}") for n in range(6)]
    engine = get_engine()
    engine.calls.clear()

    first = _only_request(tickets[0]).pk
    assert answering.answer_request(first, "w:1") == 4

    assert engine.calls == [4]
    assert AnswerRequest.objects.filter(status=AnswerStatus.PENDING).count() == 2


def test_a_batch_takes_the_oldest_pending_in_order_in_queries_that_do_not_grow_with_it(
    user, version, settings
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tickets = [lifecycle.open_ticket(user, f"Question {n}") for n in range(7)]
    requests = [_only_request(t).pk for t in tickets]

    def claimed_with(size: int, first: int) -> tuple[list[int], int]:
        settings.ANSWER_BATCH_SIZE = size
        with CaptureQueriesContext(connection) as queries:
            batch = answering.claim_batch(first, "w:1")
        return [r.pk for r in batch], len(queries)

    small, small_queries = claimed_with(2, requests[6])
    large, large_queries = claimed_with(4, requests[5])

    assert small == [requests[6], requests[0]]
    assert large == [requests[5], requests[1], requests[2], requests[3]]
    # The extras are locked, claimed and read in three statements, however many they are.
    assert large_queries == small_queries


def test_an_answer_that_cannot_be_stored_sends_its_ticket_to_people_and_keeps_the_others(
    user, agent, version, settings, monkeypatch
):
    settings.ANSWER_BATCH_SIZE = 3
    tickets = [lifecycle.open_ticket(user, f"Question {n}") for n in range(3)]
    broken = tickets[1]
    record_answered = lifecycle.record_answered

    def refuse_one(ticket):
        if ticket.pk == broken.pk:
            raise DataError("invalid byte sequence")  # as PostgreSQL refuses a NUL in text
        record_answered(ticket)

    monkeypatch.setattr(lifecycle, "record_answered", refuse_one)

    assert answering.answer_request(_only_request(tickets[0]).pk, "w:1") == 2

    for ticket in tickets:
        ticket.refresh_from_db()
    assert [t.status for t in tickets] == [Status.ANSWERED, Status.ASSIGNED, Status.ANSWERED]
    assert broken.escalation_reason == EscalationReason.MODEL_ERROR
    assert "could not be stored" in _only_request(broken).error
    # Its half-stored answer went back with its savepoint.
    assert not Message.objects.filter(ticket=broken, role=Role.ASSISTANT).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_batches_claim_every_request_once_without_deadlock(user, settings):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks are the point of this test: it runs on PostgreSQL")
    ModelVersionFactory(is_default=True)
    settings.ANSWER_BATCH_SIZE = 4
    requests = [_only_request(lifecycle.open_ticket(user, f"Question {n}")).pk for n in range(16)]
    firsts = requests[::4]
    claimed: list[int] = []

    def claim(first: int) -> None:
        claimed.extend(r.pk for r in answering.claim_batch(first, f"w:{first}"))

    errors = run_at_once(claim, firsts)

    assert errors == []
    assert sorted(claimed) == sorted(set(claimed))  # nobody claimed a request twice
    assert set(firsts) <= set(claimed)
    running = AnswerRequest.objects.filter(status=AnswerStatus.RUNNING)
    assert sorted(running.values_list("pk", flat=True)) == sorted(claimed)


def test_it_sends_earlier_turns_as_context(user, version):
    ticket = lifecycle.open_ticket(user, "Outlook will not start")
    answering.answer_request(_only_request(ticket).pk, "w:1")
    lifecycle.post_user_message(ticket, user, "It says profile corrupted")
    second = AnswerRequest.objects.filter(ticket=ticket).latest("pk")

    conversation = answering.conversation_for(second)

    assert [turn["role"] for turn in conversation] == ["user", "assistant", "user"]
    assert conversation[-1]["content"] == "It says profile corrupted"


def test_it_takes_over_a_request_whose_worker_died(user, version):
    ticket = lifecycle.open_ticket(user, "VPN")
    request = _only_request(ticket)
    dead = f"{answering.socket.gethostname()}:999999999"
    AnswerRequest.objects.filter(pk=request.pk).update(
        status=AnswerStatus.RUNNING, claimed_by=dead, attempts=1
    )

    assert answering.answer_request(request.pk, "w:new") == 1


def test_it_gives_up_after_the_worker_died_too_often(user, agent, version, settings):
    ticket = lifecycle.open_ticket(user, "VPN")
    request = _only_request(ticket)
    dead = f"{answering.socket.gethostname()}:999999999"
    AnswerRequest.objects.filter(pk=request.pk).update(
        status=AnswerStatus.RUNNING, claimed_by=dead, attempts=settings.ANSWER_MAX_ATTEMPTS
    )

    assert answering.answer_request(request.pk, "w:new") == 0

    ticket.refresh_from_db()
    assert ticket.escalation_reason == EscalationReason.TIMEOUT


def test_sweep_requeues_answers_that_were_never_enqueued(user, version, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "tickets.enqueue.enqueue_answer", lambda request_id: sent.append(request_id) or True
    )
    ticket = lifecycle.open_ticket(user, "Mouse")
    request = _only_request(ticket)
    later = timezone.now() + timezone.timedelta(seconds=90)

    counts = answering.sweep_stale(now=later)

    assert counts["requeued"] == 1 and sent[-1] == request.pk


def test_sweep_escalates_answers_older_than_the_limit(user, agent, version, settings):
    ticket = lifecycle.open_ticket(user, "Keyboard")
    later = timezone.now() + timezone.timedelta(seconds=settings.ANSWER_GIVE_UP_AFTER_S + 1)

    counts = answering.sweep_stale(now=later)

    ticket.refresh_from_db()
    assert counts["escalated"] == 1
    assert ticket.escalation_reason == EscalationReason.STALE


def test_sweep_resets_running_answers_of_lost_workers(user, version, settings):
    ticket = lifecycle.open_ticket(user, "Monitor")
    request = _only_request(ticket)
    AnswerRequest.objects.filter(pk=request.pk).update(
        status=AnswerStatus.RUNNING,
        claimed_by="elsewhere:1",
        attempts=1,
        claimed_at=timezone.now(),
    )
    later = timezone.now() + timezone.timedelta(seconds=settings.ANSWER_HARD_TIME_LIMIT_S + 31)

    counts = answering.sweep_stale(now=later)

    assert counts["reset"] == 1
    assert AnswerRequest.objects.get(pk=request.pk).status == AnswerStatus.PENDING


def test_it_sends_answers_to_the_queue_of_their_model_version(user, monkeypatch):
    from tickets import enqueue, tasks

    ModelVersionFactory(is_default=True, queue="gpu-qwen2")
    sent = []
    monkeypatch.undo()  # the autouse fixture replaced enqueue_answer itself: restore it
    monkeypatch.setattr(
        "celery.Celery.send_task",
        lambda app, name, **kwargs: sent.append((name, kwargs["args"], kwargs["queue"])),
    )
    ticket = lifecycle.open_ticket(user, "GPU question")
    request_id = _only_request(ticket).pk

    assert enqueue.enqueue_answer(request_id)

    assert sent == [(tasks.answer_pending.name, [request_id], "gpu-qwen2")]
