"""The service levels' tasks on the default queue: the beat's alert sweep, and the
recomputation of open clocks after a policy or calendar changed."""

from celery import shared_task
from django.conf import settings

from jobs.runner import TaskLimits

from . import alerts, sync

_LIMITS: TaskLimits = {
    "soft_time_limit": settings.DEFAULT_TASK_SOFT_TIME_LIMIT_S,
    "time_limit": settings.DEFAULT_TASK_SOFT_TIME_LIMIT_S + settings.JOB_HARD_LIMIT_GRACE_S,
}


@shared_task(name="sla.tasks.send_sla_alerts", **_LIMITS)
def send_sla_alerts() -> dict[str, int]:
    return alerts.send_due_alerts()


@shared_task(name=sync.RECOMPUTE_TASK, **_LIMITS)
def recompute_clocks(after_id: int = 0) -> int | None:
    last = sync.recompute_chunk(after_id)
    if last is not None:
        recompute_clocks.delay(after_id=last)
    return last
