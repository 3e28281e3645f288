"""The releases' jobs: shadow comparisons (evaluation queue), retraining runs (training
queue, data prepared on the worker), and beat's scheduled retrain (default queue)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction

from jobs.runner import Progress, enqueue, run_job

from ..pipeline.models import TrainingRun
from ..pipeline.tasks import job_limits, train_run
from .models import ShadowComparison
from .retrain import (
    new_approved_since_last_run,
    plan_retraining,
    prepare_retrain_data,
    replay_dataset_from_settings,
)
from .shadow import compare

log = logging.getLogger(__name__)


@shared_task(
    name="training.releases.tasks.run_shadow_comparison",
    acks_late=True,
    **job_limits("evaluation"),
)
def run_shadow_comparison(comparison_id: int) -> None:
    run_job(ShadowComparison, comparison_id, compare)


@shared_task(
    name="training.releases.tasks.run_retraining", acks_late=True, **job_limits("training")
)
def run_retraining(run_id: int) -> None:
    run_job(TrainingRun, run_id, _prepare_and_train)


def _prepare_and_train(run: TrainingRun, progress: Progress) -> dict[str, Any]:
    return train_run(prepare_retrain_data(run), progress)


@shared_task(
    name="training.releases.tasks.scheduled_retrain",
    soft_time_limit=settings.DEFAULT_TASK_SOFT_TIME_LIMIT_S,
    time_limit=settings.DEFAULT_TASK_SOFT_TIME_LIMIT_S + settings.JOB_HARD_LIMIT_GRACE_S,
)
def scheduled_retrain() -> int | None:
    """Beat's entry: queue a retraining run when enabled and enough corrections are new."""
    if not settings.RETRAIN_SCHEDULE_ENABLED:
        return None
    if new_approved_since_last_run() < settings.RETRAIN_MIN_NEW_EXAMPLES:
        return None
    run = plan_retraining(replay=replay_dataset_from_settings())
    transaction.on_commit(lambda: enqueue(run_retraining, run))
    log.info("Scheduled retraining queued as run %s", run.pk)
    return run.pk
