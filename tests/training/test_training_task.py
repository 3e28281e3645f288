"""The training task: claims its run once, records progress, the produced version or the error."""

from pathlib import Path

import pytest

from assistant.models import ModelVersion
from tests.factories import ModelVersionFactory
from training.models import RunStatus, TrainingRun
from training.pipeline import finetune
from training.pipeline.finetune import TrainingResult
from training.pipeline.tasks import run_training, start_run


def fake_train(seen: list) -> object:
    def train(config: finetune.TrainConfig, progress=None) -> TrainingResult:
        seen.append(config)
        if progress:
            progress(0.5, {"step": 1, "loss": 2.0, "best_val": float("inf")})
            progress(1.0, {"step": 2, "loss": 1.0, "best_val": 1.2})
        return TrainingResult(
            adapter_dir=str(Path(config.out_dir) / "adapter"),
            best_val_loss=1.2,
            steps=2,
            seconds=0.1,
            stopped_early=False,
            config=vars(config).copy(),
        )

    return train


@pytest.fixture
def trained(monkeypatch: pytest.MonkeyPatch) -> list:
    seen: list = []
    monkeypatch.setattr(finetune, "train_adapter", fake_train(seen))
    return seen


@pytest.mark.django_db
def test_it_trains_from_the_base_version_and_registers_a_candidate(
    trained: list, tmp_path: Path
) -> None:
    base = ModelVersionFactory(system_prompt="Be brief.", prompt_format="plain")
    run = TrainingRun.objects.create(
        base_version=base,
        config={
            "train_path": "t.jsonl",
            "validation_path": "v.jsonl",
            "max_steps": 2,
            "out_dir": str(tmp_path),
            "name": "tuned",
        },
    )

    run_training(run.pk)

    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.progress == 1.0
    assert run.produced_version.name == "tuned" and run.produced_version.parent == base
    assert not run.produced_version.enabled
    assert run.metrics["best_val_loss"] == 1.2 and run.finished_at is not None
    config = trained[0]
    assert (
        config.base_model_path,
        config.system_prompt,
        config.prompt_format,
        config.max_steps,
    ) == (
        base.base_model_path,
        "Be brief.",
        "plain",
        2,
    )


@pytest.mark.django_db
def test_it_does_nothing_when_the_run_is_already_claimed(trained: list) -> None:
    run = TrainingRun.objects.create(status=RunStatus.RUNNING, config={})
    run_training(run.pk)
    assert trained == []
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


@pytest.mark.django_db
def test_it_trains_once_when_delivered_twice(trained: list, tmp_path: Path) -> None:
    run = TrainingRun.objects.create(
        base_version=ModelVersionFactory(),
        config={"train_path": "t", "validation_path": "v", "out_dir": str(tmp_path)},
    )
    run_training(run.pk)
    run_training(run.pk)
    assert len(trained) == 1
    assert ModelVersion.objects.filter(parent=run.base_version).count() == 1


@pytest.mark.django_db
def test_it_records_the_progress_while_training(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen_progress = []

    def train(config, progress=None):
        progress(0.25, {"step": 1, "loss": 3.0, "best_val": float("inf")})
        seen_progress.append(TrainingRun.objects.get().progress)
        return fake_train([])(config)

    monkeypatch.setattr(finetune, "train_adapter", train)
    run = TrainingRun.objects.create(
        base_version=ModelVersionFactory(),
        config={"train_path": "t", "validation_path": "v", "out_dir": str(tmp_path)},
    )
    run_training(run.pk)
    assert seen_progress == [0.25]


@pytest.mark.django_db
def test_it_marks_the_run_failed_with_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(config, progress=None):
        raise FileNotFoundError("t.jsonl")

    monkeypatch.setattr(finetune, "train_adapter", broken)
    run = TrainingRun.objects.create(
        base_version=ModelVersionFactory(), config={"train_path": "t.jsonl", "validation_path": "v"}
    )
    run_training(run.pk)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "FileNotFoundError: t.jsonl" in run.error
    assert run.produced_version is None


@pytest.mark.django_db
def test_it_enqueues_a_started_run_after_commit(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    enqueued = []
    monkeypatch.setattr(run_training, "delay", lambda run_id: enqueued.append(run_id))
    with django_capture_on_commit_callbacks(execute=True):
        run = start_run({"train_path": "t", "validation_path": "v"}, ModelVersionFactory())
        assert enqueued == []
    assert enqueued == [run.pk] and run.status == RunStatus.PENDING


@pytest.mark.django_db
def test_it_lets_a_manager_start_a_run_from_the_admin(
    client, manager, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks
) -> None:
    enqueued = []
    monkeypatch.setattr(run_training, "delay", lambda run_id: enqueued.append(run_id))
    base = ModelVersionFactory()
    client.force_login(manager)
    form = client.get("/admin/training/trainingrun/add/")
    assert form.status_code == 200 and b"validation_path" in form.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/training/trainingrun/add/",
            {
                "base_version": base.pk,
                "train_path": "var/data/train.jsonl",
                "validation_path": "var/data/validation.jsonl",
                "max_steps": 30,
                "batch_size": 4,
                "max_length": 128,
                "lr": 0.0002,
            },
        )
    assert response.status_code == 302, response.content[:2000]
    run = TrainingRun.objects.get()
    assert run.config["max_steps"] == 30 and run.started_by == manager and enqueued == [run.pk]
    page = client.get("/admin/training/trainingrun/")
    assert b"0%" in page.content and b"pending" in page.content.lower()
    detail = client.get(f"/admin/training/trainingrun/{run.pk}/change/")
    assert detail.status_code == 200 and b"var/data/train.jsonl" in detail.content
