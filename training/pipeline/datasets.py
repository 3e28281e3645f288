"""Datasets as records: a chat JSONL file is registered once with its rows, hash and split,
and from then on people choose it from a list. Registration reads the whole file, so a file
that is not chat JSONL is refused with the line that is wrong, before any job trusts it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db import transaction

from .models import Dataset, DatasetSource, DatasetSplit

CHAT_ROLES = {"system", "user", "assistant"}


class InvalidDataset(ValueError):
    """The file is missing, unreadable, or not chat JSONL; the message says which line."""


def register_dataset(
    path: str | Path,
    *,
    split: str,
    source: str = DatasetSource.REGISTERED,
    name: str = "",
    ticket_ids: Iterable[int] = (),
    user: Any = None,
) -> Dataset:
    """Record the file at `path` (again: refreshed rows and hash when it changed)."""
    if split not in DatasetSplit.values:
        raise InvalidDataset(f"split must be one of {', '.join(DatasetSplit.values)}")
    resolved = Path(path).resolve()
    rows, sha256 = _check_chat_jsonl(resolved)
    with transaction.atomic():
        dataset, _ = Dataset.objects.update_or_create(
            path=str(resolved),
            defaults={
                "name": name or _default_name(resolved),
                "split": split,
                "source": source,
                "rows": rows,
                "sha256": sha256,
                "ticket_ids": sorted(set(ticket_ids)),
                "created_by": user,
            },
        )
    return dataset


def register_curated_splits(folder: str | Path, user: Any = None) -> list[Dataset]:
    """The train/validation/test files curate_dataset wrote into `folder` (an empty split,
    from too few rows, is nothing to pick)."""
    folder = Path(folder)
    paths = {split: folder / f"{split}.jsonl" for split in ("train", "validation", "test")}
    return [
        register_dataset(path, split=split, source=DatasetSource.CURATED, user=user)
        for split, path in paths.items()
        if path.exists() and path.stat().st_size > 0
    ]


def trained_ticket_ids(version: Any) -> set[int]:
    """Tickets whose corrections `version` or any version it grew from trained on (train and
    validation both: early stopping looked at the validation rows)."""
    from .models import TrainingRun

    seen: set[int] = set()
    visited: set[int] = set()
    while version is not None and version.pk not in visited:
        visited.add(version.pk)
        runs = TrainingRun.objects.filter(produced_version=version).select_related(
            "train_dataset", "validation_dataset"
        )
        for run in runs:
            for dataset in (run.train_dataset, run.validation_dataset):
                if dataset is not None:
                    seen.update(dataset.ticket_ids)
        version = version.parent
    return seen


def _check_chat_jsonl(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    rows = 0
    try:
        with path.open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                digest.update(raw)
                if raw.strip():
                    _check_line(raw, number)
                    rows += 1
    except OSError:
        # One message for missing and unreadable alike: the form must not tell them apart.
        raise InvalidDataset(f"{path} is not a readable file") from None
    if rows == 0:
        raise InvalidDataset(f"{path} holds no conversations")
    return rows, digest.hexdigest()


def _check_line(raw: bytes, number: int) -> None:
    try:
        messages = json.loads(raw)["messages"]
    except (ValueError, KeyError, TypeError):
        raise InvalidDataset(f'line {number} is not a JSON object with "messages"') from None
    if not isinstance(messages, list) or not messages:
        raise InvalidDataset(f"line {number}: messages must be a non-empty list")
    for message in messages:
        if not (
            isinstance(message, dict)
            and message.get("role") in CHAT_ROLES
            and isinstance(message.get("content"), str)
        ):
            raise InvalidDataset(f"line {number}: each message needs a role and a content")


def _default_name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"
