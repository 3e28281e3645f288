"""The rating pages: the portal's (signed in) and the e-mail links' (a signed token)."""

from django.urls import path

from . import views

app_name = "satisfaction"

urlpatterns = [
    path("tickets/<int:pk>/", views.rate_in_portal, name="rate"),
    path("rate/<str:token>/", views.rate_by_link, name="rate_by_link"),
]
