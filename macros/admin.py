"""Macros in the admin: agents keep their personal ones, managers the shared ones; the list
shows how often each was sent, and a much-used one becomes a knowledge article draft."""

from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import ForeignKey, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from access.accounts import signed_in_user
from access.matrix import ROLE_GROUPS, MatrixPermissions, Role, limit_to_own, request_role
from knowledge.articles import draft_article

from .models import Macro
from .placeholders import PLACEHOLDERS, render_generic

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _UseCount(TypedDict):
    use_count: int


def _is_manager(request: HttpRequest) -> bool:
    return request.user.is_superuser or request_role(request) is Role.MANAGER


class SharedFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Macro]
    ) -> list[tuple[str, str]]:
        return [("shared", "Shared"), ("mine", "Mine"), ("personal", "Personal (anyone's)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Macro]) -> QuerySet[Macro]:
        if self.value() == "shared":
            return queryset.filter(owner__isnull=True)
        if self.value() == "mine":
            return queryset.filter(owner=signed_in_user(request))
        if self.value() == "personal":
            return queryset.filter(owner__isnull=False)
        return queryset


@admin.register(Macro)
class MacroAdmin(MatrixPermissions[Macro], admin.ModelAdmin[Macro]):
    list_display = ("title", "category", "kind", "replies_sent", "updated_at")
    list_filter = (SharedFilter, "category")
    search_fields = ("title", "body")
    list_select_related = ("owner",)
    actions = ("make_article_draft",)

    def get_fields(self, request: HttpRequest, obj: Macro | None = None) -> tuple[str, ...]:
        # An agent's macros are theirs alone: only managers say who owns one (blank: shared).
        fields = ("title", "category", "body")
        return (*fields, "owner") if _is_manager(request) else fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Macro]:
        # Counted before ordering, so that the list can sort by the count.
        macros = limit_to_own(request, Macro.objects.with_use_count())
        if not _is_manager(request):
            macros = macros.filter(pk__in=Macro.objects.usable_by(signed_in_user(request)))
        return macros.order_by(*self.get_ordering(request))

    def get_ordering(self, request: HttpRequest) -> tuple[str, ...]:
        return ("-use_count", "title")  # the most sent first: candidates for an article

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField[Any] | None:
        if db_field.name == "owner":
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_staff=True, is_active=True, groups__name__in=ROLE_GROUPS)
                .distinct()
            )
            kwargs["empty_label"] = "Shared with every agent"
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(
        self, request: HttpRequest, obj: Macro | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm[Macro]]:
        form = super().get_form(request, obj, change, **kwargs)
        names = ", ".join(
            f"{{{{ {name} }}}} ({words})" for name, (words, _) in PLACEHOLDERS.items()
        )
        if "body" in form.base_fields:  # not on a macro this user may only read
            form.base_fields["body"].help_text = f"Markdown, as a reply. Placeholders: {names}."
        return form

    def save_model(self, request: HttpRequest, obj: Macro, form: Any, change: bool) -> None:
        agent = signed_in_user(request)
        if not change:
            obj.created_by = agent
            if not _is_manager(request):
                obj.owner = agent  # an agent's new macro is personal
        super().save_model(request, obj, form, change)

    @admin.display(description="Kind")
    def kind(self, macro: Macro) -> str:
        return "shared" if macro.owner is None else f"personal ({macro.owner.get_username()})"

    @admin.display(description="Replies sent", ordering="use_count")
    def replies_sent(self, macro: "WithAnnotations[Macro, _UseCount]") -> int:
        return macro.use_count

    @admin.action(description="Make a knowledge article draft", permissions=["view"])
    def make_article_draft(
        self, request: HttpRequest, queryset: QuerySet[Macro]
    ) -> HttpResponse | None:
        editor: User = signed_in_user(request)
        if not editor.has_perm("knowledge.add_article"):
            self.message_user(request, "You may not write knowledge articles.", messages.ERROR)
            return None
        articles = [
            draft_article(
                macro.title,
                render_generic(macro.body),
                editor,
                origin=f"macro:{macro.pk}",
                category=macro.get_category_display() if macro.category else "",
            )
            for macro in queryset
        ]
        self.message_user(
            request,
            f"{len(articles)} draft article(s) made from macros: edit them, then publish.",
            messages.SUCCESS,
        )
        if len(articles) == 1:
            url = reverse("admin:knowledge_article_change", args=[articles[0].pk])
            return HttpResponseRedirect(url)
        return None
