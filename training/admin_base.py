"""What the training admins share: read-only record admins and the form page of a tool."""

import json
from typing import Any, cast

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html

TOOLS_TEMPLATE = "training/admin/change_list_tools.html"
FORM_TEMPLATE = "training/admin/form_page.html"


def tool_links(links: list[tuple[str, str]]) -> dict[str, Any]:
    """Context for TOOLS_TEMPLATE: extra buttons above a changelist."""
    return {"extra_tools": links}


def form_page(
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


def choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    """The form field of a foreign key, whose choices a start form narrows."""
    # A ModelForm makes a ModelChoiceField of every foreign key it lists.
    return cast(forms.ModelChoiceField, form.fields[name])


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the code only: viewed in the admin, never typed in or edited."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def pretty_json(data: object) -> str:
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
    return format_html('<pre class="pre-wrap">{}</pre>', text)
