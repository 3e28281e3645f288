"""Every task routes to a queue that a documented worker consumes, with limits of its own."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from helpdesk.celery import app

ROOT = Path(__file__).resolve().parent.parent


def _tasks() -> dict:
    app.loader.import_default_modules()  # autodiscovery is lazy: load every tasks module
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def _consumed(text: str) -> set[str]:
    """The queues named by the `-Q a,b` options of the worker commands in `text`."""
    return {q for found in re.findall(r"-Q ([\w,]+)", text) for q in found.split(",")}


def _readme_production() -> str:
    readme = (ROOT / "README.md").read_text()
    return readme[readme.index("## Production") : readme.index("## Performance")]


def test_it_knows_the_tasks_of_every_part() -> None:
    names = set(_tasks())
    assert {
        "tickets.tasks.answer_pending",
        "tickets.tasks.sweep_stale_answers",
        "training.pipeline.tasks.run_training",
        "training.releases.tasks.scheduled_retrain",
    } <= names


@pytest.mark.parametrize("text", ["readme", "make_run"])
def test_every_task_routes_to_a_queue_a_documented_worker_consumes(text: str) -> None:
    source = _readme_production() if text == "readme" else (ROOT / "scripts" / "run.sh").read_text()
    consumed = _consumed(source)
    routes = settings.CELERY_TASK_ROUTES
    unrouted = sorted(name for name in _tasks() if name not in routes)
    assert unrouted == [], "tasks without a route go to a queue nobody may consume"
    stranded = {name: r["queue"] for name, r in routes.items() if r["queue"] not in consumed}
    assert stranded == {}


def test_every_beat_entry_is_a_routed_task() -> None:
    tasks = _tasks()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in tasks and entry["task"] in settings.CELERY_TASK_ROUTES


def test_every_task_has_the_time_limits_of_its_queue() -> None:
    soft_limit_of_queue = {
        settings.INFERENCE_QUEUE: settings.ANSWER_SOFT_TIME_LIMIT_S,
        settings.TRAINING_QUEUE: settings.JOB_TIME_LIMITS_S["training"],
        settings.EVALUATION_QUEUE: settings.JOB_TIME_LIMITS_S["evaluation"],
        settings.EXPORTS_QUEUE: settings.JOB_TIME_LIMITS_S["export"],
        settings.DEFAULT_QUEUE: settings.DEFAULT_TASK_SOFT_TIME_LIMIT_S,
    }
    for name, task in _tasks().items():
        queue = settings.CELERY_TASK_ROUTES[name]["queue"]
        assert task.soft_time_limit == soft_limit_of_queue[queue], name
        assert task.time_limit > task.soft_time_limit, name


def test_training_gets_hours_while_answers_get_minutes() -> None:
    tasks = _tasks()
    answer = tasks["tickets.tasks.answer_pending"]
    training = tasks["training.pipeline.tasks.run_training"]
    assert answer.soft_time_limit == settings.ANSWER_SOFT_TIME_LIMIT_S
    assert training.soft_time_limit >= 3600 > answer.soft_time_limit


def test_make_run_keeps_answers_and_jobs_on_separate_workers() -> None:
    workers = [
        set(found.split(","))
        for found in re.findall(r"-Q ([\w,]+)", (ROOT / "scripts" / "run.sh").read_text())
    ]
    answers = next(w for w in workers if settings.INFERENCE_QUEUE in w)
    assert settings.TRAINING_QUEUE not in answers and settings.EVALUATION_QUEUE not in answers
    assert any(settings.TRAINING_QUEUE in w for w in workers if w is not answers)
