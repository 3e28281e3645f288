"""The end users' portal: list, new ticket, chat, buttons, polling, bad input."""

import pytest
from django.urls import reverse

from assistant.models import ModelVersion
from tests.factories import MessageFactory, ModelVersionFactory, TicketFactory
from tickets import lifecycle
from tickets.models import (
    AnswerRequest,
    AnswerStatus,
    Message,
    MessageRating,
    Role,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.signals import message_rated

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _no_model(settings):
    settings.ASSISTANT_ENABLED = False


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def _answered_ticket(user, *, confidence: float = 0.91) -> tuple[Ticket, Message]:
    """A ticket the assistant answered, built through the lifecycle like the worker does."""
    version = ModelVersionFactory(name="smollm2-base", is_default=True)
    ticket = lifecycle.open_ticket(user, "How do I reset my password?")
    AnswerRequest.objects.filter(ticket=ticket).update(status=AnswerStatus.DONE)
    answer = Message.objects.create(
        ticket=ticket,
        role=Role.ASSISTANT,
        body="Open **Settings** and choose *Reset password*.",
        model_version=version,
        confidence=confidence,
        passed_gate=True,
    )
    lifecycle.record_answered(ticket)
    return ticket, answer


# --- the list ---------------------------------------------------------------


def test_it_lists_only_my_tickets_with_their_status(signed_in, user):
    mine = TicketFactory(requester=user, subject="VPN keeps dropping", status=Status.ESCALATED)
    TicketFactory(subject="Someone else's printer")

    response = signed_in.get(reverse("tickets:list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert mine.subject in html
    assert "Someone else&#x27;s printer" not in html and "Someone else's printer" not in html
    assert 'class="badge status-escalated"' in html


def test_it_paginates_my_tickets_and_serves_the_page_as_a_partial_to_htmx(signed_in, user):
    for n in range(25):
        TicketFactory(requester=user, subject=f"Ticket number {n:02d}")

    first = signed_in.get(reverse("tickets:list")).content.decode()
    second = signed_in.get(
        reverse("tickets:list") + "?page=2", headers={**HTMX, "HX-Target": "ticket-list"}
    ).content.decode()

    assert first.count('class="ticket-row card"') == 20
    assert second.count('class="ticket-row card"') == 5
    assert "<html" not in second
    assert 'href="?page=1" hx-get="?page=1"' in second


def test_it_sets_the_pager_links_htmx_target_once_on_the_pager(signed_in, user):
    for n in range(45):
        TicketFactory(requester=user, subject=f"Ticket number {n:02d}")

    html = signed_in.get(reverse("tickets:list") + "?page=2").content.decode()

    assert html.count('hx-get="?page=') == 2
    assert html.count('hx-target="#ticket-list"') == 1
    assert '<nav class="pager" aria-label="Pages" hx-target="#ticket-list"' in html


def test_it_shows_the_last_visible_message_as_preview(signed_in, user):
    ticket = TicketFactory(requester=user)
    MessageFactory(ticket=ticket, body="my visible question")
    MessageFactory(ticket=ticket, role=Role.ASSISTANT, body="hidden draft", visible_to_user=False)

    html = signed_in.get(reverse("tickets:list")).content.decode()

    assert "my visible question" in html
    assert "hidden draft" not in html


# --- a new ticket -------------------------------------------------------------


def test_it_opens_a_ticket_from_the_first_message(signed_in, user, agent):
    response = signed_in.post(
        reverse("tickets:new"),
        {"body": "Outlook asks for my password every hour", "subject": "", "category": "software"},
    )

    ticket = Ticket.objects.get(requester=user)
    assert response.status_code == 302
    assert response["Location"] == ticket.get_absolute_url()
    assert ticket.subject == "Outlook asks for my password every hour"
    assert ticket.category == "software"
    assert ticket.status == Status.ASSIGNED  # no model: straight to an agent
    assert ticket.messages.filter(role=Role.USER).count() == 1


def test_it_answers_an_htmx_new_ticket_with_the_chat_and_its_url(signed_in, user):
    response = signed_in.post(
        reverse("tickets:new"), {"body": "Teams has no sound", "category": "general"}, headers=HTMX
    )

    ticket = Ticket.objects.get(requester=user)
    assert response.status_code == 200
    assert response["HX-Push-Url"] == ticket.get_absolute_url()
    assert 'id="conversation"' in response.content.decode()
    assert "Teams has no sound" in response.content.decode()


def test_it_stores_the_chosen_model_with_a_new_ticket(signed_in, user):
    version = ModelVersionFactory(name="tuned-v2")

    signed_in.post(
        reverse("tickets:new"),
        {"body": "Wi-Fi is slow", "category": "network", "model_version": version.pk},
    )

    assert Ticket.objects.get(requester=user).model_version == version


def test_it_refuses_an_empty_first_message(signed_in, user):
    response = signed_in.post(reverse("tickets:new"), {"body": "   ", "category": "general"})

    assert response.status_code == 200
    assert "Please write a message before sending." in response.content.decode()
    assert not Ticket.objects.filter(requester=user).exists()


# --- the chat -----------------------------------------------------------------


def test_it_shows_visible_messages_with_labels_and_hides_drafts(signed_in, user):
    ticket, answer = _answered_ticket(user, confidence=0.873)
    Message.objects.create(
        ticket=ticket, role=Role.ASSISTANT, body="a secret low draft", visible_to_user=False
    )

    html = signed_in.get(ticket.get_absolute_url()).content.decode()

    assert "How do I reset my password?" in html
    assert "<strong>Settings</strong>" in html
    assert "smollm2-base" in html
    assert "87% confident" in html
    assert "confidence-ok" in html
    assert "a secret low draft" not in html


def test_it_labels_agent_replies_with_the_agent_name(signed_in, user, agent):
    ticket = lifecycle.open_ticket(user, "Laptop fan is loud")
    agent.first_name, agent.last_name = "Grace", "Hopper"
    agent.save()
    lifecycle.agent_reply(ticket, agent, "I'll send a replacement.")

    html = signed_in.get(ticket.get_absolute_url()).content.decode()

    assert "Grace Hopper" in html
    assert "Support agent" in html
    assert "I&#x27;ll send a replacement." in html or "I'll send a replacement." in html


def test_it_sets_the_chats_htmx_target_once_and_csrf_once_on_the_body(signed_in, user):
    ticket = TicketFactory(requester=user, status=Status.ANSWERED)
    MessageFactory(ticket=ticket, body="Laptop fan is loud")

    html = signed_in.get(ticket.get_absolute_url()).content.decode()

    assert html.count('hx-target="#conversation"') == 1
    assert html.count('hx-swap="outerHTML"') == 1
    assert html.count("hx-disabled-elt=") == 1
    assert '<section class="chat" data-ticket' in html.split('hx-target="#conversation"')[0]
    # The composer, both buttons and the model switch; all but the switch inherit the target.
    assert html.count("hx-post=") == 4
    assert html.count("hx-headers=") == 1
    assert '<body hx-headers=\'{"X-CSRFToken": "' in html


def test_it_keeps_a_plain_form_and_href_beside_each_htmx_request(signed_in, user):
    ticket = TicketFactory(requester=user, status=Status.ANSWERED)
    MessageFactory(ticket=ticket, body="Laptop fan is loud")

    html = signed_in.get(ticket.get_absolute_url()).content.decode()

    for action in ("post_message", "ask_for_human", "mark_solved", "choose_model"):
        url = reverse(f"tickets:{action}", args=[ticket.pk])
        assert f'method="post" action="{url}"' in html, action
    assert f'href="{reverse("tickets:list")}"' in html


def test_it_offers_a_new_ticket_instead_of_the_composer_on_a_closed_ticket(signed_in, user):
    ticket = lifecycle.open_ticket(user, "Printer jams")
    lifecycle.close(ticket)

    html = signed_in.get(ticket.get_absolute_url()).content.decode()

    assert '<div id="composer" class="composer closed">' in html
    assert "<textarea" not in html
    assert "This solved it" not in html


def test_it_never_renders_script_from_a_message(signed_in, user):
    ticket = lifecycle.open_ticket(user, "hi <script>alert('pwned')</script>")

    html = signed_in.get(ticket.get_absolute_url()).content.decode()

    assert "alert('pwned')" not in html


def test_it_posts_a_message_through_htmx_and_returns_the_list_with_a_fresh_composer(
    signed_in, user
):
    ticket = lifecycle.open_ticket(user, "Printer jams")

    response = signed_in.post(
        reverse("tickets:post_message", args=[ticket.pk]),
        {"body": "It's the HP on floor 2"},
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert ticket.messages.filter(role=Role.USER, body="It's the HP on floor 2").exists()
    assert html.startswith('<div id="conversation"')
    assert "the HP on floor 2" in html
    assert 'id="composer"' in html and 'hx-swap-oob="true"' in html


def test_it_redirects_a_plain_form_post_back_to_the_chat(signed_in, user):
    ticket = lifecycle.open_ticket(user, "Printer jams")

    response = signed_in.post(reverse("tickets:post_message", args=[ticket.pk]), {"body": "Still"})

    assert response.status_code == 302
    assert response["Location"] == ticket.get_absolute_url()


def test_it_refuses_an_empty_message_and_retargets_the_composer(signed_in, user):
    ticket = lifecycle.open_ticket(user, "Printer jams")

    response = signed_in.post(
        reverse("tickets:post_message", args=[ticket.pk]), {"body": "  \n "}, headers=HTMX
    )

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#composer"
    assert response["HX-Reswap"] == "outerHTML"
    assert "Please write a message before sending." in response.content.decode()
    assert ticket.messages.count() == 2  # the question and the hand-off note, nothing more


def test_it_refuses_a_too_long_message_and_keeps_the_text(signed_in, user, settings):
    settings.MESSAGE_MAX_CHARS = 8000
    ticket = lifecycle.open_ticket(user, "Printer jams")
    long_text = "x" * 8001

    response = signed_in.post(
        reverse("tickets:post_message", args=[ticket.pk]), {"body": long_text}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "too long" in html and "8000" in html
    assert long_text in html  # still in the box, so nothing typed is lost
    assert not ticket.messages.filter(body=long_text).exists()


def test_it_tells_the_user_a_closed_ticket_takes_no_messages(signed_in, user):
    ticket = lifecycle.open_ticket(user, "Printer jams")
    lifecycle.close(ticket)

    response = signed_in.post(
        reverse("tickets:post_message", args=[ticket.pk]), {"body": "Hello?"}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "This ticket is closed" in html
    assert "Hello?" in html
    assert not ticket.messages.filter(body="Hello?").exists()


# --- polling: tests/test_views_chat_poll.py -------------------------------------


# --- buttons ------------------------------------------------------------------


def test_it_hands_the_ticket_to_a_human_on_request(signed_in, user, settings, agent):
    settings.ASSISTANT_ENABLED = True
    ticket, _ = _answered_ticket(user)

    response = signed_in.post(reverse("tickets:ask_for_human", args=[ticket.pk]), headers=HTMX)

    ticket.refresh_from_db()
    assert response.status_code == 200
    assert ticket.status == Status.ASSIGNED
    assert ticket.escalation_reason == "user_request"
    assert "You asked for a person" in response.content.decode()


def test_it_marks_a_ticket_solved(signed_in, user, settings):
    settings.ASSISTANT_ENABLED = True
    ticket, _ = _answered_ticket(user)

    response = signed_in.post(reverse("tickets:mark_solved", args=[ticket.pk]))

    ticket.refresh_from_db()
    assert response.status_code == 302
    assert ticket.status == Status.RESOLVED


def test_it_explains_instead_of_failing_when_a_closed_ticket_is_marked_solved(signed_in, user):
    ticket = lifecycle.open_ticket(user, "Printer jams")
    lifecycle.close(ticket)

    response = signed_in.post(reverse("tickets:mark_solved", args=[ticket.pk]), follow=True)

    assert response.status_code == 200
    assert "already closed" in response.content.decode()


def test_it_stores_a_rating_once_per_message_and_announces_it(signed_in, user, settings):
    settings.ASSISTANT_ENABLED = True
    ticket, answer = _answered_ticket(user)
    heard = []

    def listener(**kwargs):
        heard.append((kwargs["message"].pk, kwargs["user"].pk, kwargs["helpful"]))

    message_rated.connect(listener, dispatch_uid="test-listener")
    try:
        url = reverse("tickets:rate_message", args=[ticket.pk, answer.pk])
        signed_in.post(url, {"helpful": "1"}, headers=HTMX)
        response = signed_in.post(url, {"helpful": "0"}, headers=HTMX)
    finally:
        message_rated.disconnect(dispatch_uid="test-listener")

    rating = MessageRating.objects.get()
    assert rating.helpful is False
    assert heard == [(answer.pk, user.pk, True), (answer.pk, user.pk, False)]
    assert 'value="0" class="thumb thumb-down chosen"' in response.content.decode()


def test_it_refuses_ratings_of_user_messages_hand_off_notes_and_hidden_drafts(signed_in, user):
    ticket = lifecycle.open_ticket(user, "Printer jams")
    own = ticket.messages.get(role=Role.USER)
    hand_off = ticket.messages.get(role=Role.SYSTEM)
    draft = Message.objects.create(
        ticket=ticket, role=Role.ASSISTANT, body="draft", visible_to_user=False
    )

    for message in (own, hand_off, draft):
        url = reverse("tickets:rate_message", args=[ticket.pk, message.pk])
        assert signed_in.post(url, {"helpful": "1"}).status_code == 404
    assert not MessageRating.objects.exists()


def test_it_refuses_a_rating_that_is_neither_up_nor_down(signed_in, user, settings):
    settings.ASSISTANT_ENABLED = True
    ticket, answer = _answered_ticket(user)

    url = reverse("tickets:rate_message", args=[ticket.pk, answer.pk])

    assert signed_in.post(url, {"helpful": "maybe"}).status_code == 400


def test_it_switches_the_model_of_the_ticket_and_audits_it(signed_in, user):
    ticket = TicketFactory(requester=user)
    tuned = ModelVersionFactory(name="tuned-v3")

    response = signed_in.post(
        reverse("tickets:choose_model", args=[ticket.pk]), {"model_version": tuned.pk}, headers=HTMX
    )

    ticket.refresh_from_db()
    assert response.status_code == 200
    assert "Saved" in response.content.decode()
    assert ticket.model_version == tuned
    event = TicketEvent.objects.get(ticket=ticket, kind="model_chosen")
    assert event.note == "tuned-v3" and event.actor == user


def test_it_offers_only_enabled_models_in_the_switcher(signed_in, user):
    ticket = TicketFactory(requester=user)
    ModelVersionFactory(name="offered-one")
    retired = ModelVersionFactory(name="retired-one", enabled=False)

    html = signed_in.get(ticket.get_absolute_url()).content.decode()
    response = signed_in.post(
        reverse("tickets:choose_model", args=[ticket.pk]), {"model_version": retired.pk}
    )

    assert "offered-one" in html and "retired-one" not in html
    assert response.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).model_version is None
    assert ModelVersion.objects.count() == 2


# --- wrong ids and methods ----------------------------------------------------


def test_it_answers_an_unknown_ticket_with_the_friendly_404(signed_in):
    response = signed_in.get(reverse("tickets:detail", args=[999999]))

    assert response.status_code == 404
    assert "We couldn't find that page" in response.content.decode()


def test_it_refuses_wrong_methods(signed_in, user):
    ticket = TicketFactory(requester=user)

    assert signed_in.get(reverse("tickets:post_message", args=[ticket.pk])).status_code == 405
    assert signed_in.post(reverse("tickets:detail", args=[ticket.pk])).status_code == 405
    assert signed_in.delete(reverse("tickets:list")).status_code == 405


def test_it_signs_out_with_a_post_form(signed_in):
    html = signed_in.get(reverse("tickets:list")).content.decode()

    assert f'<form method="post" action="{reverse("logout")}"' in html
    assert signed_in.post(reverse("logout")).status_code == 302
    assert signed_in.get(reverse("tickets:list")).status_code == 302


def test_it_renders_the_sign_in_page(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()
