"""Retraining from agents' corrections: approved examples plus replay of distilled data.

A manager starts it from the admin, or Celery beat does when RETRAIN_SCHEDULE_ENABLED is
set (off by default: a model should not change without someone watching). Either way a
training run is queued; on the training worker its data is prepared first: the approved
corrections are exported (redacted, split by time), mixed with a sample of a registered
replay dataset of distilled teacher data so the model keeps what it knew, and registered as
datasets. Then it trains like any run and registers the adapter as a candidate version.
"""

import json
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from assistant.models import ModelVersion

from ..feedback.export import ExportFilters, export_examples, validation_path_for
from ..feedback.models import DataExport, ReviewState, TrainingExample
from ..pipeline.datasets import register_dataset
from ..pipeline.models import Dataset, DatasetSource, DatasetSplit, TrainingRun

log = logging.getLogger(__name__)

# Replay rows per correction: as much teacher data as new data keeps the old skills while
# the corrections still move the model.
DEFAULT_REPLAY_RATIO = 1.0
DEFAULT_VALIDATION_FRACTION = 0.2
SEED = 69


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
    user: User | None = None,
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


def plan_retraining(
    user: User | None = None,
    *,
    base: ModelVersion | None = None,
    replay: Dataset | None = None,
    replay_ratio: float | None = None,
    train_overrides: dict[str, Any] | None = None,
) -> TrainingRun:
    """The pending run that prepares its data and trains a candidate version on it; the
    caller enqueues it (`tasks.run_retraining`)."""
    base = base or ModelVersion.default()
    if base is None:
        raise ValueError("No default version to retrain from.")
    if not TrainingExample.objects.filter(review_state=ReviewState.APPROVED).exists():
        raise ValueError("No approved corrections to train on.")
    ratio = settings.RETRAIN_REPLAY_RATIO if replay_ratio is None else replay_ratio
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    config = {
        "name": f"{base.name}-retrain-{stamp}",
        "retrain": {"replay_dataset": replay.pk if replay else None, "replay_ratio": ratio},
        **(train_overrides or {}),
    }
    return TrainingRun.objects.create(config=config, base_version=base, started_by=user)


def prepare_retrain_data(run: TrainingRun) -> TrainingRun:
    """On the worker: export, mix and register the run's train and validation datasets."""
    options = run.config["retrain"]
    replay = Dataset.objects.filter(pk=options.get("replay_dataset")).first()
    data = build_retrain_files(
        settings.VAR_DIR / "retrain" / f"run-{run.pk}",
        replay_path=replay.path if replay else None,
        replay_ratio=options.get("replay_ratio", DEFAULT_REPLAY_RATIO),
        user=run.started_by,
    )
    if data.corrections == 0:
        raise ValueError("No approved corrections to train on.")
    ticket_ids = DataExport.objects.get(pk=data.export_id).ticket_ids
    datasets = {
        field: register_dataset(
            path,
            split=split,
            source=DatasetSource.RETRAIN,
            name=f"retrain-{run.pk}/{split}",
            ticket_ids=ticket_ids,
            user=run.started_by,
        )
        for field, path, split in (
            ("train_dataset", data.train_path, DatasetSplit.TRAIN),
            ("validation_dataset", data.validation_path, DatasetSplit.VALIDATION),
        )
    }
    TrainingRun.objects.filter(pk=run.pk).update(**datasets)
    for field, dataset in datasets.items():
        setattr(run, field, dataset)
    return run


def new_approved_since_last_run() -> int:
    last = TrainingRun.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    approved = TrainingExample.objects.filter(review_state=ReviewState.APPROVED)
    if last is not None:
        approved = approved.filter(reviewed_at__gt=last)
    return approved.count()


def replay_dataset_from_settings() -> Dataset | None:
    """RETRAIN_REPLAY_DATASET names a registered dataset; a name that is not one is an error
    worth stopping for, not a silent retrain without replay."""
    name = settings.RETRAIN_REPLAY_DATASET
    if not name:
        return None
    try:
        return Dataset.objects.get(name=name)
    except Dataset.DoesNotExist:
        raise ValueError(f"RETRAIN_REPLAY_DATASET {name!r} is not a registered dataset") from None


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
