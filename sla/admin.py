"""Managers' admin for the service levels: calendars (hours, holidays) and policies."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from access.matrix import MatrixPermissions

from .models import BusinessCalendar, Holiday, SlaPolicy, WorkingHours


class WorkingHoursInline(
    MatrixPermissions[WorkingHours], admin.TabularInline[WorkingHours, BusinessCalendar]
):
    model = WorkingHours
    extra = 0


class HolidayInline(MatrixPermissions[Holiday], admin.TabularInline[Holiday, BusinessCalendar]):
    model = Holiday
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(
    MatrixPermissions[BusinessCalendar], admin.ModelAdmin[BusinessCalendar]
):
    list_display = ("name", "timezone", "updated_at")
    inlines = (WorkingHoursInline, HolidayInline)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Hours and holidays are saved after the calendar: mark it changed once more, so
        # every process's cached copy (sla.sync) is read again and the clocks recomputed.
        form.instance.save(update_fields=["updated_at"])


@admin.register(SlaPolicy)
class SlaPolicyAdmin(MatrixPermissions[SlaPolicy], admin.ModelAdmin[SlaPolicy]):
    list_display = (
        "name",
        "priority",
        "category",
        "calendar",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
    )
    list_filter = ("priority", "category", "calendar")
    list_select_related = ("calendar",)
