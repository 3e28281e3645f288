"""Each job a manager starts from the admin, run once for real: the admin form or action, a
real Celery worker on the job's queue, a tiny random Qwen2 with SmolLM2's tokenizer, and the
outcome the job leaves on its row. The logic around each job is proven fast, in this
process, by tests/training/ and tests/feedback/ (`jobs_run_here`)."""

import json
from pathlib import Path
from typing import TypeVar

import pytest
from django.conf import settings
from django.urls import reverse

from assistant.models import ModelVersion, VersionStage
from jobs.admin import job_url
from jobs.models import FINISHED_STATUSES, Job, JobStatus
from tests.assistant.tiny_models import save_tiny_qwen2
from tests.factories import ModelVersionFactory
from tests.feedback.helpers import make_example
from tests.live import WorkerProcess, wait_until
from training.models import (
    DataExport,
    Dataset,
    DatasetSource,
    DatasetSplit,
    EvaluationRun,
    ShadowComparison,
    TrainingRun,
)
from training.pipeline.datasets import register_dataset
from training.pipeline.tasks import run_training

pytestmark = [pytest.mark.slow]

J = TypeVar("J", bound=Job)

# Generous: two shared cores may be busy with other work; a broken job still fails, later.
JOB_WAIT_S = 180

QUESTIONS_AND_ANSWERS = [
    ("How do I reset my VPN?", "Open Settings > VPN and press Reset."),
    ("The printer on floor 2 is offline.", "Turn it off and on, then re-add it in Settings."),
    ("I forgot my password.", "Use the reset link on the login page."),
    ("Outlook does not sync.", "Remove the account and add it again."),
    ("How do I map a network drive?", "In Explorer choose Map network drive and enter the path."),
    ("My laptop will not charge.", "Try another charger; if it still fails, bring it to IT."),
]

# Few steps over short examples: the tiny model trains in seconds, the path is the real one.
TRAINING_FORM = {"max_steps": 3, "batch_size": 2, "max_length": 48, "lr": 0.001}


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    """A random two-layer Qwen2 with SmolLM2's tokenizer, in the workers' MODELS_DIR."""
    from assistant.prepare import ensure_smollm2

    models_dir = tmp_path_factory.mktemp("models")
    return save_tiny_qwen2(models_dir / "tiny-qwen2", ensure_smollm2(settings.MODELS_DIR))


@pytest.fixture
def tiny(transactional_db, tiny_base: Path) -> ModelVersion:
    """The tiny model as the default version, answering in a few tokens."""
    version = ModelVersionFactory(
        name="tiny",
        base_model_path=str(tiny_base),
        generation={"max_new_tokens": 6, "repetition_penalty": 1.0},
    )
    version.make_default()
    return version


@pytest.fixture
def job_worker(start_worker, tiny_base: Path, tmp_path: Path):
    """`job_worker(queues, **env)`: a real worker on those queues that loads models from the
    tiny model's folder and writes its files under this test's folder."""

    def start(queues: str, **env: str) -> WorkerProcess:
        return start_worker(
            queues=queues,
            MODELS_DIR=str(tiny_base.parent),
            HELPDESK_VAR_DIR=str(tmp_path / "worker-var"),
            **env,
        )

    return start


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def _dataset(folder: Path, name: str, split: str, pairs=QUESTIONS_AND_ANSWERS) -> Dataset:
    path = folder / f"{name}.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {
                    "messages": [
                        {"role": "user", "content": question},
                        {"role": "assistant", "content": answer},
                    ]
                }
            )
            + "\n"
            for question, answer in pairs
        )
    )
    return register_dataset(path, split=split, name=name)


def _finished(worker: WorkerProcess, model: type[J], pk: int) -> J:
    def finished() -> J | None:
        # Killed at a hard limit, a task leaves its row running: fail now, not at the wait's end.
        assert "time limit (" not in worker.log(), f"a time limit was hit:\n{worker.log()}"
        return model.objects.filter(pk=pk, status__in=FINISHED_STATUSES).first()

    return wait_until(
        finished, JOB_WAIT_S, f"{model.__name__} {pk} to finish (worker log: {worker.log_path})"
    )


