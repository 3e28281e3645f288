"""Managers' pages outside the admin: the dashboard."""

from django.urls import path

from .dashboard import views as dashboard

app_name = "training"

urlpatterns = [
    path("dashboard/", dashboard.dashboard, name="dashboard"),
]
