"""Admin for the pipeline: registered datasets, training runs, evaluations and gate fits
(jobs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from assistant.models import ModelVersion
from jobs.admin import JOB_FIELDS, JobAdminMixin

from ..admin_base import ReadOnlyAdmin, choice_field
from .models import Dataset, DatasetSplit, EvaluationRun, GateFit, TrainingRun
from .tasks import run_evaluation, run_gate_fit, run_training

# The only files the report view serves.
PLOT_NAMES = ("reliability.png", "risk_coverage.png", "loss_curve.png")


def _datasets(*splits: str) -> Any:
    return Dataset.objects.filter(split__in=splits).order_by("-created_at")


class StartRunForm(forms.ModelForm):
    """What a manager chooses to start a run; the rest keeps TrainConfig's defaults."""

    max_steps = forms.IntegerField(min_value=1, initial=40, help_text="Optimizer steps.")
    batch_size = forms.IntegerField(min_value=1, initial=8)
    max_length = forms.IntegerField(min_value=16, initial=192, help_text="Tokens per example.")
    lr = forms.FloatField(min_value=0, initial=2e-4, label="Learning rate")
    load_in_4bit = forms.BooleanField(required=False, help_text="QLoRA; needs a CUDA worker.")
    name = forms.CharField(required=False, help_text="Name of the new version (optional).")

    class Meta:
        model = TrainingRun
        fields = ["base_version", "train_dataset", "validation_dataset"]
        help_texts = {
            "train_dataset": "Registered chat JSONL to train on (curate_dataset, exports).",
            "validation_dataset": "Registered chat JSONL for early stopping.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("base_version", "train_dataset", "validation_dataset"):
            self.fields[name].required = True
        choice_field(self, "base_version").queryset = ModelVersion.objects.all()
        choice_field(self, "train_dataset").queryset = _datasets(
            DatasetSplit.TRAIN, DatasetSplit.ALL
        )
        choice_field(self, "validation_dataset").queryset = _datasets(
            DatasetSplit.VALIDATION, DatasetSplit.ALL
        )

    def save(self, commit: bool = True) -> TrainingRun:
        run = super().save(commit=False)
        keys = ["max_steps", "batch_size", "max_length", "lr"]
        run.config = {key: self.cleaned_data[key] for key in keys}
        run.config["load_in_4bit"] = bool(self.cleaned_data["load_in_4bit"])
        if self.cleaned_data["name"]:
            run.config["name"] = self.cleaned_data["name"]
        if commit:
            run.save()
        return run


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ["name", "split", "source", "rows", "created_at", "path"]
    list_filter = ["split", "source"]
    search_fields = ["name", "path"]
    fields = ("name", "split", "source", "rows", "sha256", "path", "created_by", "created_at")
    readonly_fields = fields


@admin.register(TrainingRun)
class TrainingRunAdmin(JobAdminMixin, admin.ModelAdmin):
    job_task = run_training
    list_display = [
        "id",
        "status",
        "progress_percent",
        "base_version",
        "train_dataset",
        "produced_version",
        "created_at",
        "evaluation_link",
    ]
    list_filter = ["status"]
    list_select_related = ["base_version", "train_dataset", "produced_version"]
    readonly_fields = [
        *JOB_FIELDS,
        "base_version",
        "train_dataset",
        "validation_dataset",
        "produced_version",
        "config_pretty",
        "metrics_pretty",
        "output_dir",
        "evaluation_link",
    ]

    def get_form(
        self,
        request: HttpRequest,
        obj: TrainingRun | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = StartRunForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: TrainingRun | None = None) -> tuple[str, ...]:
        if obj is None:
            return (
                *StartRunForm.Meta.fields,
                "max_steps",
                "batch_size",
                "max_length",
                "lr",
                "load_in_4bit",
                "name",
            )
        return tuple(self.readonly_fields)

    def get_readonly_fields(
        self, request: HttpRequest, obj: TrainingRun | None = None
    ) -> list[str]:
        return self.readonly_fields if obj is not None else []

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


class StartEvaluationForm(forms.ModelForm):
    class Meta:
        model = EvaluationRun
        fields = ["version", "dataset", "limit"]
        help_texts = {"dataset": "A held-out split the version did not train on."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "dataset").queryset = _datasets(
            DatasetSplit.TEST, DatasetSplit.VALIDATION, DatasetSplit.ALL
        )


@admin.register(EvaluationRun)
class EvaluationRunAdmin(JobAdminMixin, admin.ModelAdmin):
    job_task = run_evaluation
    list_display = ["id", "status", "progress_percent", "version", "dataset", "created_at"]
    list_filter = ["status"]
    list_select_related = ["version", "dataset"]
    readonly_fields = [*JOB_FIELDS, "version", "dataset", "limit", "summary_pretty"]

    def get_form(
        self,
        request: HttpRequest,
        obj: EvaluationRun | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm]:
        # The add page only: on a row's page every field is read-only, so the start form
        # would find no dataset field to narrow (a server error on every evaluation's page).
        if obj is None:
            kwargs["form"] = StartEvaluationForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: EvaluationRun | None = None) -> tuple[str, ...]:
        return tuple(StartEvaluationForm.Meta.fields if obj is None else self.readonly_fields)

    def get_readonly_fields(
        self, request: HttpRequest, obj: EvaluationRun | None = None
    ) -> list[str]:
        return self.readonly_fields if obj is not None else []

    @admin.display(description="summary")
    def summary_pretty(self, evaluation: EvaluationRun) -> str:
        if not evaluation.summary:
            return "-"
        url = reverse("admin:training_evaluation_report", args=[evaluation.version_id])
        return format_html(
            '<pre>{}</pre><a href="{}">Full report</a>',
            json.dumps(evaluation.summary, indent=2),
            url,
        )


class StartGateFitForm(forms.ModelForm):
    class Meta:
        model = GateFit
        fields = ["version", "dataset", "limit", "desk_outcomes", "target_accuracy", "confidence"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "dataset").queryset = _datasets(
            DatasetSplit.TEST, DatasetSplit.VALIDATION, DatasetSplit.ALL
        )

    def clean(self) -> dict[str, Any]:
        super().clean()  # a ModelForm's returns cleaned_data, which the stubs cannot promise
        cleaned = self.cleaned_data
        if not cleaned.get("dataset") and not cleaned.get("desk_outcomes"):
            raise forms.ValidationError("Choose a dataset, the desk's outcomes, or both.")
        return cleaned


@admin.register(GateFit)
class GateFitAdmin(JobAdminMixin, admin.ModelAdmin):
    job_task = run_gate_fit
    list_display = ["id", "status", "progress_percent", "version", "dataset", "created_at"]
    list_filter = ["status"]
    list_select_related = ["version", "dataset"]
    readonly_fields = [
        *JOB_FIELDS,
        *StartGateFitForm.Meta.fields,
        "gate_path",
        "metrics_pretty",
    ]

    def get_form(
        self,
        request: HttpRequest,
        obj: GateFit | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm]:
        if obj is None:  # the add page only, as for evaluations
            kwargs["form"] = StartGateFitForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: GateFit | None = None) -> tuple[str, ...]:
        return tuple(StartGateFitForm.Meta.fields if obj is None else self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: GateFit | None = None) -> list[str]:
        return self.readonly_fields if obj is not None else []

    @admin.display(description="metrics")
    def metrics_pretty(self, fit: GateFit) -> str:
        if not fit.metrics:
            return "-"
        return format_html("<pre>{}</pre>", json.dumps(fit.metrics, indent=2))


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