def _succeeded(worker: WorkerProcess, model: type[J], pk: int) -> J:
    row = _finished(worker, model, pk)
    assert row.status == JobStatus.SUCCEEDED, f"{row.error}\n--- worker log ---\n{worker.log()}"
    return row


def _shows(client, job: Job, status: str) -> str:
    """The job's own page, where the admin sent the manager, says how the job ended."""
    response = client.get(job_url(job))
    assert response.status_code == 200
    page = response.content.decode()
    assert f'class="job-{status}"' in page, page
    return page


def _started(response, model: type[Job]) -> int:
    """The row the admin created and sent the manager to."""
    assert response.status_code == 302, response.content.decode()[:2000]
    row = model.objects.latest("pk")
    opts = model._meta
    assert response["Location"] == reverse(
        f"admin:{opts.app_label}_{opts.model_name}_change", args=[row.pk]
    )
    return row.pk


def _start_training(client, tiny: ModelVersion, folder: Path, **form: object) -> int:
    train = _dataset(folder, "train", DatasetSplit.TRAIN)
    validation = _dataset(folder, "validation", DatasetSplit.VALIDATION, QUESTIONS_AND_ANSWERS[:2])
    response = client.post(
        reverse("admin:training_trainingrun_add"),
        {
            "base_version": tiny.pk,
            "train_dataset": train.pk,
            "validation_dataset": validation.pk,
            **TRAINING_FORM,
            **form,
        },
    )
    return _started(response, TrainingRun)


def test_a_training_run_from_the_admin_trains_on_a_worker_and_registers_a_candidate(
    job_worker, signed_in, tiny, tmp_path
):
    worker = job_worker(settings.TRAINING_QUEUE)

    run_id = _start_training(signed_in, tiny, tmp_path, name="tiny-tuned")

    run = _succeeded(worker, TrainingRun, run_id)
    version = run.produced_version
    assert version.name == "tiny-tuned" and version.parent == tiny
    assert version.stage == VersionStage.CANDIDATE and not version.enabled
    assert Path(version.adapter_path, "adapter_config.json").exists()
    assert Path(version.adapter_path).parent == Path(tiny.base_model_path).parent / "adapters" / (
        f"run-{run.pk}"
    )
    assert run.metrics["steps"] == TRAINING_FORM["max_steps"]
    assert run.metrics["examples"] == {"train": 6, "validation": 2}
    assert run.progress == 1.0 and run.error == ""
    _shows(signed_in, run, JobStatus.SUCCEEDED)


def test_a_training_run_outlives_the_answer_time_limit(
    job_worker, signed_in, tiny, tmp_path, monkeypatch
):
    # Limits travel in the message, from the sender's task definition, made in this process
    # under its own environment. Sent without them, the worker applies its definition, made
    # under the environment below: in production the web process and workers share one.
    monkeypatch.setattr(run_training, "soft_time_limit", None)
    monkeypatch.setattr(run_training, "time_limit", None)
    monkeypatch.setattr(run_training, "_exec_options", None)  # Celery caches them
    # The answers' limits would kill any task in two seconds; a training run keeps its own.
    worker = job_worker(
        settings.TRAINING_QUEUE, ANSWER_SOFT_TIME_LIMIT_S="1", ANSWER_HARD_TIME_LIMIT_S="2"
    )

    # A hundred steps: seconds of training on any CPU, past the two-second hard limit.
    run_id = _start_training(signed_in, tiny, tmp_path, max_steps=100)

    run = _succeeded(worker, TrainingRun, run_id)
    took = (run.finished_at - run.started_at).total_seconds()
    assert took > 2, f"the run took {took:.1f} s: too short to meet the answers' limit"
    assert run.produced_version is not None and run.metrics["steps"] == 100
    _shows(signed_in, run, JobStatus.SUCCEEDED)


