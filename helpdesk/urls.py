"""URLs: the portal, sign-in, and the admin that agents and managers work in."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

admin.site.site_header = "Helpdesk: agents and managers"
admin.site.site_title = "Helpdesk admin"
# The sidebar repeats the app list on every page: half the changelist's rendering time.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("admin/", admin.site.urls),
    path("manage/", include("training.urls")),
    path("notifications/", include("notifications.urls")),
    path("satisfaction/", include("satisfaction.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("tickets.urls")),
]
