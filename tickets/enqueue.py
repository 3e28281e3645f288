"""Sending an answer job to the workers, by the task's name.

By name so that those who send it (the lifecycle, the answer sweep) need not import the job
that answers it: the message is the contract between them.
"""

import logging

from celery import current_app
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import KombuError, OperationalError
from redis.exceptions import RedisError

from .models import AnswerRequest

log = logging.getLogger(__name__)

ANSWER_TASK = "tickets.tasks.answer_pending"


def enqueue_answer(request_id: int) -> bool:
    """Send the answer job to its model's queue; if Redis is down, the sweep retries later.

    Called after the transaction commits, so the worker always finds the saved rows. The
    time limits are the task's own (tickets.tasks): Celery puts them in the message when
    this process has the task registered, and the worker applies them otherwise.
    """
    try:
        current_app.send_task(
            ANSWER_TASK, args=[request_id], queue=_queue_for(request_id), retry=False
        )
    except (OperationalError, KombuError, RedisError, OSError) as exc:
        log.warning("Could not enqueue answer %s (%s); the sweep will retry", request_id, exc)
        return False
    AnswerRequest.objects.filter(pk=request_id).update(enqueued_at=timezone.now())
    return True


def _queue_for(request_id: int) -> str:
    """Versions with workers of their own name their queue; the rest share one."""
    queue = (
        AnswerRequest.objects.filter(pk=request_id)
        .values_list("model_version__queue", flat=True)
        .first()
    )
    return queue or settings.INFERENCE_QUEUE
