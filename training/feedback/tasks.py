"""The feedback loop's job: a redacted export, written by a worker of the exports queue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import shared_task

from jobs.runner import Progress, run_job

from ..pipeline.tasks import job_limits
from .export import ExportFilters, register_export_datasets, write_export
from .models import DataExport


@shared_task(name="training.feedback.tasks.run_export", acks_late=True, **job_limits("export"))
def run_export(export_id: int) -> None:
    run_job(DataExport, export_id, export_rows)


def export_rows(export: DataExport, progress: Progress) -> dict[str, Any]:
    """The work of an export job: the files, their datasets, the row's figures."""
    filters = dict(export.filters)
    fields = write_export(
        Path(export.path),
        fmt=export.format,
        filters=ExportFilters.from_json(filters),
        validation_fraction=float(filters.get("validation_fraction", 0.0)),
        workers=1,  # a Celery pool process may not fork pools of its own
    )
    register_export_datasets(fields, export.started_by)
    return fields
