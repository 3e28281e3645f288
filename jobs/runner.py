"""Running a job: claim its row once, report progress, record the outcome, honour cancels.

A job's task calls `run_job(Model, job_id, work)`. `work(job, progress)` does the job and
returns the fields to store on success; it calls `progress(fraction, figures)` now and then,
which writes the row (a few times a minute at most) and raises `JobCancelled` once a person
asked to cancel. Whatever `work` raises ends as a failed row with the reason: a job never
stays "running" because its code broke.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any, TypedDict, TypeVar

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import models, transaction
from django.utils import timezone
from kombu.exceptions import KombuError, OperationalError
from redis.exceptions import RedisError

from .models import Job, JobStatus

log = logging.getLogger(__name__)

# Progress writes are cheap but not free: a few per minute is plenty for a person watching.
PROGRESS_EVERY_S = 5.0

J = TypeVar("J", bound=Job)
Work = Callable[[J, "Progress"], dict[str, Any] | None]


class TaskLimits(TypedDict):
    """Celery's time limits of a task, in seconds, as @shared_task(**limits) takes them."""

    soft_time_limit: int
    time_limit: int


class JobCancelled(Exception):
    """A person cancelled the job while it ran."""


class Progress:
    """The callback a job's work reports to: fraction done, and figures worth showing."""

    def __init__(self, model: type[Job], job_id: int, every_s: float = PROGRESS_EVERY_S) -> None:
        self.model, self.job_id, self.every_s = model, job_id, every_s
        self._last = 0.0

    def __call__(self, fraction: float, figures: dict[str, Any] | None = None) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last < self.every_s:
            return
        self._last = now
        updates: dict[str, Any] = {"progress": round(min(max(fraction, 0.0), 1.0), 4)}
        if figures is not None and _has_field(self.model, "metrics"):
            updates["metrics"] = {"latest": finite(figures)}
        self.model.objects.filter(pk=self.job_id, status=JobStatus.RUNNING).update(**updates)
        self.raise_if_cancelled()

    def raise_if_cancelled(self) -> None:
        if self.model.objects.filter(pk=self.job_id, cancel_requested=True).exists():
            raise JobCancelled


def run_job(model: type[J], job_id: int, work: Work[J]) -> bool:
    """Run `work` on the pending row `job_id`; False when another delivery has it already."""
    claimed = model.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), progress=0.0
    )
    if not claimed:
        # Delivered twice (late acks, a redelivery), or cancelled before it started.
        log.info("%s %s is not pending: nothing to do", model.__name__, job_id)
        return False
    job = model.objects.get(pk=job_id)
    try:
        fields = work(job, Progress(model, job_id)) or {}
    except JobCancelled:
        _finish(model, job_id, JobStatus.CANCELLED, error="Cancelled while running.")
    except SoftTimeLimitExceeded:
        limit = model.time_limit_s()
        _finish(model, job_id, JobStatus.FAILED, error=f"Stopped at its time limit of {limit} s.")
    except Exception as error:  # the row must say why, whatever broke
        log.exception("%s %s failed", model.__name__, job_id)
        _finish(model, job_id, JobStatus.FAILED, error=f"{type(error).__name__}: {error}")
    else:
        _finish(model, job_id, JobStatus.SUCCEEDED, progress=1.0, **fields)
    return True


def enqueue(task: Task, job: Job) -> bool:
    """Send the job to its queue; with the broker down the row says so instead of hanging."""
    try:
        task.apply_async(args=(job.pk,), retry=False)
    except (OperationalError, KombuError, RedisError, OSError) as exc:
        log.warning("Could not enqueue %s %s: %s", job._meta.model_name, job.pk, exc)
        type(job).objects.filter(pk=job.pk, status=JobStatus.PENDING).update(
            status=JobStatus.FAILED,
            finished_at=timezone.now(),
            error="The job queue could not be reached; nothing ran. Start it again later.",
        )
        return False
    return True


def request_cancel(job: Job) -> bool:
    """Cancel a pending job at once, or ask a running one to stop; False when finished."""
    model = type(job)
    with transaction.atomic():
        if model.objects.filter(pk=job.pk, status=JobStatus.PENDING).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now(), error="Cancelled before it ran."
        ):
            return True
        return bool(
            model.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(cancel_requested=True)
        )


def fail_stale(model: type[Job]) -> int:
    """Mark failed the running rows whose worker died or was killed at the hard limit."""
    return model.stale_running().update(
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        error="The worker stopped before the job finished (killed at its time limit, or lost).",
    )


def finite(value: Any) -> Any:
    """JSON columns refuse NaN and infinity: store null instead, at any depth."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def _finish(model: type[Job], job_id: int, status: str, **fields: Any) -> None:
    model.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
        status=status, finished_at=timezone.now(), **fields
    )


def _has_field(model: type[models.Model], name: str) -> bool:
    return any(field.name == name for field in model._meta.get_fields())
