"""Admin for training runs and evaluations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from assistant.models import ModelVersion

from .models import TrainingRun

PLOT_NAMES = ("reliability.png", "loss_curve.png")  # the only files the report view serves


class StartRunForm(forms.ModelForm):
    """What a manager chooses to start a run; the rest keeps TrainConfig's defaults."""

    train_path = forms.CharField(help_text="Chat JSONL to train on (e.g. a curated train.jsonl).")
    validation_path = forms.CharField(help_text="Chat JSONL for early stopping.")
    max_steps = forms.IntegerField(min_value=1, initial=40, help_text="Optimizer steps.")
    batch_size = forms.IntegerField(min_value=1, initial=8)
    max_length = forms.IntegerField(min_value=16, initial=192, help_text="Tokens per example.")
    lr = forms.FloatField(min_value=0, initial=2e-4, label="Learning rate")
    load_in_4bit = forms.BooleanField(required=False, help_text="QLoRA; needs a CUDA worker.")
    name = forms.CharField(required=False, help_text="Name of the new version (optional).")

    class Meta:
        model = TrainingRun
        fields = ["base_version"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["base_version"].required = True
        self.fields["base_version"].queryset = ModelVersion.objects.all()

    def run_config(self) -> dict[str, Any]:
        keys = ["train_path", "validation_path", "max_steps", "batch_size", "max_length", "lr"]
        config = {key: self.cleaned_data[key] for key in keys}
        config["load_in_4bit"] = bool(self.cleaned_data["load_in_4bit"])
        if self.cleaned_data["name"]:
            config["name"] = self.cleaned_data["name"]
        return config


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "progress_percent",
        "base_version",
        "produced_version",
        "created_at",
        "evaluation_link",
    ]
    list_filter = ["status"]
    readonly_fields = [
        "status",
        "progress_percent",
        "base_version",
        "produced_version",
        "config_pretty",
        "metrics_pretty",
        "output_dir",
        "error",
        "started_by",
        "created_at",
        "started_at",
        "finished_at",
        "evaluation_link",
    ]
    exclude = ["config", "metrics", "progress"]

    def get_form(self, request: HttpRequest, obj: TrainingRun | None = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = StartRunForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request: HttpRequest, obj: TrainingRun | None = None) -> list[str]:
        if obj is None:
            return [
                "base_version",
                "train_path",
                "validation_path",
                "max_steps",
                "batch_size",
                "max_length",
                "lr",
                "load_in_4bit",
                "name",
            ]
        return self.readonly_fields

    def get_readonly_fields(
        self, request: HttpRequest, obj: TrainingRun | None = None
    ) -> list[str]:
        return self.readonly_fields if obj is not None else []

    def save_model(self, request: HttpRequest, obj: TrainingRun, form: Any, change: bool) -> None:
        if change:
            return  # a run is never edited; its row belongs to the task
        from .tasks import run_training

        obj.config = form.run_config()
        obj.started_by = request.user
        super().save_model(request, obj, form, change)
        transaction.on_commit(lambda: run_training.delay(obj.pk))

    def has_change_permission(self, request: HttpRequest, obj: TrainingRun | None = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description="progress")
    def progress_percent(self, run: TrainingRun) -> str:
        return f"{run.progress:.0%}"

    @admin.display(description="config")
    def config_pretty(self, run: TrainingRun) -> str:
        return format_html("<pre>{}</pre>", json.dumps(run.config, indent=2))

    @admin.display(description="metrics")
    def metrics_pretty(self, run: TrainingRun) -> str:
        return format_html("<pre>{}</pre>", json.dumps(run.metrics, indent=2))

    @admin.display(description="evaluation")
    def evaluation_link(self, run: TrainingRun) -> str:
        version = run.produced_version
        if version is None or not version.evaluation:
            return "-"
        url = reverse("admin:training_evaluation_report", args=[version.pk])
        return format_html('<a href="{}">report of {}</a>', url, version.name)

    def get_urls(self) -> list[Any]:
        views = [
            path(
                "evaluation/",
                self.admin_site.admin_view(self.evaluation_index_view),
                name="training_evaluation_index",
            ),
            path(
                "evaluation/<int:version_id>/",
                self.admin_site.admin_view(self.evaluation_report_view),
                name="training_evaluation_report",
            ),
            path(
                "evaluation/<int:version_id>/<str:plot>",
                self.admin_site.admin_view(self.evaluation_plot_view),
                name="training_evaluation_plot",
            ),
        ]
        return views + super().get_urls()

    def evaluation_index_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        evaluated = [
            v for v in ModelVersion.objects.order_by("-updated_at") if v.evaluation.get("report")
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Model evaluations",
            "rows": [
                (
                    v,
                    v.evaluation.get("summary", {}),
                    reverse("admin:training_evaluation_report", args=[v.pk]),
                )
                for v in evaluated
            ],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/training/evaluation_index.html", context)

    def evaluation_report_view(self, request: HttpRequest, version_id: int) -> HttpResponse:
        version = _evaluated_version(request, self, version_id)
        report = _read_report(version)
        plots = [
            reverse("admin:training_evaluation_plot", args=[version.pk, Path(p).name])
            for p in version.evaluation.get("plots", [])
            if Path(p).name in PLOT_NAMES
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Evaluation of {version.name}",
            "version": version,
            "summary": version.evaluation.get("summary", {}),
            "report_json": json.dumps(report, indent=2),
            "plots": plots,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/training/evaluation_report.html", context)

    def evaluation_plot_view(
        self, request: HttpRequest, version_id: int, plot: str
    ) -> FileResponse:
        version = _evaluated_version(request, self, version_id)
        if plot not in PLOT_NAMES:
            raise Http404("not a report plot")
        # Only files the evaluation itself recorded: a name in the URL never picks a path.
        recorded = {Path(p).name: Path(p) for p in version.evaluation.get("plots", [])}
        if plot not in recorded or not recorded[plot].exists():
            raise Http404("plot not found")
        return FileResponse(open(recorded[plot], "rb"), content_type="image/png")


def _evaluated_version(
    request: HttpRequest, model_admin: admin.ModelAdmin, version_id: int
) -> ModelVersion:
    if not (request.user.is_staff and model_admin.has_view_permission(request)):
        raise PermissionDenied
    version = get_object_or_404(ModelVersion, pk=version_id)
    if not version.evaluation.get("report"):
        raise Http404("this version has no evaluation")
    return version


def _read_report(version: ModelVersion) -> dict[str, Any]:
    report_path = Path(version.evaluation["report"])
    if not report_path.exists():
        return {"error": f"report file {report_path} is missing"}
    return json.loads(report_path.read_text())
