"""What a notification says: its title, its short text and the page it links to."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.template.loader import render_to_string, select_template
from django.urls import reverse

from tickets.models import Ticket

from .models import REQUESTER_EVENTS, Event

# {ticket} is "#12 Printer problem"; without a ticket the event's label stands alone.
_TITLES: dict[str, str] = {
    Event.TICKET_ASSIGNED: "Assigned to you: {ticket}",
    Event.TICKET_TAKEN: "No longer yours: {ticket}",
    Event.USER_REPLIED: "The user replied: {ticket}",
    Event.SLA_WARNING: "SLA due soon: {ticket}",
    Event.SLA_BREACHED: "SLA breached: {ticket}",
    Event.UNASSIGNED_WAITING: "Waiting unassigned: {ticket}",
    Event.AGENT_REPLIED: "New reply on your ticket {ticket}",
    Event.TICKET_RESOLVED: "Your ticket {ticket} was resolved",
}
_TITLE_MAX = 300


@dataclass(frozen=True)
class Content:
    title: str
    body: str
    link: str


def compose(
    event: Event, recipient: User, ticket: Ticket | None, context: dict[str, Any]
) -> Content:
    return Content(
        title=_title(event, ticket, context),
        body=_body(event, recipient, ticket, context),
        link=context.get("link") or ticket_link(event, ticket),
    )


def ticket_link(event: str, ticket: Ticket | None) -> str:
    """Agents work tickets in the admin; requesters read theirs in the portal."""
    if ticket is None:
        return ""
    if event in REQUESTER_EVENTS:
        return ticket.get_absolute_url()
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def _title(event: Event, ticket: Ticket | None, context: dict[str, Any]) -> str:
    if "title" in context:
        title = str(context["title"])
    elif ticket is None:
        title = event.label
    else:
        title = _TITLES[event].format(ticket=f"#{ticket.pk} {ticket.subject}")
    # One line: it becomes the e-mail's subject.
    title = " ".join(title.split())
    return title if len(title) <= _TITLE_MAX else title[: _TITLE_MAX - 1] + "…"


def _body(event: Event, recipient: User, ticket: Ticket | None, context: dict[str, Any]) -> str:
    template = select_template([f"notifications/body/{event}.txt", "notifications/body/any.txt"])
    text = template.render({**context, "event": event, "recipient": recipient, "ticket": ticket})
    return text.strip()


def excerpt(text: str, limit: int = 280) -> str:
    """The start of a message, for a notification's text."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def render_email_part(name: str, event: str, context: dict[str, Any]) -> str:
    """`name` is message.txt or message.html; an event may have its own (ticket_resolved.txt)."""
    stem, suffix = name.rsplit(".", 1)
    return render_to_string(
        [f"notifications/email/{event}.{suffix}", f"notifications/email/{name}"], context
    )