def test_a_training_run_cancelled_in_the_admin_ends_cancelled_on_the_worker(
    job_worker, signed_in, tiny, tmp_path
):
    worker = job_worker(settings.TRAINING_QUEUE)
    run_id = _start_training(signed_in, tiny, tmp_path, max_steps=100_000)
    # Training has begun once its first progress is written: the cancel stops it mid-run.
    wait_until(
        lambda: TrainingRun.objects.filter(pk=run_id, progress__gt=0).exists(),
        JOB_WAIT_S,
        f"the run's first progress (worker log: {worker.log_path})",
    )

    response = signed_in.post(reverse("admin:training_trainingrun_cancel", args=[run_id]))

    assert response.status_code == 302
    run = _finished(worker, TrainingRun, run_id)
    assert run.status == JobStatus.CANCELLED, f"{run.error}\n{worker.log()}"
    assert run.error == "Cancelled while running." and run.produced_version is None
    assert run.progress < 0.01
    assert "Cancelled while running." in _shows(signed_in, run, JobStatus.CANCELLED)


def test_an_evaluation_from_the_admin_stores_its_summary(job_worker, signed_in, tiny, tmp_path):
    worker = job_worker(settings.EVALUATION_QUEUE)
    test_set = _dataset(tmp_path, "test", DatasetSplit.TEST)

    response = signed_in.post(
        reverse("admin:training_evaluationrun_add"),
        {"version": tiny.pk, "dataset": test_set.pk, "limit": 3},
    )

    evaluation = _succeeded(worker, EvaluationRun, _started(response, EvaluationRun))
    summary = evaluation.summary
    assert summary["examples"] == 3
    # A random model over SmolLM2's 49k tokens: about ln(49152) nats per answer token.
    assert 5 < summary["loss"] < 20 and summary["perplexity"] > 100
    assert 0.0 <= summary["rouge_l"] <= 1.0 and 0.0 <= summary["good_rate"] <= 1.0
    tiny.refresh_from_db()
    assert tiny.evaluation["summary"] == summary
    report = json.loads(Path(tiny.evaluation["report"]).read_text())
    assert len(report["samples"]) == 3
    _shows(signed_in, evaluation, JobStatus.SUCCEEDED)


def test_a_shadow_comparison_from_the_admin_stores_its_report(
    job_worker, signed_in, tiny, tiny_base
):
    worker = job_worker(settings.EVALUATION_QUEUE)
    candidate = ModelVersionFactory(
        name="tiny-candidate", base_model_path=str(tiny_base), generation=tiny.generation
    )
    examples = [make_example(question=q, correction=a) for q, a in QUESTIONS_AND_ANSWERS[:3]]

    response = signed_in.post(
        reverse("admin:training_shadowcomparison_run"), {"candidate": candidate.pk, "limit": 2}
    )

    comparison = _succeeded(worker, ShadowComparison, _started(response, ShadowComparison))
    assert comparison.active == tiny  # blank in the form: the default version
    report = comparison.report
    assert report["examples"] == 2
    assert report["example_ids"] == [examples[2].pk, examples[1].pk]  # the latest first
    for side, version in (("candidate", candidate), ("active", tiny)):
        figures = report[side]
        assert figures["version"] == version.name and figures["examples"] == 2
        # MiniLM's cosine of a random model's answer to the agent's: a real similarity.
        assert -1.0 <= figures["similarity_mean"] <= 1.0
        assert figures["loss"] > 5  # the tiny model's weights were really read
    assert report["verdict"] and len(report["samples"]) == 2
    assert "Answers side by side" in _shows(signed_in, comparison, JobStatus.SUCCEEDED)


def test_an_export_from_the_admin_writes_its_file_and_registers_datasets(
    job_worker, signed_in, tiny, manager, settings, tmp_path
):
    settings.VAR_DIR = tmp_path  # where the admin puts the export's file
    worker = job_worker(settings.EXPORTS_QUEUE)
    approved = [make_example(question=q, correction=a) for q, a in QUESTIONS_AND_ANSWERS[:3]]
    pending = make_example(state="pending")

    response = signed_in.post(
        reverse("admin:training_trainingexample_changelist"),
        {"action": "export_selected", "_selected_action": [e.pk for e in [*approved, pending]]},
    )

    export = _succeeded(worker, DataExport, _started(response, DataExport))
    path = Path(export.path)
    assert path.parent == tmp_path / "exports"
    lines = path.read_text().splitlines()
    assert export.row_count == len(lines) == 3
    questions = {json.loads(line)["messages"][-2]["content"] for line in lines}
    assert questions == {q for q, _ in QUESTIONS_AND_ANSWERS[:3]}
    assert sorted(export.ticket_ids) == sorted(e.ticket_id for e in approved)
    dataset = Dataset.objects.get(source=DatasetSource.EXPORT)
    assert (dataset.path, dataset.rows, dataset.split) == (str(path), 3, DatasetSplit.TRAIN)
    assert dataset.created_by == manager and dataset.ticket_ids == export.ticket_ids
    _shows(signed_in, export, JobStatus.SUCCEEDED)


