"""A gate fit started from the admin: the request only queues it on the evaluation queue;
the job labels, fits and gates the version, and its row shows how it went."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from assistant.gate import GateKind
from jobs.models import JobStatus
from tests.factories import ModelVersionFactory
from training.pipeline.datasets import register_dataset
from training.pipeline.models import DatasetSplit, GateFit
from training.pipeline.tasks import run_gate_fit

from .test_fit_gate_command import labelled_set

FORM = {"limit": 0, "desk_outcomes": "on", "target_accuracy": 0.6, "confidence": 0.9}


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def _start(client, version, dataset) -> tuple[int, object]:
    response = client.post(
        reverse("admin:training_gatefit_add"),
        {"version": version.pk, "dataset": dataset.pk, **FORM},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    fit = GateFit.objects.latest("pk")
    assert response["Location"] == reverse("admin:training_gatefit_change", args=[fit.pk])
    return fit.pk, response


def test_its_task_runs_on_the_evaluation_queue_with_the_evaluations_limits() -> None:
    assert settings.CELERY_TASK_ROUTES[run_gate_fit.name] == {"queue": settings.EVALUATION_QUEUE}
    assert run_gate_fit.soft_time_limit == settings.JOB_TIME_LIMITS_S["evaluation"]


@pytest.mark.django_db
def test_the_admin_queues_the_fit_and_fits_nothing_in_the_request(
    signed_in, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr("jobs.admin.enqueue", lambda task, job: sent.append((task.name, job.pk)))
    version = ModelVersionFactory()
    dataset = register_dataset(labelled_set(tmp_path / "set.jsonl"), split=DatasetSplit.TEST)

    with django_capture_on_commit_callbacks(execute=True):
        fit_id, _ = _start(signed_in, version, dataset)

    assert sent == [("training.pipeline.tasks.run_gate_fit", fit_id)]
    fit = GateFit.objects.get(pk=fit_id)
    assert fit.status == JobStatus.PENDING and fit.started_by is not None
    assert (fit.target_accuracy, fit.confidence) == (0.6, 0.9)


@pytest.mark.django_db
def test_a_fit_from_the_admin_gates_the_version_and_its_page_shows_the_figures(
    signed_in, tmp_path, settings, jobs_run_here
):
    settings.ASSISTANT_ENGINE = "tests.fake_engine.DeterministicEngine"
    settings.MODELS_DIR = tmp_path / "models"
    version = ModelVersionFactory()
    dataset = register_dataset(labelled_set(tmp_path / "set.jsonl"), split=DatasetSplit.TEST)

    with jobs_run_here():
        fit_id, response = _start(signed_in, version, dataset)

    fit = GateFit.objects.get(pk=fit_id)
    assert fit.status == JobStatus.SUCCEEDED, fit.error
    version.refresh_from_db()
    assert version.gate_kind == GateKind.TRAINED and version.gate_model_path == fit.gate_path
    page = signed_in.get(response["Location"]).content.decode()
    assert "held_out_examples" in page and "lower_bound" in page


@pytest.mark.django_db
def test_the_start_form_wants_something_to_learn_from(signed_in) -> None:
    version = ModelVersionFactory()

    response = signed_in.post(
        reverse("admin:training_gatefit_add"),
        {"version": version.pk, "limit": 0, "target_accuracy": 0.8, "confidence": 0.95},
    )

    assert response.status_code == 200 and not GateFit.objects.exists()
    assert "Choose a dataset" in response.content.decode()


@pytest.mark.slow
def test_a_fit_from_the_admin_runs_on_a_real_evaluation_worker(start_worker, signed_in, tmp_path):
    """The real task on a real worker of the evaluation queue, with its time limits and the
    real MiniLM; only the answers come from the deterministic engine, so the labels are known."""
    from tests.live import wait_until

    worker = start_worker(
        queues=settings.EVALUATION_QUEUE,
        ASSISTANT_ENGINE="tests.fake_engine.DeterministicEngine",
        MODELS_DIR=str(tmp_path / "models"),
        HELPDESK_VAR_DIR=str(tmp_path / "worker-var"),
    )
    version = ModelVersionFactory()
    dataset = register_dataset(labelled_set(tmp_path / "set.jsonl"), split=DatasetSplit.TEST)

    fit_id, response = _start(signed_in, version, dataset)

    fit = wait_until(
        lambda: (
            GateFit.objects.filter(pk=fit_id)
            .exclude(status=JobStatus.PENDING)
            .exclude(status=JobStatus.RUNNING)
            .first()
        ),
        240,
        f"gate fit {fit_id} to finish (worker log: {worker.log_path})",
    )
    assert fit.status == JobStatus.SUCCEEDED, f"{fit.error}\n{worker.log()}"
    version.refresh_from_db()
    assert version.gate_kind == GateKind.TRAINED
    assert Path(version.gate_model_path).is_relative_to(tmp_path / "models" / "gates")
    assert 'class="job-succeeded"' in signed_in.get(response["Location"]).content.decode()
