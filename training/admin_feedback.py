"""Admin for corrections, the review queue, exports, erasures, comparisons and promotions."""

import json
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from assistant.models import ModelVersion
from tickets.models import Ticket

from .erasure import erase_ticket
from .export import ExportFilters, export_examples
from .models import (
    DataExport,
    Erasure,
    Promotion,
    ReviewState,
    ShadowComparison,
    TrainingExample,
)
from .promotion import PromotionRefused, promote, rollback
from .retrain import DEFAULT_REPLAY_RATIO, start_retraining
from .review import correction_diff_html, edit_correction, set_state
from .shadow import DEFAULT_LIMIT, NoActiveVersion, run_shadow_comparison

TOOLS_TEMPLATE = "training/admin/change_list_tools.html"
FORM_TEMPLATE = "training/admin/form_page.html"
# Comparisons started from the admin run inside the request: keep them short.
ADMIN_SHADOW_LIMIT = 100

# The admin index links to the managers' dashboard.
admin.site.index_template = "training/admin/index.html"


def _exports_dir() -> Path:
    return settings.VAR_DIR / "exports"


def _tools(links: list[tuple[str, str]]) -> dict[str, Any]:
    return {"extra_tools": links}


def _form_page(
    admin_obj: admin.ModelAdmin,
    request: HttpRequest,
    form: forms.Form,
    title: str,
    intro: str,
    submit: str,
) -> TemplateResponse:
    context = {
        **admin_obj.admin_site.each_context(request),
        "opts": admin_obj.model._meta,
        "title": title,
        "intro": intro,
        "form": form,
        "submit": submit,
    }
    return TemplateResponse(request, FORM_TEMPLATE, context)


# --- review queue --------------------------------------------------------------------


class ExampleReviewForm(forms.ModelForm):
    class Meta:
        model = TrainingExample
        fields = ["review_state", "correction"]
        widgets = {"correction": forms.Textarea(attrs={"rows": 8, "cols": 90})}


class RetrainForm(forms.Form):
    replay_path = forms.CharField(
        required=False,
        help_text="Chat JSONL of distilled teacher data to replay (blank: corrections only).",
    )
    replay_ratio = forms.FloatField(
        min_value=0, initial=DEFAULT_REPLAY_RATIO, help_text="Replay rows per correction."
    )
    max_steps = forms.IntegerField(min_value=1, initial=40, help_text="Optimizer steps.")


@admin.register(TrainingExample)
class TrainingExampleAdmin(admin.ModelAdmin):
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
    fields = [
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
    ]
    readonly_fields = [
        "ticket_link",
        "conversation",
        "question",
        "correction_diff",
        "draft",
        "reason",
        "source",
        "model_version",
        "confidence_percent",
        "agent",
        "reviewer",
        "reviewed_at",
        "created_at",
    ]
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
        if not example.context:
            return "–"
        return format_html_join(
            "",
            "<p><strong>{}</strong>: {}</p>",
            ((t["role"], t["content"]) for t in example.context),
        )

    def save_model(
        self, request: HttpRequest, obj: TrainingExample, form: forms.ModelForm, change: bool
    ) -> None:
        if "correction" in form.changed_data:
            # An edit is a review: approved, unless the manager chose a state as well.
            chosen = "review_state" in form.changed_data
            state = obj.review_state if chosen else ReviewState.APPROVED
            edit_correction(obj, obj.correction, request.user, state=state)
            return
        if "review_state" in form.changed_data:
            set_state([obj], obj.review_state, request.user)
            return
        super().save_model(request, obj, form, change)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        links = [(reverse("admin:training_trainingexample_retrain"), "Retrain from corrections")]
        links.append((reverse("training:dashboard"), "Managers' dashboard"))
        return super().changelist_view(request, {**(extra_context or {}), **_tools(links)})

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
                run = start_retraining(
                    request.user,
                    replay_path=form.cleaned_data["replay_path"] or None,
                    replay_ratio=form.cleaned_data["replay_ratio"],
                    train_overrides={"max_steps": form.cleaned_data["max_steps"]},
                )
            except (ValueError, OSError) as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"Training run {run.pk} queued.")
                return HttpResponseRedirect(
                    reverse("admin:training_trainingrun_change", args=[run.pk])
                )
        return _form_page(
            self,
            request,
            form,
            "Retrain from approved corrections",
            "Exports the approved corrections (redacted, split by time), mixes in the replay "
            "data, and queues a training run whose adapter becomes a candidate version.",
            "Start retraining",
        )

    @admin.action(description="Approve selected examples", permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[TrainingExample]) -> None:
        count = set_state(queryset, ReviewState.APPROVED, request.user)
        self.message_user(request, f"{count} example(s) approved.")

    @admin.action(description="Reject selected examples", permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[TrainingExample]) -> None:
        count = set_state(queryset, ReviewState.REJECTED, request.user)
        self.message_user(request, f"{count} example(s) rejected.")

    @admin.action(description="Send selected back to pending", permissions=["change"])
    def back_to_pending(self, request: HttpRequest, queryset: QuerySet[TrainingExample]) -> None:
        count = set_state(queryset, ReviewState.PENDING, request.user)
        self.message_user(request, f"{count} example(s) back in the queue.")

    @admin.action(
        description="Export selected approved examples (redacted JSONL)", permissions=["change"]
    )
    def export_selected(self, request: HttpRequest, queryset: QuerySet[TrainingExample]) -> None:
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        export = export_examples(
            _exports_dir() / f"examples-{stamp}.jsonl",
            filters=ExportFilters(example_ids=list(queryset.values_list("pk", flat=True))),
            user=request.user,
            workers=1,  # never fork a threaded web server process
        )
        skipped = queryset.count() - export.row_count
        note = f" ({skipped} not approved, left out)" if skipped else ""
        self.message_user(
            request, f"Export {export.pk}: {export.row_count} rows to {export.path}{note}."
        )

    @admin.action(description="Erase the tickets of selected examples", permissions=["delete"])
    def erase_tickets(self, request: HttpRequest, queryset: QuerySet[TrainingExample]) -> None:
        ticket_ids = sorted(set(queryset.values_list("ticket_id", flat=True)))
        for ticket_id in ticket_ids:
            erase_ticket(ticket_id, requested_by=request.user)
        self.message_user(request, f"{len(ticket_ids)} ticket(s) erased.")


