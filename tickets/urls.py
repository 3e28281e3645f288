"""The end users' portal: their tickets and the chat of each."""

from django.urls import path

from . import help_views, views

app_name = "tickets"

urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("tickets/new/", views.new_ticket, name="new"),
    path("help/<slug:slug>/", help_views.article, name="article"),
    path("tickets/<int:pk>/", views.ticket_detail, name="detail"),
    path("tickets/<int:pk>/messages/", views.conversation, name="conversation"),
    path("tickets/<int:pk>/send/", views.post_message, name="post_message"),
    path("tickets/<int:pk>/human/", views.ask_for_human, name="ask_for_human"),
    path("tickets/<int:pk>/solved/", views.mark_solved, name="mark_solved"),
    path("tickets/<int:pk>/model/", views.choose_model, name="choose_model"),
    path(
        "tickets/<int:pk>/messages/<int:message_id>/rate/",
        views.rate_message,
        name="rate_message",
    ),
]
