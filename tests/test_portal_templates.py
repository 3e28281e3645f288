"""The portal's templates: statuses and roles come from their enums, swaps from the page."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import get_template

from tests.factories import MessageFactory, TicketFactory
from tickets.models import Role, Status

PORTAL_TEMPLATES = sorted(
    [
        *Path(settings.BASE_DIR, "templates", "tickets").glob("*.html"),
        Path(settings.BASE_DIR, "templates", "base.html"),
        Path(settings.BASE_DIR, "templates", "_flash.html"),
    ]
)
# Every htmx swap of the chat, served by the chat page's own template.
CHAT_PARTIALS = (
    "model_switch",
    "ticket_bar",
    "conversation",
    "poller",
    "composer",
    "message",
    "rating",
    "conversation_update",
    "newer_messages",
)
STATUS_NOTES = {
    Status.AWAITING_ASSISTANT: "The assistant is preparing an answer.",
    Status.ANSWERED: "Answered by the assistant. Did it help?",
    Status.ESCALATED: "Waiting for a person from support.",
    Status.ASSIGNED: "from support is handling this.",
    Status.RESOLVED: "Solved. Write again here if the problem comes back.",
    Status.CLOSED: "This ticket is closed.",
    Status.REOPENED: "Reopened: we're on it.",
}


@pytest.mark.parametrize("path", PORTAL_TEMPLATES, ids=lambda p: p.name)
def test_it_spells_no_status_or_role_out_as_a_string(path):
    source = path.read_text()
    values = [*Status.values, *Role.values]

    quoted = re.findall(r"""["']([a-z_]+)["']""", source)

    assert not [value for value in quoted if value in values]


@pytest.mark.parametrize("name", CHAT_PARTIALS)
def test_it_serves_each_swap_of_the_chat_from_the_chat_template(name):
    partial = get_template(f"tickets/detail.html#{name}")

    assert partial.origin.name.endswith("templates/tickets/detail.html")


def test_it_serves_the_ticket_list_page_and_its_swap_from_one_template():
    partial = get_template("tickets/list.html#ticket_list")

    assert partial.origin.name.endswith("templates/tickets/list.html")


@pytest.mark.django_db
@pytest.mark.parametrize("status", list(STATUS_NOTES), ids=str)
def test_it_tells_the_user_where_the_ticket_stands(client, user, status):
    ticket = TicketFactory(requester=user, status=status)
    MessageFactory(ticket=ticket)
    client.force_login(user)

    html = client.get(ticket.get_absolute_url()).content.decode()

    bar = html.split('<div id="ticket-bar"')[1].split('<div class="ticket-buttons">')[0]
    assert STATUS_NOTES[status] in bar
    assert f'class="badge status-{status}"' in bar
    assert ('class="composer closed"' in html) == (status == Status.CLOSED)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "side", "who"),
    [
        (Role.USER, "mine", "You"),
        (Role.ASSISTANT, "theirs", "Assistant"),
        (Role.AGENT, "theirs", "Support agent"),
        (Role.SYSTEM, "theirs", "Helpdesk"),
    ],
    ids=str,
)
def test_it_draws_each_role_on_its_side_with_its_label(client, user, role, side, who):
    ticket = TicketFactory(requester=user, status=Status.ASSIGNED)
    MessageFactory(ticket=ticket, role=role, body="hello there")
    client.force_login(user)

    html = client.get(ticket.get_absolute_url()).content.decode()

    article = html.split("<article")[1].split("</article>")[0]
    assert f'class="bubble-row {side} role-{role}"' in article
    assert who in article
