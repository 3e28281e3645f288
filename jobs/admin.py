"""The admin side of jobs: start one and land on its row; the row shows progress, outcome
and a cancel button. Every admin view that starts a job goes through `start_job`."""

from __future__ import annotations

from typing import Any

from celery import Task
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse

from .models import Job
from .runner import enqueue, request_cancel

JOB_FIELDS = [
    "status",
    "progress_percent",
    "error",
    "started_by",
    "created_at",
    "started_at",
    "finished_at",
]


def job_url(job: Job) -> str:
    opts = job._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[job.pk])


def start_job(request: HttpRequest, job: Job, task: Task) -> HttpResponseRedirect:
    """Enqueue `task` for the saved row `job` once committed, and show the row."""
    transaction.on_commit(lambda: enqueue(task, job))
    messages.info(request, f"{str(job._meta.verbose_name).capitalize()} {job.pk} queued.")
    return HttpResponseRedirect(job_url(job))


class JobAdminMixin(admin.ModelAdmin):
    """For the ModelAdmin of a job row: its status fields, a cancel button, a page that
    refreshes itself while the job runs. With `job_task` set, the add form starts the job
    and lands on its row; the row is never edited after (it belongs to the task).

    A ModelAdmin itself, so the type checker reads its methods as overrides of ModelAdmin's."""

    change_form_template = "admin/jobs/change_form.html"
    job_task: Task | None = None

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return
        obj.started_by = request.user
        super().save_model(request, obj, form, change)

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        if self.job_task is None:
            return super().response_add(request, obj, post_url_continue)
        return start_job(request, obj, self.job_task)

    @admin.display(description="progress")
    def progress_percent(self, job: Job) -> str:
        return f"{job.progress:.0%}"

    def may_start(self, request: HttpRequest) -> bool:
        """Who may start this kind of job may cancel it too."""
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")

    def get_urls(self) -> list[Any]:
        opts = self.model._meta
        cancel = path(
            "<int:object_id>/cancel/",
            self.admin_site.admin_view(self.cancel_view),
            name=f"{opts.app_label}_{opts.model_name}_cancel",
        )
        return [cancel, *super().get_urls()]

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if isinstance(obj, Job):
            opts = obj._meta
            context["job"] = obj
            context["job_may_cancel"] = not obj.is_finished and self.may_start(request)
            context["job_cancel_url"] = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_cancel", args=[obj.pk]
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def cancel_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.may_start(request):
            raise PermissionDenied
        return _cancel(request, get_object_or_404(self.model, pk=object_id))


def _cancel(request: HttpRequest, job: models.Model) -> HttpResponse:
    assert isinstance(job, Job)
    if request_cancel(job):
        messages.info(request, "Cancel requested: the job stops at its next step.")
    else:
        messages.warning(request, "The job had already finished.")
    return HttpResponseRedirect(job_url(job))
