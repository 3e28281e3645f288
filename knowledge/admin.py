"""Knowledge in the admin: agents and managers write articles (every save a revision),
publish them, and turn a good reply into a draft; managers see the solved cases and can
rebuild the index as a job."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse

from access.accounts import signed_in_user
from jobs.admin import JOB_FIELDS, JobAdminMixin

from .articles import draft_from_reply, record_revision
from .models import Article, ArticleRevision, ArticleStatus, ReindexRun, SolvedCase
from .tasks import run_reindex


class RevisionInline(admin.TabularInline):
    model = ArticleRevision
    fields = ("number", "status", "title", "editor", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-number"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "status", "updated_at", "author"]
    list_filter = ["status", "category"]
    search_fields = ["title", "body"]
    prepopulated_fields = {"slug": ["title"]}
    fields = ["title", "slug", "category", "status", "body", "origin"]
    readonly_fields = ["origin"]
    inlines = [RevisionInline]
    actions = ["publish", "unpublish"]

    def save_model(self, request: HttpRequest, obj: Article, form: Any, change: bool) -> None:
        if not change:
            obj.author = signed_in_user(request)
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            record_revision(obj, request.user)

    @admin.action(description="Publish selected articles", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        self._set_status(request, queryset, ArticleStatus.PUBLISHED)

    @admin.action(description="Back to draft", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        self._set_status(request, queryset, ArticleStatus.DRAFT)

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Article], status: str) -> None:
        changed = 0
        for article in queryset.exclude(status=status):
            article.status = status
            with transaction.atomic():
                article.save()  # each save re-indexes the article after commit
                record_revision(article, request.user)
            changed += 1
        self.message_user(request, f"{changed} article(s) now {status}.")

    def get_urls(self) -> list[Any]:
        return [
            path(
                "from-reply/<int:message_id>/",
                self.admin_site.admin_view(self.from_reply_view),
                name="knowledge_article_from_reply",
            ),
            *super().get_urls(),
        ]

    def from_reply_view(self, request: HttpRequest, message_id: int) -> HttpResponse:
        """One click on an agent's reply: a draft article to polish and publish."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        from tickets.models import Message, Role

        message = get_object_or_404(Message, pk=message_id, role=Role.AGENT)
        article = draft_from_reply(message, request.user)
        messages.success(request, "Draft article made from the reply: edit it, then publish.")
        return HttpResponseRedirect(reverse("admin:knowledge_article_change", args=[article.pk]))


@admin.register(SolvedCase)
class SolvedCaseAdmin(admin.ModelAdmin):
    list_display = ["id", "source", "question_start", "ticket_id", "created_at", "indexed"]
    list_filter = ["source"]
    search_fields = ["question", "answer"]
    fields = ("source", "source_key", "ticket", "question", "answer", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # cases come from approved corrections, resolved tickets and imports

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Question")
    def question_start(self, case: SolvedCase) -> str:
        return case.question[:80]

    @admin.display(description="Indexed", boolean=True)
    def indexed(self, case: SolvedCase) -> bool:
        return case.embedding is not None


@admin.register(ReindexRun)
class ReindexRunAdmin(JobAdminMixin, admin.ModelAdmin):
    job_task = run_reindex
    list_display = ["id", "status", "progress_percent", "created_at", "started_by"]
    readonly_fields = [*JOB_FIELDS, "counts"]

    def get_fields(self, request: HttpRequest, obj: ReindexRun | None = None) -> tuple[str, ...]:
        return () if obj is None else tuple(self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields if obj is not None else []