# --- exports and erasures --------------------------------------------------------------


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _pretty(data: object) -> str:
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)


@admin.register(DataExport)
class DataExportAdmin(_ReadOnlyAdmin):
    list_display = ["id", "created_at", "created_by", "format", "row_count", "redacted", "path"]
    list_select_related = ["created_by"]
    ordering = ["-created_at"]
    fields = [
        "created_at",
        "created_by",
        "format",
        "path",
        "row_count",
        "sha256",
        "filters_pretty",
        "report_pretty",
        "ticket_count",
    ]
    readonly_fields = fields

    @admin.display(description="Redacted")
    def redacted(self, export: DataExport) -> int:
        return int(export.redaction_report.get("total", 0))

    @admin.display(description="Filters")
    def filters_pretty(self, export: DataExport) -> str:
        return _pretty(export.filters)

    @admin.display(description="Redaction report and files")
    def report_pretty(self, export: DataExport) -> str:
        return _pretty(export.redaction_report)

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
class ErasureAdmin(admin.ModelAdmin):
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
        erasure = erase_ticket(obj.ticket_id, requested_by=request.user)
        obj.pk, obj.created_at, obj.requested_by = erasure.pk, erasure.created_at, request.user
        obj._state.adding = False

    def save_related(
        self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        pass  # erase_ticket already recorded the exports


# --- shadow comparisons and promotions ---------------------------------------------------


class ShadowForm(forms.Form):
    candidate = forms.ModelChoiceField(queryset=ModelVersion.objects.all())
    active = forms.ModelChoiceField(
        queryset=ModelVersion.objects.all(), required=False, help_text="Blank: the default version."
    )
    limit = forms.IntegerField(
        min_value=1,
        max_value=ADMIN_SHADOW_LIMIT,
        initial=min(DEFAULT_LIMIT, 20),
        help_text="Recent corrected tickets both versions answer.",
    )


class PromoteForm(forms.Form):
    candidate = forms.ModelChoiceField(queryset=ModelVersion.objects.filter(is_default=False))
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Needed only when the latest comparison did not show the candidate not worse.",
    )


def _side_by_side(report: dict[str, Any]) -> str:
    rows = [
        ("Version", "version"),
        ("Mean similarity to agents' answers", "similarity_mean"),
        ("Share of good answers", "good_share"),
        ("Completion loss of agents' answers", "loss"),
        ("Share escalated at its gate", "escalation_share"),
        ("Gate AUROC", "gate_auroc"),
        ("Mean confidence", "confidence_mean"),
    ]
    candidate, active = report.get("candidate", {}), report.get("active", {})
    body = format_html_join(
        "",
        "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
        ((label, _figure(candidate.get(key)), _figure(active.get(key))) for label, key in rows),
    )
    samples = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}<br><small>similarity {}</small></td>"
        "<td>{}<br><small>similarity {}</small></td></tr>",
        (
            (
                s["question"],
                s["agent_answer"],
                s["candidate"]["text"],
                _figure(s["candidate"]["similarity"]),
                s["active"]["text"],
                _figure(s["active"]["similarity"]),
            )
            for s in report.get("samples", [])
        ),
    )
    return format_html(
        '<table class="shadow-figures"><tr><th></th><th>Candidate</th><th>Active</th></tr>{}</table>'
        "<p>{}</p><h3>Answers side by side</h3>"
        '<table class="shadow-samples"><tr><th>Question</th><th>Agent</th><th>Candidate</th>'
        "<th>Active</th></tr>{}</table>",
        body,
        "; ".join(report.get("verdict", [])),
        samples,
    )


