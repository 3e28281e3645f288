"""The job runner: one claim per row, progress, cancels, and a reason for every failure."""

from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from jobs.models import JobStatus
from jobs.runner import JobCancelled, Progress, enqueue, fail_stale, request_cancel, run_job
from training.models import TrainingRun

pytestmark = pytest.mark.django_db


def _run(**fields) -> TrainingRun:
    return TrainingRun.objects.create(config={}, **fields)


def test_it_runs_a_pending_job_once_and_stores_what_the_work_returns() -> None:
    run = _run()
    calls = []

    def work(job, progress):
        calls.append(job.pk)
        assert TrainingRun.objects.get(pk=job.pk).status == JobStatus.RUNNING
        return {"output_dir": "/models/a"}

    assert run_job(TrainingRun, run.pk, work) is True
    assert run_job(TrainingRun, run.pk, work) is False  # delivered twice: no second run

    run.refresh_from_db()
    assert calls == [run.pk]
    assert (run.status, run.progress, run.output_dir) == (JobStatus.SUCCEEDED, 1.0, "/models/a")
    assert run.started_at <= run.finished_at


def test_it_records_the_error_of_work_that_breaks() -> None:
    run = _run()

    def work(job, progress):
        raise FileNotFoundError("train.jsonl")

    run_job(TrainingRun, run.pk, work)

    run.refresh_from_db()
    assert run.status == JobStatus.FAILED and run.error == "FileNotFoundError: train.jsonl"


def test_it_names_the_time_limit_when_the_soft_limit_stops_the_work(settings) -> None:
    run = _run()

    def work(job, progress):
        raise SoftTimeLimitExceeded()

    run_job(TrainingRun, run.pk, work)

    run.refresh_from_db()
    limit = settings.JOB_TIME_LIMITS_S["training"]
    assert run.status == JobStatus.FAILED and f"time limit of {limit} s" in run.error


def test_cancelling_a_pending_job_means_it_never_runs() -> None:
    run = _run()

    assert request_cancel(run) is True
    assert run_job(TrainingRun, run.pk, lambda job, progress: pytest.fail("it ran")) is False
    run.refresh_from_db()
    assert run.status == JobStatus.CANCELLED


def test_a_running_job_stops_at_its_next_progress_report_once_cancelled() -> None:
    run = _run()
    reached = []

    def work(job, progress):
        progress(0.1)
        request_cancel(TrainingRun.objects.get(pk=job.pk))
        progress(0.2)  # throttled: no write, no check
        progress(1.0)  # the last report always goes through
        reached.append("after")

    run_job(TrainingRun, run.pk, work)

    run.refresh_from_db()
    assert run.status == JobStatus.CANCELLED and reached == []


def test_progress_writes_the_fraction_and_the_latest_figures() -> None:
    run = _run(status=JobStatus.RUNNING)
    progress = Progress(TrainingRun, run.pk, every_s=0)

    progress(0.25, {"step": 3, "loss": float("nan")})

    run.refresh_from_db()
    assert run.progress == 0.25 and run.metrics == {"latest": {"step": 3, "loss": None}}
    with pytest.raises(JobCancelled):
        TrainingRun.objects.filter(pk=run.pk).update(cancel_requested=True)
        progress(0.5)


def test_finished_jobs_cannot_be_cancelled() -> None:
    run = _run(status=JobStatus.SUCCEEDED)
    assert request_cancel(run) is False


def test_the_sweep_fails_jobs_running_past_their_hard_limit(settings) -> None:
    limit = settings.JOB_TIME_LIMITS_S["training"] + 2 * settings.JOB_HARD_LIMIT_GRACE_S
    dead = _run(status=JobStatus.RUNNING, started_at=timezone.now() - timedelta(seconds=limit + 5))
    alive = _run(status=JobStatus.RUNNING, started_at=timezone.now() - timedelta(seconds=60))

    assert fail_stale(TrainingRun) == 1

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == JobStatus.FAILED and "worker stopped" in dead.error
    assert alive.status == JobStatus.RUNNING


def test_an_unreachable_queue_fails_the_row_instead_of_hanging() -> None:
    from kombu.exceptions import OperationalError

    class Unreachable:
        def apply_async(self, **kwargs):
            raise OperationalError("Error 111 connecting to 127.0.0.1:6399")

    run = _run()

    assert enqueue(Unreachable(), run) is False

    run.refresh_from_db()
    assert run.status == JobStatus.FAILED and "could not be reached" in run.error


def test_a_comparison_whose_model_cannot_load_ends_failed_with_the_reason(settings):
    """What was a 500 in the request is now a failed row that says why."""
    from tests.factories import ModelVersionFactory
    from tests.feedback.helpers import make_example
    from training.models import ShadowComparison
    from training.releases.shadow import start_shadow_comparison
    from training.releases.tasks import run_shadow_comparison

    settings.ASSISTANT_ENGINE = "assistant.transformers_engine.TransformersEngine"
    ModelVersionFactory(name="live", base_model_path="/nonexistent/base").make_default()
    candidate = ModelVersionFactory(name="next", base_model_path="/nonexistent/base")
    make_example()
    comparison = start_shadow_comparison(candidate, limit=5)

    run_shadow_comparison(comparison.pk)

    comparison = ShadowComparison.objects.get(pk=comparison.pk)
    assert comparison.status == JobStatus.FAILED and comparison.error
