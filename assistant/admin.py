"""Managers' admin for model versions: what answers, behind which gate, and how it scored.

Which version is the default is not switched here: that is a promotion (training/), which
registers this admin again with its "make default" action (training/releases/version_admin.py).
"""

import json

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from access.matrix import MatrixPermissions

from .models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(MatrixPermissions[ModelVersion], admin.ModelAdmin[ModelVersion]):
    list_display = [
        "name",
        "stage",
        "enabled",
        "is_default",
        "gate_kind",
        "gate_score",
        "gate_threshold",
        "adapter_path",
    ]
    list_filter = ["stage", "enabled", "is_default", "gate_kind", "gate_score"]
    search_fields = ["name", "notes"]
    # Evaluations are written by the evaluation job, trained gates by the gate fit; editing
    # them by hand would fake a report.
    exclude = ["evaluation", "gate_metrics"]
    readonly_fields = [
        "is_default",
        "gate_model_path",
        "gate_report",
        "evaluation_report",
        "created_at",
        "updated_at",
    ]
    autocomplete_fields = ["parent"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: ModelVersion | None = None
    ) -> list[str] | tuple[str, ...]:
        # Taking the default out of the switcher ends it as the default: outside a
        # promotion, that is for superusers only.
        if obj is not None and obj.is_default and not request.user.is_superuser:
            return [*self.readonly_fields, "enabled"]
        return self.readonly_fields

    @admin.display(description="Trained gate")
    def gate_report(self, version: ModelVersion) -> str:
        if not version.gate_metrics:
            return "No trained gate yet (fit_gate, or a gate fit job)."
        text = json.dumps(version.gate_metrics, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre class="pre-wrap">{}</pre>', text)

    @admin.display(description="Evaluation")
    def evaluation_report(self, version: ModelVersion) -> str:
        if not version.evaluation:
            return "Not evaluated yet."
        text = json.dumps(version.evaluation, indent=2, sort_keys=True, ensure_ascii=False)
        return format_html('<pre class="pre-wrap">{}</pre>', text)
