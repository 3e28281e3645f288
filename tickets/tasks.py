"""Celery tasks of the helpdesk: answer pending questions, sweep stale answers.

They are sent by name (see tickets.enqueue), so senders need not import them.
"""

import logging

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings

from . import answering
from .enqueue import ANSWER_TASK

# Only the real engine has weights worth loading before the first question.
_WARMED_ENGINE = "assistant.transformers_engine.TransformersEngine"

log = logging.getLogger(__name__)


@shared_task(
    name=ANSWER_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.ANSWER_SOFT_TIME_LIMIT_S,
    time_limit=settings.ANSWER_HARD_TIME_LIMIT_S,
)
def answer_pending(request_id: int) -> int:
    return answering.answer_request(request_id)


@shared_task
def sweep_stale_answers() -> dict[str, int]:
    return answering.sweep_stale()


@worker_process_init.connect
def load_default_model(**kwargs: object) -> None:
    """Each worker process loads the default model after the fork, before its first task,
    so the first user does not wait for the load. A failure only logs: the task that
    needs the model fails again and escalates the ticket with its reason."""
    if not settings.ASSISTANT_WARM_UP or settings.ASSISTANT_ENGINE != _WARMED_ENGINE:
        return
    from assistant.models import ModelVersion
    from assistant.registry import spec_for
    from assistant.worker import warm_up

    try:
        version = ModelVersion.default()
        if version is not None:
            warm_up(spec_for(version), settings.TORCH_THREADS)
    except Exception:
        log.exception("Could not load the default model at worker start")
