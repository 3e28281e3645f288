"""Admin for the feedback loop: the review queue of corrections, exports and erasures."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from access.accounts import signed_in_user
from access.matrix import MatrixPermissions
from jobs.admin import JOB_FIELDS, JobAdminMixin, start_job
from tickets.models import Ticket

from ..admin_base import TOOLS_TEMPLATE, ReadOnlyAdmin, form_page, pretty_json, tool_links
from ..pipeline.models import Dataset
from ..releases.retrain import DEFAULT_REPLAY_RATIO, plan_retraining
from ..releases.tasks import run_retraining
from .erasure import erase_ticket
from .export import ExportFilters
from .models import DataExport, Erasure, ReviewState, TrainingExample
from .review import correction_diff_html, edit_correction, set_state
from .tasks import run_export


def _exports_dir() -> Any:
    return settings.VAR_DIR / "exports"


# --- review queue --------------------------------------------------------------------


class ExampleReviewForm(forms.ModelForm):
    class Meta:
        model = TrainingExample
        fields = ["review_state", "correction"]
        widgets = {"correction": forms.Textarea(attrs={"rows": 8, "cols": 90})}


class RetrainForm(forms.Form):
    replay = forms.ModelChoiceField(
        queryset=Dataset.objects.all(),
        required=False,
        help_text="Registered dataset of distilled teacher data to replay (blank: corrections "
        "only).",
    )
    replay_ratio = forms.FloatField(
        min_value=0, initial=DEFAULT_REPLAY_RATIO, help_text="Replay rows per correction."
    )
    max_steps = forms.IntegerField(min_value=1, initial=40, help_text="Optimizer steps.")


# What a reviewer sees of an example, in order.
REVIEW_FIELDS = (
    "ticket_link",
    "conversation",
    "question",
    "correction_diff",
    "draft",
    "correction",
    "review_state",
    "reason",
    "source",
    "model_version",
    "confidence_percent",
    "agent",
    "reviewer",
    "reviewed_at",
    "created_at",
)


@admin.register(TrainingExample)
class TrainingExampleAdmin(MatrixPermissions, admin.ModelAdmin):
    """Managers review every example; agents read those of their own replies (the matrix's
    OWN grant on `agent`), read-only."""

    form = ExampleReviewForm
    change_list_template = TOOLS_TEMPLATE
    list_display = [
        "id",
        "ticket_link",
        "review_state",
        "source",
        "reason",
        "confidence_percent",
        "model_version",
        "agent",
        "reviewer",
        "created_at",
    ]
    list_filter = ["review_state", "source", "reason", "model_version"]
    search_fields = ["question", "correction", "draft"]
    list_select_related = ["model_version", "agent", "reviewer"]
    ordering = ["-created_at", "-pk"]
    date_hierarchy = "created_at"
    list_per_page = 50
    fields = REVIEW_FIELDS
    # A reviewer edits only the answer and its state; the rest is the record of what happened.
    readonly_fields = tuple(n for n in REVIEW_FIELDS if n not in ("correction", "review_state"))
    actions = ["approve", "reject", "back_to_pending", "export_selected", "erase_tickets"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # examples come from agents' replies, never typed in

    @admin.display(description="Ticket", ordering="ticket_id")
    def ticket_link(self, example: TrainingExample) -> str:
        url = reverse("admin:tickets_ticket_change", args=[example.ticket_id])
        return format_html('<a href="{}">#{}</a>', url, example.ticket_id)

    @admin.display(description="Confidence", ordering="confidence")
    def confidence_percent(self, example: TrainingExample) -> str:
        return "–" if example.confidence is None else f"{example.confidence:.0%}"

    @admin.display(description="Draft → correction")
    def correction_diff(self, example: TrainingExample) -> str:
        return format_html(
            '<div class="correction-diff">{}</div>',
            correction_diff_html(example.draft, example.correction),
        )

    @admin.display(description="Earlier turns")
    def conversation(self, example: TrainingExample) -> str:
        return render_to_string("training/admin/conversation.html", {"turns": example.context})

    def save_model(
        self, request: HttpRequest, obj: TrainingExample, form: forms.ModelForm, change: bool
    ) -> None:
        if "correction" in form.changed_data:
            # An edit is a review: approved, unless the manager chose a state as well.
            chosen = "review_state" in form.changed_data
            state = obj.review_state if chosen else ReviewState.APPROVED
            edit_correction(obj, obj.correction, signed_in_user(request), state=state)
            return
        if "review_state" in form.changed_data:
            set_state([obj], obj.review_state, signed_in_user(request))
            return
        super().save_model(request, obj, form, change)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        links = []
        if self.has_change_permission(request):  # reviewers: the buttons agents cannot use
            links.append(
                (reverse("admin:training_trainingexample_retrain"), "Retrain from corrections")
            )
            links.append((reverse("training:dashboard"), "Managers' dashboard"))
        return super().changelist_view(request, {**(extra_context or {}), **tool_links(links)})

    def get_urls(self) -> list:
        return [
            path(
                "retrain/",
                self.admin_site.admin_view(self.retrain_view),
                name="training_trainingexample_retrain",
            ),
            *super().get_urls(),
        ]

    def retrain_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = RetrainForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = plan_retraining(
                    signed_in_user(request),
                    replay=form.cleaned_data["replay"],
                    replay_ratio=form.cleaned_data["replay_ratio"],
                    train_overrides={"max_steps": form.cleaned_data["max_steps"]},
                )
            except ValueError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                return start_job(request, run, run_retraining)
        return form_page(
            self,
            request,
            form,
            "Retrain from approved corrections",
            "Queues a training run that exports the approved corrections (redacted, split by "
            "time), mixes in the replay data and trains a candidate version, on a worker.",
            "Start retraining",
        )

    @admin.action(description="Approve selected examples", permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[TrainingExample]) -> None:
        count = set_state(queryset, ReviewState.APPROVED, signed_in_user(request))
        self.message_user(request, f"{count} example(s) approved.")

    @admin.action(description="Reject selected examples", permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[TrainingExample]) -> None:
        count = set_state(queryset, ReviewState.REJECTED, signed_in_user(request))
        self.message_user(request, f"{count} example(s) rejected.")

    @admin.action(description="Send selected back to pending", permissions=["change"])
    def back_to_pending(self, request: HttpRequest, queryset: QuerySet[TrainingExample]) -> None:
        count = set_state(queryset, ReviewState.PENDING, signed_in_user(request))
        self.message_user(request, f"{count} example(s) back in the queue.")

    @admin.action(
        description="Export selected approved examples (redacted JSONL)", permissions=["change"]
    )
    def export_selected(
        self, request: HttpRequest, queryset: QuerySet[TrainingExample]
    ) -> HttpResponse:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        filters = ExportFilters(example_ids=list(queryset.values_list("pk", flat=True)))
        export = DataExport.objects.create(
            started_by=signed_in_user(request),
            filters={**filters.as_json(), "validation_fraction": 0.0},
            path=str(_exports_dir() / f"examples-{stamp}-{request.user.pk}.jsonl"),
        )
        return start_job(request, export, run_export)

    @admin.action(description="Erase the tickets of selected examples", permissions=["delete"])
    def erase_tickets(self, request: HttpRequest, queryset: QuerySet[TrainingExample]) -> None:
        ticket_ids = sorted(set(queryset.values_list("ticket_id", flat=True)))
        for ticket_id in ticket_ids:
            erase_ticket(ticket_id, requested_by=signed_in_user(request))
        self.message_user(request, f"{len(ticket_ids)} ticket(s) erased.")


# --- exports and erasures --------------------------------------------------------------


@admin.register(DataExport)
class DataExportAdmin(MatrixPermissions, JobAdminMixin, ReadOnlyAdmin):
    list_display = [
        "id",
        "status",
        "created_at",
        "started_by",
        "format",
        "row_count",
        "redacted",
        "path",
    ]
    list_filter = ["status"]
    list_select_related = ["started_by"]
    ordering = ["-created_at"]
    fields = readonly_fields = (
        *JOB_FIELDS,
        "format",
        "path",
        "row_count",
        "sha256",
        "filters_pretty",
        "report_pretty",
        "ticket_count",
    )

    @admin.display(description="Redacted")
    def redacted(self, export: DataExport) -> int:
        return int(export.redaction_report.get("total", 0))

    @admin.display(description="Filters")
    def filters_pretty(self, export: DataExport) -> str:
        return pretty_json(export.filters)

    @admin.display(description="Redaction report and files")
    def report_pretty(self, export: DataExport) -> str:
        return pretty_json(export.redaction_report)

    @admin.display(description="Tickets held")
    def ticket_count(self, export: DataExport) -> int:
        return len(export.ticket_ids)


class EraseTicketForm(forms.ModelForm):
    class Meta:
        model = Erasure
        fields = ["ticket_id"]
        labels = {"ticket_id": "Ticket number"}

    def clean_ticket_id(self) -> int:
        ticket_id = self.cleaned_data["ticket_id"]
        if not Ticket.objects.filter(pk=ticket_id).exists():
            raise forms.ValidationError(f"There is no ticket #{ticket_id}.")
        return ticket_id


@admin.register(Erasure)
class ErasureAdmin(MatrixPermissions, admin.ModelAdmin):
    form = EraseTicketForm
    list_display = ["ticket_id", "created_at", "requested_by", "export_list"]
    list_select_related = ["requested_by"]
    ordering = ["-created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Erasure]:
        return super().get_queryset(request).prefetch_related("exports")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the record of an erasure is itself the audit trail

    @admin.display(description="Earlier exports that held it")
    def export_list(self, erasure: Erasure) -> str:
        paths = [f"#{e.pk} {e.path}" for e in erasure.exports.all()]
        return "; ".join(paths) or "none"

    def save_model(
        self, request: HttpRequest, obj: Erasure, form: forms.ModelForm, change: bool
    ) -> None:
        erasure = erase_ticket(obj.ticket_id, requested_by=signed_in_user(request))
        obj.pk, obj.created_at = erasure.pk, erasure.created_at
        obj.requested_by = signed_in_user(request)
        obj._state.adding = False

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        pass  # erase_ticket already recorded the exports
