"""The sweep that ends jobs whose worker died: their rows must not say "running" forever."""

import logging

from celery import shared_task
from django.apps import apps
from django.conf import settings

from .models import Job
from .runner import fail_stale

log = logging.getLogger(__name__)


def job_models() -> list[type[Job]]:
    return [model for model in apps.get_models() if issubclass(model, Job)]


@shared_task(
    name="jobs.tasks.sweep_stale_jobs",
    soft_time_limit=settings.DEFAULT_TASK_SOFT_TIME_LIMIT_S,
    time_limit=settings.DEFAULT_TASK_SOFT_TIME_LIMIT_S + settings.JOB_HARD_LIMIT_GRACE_S,
)
def sweep_stale_jobs() -> dict[str, int]:
    failed = {model._meta.label: fail_stale(model) for model in job_models()}
    if any(failed.values()):
        log.warning("Jobs marked failed after their worker stopped: %s", failed)
    return failed
