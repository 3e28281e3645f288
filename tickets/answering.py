"""Answer jobs: claim pending questions, generate in batches, store answers and gate them."""

import logging
import os
import socket
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from assistant.engine import Generation
from assistant.gate import decide
from assistant.models import ModelVersion
from assistant.registry import get_engine, spec_for
from knowledge.grounding import Grounding, ground, grounded_evidence, with_notes

from . import enqueue, lifecycle
from .models import AnswerRequest, AnswerStatus, EscalationReason, Message, Role, Status

log = logging.getLogger(__name__)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- claiming ---------------------------------------------------------------


def _claim(request_id: int, worker_id: str) -> bool:
    """Take a pending request, or one whose claimant on this host has died (a redelivery)."""
    claimed = AnswerRequest.objects.filter(pk=request_id, status=AnswerStatus.PENDING).update(
        status=AnswerStatus.RUNNING,
        claimed_by=worker_id,
        claimed_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    if claimed:
        return True
    running = AnswerRequest.objects.filter(pk=request_id, status=AnswerStatus.RUNNING).first()
    if running is None or not _claimant_is_dead(running.claimed_by):
        return False  # done, failed, or another live process is generating it
    if running.attempts >= settings.ANSWER_MAX_ATTEMPTS:
        # Killed every time (hard time limit, out of memory): stop retrying, hand to people.
        fail_request(request_id, EscalationReason.TIMEOUT, "worker lost while generating")
        return False
    # The previous claimant was killed mid-generation; the conditional update keeps two
    # redeliveries from both taking it over.
    return bool(
        AnswerRequest.objects.filter(
            pk=request_id, status=AnswerStatus.RUNNING, claimed_by=running.claimed_by
        ).update(claimed_by=worker_id, claimed_at=timezone.now(), attempts=F("attempts") + 1)
    )


def _claimant_is_dead(claimed_by: str) -> bool:
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's process: the sweep decides by age instead
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim_batch(request_id: int, worker_id: str) -> list[AnswerRequest]:
    """Claim this request plus the oldest others pending for the same model, up to the
    batch size."""
    if not _claim(request_id, worker_id):
        return []
    first = AnswerRequest.objects.select_related("model_version").get(pk=request_id)
    batch = [first]
    room = settings.ANSWER_BATCH_SIZE - 1
    if room > 0 and first.model_version_id is not None:
        claimed = _claim_oldest_pending(first, room, worker_id)
        # One read for all the extras, in the order they were claimed (oldest first).
        by_id = AnswerRequest.objects.in_bulk(claimed)
        batch += [by_id[pk] for pk in claimed]
    for request in batch:
        request.model_version = first.model_version
    return batch


def _claim_oldest_pending(first: AnswerRequest, room: int, worker_id: str) -> list[int]:
    """Up to `room` pending requests for the model of `first`, claimed in one transaction of
    two statements whatever the batch size. Rows another worker is claiming at the same
    moment are skipped, not waited for (PostgreSQL's SKIP LOCKED; SQLite takes the whole
    database for the transaction): two batches never deadlock or take the same request."""
    with transaction.atomic():
        pending = list(
            AnswerRequest.objects.select_for_update(skip_locked=True)
            .filter(status=AnswerStatus.PENDING, model_version_id=first.model_version_id)
            .exclude(pk=first.pk)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:room]
        )
        AnswerRequest.objects.filter(pk__in=pending).update(
            status=AnswerStatus.RUNNING,
            claimed_by=worker_id,
            claimed_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
    return pending


# --- conversation -----------------------------------------------------------


def ground_batch(conversations: list[list[dict[str, str]]]) -> list[Grounding]:
    """The knowledge for each question of the batch (one embedding call for the batch)."""
    if not settings.KNOWLEDGE_GROUNDING:
        return [Grounding() for _ in conversations]
    try:
        return ground([conversation[-1]["content"] for conversation in conversations])
    except SoftTimeLimitExceeded:
        raise
    except Exception:  # no knowledge is no reason to send the user to a person
        log.exception("Retrieval failed; answering without notes")
        return [Grounding() for _ in conversations]


def conversation_for(request: AnswerRequest) -> list[dict[str, str]]:
    """The ticket's turns up to the question, as chat roles; drafts the user never saw and
    system notices are left out. The engine trims the oldest turns to fit the model."""
    return Message.objects.filter(
        ticket_id=request.ticket_id,
        created_at__lte=request.question.created_at,
        pk__lte=request.question_id,
    ).as_chat()


# --- the job ----------------------------------------------------------------


def answer_request(request_id: int, worker_id: str | None = None) -> int:
    """Answer the request (batched with others pending for its model); returns how many."""
    worker_id = worker_id or worker_identity()
    batch = claim_batch(request_id, worker_id)
    if not batch:
        return 0
    version = batch[0].model_version
    if version is None or not version.enabled:
        _fail(batch, worker_id, EscalationReason.NO_MODEL, "model version missing or disabled")
        return 0
    started = time.monotonic()
    conversations = [conversation_for(request) for request in batch]
    try:
        groundings = ground_batch(conversations)
        generations = get_engine().generate(
            spec_for(version),
            [with_notes(c, g) for c, g in zip(conversations, groundings, strict=True)],
        )
    except SoftTimeLimitExceeded:
        _fail(batch, worker_id, EscalationReason.TIMEOUT, "soft time limit exceeded")
        return 0
    except Exception as exc:
        log.exception("Generation failed for %d request(s)", len(batch))
        _fail(batch, worker_id, EscalationReason.MODEL_ERROR, repr(exc))
        return 0
    evidence = evidence_for(generations, groundings, conversations)
    elapsed = time.monotonic() - started
    return store_batch(batch, version, generations, worker_id, elapsed, groundings, evidence)


def evidence_for(
    generations: list[Generation],
    groundings: list[Grounding],
    conversations: list[list[dict[str, str]]],
) -> list[dict[str, float | None]]:
    """How far each answer says what its best passage or case says, and how far it is about
    its question: the gate's evidence, kept with every answer (trained gate or not) so a
    gate can be fitted on the desk later."""
    try:
        found = grounded_evidence(
            [g.text for g in generations],
            groundings,
            [conversation[-1]["content"] for conversation in conversations],
        )
        return [dict(e) for e in found]
    except SoftTimeLimitExceeded:
        raise
    except Exception:  # a missing feature reads as no evidence; the answer still counts
        log.exception("Could not embed the answers; agreement and relevance unknown")
        return [{"agreement": None, "relevance": None} for _ in generations]


def store_batch(
    batch: list[AnswerRequest],
    version: ModelVersion,
    generations: list[Generation],
    worker_id: str,
    batch_seconds: float,
    groundings: list[Grounding] | None = None,
    evidence: list[dict[str, float | None]] | None = None,
) -> int:
    """Store a batch's answers in one transaction: one commit for the batch, not one per
    answer. An answer that cannot be stored (say, text the database refuses) rolls back to
    its own savepoint and its ticket goes to people; the others are kept."""
    stored = 0
    with transaction.atomic():
        groundings = groundings or [Grounding() for _ in batch]
        evidence = evidence or [{} for _ in batch]
        for request, generation, grounding, found in zip(
            batch, generations, groundings, evidence, strict=True
        ):
            try:
                stored += store_answer(
                    request,
                    version,
                    generation,
                    worker_id,
                    batch_seconds,
                    len(batch),
                    grounding,
                    found,
                )
            except Exception as exc:  # whatever it was, this ticket must reach a person
                log.exception("Could not store the answer to request %d", request.pk)
                fail_request(
                    request.pk,
                    EscalationReason.MODEL_ERROR,
                    f"answer could not be stored: {exc!r}",
                    claimed_by=worker_id,
                )
    return stored


def store_answer(
    request: AnswerRequest,
    version: ModelVersion,
    generation: Generation,
    worker_id: str,
    batch_seconds: float,
    batch_size: int,
    grounding: Grounding | None = None,
    evidence: dict[str, float | None] | None = None,
) -> int:
    """Save the answer and act on the gate; does nothing if this worker lost the claim."""
    grounding = grounding or Grounding()
    retrieval = {
        **grounding.features(),
        "agreement": None,
        "relevance": None,
        **(evidence or {}),
    }
    decision = decide(
        version,
        retrieval=retrieval,
        scores=generation.scores,
        token_count=generation.token_count,
        text=generation.text,
    )
    confidence, passed = decision.confidence, decision.passed
    with transaction.atomic():
        finished = AnswerRequest.objects.filter(
            pk=request.pk, status=AnswerStatus.RUNNING, claimed_by=worker_id
        ).update(status=AnswerStatus.DONE, finished_at=timezone.now())
        if not finished:
            return 0  # claimed again elsewhere after a redelivery: their answer wins
        ticket = lifecycle.lock(request.ticket)
        # Once people hold the ticket the answer is only a draft for them.
        shown = passed and ticket.status == Status.AWAITING_ASSISTANT
        answer = Message.objects.create(
            ticket=ticket,
            role=Role.ASSISTANT,
            body=generation.text,
            visible_to_user=shown,
            model_version=version,
            confidence_scores=generation.scores,
            confidence=confidence,
            passed_gate=passed,
            token_count=generation.token_count,
            sources=grounding.sources,
            retrieval=retrieval,
            timings={
                **generation.timings,
                "batch_s": round(batch_seconds, 4),
                "batch_size": batch_size,
                "queued_s": _seconds_since(request.created_at),
            },
        )
        AnswerRequest.objects.filter(pk=request.pk).update(answer=answer)
        if shown:
            lifecycle.record_answered(ticket)
        elif ticket.status == Status.AWAITING_ASSISTANT:
            lifecycle.escalate(
                ticket, EscalationReason.LOW_CONFIDENCE, note=f"confidence {confidence:.2f}"
            )
    return 1


def _seconds_since(moment: datetime) -> float:
    return round((timezone.now() - moment).total_seconds(), 4)


def _fail(batch: Iterable[AnswerRequest], worker_id: str, reason: str, error: str) -> None:
    for request in batch:
        fail_request(request.pk, reason, error, claimed_by=worker_id)


def fail_request(
    request_id: int, reason: str, error: str, *, claimed_by: str | None = None
) -> bool:
    """Give up on an answer: the user gets the hand-off message and the ticket goes to people."""
    with transaction.atomic():
        requests = AnswerRequest.objects.filter(
            pk=request_id, status__in=(AnswerStatus.PENDING, AnswerStatus.RUNNING)
        )
        if claimed_by is not None:
            requests = requests.filter(claimed_by=claimed_by)
        if not requests.update(
            status=AnswerStatus.FAILED, error=error[:2000], finished_at=timezone.now()
        ):
            return False
        request = AnswerRequest.objects.select_related("ticket").get(pk=request_id)
        if request.ticket.status == Status.AWAITING_ASSISTANT:
            lifecycle.escalate(request.ticket, reason, note=error[:200])
    return True


# --- the sweep --------------------------------------------------------------


def sweep_stale(now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue answers that never ran (Redis down, lost message); give up on old ones.

    A running answer older than the hard time limit belongs to a process that died without
    its message coming back; it gets another attempt, up to ANSWER_MAX_ATTEMPTS.
    """
    now = now or timezone.now()
    requeue_before = now - timedelta(seconds=settings.ANSWER_REQUEUE_AFTER_S)
    give_up_before = now - timedelta(seconds=settings.ANSWER_GIVE_UP_AFTER_S)
    dead_before = now - timedelta(seconds=settings.ANSWER_HARD_TIME_LIMIT_S + 30)
    counts = {"requeued": 0, "escalated": 0, "reset": 0}

    for request_id in AnswerRequest.objects.filter(
        status=AnswerStatus.RUNNING, claimed_at__lt=dead_before
    ).values_list("pk", flat=True):
        request = AnswerRequest.objects.get(pk=request_id)
        if request.attempts >= settings.ANSWER_MAX_ATTEMPTS:
            counts["escalated"] += fail_request(request_id, EscalationReason.TIMEOUT, "worker lost")
        elif AnswerRequest.objects.filter(
            pk=request_id, status=AnswerStatus.RUNNING, claimed_by=request.claimed_by
        ).update(status=AnswerStatus.PENDING, claimed_by="", enqueued_at=None):
            counts["reset"] += 1

    pending = AnswerRequest.objects.filter(status=AnswerStatus.PENDING)
    for request_id in pending.filter(created_at__lt=give_up_before).values_list("pk", flat=True):
        counts["escalated"] += fail_request(request_id, EscalationReason.STALE, "never answered")
    stale = pending.filter(created_at__gte=give_up_before, created_at__lt=requeue_before).exclude(
        enqueued_at__gte=requeue_before
    )
    for request_id in stale.values_list("pk", flat=True):
        counts["requeued"] += enqueue.enqueue_answer(request_id)
    return counts
