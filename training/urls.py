"""Managers' pages outside the admin: the dashboard."""

from django.urls import path

from . import dashboard

app_name = "training"

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
]
