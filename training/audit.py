"""The training side's entries in the security trail (access.SecurityEvent) that are read
from the row recording them: promotions and rollbacks, exports. (An erasure records its
event itself, once it knows the exports that held the ticket.)"""

from typing import Any

from django.db.models.signals import post_save

from access import events

from .models import DataExport, Promotion


def connect() -> None:
    post_save.connect(on_promotion, sender=Promotion, dispatch_uid="training.audit.promotion")
    post_save.connect(on_export, sender=DataExport, dispatch_uid="training.audit.export")


def on_promotion(sender: type, instance: Promotion, created: bool, raw: bool = False, **kw: Any):
    if not created or raw:
        return
    events.default_version_switched(
        instance.version.name,
        instance.previous.name if instance.previous else None,
        instance.promoted_by,
        rollback=instance.is_rollback,
        comparison_id=instance.comparison_id,
        override_reason=instance.override_reason,
    )


def on_export(sender: type, instance: DataExport, created: bool, raw: bool = False, **kw: Any):
    if created and not raw:
        events.data_exported(
            instance.pk, instance.path, instance.started_by, filters=instance.filters
        )
