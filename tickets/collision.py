"""Stale views: what an agent's ticket page showed, and what changed on the ticket since."""

from dataclasses import dataclass
from typing import ClassVar

from django.contrib.auth.models import User
from django.db.models import Max, Q
from django.utils import timezone

from .models import Message, Role, Status, Ticket

# Words of people (and answers the user saw) change what a reply should say; a hidden draft
# or a hand-off notice alone does not (the status or assignee change that comes with a
# hand-off is caught on its own).
_UNSEEN_WORDS = Q(visible_to_user=True) & ~Q(role=Role.SYSTEM) | Q(role=Role.NOTE)


@dataclass(frozen=True)
class PageStamp:
    """The ticket as the page showed it; the reply form carries it back."""

    last_message_id: int
    assigned_to_id: int | None
    status: str

    # The names of the reply form's hidden fields that carry it.
    FIELDS: ClassVar[tuple[str, str, str]] = ("seen_message", "seen_assignee", "seen_status")

    @classmethod
    def of(cls, ticket: Ticket) -> "PageStamp":
        last = ticket.messages.aggregate(last=Max("pk"))["last"] or 0
        return cls(last, ticket.assigned_to_id, ticket.status)

    @classmethod
    def from_form(cls, data: dict[str, object]) -> "PageStamp | None":
        """The stamp a form sent back, or None when it sent none (a client that is no page)."""
        message, assignee, status = (data.get(name) for name in cls.FIELDS)
        if not isinstance(message, int) or not isinstance(status, str) or not status:
            return None
        return cls(message, assignee if isinstance(assignee, int) else None, status)

    def as_initial(self) -> dict[str, object]:
        return dict(
            zip(self.FIELDS, (self.last_message_id, self.assigned_to_id, self.status), strict=True)
        )


@dataclass(frozen=True)
class Change:
    """One thing that happened since the page was loaded, in words an agent reads."""

    text: str
    message_id: int | None = None  # the message to look at, when it is one


def changes_since(ticket: Ticket, stamp: PageStamp, agent: User) -> list[Change]:
    """What the agent did not see on a page stamped `stamp`: newer messages of people (the
    agent's own from another page included: a second send would say it twice), another
    holder, another status. Read on the locked ticket, so two replies cannot both pass."""
    newer = (
        ticket.messages.filter(pk__gt=stamp.last_message_id)
        .filter(_UNSEEN_WORDS)
        .select_related("author")
        .order_by("pk")
    )
    found = [_message_change(message, agent) for message in newer]
    if ticket.assigned_to_id != stamp.assigned_to_id and ticket.assigned_to_id != agent.pk:
        found.append(Change(_holder_change(ticket)))
    if ticket.status != stamp.status:
        found.append(Change(f"The ticket is now {Status(ticket.status).label.lower()}."))
    return found


def _message_change(message: Message, agent: User) -> Change:
    who = message.author.get_username() if message.author else "the assistant"
    if message.author_id == agent.pk and message.role != Role.USER:
        text = "You already wrote here (another page, or a second send)"
    elif message.role == Role.USER:
        text = f"{who} (the user) wrote again"
    elif message.role == Role.NOTE:
        text = f"{who} added an internal note"
    elif message.role == Role.AGENT:
        text = f"{who} replied to the user"
    else:
        text = "The assistant answered the user"
    return Change(f"{text} at {timezone.localtime(message.created_at):%H:%M}.", message.pk)


def _holder_change(ticket: Ticket) -> str:
    if ticket.assigned_to is None:
        return "The ticket was given back to the queue."
    return f"{ticket.assigned_to.get_username()} took the ticket."
