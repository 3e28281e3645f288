"""Notifications' pages: the bell, the list, preferences and the unsubscribe link."""

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("bell/", views.bell, name="bell"),
    path("<int:pk>/read/", views.mark_read, name="mark_read"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("preferences/", views.preferences_view, name="preferences"),
    path("unsubscribe/<str:token>/", views.unsubscribe_view, name="unsubscribe"),
]
