"""Shadow comparisons of a candidate with the active version, and promotions."""

from django.conf import settings
from django.db import models

from jobs.models import Job


class ShadowComparison(Job):
    """The candidate and the active version answer the same unseen corrected tickets (a
    job on the evaluation queue: the models run on a worker, never in the web process)."""

    time_limit_kind = "evaluation"

    candidate = models.ForeignKey(
        "assistant.ModelVersion", on_delete=models.CASCADE, related_name="+"
    )
    active = models.ForeignKey("assistant.ModelVersion", on_delete=models.CASCADE, related_name="+")
    report = models.JSONField(default=dict)
    candidate_not_worse = models.BooleanField(default=False)
    limit = models.PositiveIntegerField(default=50, help_text="Corrected tickets compared on.")


class Promotion(models.Model):
    version = models.ForeignKey(
        "assistant.ModelVersion", on_delete=models.CASCADE, related_name="+"
    )
    previous = models.ForeignKey(
        "assistant.ModelVersion", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    comparison = models.ForeignKey(
        ShadowComparison, null=True, blank=True, on_delete=models.SET_NULL
    )
    override_reason = models.TextField(blank=True)
    is_rollback = models.BooleanField(default=False)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
