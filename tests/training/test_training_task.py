"""The training task: claims its run once, records progress, the produced version or the error."""

from pathlib import Path

import pytest

from assistant.models import ModelVersion
from jobs.models import JobStatus
from tests.factories import ModelVersionFactory
from training.models import Dataset, TrainingRun
from training.pipeline import finetune
from training.pipeline.finetune import TrainingResult
from training.pipeline.tasks import run_training


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
    assert run.status == JobStatus.SUCCEEDED and run.progress == 1.0
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
    run = TrainingRun.objects.create(status=JobStatus.RUNNING, config={})
    run_training(run.pk)
    assert trained == []
    run.refresh_from_db()
    assert run.status == JobStatus.RUNNING


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
    assert run.status == JobStatus.FAILED and "FileNotFoundError: t.jsonl" in run.error
    assert run.produced_version is None


def _dataset(tmp_path: Path, name: str, split: str) -> Dataset:
    from training.pipeline.datasets import register_dataset

    path = tmp_path / f"{name}.jsonl"
    path.write_text(
        '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n'
    )
    return register_dataset(path, split=split)


@pytest.mark.django_db
def test_it_lets_a_manager_start_a_run_from_the_admin_by_picking_datasets(
    client,
    manager,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,
    tmp_path: Path,
) -> None:
    enqueued = []
    monkeypatch.setattr(run_training, "apply_async", lambda args, **kw: enqueued.extend(args))
    base = ModelVersionFactory()
    train, validation = (
        _dataset(tmp_path, "train", "train"),
        _dataset(tmp_path, "val", "validation"),
    )
    client.force_login(manager)
    form = client.get("/admin/training/trainingrun/add/")
    assert form.status_code == 200
    # Datasets are chosen from a list; no field takes a server path.
    assert b'name="train_dataset"' in form.content and b"train_path" not in form.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/training/trainingrun/add/",
            {
                "base_version": base.pk,
                "train_dataset": train.pk,
                "validation_dataset": validation.pk,
                "max_steps": 30,
                "batch_size": 4,
                "max_length": 128,
                "lr": 0.0002,
            },
        )
    run = TrainingRun.objects.get()
    # The admin lands on the run's own row, which shows its status.
    assert response.status_code == 302
    assert response["Location"] == f"/admin/training/trainingrun/{run.pk}/change/"
    assert run.config["max_steps"] == 30 and run.started_by == manager and enqueued == [run.pk]
    assert (run.train_dataset, run.validation_dataset) == (train, validation)
    detail = client.get(response["Location"])
    assert detail.status_code == 200 and b"Cancel this job" in detail.content
    assert b"Pending" in detail.content


@pytest.mark.django_db
def test_it_trains_on_the_files_of_its_datasets(trained: list, tmp_path: Path) -> None:
    train, validation = _dataset(tmp_path, "t", "train"), _dataset(tmp_path, "v", "validation")
    run = TrainingRun.objects.create(
        base_version=ModelVersionFactory(),
        train_dataset=train,
        validation_dataset=validation,
        config={"out_dir": str(tmp_path / "out")},
    )
    run_training(run.pk)
    assert (trained[0].train_path, trained[0].validation_path) == (train.path, validation.path)
