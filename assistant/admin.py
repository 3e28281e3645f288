"""Managers' admin for model versions: what answers, behind which gate, and how it scored."""

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from .models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
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
    actions = ["make_default"]

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

    @admin.action(description="Make the selected version the default", permissions=["change"])
    def make_default(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one version.", messages.ERROR)
            return
        version = queryset.get()
        version.make_default()
        self.message_user(request, f"{version.name} now answers new tickets by default.")
