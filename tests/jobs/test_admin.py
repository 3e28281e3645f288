"""Starting jobs from the admin: the request only queues, the page is the job's row."""

import pytest
from django.urls import reverse

from jobs.models import JobStatus
from tests.factories import ModelVersionFactory
from tests.feedback.helpers import make_example
from training.models import DataExport, ShadowComparison, TrainingRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def no_model_in_the_web_process(monkeypatch):
    """Any generation or loss computed in this process fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the web process ran a model")

    monkeypatch.setattr("training.releases.shadow._side", refuse)
    monkeypatch.setattr("training.pipeline.evaluation.teacher_forced_loss", refuse)
    monkeypatch.setattr("training.feedback.export.write_export", refuse)


@pytest.fixture
def queued(monkeypatch):
    sent = []
    monkeypatch.setattr(
        "jobs.runner.enqueue", lambda task, job: sent.append((task.name, job.pk)) or True
    )
    monkeypatch.setattr(
        "jobs.admin.enqueue", lambda task, job: sent.append((task.name, job.pk)) or True
    )
    return sent


def test_a_shadow_comparison_is_queued_not_run_in_the_request(
    signed_in, queued, no_model_in_the_web_process, django_capture_on_commit_callbacks
):
    ModelVersionFactory(name="live").make_default()
    candidate = ModelVersionFactory(name="next")
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            reverse("admin:training_shadowcomparison_run"), {"candidate": candidate.pk, "limit": 5}
        )
    comparison = ShadowComparison.objects.get()
    assert comparison.status == JobStatus.PENDING
    assert queued == [("training.releases.tasks.run_shadow_comparison", comparison.pk)]
    assert response["Location"] == reverse(
        "admin:training_shadowcomparison_change", args=[comparison.pk]
    )


def test_an_export_is_queued_not_written_in_the_request(
    signed_in, queued, no_model_in_the_web_process, django_capture_on_commit_callbacks
):
    example = make_example()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            reverse("admin:training_trainingexample_changelist"),
            {"action": "export_selected", "_selected_action": [example.pk]},
        )
    export = DataExport.objects.get()
    assert export.status == JobStatus.PENDING and export.filters["example_ids"] == [example.pk]
    assert queued == [("training.feedback.tasks.run_export", export.pk)]
    assert response["Location"] == reverse("admin:training_dataexport_change", args=[export.pk])
    page = signed_in.get(response["Location"]).content.decode()
    assert "Pending" in page and "Cancel this job" in page


def test_retraining_is_queued_and_prepares_nothing_in_the_request(
    signed_in, queued, no_model_in_the_web_process, django_capture_on_commit_callbacks
):
    ModelVersionFactory(name="live").make_default()
    make_example()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            reverse("admin:training_trainingexample_retrain"),
            {"replay_ratio": 1.0, "max_steps": 3},
        )
    run = TrainingRun.objects.get()
    assert queued == [("training.releases.tasks.run_retraining", run.pk)]
    assert run.train_dataset is None  # prepared on the worker
    assert response["Location"] == reverse("admin:training_trainingrun_change", args=[run.pk])


def test_the_retrain_form_offers_datasets_not_a_path_box(signed_in):
    page = signed_in.get(reverse("admin:training_trainingexample_retrain")).content.decode()
    assert 'name="replay"' in page and "replay_path" not in page


def test_a_manager_cancels_a_pending_job_from_its_page(signed_in):
    run = TrainingRun.objects.create(config={})
    page = signed_in.get(reverse("admin:training_trainingrun_change", args=[run.pk]))
    assert b"Cancel this job" in page.content and b'http-equiv="refresh"' in page.content

    signed_in.post(reverse("admin:training_trainingrun_cancel", args=[run.pk]))

    run.refresh_from_db()
    assert run.status == JobStatus.CANCELLED
    page = signed_in.get(reverse("admin:training_trainingrun_change", args=[run.pk]))
    assert b"Cancel this job" not in page.content and b'http-equiv="refresh"' not in page.content


def test_an_agent_cannot_cancel_a_job(client, agent):
    run = TrainingRun.objects.create(config={})
    client.force_login(agent)
    response = client.post(reverse("admin:training_trainingrun_cancel", args=[run.pk]))
    assert response.status_code in (302, 403)
    run.refresh_from_db()
    assert run.status == JobStatus.PENDING
