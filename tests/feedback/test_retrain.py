import json

import pytest

from tests.factories import ModelVersionFactory
from tests.feedback.helpers import make_example
from training.models import DataExport, ReviewState, TrainingRun
from training.releases.retrain import build_retrain_files, scheduled_retrain, start_retraining

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


def test_it_starts_a_training_run_from_the_default_version(
    tmp_path, settings, manager, monkeypatch, django_capture_on_commit_callbacks
):
    settings.VAR_DIR = tmp_path
    base = ModelVersionFactory(name="base")
    base.make_default()
    make_example(day=0)
    make_example(day=1)
    enqueued = []
    monkeypatch.setattr("training.pipeline.tasks.run_training.delay", enqueued.append)

    with django_capture_on_commit_callbacks(execute=True):
        run = start_retraining(manager, replay_path=_replay_file(tmp_path / "r.jsonl", 5))

    assert run.base_version == base
    assert run.started_by == manager
    assert run.config["name"].startswith("base-retrain-")
    assert _read(tmp_path / run.config["train_path"])
    assert enqueued == [run.pk]


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
    monkeypatch.setattr("training.pipeline.tasks.run_training.delay", lambda run_id: None)
    ModelVersionFactory(name="base").make_default()
    make_example(day=0)
    assert scheduled_retrain() is None  # one new example is not enough

    make_example(day=1)
    run_id = scheduled_retrain()

    assert TrainingRun.objects.get().pk == run_id