def test_a_retraining_from_the_admin_prepares_its_datasets_and_produces_a_version(
    job_worker, signed_in, tiny, tmp_path
):
    worker = job_worker(settings.TRAINING_QUEUE)
    corrections = [make_example(question=q, correction=a) for q, a in QUESTIONS_AND_ANSWERS[:5]]
    replay = _dataset(tmp_path, "replay", DatasetSplit.ALL)

    response = signed_in.post(
        reverse("admin:training_trainingexample_retrain"),
        {"replay": replay.pk, "replay_ratio": 0.5, "max_steps": 2},
    )

    run = _succeeded(worker, TrainingRun, _started(response, TrainingRun))
    # One correction in five is held out (the latest), the rest mixed with half as much replay.
    train, validation = run.train_dataset, run.validation_dataset
    assert (train.source, train.split, train.rows) == (DatasetSource.RETRAIN, "train", 4 + 2)
    assert (validation.source, validation.rows) == (DatasetSource.RETRAIN, 1)
    assert Path(train.path).parent == tmp_path / "worker-var" / "retrain" / f"run-{run.pk}"
    assert sorted(train.ticket_ids) == sorted(e.ticket_id for e in corrections)
    version = run.produced_version
    assert version.stage == VersionStage.CANDIDATE and version.parent == tiny
    assert Path(version.adapter_path, "adapter_config.json").exists()
    assert run.metrics["steps"] == 2 and run.metrics["examples"]["train"] == 6
    _shows(signed_in, run, JobStatus.SUCCEEDED)


def test_a_gate_fit_from_the_admin_labels_answers_on_a_worker_and_records_its_metrics(
    job_worker, signed_in, tiny, tmp_path
):
    from training.pipeline.models import GateFit

    worker = job_worker(settings.EVALUATION_QUEUE)
    labelled = _dataset(tmp_path, "labelled", DatasetSplit.TEST, QUESTIONS_AND_ANSWERS * 2)

    response = signed_in.post(
        reverse("admin:training_gatefit_add"),
        {
            "version": tiny.pk,
            "dataset": labelled.pk,
            "limit": 12,
            "target_accuracy": 0.8,
            "confidence": 0.95,
        },
    )
    fit = _finished(worker, GateFit, _started(response, GateFit))

    # Twelve answers of a random model: a fit may be refused for too few good ones, but it
    # must end on its row with the reason, never stay running or break the page.
    assert fit.status in (JobStatus.SUCCEEDED, JobStatus.FAILED), fit.status
    if fit.status == JobStatus.FAILED:
        assert fit.error
    _shows(signed_in, fit, fit.status)


def test_a_knowledge_rebuild_from_the_admin_embeds_everything_on_a_worker(
    job_worker, signed_in, tiny
):
    from knowledge.models import Article, ArticleStatus, Passage, ReindexRun, SolvedCase

    worker = job_worker(settings.EVALUATION_QUEUE)
    Article.objects.create(
        title="Free disk space", slug="disk", body="Run `df -h`.", status=ArticleStatus.PUBLISHED
    )
    SolvedCase.objects.create(source="imported", source_key="k", question="disk full", answer="du")

    response = signed_in.post(reverse("admin:knowledge_reindexrun_add"), {})
    run = _succeeded(worker, ReindexRun, _started(response, ReindexRun))

    assert run.counts == {"articles": 1, "passages": 1, "cases": 1}
    assert Passage.objects.count() == 1
    assert not SolvedCase.objects.filter(embedding=None).exists()
    _shows(signed_in, run, JobStatus.SUCCEEDED)
