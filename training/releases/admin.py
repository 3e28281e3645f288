"""Admin for releases: shadow comparisons, promotions and rollbacks."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse

from access.accounts import signed_in_user
from assistant.models import ModelVersion
from jobs.admin import JOB_FIELDS, JobAdminMixin, start_job

from ..admin_base import TOOLS_TEMPLATE, ReadOnlyAdmin, form_page, tool_links
from .models import Promotion, ShadowComparison
from .promotion import PromotionRefused, promote, rollback
from .shadow import DEFAULT_LIMIT, NoActiveVersion, start_shadow_comparison
from .tasks import run_shadow_comparison

# A comparison runs on a worker; this only keeps one from running for a day.
ADMIN_SHADOW_LIMIT = 1000


# --- shadow comparisons and promotions ---------------------------------------------------


class ShadowForm(forms.Form):
    candidate = forms.ModelChoiceField(queryset=ModelVersion.objects.all())
    active = forms.ModelChoiceField(
        queryset=ModelVersion.objects.all(), required=False, help_text="Blank: the default version."
    )
    limit = forms.IntegerField(
        min_value=1,
        max_value=ADMIN_SHADOW_LIMIT,
        initial=DEFAULT_LIMIT,
        help_text="Recent corrected tickets both versions answer.",
    )


class PromoteForm(forms.Form):
    candidate = forms.ModelChoiceField(queryset=ModelVersion.objects.filter(is_default=False))
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text="Needed only when the latest comparison did not show the candidate not worse.",
    )


# The figures of each side shown in a comparison's report, in order.
REPORT_FIGURES = [
    ("Version", "version"),
    ("Mean similarity to agents' answers", "similarity_mean"),
    ("Share of good answers", "good_share"),
    ("Completion loss of agents' answers", "loss"),
    ("Share escalated at its gate", "escalation_share"),
    ("Gate AUROC", "gate_auroc"),
    ("Mean confidence", "confidence_mean"),
]


def _side_by_side(report: dict[str, Any]) -> str:
    candidate, active = report.get("candidate", {}), report.get("active", {})
    context = {
        "figures": [(label, candidate.get(key), active.get(key)) for label, key in REPORT_FIGURES],
        "verdict": report.get("verdict", []),
        "samples": report.get("samples", []),
    }
    return render_to_string("training/admin/shadow_report.html", context)


@admin.register(ShadowComparison)
class ShadowComparisonAdmin(JobAdminMixin, ReadOnlyAdmin):
    change_list_template = TOOLS_TEMPLATE
    list_display = [
        "id",
        "status",
        "progress_percent",
        "candidate",
        "active",
        "candidate_not_worse",
        "examples",
        "created_at",
        "started_by",
    ]
    list_filter = ["status", "candidate_not_worse"]
    list_select_related = ["candidate", "active", "started_by"]
    ordering = ["-created_at"]
    fields = readonly_fields = (
        *JOB_FIELDS,
        "candidate",
        "active",
        "limit",
        "candidate_not_worse",
        "side_by_side",
    )
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
        return super().changelist_view(request, {**(extra_context or {}), **tool_links(links)})

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
                comparison = start_shadow_comparison(
                    form.cleaned_data["candidate"],
                    form.cleaned_data["active"],
                    limit=form.cleaned_data["limit"],
                    user=signed_in_user(request),
                )
            except NoActiveVersion as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                return start_job(request, comparison, run_shadow_comparison)
        return form_page(
            self,
            request,
            form,
            "Run a shadow comparison",
            "Both versions answer the same recent corrected tickets that neither trained on; "
            "their answers are compared with the agents'. It runs on an evaluation worker.",
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
            promotion = promote(queryset.get().candidate, signed_in_user(request))
        except PromotionRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"{promotion.version.name} is now the active version.")


@admin.register(Promotion)
class PromotionAdmin(ReadOnlyAdmin):
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
        return super().changelist_view(request, {**(extra_context or {}), **tool_links(links)})

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
                    signed_in_user(request),
                    override_reason=form.cleaned_data["override_reason"],
                )
            except PromotionRefused as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"{promotion.version.name} is now the active version.")
                return HttpResponseRedirect(reverse("admin:training_promotion_changelist"))
        return form_page(
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
                promotion = rollback(signed_in_user(request))
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
        return form_page(self, request, forms.Form(), "Roll back", intro, "Roll back")
