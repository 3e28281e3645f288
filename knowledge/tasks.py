"""Indexing tasks: one article or a few cases on the default queue (seconds), and the full
rebuild as a job on the evaluation queue."""

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from kombu.exceptions import KombuError, OperationalError
from redis.exceptions import RedisError

from jobs.runner import Progress, TaskLimits, run_job

from . import index
from .models import ReindexRun

log = logging.getLogger(__name__)

_SHORT: TaskLimits = {
    "soft_time_limit": settings.DEFAULT_TASK_SOFT_TIME_LIMIT_S,
    "time_limit": settings.DEFAULT_TASK_SOFT_TIME_LIMIT_S + settings.JOB_HARD_LIMIT_GRACE_S,
}
_LONG: TaskLimits = {
    "soft_time_limit": settings.JOB_TIME_LIMITS_S["evaluation"],
    "time_limit": settings.JOB_TIME_LIMITS_S["evaluation"] + settings.JOB_HARD_LIMIT_GRACE_S,
}


def enqueue_article(article_id: int) -> None:
    _send(index_article, article_id)


def enqueue_cases(case_ids: list[int]) -> None:
    _send(index_cases, case_ids)


def _send(task: Any, argument: Any) -> None:
    # With the broker down the knowledge is indexed later: reindex_knowledge, or the next save.
    try:
        task.apply_async(args=[argument], retry=False)
    except (OperationalError, KombuError, RedisError, OSError) as exc:
        log.warning("Could not enqueue %s(%s): %s", task.name, argument, exc)


@shared_task(name="knowledge.tasks.index_article", acks_late=True, **_SHORT)
def index_article(article_id: int) -> int:
    return index.index_article(article_id)


@shared_task(name="knowledge.tasks.index_cases", acks_late=True, **_SHORT)
def index_cases(case_ids: list[int]) -> int:
    return index.index_cases(case_ids)


@shared_task(name="knowledge.tasks.run_reindex", acks_late=True, **_LONG)
def run_reindex(reindex_id: int) -> None:
    run_job(ReindexRun, reindex_id, _reindex)


def _reindex(run: ReindexRun, progress: Progress) -> dict[str, Any]:
    return {"counts": index.reindex_all(progress)}
