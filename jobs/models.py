"""The status row every heavy job shares (after saleor's `Job`): status, progress, outcome.

Each kind of job keeps its own concrete row (a training run, an export, a comparison) with
these fields; the task that runs it writes them through `jobs.runner`, and the admin shows
them through `jobs.admin`. No concrete model lives here.
"""

from datetime import timedelta
from typing import ClassVar, Self

from django.conf import settings
from django.db import models
from django.utils import timezone


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


FINISHED_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(models.Model):
    # Which JOB_TIME_LIMITS_S entry bounds this kind of job; concrete models set it.
    time_limit_kind = "default"

    status = models.CharField(
        max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True
    )
    progress = models.FloatField(default=0.0, help_text="0 to 1")
    error = models.TextField(blank=True)
    # Set by a person; the running task stops at its next progress report.
    cancel_requested = models.BooleanField(default=False)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Each concrete job gets Django's default manager; the type checker gives an abstract
    # model none, so it is declared here (a bare annotation: nothing changes at run time).
    objects: ClassVar[models.Manager[Self]]

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @classmethod
    def time_limit_s(cls) -> int:
        """The soft time limit of this kind's task, in seconds."""
        return settings.JOB_TIME_LIMITS_S[cls.time_limit_kind]

    @classmethod
    def stale_running(cls) -> "models.QuerySet[Job]":
        """Running rows whose task must be dead: past the hard limit, which kills it."""
        grace = settings.JOB_HARD_LIMIT_GRACE_S * 2
        cutoff = timezone.now() - timedelta(seconds=cls.time_limit_s() + grace)
        return cls.objects.filter(status=JobStatus.RUNNING, started_at__lt=cutoff)
