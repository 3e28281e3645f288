import json

import pytest

from tests.factories import ModelVersionFactory
from tests.feedback.helpers import make_example
from training.models import DataExport, ReviewState, TrainingRun
from training.pipeline.datasets import register_dataset
from training.releases.retrain import build_retrain_files, plan_retraining
from training.releases.tasks import run_retraining, scheduled_retrain

pytestmark = pytest.mark.django_db


def _replay_file(path, rows):
    with path.open("w") as out:
        for i in range(rows):
            messages = [
                {"role": "user", "content": f"distilled question {i}"},
                {"role": "assistant", "content": f"teacher answer {i}"},
            ]
            out.write(json.dumps({"messages": messages}) + "\n")
    return path


def _read(path):
    return [json.loads(line)["messages"] for line in path.read_text().splitlines()]


def test_it_mixes_approved_corrections_with_replay_and_keeps_the_latest_for_validation(tmp_path):
    ModelVersionFactory(name="v1", system_prompt="Be brief.").make_default()
    for day in range(5):
        make_example(day=day, question=f"question {day}", correction=f"fix {day}")
    make_example(day=6, state=ReviewState.PENDING, question="not reviewed")
    replay = _replay_file(tmp_path / "distilled.jsonl", 50)

    data = build_retrain_files(
        tmp_path / "run", replay_path=replay, replay_ratio=2.0, validation_fraction=0.2
    )

    train, validation = _read(data.train_path), _read(data.validation_path)
    questions = [m[0]["content"] for m in train]
    assert data.corrections == 4 and data.replay == 8
    assert len(train) == 12
    assert sorted(q for q in questions if q.startswith("question")) == [
        f"question {d}" for d in range(4)
    ]
    assert sum(q.startswith("distilled") for q in questions) == 8
    assert [m[0]["content"] for m in validation] == ["question 4"]
    assert all(turn["role"] != "system" for m in train + validation for turn in m)
    assert "not reviewed" not in data.train_path.read_text()
    assert DataExport.objects.filter(pk=data.export_id).exists()


def test_it_plans_a_run_from_the_default_version_without_touching_files(
    tmp_path, settings, manager
):
    settings.VAR_DIR = tmp_path
    base = ModelVersionFactory(name="base")
    base.make_default()
    make_example(day=0)
    replay = register_dataset(_replay_file(tmp_path / "r.jsonl", 5), split="all")

    run = plan_retraining(manager, replay=replay)

    assert run.base_version == base and run.started_by == manager
    assert run.config["name"].startswith("base-retrain-")
    assert run.config["retrain"] == {"replay_dataset": replay.pk, "replay_ratio": 1.0}
    # The export and the mix happen on the training worker, not in the request.
    assert not DataExport.objects.exists() and not (tmp_path / "retrain").exists()


def test_it_refuses_to_plan_without_approved_corrections(settings, tmp_path):
    ModelVersionFactory(name="base").make_default()
    make_example(day=0, state=ReviewState.PENDING)
    with pytest.raises(ValueError, match="No approved corrections"):
        plan_retraining()


def test_the_retraining_job_prepares_its_datasets_then_trains_on_them(
    settings, tmp_path, monkeypatch
):
    from training.pipeline import finetune
    from training.pipeline.finetune import TrainingResult

    settings.VAR_DIR = tmp_path
    settings.MODELS_DIR = tmp_path / "models"
    ModelVersionFactory(name="base").make_default()
    examples = [make_example(day=day) for day in range(5)]
    replay = register_dataset(_replay_file(tmp_path / "r.jsonl", 5), split="all")
    seen = []

    def train(config, progress=None):
        seen.append((_read(tmp_path / config.train_path), config.validation_path))
        return TrainingResult(
            adapter_dir=str(tmp_path / "a"),
            best_val_loss=1.0,
            steps=1,
            seconds=0.1,
            stopped_early=False,
            config=vars(config).copy(),
        )

    monkeypatch.setattr(finetune, "train_adapter", train)
    run = plan_retraining(replay=replay)

    run_retraining(run.pk)

    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.train_dataset.source == "retrain" and run.validation_dataset.split == "validation"
    assert seen[0][1] == run.validation_dataset.path
    assert len(seen[0][0]) == run.train_dataset.rows
    # The datasets know which tickets they hold: a comparison must not score on them.
    assert set(run.train_dataset.ticket_ids) == {e.ticket_id for e in examples}


def test_the_schedule_is_off_by_default(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    ModelVersionFactory(name="base").make_default()
    make_example(day=0)

    assert scheduled_retrain() is None
    assert not TrainingRun.objects.exists()


def test_the_schedule_retrains_when_enabled_and_enough_is_new(settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    settings.RETRAIN_SCHEDULE_ENABLED = True
    settings.RETRAIN_MIN_NEW_EXAMPLES = 2
    monkeypatch.setattr(run_retraining, "apply_async", lambda *a, **kw: None)
    ModelVersionFactory(name="base").make_default()
    make_example(day=0)
    assert scheduled_retrain() is None  # one new example is not enough

    make_example(day=1)
    run_id = scheduled_retrain()

    assert TrainingRun.objects.get().pk == run_id
