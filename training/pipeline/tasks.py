"""The training run as a Celery task on the "training" queue, one TrainingRun row per run."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import RunStatus, TrainingRun

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 5.0  # progress writes are cheap but not free: a few per minute is plenty


def start_run(config: dict[str, Any], base_version: Any = None, user: Any = None) -> TrainingRun:
    """Record a pending run and enqueue it once the row is committed."""
    run = TrainingRun.objects.create(config=config, base_version=base_version, started_by=user)
    transaction.on_commit(lambda: run_training.delay(run.pk))
    return run


@shared_task(name="training.pipeline.tasks.run_training", acks_late=True)
def run_training(run_id: int) -> None:
    """Train, register the adapter as a candidate, and record the outcome on the run's row.

    Safe to deliver twice: only the delivery that moves the row from pending to running
    trains; the other finds zero rows updated and returns.
    """
    claimed = TrainingRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), progress=0.0
    )
    if not claimed:
        log.info("Training run %s is not pending: another worker has it", run_id)
        return
    run = TrainingRun.objects.select_related("base_version").get(pk=run_id)
    try:
        result, version = _train(run)
    except Exception as error:  # the row must say why, whatever broke
        log.exception("Training run %s failed", run_id)
        TrainingRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED,
            error=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
        )
        return
    TrainingRun.objects.filter(pk=run_id).update(
        status=RunStatus.SUCCEEDED,
        progress=1.0,
        produced_version=version,
        output_dir=str(result.adapter_dir),
        metrics={
            "best_val_loss": _finite(result.best_val_loss),
            "steps": result.steps,
            "seconds": result.seconds,
            "stopped_early": result.stopped_early,
            "examples": result.examples,
        },
        finished_at=timezone.now(),
    )


def _train(run: TrainingRun) -> tuple[Any, Any]:
    from .finetune import TrainConfig, config_for_version, register_adapter, train_adapter

    options = dict(run.config)
    name = options.pop("name", "")
    options.setdefault("out_dir", str(_default_out_dir(run)))
    options.setdefault("torch_threads", settings.TORCH_THREADS)
    if run.base_version is not None:
        config = config_for_version(run.base_version, **options)
    else:
        config = TrainConfig(**options)
    TrainingRun.objects.filter(pk=run.pk).update(output_dir=config.out_dir)
    result = train_adapter(config, progress=_progress_writer(run.pk))
    version = register_adapter(result, run.base_version, name or f"run-{run.pk}")
    return result, version


def _default_out_dir(run: TrainingRun) -> Any:
    return settings.MODELS_DIR / "adapters" / f"run-{run.pk}"


def _progress_writer(run_id: int) -> Any:
    last = [0.0]

    def write(fraction: float, figures: dict[str, Any]) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - last[0] < PROGRESS_EVERY_S:
            return
        last[0] = now
        TrainingRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
            progress=round(fraction, 4),
            metrics={"latest": {k: _finite(v) for k, v in figures.items()}},
        )

    return write


def _finite(value: Any) -> Any:
    """JSON columns refuse NaN and infinity (no validation yet): store null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
