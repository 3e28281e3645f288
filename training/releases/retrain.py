"""Retraining from agents' corrections: approved examples plus replay of distilled data.

A manager starts it from the admin, or Celery beat does when RETRAIN_SCHEDULE_ENABLED is
set (off by default: a model should not change without someone watching). Either way the
approved corrections are exported (redacted, split by time), mixed with a sample of the
distilled teacher data so the model keeps what it knew, and handed to the training task,
which registers the adapter as a candidate version for shadow comparison.
"""

import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from assistant.models import ModelVersion

from ..feedback.export import ExportFilters, export_examples, validation_path_for
from ..feedback.models import ReviewState, TrainingExample
from ..pipeline.models import TrainingRun

log = logging.getLogger(__name__)

# Replay rows per correction: as much teacher data as new data keeps the old skills while
# the corrections still move the model.
DEFAULT_REPLAY_RATIO = 1.0
DEFAULT_VALIDATION_FRACTION = 0.2
# Fewer new approved examples than this, and a scheduled retrain waits for more.
DEFAULT_MIN_NEW_EXAMPLES = 20
SEED = 69


def schedule_enabled() -> bool:
    return bool(getattr(settings, "RETRAIN_SCHEDULE_ENABLED", False))


@dataclass
class RetrainData:
    train_path: Path
    validation_path: Path
    corrections: int
    replay: int
    validation: int
    export_id: int


def build_retrain_files(
    out_dir: Path,
    *,
    replay_path: str | Path | None = None,
    replay_ratio: float = DEFAULT_REPLAY_RATIO,
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION,
    user: AbstractBaseUser | None = None,
    seed: int = SEED,
) -> RetrainData:
    """train.jsonl (corrections + replay, shuffled) and validation.jsonl (latest corrections)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    corrections_path = out_dir / "corrections.jsonl"
    export = export_examples(
        corrections_path,
        filters=ExportFilters(state=ReviewState.APPROVED),
        validation_fraction=validation_fraction,
        user=user,
        workers=1,  # runs inside Celery's pool processes: no forking pools of our own
    )
    train = list(_conversations(corrections_path))
    validation = list(_conversations(validation_path_for(corrections_path)))
    rng = random.Random(seed)
    wanted = round(len(train) * replay_ratio) + (0 if validation else 1)
    replay = _sample_lines(Path(replay_path), wanted, rng) if replay_path and wanted else []
    if not validation and replay:
        # Too few corrections for a validation share: hold out one replay row instead.
        validation = [replay.pop()]
    mixed = train + replay
    rng.shuffle(mixed)
    train_path, validation_path = out_dir / "train.jsonl", out_dir / "validation.jsonl"
    _write(train_path, mixed)
    _write(validation_path, validation)
    return RetrainData(
        train_path=train_path,
        validation_path=validation_path,
        corrections=len(train),
        replay=len(replay),
        validation=len(validation),
        export_id=export.pk,
    )


def start_retraining(
    user: AbstractBaseUser | None = None,
    *,
    base: ModelVersion | None = None,
    replay_path: str | Path | None = None,
    replay_ratio: float | None = None,
    train_overrides: dict[str, Any] | None = None,
) -> TrainingRun:
    """Build the files and enqueue the training run that produces a candidate version."""
    from ..pipeline.tasks import start_run

    base = base or ModelVersion.default()
    if base is None:
        raise ValueError("No default version to retrain from.")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    data = build_retrain_files(
        settings.VAR_DIR / "retrain" / stamp,
        replay_path=replay_path or getattr(settings, "RETRAIN_REPLAY_PATH", "") or None,
        replay_ratio=replay_ratio
        if replay_ratio is not None
        else getattr(settings, "RETRAIN_REPLAY_RATIO", DEFAULT_REPLAY_RATIO),
        user=user,
    )
    if data.corrections == 0:
        raise ValueError("No approved corrections to train on.")
    config = {
        "train_path": str(data.train_path),
        "validation_path": str(data.validation_path),
        "name": f"{base.name}-retrain-{stamp}",
        **(train_overrides or {}),
    }
    log.info(
        "Retraining %s on %s corrections and %s replay rows", base, data.corrections, data.replay
    )
    return start_run(config, base_version=base, user=user)


def new_approved_since_last_run() -> int:
    last = TrainingRun.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    approved = TrainingExample.objects.filter(review_state=ReviewState.APPROVED)
    if last is not None:
        approved = approved.filter(reviewed_at__gt=last)
    return approved.count()


@shared_task(name="training.releases.retrain.scheduled_retrain")
def scheduled_retrain() -> int | None:
    """Beat's entry: retrain when enabled and enough new corrections were approved."""
    if not schedule_enabled():
        return None
    minimum = getattr(settings, "RETRAIN_MIN_NEW_EXAMPLES", DEFAULT_MIN_NEW_EXAMPLES)
    if new_approved_since_last_run() < minimum:
        return None
    return start_retraining().pk


def beat_entry() -> dict[str, Any]:
    """The beat schedule row; weekly unless RETRAIN_SCHEDULE_S says otherwise."""
    return {
        "task": "training.releases.retrain.scheduled_retrain",
        "schedule": float(getattr(settings, "RETRAIN_SCHEDULE_S", 7 * 24 * 3600)),
    }


def _conversations(path: Path) -> list[list[dict[str, str]]]:
    """The exported conversations, without their system turn: training adds the version's."""
    if not path.exists():
        return []
    rows = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                messages = json.loads(line)["messages"]
                rows.append([m for m in messages if m["role"] != "system"])
    return rows


def _sample_lines(path: Path, count: int, rng: random.Random) -> list[list[dict[str, str]]]:
    """A uniform sample of `count` conversations from a chat JSONL file (reservoir: memory
    holds the sample, not the file)."""
    sample: list[str] = []
    with path.open(encoding="utf-8") as lines:
        for seen, line in enumerate(filter(str.strip, lines)):
            if len(sample) < count:
                sample.append(line)
            else:
                slot = rng.randint(0, seen)
                if slot < count:
                    sample[slot] = line
    return [json.loads(line)["messages"] for line in sample]


def _write(path: Path, conversations: list[list[dict[str, str]]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for messages in conversations:
            out.write(json.dumps({"messages": messages}, ensure_ascii=False))
            out.write("\n")
