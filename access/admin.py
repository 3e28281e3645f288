"""Accounts and the security trail in the admin. Django's UserAdmin stays whole for
superusers; managers get agents' accounts only (see ADMIN_MATRIX["auth.user"])."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import PermissionDenied
from django.db.models import ManyToManyField, QuerySet
from django.forms import ModelForm, ModelMultipleChoiceField
from django.http import HttpRequest, HttpResponse

from .accounts import signed_in_user
from .matrix import ROLE_GROUPS, MatrixPermissions
from .models import SecurityEvent

User = get_user_model()

# What a manager edits on an account: who it is, whether it may sign in to the admin, its
# role groups. Not superuser status nor direct permissions: those are above any manager.
MANAGER_FIELDSETS = (
    (None, {"fields": ("username", "password")}),
    ("Personal info", {"fields": ("first_name", "last_name", "email")}),
    ("Role", {"fields": ("is_active", "is_staff", "groups")}),
    ("Important dates", {"fields": ("last_login", "date_joined")}),
)


def may_set_password(actor: AbstractUser, account: AbstractUser) -> bool:
    """Superusers set anyone's; others their own and end users' (never other staff's)."""
    return actor.is_superuser or actor.pk == account.pk or not account.is_staff


admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(MatrixPermissions, UserAdmin):
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        accounts = super().get_queryset(request)
        return accounts if request.user.is_superuser else accounts.filter(is_superuser=False)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None or request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return MANAGER_FIELDSETS

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ("last_login", "date_joined")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def formfield_for_manytomany(
        self, db_field: ManyToManyField, request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField | None:
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=ROLE_GROUPS)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool):
        # The form sets the groups it offers; groups a manager is not offered stay as they were.
        kept = [] if request.user.is_superuser else self._other_groups(form.instance)
        super().save_related(request, form, formsets, change)
        form.instance.groups.add(*kept)

    def _other_groups(self, account: Any) -> list[Group]:
        if account.pk is None:
            return []
        return list(account.groups.exclude(name__in=ROLE_GROUPS))

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # Django's view checks has_change_permission (superusers' rows are not found); a
        # manager may change an agent's account, yet not take it over by its password.
        account = self.get_object(request, unquote(id))
        if account is not None and not may_set_password(signed_in_user(request), account):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


@admin.register(SecurityEvent)
class SecurityEventAdmin(MatrixPermissions, admin.ModelAdmin):
    list_display = ["created_at", "kind", "target", "actor_name", "account"]
    list_filter = ["kind"]
    search_fields = ["target", "actor_name", "account__username"]
    list_select_related = ["account"]
    date_hierarchy = "created_at"
    fields = ("created_at", "kind", "target", "actor", "actor_name", "account", "detail")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a trail one could prune would prove nothing