def _figure(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


@admin.register(ShadowComparison)
class ShadowComparisonAdmin(_ReadOnlyAdmin):
    change_list_template = TOOLS_TEMPLATE
    list_display = [
        "id",
        "candidate",
        "active",
        "candidate_not_worse",
        "examples",
        "created_at",
        "created_by",
    ]
    list_filter = ["candidate_not_worse"]
    list_select_related = ["candidate", "active", "created_by"]
    ordering = ["-created_at"]
    fields = [
        "candidate",
        "active",
        "candidate_not_worse",
        "created_by",
        "created_at",
        "side_by_side",
    ]
    readonly_fields = fields
    actions = ["promote_candidate"]

    @admin.display(description="Examples")
    def examples(self, comparison: ShadowComparison) -> int:
        return int(comparison.report.get("examples", 0))

    @admin.display(description="Comparison")
    def side_by_side(self, comparison: ShadowComparison) -> str:
        return _side_by_side(comparison.report)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        links = [
            (reverse("admin:training_shadowcomparison_run"), "Run a shadow comparison"),
            (reverse("admin:training_promotion_promote"), "Promote a version"),
        ]
        return super().changelist_view(request, {**(extra_context or {}), **_tools(links)})

    def get_urls(self) -> list:
        return [
            path(
                "run/",
                self.admin_site.admin_view(self.run_view),
                name="training_shadowcomparison_run",
            ),
            *super().get_urls(),
        ]

    def run_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("training.add_shadowcomparison"):
            raise PermissionDenied
        form = ShadowForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                comparison = run_shadow_comparison(
                    form.cleaned_data["candidate"],
                    form.cleaned_data["active"],
                    limit=form.cleaned_data["limit"],
                    user=request.user,
                )
            except NoActiveVersion as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                return HttpResponseRedirect(
                    reverse("admin:training_shadowcomparison_change", args=[comparison.pk])
                )
        return _form_page(
            self,
            request,
            form,
            "Run a shadow comparison",
            "Both versions answer the same recent corrected tickets; their answers are "
            "compared with the agents'. Large runs: manage.py shadow_eval.",
            "Compare",
        )

    @admin.action(description="Promote the candidate of the selected comparison")
    def promote_candidate(self, request: HttpRequest, queryset: QuerySet[ShadowComparison]) -> None:
        if not request.user.has_perm("training.add_promotion"):
            raise PermissionDenied
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one comparison.", messages.ERROR)
            return
        try:
            promotion = promote(queryset.get().candidate, request.user)
        except PromotionRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"{promotion.version.name} is now the active version.")


@admin.register(Promotion)
class PromotionAdmin(_ReadOnlyAdmin):
    change_list_template = TOOLS_TEMPLATE
    list_display = [
        "created_at",
        "version",
        "previous",
        "is_rollback",
        "comparison",
        "override_reason",
        "promoted_by",
    ]
    list_select_related = ["version", "previous", "comparison", "promoted_by"]
    ordering = ["-created_at", "-pk"]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        links = [
            (reverse("admin:training_promotion_promote"), "Promote a version"),
            (reverse("admin:training_promotion_rollback"), "Roll back"),
        ]
        return super().changelist_view(request, {**(extra_context or {}), **_tools(links)})

    def get_urls(self) -> list:
        return [
            path(
                "promote/",
                self.admin_site.admin_view(self.promote_view),
                name="training_promotion_promote",
            ),
            path(
                "rollback/",
                self.admin_site.admin_view(self.rollback_view),
                name="training_promotion_rollback",
            ),
            *super().get_urls(),
        ]

    def _check(self, request: HttpRequest) -> None:
        if not request.user.has_perm("training.add_promotion"):
            raise PermissionDenied

    def promote_view(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        form = PromoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                promotion = promote(
                    form.cleaned_data["candidate"],
                    request.user,
                    override_reason=form.cleaned_data["override_reason"],
                )
            except PromotionRefused as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"{promotion.version.name} is now the active version.")
                return HttpResponseRedirect(reverse("admin:training_promotion_changelist"))
        return _form_page(
            self,
            request,
            form,
            "Promote a version",
            "The candidate becomes the default; workers answer with it from their next task. "
            "It needs a passing shadow comparison against the active version, or a reason.",
            "Promote",
        )

    def rollback_view(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        if request.method == "POST":
            try:
                promotion = rollback(request.user)
            except PromotionRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(
                    request, f"Rolled back: {promotion.version.name} is active again."
                )
            return HttpResponseRedirect(reverse("admin:training_promotion_changelist"))
        last = (
            Promotion.objects.select_related("version", "previous")
            .order_by("-created_at", "-pk")
            .first()
        )
        intro = (
            f"Switch back from {last.version} to {last.previous}."
            if last and last.previous
            else "There is no earlier version to roll back to."
        )
        return _form_page(self, request, forms.Form(), "Roll back", intro, "Roll back")
