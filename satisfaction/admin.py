"""Managers read the satisfaction ratings in the admin: a read-only list with filters."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from access.matrix import MatrixPermissions

from .models import Rating

COMMENT_PREVIEW_CHARS = 80  # the list shows the start; the row shows it whole


@admin.register(Rating)
class RatingAdmin(MatrixPermissions[Rating], admin.ModelAdmin[Rating]):
    list_display = (
        "created_at",
        "ticket_link",
        "score",
        "resolved_by",
        "channel",
        "comment_preview",
        "requester",
    )
    list_display_links = ("created_at",)
    list_filter = ("score", "resolved_by_ai", "channel", "created_at")
    search_fields = ("comment", "ticket__subject", "requester__username")
    list_select_related = ("ticket", "requester")
    date_hierarchy = "created_at"
    fields = (
        "ticket",
        "requester",
        "score",
        "comment",
        "resolved_by_ai",
        "resolved_at",
        "channel",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="ticket", ordering="ticket")
    def ticket_link(self, rating: Rating) -> SafeString:
        url = reverse("admin:tickets_ticket_change", args=[rating.ticket_id])
        return format_html('<a href="{}">{}</a>', url, rating.ticket)

    @admin.display(description="resolved by", ordering="resolved_by_ai")
    def resolved_by(self, rating: Rating) -> str:
        return "the assistant" if rating.resolved_by_ai else "people"

    @admin.display(description="comment")
    def comment_preview(self, rating: Rating) -> str:
        return Truncator(rating.comment).chars(COMMENT_PREVIEW_CHARS)

    # A rating is the requester's word, recorded once: nobody adds, edits or deletes one
    # here, superusers included (it leaves with its ticket when that is erased).
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
