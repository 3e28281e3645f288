"""Celery tasks of the helpdesk: answer pending questions, sweep stale answers."""

import logging

log = logging.getLogger(__name__)


def enqueue_answer(request_id: int) -> None:
    """Placeholder until the inference task lands."""
