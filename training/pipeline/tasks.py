"""The pipeline's jobs: a training run on the training queue, an evaluation and a gate fit
on the evaluation queue. Each records its outcome on its own row through jobs.runner."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings

from jobs.runner import Progress, TaskLimits, finite, run_job

from .models import EvaluationRun, GateFit, TrainingRun

log = logging.getLogger(__name__)


def job_limits(kind: str) -> TaskLimits:
    """Celery's soft and hard limits of a job kind: the task's own, not the answers'."""
    soft = settings.JOB_TIME_LIMITS_S[kind]
    return {"soft_time_limit": soft, "time_limit": soft + settings.JOB_HARD_LIMIT_GRACE_S}


@shared_task(name="training.pipeline.tasks.run_training", acks_late=True, **job_limits("training"))
def run_training(run_id: int) -> None:
    """Train, register the adapter as a candidate, and record the outcome on the run's row.

    Safe to deliver twice: only the delivery that moves the row from pending to running
    trains; the other finds zero rows updated and returns.
    """
    run_job(TrainingRun, run_id, train_run)


def train_run(run: TrainingRun, progress: Progress) -> dict[str, Any]:
    """The work of a training run; returns the fields its row keeps on success."""
    from .finetune import TrainConfig, config_for_version, register_adapter, train_adapter

    options = dict(run.config)
    options.pop("retrain", None)
    name = options.pop("name", "")
    for field, dataset in (
        ("train_path", run.train_dataset),
        ("validation_path", run.validation_dataset),
    ):
        if dataset is not None:
            options[field] = dataset.path
    options.setdefault("out_dir", str(settings.MODELS_DIR / "adapters" / f"run-{run.pk}"))
    options.setdefault("torch_threads", settings.TORCH_THREADS)
    if run.base_version is not None:
        config = config_for_version(run.base_version, **options)
    else:
        config = TrainConfig(**options)
    TrainingRun.objects.filter(pk=run.pk).update(output_dir=config.out_dir)
    result = train_adapter(config, progress=progress)
    version = register_adapter(result, run.base_version, name or f"run-{run.pk}")
    return {
        "produced_version": version,
        "output_dir": str(result.adapter_dir),
        "metrics": finite(
            {
                "best_val_loss": result.best_val_loss,
                "steps": result.steps,
                "seconds": result.seconds,
                "stopped_early": result.stopped_early,
                "examples": result.examples,
            }
        ),
    }


@shared_task(
    name="training.pipeline.tasks.run_evaluation", acks_late=True, **job_limits("evaluation")
)
def run_evaluation(evaluation_id: int) -> None:
    run_job(EvaluationRun, evaluation_id, evaluate_run)


def evaluate_run(evaluation: EvaluationRun, progress: Progress) -> dict[str, Any]:
    from .evaluation import evaluate_version, summary_of

    progress.raise_if_cancelled()
    report = evaluate_version(
        evaluation.version, Path(evaluation.dataset.path), limit=evaluation.limit
    )
    return {"summary": finite(summary_of(report))}


@shared_task(
    name="training.pipeline.tasks.run_gate_fit", acks_late=True, **job_limits("evaluation")
)
def run_gate_fit(fit_id: int) -> None:
    """Label, fit and calibrate the version's gate; gate the version with it (see
    training/pipeline/gate.py). Safe to deliver twice, as every job."""
    run_job(GateFit, fit_id, fit_gate_run)


def fit_gate_run(fit: GateFit, progress: Progress) -> dict[str, Any]:
    from .gate import fit_run

    return fit_run(fit, progress)
