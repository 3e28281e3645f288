"""The model registry's admin as the training side serves it: "make default" is a
promotion, through the gate (a passing comparison or a written reason) and with its
Promotion row, never a bare switch of the default.

assistant/ may not import training/ (DESIGN.md, layers), so instead of assistant calling
the promotion, training registers the registry's admin again with the action added: with
training installed there is no other way to switch the default in the admin.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest

from access.accounts import signed_in_user
from assistant.admin import ModelVersionAdmin
from assistant.models import ModelVersion

from .promotion import PromotionRefused, promote


class PromoteActionForm(ActionForm):
    override_reason = forms.CharField(
        required=False,
        label="Reason (needed without a passing comparison)",
        widget=forms.TextInput(attrs={"size": 60}),
    )


class PromotingModelVersionAdmin(ModelVersionAdmin):
    action_form = PromoteActionForm
    actions = ["make_default"]

    def has_promote_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("training.add_promotion")

    @admin.action(
        description="Make the selected version the default (a promotion)",
        permissions=["promote"],
    )
    def make_default(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one version.", messages.ERROR)
            return
        try:
            promotion = promote(
                queryset.get(),
                signed_in_user(request),
                override_reason=request.POST.get("override_reason", ""),
            )
        except PromotionRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"{promotion.version.name} now answers new tickets by default.")


admin.site.unregister(ModelVersion)
admin.site.register(ModelVersion, PromotingModelVersionAdmin)
